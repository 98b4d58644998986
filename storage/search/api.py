"""Full-text search of the archive for `/search`, on SQLite (FTS5) and PostgreSQL (GIN).

    page = await search(session, "骁龙855 year:2019", series_slug="embedded-ai")

returns a `SearchPage` (storage.search.results; alias `SearchResult`): up to `per_page`
hits with marked snippets, `has_more`, and `total` when it is cheap to know (below,
otherwise None). A query with nothing to search raises `QueryError`, whose message
can be shown to the user as is. The query language is in `storage.search.text`;
`storage.search.index` keeps the index.

Order (storage.search.plan.rank_tiers), over every match: the query in the title
with its words standing as words there, then its words repeated in the summary, then
standing anywhere, then the query in the title only inside longer words (量化 in
向量化), then the rest. Within a tier of at most SCORE_WITHIN matches, relevance
(storage.search.score, the same on both databases) then the newer issue; a larger
tier newest first. Paging is stable and complete.

`total` is exact on SQLite up to storage.search.sqlite.COUNT_LIMIT matches; on
PostgreSQL when no rank tier has more than SCORE_WITHIN matches (and a phrase has at
most storage.search.pg.PHRASE_COUNT_LIMIT), as counting there reads every match (20 ms
for a broad word at 100k entries); otherwise None, and `has_more` tells.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from briefings.taxonomy import Taxonomy
from storage.search import pg, sqlite
from storage.search.index import is_postgres
from storage.search.models import id_range
from storage.search.plan import HitPage, SearchPlan, Tier, plan_terms, plan_words, rank_tiers
from storage.search.results import SearchHit, SearchPage
from storage.search.score import order
from storage.search.snippet import snippet, term_pattern
from storage.search.text import Query, QueryError, Term, parse_query, plain_text, tag_token

SearchResult = SearchPage
SCORE_WITHIN = 200  # a rank tier with at most this many matches is ordered by relevance
MAX_PER_PAGE = 50
SNIPPET_CHARS = 160
INTRO_KEY = "intro"  # section_key of hits on an issue's own title/intro
INTRO_HEADING = "导读"


@cache
def default_taxonomy() -> Taxonomy:
    return Taxonomy.default()


class _Backend(Protocol):
    CHEAP_COUNT: bool  # counting stops at a limit (SQLite) or reads every match (PostgreSQL)

    async def tier_ids(
        self, conn: AsyncConnection, plan: SearchPlan, tier: Tier, limit: int
    ) -> list[int]: ...

    async def count(self, conn: AsyncConnection, plan: SearchPlan) -> int | None: ...

    async def hits(self, conn: AsyncConnection, ids: Sequence[int]) -> list[Row[Any]]: ...

    async def texts(self, conn: AsyncConnection, ids: Sequence[int]) -> list[Row[Any]]: ...

    async def newest(
        self, conn: AsyncConnection, plan: SearchPlan, offset: int, limit: int
    ) -> HitPage: ...


async def search(
    session: AsyncSession,
    query: str,
    *,
    series_slug: str,
    page: int = 1,
    per_page: int = 5,
    taxonomy: Taxonomy | None = None,
) -> SearchPage:
    """One page of hits for `query` in a series; raises QueryError for unusable input."""
    parsed = parse_query(query)
    if page < 1:
        raise QueryError("page", "Pages are numbered from 1.")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(
            "per_page",
            f"Show between 1 and {MAX_PER_PAGE} results per page.",
            limit=MAX_PER_PAGE,
        )
    plan = _plan(parsed, series_slug, taxonomy or default_taxonomy())
    backend: _Backend = pg if is_postgres(session) else sqlite  # type: ignore[assignment]
    conn = await session.connection()  # Core statements: no ORM work on the hot path
    found = await _page(backend, conn, plan, (page - 1) * per_page, per_page, parsed.terms)
    patterns = [p for t in parsed.terms if (p := term_pattern(t.raw, t.exact))]
    return SearchPage(
        query=query,
        hits=tuple(_hit(row, patterns) for row in found.rows),
        page=page,
        total=found.total,
        has_more=found.more,
        page_size=per_page,
    )


def _plan(query: Query, series_slug: str, taxonomy: Taxonomy) -> SearchPlan:
    groups = [
        _filter_tags("section", query.sections, taxonomy),
        _filter_tags("topic", query.topics, taxonomy),
    ]
    start, end = (query.dates.start, query.dates.end) if query.dates else (None, None)
    lo, hi = id_range(0, start, end)
    groups = [g for g in groups if g]
    return SearchPlan(plan_terms(query), tuple(groups), series_slug, lo, hi, plan_words(query))


def _filter_tags(kind: str, values: Sequence[str], taxonomy: Taxonomy) -> tuple[str, ...]:
    """Tags for `section:` / `topic:` values: a key, or any name the taxonomy resolves."""
    tags: list[str] = []
    for value in values:
        found = taxonomy.resolve(value)
        key = found[1] if found and found[0] == kind else value
        tags += [t for t in (tag_token(kind[0], key), tag_token(kind[0], value)) if t]
    return tuple(dict.fromkeys(tags))


async def _page(
    backend: _Backend,
    conn: AsyncConnection,
    plan: SearchPlan,
    offset: int,
    limit: int,
    terms: Sequence[Term],
) -> HitPage:
    """Tier by tier until the page and one more are known.

    A tier of at most SCORE_WITHIN matches is read whole and ordered by relevance
    (storage.search.score); a larger one newest first, as scoring thousands of hits
    would cost more than the whole search may (a broad word on a 100k archive).
    """
    if not plan.terms:
        return await backend.newest(conn, plan, offset, limit)
    want = offset + limit + 1  # one more tells whether matches go on
    ids: list[int] = []
    seen_all, beyond_scoring = True, False
    for tier in rank_tiers(plan):
        asked = max(want - len(ids), SCORE_WITHIN + 1)
        found = await backend.tier_ids(conn, plan, tier, asked)
        seen_all &= len(found) < asked
        beyond_scoring |= len(found) > SCORE_WITHIN
        if 1 < len(found) <= SCORE_WITHIN:
            scored = order(await backend.texts(conn, found), terms)
            found = [row.id for row in scored]
        ids += found[: want - len(ids)]
        if len(ids) >= want:
            seen_all = False
            break
    rows = await backend.hits(conn, ids[offset : offset + limit])
    if seen_all:
        total: int | None = len(ids)
    elif beyond_scoring and not backend.CHEAP_COUNT:
        total = None  # more than SCORE_WITHIN: counting a broad word reads every match
    else:
        total = await backend.count(conn, plan)
    return HitPage(rows, total, len(ids) > offset + limit)


def _hit(row: Row[Any], patterns: Sequence[Any]) -> SearchHit:
    if row.title is None:  # the issue's own document
        body = "\n".join([plain_text(row.intro), *(plain_text(q) for q in row.quick_news)])
        return SearchHit(
            issue_key=row.issue_key,
            section_key=INTRO_KEY,
            section_heading=INTRO_HEADING,
            title=row.issue_title,
            source=None,
            url=None,
            snippet=snippet(body, patterns, SNIPPET_CHARS),
            issue_number=row.issue_number,
        )
    summary = plain_text(row.summary)
    return SearchHit(
        issue_key=row.issue_key,
        section_key=row.section_key,
        section_heading=row.heading,
        title=row.title,
        source=row.source,
        url=row.url,
        snippet=snippet(summary, patterns, SNIPPET_CHARS) if summary else "",
        issue_number=row.issue_number,
    )
