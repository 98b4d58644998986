"""One-shot drains (`tick --deliver`, `publish --deliver`) are short-lived instances: their
claims carry their instance id and are judged by its heartbeat, not by the 60 s rule."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

import bot.app
from bot.app import drain_configured
from bot.cluster import Membership
from bot.cluster.membership import short_lived
from bot.config import ClusterSettings, Settings, StorageSettings
from bot.delivery.ratelimit import Gate
from bot.delivery.types import StoredMessage
from bot.runtime import Runtime, open_runtime
from storage import instances
from storage.deliveries import claim_for_sending
from storage.models import DeliveryRow, InstanceRow
from tests.delivery.helpers import Sessions, seed

FAST_CLUSTER = ClusterSettings(heartbeat_seconds=0.2, stale_seconds=0.8)


@pytest.fixture
async def runtime(sqlite_sessions: Sessions) -> AsyncIterator[Runtime]:
    url = str(sqlite_sessions.kw["bind"].url)
    async with open_runtime(Settings(storage=StorageSettings(url=url))) as rt:
        yield rt


class Witness:
    """A console sender that looks, at each send, at who holds the claim."""

    platform = "console"

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.claimants: set[str | None] = set()
        self.instances: set[str] = set()

    def chat_kind(self, chat_id: str) -> str:
        return "user"

    async def send(self, chat_id: str, message: StoredMessage) -> str | None:
        async with self.sessions() as session:
            held = await session.scalars(
                select(DeliveryRow.claimed_by).where(DeliveryRow.status == "sending")
            )
            self.claimants.update(held)
            self.instances.update(await session.scalars(select(InstanceRow.id)))
        return None


async def test_a_one_shot_drain_claims_as_an_instance_and_leaves_at_the_end(
    runtime: Runtime, sqlite_sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = await seed(sqlite_sessions, 3, platform="console")
    witness = Witness(sqlite_sessions)

    @contextlib.asynccontextmanager
    async def senders(settings: Any) -> AsyncIterator[dict[str, Witness]]:
        yield {"console": witness}

    monkeypatch.setattr(bot.app, "delivery_senders", senders)
    report = await drain_configured(runtime)
    assert report.deliveries_sent == len(seeded.expected)
    [claimant] = witness.claimants  # every claim named one instance, registered meanwhile
    assert claimant is not None and claimant in witness.instances
    async with sqlite_sessions() as session:
        assert list(await session.scalars(select(InstanceRow.id))) == []  # it left


async def test_a_stopped_drain_hands_back_at_once_and_a_killed_ones_claims_lapse_fast(
    sqlite_sessions: Sessions,
) -> None:
    await seed(sqlite_sessions, 4, platform="console")
    with contextlib.suppress(asyncio.CancelledError):
        async with short_lived(sqlite_sessions, FAST_CLUSTER) as dead:
            async with sqlite_sessions.begin() as session:
                claimed = await claim_for_sending(session, 10, claimed_by=dead.id)
            assert len(claimed) == 4
            raise asyncio.CancelledError  # Ctrl-C: a stop, not a kill
    # A stop (even a cancelled one) hands the claims back at once.
    async with sqlite_sessions() as session:
        statuses = set(await session.scalars(select(DeliveryRow.status)))
    assert statuses == {"pending"}

    # A kill leaves them claimed; the 60 s rule would keep them a minute, the heartbeat
    # gives them back once the dead drain is `stale_seconds` silent. Its silence is dated
    # back rather than slept out: with 0.8 s of staleness, a loaded machine between the
    # two joins could make the drain look dead while it was alive.
    settings = ClusterSettings(heartbeat_seconds=0.2, stale_seconds=5.0)
    dead = Membership(sqlite_sessions, settings)
    await dead.join()
    async with sqlite_sessions.begin() as session:
        await claim_for_sending(session, 10, claimed_by=dead.id)  # then killed: no leave()
    survivor = Membership(sqlite_sessions, settings)
    await survivor.join()
    assert survivor.requeued == 0  # the drain is alive yet
    async with sqlite_sessions.begin() as session:
        now = await instances.database_now(session)
        silent_since = now - timedelta(seconds=settings.stale_seconds + 0.1)
        await session.execute(
            update(InstanceRow).where(InstanceRow.id == dead.id).values(heartbeat_at=silent_since)
        )
    await survivor.beat()
    assert survivor.requeued == 4


async def test_beside_a_running_instance_a_drain_keeps_its_share_of_the_global_rate(
    sqlite_sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its own full-rate bucket beside instances each keeping 1/N would overrun the token's
    # global limit for as long as the drain runs.
    url = str(sqlite_sessions.kw["bind"].url)
    cluster = ClusterSettings(heartbeat_seconds=0.2, stale_seconds=1.0)
    seen: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def senders(settings: Any) -> AsyncIterator[dict[str, Any]]:
        yield {"telegram": object(), "console": object()}

    async def drain(runtime: Runtime, senders: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return None

    monkeypatch.setattr(bot.app, "delivery_senders", senders)
    monkeypatch.setattr(bot.app, "drain", drain)
    running = Membership(sqlite_sessions, cluster)
    await running.join()
    beating = asyncio.create_task(running.run())
    settings = Settings(storage=StorageSettings(url=url), cluster=cluster)
    try:
        async with open_runtime(settings) as runtime:
            await drain_configured(runtime)
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)
    [(name, gate)] = seen["gates"].items()
    assert name == "telegram" and gate.share == 2
    whole, mine = Gate(gate.limits, time.monotonic, asyncio.sleep).global_tokens, gate.global_tokens
    assert whole is not None and mine is not None
    assert mine.rate == pytest.approx(whole.rate / 2)
