"""Instances, their heartbeats and the requeue of a dead instance's claims
(storage/instances.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from storage import deliveries, instances
from storage.instances import Identity
from storage.models import DeliveryRow, InstanceRow
from tests.delivery.helpers import Sessions, seed
from tests.storage.factories import at

A = Identity("a" * 32, "host-a", 101)
B = Identity("b" * 32, "host-b", 102)


async def age_heartbeat(sessions: Sessions, who: Identity, seconds: float) -> None:
    async with sessions.begin() as session:
        now = await instances.database_now(session)
        await session.execute(
            update(InstanceRow)
            .where(InstanceRow.id == who.id)
            .values(heartbeat_at=now - timedelta(seconds=seconds))
        )


async def statuses(sessions: Sessions) -> dict[int, tuple[str, str | None]]:
    async with sessions() as session:
        rows = await session.scalars(select(DeliveryRow))
        return {r.id: (r.status, r.claimed_by) for r in rows}


async def test_a_stale_instance_loses_its_claims_and_a_live_one_keeps_them(
    sessions: Sessions,
) -> None:
    await seed(sessions, 6)
    async with sessions.begin() as session:
        assert await instances.heartbeat(session, A, leader=True) is False  # registered now
        assert await instances.heartbeat(session, B, leader=False) is False
    async with sessions.begin() as session:  # a claim per transaction, as the engine does
        mine = await deliveries.claim_for_sending(session, 2, at(2), claimed_by=A.id)
    async with sessions.begin() as session:
        theirs = await deliveries.claim_for_sending(session, 2, at(2), claimed_by=B.id)
    async with sessions.begin() as session:
        anonymous = await deliveries.claim_for_sending(session, 1, at(2))
    sending = [s for s in (await statuses(sessions)).values() if s[0] == "sending"]
    assert sorted(sending, key=str) == sorted(
        [("sending", A.id)] * 2 + [("sending", B.id)] * 2 + [("sending", None)], key=str
    )
    async with sessions.begin() as session:
        assert await instances.requeue_orphaned(session, 10) == 0  # both alive
    await age_heartbeat(sessions, A, 11)
    async with sessions.begin() as session:
        assert await instances.requeue_orphaned(session, 10) == 2
        # updated_at is far in the past, yet B's claims are not a one-shot drain's
        assert await deliveries.requeue_stale(session, at(100)) == 1
    rows = await statuses(sessions)
    assert all(rows[c.id] == ("pending", None) for c in mine + anonymous)
    assert all(rows[c.id] == ("sending", B.id) for c in theirs)

    async with sessions() as session:
        listed = {i.id: i for i in await instances.list_instances(session, 10)}
    assert listed[A.id].alive is False and listed[A.id].leader is False  # a stale flag
    assert listed[A.id].heartbeat_age >= 11
    assert listed[B.id].alive and listed[B.id].heartbeat_age < 5
    assert (listed[B.id].host, listed[B.id].pid) == ("host-b", 102)


async def test_claims_of_a_vanished_instance_row_are_requeued(sessions: Sessions) -> None:
    await seed(sessions, 2)
    async with sessions.begin() as session:
        claimed = await deliveries.claim_for_sending(session, 2, at(2), claimed_by="gone")
    async with sessions.begin() as session:
        assert await instances.requeue_orphaned(session, 10) == 2
    async with sessions.begin() as session:
        again = await deliveries.claim_for_sending(session, 2, at(3), claimed_by=A.id)
    assert [c.attempts for c in again] == [c.attempts + 1 for c in claimed]  # still fenced


async def test_deregister_hands_back_only_its_own_claims(sessions: Sessions) -> None:
    await seed(sessions, 4)
    async with sessions.begin() as session:
        await instances.heartbeat(session, A, leader=False)
        await instances.heartbeat(session, B, leader=False)
    async with sessions.begin() as session:
        await deliveries.claim_for_sending(session, 3, at(2), claimed_by=A.id)
    async with sessions.begin() as session:
        await deliveries.claim_for_sending(session, 1, at(2), claimed_by=B.id)
    async with sessions.begin() as session:
        assert await instances.deregister(session, A.id) == 3
    rows = await statuses(sessions)
    assert sorted(rows.values(), key=str) == sorted(
        [("pending", None)] * 3 + [("sending", B.id)], key=str
    )
    async with sessions() as session:
        assert [i.id for i in await instances.list_instances(session, 10)] == [B.id]
    async with sessions.begin() as session:
        # A heartbeat after removal says so (and registers the instance again).
        assert await instances.heartbeat(session, A, leader=False) is False
        assert await instances.heartbeat(session, A, leader=False) is True


async def test_one_leader_flag_and_dead_rows_forgotten(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await instances.heartbeat(session, A, leader=True)
        await instances.heartbeat(session, B, leader=False)
        await instances.claim_leader_flag(session, B.id)
    async with sessions() as session:
        flags = {i.id: i.leader for i in await instances.list_instances(session, 10)}
        assert flags == {A.id: False, B.id: True}
        assert await instances.live_count(session, 10) == 2
    await age_heartbeat(sessions, A, 120)
    async with sessions.begin() as session:
        assert await instances.live_count(session, 10) == 1
        assert await instances.forget_dead(session, 60) == 1
        assert [i.id for i in await instances.list_instances(session, 10)] == [B.id]


async def test_a_claim_takes_at_most_its_limit_and_concurrent_claims_are_disjoint(
    sessions: Sessions,
) -> None:
    await seed(sessions, 40)

    async def claim(who: str) -> list[int]:
        async with sessions.begin() as session:
            return [c.id for c in await deliveries.claim_for_sending(session, 5, claimed_by=who)]

    batches = [await claim("first")]
    for _ in range(3):  # several at once, as several instances' engines do
        batches += await asyncio.gather(*(claim(f"c{n}") for n in range(3)))
    assert all(len(batch) <= 5 for batch in batches) and len(batches[0]) == 5
    claimed = [i for batch in batches for i in batch]
    assert len(claimed) == len(set(claimed)) == 40
