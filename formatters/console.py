"""Plain text for the terminal chat and previews."""

from __future__ import annotations

from .base import CONSOLE_LIMITS, ZH, Labels, Limits, SizeUnit
from .blocks import Block, Style
from .chunking import Rendered
from .markup import serialize
from .renderer import BlockRenderer


def _tags(style: Style) -> tuple[str, str] | None:
    if style.kind == "mark":
        return "[", "]"
    return None


class ConsoleCodec:
    unit: SizeUnit = "chars"

    @staticmethod
    def size(text: str) -> int:
        return len(text)

    def render(self, block: Block) -> Rendered:
        if block.kind == "pre":
            text = block.prefix + block.text
        else:
            text = block.prefix + serialize(block.runs, _tags, str)[0]
        if block.kind == "heading":
            text = f"【{text}】"
        elif block.kind == "quote":
            text = "> " + text.replace("\n", "\n> ")
        return Rendered(text, len(text))


class ConsoleRenderer(BlockRenderer):
    format = "text"

    def __init__(
        self,
        labels: Labels = ZH,
        limits: Limits = CONSOLE_LIMITS,
        *,
        issue_link_previews: bool = False,
    ) -> None:
        # every link is shown as "text <url>"
        super().__init__(
            ConsoleCodec(),
            labels,
            limits,
            issue_link_previews=issue_link_previews,
            max_href=0,
            url_text=" <{url}>",
        )
