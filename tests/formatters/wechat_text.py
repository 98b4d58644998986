"""A strict checker for WeChat Official Account text messages.

WeChat shows text messages literally, except `<a href="...">text</a>` links. The
checker allows exactly that tag: an http(s) href without quotes, spaces or angle
brackets, non-empty link text, no nesting, closed on the same line; any other
`<` or `>` is a problem (WeChatRenderer replaces them with lookalikes).
`validate_wechat_text(text)` returns the problems found (empty when valid).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_TAG = re.compile(r"<[^<>]*>")
_OPEN = re.compile(r'<a href="([^"]*)">')


def validate_wechat_text(text: str) -> list[str]:
    problems = [] if text.strip() else ["message is empty"]
    for number, line in enumerate(text.split("\n"), start=1):
        problems += [f"line {number}: {p}" for p in _check_line(line)]
    return problems


def _check_line(line: str) -> list[str]:
    problems: list[str] = []
    opened_at: int | None = None
    pos = 0
    for tag in _TAG.finditer(line):
        problems += _stray(line[pos : tag.start()])
        pos = tag.end()
        opening = _OPEN.fullmatch(tag.group())
        if opening:
            if opened_at is not None:
                problems.append("nested <a>")
            problems += _check_href(opening.group(1))
            opened_at = tag.end()
        elif tag.group() == "</a>":
            if opened_at is None:
                problems.append("</a> without <a>")
            elif not line[opened_at : tag.start()].strip():
                problems.append("link without text")
            opened_at = None
        else:
            problems.append(f"tag {tag.group()!r} not allowed")
    problems += _stray(line[pos:])
    if opened_at is not None:
        problems.append("<a> never closed")
    return problems


def _stray(chunk: str) -> list[str]:
    return [f"stray {char!r}" for char in "<>" if char in chunk]


def _check_href(href: str) -> list[str]:
    if not href or any(c.isspace() or c in "<>" for c in href):
        return [f"href {href!r} is empty or has spaces or angle brackets"]
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [f"href {href!r} is not an http(s) URL"]
    return []
