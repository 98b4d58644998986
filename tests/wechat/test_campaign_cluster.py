"""Official Account campaigns with several instances on one PostgreSQL: one instance runs
an issue's campaign at a time, a dead one's campaign resumes elsewhere within 15 s without
a second mass send, and the ledger's claims hold under concurrency."""

from __future__ import annotations

import asyncio
import time as wallclock
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from bot.cluster import Membership
from bot.config import ClusterSettings
from bot.delivery.engine import DeliveryEngine, EngineTuning
from bot.platforms.wechat.campaign import WechatCampaign
from bot.platforms.wechat.tags import tag_name
from bot.platforms.wechat_common.api import WechatApi
from bot.runtime import Runtime
from bot.web.service import official_api
from storage.deliveries import status_counts
from storage.models import DeliveryRow
from storage.wechat import claim_part, mass_sends_on
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.test_campaign import (
    EXPECTED,
    FOLLOWERS,
    add_followers,
    campaign,
    mass_by_tag,
    publish,
    server,
    wechat_server,
)

__all__ = ["server", "wechat_server"]
T = TypeVar("T")
# Several instances need a shared database: PostgreSQL only.
pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
CLUSTER = ClusterSettings(heartbeat_seconds=0.5, stale_seconds=2.0)


class Killed(BaseException):
    """The process is gone: nothing after it runs, nothing more is written."""


class FreezeAfterMassSend:
    """The real API, hanging once WeChat accepted the first mass send (the instance dies
    with that send accepted and not recorded), until `killed`: then it is gone."""

    def __init__(self, api: WechatApi[Any], server: FakeWeChatServer) -> None:
        self._api = api
        self._server = server
        self.frozen = asyncio.Event()
        self.killed = asyncio.Event()

    async def call(self, fn: Callable[[Any], T]) -> T:
        result = await self._api.call(fn)
        if self._server.mp.sent("mass"):
            self.frozen.set()
            await self.killed.wait()
            raise Killed
        return result


def engine(runtime: Runtime, sender: WechatCampaign, claimant: str) -> DeliveryEngine:
    """The delivery engine with the campaign as its wechat sender, claiming as `claimant`."""
    tuning = EngineTuning(idle_poll=0.2)
    settings = runtime.settings.delivery
    senders = {"wechat": sender}
    return DeliveryEngine(runtime.sessions, senders, settings, tuning=tuning, claimant=claimant)


async def holders(runtime: Runtime, issue_id: int) -> set[str | None]:
    """Who holds the claim of the issue's wechat deliveries still sending."""
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(DeliveryRow.claimed_by).where(
                DeliveryRow.issue_id == issue_id,
                DeliveryRow.platform == "wechat",
                DeliveryRow.status == "sending",
            )
        )
        return set(rows)


async def test_one_instance_runs_a_campaign_and_a_dead_ones_resumes_within_15_s(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    api = official_api(runtime)
    assert api is not None
    dying, living = Membership(runtime.sessions, CLUSTER), Membership(runtime.sessions, CLUSTER)
    await dying.join()
    await living.join()
    dying_beat, living_beat = asyncio.create_task(dying.run()), asyncio.create_task(living.run())
    frozen = FreezeAfterMassSend(api, server)
    first = engine(runtime, campaign(runtime, server, frozen), dying.id)
    second = engine(runtime, campaign(runtime, server), living.id)
    stop = asyncio.Event()
    doomed = asyncio.create_task(first.run_until_idle())
    survivor: asyncio.Task[Any] | None = None
    try:
        await asyncio.wait_for(frozen.frozen.wait(), 30)
        # While the holder lives (hung or not), nobody else runs its campaign.
        assert (await second.run_until_idle()).campaigns == []
        survivor = asyncio.create_task(second.run_forever(stop))
        await asyncio.sleep(1.0)
        assert len(server.mp.sent("mass")) == 1
        assert await holders(runtime, issue_id) == {dying.id}
        # The kill: the heartbeat stops; the hung task is left as it is, a zombie.
        killed_at = wallclock.monotonic()
        dying_beat.cancel()
        while (await wechat_counts(runtime, issue_id)).get("sent", 0) < len(FOLLOWERS):
            assert wallclock.monotonic() - killed_at < 15, "the dead instance's campaign is stuck"
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        frozen.killed.set()  # the zombie goes, writing nothing
        living_beat.cancel()
        await asyncio.gather(
            doomed,
            dying_beat,
            living_beat,
            *([survivor] if survivor else []),
            return_exceptions=True,
        )
    # The accepted but unrecorded part was resent with its clientmsgid: WeChat said 45065.
    assert mass_by_tag(server) == {tag_name(p): [audience] for p, audience in EXPECTED.items()}
    errcodes = [r.errcode for r in server.mp.calls("/cgi-bin/message/mass/sendall")]
    assert errcodes.count(45065) == 1
    assert await holders(runtime, issue_id) == set()  # settled when finished
    counts = await wechat_counts(runtime, issue_id)
    assert {status for status, n in counts.items() if n} == {"sent"}


async def wechat_counts(runtime: Runtime, issue_id: int) -> dict[str, int]:
    async with runtime.sessions() as session:
        return (await status_counts(session, issue_id)).get("wechat", {})


async def claim(runtime: Runtime, part: str, quota: int) -> str:
    async with runtime.sessions.begin() as session:
        return await claim_part(
            session, "app", 1, part, tag_id=1, client_msg_id=part, day="2026-11-17", quota=quota
        )


async def test_concurrent_claims_of_one_part_go_once_and_count_one_send(
    runtime: Runtime,
) -> None:
    # Read-then-write without locks lets two claims both see the part unclaimed (two
    # "go": two sends) and both count the same unit of quota.
    outcomes = await asyncio.gather(*(claim(runtime, "all", 10) for _ in range(8)))
    assert sorted(outcomes) == ["go"] + ["resume"] * 7
    async with runtime.sessions() as session:
        assert await mass_sends_on(session, "app", "2026-11-17") == 1


async def test_concurrent_claims_of_many_parts_never_exceed_the_quota(runtime: Runtime) -> None:
    outcomes = await asyncio.gather(*(claim(runtime, f"part{i}", 3) for i in range(8)))
    assert sorted(outcomes) == ["go"] * 3 + ["no_quota"] * 5
    async with runtime.sessions() as session:
        assert await mass_sends_on(session, "app", "2026-11-17") == 3
