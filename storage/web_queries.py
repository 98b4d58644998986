"""Read-only queries of the public web archive and its operator page (bot/web/).

Listings read only the columns a page shows (no full issue load); an issue page uses
`storage.issues.get_issue`. `archive_version` is the cheap validator of the feeds'
conditional GET: it changes whenever an issue of the series is saved, removed, pushed or
archived.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from briefings.model import Link
from storage.issues import newest_first
from storage.models import (
    DeliveryRow,
    EntryRow,
    EntryTopicRow,
    IssueRow,
    SectionRow,
    SeriesRow,
    SubscriberRow,
)


@dataclass(frozen=True, slots=True)
class IssueLine:
    """One issue in a list: enough for a link and a date."""

    key: date | None  # None: an undated issue of a numbered series
    title: str
    entries: int
    updated_at: datetime
    number: int | None = None


@dataclass(frozen=True, slots=True)
class EntryLine:
    """An entry with the issue and section it appeared in (section and topic pages)."""

    issue_key: date | None  # None: an undated issue of a numbered series (then a number)
    issue_title: str
    issue_updated_at: datetime
    section_key: str
    section_heading: str
    position: int
    title: str
    source: str | None
    url: str | None
    summary: str
    links: tuple[Link, ...]
    issue_number: int | None = None


@dataclass(frozen=True, slots=True)
class ArchiveVersion:
    issues: int
    updated_at: datetime | None  # the newest save of any issue of the series
    published_at: datetime | None = None  # the newest push or archiving: feeds show it
    published: int = 0  # issues pushed or archived (an older push moves no maximum)

    @property
    def changed_at(self) -> datetime | None:
        times = [t for t in (self.updated_at, self.published_at) if t is not None]
        return max(times, default=None)


async def series_title(session: AsyncSession, series_slug: str) -> str | None:
    return await session.scalar(select(SeriesRow.title).where(SeriesRow.slug == series_slug))


async def archive_version(session: AsyncSession, series_slug: str) -> ArchiveVersion:
    row = (
        await session.execute(
            select(
                func.count(IssueRow.id),
                func.max(IssueRow.updated_at),
                func.max(IssueRow.published_at),
                func.count(IssueRow.published_at),
            )
            .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
            .where(SeriesRow.slug == series_slug)
        )
    ).one()
    # max() keeps the column type: aware UTC datetimes
    return ArchiveVersion(int(row[0]), row[1], row[2], int(row[3]))


async def issue_lines(session: AsyncSession, series_slug: str) -> list[IssueLine]:
    """Every issue of the series, newest first, with its entry count."""
    counts = (
        select(EntryRow.issue_id, func.count(EntryRow.id).label("n"))
        .group_by(EntryRow.issue_id)
        .subquery()
    )
    result = await session.execute(
        select(
            IssueRow.key,
            IssueRow.title,
            func.coalesce(counts.c.n, 0),
            IssueRow.updated_at,
            IssueRow.number,
        )
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .outerjoin(counts, counts.c.issue_id == IssueRow.id)
        .where(SeriesRow.slug == series_slug)
        .order_by(*newest_first())
    )
    return [
        IssueLine(key, title, int(n), updated, number) for key, title, n, updated, number in result
    ]


async def neighbours(
    session: AsyncSession, series_slug: str, key: date
) -> tuple[date | None, date | None]:
    """The keys of the issues before and after `key` in the series."""
    base = (
        select(IssueRow.key)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug)
    )
    before = await session.scalar(
        base.where(IssueRow.key < key).order_by(IssueRow.key.desc()).limit(1)
    )
    after = await session.scalar(base.where(IssueRow.key > key).order_by(IssueRow.key).limit(1))
    return before, after


Neighbour = tuple[date | None, int]  # (date, number) of a numbered series' issue


async def numbered_neighbours(
    session: AsyncSession, series_slug: str, number: int
) -> tuple[Neighbour | None, Neighbour | None]:
    """The issues before and after issue `number` of a numbered series."""
    base = (
        select(IssueRow.key, IssueRow.number)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug)
    )
    older = base.where(IssueRow.number < number).order_by(IssueRow.number.desc()).limit(1)
    newer = base.where(IssueRow.number > number).order_by(IssueRow.number).limit(1)
    before = (await session.execute(older)).first()
    after = (await session.execute(newer)).first()
    return (
        None if before is None else (before[0], before[1]),
        None if after is None else (after[0], after[1]),
    )


def _entry_query(series_slug: str) -> Select[tuple[EntryRow, SectionRow, IssueRow]]:
    return (
        select(EntryRow, SectionRow, IssueRow)
        .join(SectionRow, SectionRow.id == EntryRow.section_id)
        .join(IssueRow, IssueRow.id == EntryRow.issue_id)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(SeriesRow.slug == series_slug)
        .order_by(*newest_first(), SectionRow.position, EntryRow.position, EntryRow.id)
    )


async def section_entries(
    session: AsyncSession, series_slug: str, section_key: str, *, limit: int, offset: int = 0
) -> list[EntryLine]:
    """Entries filed under a section, newest issue first."""
    query = _entry_query(series_slug).where(SectionRow.key == section_key)
    return await _entries(session, query.limit(limit).offset(offset))


async def topic_entries(
    session: AsyncSession, series_slug: str, topic: str, *, limit: int, offset: int = 0
) -> list[EntryLine]:
    """Entries tagged with a topic, newest issue first."""
    tagged = select(EntryTopicRow.entry_id).where(EntryTopicRow.topic == topic)
    query = _entry_query(series_slug).where(EntryRow.id.in_(tagged))
    return await _entries(session, query.limit(limit).offset(offset))


async def _entries(
    session: AsyncSession, query: Select[tuple[EntryRow, SectionRow, IssueRow]]
) -> list[EntryLine]:
    rows = await session.execute(query)
    return [
        EntryLine(
            issue_key=issue.key,
            issue_number=issue.number,
            issue_title=issue.title,
            issue_updated_at=issue.updated_at,
            section_key=section.key,
            section_heading=section.heading,
            position=entry.position,
            title=entry.title,
            source=entry.source,
            url=entry.url,
            summary=entry.summary,
            links=tuple(Link(label=link["label"], url=link["url"]) for link in entry.links),
        )
        for entry, section, issue in rows
    ]


# --- the operator page -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriberSpan:
    platform: str
    created_at: datetime
    deactivated_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssueDeliveryCounts:
    key: date
    sent: int
    failed: int
    pending: int  # pending or sending


async def subscriber_spans(session: AsyncSession) -> list[SubscriberSpan]:
    """When each subscriber came and (if it did) went: the subscribers-over-time chart."""
    rows = await session.execute(
        select(
            SubscriberRow.platform, SubscriberRow.created_at, SubscriberRow.deactivated_at
        ).order_by(SubscriberRow.created_at)
    )
    return [SubscriberSpan(p, c, d) for p, c, d in rows]


async def deliveries_per_issue(session: AsyncSession, limit: int = 20) -> list[IssueDeliveryCounts]:
    """Sent, failed and still pending deliveries of the newest `limit` issues that have any.

    An undated issue (a numbered series) counts under the day it was published."""
    newest = (
        select(DeliveryRow.issue_id)
        .join(IssueRow, IssueRow.id == DeliveryRow.issue_id)
        .group_by(DeliveryRow.issue_id, IssueRow.key, IssueRow.published_at)
        .order_by(IssueRow.key.desc().nulls_last(), IssueRow.published_at.desc())
        .limit(limit)
        .subquery()
    )
    rows = await session.execute(
        select(IssueRow.key, IssueRow.published_at, DeliveryRow.status, func.count(DeliveryRow.id))
        .join(IssueRow, IssueRow.id == DeliveryRow.issue_id)
        .where(DeliveryRow.issue_id.in_(select(newest.c.issue_id)))
        .group_by(IssueRow.key, IssueRow.published_at, DeliveryRow.status)
    )
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, published, status, n in rows:
        day = key if key is not None else published.date() if published else date.min
        counts[day][status] += int(n)
    return [
        IssueDeliveryCounts(key, c["sent"], c["failed"], c["pending"] + c["sending"])
        for key, c in sorted(counts.items())
    ]


async def last_publication_sends(session: AsyncSession) -> tuple[date | None, list[datetime]]:
    """The newest issue with deliveries and when each of its sent deliveries finished."""
    found = await session.execute(
        select(IssueRow.id, IssueRow.key)
        .join(DeliveryRow, DeliveryRow.issue_id == IssueRow.id)
        .order_by(IssueRow.key.desc().nulls_last())
        .limit(1)
    )
    row = found.first()
    if row is None:
        return None, []
    times = await session.scalars(
        select(DeliveryRow.sent_at)
        .where(DeliveryRow.issue_id == row[0], DeliveryRow.sent_at.is_not(None))
        .order_by(DeliveryRow.sent_at)
    )
    return row[1], [t for t in times if t is not None]
