"""Shared checks: per-platform visible text, limits, and the nothing-lost comparison.

Comparison rule ("same content"): take each message's visible text, drop the first
line of every message after the first when it is a continuation heading (ends with
the continued label), join, delete all whitespace and the platform's decoration
characters (e.g. WeChat's 【】 around headings and matches, the English console's ==);
the result must equal the same reduction of the unsplit rendering (the same renderer
without size limits).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from formatters import (
    EN,
    ConsoleRenderer,
    Limits,
    Message,
    TelegramRenderer,
    WeChatRenderer,
    WeComRenderer,
)
from formatters.base import WECOM_ROBOT_LIMITS
from formatters.renderer import BlockRenderer

from .telegram_html import entity_count, utf16_len, validate_telegram_html, visible_text
from .wechat_text import validate_wechat_text
from .wecom_markdown import validate_wecom_markdown

CONTINUED = ("（续）", "(continued)")


def _wechat_visible(text: str) -> str:
    return re.sub(r'<a href="[^"]*">|</a>', "", text)


def _wecom_visible(text: str) -> str:
    text = re.sub(r'<font color="[a-z]+">|</font>', "", text)
    text = re.sub(r"\]\([^)]*\)", "", text)
    return re.sub(r"[#*`\[>]", "", text)


VISIBLE: dict[str, Callable[[str], str]] = {
    "TelegramRenderer": visible_text,
    "WeChatRenderer": _wechat_visible,
    "WeComRenderer": _wecom_visible,
    "ConsoleRenderer": str,
}
DECORATION = {
    "TelegramRenderer": "",
    "WeChatRenderer": "【】",
    "WeComRenderer": "",
    "ConsoleRenderer": "【】[]>=",
}


def renderers() -> dict[str, BlockRenderer]:
    """Every platform at its real limits, plus tight limits that force many splits."""
    return {
        "telegram": TelegramRenderer(),
        "telegram-tight": TelegramRenderer(limits=Limits(700, "utf16", 10)),
        "wechat": WeChatRenderer(),
        "wechat-tight": WeChatRenderer(limits=Limits(700, "bytes")),
        "wecom-app": WeComRenderer(),
        "wecom-robot": WeComRenderer(limits=WECOM_ROBOT_LIMITS),
        "console-tight": ConsoleRenderer(limits=Limits(500, "chars")),
        "console-en-tight": ConsoleRenderer(EN, Limits(500, "chars")),
    }


def visible(renderer: BlockRenderer, text: str) -> str:
    return VISIBLE[type(renderer).__name__](text)


def measure(renderer: BlockRenderer, text: str) -> int:
    unit = renderer.limits.unit
    if unit == "utf16":
        return utf16_len(visible_text(text))
    if unit == "bytes":
        return len(text.encode("utf-8"))
    return len(text)


def check_messages(renderer: BlockRenderer, messages: list[Message]) -> None:
    """Every message is within its limits and valid for its platform."""
    limits = renderer.limits
    for message in messages:
        assert message.text.strip(), "empty message"
        assert message.size == measure(renderer, message.text)
        assert message.unit == limits.unit
        if limits.max_size is not None:
            assert message.size <= limits.max_size, (message.size, message.text[:200])
        if isinstance(renderer, TelegramRenderer):
            assert message.format == "html"
            assert validate_telegram_html(message.text) == [], message.text[:500]
            if limits.max_entities is not None:
                assert entity_count(message.text) <= limits.max_entities
        elif isinstance(renderer, WeComRenderer):
            assert message.format == "markdown"
            assert validate_wecom_markdown(message.text) == [], message.text[:500]
        elif isinstance(renderer, WeChatRenderer):
            assert message.format == "text"
            assert validate_wechat_text(message.text) == [], message.text[:500]


def comparable(renderer: BlockRenderer, text: str) -> str:
    drop = DECORATION[type(renderer).__name__]
    text = re.sub(r"\s+", "", text)
    return text.translate({ord(c): None for c in drop}) if drop else text


def split_content(renderer: BlockRenderer, messages: list[Message]) -> str:
    parts = []
    for i, message in enumerate(messages):
        text = visible(renderer, message.text)
        if i:
            first, _, rest = text.partition("\n")
            if first.strip().strip("【】= ").endswith(CONTINUED):
                text = rest
        parts.append(text)
    return comparable(renderer, "\n".join(parts))


def unlimited(renderer: BlockRenderer) -> BlockRenderer:
    return renderer.with_limits(Limits(None, renderer.limits.unit))


def check_view(renderer: BlockRenderer, render: Callable[[BlockRenderer], list[Message]]) -> None:
    """Limits, validity, nothing lost or duplicated, and the message-count bound."""
    messages = render(renderer)
    check_messages(renderer, messages)
    whole = render(unlimited(renderer))
    assert len(whole) <= 1
    expected = comparable(renderer, visible(renderer, whole[0].text)) if whole else ""
    assert split_content(renderer, messages) == expected
    if whole and renderer.limits.max_size:
        assert len(messages) <= message_bound(renderer, whole[0], messages), len(messages)


def message_bound(renderer: BlockRenderer, whole: Message, messages: list[Message]) -> int:
    """ceil(total / capacity) + 1, where capacity discounts what no packing can avoid:
    a repeated continuation heading and one indivisible piece (a grapheme, or a link's
    markup on the byte-measured platforms) per message; on Telegram, full entity budgets
    add messages too."""
    limits = renderer.limits
    assert limits.max_size is not None
    heading = max((continuation_size(renderer, m) for m in messages[1:]), default=0)
    atom = 16
    if limits.unit == "bytes":
        atom += (renderer._max_href or 0) + 64
    capacity = max(1, limits.max_size - heading - atom)
    bound = math.ceil(whole.size / capacity) + 1
    if isinstance(renderer, TelegramRenderer) and limits.max_entities:
        bound += math.ceil(entity_count(whole.text) / max(1, limits.max_entities - 5))
    return bound


def continuation_size(renderer: BlockRenderer, message: Message) -> int:
    first, _, _ = message.text.partition("\n")
    if not visible(renderer, first).strip().strip("【】= ").endswith(CONTINUED):
        return 0
    return measure(renderer, first) + 1


def strict_bound(renderer: BlockRenderer, whole: Message) -> int:
    """The bound real issues must meet: ceil(total / limit) + 1."""
    assert renderer.limits.max_size is not None
    return math.ceil(whole.size / renderer.limits.max_size) + 1
