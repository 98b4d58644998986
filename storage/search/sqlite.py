"""SQLite side of the search index: an FTS5 table keyed by search_docs.id, ranked by bm25."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.search.plan import (
    BOUNDS_CTE,
    COLUMN_WEIGHTS,
    HI,
    HIT_COLUMNS,
    HIT_JOINS,
    HIT_TYPES,
    LO,
    HitPage,
    IndexDoc,
    SearchPlan,
)

COUNT_LIMIT = 1000  # totals up to this are exact; beyond, SearchPage.total is None

_BM25 = f"bm25(search_fts, {', '.join(str(w) for w in COLUMN_WEIGHTS)}, 0.0)"

_INSERT = text(
    "INSERT INTO search_fts (rowid, title, source, body, section, topics, tags) "
    "VALUES (:id, :title, :source, :body, :section, :topics, :tags)"
)


def fts5_phrase(tokens: Sequence[tuple[str, bool]]) -> str:
    """`"骁龙 龙 855"`, or `"a 股" *` when the last token is a prefix; tokens need no escaping."""
    phrase = '"' + " ".join(t for t, _ in tokens) + '"'
    return phrase + " *" if tokens and tokens[-1][1] else phrase


def title_expression(plan: SearchPlan) -> str:
    """All words inside the title column: such hits rank above the rest."""
    return "title : (" + " AND ".join(fts5_phrase(term) for term in plan.terms) + ")"


def match_expression(plan: SearchPlan) -> str | None:
    parts = [fts5_phrase(term) for term in plan.terms]
    for group in plan.tag_groups:
        parts.append("tags : (" + " OR ".join(f'"{tag}"' for tag in group) + ")")
    return " AND ".join(parts) or None


async def write_docs(session: AsyncSession, docs: Sequence[IndexDoc]) -> None:
    if docs:
        await session.execute(_INSERT, [_fts_row(doc) for doc in docs])


def _fts_row(doc: IndexDoc) -> dict[str, object]:
    title, source, body, section, topics = (" ".join(col) for col in doc.columns)
    return {
        "id": doc.id,
        "title": title,
        "source": source,
        "body": body,
        "section": section,
        "topics": topics,
        "tags": " ".join(doc.tags),
    }


async def optimize(session: AsyncSession) -> None:
    """Merge the FTS5 index into one segment (bulk loads leave many; queries read each)."""
    await session.execute(text("INSERT INTO search_fts (search_fts) VALUES ('optimize')"))


async def clear_all(session: AsyncSession) -> None:
    await session.execute(text("DELETE FROM search_fts"))


def _source(match: str | None) -> tuple[str, str]:
    """(FROM/WHERE clause, id column) of a plan's matches within its id range."""
    if match is None:
        return f"search_docs WHERE id BETWEEN {LO} AND {HI}", "id"
    return f"search_fts WHERE search_fts MATCH :match AND rowid BETWEEN {LO} AND {HI}", "rowid"


def _with_hits(page_cte: str, total_sql: str) -> str:
    """One statement: the total, and (LEFT JOIN, so even for an empty page) the hits."""
    return f"""
WITH {BOUNDS_CTE}, {page_cte}
SELECT t.total, h.* FROM (SELECT {total_sql} AS total) t
LEFT JOIN (SELECT {HIT_COLUMNS} FROM page p {HIT_JOINS}) h ON 1
ORDER BY h.ord
"""


def _capped_count(source: str) -> str:
    return f"(SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT :count_limit))"


_MATCHES, _ = _source("match")
# Hits with every word in the title first, then bm25, then newer first. The title
# check only reads the candidates' rowid range; counting beyond the candidates stops
# at COUNT_LIMIT (a broad word's full count would cost as much as ranking it).
_RANKED = _with_hits(
    f"""candidates AS MATERIALIZED (
    SELECT rowid AS id, {_BM25} AS score FROM {_MATCHES}
    ORDER BY rowid DESC LIMIT :candidates
), titled AS MATERIALIZED (
    SELECT rowid AS id FROM search_fts
    WHERE search_fts MATCH :title AND rowid BETWEEN (SELECT min(id) FROM candidates) AND {HI}
), page AS (
    SELECT id, row_number() OVER (ORDER BY id IN titled DESC, score, id DESC) AS ord
    FROM candidates ORDER BY ord LIMIT :limit OFFSET :offset
)""",
    f"""CASE WHEN (SELECT count(*) FROM candidates) < :candidates
    THEN (SELECT count(*) FROM candidates) ELSE {_capped_count(_MATCHES)} END""",
)


def _newest_sql(match: str | None) -> str:
    source, column = _source(match)
    page = (  # one row more than the page: are there further matches?
        f"page AS (SELECT {column} AS id, -{column} AS ord FROM {source}"
        f" ORDER BY {column} DESC LIMIT :limit + 1 OFFSET :offset)"
    )
    return _with_hits(page, _capped_count(source))


async def _run(
    conn: AsyncConnection, sql: str, params: dict[str, object]
) -> tuple[list[Row[Any]], int | None]:
    rows = (await conn.execute(text(sql).columns(**HIT_TYPES), params)).all()
    total = int(rows[0].total)
    return [row for row in rows if row.id is not None], None if total >= COUNT_LIMIT else total


async def ranked(
    conn: AsyncConnection, plan: SearchPlan, candidates: int, offset: int, limit: int
) -> HitPage:
    """A page of the newest `candidates` matches, ranked; the total below COUNT_LIMIT."""
    params = plan.params() | {
        "match": match_expression(plan),
        "title": title_expression(plan),
        "candidates": candidates,
        "limit": limit,
        "offset": offset,
        "count_limit": COUNT_LIMIT,
    }
    hits, total = await _run(conn, _RANKED, params)
    return HitPage(hits, total, total is None or offset + len(hits) < total)


async def newest(conn: AsyncConnection, plan: SearchPlan, offset: int, limit: int) -> HitPage:
    """A page of the matches, newest first; the total below COUNT_LIMIT."""
    match = match_expression(plan)
    params = plan.params() | {
        "match": match,
        "limit": limit,
        "offset": offset,
        "count_limit": COUNT_LIMIT,
    }
    hits, total = await _run(conn, _newest_sql(match), params)
    return HitPage(hits[:limit], total, len(hits) > limit)
