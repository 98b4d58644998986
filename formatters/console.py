"""Plain text for the terminal chat and previews.

Headings are marked by the reader's convention: 【标题】 in Chinese, where the brackets
are ordinary punctuation, and `== Title ==` in English, where 【】 reads as stray
Chinese (a terminal has no bold to fall back on).
"""

from __future__ import annotations

from .base import CONSOLE_LIMITS, EN, ZH, Labels, Limits, SizeUnit
from .blocks import Block, Style
from .chunking import Rendered
from .markup import serialize
from .renderer import BlockRenderer


def _tags(style: Style) -> tuple[str, str] | None:
    if style.kind == "mark":
        return "[", "]"
    return None


ZH_HEADING = "【{}】"
EN_HEADING = "== {} =="


class ConsoleCodec:
    unit: SizeUnit = "chars"

    def __init__(self, heading: str = ZH_HEADING) -> None:
        self._heading = heading  # str.format pattern around a heading's text

    @staticmethod
    def size(text: str) -> int:
        return len(text)

    def render(self, block: Block) -> Rendered:
        if block.kind == "pre":
            text = block.prefix + block.text
        else:
            text = block.prefix + serialize(block.runs, _tags, str)[0]
        if block.kind == "heading":
            text = self._heading.format(text)
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
            ConsoleCodec(EN_HEADING if labels == EN else ZH_HEADING),
            labels,
            limits,
            issue_link_previews=issue_link_previews,
            max_href=0,
            url_text=" <{url}>",
        )
