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

import bisect
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from .text import one_line

_HTML_ELEMENTS = (
    "a|abbr|b|big|br|center|cite|code|del|dfn|div|em|font|i|img|ins|kbd|mark|p|q|s|samp"
    "|small|span|strike|strong|sub|sup|tt|u|var|wbr"
)
_TAG = re.compile(rf"</?(?:{_HTML_ELEMENTS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_BACKTICKS = re.compile("`+")
_TARGET = r"\((?:[^()\n]|\([^()\n]*\))*\)"
_LINK = re.compile(rf"!?\[([^\[\]]*)\]{_TARGET}")


@dataclass(frozen=True, slots=True)
class _Pair:
    """Emphasis as `OPEN(?=...)(.+?)(?<=...)CLOSE`, matched without backtracking.

    The regex form costs O(line) for every opener without a closer (quadratic on
    ` **b **b ...`); `opener`/`closer` find every position where a delimiter may
    stand (lookarounds only), and `sub` pairs each opener with the first closer
    after it on its line, exactly as the lazy regex would, in linear time.
    """

    opener: re.Pattern[str]
    closer: re.Pattern[str]
    width: int  # of the delimiter

    def sub(self, text: str) -> str:
        closers = [m.start() for m in self.closer.finditer(text)]
        if not closers:
            return text
        breaks = [m.start() for m in _NEWLINE.finditer(text)]
        out: list[str] = []
        done = 0
        for match in self.opener.finditer(text):
            start = match.start()
            if start < done:
                continue
            inner = start + self.width
            end = _first_at_least(closers, inner + 1)
            line_end = _first_at_least(breaks, inner)
            if end is None or (line_end is not None and line_end < end):
                continue
            out += [text[done:start], text[inner:end]]
            done = end + self.width
        out.append(text[done:])
        return "".join(out)


def _pair(delimiter: str, before: str, after: str, start: str = "", end: str = "") -> _Pair:
    mark = re.escape(delimiter)
    opener = re.compile(f"{start}(?={mark}{after})")
    closer = re.compile(f"(?<={before})(?={mark}{end})")
    return _Pair(opener, closer, len(delimiter))


def _first_at_least(positions: list[int], value: int) -> int | None:
    index = bisect.bisect_left(positions, value)
    return positions[index] if index < len(positions) else None


# the regex each stands for: **(?=\S)(.+?)(?<=\S)**, (?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w),
# ~~(?=\S)(.+?)(?<=\S)~~, \*(?=[^\s*])(.+?)(?<=[^\s*])\*, (?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)
_EMPHASIS = (
    _pair("**", r"\S", r"\S"),
    _pair("__", r"\S", r"\S", start=r"(?<!\w)", end=r"(?!\w)"),
    _pair("~~", r"\S", r"\S"),
    _pair("*", r"[^\s*]", r"[^\s*]"),
    _pair("_", r"[^\s_]", r"[^\s_]", start=r"(?<!\w)", end=r"(?!\w)"),
)
_NEWLINE = re.compile("\n")


def _code_sub(text: str, repl: Callable[[str], str]) -> str:
    """`(`+)(?!`)(.+?)(?<!`)\\1(?!`)` replaced by repl(code text), in linear time.

    The regex backtracks through every length of a backtick run at every position
    (quadratic on a long run); here an opener at p inside a run ending at e has
    length e - p and closes at the next run of exactly that length on its line.
    """
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    if len(runs) < 2:
        return text
    by_length: dict[int, list[int]] = {}
    for start, end in runs:
        by_length.setdefault(end - start, []).append(start)
    breaks = [m.start() for m in _NEWLINE.finditer(text)]
    out: list[str] = []
    done = 0
    for start, end in runs:
        line_end = _first_at_least(breaks, end)
        for opener in range(max(start, done), end):
            width = end - opener
            close = _first_at_least(by_length.get(width, []), end + 1)
            if close is None or (line_end is not None and line_end < close):
                continue
            out += [text[done:opener], repl(text[end:close])]
            done = close + width
            break
    out.append(text[done:])
    return "".join(out)


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

    def keep(piece: str) -> str:
        kept.append(piece)
        return f"{mark}{len(kept) - 1}{mark}"

    text = _ESCAPE.sub(lambda m: keep(m.group(1)), text)
    text = _code_sub(text, keep)  # code text is literal: no emphasis inside
    text = _TAG.sub(lambda m: " " if m.group().lower().startswith("<br") else "", text)
    for _ in range(_MAX_PASSES):
        before = text
        text = _LINK.sub(r"\1", text)
        for pattern in _EMPHASIS:
            text = pattern.sub(text)
        if text == before:
            break
    token = re.compile(f"{mark}(\\d+){mark}")
    while token.search(text):  # an escape can sit inside a kept code span
        text = token.sub(lambda m: kept[int(m.group(1))], text)
    return one_line(text)
