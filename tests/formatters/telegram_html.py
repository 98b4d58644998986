"""A strict checker for Telegram Bot API HTML-mode message text.

Stricter than Telegram itself where the rules are vague, so that anything it
accepts Telegram accepts too. Reusable by the fake Telegram server:
`validate_telegram_html(text)` returns a list of problems (empty when valid) and
`visible_text(html)` the text a user would see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlsplit

MAX_VISIBLE_UTF16 = 4096
MAX_ENTITIES = 100

_FORMATTING = {"b", "strong", "i", "em", "u", "s", "tg-spoiler"}
_ALLOWED = _FORMATTING | {"a", "code", "pre", "blockquote"}
_LINK_SCHEMES = {"http", "https", "tg"}

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:=\"[^\"]*\")?)*)\s*(/?)>")
_ATTR = re.compile(r"\s+([A-Za-z-]+)(?:=\"([^\"]*)\")?")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")


@dataclass(frozen=True, slots=True)
class _Open:
    name: str
    attrs: dict[str, str | None]


def visible_text(html: str) -> str:
    """The text shown to the user: tags removed, entities decoded."""
    parts: list[str] = []
    pos = 0
    for match in _TAG.finditer(html):
        parts.append(html[pos : match.start()])
        pos = match.end()
    parts.append(html[pos:])
    return unescape("".join(parts))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entity_count(html: str) -> int:
    return sum(1 for m in _TAG.finditer(html) if not m.group(1))


def validate_telegram_html(text: str) -> list[str]:
    problems: list[str] = []
    stack: list[_Open] = []
    entities = 0
    pos = 0
    for match in _TAG.finditer(text):
        problems += _check_text(text[pos : match.start()], pos)
        pos = match.end()
        closing, name, raw_attrs, self_closing = match.groups()
        name = name.lower()
        where = f"at {match.start()}"
        if name not in _ALLOWED:
            problems.append(f"tag <{name}> not allowed {where}")
            continue
        if self_closing:
            problems.append(f"self-closing <{name}/> {where}")
        if closing:
            if raw_attrs.strip():
                problems.append(f"attributes on closing tag </{name}> {where}")
            if not stack or stack[-1].name != name:
                open_name = stack[-1].name if stack else None
                problems.append(f"</{name}> closes <{open_name}> {where}")
                continue
            stack.pop()
            continue
        attrs = {m.group(1).lower(): m.group(2) for m in _ATTR.finditer(raw_attrs)}
        problems += _check_open(name, attrs, stack, where)
        stack.append(_Open(name, attrs))
        entities += 1
    problems += _check_text(text[pos:], pos)
    problems += [f"<{o.name}> never closed" for o in stack]
    visible = visible_text(text)
    if not visible.strip():
        problems.append("message is empty")
    length = utf16_len(visible)
    if length > MAX_VISIBLE_UTF16:
        problems.append(f"visible text is {length} UTF-16 units (> {MAX_VISIBLE_UTF16})")
    if entities > MAX_ENTITIES:
        problems.append(f"{entities} entities (> {MAX_ENTITIES})")
    return problems


def _check_text(chunk: str, offset: int) -> list[str]:
    problems = []
    stripped = _ENTITY.sub("", chunk)
    for char in "<>&":
        index = stripped.find(char)
        if index >= 0:
            problems.append(f"unescaped {char!r} near {offset + index}")
    return problems


def _check_open(
    name: str, attrs: dict[str, str | None], stack: list[_Open], where: str
) -> list[str]:
    problems = []
    names = [o.name for o in stack]
    parent = names[-1] if names else None
    if "pre" in names and not (name == "code" and parent == "pre"):
        problems.append(f"<{name}> inside <pre> {where}")
    if "code" in names:
        problems.append(f"<{name}> inside <code> {where}")
    if name == "a":
        if "a" in names:
            problems.append(f"nested <a> {where}")
        problems += _check_href(attrs, where)
    elif name == "code" and parent == "pre":
        extra = set(attrs) - {"class"}
        cls = attrs.get("class")
        if extra or (cls is not None and not re.fullmatch(r"language-[\w+#.-]+", cls)):
            problems.append(f"bad attributes on <pre><code> {where}: {attrs}")
    elif name in ("code", "pre") and "a" in names:
        problems.append(f"<{name}> inside <a> {where}")
    elif name == "blockquote":
        if "blockquote" in names:
            problems.append(f"nested <blockquote> {where}")
        if set(attrs) - {"expandable"} or attrs.get("expandable") is not None:
            problems.append(f"bad attributes on <blockquote> {where}: {attrs}")
    elif attrs:
        problems.append(f"attributes not allowed on <{name}> {where}: {attrs}")
    return problems


def _check_href(attrs: dict[str, str | None], where: str) -> list[str]:
    if set(attrs) != {"href"} or attrs["href"] is None:
        return [f"<a> needs exactly one href attribute {where}: {attrs}"]
    raw = attrs["href"]
    problems = (
        _check_text(raw.replace('"', ""), 0) if "&" in raw or "<" in raw or ">" in raw else []
    )
    href = unescape(raw)
    try:
        scheme = urlsplit(href).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in _LINK_SCHEMES:
        problems.append(f"href scheme {scheme!r} not allowed {where}")
    if any(c.isspace() for c in href):
        problems.append(f"whitespace in href {where}")
    return problems
