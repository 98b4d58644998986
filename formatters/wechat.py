"""WeChat Official Account text messages: plain text plus <a href> links, limited in bytes."""

from __future__ import annotations

from .base import WECHAT_LIMITS, ZH, Labels, Limits, SizeUnit
from .blocks import Block, Style
from .chunking import Rendered
from .markup import serialize
from .renderer import BlockRenderer
from .text import is_web_url, utf8_len


def escape(text: str) -> str:
    """WeChat shows text literally except <a> tags: lookalikes keep text from becoming markup."""
    return text.replace("<", "＜").replace(">", "＞")


def _href(url: str) -> str:
    return url.replace('"', "%22").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def _tags(style: Style) -> tuple[str, str] | None:
    if style.kind == "link" and is_web_url(style.href):
        return f'<a href="{_href(style.href)}">', "</a>"
    if style.kind == "mark":
        return "【", "】"
    return None


class WeChatCodec:
    unit: SizeUnit = "bytes"

    @staticmethod
    def size(text: str) -> int:
        return utf8_len(text)

    def render(self, block: Block) -> Rendered:
        if block.kind == "pre":
            text = escape(block.prefix + block.text)
        else:
            body, _ = serialize(block.runs, _tags, escape)
            text = escape(block.prefix) + body
            if block.kind == "heading":
                text = f"【{text}】"
        return Rendered(text, utf8_len(text))


class WeChatRenderer(BlockRenderer):
    format = "text"

    def __init__(
        self,
        labels: Labels = ZH,
        limits: Limits = WECHAT_LIMITS,
        *,
        issue_link_previews: bool = False,
    ) -> None:
        budget = None if limits.max_size is None else limits.max_size // 4
        super().__init__(
            WeChatCodec(),
            labels,
            limits,
            issue_link_previews=issue_link_previews,
            max_href=budget,
        )
