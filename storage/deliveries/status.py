"""Read-only reports on deliveries: counts and progress per issue and platform (`/stats`,
`briefbot status`). Nothing here writes; the send path is storage.deliveries.writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.issues import newest_first
from storage.models import DELIVERY_STATUSES, DeliveryRow, IssueRow, SeriesRow


@dataclass(frozen=True, slots=True)
class PlatformProgress:
    """One platform's deliveries of an issue, for status displays."""

    platform: str
    counts: dict[str, int]  # every status, 0 when none
    messages_sent: int  # over all deliveries, whatever their status
    messages_total: int
    messages_left: int  # still to send by pending / sending deliveries
    recent_messages: int  # messages of deliveries completed since `since`
    last_sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssueDeliveries:
    issue_id: int
    key: date | None  # None: an undated issue of a numbered series (`number` names it)
    unfinished: int  # pending + sending
    number: int | None = None


async def status_counts(session: AsyncSession, issue_id: int) -> dict[str, dict[str, int]]:
    """{platform: {status: count}} for an issue, every status present (0 when none)."""
    result = await session.execute(
        select(DeliveryRow.platform, DeliveryRow.status, func.count())
        .where(DeliveryRow.issue_id == issue_id)
        .group_by(DeliveryRow.platform, DeliveryRow.status)
    )
    counts: dict[str, dict[str, int]] = {}
    for platform, status, count in result:
        counts.setdefault(platform, dict.fromkeys(DELIVERY_STATUSES, 0))[status] = count
    return counts


async def delivery_progress(
    session: AsyncSession, issue_id: int, since: datetime
) -> list[PlatformProgress]:
    """Per platform of the issue: status counts, message totals and recent throughput."""
    unfinished = DeliveryRow.status.in_(("pending", "sending"))
    recent = (DeliveryRow.status == "sent") & (DeliveryRow.sent_at >= since)
    result = await session.execute(
        select(
            DeliveryRow.platform,
            DeliveryRow.status,
            func.count(),
            func.coalesce(func.sum(DeliveryRow.messages_sent), 0),
            func.coalesce(func.sum(DeliveryRow.messages_total), 0),
            func.coalesce(
                func.sum(
                    case(
                        (unfinished, DeliveryRow.messages_total - DeliveryRow.messages_sent),
                        else_=0,
                    )
                ),
                0,
            ),
            func.coalesce(func.sum(case((recent, DeliveryRow.messages_total), else_=0)), 0),
            func.max(DeliveryRow.sent_at),
        )
        .where(DeliveryRow.issue_id == issue_id)
        .group_by(DeliveryRow.platform, DeliveryRow.status)
    )
    merged: dict[str, dict[str, Any]] = {}
    for platform, status, count, sent, total, left, recent_total, last in result:
        entry = merged.setdefault(
            platform,
            {"counts": dict.fromkeys(DELIVERY_STATUSES, 0), "sums": [0, 0, 0, 0], "last": None},
        )
        entry["counts"][status] = count
        for i, value in enumerate((sent, total, left, recent_total)):
            entry["sums"][i] += int(value)
        if last is not None and (entry["last"] is None or last > entry["last"]):
            entry["last"] = last
    return [
        PlatformProgress(platform, e["counts"], *e["sums"], _aware(e["last"]))
        for platform, e in sorted(merged.items())
    ]


def _aware(value: datetime | None) -> datetime | None:
    # max() over a column loses the UTCDateTime type decorator on SQLite.
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


async def issues_with_deliveries(
    session: AsyncSession, series_slug: str | None = None, limit: int = 20
) -> list[IssueDeliveries]:
    """Issues that have deliveries, newest first (by number in a numbered series), with
    their unfinished count."""
    unfinished = case((DeliveryRow.status.in_(("pending", "sending")), 1), else_=0)
    query = (
        select(IssueRow.id, IssueRow.key, IssueRow.number, func.sum(unfinished))
        .join(DeliveryRow, DeliveryRow.issue_id == IssueRow.id)
        .group_by(IssueRow.id, IssueRow.key, IssueRow.number)
        .order_by(*newest_first())
        .limit(limit)
    )
    if series_slug is not None:
        query = query.join(SeriesRow, SeriesRow.id == IssueRow.series_id).where(
            SeriesRow.slug == series_slug
        )
    result = await session.execute(query)
    return [
        IssueDeliveries(id_, key, int(count or 0), number) for id_, key, number, count in result
    ]
