"""Corrections of published issues: the second outbox the delivery engine drains.

Design (issue 14, "Corrections reach readers"). The smallest sound shape found: one
`corrections` row per *delivery* (the chat that got the issue), holding the operations
that bring that chat to the issue's latest edit: Telegram edits in place (a stored
message carrying `edit_message_id`, the id kept in `sent_messages`) or one short
correction message. The row speaks the deliveries' protocol exactly (status, `attempts`
as the claim's fencing token, `messages_sent` as the checkpoint, `claimed_by`), so the
engine claims, rate-limits, checkpoints (storage.deliveries.writes.record_progress, kind
'correction') and requeues it with the same code and the same crash bound: at most one
operation per sending slot is repeated after a kill. A repeated edit is harmless (the
text is already the new one; Telegram answers "message is not modified", which is done).

A later edit rewrites the same row (`supersede`): new operations, checkpoint 0,
`attempts` + 1 — a claim under way then loses its fencing token, so its next checkpoint
changes nothing and it stops; the newest edit wins. `basis` is what the chat shows
before the row's operations and `target` after, so the next edit is compared with
what readers have, not with the first rendering.

The entries readers were sent (to say *which* entries changed) are kept in `app_state`
as a snapshot taken by `storage.issues.save_issue` when a published issue first changes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.deliveries.writes import PARAM_CHUNK, claim_rows, requeue_unowned
from storage.models import (
    CorrectionRow,
    DeliveryRow,
    IssueRow,
    RenderingRow,
    SentMessageRow,
    SeriesRow,
    SubscriberRow,
)
from storage.publication import ARCHIVED_PREFIX
from storage.state import get_value, set_value

SNAPSHOT_PREFIX = "sent-entries:"


@dataclass(frozen=True, slots=True)
class ChangedIssue:
    id: int
    key: Any  # date
    published_hash: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class Delivered:
    """A chat that got the issue, with what it shows now and its messages' ids."""

    delivery_id: int
    subscriber_id: int
    platform: str
    rendering_key: str  # the publication's (bot.publish.rendering.rendering_key)
    shown: list[dict[str, Any]]  # the messages as readers have them
    message_ids: dict[int, str]
    correction: CorrectionState | None


@dataclass(frozen=True, slots=True)
class CorrectionState:
    status: str
    attempts: int
    sent_at: datetime | None
    basis: list[dict[str, Any]]
    target: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ClaimedCorrection:
    id: int
    issue_id: int
    subscriber_id: int
    platform: str
    chat_id: str
    messages_sent: int
    attempts: int
    operations: list[dict[str, Any]]


# --- what readers were sent ------------------------------------------------------------


async def sent_entries(session: AsyncSession, issue_id: int) -> list[dict[str, str]] | None:
    value = await get_value(session, f"{SNAPSHOT_PREFIX}{issue_id}")
    return value if isinstance(value, list) else None


async def set_sent_entries(
    session: AsyncSession, issue_id: int, entries: list[dict[str, str]], now: datetime
) -> None:
    await set_value(session, f"{SNAPSHOT_PREFIX}{issue_id}", entries, now)


# --- finding changed issues ------------------------------------------------------------


async def changed_published(
    session: AsyncSession, series_slug: str, published_after: datetime, settled_before: datetime
) -> list[ChangedIssue]:
    """Published (not archived) issues whose content moved on from what readers have."""
    result = await session.execute(
        select(IssueRow.id, IssueRow.key, IssueRow.published_hash, IssueRow.content_hash)
        .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
        .where(
            SeriesRow.slug == series_slug,
            IssueRow.published_at >= published_after,
            IssueRow.published_hash.is_not(None),
            ~IssueRow.published_hash.startswith(ARCHIVED_PREFIX, autoescape=True),
            IssueRow.published_hash != IssueRow.content_hash,
            IssueRow.content_changed_at <= settled_before,
        )
        .order_by(IssueRow.key)
    )
    return [ChangedIssue(*row) for row in result]


async def advance_published(
    session: AsyncSession, issue_id: int, old_hash: str, new_hash: str
) -> bool:
    """Readers now get `new_hash`: one conditional UPDATE, so two processes never both
    create the same correction (the loser sees False and rolls back)."""
    result = await session.execute(
        update(IssueRow)
        .where(IssueRow.id == issue_id, IssueRow.published_hash == old_hash)
        .values(published_hash=new_hash),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))


async def delivered(
    session: AsyncSession, issue_id: int, after_id: int = 0, limit: int = 500
) -> list[Delivered]:
    """Sent deliveries of the issue to active chats, in id order from `after_id`: three
    queries a batch (deliveries, their corrections, their message ids). A batch is at
    most PARAM_CHUNK deliveries, so each IN list stays within every database's limits;
    callers page on with `after_id`."""
    limit = min(limit, PARAM_CHUNK)
    result = await session.execute(
        select(
            DeliveryRow.id,
            DeliveryRow.subscriber_id,
            DeliveryRow.platform,
            RenderingRow.cache_key,
            RenderingRow.messages,
        )
        .join(RenderingRow, RenderingRow.id == DeliveryRow.rendering_id)
        .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
        .where(
            DeliveryRow.issue_id == issue_id,
            DeliveryRow.status == "sent",
            DeliveryRow.id > after_id,
            SubscriberRow.active.is_(True),
        )
        .order_by(DeliveryRow.id)
        .limit(limit)
    )
    rows = list(result)
    ids = [row[0] for row in rows]
    states = await _states(session, ids)
    message_ids = await _message_ids(session, ids)
    found = []
    for delivery_id, subscriber_id, platform, key, messages in rows:
        state = states.get(delivery_id)
        shown = messages
        if state is not None:
            shown = state.target if state.status == "sent" else state.basis
        known = message_ids.get(delivery_id, {})
        found.append(Delivered(delivery_id, subscriber_id, platform, key, shown, known, state))
    return found


async def _message_ids(
    session: AsyncSession, delivery_ids: Sequence[int]
) -> dict[int, dict[int, str]]:
    """The platform's message ids of each delivery, by position (what an edit targets)."""
    if not delivery_ids:
        return {}
    result = await session.execute(
        select(
            SentMessageRow.delivery_id, SentMessageRow.position, SentMessageRow.message_id
        ).where(SentMessageRow.delivery_id.in_(delivery_ids))
    )
    found: dict[int, dict[int, str]] = {}
    for delivery_id, position, message_id in result:
        found.setdefault(delivery_id, {})[position] = message_id
    return found


async def _states(session: AsyncSession, delivery_ids: list[int]) -> dict[int, CorrectionState]:
    if not delivery_ids:
        return {}
    result = await session.execute(
        select(
            CorrectionRow.delivery_id,
            CorrectionRow.status,
            CorrectionRow.attempts,
            CorrectionRow.sent_at,
            CorrectionRow.basis,
            CorrectionRow.target,
        ).where(CorrectionRow.delivery_id.in_(delivery_ids))
    )
    return {row[0]: CorrectionState(*row[1:]) for row in result}


# --- writing the work ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Work:
    delivery_id: int
    issue_id: int
    subscriber_id: int
    platform: str
    content_hash: str
    kind: str  # edit | message
    operations: list[dict[str, Any]]
    basis: list[dict[str, Any]]
    target: list[dict[str, Any]]


async def supersede(
    session: AsyncSession, work: Work, existing: CorrectionState | None, now: datetime
) -> None:
    """Make `work` the chat's pending correction, replacing (and fencing) any earlier one."""
    values: dict[str, Any] = {
        "issue_id": work.issue_id,
        "subscriber_id": work.subscriber_id,
        "platform": work.platform,
        "content_hash": work.content_hash,
        "kind": work.kind,
        "operations": work.operations,
        "basis": work.basis,
        "target": work.target,
        "status": "pending" if work.operations else "sent",
        "messages_total": len(work.operations),
        "messages_sent": 0,
        "last_error": None,
        "updated_at": now,
        "claimed_by": None,
    }
    if existing is None:
        session.add(
            CorrectionRow(
                delivery_id=work.delivery_id,
                attempts=0,
                corrections_sent=0,
                created_at=now,
                sent_at=None if work.operations else now,
                **values,
            )
        )
        await session.flush()
        return
    await session.execute(
        update(CorrectionRow)
        .where(CorrectionRow.delivery_id == work.delivery_id)
        .values(attempts=CorrectionRow.attempts + 1, **values),
        execution_options={"synchronize_session": False},
    )


async def corrections_sent(session: AsyncSession, issue_ids: Collection[int]) -> dict[int, int]:
    """Corrections completed per issue (a chat corrected twice counts twice)."""
    if not issue_ids:
        return {}
    result = await session.execute(
        select(CorrectionRow.issue_id, func.sum(CorrectionRow.corrections_sent))
        .where(CorrectionRow.issue_id.in_(sorted(issue_ids)))
        .group_by(CorrectionRow.issue_id)
    )
    return {issue_id: int(total or 0) for issue_id, total in result}


# --- the engine's side: claim, heartbeat, requeue --------------------------------------


async def claim_corrections(
    session: AsyncSession,
    limit: int,
    now: datetime,
    *,
    platforms: Collection[str],
    exclude_issues: Collection[int] = (),
    claimed_by: str | None = None,
) -> list[ClaimedCorrection]:
    """Like `claim_for_sending`: pending rows to sending, `attempts` + 1, one statement."""
    if not platforms or limit <= 0:
        return []
    pending = (
        select(CorrectionRow.id)
        .where(CorrectionRow.status == "pending", CorrectionRow.platform.in_(sorted(platforms)))
        .order_by(CorrectionRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if exclude_issues:
        pending = pending.where(CorrectionRow.issue_id.not_in(sorted(exclude_issues)))
    ids = await claim_rows(session, CorrectionRow, pending, now, claimed_by)
    if not ids:
        return []
    result = await session.execute(
        select(
            CorrectionRow.id,
            CorrectionRow.issue_id,
            CorrectionRow.subscriber_id,
            CorrectionRow.platform,
            SubscriberRow.chat_id,
            CorrectionRow.messages_sent,
            CorrectionRow.attempts,
            CorrectionRow.operations,
            SubscriberRow.active,
        )
        .join(SubscriberRow, SubscriberRow.id == CorrectionRow.subscriber_id)
        .where(CorrectionRow.id.in_(ids))
        .order_by(CorrectionRow.id)
    )
    rows = list(result)
    inactive = [row[0] for row in rows if not row[-1]]
    if inactive:
        await session.execute(
            update(CorrectionRow)
            .where(CorrectionRow.id.in_(inactive))
            .values(status="dropped", last_error="subscriber inactive", updated_at=now),
            execution_options={"synchronize_session": False},
        )
    return [ClaimedCorrection(*row[:-1]) for row in rows if row[-1]]


async def touch_corrections(session: AsyncSession, ids: Sequence[int], now: datetime) -> int:
    if not ids:
        return 0
    result = await session.execute(
        update(CorrectionRow)
        .where(CorrectionRow.id.in_(sorted(ids)), CorrectionRow.status == "sending")
        .values(updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))


async def requeue_stale_corrections(session: AsyncSession, older_than: datetime) -> int:
    """`requeue_stale` for corrections claimed without an instance (one-shot drains)."""
    return await requeue_unowned(session, CorrectionRow, older_than)


async def expire_held(
    session: AsyncSession, queued_before: datetime, published_before: datetime, now: datetime
) -> int:
    """Drop the corrections held while corrections were off (pending since before
    `queued_before`, the moment they were switched back on) whose issue's window had
    ended by then (published before `published_before`): readers would get a correction
    long after the issue, when edits that late only update the archive."""
    late = select(IssueRow.id).where(IssueRow.published_at < published_before)
    result = await session.execute(
        update(CorrectionRow)
        .where(
            CorrectionRow.status == "pending",
            CorrectionRow.updated_at < queued_before,
            CorrectionRow.issue_id.in_(late),
        )
        .values(status="dropped", last_error="expired while corrections were off", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def entries_digest(sections: Sequence[Any]) -> list[dict[str, str]]:
    """An issue's entries as compared for corrections: section, title, link, summary."""
    return [
        {
            "section": section.key,
            "title": entry.title,
            "url": entry.url or "",
            "summary": entry.summary,
        }
        for section in sections
        for entry in section.entries
    ]
