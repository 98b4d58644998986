"""PostgreSQL side of the search index: tsvectors built in Python, GIN.

The tsvector and tsquery texts are written here token by token (no text search
parser or configuration is involved), so PostgreSQL matches exactly what SQLite's
FTS5 matches. Column weights: title A, source B, section/topics C, summary D.
Title tokens are also written as `h_` lexemes: the rank tiers' title test
(storage.search.plan.rank_tiers) is then a GIN lookup, where a weight-restricted
query (`'量化':A`) would read and detoast every candidate's tsvector.
"""

from __future__ import annotations

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

COLUMN_LETTERS = ("A", "B", "D", "C", "C")  # per storage.search.plan.COLUMNS
TITLE_TAG = "h_"  # title tokens again, for the rank tiers' title test
PHRASE_COUNT_LIMIT = 200  # phrase totals up to this are exact (each match is detoasted)
CHEAP_COUNT = False  # a count visits every matching row
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 256


def _quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(doc: IndexDoc) -> str:
    """`'华为':1A '为':2A ...`; a gap between columns keeps phrases inside one column."""
    positions: dict[str, list[str]] = {}
    pos = 1
    title = tuple(TITLE_TAG + token for token in doc.columns[0])
    columns = [*zip(doc.columns, COLUMN_LETTERS, strict=True), (doc.tags, "D"), (title, "D")]
    for tokens, letter in columns:
        for token in tokens:
            found = positions.setdefault(token, [])
            if len(found) < MAX_POSITIONS_PER_LEXEME:
                found.append(f"{min(pos, MAX_POSITION)}{letter}")
            pos += 1
        pos += 1
    return " ".join(f"{_quote(tok)}:{','.join(ps)}" for tok, ps in positions.items())


def _phrase(phrase: Phrase, weight: str = "") -> str:
    parts = [
        _quote(tok) + (":*" if prefix else ":" if weight else "") + weight for tok, prefix in phrase
    ]
    return "(" + " <-> ".join(parts) + ")"


def match_query(plan: SearchPlan) -> str | None:
    parts = [_phrase(term) for term in plan.terms]
    parts += ["(" + " | ".join(_quote(tag) for tag in group) + ")" for group in plan.tag_groups]
    return " & ".join(parts) or None


_INSERT = text(
    "INSERT INTO search_docs (id, issue_id, entry_id, tsv) "
    "VALUES (:id, :issue_id, :entry_id, CAST(:tsv AS tsvector))"
)


async def write_docs(session: AsyncSession, docs: Sequence[IndexDoc]) -> None:
    if docs:
        rows = [
            {"id": d.id, "issue_id": d.issue_id, "entry_id": d.entry_id, "tsv": tsvector_literal(d)}
            for d in docs
        ]
        await session.execute(_INSERT, rows)


async def analyze(session: AsyncSession) -> None:
    await session.execute(text("ANALYZE search_docs"))


async def has_tag(session: AsyncSession, doc_id: int, tag: str) -> bool:
    found = await session.scalar(
        text("SELECT tsv @@ CAST(:tag AS tsquery) FROM search_docs WHERE id = :id"),
        {"id": doc_id, "tag": _quote(tag)},
    )
    return bool(found)


async def clear_all(session: AsyncSession) -> None:
    await session.execute(text("DELETE FROM search_docs"))


def bag_query(plan: SearchPlan) -> str | None:
    """The plan with phrases loosened to "all their tokens": GIN answers it exactly."""
    parts = ["(" + " & ".join(_phrase(((t, p),)) for t, p in term) + ")" for term in plan.terms]
    parts += ["(" + " | ".join(_quote(tag) for tag in group) + ")" for group in plan.tag_groups]
    return " & ".join(parts) or None


def _needs_positions(plan: SearchPlan) -> bool:
    return any(len(term) > 1 for term in plan.terms)


# `search_doc_ids` (migration 0002) reads the GIN index only, never a sequential scan:
# the planner underrates `@@` on large (TOASTed) tsvectors. Phrases are then checked
# newest first and only until enough are found; the rest are never detoasted.
_BAG = f"""
{BOUNDS_CTE}, bag AS MATERIALIZED (
    SELECT f.id FROM bounds, search_doc_ids(CAST(:bag AS tsquery), bounds.lo, bounds.hi) f
)"""
_VERIFIED = (
    _BAG
    + """, verified AS MATERIALIZED (
    SELECT b.id, d.tsv FROM (SELECT id FROM bag ORDER BY id DESC) b
    CROSS JOIN LATERAL (SELECT s.tsv FROM search_docs s WHERE s.id = b.id OFFSET 0) d
    {check}
    LIMIT :need
)"""
)
_CHECK = "WHERE d.tsv @@ CAST(:match AS tsquery)"


def _with_hits(ctes: str, totals: str) -> str:
    """One statement: the totals, and (LEFT JOIN, so even for an empty page) the hits."""
    return f"""
WITH {ctes}
SELECT t.*, h.* FROM (SELECT {totals}) t
LEFT JOIN LATERAL (SELECT {HIT_COLUMNS} FROM page p {HIT_JOINS}) h ON true
ORDER BY h.ord
"""


_COUNTS = "(SELECT count(*) FROM bag) AS bag_total, (SELECT count(*) FROM verified) AS checked"
_NEWEST = _with_hits(
    _VERIFIED
    + """, page AS (
    SELECT id, -id AS ord FROM verified ORDER BY id DESC LIMIT :limit OFFSET :offset
)""",
    _COUNTS,
)
_RANGE = _with_hits(
    f"""{BOUNDS_CTE}, page AS (
    SELECT id, -id AS ord FROM search_docs WHERE id BETWEEN {LO} AND {HI}
    ORDER BY id DESC LIMIT :limit OFFSET :offset
)""",
    f"(SELECT count(*) FROM search_docs WHERE id BETWEEN {LO} AND {HI}) AS bag_total, 0 AS checked",
)


def _total(plan: SearchPlan, bag: int, checked: int, need: int) -> int | None:
    """Exact when known without checking every phrase match, else None."""
    if not _needs_positions(plan):
        return bag
    return checked if checked < need else None


async def _run(
    conn: AsyncConnection, sql: str, params: dict[str, object]
) -> tuple[list[Row[Any]], int, int]:
    rows = (await conn.execute(text(sql).columns(**HIT_TYPES), params)).all()
    return [r for r in rows if r.id is not None], int(rows[0].bag_total), int(rows[0].checked)


def cond_query(cond: Cond) -> str:
    parts = [_quote(tag) for tag in cond.tags]
    parts += [
        _quote(TITLE_TAG + tok) + (":*" if prefix else "")
        for term in cond.title
        for tok, prefix in term
    ]
    return "(" + " & ".join(parts) + ")"


def tier_bag_query(plan: SearchPlan, tier: Tier) -> str:
    parts = [f"({bag_query(plan)})"]
    if tier.require is not None:
        parts.append(cond_query(tier.require))
    parts += ["!" + cond_query(cond) for cond in tier.exclude]
    return " & ".join(parts)


# Without phrases the GIN lookup is exact: no row is read beyond the index and the heap.
_TIER_IDS = {
    False: f"WITH {_BAG} SELECT id FROM bag ORDER BY id DESC LIMIT :need",
    True: f"WITH {_VERIFIED.format(check=_CHECK)} SELECT id FROM verified ORDER BY id DESC",
}
_COUNT = {
    False: f"WITH {_BAG} SELECT count(*) AS bag_total, 0 AS checked FROM bag",
    True: f"""WITH {_VERIFIED.format(check=_CHECK)}
SELECT (SELECT count(*) FROM bag) AS bag_total, count(*) AS checked FROM verified""",
}
_HITS = f"""
SELECT {HIT_COLUMNS}
FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS p(id, ord) {HIT_JOINS}
ORDER BY p.ord
"""
_TEXTS = f"""
SELECT {SCORE_COLUMNS}
FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS p(id, ord) {HIT_JOINS}
ORDER BY p.ord
"""


async def tier_ids(conn: AsyncConnection, plan: SearchPlan, tier: Tier, limit: int) -> list[int]:
    """Up to `limit` ids of the tier's matches, newest first: one GIN lookup, phrases checked."""
    sql = _TIER_IDS[_needs_positions(plan)]
    params = plan.params() | {
        "bag": tier_bag_query(plan, tier),
        "match": match_query(plan),
        "need": limit,
    }
    return list((await conn.execute(text(sql), params)).scalars())


async def count(conn: AsyncConnection, plan: SearchPlan) -> int | None:
    """The number of matches: exact without phrases, else up to PHRASE_COUNT_LIMIT."""
    need = PHRASE_COUNT_LIMIT + 1
    sql = _COUNT[_needs_positions(plan)]
    params = plan.params() | {"bag": bag_query(plan), "match": match_query(plan), "need": need}
    row = (await conn.execute(text(sql), params)).one()
    return _total(plan, int(row.bag_total), int(row.checked), need)


async def hits(conn: AsyncConnection, ids: Sequence[int]) -> list[Row[Any]]:
    """Hit rows (HIT_COLUMNS) of documents, in the order given."""
    if not ids:
        return []
    stmt = text(_HITS).columns(**HIT_TYPES)
    return list((await conn.execute(stmt, {"ids": list(ids)})).all())


async def texts(conn: AsyncConnection, ids: Sequence[int]) -> list[Row[Any]]:
    """What storage.search.score reads of documents (SCORE_COLUMNS), in the order given."""
    if not ids:
        return []
    stmt = text(_TEXTS).columns(**SCORE_TYPES)
    return list((await conn.execute(stmt, {"ids": list(ids)})).all())


async def newest(conn: AsyncConnection, plan: SearchPlan, offset: int, limit: int) -> HitPage:
    """A page of the matches, newest first; the total when cheaply known."""
    params = plan.params() | {"limit": limit, "offset": offset}
    bag = bag_query(plan)
    if bag is None:
        rows, total, _ = await _run(conn, _RANGE, params)
        return HitPage(rows, total, offset + len(rows) < total)
    need = offset + limit + 1
    sql = _NEWEST.format(check=_CHECK if _needs_positions(plan) else "")
    params |= {"bag": bag, "match": match_query(plan), "need": need}
    rows, bag_total, checked = await _run(conn, sql, params)
    return HitPage(rows, _total(plan, bag_total, checked, need), checked > offset + limit)
