"""Per-subscriber deliveries of an issue, with shared renderings and send checkpoints.

Lifecycle: `create_deliveries` (pending) → `claim_batch` (sending) → `record_progress`
(sending with a checkpoint, or sent / failed / dropped; pending again to retry).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage._dialect import insert
from storage.models import DELIVERY_STATUSES, DeliveryRow, RenderingRow, SubscriberRow

INSERT_CHUNK = 500  # rows per INSERT statement, well below SQLite's bound-parameter limit


class AlreadyPublished(Exception):
    """Some subscribers already have a delivery of this issue."""

    def __init__(self, issue_id: int, existing: int) -> None:
        super().__init__(f"issue {issue_id} already has deliveries for {existing} subscriber(s)")
        self.issue_id = issue_id
        self.existing = existing


class DeliveryItem(NamedTuple):
    subscriber_id: int
    rendering_key: str  # e.g. "sections=news,papers;format=full;lang=zh"
    platform: str
    messages: Sequence[Mapping[str, Any]]  # [{text, format, size, unit, ...}]


@dataclass(frozen=True, slots=True)
class CreateResult:
    created: int
    skipped: int  # subscribers that already had a delivery of the issue
    renderings_added: int


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    issue_id: int
    subscriber_id: int
    platform: str
    chat_id: str
    rendering_id: int
    messages_sent: int  # resume sending from this message index
    messages_total: int
    attempts: int  # including this one


class Progress(NamedTuple):
    delivery_id: int
    messages_sent: int
    status: str  # sending | sent | failed | dropped | pending (retry later)
    last_error: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def create_deliveries(
    session: AsyncSession,
    issue_id: int,
    items: Iterable[DeliveryItem | tuple[int, str, str, Sequence[Mapping[str, Any]]]],
    now: datetime | None = None,
    *,
    skip_existing: bool = True,
) -> CreateResult:
    """Store each distinct rendering once and one pending delivery per subscriber.

    The unique (issue, subscriber) constraint makes a second delivery of an issue
    to the same chat impossible: such items are skipped, or with
    `skip_existing=False` raise `AlreadyPublished` (roll the transaction back then).
    Messages of one (platform, rendering_key) are stored once; the first wins.
    """
    now = now or _utcnow()
    batch = [DeliveryItem(*item) for item in items]
    renderings_added, rendering_ids = await _store_renderings(session, issue_id, batch, now)
    rows = [
        {
            "issue_id": issue_id,
            "subscriber_id": item.subscriber_id,
            "rendering_id": rendering_ids[item.platform, item.rendering_key],
            "platform": item.platform,
            "status": "pending",
            "messages_total": len(item.messages),
            "messages_sent": 0,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for item in batch
    ]
    created = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        inserted = await session.scalars(
            insert(session, DeliveryRow)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=["issue_id", "subscriber_id"])
            .returning(DeliveryRow.id)
        )
        created += len(inserted.all())
    skipped = len(rows) - created
    if skipped and not skip_existing:
        raise AlreadyPublished(issue_id, skipped)
    return CreateResult(created=created, skipped=skipped, renderings_added=renderings_added)


async def _store_renderings(
    session: AsyncSession, issue_id: int, items: list[DeliveryItem], now: datetime
) -> tuple[int, dict[tuple[str, str], int]]:
    distinct: dict[tuple[str, str], Sequence[Mapping[str, Any]]] = {}
    for item in items:
        distinct.setdefault((item.platform, item.rendering_key), item.messages)
    added = 0
    if distinct:
        rows = [
            {
                "issue_id": issue_id,
                "platform": platform,
                "cache_key": key,
                "messages": [dict(m) for m in messages],
                "created_at": now,
            }
            for (platform, key), messages in distinct.items()
        ]
        inserted = await session.scalars(
            insert(session, RenderingRow)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["issue_id", "platform", "cache_key"])
            .returning(RenderingRow.id)
        )
        added = len(inserted.all())
    result = await session.execute(
        select(RenderingRow.platform, RenderingRow.cache_key, RenderingRow.id).where(
            RenderingRow.issue_id == issue_id
        )
    )
    return added, {(platform, key): id_ for platform, key, id_ in result}


async def load_renderings(
    session: AsyncSession, rendering_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """Messages of the given renderings, by id (cache these: many deliveries share one)."""
    ids = sorted(set(rendering_ids))
    if not ids:
        return {}
    result = await session.execute(
        select(RenderingRow.id, RenderingRow.messages).where(RenderingRow.id.in_(ids))
    )
    return {id_: messages for id_, messages in result}


async def claim_batch(
    session: AsyncSession,
    limit: int,
    now: datetime | None = None,
    *,
    platform: str | None = None,
) -> list[ClaimedDelivery]:
    """Move up to `limit` pending deliveries (lowest ids first) to sending and return them.

    One UPDATE … WHERE status = 'pending' does the claim, so concurrent workers never
    get the same row (on PostgreSQL, locked rows are skipped rather than waited for).
    """
    pending = (
        select(DeliveryRow.id)
        .where(DeliveryRow.status == "pending")
        .order_by(DeliveryRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if platform is not None:
        pending = pending.where(DeliveryRow.platform == platform)
    claimed = await session.scalars(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(pending.scalar_subquery()), DeliveryRow.status == "pending")
        .values(status="sending", attempts=DeliveryRow.attempts + 1, updated_at=now or _utcnow())
        .returning(DeliveryRow.id),
        execution_options={"synchronize_session": False},
    )
    ids = sorted(claimed.all())
    if not ids:
        return []
    result = await session.execute(
        select(
            DeliveryRow.id,
            DeliveryRow.issue_id,
            DeliveryRow.subscriber_id,
            DeliveryRow.platform,
            SubscriberRow.chat_id,
            DeliveryRow.rendering_id,
            DeliveryRow.messages_sent,
            DeliveryRow.messages_total,
            DeliveryRow.attempts,
        )
        .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
        .where(DeliveryRow.id.in_(ids))
        .order_by(DeliveryRow.id)
    )
    return [ClaimedDelivery(*row) for row in result]


async def record_progress(
    session: AsyncSession, updates: Iterable[Progress], now: datetime | None = None
) -> None:
    """Checkpoint many deliveries in one batched UPDATE (by primary key)."""
    now = now or _utcnow()
    rows = []
    for progress in updates:
        if progress.status not in DELIVERY_STATUSES:
            raise ValueError(f"unknown delivery status {progress.status!r}")
        rows.append(
            {
                "id": progress.delivery_id,
                "messages_sent": progress.messages_sent,
                "status": progress.status,
                "last_error": progress.last_error,
                "updated_at": now,
                "sent_at": now if progress.status == "sent" else None,
            }
        )
    if rows:
        await session.execute(update(DeliveryRow), rows)


async def requeue_stale(session: AsyncSession, older_than: datetime) -> int:
    """Return deliveries stuck in sending (e.g. a crashed worker) to pending."""
    result = await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.status == "sending", DeliveryRow.updated_at < older_than)
        .values(status="pending"),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))


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
