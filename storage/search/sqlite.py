"""SQLite side of the search index: an FTS5 table keyed by search_docs.id.

Rank tiers (storage.search.plan.rank_tiers) are FTS5 expressions read newest first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.search.plan import (
    BOUNDS_CTE,
    HI,
    HIT_COLUMNS,
    HIT_JOINS,
    HIT_TYPES,
    LO,
    SCORE_COLUMNS,
    SCORE_TYPES,
    Cond,
    HitPage,
    IndexDoc,
    Phrase,
    SearchPlan,
    Tier,
)

COUNT_LIMIT = 1000  # totals up to this are exact; beyond, SearchPage.total is None
CHEAP_COUNT = True  # the count stops at COUNT_LIMIT

_INSERT = text(
    "INSERT INTO search_fts (rowid, title, source, body, section, topics, tags) "
    "VALUES (:id, :title, :source, :body, :section, :topics, :tags)"
)


def fts5_phrase(tokens: Sequence[tuple[str, bool]]) -> str:
    """`"骁龙 龙 855"`, or `"a 股" *` when the last token is a prefix; tokens need no escaping."""
    phrase = '"' + " ".join(t for t, _ in tokens) + '"'
    return phrase + " *" if tokens and tokens[-1][1] else phrase


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


async def has_tag(session: AsyncSession, doc_id: int, tag: str) -> bool:
    tags = await session.scalar(
        text("SELECT tags FROM search_fts WHERE rowid = :id"), {"id": doc_id}
    )
    return tag in (tags or "").split()


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
_TIER_IDS = f"""WITH {BOUNDS_CTE}
SELECT rowid FROM {_MATCHES} ORDER BY rowid DESC LIMIT :limit"""
_COUNT = f"WITH {BOUNDS_CTE} SELECT {_capped_count(_MATCHES)}"
_HITS = f"""WITH page(id, ord) AS (SELECT value, key FROM json_each(:ids))
SELECT {HIT_COLUMNS} FROM page p {HIT_JOINS} ORDER BY p.ord"""
_TEXTS = f"""WITH page(id, ord) AS (SELECT value, key FROM json_each(:ids))
SELECT {SCORE_COLUMNS} FROM page p {HIT_JOINS} ORDER BY p.ord"""


def _bag(term: Phrase) -> str:
    return " AND ".join(f'"{tok}"' + (" *" if prefix else "") for tok, prefix in term)


def cond_expression(cond: Cond) -> str:
    parts = [f'tags : "{tag}"' for tag in cond.tags]
    if cond.title:
        parts.append("title : (" + " AND ".join(_bag(term) for term in cond.title) + ")")
    return "(" + " AND ".join(parts) + ")"


def tier_expression(plan: SearchPlan, tier: Tier) -> str:
    expr = f"({match_expression(plan)})"
    if tier.require is not None:
        expr = f"({expr} AND {cond_expression(tier.require)})"
    for cond in tier.exclude:
        expr = f"({expr} NOT {cond_expression(cond)})"
    return expr


async def tier_ids(conn: AsyncConnection, plan: SearchPlan, tier: Tier, limit: int) -> list[int]:
    """Up to `limit` ids of the tier's matches, newest first."""
    params = plan.params() | {"match": tier_expression(plan, tier), "limit": limit}
    return list((await conn.execute(text(_TIER_IDS), params)).scalars())


async def count(conn: AsyncConnection, plan: SearchPlan) -> int | None:
    """The number of matches, when below COUNT_LIMIT."""
    params = plan.params() | {"match": match_expression(plan), "count_limit": COUNT_LIMIT}
    total = int((await conn.execute(text(_COUNT), params)).scalar_one())
    return None if total >= COUNT_LIMIT else total


async def hits(conn: AsyncConnection, ids: Sequence[int]) -> list[Row[Any]]:
    """Hit rows (HIT_COLUMNS) of documents, in the order given."""
    if not ids:
        return []
    stmt = text(_HITS).columns(**HIT_TYPES)
    return list((await conn.execute(stmt, {"ids": json.dumps(list(ids))})).all())


async def texts(conn: AsyncConnection, ids: Sequence[int]) -> list[Row[Any]]:
    """What storage.search.score reads of documents (SCORE_COLUMNS), in the order given."""
    if not ids:
        return []
    stmt = text(_TEXTS).columns(**SCORE_TYPES)
    return list((await conn.execute(stmt, {"ids": json.dumps(list(ids))})).all())


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
