"""Telegram: HTML parse mode with only the tags Telegram accepts."""

from __future__ import annotations

from .base import TELEGRAM_LIMITS, ZH, Labels, Limits, SizeUnit
from .blocks import BOLD, Block, Run, Style
from .chunking import Rendered
from .markup import dedupe, serialize
from .renderer import BlockRenderer
from .text import is_web_url, utf16_len

_SIMPLE = {
    "bold": "b",
    "mark": "b",
    "italic": "i",
    "muted": "i",
    "underline": "u",
    "strike": "s",
    "code": "code",
    "spoiler": "tg-spoiler",
}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    return escape(text).replace('"', "&quot;")


def _tags(style: Style) -> tuple[str, str] | None:
    if style.kind == "link":
        if not is_web_url(style.href):
            return None
        return f'<a href="{escape_attr(style.href)}">', "</a>"
    tag = _SIMPLE.get(style.kind)
    return (f"<{tag}>", f"</{tag}>") if tag else None


def _normalize(styles: tuple[Style, ...]) -> tuple[Style, ...]:
    """Telegram forbids nesting anything in code and code in links; a link wins over code."""
    styles = dedupe(BOLD if s.kind == "mark" else s for s in styles)
    kinds = {s.kind for s in styles}
    if "code" in kinds:
        keep = "link" if "link" in kinds else "code"
        return tuple(s for s in styles if s.kind == keep)
    return styles


class TelegramCodec:
    unit: SizeUnit = "utf16"

    @staticmethod
    def size(text: str) -> int:
        return utf16_len(text)

    def render(self, block: Block) -> Rendered:
        visible = block.prefix + block.text
        if block.kind == "pre":
            return Rendered(f"<pre>{escape(visible)}</pre>", utf16_len(visible), 1)
        runs = block.runs
        if block.kind == "heading":
            runs = tuple(Run(r.text, (BOLD, *r.styles)) for r in runs)
        body, entities = serialize(runs, _tags, escape, _normalize)
        html = escape(block.prefix) + body
        if block.kind == "quote":
            html, entities = f"<blockquote>{html}</blockquote>", entities + 1
        return Rendered(html, utf16_len(visible), entities)


class TelegramRenderer(BlockRenderer):
    format = "html"

    def __init__(
        self,
        labels: Labels = ZH,
        limits: Limits = TELEGRAM_LIMITS,
        *,
        issue_link_previews: bool = False,
    ) -> None:
        super().__init__(TelegramCodec(), labels, limits, issue_link_previews=issue_link_previews)
