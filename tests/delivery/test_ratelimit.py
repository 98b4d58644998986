"""Limits enforced before sending: buckets, the shared pause, per-chat entries."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.config import DeliverySettings
from bot.delivery.ratelimit import ChatLimiters, Gate, Pause, RateLimits, bucket
from tests.delivery.fakes import FakeClock
from tests.fakes.telegram_limits import TokenBucket


def test_buckets_sit_just_inside_the_platform_limit() -> None:
    private = bucket(1.0, 3, 0.02)
    assert private.max_rate == 2 and private.time_period == pytest.approx(2 / 0.98)
    assert bucket(30.0, 30, 0.02).max_rate == 29
    assert bucket(300.0, 300, 0.02).max_rate == 294
    assert bucket(20 / 60, 1, 0.02).max_rate == 1  # never below one token
    with pytest.raises(ValueError):
        bucket(0, 3, 0.02)


def test_limits_come_from_settings_with_overrides() -> None:
    settings = DeliverySettings(global_per_second=25, private_per_second=2, private_burst=4)
    limits = RateLimits.from_settings(settings, group_burst=2)
    assert (limits.global_per_second, limits.private_per_second, limits.private_burst) == (25, 2, 4)
    assert (limits.group_per_minute, limits.group_burst, limits.global_burst) == (20, 2, None)
    assert limits.chat_rate("private") == (2, 4) == limits.chat_rate("user")
    assert limits.chat_rate("group") == (pytest.approx(20 / 60), 2)
    assert limits.chat_rate("channel") == limits.chat_rate("group")
    assert RateLimits.off().chat_rate("private") is None
    configured = DeliverySettings(group_burst=7, global_burst=40, headroom=0.1)
    tuned = RateLimits.from_settings(configured)
    assert (tuned.group_burst, tuned.global_burst, tuned.headroom) == (7, 40, 0.1)
    assert limits.scaled(10).private_per_second == 20 and limits.scaled(10).private_burst == 4


async def test_a_chat_never_exceeds_the_servers_bucket_even_when_sends_lag_their_token() -> None:
    """The engine takes a chat token, then waits for a slot and the global token; the
    send may land right before the next token is due. The server must still accept."""
    loop = asyncio.get_running_loop()
    rate, burst = 40.0, 3
    server = TokenBucket(rate, burst, burst, loop.time())
    client = bucket(rate, burst, 0.02)
    rng = random.Random(3)
    refused = 0
    for _ in range(50):
        await client.acquire()
        await asyncio.sleep(rng.choice([0, 0, rng.uniform(0, 1.5 / rate)]))
        now = loop.time()
        if server.wait_needed(now) > 0:
            refused += 1
        else:
            server.take(now)
    assert refused == 0


async def test_the_global_bucket_paces_sends_after_its_burst() -> None:
    gate = Gate(RateLimits(global_per_second=100, global_burst=10), FakeClock(), asyncio.sleep)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(30):
        await gate.ready()
    # 9 at once (one short of the burst), then 21 more at 98/s
    assert loop.time() - started >= 21 / 98 - 0.01


async def test_pause_holds_every_sender_until_the_latest_deadline() -> None:
    clock = FakeClock()
    pause = Pause(clock, clock.sleep)
    pause.extend(2.0)
    pause.extend(1.0)  # a shorter one does not cut the pause short
    assert pause.remaining == 2.0
    await pause.wait()
    assert clock.now == 2.0 and pause.remaining == 0
    gate = Gate(None, clock, clock.sleep)
    gate.pause.extend(1.5)
    await gate.ready()
    assert clock.now == 3.5


async def test_one_delivery_per_chat_at_a_time_and_entries_forgotten_once_refilled() -> None:
    clock = FakeClock()
    chats = ChatLimiters(RateLimits(private_per_second=1, private_burst=3), clock)
    order: list[str] = []

    async def deliver(name: str) -> None:
        async with chats.hold(7, "private") as limiter:
            assert limiter is not None and limiter.max_rate == 2
            order.append(f"{name} start")
            await asyncio.sleep(0.01)
            order.append(f"{name} end")

    await asyncio.gather(deliver("a"), deliver("b"))
    assert order == ["a start", "a end", "b start", "b end"]
    async with chats.hold(8, "group") as group:
        assert group is not None and group.max_rate == 4
    assert len(chats) == 2  # kept while their buckets may still be partly drained
    clock.now += 60
    async with chats.hold(9, "private"):
        assert len(chats) == 1


async def test_unlimited_platforms_get_no_buckets() -> None:
    chats = ChatLimiters(None, FakeClock())
    async with chats.hold(1, "private") as limiter:
        assert limiter is None
    off = ChatLimiters(RateLimits.off(), FakeClock())
    async with off.hold(1, "group") as limiter:
        assert limiter is None
