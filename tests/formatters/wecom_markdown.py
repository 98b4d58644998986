"""A strict checker for the WeCom markdown that WeComRenderer sends.

WeCom's markdown subset: `#` headings, `**bold**`, `[text](url)`, `` `code` ``,
`> ` quotes and `<font color="info|comment|warning">`. WeComRenderer replaces
every markup character of source text with a lookalike, so any `*`, `` ` ``, `[`,
`]`, `<`, `>` or `#` left in a message must be markup, well-formed on its own
line. `validate_wecom_markdown(text)` returns the problems found (empty when valid).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

COLORS = {"info", "comment", "warning"}

_BLOCK_MARK = re.compile(r"^(?:#{1,6} |> ?)")
_TAG = re.compile(r"<[^<>]*>")
_FONT_OPEN = re.compile(r'<font color="([^"<>]*)">')
_LINK = re.compile(r"\[([^\[\]]*)\]\(([^()]*)\)")
_STRAY = "*`[]<>#"


def validate_wecom_markdown(text: str) -> list[str]:
    problems = [] if text.strip() else ["message is empty"]
    for number, line in enumerate(text.split("\n"), start=1):
        problems += [f"line {number}: {p}" for p in _check_line(line)]
    return problems


def _check_line(line: str) -> list[str]:
    body = _BLOCK_MARK.sub("", line, count=1)
    body, problems = _fonts(body)
    body, found = _links(body)
    problems += found
    body, found = _pairs(body, "`", "code")
    problems += found
    body, found = _pairs(body, "**", "bold")
    problems += found
    problems += [f"stray {char!r}" for char in _STRAY if char in body]
    return problems


def _fonts(body: str) -> tuple[str, list[str]]:
    """The line without its font tags, and problems with them (nesting, colours)."""
    problems: list[str] = []
    depth = 0
    for tag in _TAG.finditer(body):
        opening = _FONT_OPEN.fullmatch(tag.group())
        if opening:
            if opening.group(1) not in COLORS:
                problems.append(f"font colour {opening.group(1)!r} not allowed")
            if depth:
                problems.append("nested <font>")
            depth += 1
        elif tag.group() == "</font>":
            if not depth:
                problems.append("</font> without <font>")
            depth = max(0, depth - 1)
        else:
            problems.append(f"tag {tag.group()!r} not allowed")
    if depth:
        problems.append("<font> never closed")
    return _TAG.sub("", body), problems


def _links(body: str) -> tuple[str, list[str]]:
    """The line with each `[text](url)` replaced by its text, and problems with them."""
    problems: list[str] = []
    for found in _LINK.finditer(body):
        text, url = found.groups()
        if not text.strip():
            problems.append(f"link to {url!r} has no text")
        if not _web_url(url):
            problems.append(f"link target {url!r} is not an http(s) URL without spaces")
    return _LINK.sub(lambda m: m.group(1), body), problems


def _web_url(url: str) -> bool:
    if not url or any(c.isspace() or c in '<>"\\' for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _pairs(body: str, marker: str, name: str) -> tuple[str, list[str]]:
    """Check `marker` spans pair up around non-empty text that does not start or end
    with a space (`** a**` is not bold); return the line without the markers."""
    parts = body.split(marker)
    if len(parts) % 2 == 0:
        return "".join(parts), [f"unpaired {name} marker {marker!r}"]
    problems = []
    for inner in parts[1::2]:
        if not inner.strip():
            problems.append(f"empty {name} span")
        elif inner != inner.strip():
            problems.append(f"{name} span {inner!r} starts or ends with a space")
    return "".join(parts), problems
