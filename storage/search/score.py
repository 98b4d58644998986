"""Pure relevance within a rank tier: how much of a hit is about the query (bm25-like).

Both databases hand the same hit rows to `order`, so a tier is ordered identically on
SQLite and PostgreSQL (bm25 and ts_rank would disagree). The counts use the snippet
patterns (storage.search.snippet.term_pattern) on the folded plain text, so they see
exactly what the index matched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from storage.search.text import fold, plain_text

# Field weights as the index weighted them before: title far above source and body.
TITLE_WEIGHT = 10.0
SOURCE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
K1 = 1.2  # term-frequency saturation
B = 0.75  # length normalisation


def _fields(row: Any) -> tuple[str, str, str]:
    if row.title is None:  # an issue's own document: its title, 导读 and short news
        body = "\n".join([row.intro or "", *(row.quick_news or [])])
        return fold(row.issue_title or ""), "", fold(plain_text(body))
    return fold(plain_text(row.title)), fold(row.source or ""), fold(plain_text(row.summary))


def order(rows: Sequence[Any], patterns: Sequence[re.Pattern[str]]) -> list[Any]:
    """`rows` by relevance to the patterns, best first; ties newest (larger id) first."""
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
                tf = sum(1 for _ in pattern.finditer(text))
                total += weight * tf / (tf + norm)
        return total

    scores = [score(f) for f in fields]
    ranked = sorted(range(len(rows)), key=lambda i: (-scores[i], -rows[i].id))
    return [rows[i] for i in ranked]
