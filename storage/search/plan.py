"""Pure data between the search API and the two database back ends.

`IndexDoc` is one document's tokens per column; `SearchPlan` is a parsed query
reduced to token phrases, filter tag groups and an id range.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Date, Row

from storage.search.models import SERIES_UNIT
from storage.search.text import Query, index_tokens, plain_text, tag_token

# Index columns, in FTS5 column order, with their bm25 weights: title above summary.
COLUMNS = ("title", "source", "body", "section", "topics")
COLUMN_WEIGHTS = (10.0, 3.0, 1.0, 0.5, 0.5)

Phrase = tuple[tuple[str, bool], ...]  # (token, is_prefix) ...


@dataclass(frozen=True, slots=True)
class IndexDoc:
    id: int
    issue_id: int
    entry_id: int | None
    columns: tuple[tuple[str, ...], ...]  # tokens per COLUMNS entry
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchPlan:
    terms: tuple[Phrase, ...]  # all must match
    tag_groups: tuple[tuple[str, ...], ...]  # each group: any tag must match
    series_slug: str
    lo: int  # inclusive id range within the series (dates): see storage.search.models.id_range
    hi: int

    def params(self) -> dict[str, object]:
        return {"slug": self.series_slug, "lo": self.lo, "hi": self.hi, "unit": SERIES_UNIT}


@dataclass(frozen=True, slots=True)
class HitPage:
    """One page of hits as rows of HIT_COLUMNS, in result order."""

    rows: list[Row[Any]]
    total: int | None  # None when counting every match would be too costly
    more: bool  # further matches follow this page


# SQL shared by both back ends. `bounds` turns the series slug and the date range
# into the id range (no separate lookup); hits are joined to a page `p(id, ord)`.
BOUNDS_CTE = (
    "bounds AS (SELECT :lo + id * :unit AS lo, :hi + id * :unit AS hi"
    " FROM series WHERE slug = :slug)"
)
LO = "(SELECT lo FROM bounds)"
HI = "(SELECT hi FROM bounds)"
HIT_COLUMNS = (
    "p.ord, d.id, i.key AS issue_key, i.title AS issue_title, i.intro, i.quick_news,"
    " s.key AS section_key, s.heading, e.title, e.source, e.url, e.summary"
)
HIT_JOINS = (
    "JOIN search_docs d ON d.id = p.id JOIN issues i ON i.id = d.issue_id"
    " LEFT JOIN entries e ON e.id = d.entry_id LEFT JOIN sections s ON s.id = e.section_id"
)
HIT_TYPES = {"issue_key": Date(), "quick_news": JSON()}


def plan_terms(query: Query) -> tuple[Phrase, ...]:
    return tuple(tuple((t.text, t.prefix) for t in term.tokens) for term in query.terms)


def _tokens(*texts: str | None) -> tuple[str, ...]:
    return tuple(tok for text in texts if text for tok in index_tokens(text))


def _tags(kind: str, values: Iterable[str]) -> list[str]:
    return [tag for value in values if (tag := tag_token(kind, value))]


@dataclass(frozen=True, slots=True)
class EntryFields:
    title: str
    source: str | None
    summary: str
    arxiv_id: str | None
    section_key: str
    section_heading: str
    topics: Sequence[str]  # topic keys


def entry_doc(doc_id: int, issue_id: int, entry_id: int, e: EntryFields) -> IndexDoc:
    columns = (
        _tokens(plain_text(e.title)),
        _tokens(e.source, e.arxiv_id),
        _tokens(plain_text(e.summary)),
        _tokens(e.section_heading),
        _tokens(*e.topics),
    )
    tags = _tags("s", [e.section_key, e.section_heading]) + _tags("t", e.topics)
    return IndexDoc(doc_id, issue_id, entry_id, columns, tuple(dict.fromkeys(tags)))


def issue_doc(
    doc_id: int, issue_id: int, title: str, subtitle: str, intro: str, quick_news: Sequence[str]
) -> IndexDoc:
    body = [plain_text(intro), *(plain_text(item) for item in quick_news)]
    columns = (_tokens(title, subtitle), (), _tokens(*body), (), ())
    return IndexDoc(doc_id, issue_id, None, columns)
