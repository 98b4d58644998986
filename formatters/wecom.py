"""WeCom markdown (app messages and group robots), limited in UTF-8 bytes.

WeCom's markdown subset: headings, bold, links, inline code, `>` quotes and
<font color="info|comment|warning">. Characters that would start markup in
source text are replaced by lookalikes, independent of position, so a message
cut anywhere cannot turn text into markup.
"""

from __future__ import annotations

from .base import WECOM_APP_LIMITS, ZH, Labels, Limits, SizeUnit
from .blocks import Block, Run, Style
from .chunking import Rendered
from .markup import dedupe, serialize
from .renderer import BlockRenderer
from .text import is_web_url, utf8_len

_NEUTRAL = (
    ("*", "∗"),
    ("`", "ˋ"),
    ("[", "［"),
    ("]", "］"),
    ("<", "＜"),
    (">", "＞"),
    ("#", "＃"),
    ("\\", "＼"),
)
_URL_UNSAFE = (
    *(("(", "%28"), (")", "%29"), (" ", "%20"), ("<", "%3C"), (">", "%3E")),
    *(('"', "%22"), ("\\", "%5C")),  # markdown would read a title or an escape
)


def _replace_all(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


def escape(text: str) -> str:
    return _replace_all(text, _NEUTRAL)


def _tags(style: Style) -> tuple[str, str] | None:
    kind = style.kind
    if kind == "link":
        if not is_web_url(style.href):
            return None
        return "[", f"]({_replace_all(style.href, _URL_UNSAFE)})"
    if kind in ("bold", "mark"):
        return "**", "**"
    if kind == "code":
        return "`", "`"
    if kind == "muted":
        return '<font color="comment">', "</font>"
    return None


def _normalize(styles: tuple[Style, ...]) -> tuple[Style, ...]:
    styles = dedupe(Style("bold") if s.kind == "mark" else s for s in styles)
    if any(s.kind == "code" for s in styles):
        return tuple(s for s in styles if s.kind in ("code", "link"))
    return styles


def _hug(runs: tuple[Run, ...]) -> list[Run]:
    """Move edge whitespace out of styled runs: `** a**` is not bold in markdown, and
    `** **` is not bold at all (whitespace-only runs lose their styles)."""
    out: list[Run] = []
    for run in runs:
        core = run.text.strip()
        if not core:
            out.append(Run(run.text))
            continue
        if not run.styles or core == run.text:
            out.append(run)
            continue
        lead = run.text[: len(run.text) - len(run.text.lstrip())]
        trail = run.text[len(run.text.rstrip()) :]
        out += [Run(lead), Run(core, run.styles), Run(trail)]
    return out


class WeComCodec:
    unit: SizeUnit = "bytes"

    @staticmethod
    def size(text: str) -> int:
        return utf8_len(text)

    def render(self, block: Block) -> Rendered:
        if block.kind == "pre":
            text = escape(block.prefix + block.text)
        else:
            body, _ = serialize(_hug(block.runs), _tags, escape, _normalize)
            text = escape(block.prefix) + body
        if block.kind == "heading":
            text = f"{'#' * min(block.level + 1, 4)} {text.replace(chr(10), ' ')}"
        elif block.kind == "quote":
            text = "> " + text.replace("\n", "\n> ")
        return Rendered(text, utf8_len(text))


class WeComRenderer(BlockRenderer):
    """App messages by default; pass WECOM_ROBOT_LIMITS for group robots."""

    format = "markdown"

    def __init__(
        self,
        labels: Labels = ZH,
        limits: Limits = WECOM_APP_LIMITS,
        *,
        issue_link_previews: bool = False,
    ) -> None:
        budget = None if limits.max_size is None else limits.max_size // 4
        super().__init__(
            WeComCodec(),
            labels,
            limits,
            issue_link_previews=issue_link_previews,
            max_href=budget,
        )
