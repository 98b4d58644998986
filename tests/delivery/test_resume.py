"""A dead instance's claims are resent as soon as a heartbeat hands them back.

`Membership.beat` requeues the claims of instances silent for `stale_seconds`; the
engine built by the composition root (bot/app.py `instance_engine`) is woken by it at
once, so the idle poll is not waited out (it used to add up to 2 s to the 15 s resume
bound), even while it is busy sending other work (after a claim that found nothing, a
busy engine claims again only after the poll). The idle poll here is a minute: anything
resent within seconds was woken; the control, unwired, resends nothing meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Platforms, instance_engine
from bot.cluster import Membership
from bot.config import ClusterSettings, Settings
from bot.delivery import EngineTuning
from bot.publish.alerts import LogNotifier
from bot.runtime import Runtime, build_taxonomy
from briefings.model import Series
from storage import deliveries, instances
from storage.instances import Identity
from storage.models import InstanceRow
from tests.delivery.fakes import ScriptedSender
from tests.delivery.helpers import FAST, Sessions, chat_id_for, seed
from tests.storage.factories import at

DEAD = Identity("d" * 32, "host-dead", 4242)
CLUSTER = ClusterSettings(heartbeat_seconds=1.0, stale_seconds=3.0)
SLOW_POLL = EngineTuning(stale_after=60.0, idle_poll=60.0, backoff_base=0.05)
# Seconds from the requeue to the last resent message (the poll is 60): generous, for a
# loaded machine; the unwired control only needs to show nothing is resent meanwhile.
WOKEN_WITHIN = 15.0
CONTROL_WAITS = 3.0


def runtime_on(engine: AsyncEngine, sessions: Sessions) -> Runtime:
    settings = Settings(delivery=FAST)
    series = Series(settings.series.slug, settings.series.title)
    return Runtime(settings, engine, sessions, series, build_taxonomy(settings))


async def claimed_by_the_dead(sessions: Sessions, count: int) -> None:
    """`count` deliveries claimed by an instance that then died (heartbeat 30 s old)."""
    async with sessions.begin() as session:
        await instances.heartbeat(session, DEAD, leader=False)
    async with sessions.begin() as session:
        await deliveries.claim_for_sending(session, count, at(2), claimed_by=DEAD.id)
    async with sessions.begin() as session:
        now = await instances.database_now(session)
        await session.execute(
            update(InstanceRow)
            .where(InstanceRow.id == DEAD.id)
            .values(heartbeat_at=now - timedelta(seconds=30))
        )


@pytest.mark.parametrize("wired", [True, False], ids=["woken", "control-unwired"])
async def test_a_requeue_wakes_the_engine_though_it_is_busy_and_its_poll_is_long(
    engine: AsyncEngine, sessions: Sessions, wired: bool
) -> None:
    """Unwired (the control), the requeued rows wait for the minute-long poll."""
    seeded = await seed(sessions, 4)
    member = Membership(sessions, CLUSTER)
    await member.join()
    await claimed_by_the_dead(sessions, 3)  # the fourth stays pending for the live one
    blocked = str(chat_id_for(3))
    release = asyncio.Event()

    async def hold(chat: str, _message: object) -> None:
        if chat == blocked:  # keeps the engine busy: it must claim beside held work
            await release.wait()

    sender = ScriptedSender(before_send=hold)
    live = instance_engine(
        runtime_on(engine, sessions),
        Platforms(senders={"telegram": sender}),
        LogNotifier(),
        member,
        SLOW_POLL,
    )
    if not wired:
        member.on_requeue = None
    stop = asyncio.Event()
    running = asyncio.create_task(live.run_forever(stop))
    resent = [chat for chat in seeded.expected if chat != int(blocked)]
    try:
        started = time.monotonic()  # a loaded machine may take a while to get there
        while not sender.attempts and time.monotonic() - started < 10:
            await asyncio.sleep(0.05)
        assert sender.attempts == [blocked]  # busy with the fourth; the rest are claimed
        requeued_at = time.monotonic()
        await member.beat()
        assert member.requeued == 3
        while not all(sender.texts_to(c) == seeded.expected[c] for c in resent):
            if time.monotonic() - requeued_at > (WOKEN_WITHIN if wired else CONTROL_WAITS):
                break
            await asyncio.sleep(0.05)
        if wired:
            assert all(sender.texts_to(c) == seeded.expected[c] for c in resent), sender.sent
        else:
            assert sender.attempts == [blocked]
    finally:
        release.set()
        stop.set()
        await asyncio.wait_for(running, 10)
    assert sender.texts_to(blocked) == seeded.expected[int(blocked)]
