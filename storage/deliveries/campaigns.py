"""Campaign claims: an issue's deliveries on a platform claimed, kept and closed together.

A campaign-shaped platform (the Official Account: tag mass sends, bot/delivery/campaigns.py)
reaches every pending delivery of an issue with a few audience-wide sends, so its claim is
the issue's whole set of rows: one UPDATE moves them to 'sending' with the claimant (and
`attempts` + 1), without loading them (bounded for any audience). The claim then follows
the outbox's protocol: kept alive by `touch_campaign` (claims without an instance) or the
instance's heartbeat, returned by `requeue_stale` / `storage.instances.requeue_orphaned`
once abandoned, handed back by `release_campaign`, closed by `settle_campaign`. Writes of a
claim name its claimant, so an instance presumed dead changes nothing once another holds
the rows (claims without an instance are not fenced: tests and one-off callers).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage._dialect import dialect_name
from storage.models import DeliveryRow, SubscriberRow

CHAT_CHUNK = 500  # chat ids per IN (...) list
CAMPAIGN_LOCKS = 0x57C6  # advisory lock class of campaign claims (two-int keyspace)
SUPERSEDED = "superseded by a newer issue before its campaign finished"


@dataclass(frozen=True, slots=True)
class ClaimedCampaign:
    issue_id: int
    platform: str
    deliveries: int  # rows claimed


def _of(platform: str, issue_id: int, claimed_by: str | None) -> ColumnElement[bool]:
    """The rows of one campaign claim."""
    mine = (
        DeliveryRow.claimed_by.is_(None)
        if claimed_by is None
        else DeliveryRow.claimed_by == claimed_by
    )
    return (
        (DeliveryRow.issue_id == issue_id)
        & (DeliveryRow.platform == platform)
        & (DeliveryRow.status == "sending")
        & mine
    )


async def claim_campaign(
    session: AsyncSession,
    platform: str,
    now: datetime,
    *,
    claimed_by: str | None,
    exclude_issues: Collection[int] = (),
) -> ClaimedCampaign | None:
    """Claim the newest issue with pending deliveries on `platform`, unless another claim
    holds some of its rows. Pending rows of older issues are dropped: their campaign would
    be stale news once a newer one goes out. On PostgreSQL claims of one issue serialise
    on an advisory lock, so two instances never split an issue's rows between them."""
    pending = await session.scalars(
        select(DeliveryRow.issue_id)
        .where(DeliveryRow.platform == platform, DeliveryRow.status == "pending")
        .where(DeliveryRow.issue_id.not_in(sorted(exclude_issues)))
        .distinct()
        .order_by(DeliveryRow.issue_id)
    )
    issues = list(pending)
    if not issues:
        return None
    newest = issues[-1]
    for older in issues[:-1]:
        await _close(session, platform, older, "pending", "dropped", SUPERSEDED, now)
    if dialect_name(session) == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(CAMPAIGN_LOCKS, newest)))
    held = exists().where(
        DeliveryRow.issue_id == newest,
        DeliveryRow.platform == platform,
        DeliveryRow.status == "sending",
    )
    if await session.scalar(select(held)):
        return None  # another claim runs this campaign
    result = await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.issue_id == newest,
            DeliveryRow.platform == platform,
            DeliveryRow.status == "pending",
        )
        .values(
            status="sending",
            attempts=DeliveryRow.attempts + 1,
            updated_at=now,
            claimed_by=claimed_by,
        ),
        execution_options={"synchronize_session": False},
    )
    count = int(getattr(result, "rowcount", 0))
    return ClaimedCampaign(newest, platform, count) if count else None


async def touch_campaign(
    session: AsyncSession, claim: ClaimedCampaign, claimed_by: str | None, now: datetime
) -> int:
    """Heartbeat of a claim made without an instance (see storage.deliveries.writes)."""
    result = await session.execute(
        update(DeliveryRow)
        .where(_of(claim.platform, claim.issue_id, claimed_by))
        .values(updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))


async def release_campaign(
    session: AsyncSession,
    claim: ClaimedCampaign,
    claimed_by: str | None,
    now: datetime,
    note: str | None = None,
) -> int:
    """Hand the claim's rows back to pending (engine stopping, no quota left today)."""
    values: dict[str, Any] = {"status": "pending", "claimed_by": None, "updated_at": now}
    if note is not None:
        values["last_error"] = note
    result = await session.execute(
        update(DeliveryRow).where(_of(claim.platform, claim.issue_id, claimed_by)).values(**values),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))


async def settle_campaign(
    session: AsyncSession,
    claim: ClaimedCampaign,
    claimed_by: str | None,
    status: Literal["sent", "failed"],
    note: str | None,
    now: datetime,
    *,
    chat_ids: Collection[str] | None = None,
) -> int:
    """Close the claim's rows (with `chat_ids`, only those chats'): the campaign reached
    them (sent) or the send meant for them was refused (failed)."""
    where = _of(claim.platform, claim.issue_id, claimed_by)
    values: dict[str, Any] = {"status": status, "last_error": note, "updated_at": now}
    if status == "sent":
        values |= {"sent_at": now, "messages_sent": DeliveryRow.messages_total}
    if chat_ids is None:
        return await _update(session, where, values)
    ids = sorted(set(chat_ids))
    settled = 0
    for chunk in _chunks(ids):
        chats = select(SubscriberRow.id).where(
            SubscriberRow.platform == claim.platform, SubscriberRow.chat_id.in_(chunk)
        )
        settled += await _update(session, where & DeliveryRow.subscriber_id.in_(chats), values)
    return settled


async def _close(
    session: AsyncSession,
    platform: str,
    issue_id: int,
    before: str,
    status: str,
    note: str,
    now: datetime,
) -> int:
    where = (
        (DeliveryRow.issue_id == issue_id)
        & (DeliveryRow.platform == platform)
        & (DeliveryRow.status == before)
    )
    return await _update(session, where, {"status": status, "last_error": note, "updated_at": now})


async def _update(session: AsyncSession, where: Any, values: dict[str, Any]) -> int:
    result = await session.execute(
        update(DeliveryRow).where(where).values(**values),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + CHAT_CHUNK] for i in range(0, len(ids), CHAT_CHUNK)]
