"""Pure relevance within a rank tier: how much of a hit is about the query (bm25-like).

Both databases hand the same hit rows to `order`, so a tier is ordered identically on
SQLite and PostgreSQL (bm25 and ts_rank would disagree). It runs on every query whose
tier is small enough (up to storage.search.api.SCORE_WITHIN hits), so it trades the
index's exact folding for speed: full plain_text() + fold() of a field cost ~40 us,
this ~5 us. Counts are approximate (a count, not a match: the index decided that).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from storage.search.text import Term, fold, segments

# Field weights as the index weighted them before: title far above source and body.
TITLE_WEIGHT = 10.0
SOURCE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
K1 = 1.2  # term-frequency saturation
B = 0.75  # length normalisation
MAX_CHARS = 1000  # of a field: enough to tell what a summary is about

# Link targets and bare URLs would miscount (a `yolo` in a GitHub path).
_URLS = re.compile(r"\]\([^)]*\)|<?https?://[^\s<>)\]]+>?")
# Full-width letters and digits (ＩＮＴ８) as NFKC folds them; NFKC on every field costs
# ~13 us, and full-width punctuation (，：) changes no count.
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF5B)}
_ALNUM = "[a-z0-9]"


def _fold(text: str | None) -> str:
    if not text:
        return ""
    text = text[:MAX_CHARS]
    if "](" in text or "http" in text:
        text = _URLS.sub(" ", text)
    if _FULL_WIDTH.search(text):
        text = text.translate(_TO_ASCII)
    return text.casefold()


@lru_cache(maxsize=256)
def count_pattern(raw: str, exact: bool = False) -> re.Pattern[str] | None:
    """What to count for a query term: its CJK runs as they are, its Latin words whole
    (or as a prefix, as the index matches 4+ letters unless quoted), any separators."""
    parts = []
    segs = segments(fold(raw))
    for i, seg in enumerate(segs):
        if seg.cjk:
            parts.append(re.escape(seg.text))
            continue
        prefix = i == len(segs) - 1 and not exact and len(seg.text) >= 4 and seg.text.isalpha()
        end = f"{_ALNUM}*" if prefix else f"(?!{_ALNUM})"
        parts.append(f"(?<!{_ALNUM}){re.escape(seg.text)}{end}")
    return re.compile(r"[\W_]*".join(parts)) if parts else None


def _fields(row: Any) -> tuple[str, str, str]:
    if row.title is None:  # an issue's own document: its title, 导读 and short news
        body = "\n".join([row.intro or "", *(row.quick_news or [])])
        return _fold(row.issue_title), "", _fold(body)
    return _fold(row.title), _fold(row.source), _fold(row.summary)


def order(rows: Sequence[Any], terms: Sequence[Term]) -> list[Any]:
    """`rows` by relevance to the terms, best first; ties newest (larger id) first."""
    patterns = [p for t in terms if (p := count_pattern(t.raw, t.exact))]
    fields = [_fields(row) for row in rows]
    if not fields:
        return []
    averages = [max(1.0, sum(len(f[i]) for f in fields) / len(fields)) for i in range(3)]
    weights = (TITLE_WEIGHT, SOURCE_WEIGHT, BODY_WEIGHT)

    def score(texts: tuple[str, str, str]) -> float:
        total = 0.0
        for text, weight, average in zip(texts, weights, averages, strict=True):
            if not text:
                continue
            norm = K1 * (1 - B + B * len(text) / average)
            for pattern in patterns:
                tf = len(pattern.findall(text))
                total += weight * tf / (tf + norm)
        return total

    scores = [score(f) for f in fields]
    ranked = sorted(range(len(rows)), key=lambda i: (-scores[i], -rows[i].id))
    return [rows[i] for i in ranked]
