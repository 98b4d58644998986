"""Inline markdown of one-line fields reduced to its text (pure).

Titles, sources, headings and link labels are shown as single styled lines, not
converted as markdown: a title is not a paragraph ("1. …" or "# …" must stay
text). They still may carry inline markup (`**NVIDIA** 发布…`, `<font>`,
`` `code` ``), which must not reach users as literal syntax. `plain_inline`
keeps the text and drops the markup: emphasis (`**`, `__`, `*`, `_`, `~~`)
that Markdown would take as emphasis, code-span backticks, links and images
(their text), and tags of real HTML elements (`<font>`, `<b>`, `<br>`...; text
such as `<M1>` or `Vector<int>` is not HTML and stays). Backslash escapes give
their character. Unpaired markers stay as written: they are text.
"""

from __future__ import annotations

import itertools
import re

from .text import one_line

_HTML_ELEMENTS = (
    "a|abbr|b|big|br|center|cite|code|del|dfn|div|em|font|i|img|ins|kbd|mark|p|q|s|samp"
    "|small|span|strike|strong|sub|sup|tt|u|var|wbr"
)
_TAG = re.compile(rf"</?(?:{_HTML_ELEMENTS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_CODE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_TARGET = r"\((?:[^()\n]|\([^()\n]*\))*\)"
_LINK = re.compile(rf"!?\[([^\[\]]*)\]{_TARGET}")
_EMPHASIS = (
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
    re.compile(r"\*(?=[^\s*])(.+?)(?<=[^\s*])\*"),
    re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"),
)
_MAX_PASSES = 8  # nested markup is unwrapped one level per pass


def _sentinel(text: str) -> str:
    """A private-use character absent from `text`, to mark protected pieces."""
    used = set(text)
    private_use = itertools.chain(range(0xE000, 0xF900), range(0xF0000, 0xFFFFE))
    return next(chr(c) for c in private_use if chr(c) not in used)


def plain_inline(text: str) -> str:
    """The text of a one-line inline-markdown field, markup removed, whitespace collapsed."""
    if not text:
        return ""
    mark = _sentinel(text)
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(match.lastindex or 0))
        return f"{mark}{len(kept) - 1}{mark}"

    text = _ESCAPE.sub(keep, text)
    text = _CODE.sub(keep, text)  # code text is literal: no emphasis inside
    text = _TAG.sub(lambda m: " " if m.group().lower().startswith("<br") else "", text)
    for _ in range(_MAX_PASSES):
        before = text
        text = _LINK.sub(r"\1", text)
        for pattern in _EMPHASIS:
            text = pattern.sub(r"\1", text)
        if text == before:
            break
    token = re.compile(f"{mark}(\\d+){mark}")
    while token.search(text):  # an escape can sit inside a kept code span
        text = token.sub(lambda m: kept[int(m.group(1))], text)
    return one_line(text)
