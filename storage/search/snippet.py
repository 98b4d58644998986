"""Pure highlighting: find a query's terms in original text and cut a marked snippet.

The index holds bigrams, not readable text, so snippets are made here from the stored
fields with the same folding and matching rules as the index (see storage.search.text).
Matched words are wrapped in briefings.marks MARK_START/MARK_END (\\x02 ... \\x03).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from briefings.marks import MARK_END, MARK_START, unmarked
from storage.search.text import CJK_CHARS, PREFIX_MIN_LETTERS, fold, segments

ELLIPSIS = "…"

_WORD_CHAR = rf"(?:(?![{CJK_CHARS}])[^\W_])"
_SEPARATORS = r"[\W_]*"


@lru_cache(maxsize=256)
def term_pattern(raw: str, exact: bool = False) -> re.Pattern[str] | None:
    """A regex over folded text matching `raw` the way the index does."""
    segs = segments(fold(raw))
    if not segs:
        return None
    parts: list[str] = []
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg.cjk:
            parts.append(re.escape(seg.text) + ("" if last else rf"(?![{CJK_CHARS}])"))
            continue
        start = rf"(?<!{_WORD_CHAR})" if i == 0 else ""
        prefix = last and not exact and len(seg.text) >= PREFIX_MIN_LETTERS and seg.text.isalpha()
        end = f"{_WORD_CHAR}*" if prefix else f"(?!{_WORD_CHAR})"
        parts.append(start + re.escape(seg.text) + end)
    return re.compile(_SEPARATORS.join(parts))


def _folded_with_map(text: str) -> tuple[str, list[int]]:
    """`fold(text)`, with the original index of every folded character."""
    folded = fold(text)
    if len(folded) == len(text):  # the usual case: folding maps char to char
        return folded, list(range(len(text)))
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        f = ch if ch.isascii() and not ch.isupper() else fold(ch)
        out.append(f)
        origin.extend([i] * len(f))
    return "".join(out), origin


def match_spans(text: str, patterns: Sequence[re.Pattern[str]]) -> list[tuple[int, int]]:
    """Sorted, merged [start, end) spans of `text` matched by any pattern."""
    folded, origin = _folded_with_map(text)
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        for m in pattern.finditer(folded):
            if m.end() > m.start():
                spans.append((origin[m.start()], origin[m.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, spans: Sequence[tuple[int, int]], offset: int = 0) -> str:
    """`text` with every span (relative to `offset`) wrapped in the marks."""
    out: list[str] = []
    pos = 0
    for start, end in spans:
        start, end = max(start - offset, pos), min(end - offset, len(text))
        if start >= end:
            continue
        out += [text[pos:start], MARK_START, text[start:end], MARK_END]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def clean(text: str) -> str:
    """Text with the mark characters removed, so only our marks are in a snippet."""
    return unmarked(text)


def highlight(text: str, patterns: Sequence[re.Pattern[str]]) -> str:
    text = clean(text)
    return mark(text, match_spans(text, patterns))


def snippet(text: str, patterns: Sequence[re.Pattern[str]], width: int = 160) -> str:
    """Up to `width` characters of `text` around its best match, matches marked.

    The window starts a little before the first match of the most terms, so the
    reader sees what precedes it; text cut at either end gets an ellipsis.
    """
    text = " ".join(clean(text).split())
    if len(text) <= width:
        return highlight(text, patterns)
    spans = match_spans(text, patterns)
    start = _window_start(text, spans, width)
    end = min(len(text), start + width)
    body = mark(text[start:end], [s for s in spans if s[1] > start and s[0] < end], start)
    return (ELLIPSIS if start > 0 else "") + body + (ELLIPSIS if end < len(text) else "")


def _window_start(text: str, spans: Sequence[tuple[int, int]], width: int) -> int:
    if not spans:
        return 0
    best = max(spans, key=lambda s: sum(1 for o in spans if s[0] <= o[0] < s[0] + width))
    start = max(0, best[0] - width // 5)
    return min(start, max(0, len(text) - width))
