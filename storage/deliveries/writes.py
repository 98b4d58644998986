"""The send path of deliveries: create the outbox, claim, checkpoint, requeue, drop.

Lifecycle: `create_deliveries` (pending, renderings stored once) → `claim_for_sending`
(sending, `attempts` + 1) → `record_claimed_progress` (sending with a checkpoint, or
sent / failed / dropped; pending again to retry). `touch_claimed` keeps a live claim
fresh and `requeue_stale` returns abandoned ones. Reports are in storage.deliveries.status.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, Table, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage._dialect import dialect_name, insert
from storage.clock import utcnow
from storage.models import (
    DELIVERY_STATUSES,
    CorrectionRow,
    DeliveryRow,
    RenderingRow,
    SentMessageRow,
    SubscriberRow,
)

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
    # The platform's id of the message just sent (position messages_sent - 1), if it has one.
    message_id: str | None = None


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
    now = now or utcnow()
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


async def store_renderings(
    session: AsyncSession,
    issue_id: int,
    platform: str,
    renderings: Mapping[str, Sequence[Mapping[str, Any]]],
    now: datetime | None = None,
) -> int:
    """Store renderings no delivery points to (rendering key -> messages), each once like a
    delivery's: what a campaign sends to an audience (an Official Account tag's part).
    The number added (an existing key keeps its first messages)."""
    distinct = {(platform, key): messages for key, messages in renderings.items()}
    added, _ = await _insert_renderings(session, issue_id, distinct, now or utcnow())
    return added


async def renderings_by_prefix(
    session: AsyncSession, issue_id: int, platform: str, prefix: str
) -> list[list[dict[str, Any]]]:
    """Messages of the issue's renderings on `platform` whose key starts with `prefix`."""
    result = await session.scalars(
        select(RenderingRow.messages).where(
            RenderingRow.issue_id == issue_id,
            RenderingRow.platform == platform,
            RenderingRow.cache_key.startswith(prefix, autoescape=True),
        )
    )
    return [list(messages) for messages in result]


async def _store_renderings(
    session: AsyncSession, issue_id: int, items: list[DeliveryItem], now: datetime
) -> tuple[int, dict[tuple[str, str], int]]:
    distinct: dict[tuple[str, str], Sequence[Mapping[str, Any]]] = {}
    for item in items:
        distinct.setdefault((item.platform, item.rendering_key), item.messages)
    return await _insert_renderings(session, issue_id, distinct, now)


async def _insert_renderings(
    session: AsyncSession,
    issue_id: int,
    distinct: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]],
    now: datetime,
) -> tuple[int, dict[tuple[str, str], int]]:
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


def _pending_ids(limit: int) -> Select[tuple[int]]:
    return (
        select(DeliveryRow.id)
        .where(DeliveryRow.status == "pending")
        .order_by(DeliveryRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def claim_rows(
    session: AsyncSession,
    table: Any,
    pending: Select[tuple[int]],
    now: datetime,
    claimed_by: str | None,
) -> list[int]:
    """Ids of the outbox rows of `table` (deliveries, corrections) that `pending` selects,
    now `sending` under this claim (`attempts` + 1, the claim's fencing token)."""
    if dialect_name(session) == "postgresql":
        # Locked first, in a statement of its own: as a subquery of the UPDATE, PostgreSQL
        # may run it once per row, each run skipping the rows the UPDATE locked so far,
        # and the LIMIT would hold for no claim at all.
        ids = list(await session.scalars(pending))
        if not ids:
            return []
        chosen = table.id.in_(ids)
    else:  # SQLite runs it once; one statement keeps the claim a single write
        chosen = table.id.in_(pending.scalar_subquery())
    claimed = await session.scalars(
        update(table)
        .where(chosen, table.status == "pending")
        .values(
            status="sending",
            attempts=table.attempts + 1,
            updated_at=now,
            claimed_by=claimed_by,
        )
        .returning(table.id),
        execution_options={"synchronize_session": False},
    )
    return sorted(claimed.all())


async def _claim(
    session: AsyncSession, pending: Select[tuple[int]], now: datetime, claimed_by: str | None
) -> list[ClaimedDelivery]:
    ids = await claim_rows(session, DeliveryRow, pending, now, claimed_by)
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


async def requeue_stale(session: AsyncSession, older_than: datetime) -> int:
    """Return deliveries stuck in sending (e.g. a crashed worker) to pending.

    Only claims made without an instance id (callers without a claimant, rows of a version
    predating instance ids; one-shot drains are instances too): an instance's claims live
    as long as its heartbeat (storage.instances.requeue_orphaned), which is compared on
    the database's clock, so a caller's skewed clock cannot take a live instance's rows.
    """
    return await requeue_unowned(session, DeliveryRow, older_than)


async def requeue_unowned(session: AsyncSession, table: Any, older_than: datetime) -> int:
    """Rows of an outbox (`table`: deliveries or corrections) claimed without an instance
    and silent since `older_than`, back to pending (`requeue_stale`)."""
    result = await session.execute(
        update(table)
        .where(
            table.status == "sending",
            table.claimed_by.is_(None),
            table.updated_at < older_than,
        )
        .values(status="pending"),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))


# --- the delivery engine's checkpoint protocol ------------------------------------------
#
# A claim increments `attempts`, so (id, attempts) names one claim: checkpoints written
# under an older claim (a process presumed dead whose rows were re-claimed) change nothing.

PARAM_CHUNK = 500  # ids per IN (...) list
INACTIVE_REASON = "subscriber inactive"


class Checkpoint(NamedTuple):
    """Progress made under the claim that returned `attempts`; `kind` names the outbox
    ('delivery': deliveries, 'correction': corrections, which share the protocol)."""

    progress: Progress
    attempts: int
    kind: str = "delivery"


async def claim_for_sending(
    session: AsyncSession,
    limit: int,
    now: datetime | None = None,
    *,
    platforms: Collection[str] | None = None,
    exclude_issues: Collection[int] = (),
    claimed_by: str | None = None,
) -> list[ClaimedDelivery]:
    """Move up to `limit` pending deliveries (lowest ids first) to sending and return them.

    `claimed_by` is the claiming instance's id (storage.instances): its claims are then
    returned to pending as soon as its heartbeat lapses, not after `requeue_stale`'s wait.

    One UPDATE … WHERE status = 'pending' does the claim, so concurrent workers never
    get the same row (on PostgreSQL, locked rows are skipped rather than waited for).
    Only `platforms` (all when None) are claimed, and `exclude_issues` (paused) skipped.
    Claimed rows whose subscriber is no longer active are dropped at once (status
    'dropped', last_error INACTIVE_REASON) instead of being returned.
    """
    if platforms is not None and not platforms:
        return []
    now = now or utcnow()
    pending = _pending_ids(limit)
    if platforms is not None:
        pending = pending.where(DeliveryRow.platform.in_(sorted(platforms)))
    if exclude_issues:
        pending = pending.where(DeliveryRow.issue_id.not_in(sorted(exclude_issues)))
    claimed = await _claim(session, pending, now, claimed_by)
    if not claimed:
        return []
    inactive = set(
        await session.scalars(
            select(DeliveryRow.id)
            .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
            .where(DeliveryRow.id.in_([c.id for c in claimed]), SubscriberRow.active.is_(False))
        )
    )
    if inactive:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(sorted(inactive)))
            .values(status="dropped", last_error=INACTIVE_REASON, updated_at=now),
            execution_options={"synchronize_session": False},
        )
    return [c for c in claimed if c.id not in inactive]


def _deliveries_table() -> Table:
    return _table("delivery")


def _table(kind: str) -> Table:
    table = (CorrectionRow if kind == "correction" else DeliveryRow).__table__
    assert isinstance(table, Table)
    return table


async def record_claimed_progress(
    session: AsyncSession, checkpoints: Sequence[Checkpoint], now: datetime | None = None
) -> set[int]:
    """Write checkpoints in one executemany UPDATE, each only while its claim still holds.

    Returns the ids whose claim was lost (re-claimed by another process, or deleted);
    those rows are left untouched. A checkpoint's `message_id` is stored in
    `sent_messages` in the same transaction, only for claims that held. Deliveries only;
    `record_progress` takes corrections too.
    """
    lost = await record_progress(session, checkpoints, now)
    return {id_ for kind, id_ in lost if kind == "delivery"}


async def record_progress(
    session: AsyncSession, checkpoints: Sequence[Checkpoint], now: datetime | None = None
) -> set[tuple[str, int]]:
    """`record_claimed_progress` over both outboxes; lost claims as (kind, id)."""
    lost: set[tuple[str, int]] = set()
    now = now or utcnow()
    for kind in ("delivery", "correction"):
        mine = [c for c in checkpoints if c.kind == kind]
        if mine:
            lost.update((kind, id_) for id_ in await _record(session, _table(kind), mine, now))
    return lost


async def _record(
    session: AsyncSession, table: Table, checkpoints: Sequence[Checkpoint], now: datetime
) -> set[int]:
    rows = []
    for progress, attempts, _kind in checkpoints:
        if progress.status not in DELIVERY_STATUSES:
            raise ValueError(f"unknown delivery status {progress.status!r}")
        rows.append(
            {
                "b_id": progress.delivery_id,
                "b_attempts": attempts,
                "b_sent": progress.messages_sent,
                "b_status": progress.status,
                "b_error": progress.last_error,
                "b_now": now,
                "b_sent_at": now if progress.status == "sent" else None,
            }
        )
    values: dict[str, Any] = {
        "messages_sent": bindparam("b_sent"),
        "status": bindparam("b_status"),
        "last_error": bindparam("b_error"),
        "updated_at": bindparam("b_now"),
        "sent_at": bindparam("b_sent_at"),
    }
    if table.name == "corrections":
        # Counted here, under the claim, so a superseded run that finishes late counts nothing.
        done = table.c.corrections_sent + 1
        values["corrections_sent"] = case(
            (bindparam("b_status") == "sent", done), else_=table.c.corrections_sent
        )
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.attempts == bindparam("b_attempts"))
        .values(**values)
    )
    result = await session.execute(statement, rows)
    lost: set[int] = set()
    if getattr(result, "rowcount", -1) != len(rows):
        claims = {(c.progress.delivery_id, c.attempts) for c in checkpoints}
        lost = await _lost_claims(session, table, claims)
    if table.name == "deliveries":
        await _record_message_ids(session, [c.progress for c in checkpoints], lost)
    return lost


async def _record_message_ids(
    session: AsyncSession, progress: Sequence[Progress], lost: set[int]
) -> None:
    rows = {
        (p.delivery_id, p.messages_sent - 1): p.message_id
        for p in progress
        if p.message_id is not None and p.delivery_id not in lost and p.messages_sent > 0
    }
    if not rows:
        return
    values = [
        {"delivery_id": delivery_id, "position": position, "message_id": message_id}
        for (delivery_id, position), message_id in sorted(rows.items())
    ]
    for start in range(0, len(values), INSERT_CHUNK):
        statement = insert(session, SentMessageRow).values(values[start : start + INSERT_CHUNK])
        # A resend after a crash: the copy sent last is the one a correction edits.
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["delivery_id", "position"],
                set_={"message_id": statement.excluded.message_id},
            )
        )


async def sent_message_ids(session: AsyncSession, delivery_id: int) -> dict[int, str]:
    """The platform's message ids of a delivery, by position (what a correction edits)."""
    result = await session.execute(
        select(SentMessageRow.position, SentMessageRow.message_id).where(
            SentMessageRow.delivery_id == delivery_id
        )
    )
    return {position: message_id for position, message_id in result}


async def _lost_claims(
    session: AsyncSession, table: Table, claims: set[tuple[int, int]]
) -> set[int]:
    ids = sorted(id_ for id_, _ in claims)
    current: set[tuple[int, int]] = set()
    for start in range(0, len(ids), PARAM_CHUNK):
        result = await session.execute(
            select(table.c.id, table.c.attempts).where(
                table.c.id.in_(ids[start : start + PARAM_CHUNK])
            )
        )
        current.update((id_, attempts) for id_, attempts in result)
    return {id_ for id_, attempts in claims if (id_, attempts) not in current}


async def touch_claimed(
    session: AsyncSession, delivery_ids: Iterable[int], now: datetime | None = None
) -> int:
    """Heartbeat: renew `updated_at` of deliveries still sending, so `requeue_stale`
    elsewhere leaves them alone."""
    now = now or utcnow()
    ids = sorted(set(delivery_ids))
    touched = 0
    for start in range(0, len(ids), PARAM_CHUNK):
        result = await session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.id.in_(ids[start : start + PARAM_CHUNK]),
                DeliveryRow.status == "sending",
            )
            .values(updated_at=now),
            execution_options={"synchronize_session": False},
        )
        touched += int(getattr(result, "rowcount", 0))
    return touched


async def drop_pending_of_subscriber(
    session: AsyncSession, subscriber_id: int, reason: str, now: datetime | None = None
) -> int:
    """Drop every pending delivery of a subscriber that became unreachable."""
    result = await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.subscriber_id == subscriber_id, DeliveryRow.status == "pending")
        .values(status="dropped", last_error=reason, updated_at=now or utcnow()),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))


async def delivery_notes(
    session: AsyncSession, ids: Iterable[int], kind: str = "delivery"
) -> dict[int, str]:
    """The note (`last_error`) of each given outbox row that has one (the "in flight" note
    of an at-most-once send: bot/delivery/courier.py)."""
    table = _table(kind)
    wanted = sorted(set(ids))
    notes: dict[int, str] = {}
    for start in range(0, len(wanted), PARAM_CHUNK):
        result = await session.execute(
            select(table.c.id, table.c.last_error).where(
                table.c.id.in_(wanted[start : start + PARAM_CHUNK]),
                table.c.last_error.is_not(None),
            )
        )
        notes.update({id_: str(note) for id_, note in result})
    return notes
