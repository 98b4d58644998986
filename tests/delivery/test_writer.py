"""The single writer: group commit of checkpoints, claim fencing, ordered calls."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.writer import ClaimLost, CommitQueue
from storage import deliveries
from storage.deliveries.writes import Progress
from storage.models import DeliveryRow
from tests.delivery.helpers import Sessions, seed


def now() -> datetime:
    return datetime.now(UTC)


async def claim_all(sessions: Sessions) -> list[deliveries.ClaimedDelivery]:
    async with sessions.begin() as session:
        return await deliveries.claim_for_sending(session, 1000)


async def test_concurrent_checkpoints_share_transactions(sessions: Sessions) -> None:
    await seed(sessions, 60)
    claims = await claim_all(sessions)
    writer = CommitQueue(sessions, now, asyncio.sleep)
    writer.start()
    await asyncio.gather(
        *(writer.checkpoint(Progress(c.id, 1, "sending"), c.attempts) for c in claims)
    )
    await writer.close()
    assert writer.checkpoints == 60 and writer.commits < 10
    async with sessions() as session:
        sent = await session.scalars(select(DeliveryRow.messages_sent))
        assert set(sent) == {1}


async def test_a_checkpoint_under_a_lost_claim_is_refused_alone(sessions: Sessions) -> None:
    await seed(sessions, 2)
    mine, theirs = await claim_all(sessions)
    async with sessions.begin() as session:  # another process re-claimed `theirs`
        await session.execute(
            update(DeliveryRow).where(DeliveryRow.id == theirs.id).values(attempts=9)
        )
    writer = CommitQueue(sessions, now, asyncio.sleep)
    writer.start()
    results = await asyncio.gather(
        writer.checkpoint(Progress(mine.id, 1, "sending"), mine.attempts),
        writer.checkpoint(Progress(theirs.id, 1, "sending"), theirs.attempts),
        return_exceptions=True,
    )
    await writer.close()
    assert results[0] is None and isinstance(results[1], ClaimLost)
    async with sessions() as session:
        rows = {r.id: r for r in await session.scalars(select(DeliveryRow))}
    assert rows[mine.id].messages_sent == 1 and rows[theirs.id].messages_sent == 0


async def test_calls_run_in_order_and_their_errors_reach_only_their_caller(
    sessions: Sessions,
) -> None:
    writer = CommitQueue(sessions, now, asyncio.sleep)
    writer.start()
    seen: list[int] = []

    async def record(n: int, session: AsyncSession) -> int:
        seen.append(n)
        return n * 10

    async def broken(session: AsyncSession) -> None:
        raise LookupError("boom")

    first = writer.call(lambda s: record(1, s))
    failing = writer.call(broken)
    second = writer.call(lambda s: record(2, s))
    results = await asyncio.gather(first, failing, second, return_exceptions=True)
    await writer.close()
    assert results[0] == 10 and results[2] == 20 and seen == [1, 2]
    assert isinstance(results[1], LookupError)
