"""Keeping the search index in step with the archive: `index_issue`, `rebuild_index`.

`index_issue(session, issue_id)` has the `on_saved` hook signature of
`storage.issues.save_issue`, so an issue's documents are replaced in the same
transaction that rewrites its rows: no stale or duplicate hits after a re-ingest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EntryRow, EntryTopicRow, IssueRow, SectionRow
from storage.search import pg, sqlite
from storage.search.models import SearchDocRow, doc_id
from storage.search.plan import INDEX_FORMAT, EntryFields, IndexDoc, entry_doc, issue_doc

REBUILD_BATCH = 200  # issues loaded per round trip by rebuild_index


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def index_issue(session: AsyncSession, issue_id: int) -> None:
    """Replace the search documents of one issue (none if the issue no longer exists)."""
    await session.execute(delete(SearchDocRow).where(SearchDocRow.issue_id == issue_id))
    await _write(session, await _build_docs(session, [issue_id]))


async def rebuild_index(session: AsyncSession) -> int:
    """Re-index every issue of every series; returns the number of documents.

    Ends by compacting the index (a bulk load leaves SQLite's index in dozens of
    segments, which halves query speed at 100k entries). Run it in its own transaction.
    """
    if is_postgres(session):
        await pg.clear_all(session)
    else:
        await sqlite.clear_all(session)  # first, so the delete trigger finds nothing
        await session.execute(delete(SearchDocRow))
    issue_ids = list(await session.scalars(select(IssueRow.id).order_by(IssueRow.id)))
    written = 0
    for start in range(0, len(issue_ids), REBUILD_BATCH):
        batch = issue_ids[start : start + REBUILD_BATCH]
        docs = await _build_docs(session, batch)
        await _write(session, docs)
        written += len(docs)
    await _compact(session)
    return written


async def optimize_index(session: AsyncSession) -> None:
    """Compact the index for faster queries; worth running now and then (e.g. nightly).

    Issue-by-issue indexing leaves SQLite's FTS5 index in ~20 segments at 100k
    entries, which roughly doubles query times until merged (9 s at that size).
    On PostgreSQL this refreshes the planner statistics. An index written by older
    code (`index_is_current`) is rebuilt instead, so a deployed archive gets word-aware
    ranking at its next maintenance (~1 s for the real series, minutes at 100k entries).
    """
    if await index_is_current(session):
        await _compact(session)
    else:
        await rebuild_index(session)


async def index_is_current(session: AsyncSession) -> bool:
    """Whether the oldest and newest documents carry this code's INDEX_FORMAT.

    Both ends: issues ingested after an upgrade are indexed anew, the oldest rarely.
    """
    ends = (
        await session.execute(select(func.min(SearchDocRow.id), func.max(SearchDocRow.id)))
    ).one()
    if ends[0] is None:
        return True
    check = pg.has_tag if is_postgres(session) else sqlite.has_tag
    return all([await check(session, doc, INDEX_FORMAT) for doc in set(ends)])


async def _compact(session: AsyncSession) -> None:
    if is_postgres(session):
        await pg.analyze(session)
    else:
        await sqlite.optimize(session)


async def _write(session: AsyncSession, docs: Sequence[IndexDoc]) -> None:
    if not docs:
        return
    if is_postgres(session):
        await pg.write_docs(session, docs)
        return
    rows = [{"id": d.id, "issue_id": d.issue_id, "entry_id": d.entry_id} for d in docs]
    await session.execute(insert(SearchDocRow), rows)
    await sqlite.write_docs(session, docs)


async def _build_docs(session: AsyncSession, issue_ids: Sequence[int]) -> list[IndexDoc]:
    issues = (
        await session.execute(
            select(
                IssueRow.id,
                IssueRow.series_id,
                IssueRow.key,
                IssueRow.number,
                IssueRow.title,
                IssueRow.subtitle,
                IssueRow.intro,
                IssueRow.quick_news,
            ).where(IssueRow.id.in_(issue_ids))
        )
    ).all()
    sections = await _sections(session, issue_ids)
    entries = await _entries(session, issue_ids)
    topics = await _topics(session, issue_ids)
    docs: list[IndexDoc] = []
    for issue in issues:
        # a numbered series is ordered by number; its dates (if any) may not be unique
        position = issue.key if issue.number is None else issue.number
        docs.append(
            issue_doc(
                doc_id(issue.series_id, position),
                issue.id,
                issue.title,
                issue.subtitle,
                issue.intro,
                issue.quick_news,
            )
        )
        for s_index, section in enumerate(sections[issue.id]):
            for e_index, entry in enumerate(entries[section.id]):
                fields = EntryFields(
                    title=entry.title,
                    source=entry.source,
                    summary=entry.summary,
                    arxiv_id=entry.arxiv_id,
                    section_key=section.key,
                    section_heading=section.heading,
                    topics=topics[entry.id],
                )
                key = doc_id(issue.series_id, position, s_index, e_index)
                docs.append(entry_doc(key, issue.id, entry.id, fields))
    return docs


async def _sections(session: AsyncSession, issue_ids: Sequence[int]) -> dict[int, list[Any]]:
    rows = await session.execute(
        select(SectionRow.id, SectionRow.issue_id, SectionRow.key, SectionRow.heading)
        .where(SectionRow.issue_id.in_(issue_ids))
        .order_by(SectionRow.issue_id, SectionRow.position, SectionRow.id)
    )
    found: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        found[row.issue_id].append(row)
    return found


async def _entries(session: AsyncSession, issue_ids: Sequence[int]) -> dict[int, list[Any]]:
    rows = await session.execute(
        select(
            EntryRow.id,
            EntryRow.section_id,
            EntryRow.title,
            EntryRow.source,
            EntryRow.summary,
            EntryRow.arxiv_id,
        )
        .where(EntryRow.issue_id.in_(issue_ids))
        .order_by(EntryRow.section_id, EntryRow.position, EntryRow.id)
    )
    found: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        found[row.section_id].append(row)
    return found


async def _topics(session: AsyncSession, issue_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = await session.execute(
        select(EntryTopicRow.entry_id, EntryTopicRow.topic)
        .join(EntryRow, EntryRow.id == EntryTopicRow.entry_id)
        .where(EntryRow.issue_id.in_(issue_ids))
        .order_by(EntryTopicRow.entry_id, EntryTopicRow.position)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for entry_id, topic in rows:
        found[entry_id].append(topic)
    return found
