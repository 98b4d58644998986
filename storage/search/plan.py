"""Pure data between the search API and the two database back ends.

`IndexDoc` is one document's tokens per column; `SearchPlan` is a parsed query
reduced to token phrases, its words, filter tag groups and an id range; `rank_tiers`
is the order of its matches, the same on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Date, Row

from storage.search.models import SERIES_UNIT
from storage.search.score import MAX_CHARS
from storage.search.text import Query, fold, index_tokens, plain_text, segments, tag_token
from storage.search.words import document_words, query_words

# Index columns, in FTS5 column order.
COLUMNS = ("title", "source", "body", "section", "topics")

Phrase = tuple[tuple[str, bool], ...]  # (token, is_prefix) ...

# Tags-column tokens for a document's words (storage.search.words): `w_量化` anywhere in
# it, `wt_量化` in its title, `wm_量化` more than once outside it (what an entry is about,
# not a passing mention). `_` never occurs in text tokens; `s_`/`t_` are the filters.
WORD_TAG = "w_"
TITLE_WORD_TAG = "wt_"
REPEATED_WORD_TAG = "wm_"
# Every document carries the format it was indexed in: an archive indexed by older code
# (no word tokens) is found and rebuilt by storage.search.index.optimize_index.
INDEX_FORMAT = "f_words1"


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
    words: tuple[str, ...] = ()  # the terms' words that rank a match higher: query_words

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
    "p.ord, d.id, i.key AS issue_key, i.number AS issue_number, i.title AS issue_title,"
    " i.intro, i.quick_news,"
    " s.key AS section_key, s.heading, e.title, e.source, e.url, e.summary"
)
# What storage.search.score reads: the start of a summary, and an issue's 导读 and short
# news only for its own document.
SCORE_COLUMNS = (
    f"p.ord, d.id, i.title AS issue_title, e.title, e.source,"
    f" substr(e.summary, 1, {MAX_CHARS}) AS summary,"
    f" CASE WHEN e.id IS NULL THEN substr(i.intro, 1, {MAX_CHARS}) END AS intro,"
    " CASE WHEN e.id IS NULL THEN i.quick_news END AS quick_news"
)
HIT_JOINS = (
    "JOIN search_docs d ON d.id = p.id JOIN issues i ON i.id = d.issue_id"
    " LEFT JOIN entries e ON e.id = d.entry_id LEFT JOIN sections s ON s.id = e.section_id"
)
HIT_TYPES = {"issue_key": Date(), "quick_news": JSON()}
SCORE_TYPES = {"quick_news": JSON()}


def plan_terms(query: Query) -> tuple[Phrase, ...]:
    return tuple(tuple((t.text, t.prefix) for t in term.tokens) for term in query.terms)


def plan_words(query: Query) -> tuple[str, ...]:
    cjk = (seg.text for term in query.terms for seg in segments(fold(term.raw)) if seg.cjk)
    return tuple(dict.fromkeys(query_words(cjk)))


@dataclass(frozen=True, slots=True)
class Cond:
    """All of: these tags-column tokens, and every token of these terms in the title."""

    tags: tuple[str, ...] = ()
    title: tuple[Phrase, ...] = ()


@dataclass(frozen=True, slots=True)
class Tier:
    """The plan's matches that meet `require` (None: any) and none of `exclude`."""

    require: Cond | None
    exclude: tuple[Cond, ...] = ()


def rank_tiers(plan: SearchPlan) -> tuple[Tier, ...]:
    """The order of a plan's matches: tier by tier; within a tier by relevance when it is
    small (storage.search.api.SCORE_WITHIN), else newest first.

    1. every term in the title, its words standing as words there
    2. its words standing as words more than once elsewhere (a summary about 量化)
    3. its words standing as words anywhere (a passing mention)
    4. every term in the title, but inside longer words (a title about 向量化)
    5. the rest
    Without words to stand (Latin names, one character, long phrases) this is
    title matches, then the rest. Each tier is one indexed lookup read newest first,
    so every match is ranked without scoring them all (a fifth of a 100k archive for
    the broadest words); the title test is on the bag of the terms' tokens, which
    both databases answer from their index alone.
    """
    in_title = Cond(title=plan.terms)
    if not plan.words:
        return (Tier(in_title), Tier(None, (in_title,)))
    title_words = Cond(tuple(TITLE_WORD_TAG + w for w in plan.words), plan.terms)
    repeated = Cond(tuple(REPEATED_WORD_TAG + w for w in plan.words))
    words = Cond(tuple(WORD_TAG + w for w in plan.words))
    return (
        Tier(title_words),
        Tier(repeated, (title_words,)),
        Tier(words, (title_words, repeated)),
        Tier(in_title, (title_words, words)),
        Tier(None, (title_words, words, in_title)),
    )


def _tokens(*texts: str | None) -> tuple[str, ...]:
    return tuple(tok for text in texts if text for tok in index_tokens(text))


def _tags(kind: str, values: Iterable[str]) -> list[str]:
    return [tag for value in values if (tag := tag_token(kind, value))]


def _word_tags(title: Sequence[str | None], rest: Sequence[str | None]) -> list[str]:
    in_title = document_words(*title)
    elsewhere = document_words(*rest)
    anywhere = dict.fromkeys([*in_title, *elsewhere])
    return (
        [TITLE_WORD_TAG + w for w in in_title]
        + [REPEATED_WORD_TAG + w for w, n in elsewhere.items() if n > 1]
        + [WORD_TAG + w for w in anywhere]
    )


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
    title, summary = plain_text(e.title), plain_text(e.summary)
    columns = (
        _tokens(title),
        _tokens(e.source, e.arxiv_id),
        _tokens(summary),
        _tokens(e.section_heading),
        _tokens(*e.topics),
    )
    tags = _tags("s", [e.section_key, e.section_heading]) + _tags("t", e.topics)
    tags += [*_word_tags([title], [e.source, summary]), INDEX_FORMAT]
    return IndexDoc(doc_id, issue_id, entry_id, columns, tuple(dict.fromkeys(tags)))


def issue_doc(
    doc_id: int, issue_id: int, title: str, subtitle: str, intro: str, quick_news: Sequence[str]
) -> IndexDoc:
    body = [plain_text(intro), *(plain_text(item) for item in quick_news)]
    columns = (_tokens(title, subtitle), (), _tokens(*body), (), ())
    # The 导读 and short news name a dozen subjects in passing: only the issue's title
    # and subtitle rank it by words; a match in its body ranks with the rest.
    tags = [*_word_tags([title, subtitle], []), INDEX_FORMAT]
    return IndexDoc(doc_id, issue_id, None, columns, tuple(tags))
