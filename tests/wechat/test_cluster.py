"""WeCom and Official Account pushes by several instances on one PostgreSQL: claims stamped
with the instance id, a dead instance's work resent by another within 15 s, one campaign
runner per issue."""

from __future__ import annotations

import asyncio
import time as wallclock
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.cluster import Membership
from bot.commands import Core
from bot.config import ClusterSettings
from bot.delivery.engine import DeliveryEngine, EngineTuning
from bot.platforms.wechat.campaign import WechatCampaign
from bot.platforms.wecom.push import WecomPush
from bot.platforms.wecom.sender import BatchResult, WecomSender
from bot.runtime import Runtime
from bot.web.service import open_web_service
from storage.deliveries import status_counts
from storage.models import DeliveryRow
from storage.subscribers import ALL
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.test_wecom import (
    VirtualTime,
    add_crowd,
    expected_texts,
    http,
    publish,
    sender_for,
)

__all__ = ["http"]

# Several instances need a shared database: PostgreSQL only.
pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

CLUSTER = ClusterSettings(heartbeat_seconds=0.5, stale_seconds=2.0)
CLAIM = 6  # deliveries per claim: small, so that both instances hold work at the kill


class Killed(BaseException):
    """The process is gone: nothing after it runs, nothing more is written."""


class Frozen(WecomSender):
    """Hangs right after WeCom accepted its `freeze_at`-th call, so the answer is never
    recorded, until `killed` is set: then the instance dies with that call in flight."""

    def __init__(self, *args: Any, freeze_at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0
        self.freeze_at = freeze_at
        self.frozen = asyncio.Event()
        self.killed = asyncio.Event()
        self.in_flight: list[str] = []

    async def send_batch(
        self, userids: Sequence[str], message: Mapping[str, Any], **options: Any
    ) -> BatchResult:
        result = await super().send_batch(userids, message, **options)
        self.calls += 1
        if self.calls == self.freeze_at:
            self.in_flight = list(result.delivered)
            self.frozen.set()
            await self.killed.wait()
            raise Killed
        return result


class Slow(WecomSender):
    """A little latency per call, so the two instances interleave."""

    async def send_batch(
        self, userids: Sequence[str], message: Mapping[str, Any], **options: Any
    ) -> BatchResult:
        await asyncio.sleep(0.01)
        return await super().send_batch(userids, message, **options)


def engine(runtime: Runtime, sender: WecomSender, claimant: str | None = None) -> DeliveryEngine:
    """The delivery engine with WeCom as its batch sender, claiming CLAIM rows at a time."""
    tuning = EngineTuning(window=CLAIM, idle_poll=0.2)
    senders = {"wecom": WecomPush(sender)}
    settings = runtime.settings.delivery
    return DeliveryEngine(runtime.sessions, senders, settings, tuning=tuning, claimant=claimant)


async def instance(runtime: Runtime) -> tuple[Membership, asyncio.Task[None]]:
    member = Membership(runtime.sessions, CLUSTER)
    await member.join()
    return member, asyncio.create_task(member.run())


async def claimants(runtime: Runtime, issue_id: int) -> Counter[str | None]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(DeliveryRow.claimed_by).where(
                DeliveryRow.issue_id == issue_id, DeliveryRow.status == "sending"
            )
        )
        return Counter(rows)


async def test_a_dead_instances_wecom_work_is_resent_by_another_within_15_s(
    runtime: Runtime, wechat_server: FakeWeChatServer, http: aiohttp.ClientSession
) -> None:
    userids = [f"member{i:03d}" for i in range(60)]
    await add_crowd(runtime, wechat_server, userids, ALL)
    issue_id = await publish(runtime)
    expected = await expected_texts(runtime, issue_id)
    assert len(set(map(len, expected.values()))) == 1 and len(expected[userids[0]]) > 1
    time = VirtualTime(wechat_server)

    (dying, dying_beat), (living, living_beat) = await instance(runtime), await instance(runtime)
    frozen = sender_for(runtime, http, time, cls=Frozen, freeze_at=3)
    slow = sender_for(runtime, http, time, cls=Slow)
    engines = [engine(runtime, frozen, dying.id), engine(runtime, slow, living.id)]
    stop = asyncio.Event()
    doomed, survivor = (asyncio.create_task(e.run_forever(stop)) for e in engines)
    try:
        await asyncio.wait_for(frozen.frozen.wait(), 30)
        held = await claimants(runtime, issue_id)
        assert held[dying.id] > 0  # the kill leaves claims of the dead instance behind
        assert None not in held  # every claim names its instance
        # The kill: no clean-up, no hand-back, and the heartbeat stops with it.
        killed_at = wallclock.monotonic()
        frozen.killed.set()
        dying_beat.cancel()
        await asyncio.gather(doomed, dying_beat, return_exceptions=True)

        while (await status_counts_of(runtime, issue_id)).get("sent", 0) < len(userids):
            assert wallclock.monotonic() - killed_at < 15, "the dead instance's work is stuck"
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(survivor, return_exceptions=True)
        living_beat.cancel()
        await asyncio.gather(living_beat, return_exceptions=True)

    assert living.requeued == held[dying.id]  # handed back by the survivor's heartbeat
    for userid in userids:
        assert wechat_server.wecom.inbox(userid) == expected[userid]  # all, in order, once
    # The call in flight at the kill was accepted but never recorded: it was sent again,
    # and WeCom's duplicate check kept it from its members. Nothing else was repeated.
    repeats = Counter(d.userid for d in wechat_server.wecom.duplicates)
    assert frozen.in_flight and set(repeats) == set(frozen.in_flight)
    assert max(repeats.values()) == 1
    assert len(wechat_server.wecom.duplicates) <= CLAIM  # the messages in flight
    for call in wechat_server.wecom.calls("/cgi-bin/message/send"):
        assert call.body["enable_duplicate_check"] == 1


async def status_counts_of(runtime: Runtime, issue_id: int) -> dict[str, int]:
    async with runtime.sessions() as session:
        return (await status_counts(session, issue_id)).get("wecom", {})


async def test_without_a_claimant_the_row_heartbeat_and_60_s_rule_still_apply(
    runtime: Runtime, wechat_server: FakeWeChatServer, http: aiohttp.ClientSession
) -> None:
    # A caller outside the cluster: claims carry no instance and are not taken by the
    # instances' requeue, however old their heartbeat; only requeue_stale returns them.
    await add_crowd(runtime, wechat_server, ["solo"], ALL)
    issue_id = await publish(runtime)
    time = VirtualTime(wechat_server)
    frozen = sender_for(runtime, http, time, cls=Frozen, freeze_at=1)
    task = asyncio.create_task(engine(runtime, frozen).run_until_idle())
    await asyncio.wait_for(frozen.frozen.wait(), 30)
    frozen.killed.set()
    await asyncio.gather(task, return_exceptions=True)
    assert await claimants(runtime, issue_id) == Counter({None: 1})
    member, beat = await instance(runtime)
    beat.cancel()
    await member.beat()
    assert member.requeued == 0


async def test_under_run_the_pushers_are_the_engines_senders(runtime: Runtime, core: Core) -> None:
    # WeCom and the Official Account have no loops of their own any more: the web service
    # hands their senders to `run`'s delivery engine, which claims as the instance
    # (bot/app.py), like every platform's.
    async with open_web_service(runtime, core) as service:
        assert isinstance(service.senders["wecom"], WecomPush)
        assert isinstance(service.senders["wechat"], WechatCampaign)
        assert service.senders["wechat"].shape == "campaign"
        assert service.senders["wecom"].shape == "batch"
        assert service.loops == []
