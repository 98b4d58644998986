"""Campaign claims: an issue's deliveries on a platform claimed, kept and closed together.

The same for an issue's corrections on such a platform (`kind` 'correction', the
corrections outbox): a campaign correction reaches its chats with one send per audience
part, like the issue did.

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
from storage.models import CorrectionRow, DeliveryRow, IssueRow, SubscriberRow

CHAT_CHUNK = 500  # chat ids per IN (...) list
CAMPAIGN_LOCKS = 0x57C6  # advisory lock class of campaign claims (two-int keyspace)
SUPERSEDED = "superseded by a newer issue before its campaign finished"


@dataclass(frozen=True, slots=True)
class ClaimedCampaign:
    issue_id: int
    platform: str
    deliveries: int  # rows claimed
    kind: str = "delivery"  # or 'correction': which outbox


def _table(kind: str) -> Any:
    return CorrectionRow if kind == "correction" else DeliveryRow


def _of(claim: ClaimedCampaign, claimed_by: str | None) -> ColumnElement[bool]:
    """The rows of one campaign claim."""
    table = _table(claim.kind)
    mine = table.claimed_by.is_(None) if claimed_by is None else table.claimed_by == claimed_by
    return (
        (table.issue_id == claim.issue_id)
        & (table.platform == claim.platform)
        & (table.status == "sending")
        & mine
    )


async def claim_campaign(
    session: AsyncSession,
    platform: str,
    now: datetime,
    *,
    claimed_by: str | None,
    exclude_issues: Collection[int] = (),
    kind: str = "delivery",
) -> ClaimedCampaign | None:
    """Claim an issue with pending deliveries on `platform`: of each series the newest
    (with `kind` 'correction': the oldest issue with pending corrections), unless another
    claim holds some of its rows. Pending deliveries of a series' older issues are
    dropped: their campaign would be stale news once a newer one goes out. On PostgreSQL
    claims of one issue serialise on an advisory lock, so two instances never split an
    issue's rows between them."""
    table = _table(kind)
    pending = await session.execute(
        select(table.issue_id, IssueRow.series_id)
        .join(IssueRow, IssueRow.id == table.issue_id)
        .where(table.platform == platform, table.status == "pending")
        .where(table.issue_id.not_in(sorted(exclude_issues)))
        .distinct()
        .order_by(table.issue_id)
    )
    issues = [(int(issue_id), int(series_id)) for issue_id, series_id in pending]
    if not issues:
        return None
    if kind == "correction":
        chosen = issues[0][0]
    else:
        chosen = await _newest_per_series(session, platform, issues, now)
    if dialect_name(session) == "postgresql":
        lock = CAMPAIGN_LOCKS + (1 if kind == "correction" else 0)
        await session.execute(select(func.pg_advisory_xact_lock(lock, chosen)))
    held = exists().where(
        table.issue_id == chosen, table.platform == platform, table.status == "sending"
    )
    if await session.scalar(select(held)):
        return None  # another claim runs this campaign
    result = await session.execute(
        update(table)
        .where(table.issue_id == chosen, table.platform == platform, table.status == "pending")
        .values(
            status="sending",
            attempts=table.attempts + 1,
            updated_at=now,
            claimed_by=claimed_by,
        ),
        execution_options={"synchronize_session": False},
    )
    count = int(getattr(result, "rowcount", 0))
    return ClaimedCampaign(chosen, platform, count, kind) if count else None


async def _newest_per_series(
    session: AsyncSession, platform: str, issues: list[tuple[int, int]], now: datetime
) -> int:
    """Drop what a newer issue of the same series supersedes (another series' issue is
    not news of this one); the oldest of the issues left, so no series waits behind
    another's stream of issues."""
    newest: dict[int, int] = {}
    for issue_id, series_id in issues:  # ordered by id: the last one of a series wins
        newest[series_id] = issue_id
    kept = set(newest.values())
    # in id order, as every claimant does: two never lock the same rows in opposite orders
    for older in sorted(issue_id for issue_id, _ in issues if issue_id not in kept):
        await _close(session, platform, older, "pending", "dropped", SUPERSEDED, now)
    return min(kept)


async def campaign_operations(
    session: AsyncSession, claim: ClaimedCampaign, claimed_by: str | None, page: int = 500
) -> dict[str, dict[str, Any]]:
    """A correction campaign's operations by the audience part they are for (each
    operation carries its `part`; chats of one part share it), read in keyed pages:
    memory bounded by the parts, whatever the rows."""
    found: dict[str, dict[str, Any]] = {}
    last = 0
    while True:
        rows = list(
            await session.execute(
                select(CorrectionRow.id, CorrectionRow.operations)
                .where(_of(claim, claimed_by), CorrectionRow.id > last)
                .order_by(CorrectionRow.id)
                .limit(page)
            )
        )
        for _, operations in rows:
            for operation in operations or []:
                found.setdefault(str(operation.get("part", "")), dict(operation))
        if len(rows) < page:
            return found
        last = rows[-1][0]


async def touch_campaign(
    session: AsyncSession, claim: ClaimedCampaign, claimed_by: str | None, now: datetime
) -> int:
    """Heartbeat of a claim made without an instance (see storage.deliveries.writes)."""
    result = await session.execute(
        update(_table(claim.kind)).where(_of(claim, claimed_by)).values(updated_at=now),
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
        update(_table(claim.kind)).where(_of(claim, claimed_by)).values(**values),
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
    table = _table(claim.kind)
    where = _of(claim, claimed_by)
    values: dict[str, Any] = {"status": status, "last_error": note, "updated_at": now}
    if status == "sent":
        values |= {"sent_at": now, "messages_sent": table.messages_total}
        if claim.kind == "correction":  # completed corrections are counted (reports)
            values["corrections_sent"] = table.corrections_sent + 1
    if chat_ids is None:
        return await _update(session, table, where, values)
    ids = sorted(set(chat_ids))
    settled = 0
    for chunk in _chunks(ids):
        chats = select(SubscriberRow.id).where(
            SubscriberRow.platform == claim.platform, SubscriberRow.chat_id.in_(chunk)
        )
        chosen = where & table.subscriber_id.in_(chats)
        settled += await _update(session, table, chosen, values)
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
    values = {"status": status, "last_error": note, "updated_at": now}
    return await _update(session, DeliveryRow, where, values)


async def _update(session: AsyncSession, table: Any, where: Any, values: dict[str, Any]) -> int:
    result = await session.execute(
        update(table).where(where).values(**values),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + CHAT_CHUNK] for i in range(0, len(ids), CHAT_CHUNK)]
