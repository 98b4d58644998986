"""PostgreSQL side of the search index: tsvectors built in Python, GIN, ts_rank.

The tsvector and tsquery texts are written here token by token (no text search
parser or configuration is involved), so PostgreSQL matches exactly what SQLite's
FTS5 matches. Column weights: title A, source B, section/topics C, summary D.
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
    HitPage,
    IndexDoc,
    Phrase,
    SearchPlan,
)

COLUMN_LETTERS = ("A", "B", "D", "C", "C")  # per storage.search.plan.COLUMNS
RANK_WEIGHTS = "{0.1, 0.05, 0.3, 1.0}"  # ts_rank order: D, C, B, A
RANK_NORMALIZATION = 1  # divide by 1 + log(document length), like bm25's length damping
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 256


def _quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(doc: IndexDoc) -> str:
    """`'华为':1A '为':2A ...`; a gap between columns keeps phrases inside one column."""
    positions: dict[str, list[str]] = {}
    pos = 1
    columns = [*zip(doc.columns, COLUMN_LETTERS, strict=True), (doc.tags, "D")]
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


def words_query(plan: SearchPlan) -> str | None:
    return " & ".join(_phrase(term) for term in plan.terms) or None


def title_query(plan: SearchPlan) -> str:
    """All words inside the title (weight A): such hits rank above the rest."""
    return " & ".join(_phrase(term, "A") for term in plan.terms)


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
_VERIFIED = f"""
{BOUNDS_CTE}, bag AS MATERIALIZED (
    SELECT f.id FROM bounds, search_doc_ids(CAST(:bag AS tsquery), bounds.lo, bounds.hi) f
), verified AS MATERIALIZED (
    SELECT b.id, d.tsv FROM (SELECT id FROM bag ORDER BY id DESC) b
    CROSS JOIN LATERAL (SELECT s.tsv FROM search_docs s WHERE s.id = b.id OFFSET 0) d
    {{check}}
    LIMIT :need
)"""
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
# All words in the title first, then ts_rank, then newer first.
_RANKED = _with_hits(
    _VERIFIED
    + """, ranked AS (
    SELECT id, ts_rank('{weights}', tsv, CAST(:words AS tsquery), {norm}) AS score,
        tsv @@ CAST(:title AS tsquery) AS in_title
    FROM (SELECT id, tsv FROM verified ORDER BY id DESC LIMIT :candidates) newest
), page AS (
    SELECT id, row_number() OVER (ORDER BY in_title DESC, score DESC, id DESC) AS ord
    FROM ranked ORDER BY ord LIMIT :limit OFFSET :offset
)""",
    _COUNTS,
)
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


async def ranked(
    conn: AsyncConnection, plan: SearchPlan, candidates: int, offset: int, limit: int
) -> HitPage:
    """A page of the newest `candidates` matches, ranked; the total when cheaply known."""
    need = candidates + 1  # one more tells whether matches go on beyond the candidates
    sql = _RANKED.format(
        check=_CHECK if _needs_positions(plan) else "",
        weights=RANK_WEIGHTS,
        norm=RANK_NORMALIZATION,
    )
    params = plan.params() | {
        "bag": bag_query(plan),
        "match": match_query(plan),
        "words": words_query(plan),
        "title": title_query(plan),
        "need": need,
        "candidates": candidates,
        "limit": limit,
        "offset": offset,
    }
    rows, bag, checked = await _run(conn, sql, params)
    total = _total(plan, bag, checked, need)
    return HitPage(rows, total, offset + len(rows) < (total if total is not None else checked))


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
