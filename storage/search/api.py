"""Full-text search of the archive for `/search`, on SQLite (FTS5) and PostgreSQL (GIN).

    page = await search(session, "骁龙855 year:2019", series_slug="embedded-ai")

returns a `SearchPage` (storage.search.results; alias `SearchResult`): up to `per_page`
hits with marked snippets, `has_more`, and `total` when it is cheap to know (below,
otherwise None). A query with nothing to search raises `QueryError`, whose message
can be shown to the user as is. The query language is in `storage.search.text`;
`storage.search.index` keeps the index.

Order: hits with every query word in their title first, then bm25 (SQLite) or
weighted ts_rank (PostgreSQL) with the title weighted above source, summary, section
and topics, then the newer issue. Only the newest RANK_CANDIDATES matches are ranked;
a word in a fifth of a 100k-entry archive would otherwise be scored in full on every
query. Older matches follow newest first, so paging is stable and complete.

`total` is exact when there are at most RANK_CANDIDATES matches, and beyond that on
SQLite up to storage.search.sqlite.COUNT_LIMIT and on PostgreSQL for queries
without phrases; otherwise None (counting would cost as much as the search).
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
from storage.search.plan import HitPage, SearchPlan, plan_terms
from storage.search.results import SearchHit, SearchPage
from storage.search.snippet import snippet, term_pattern
from storage.search.text import Query, QueryError, parse_query, plain_text, tag_token

SearchResult = SearchPage
RANK_CANDIDATES = 200
MAX_PER_PAGE = 50
SNIPPET_CHARS = 160
INTRO_KEY = "intro"  # section_key of hits on an issue's own title/intro
INTRO_HEADING = "导读"


@cache
def default_taxonomy() -> Taxonomy:
    return Taxonomy.default()


class _Backend(Protocol):
    async def ranked(
        self, conn: AsyncConnection, plan: SearchPlan, candidates: int, offset: int, limit: int
    ) -> HitPage: ...

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
    found = await _page(backend, conn, plan, (page - 1) * per_page, per_page)
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
    return SearchPlan(plan_terms(query), tuple(g for g in groups if g), series_slug, lo, hi)


def _filter_tags(kind: str, values: Sequence[str], taxonomy: Taxonomy) -> tuple[str, ...]:
    """Tags for `section:` / `topic:` values: a key, or any name the taxonomy resolves."""
    tags: list[str] = []
    for value in values:
        found = taxonomy.resolve(value)
        key = found[1] if found and found[0] == kind else value
        tags += [t for t in (tag_token(kind[0], key), tag_token(kind[0], value)) if t]
    return tuple(dict.fromkeys(tags))


async def _page(
    backend: _Backend, conn: AsyncConnection, plan: SearchPlan, offset: int, limit: int
) -> HitPage:
    """Ranked candidates first, then older matches newest first (a stable total order)."""
    if not plan.terms or offset >= RANK_CANDIDATES:
        return await backend.newest(conn, plan, offset, limit)
    page = await backend.ranked(conn, plan, RANK_CANDIDATES, offset, limit)
    beyond = page.total is None or page.total > RANK_CANDIDATES
    if len(page.rows) == limit or not beyond:
        return page
    rest = await backend.newest(conn, plan, RANK_CANDIDATES, limit - len(page.rows))
    return HitPage(page.rows + rest.rows, page.total, rest.more)


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
    )
