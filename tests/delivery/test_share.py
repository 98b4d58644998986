"""Each instance's share of a token's global rate (bot/delivery/share.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.delivery.ratelimit import Gate, RateLimits, global_bucket
from bot.delivery.share import GlobalShare
from tests.virtual_time import run_in_virtual_time

TELEGRAM = RateLimits()  # 30/s, burst 30


def gate(limits: RateLimits | None = TELEGRAM) -> Gate:
    return Gate(limits, time.monotonic, asyncio.sleep, fresh=False)


def test_n_shares_add_up_to_no_more_than_the_whole() -> None:
    whole = global_bucket(30.0, 30, TELEGRAM.headroom)
    for n in (2, 3, 7):
        shared = gate()
        GlobalShare({"telegram": shared}).apply(n)
        bucket = shared.global_tokens
        assert bucket is not None
        assert n * bucket.rate <= whole.rate + 1e-9 and n * bucket.rate >= 0.8 * whole.rate
        assert n * bucket.capacity <= whole.capacity


def test_the_share_follows_the_count_both_ways_and_skips_unlimited_gates() -> None:
    shared, unlimited = gate(), gate(RateLimits.off())
    share = GlobalShare({"telegram": shared, "console": unlimited})
    bucket = shared.global_tokens
    assert bucket is not None and unlimited.global_tokens is None
    full = (bucket.rate, bucket.capacity)
    share.apply(3)
    assert bucket.rate == pytest.approx(full[0] / 3) and share.instances == 3
    share.apply(0)  # never below one instance: this one is alive
    assert (bucket.rate, bucket.capacity) == full and share.instances == 1


def test_a_third_share_sends_a_third_as_fast() -> None:
    # On a virtual clock: the buckets' timers run on the loop's clock, and a busy machine
    # stalling the real one would stretch the measured pace.
    async def thirty() -> float:
        loop = asyncio.get_running_loop()
        limits = RateLimits(global_per_second=60.0, global_burst=60, headroom=0.0)
        shared = Gate(limits, loop.time, asyncio.sleep, fresh=False)  # 30 at hand, then 60/s
        GlobalShare({"telegram": shared}).apply(3)  # a third: 10 tokens at hand, then 20/s
        started = loop.time()
        for _ in range(30):
            await shared.ready()
        return loop.time() - started

    # alone, these 30 would all go at once
    assert run_in_virtual_time(thirty()) == pytest.approx(1.0, abs=0.01)


def test_the_gate_keeps_its_share_without_the_caller_touching_the_bucket() -> None:
    shared = gate()
    bucket = shared.global_tokens
    assert bucket is not None
    full = (bucket.rate, bucket.capacity)
    shared.set_share(2)
    assert shared.share == 2 and bucket.rate == pytest.approx(full[0] / 2)
    assert bucket.tokens <= bucket.capacity  # the tokens at hand shrink with the burst
    shared.set_share(1)
    assert (bucket.rate, bucket.capacity) == full
    gate(RateLimits.off()).set_share(4)  # nothing to split: no error


def test_a_waiter_queued_under_the_old_share_is_served_at_the_new_rate() -> None:
    # A timer armed for the old rate would serve the waiter about a second late: the
    # survivors of a dead instance must speed up as soon as they take up its share.
    # On a virtual clock: on the real one a loaded machine's stalls ate the bound's margin.
    async def served_after() -> float:
        loop = asyncio.get_running_loop()
        limits = RateLimits(global_per_second=20.0, global_burst=2, headroom=0.0)
        shared = Gate(limits, loop.time, asyncio.sleep, fresh=True)  # starts empty
        shared.set_share(20)  # 1/s
        waiting = asyncio.ensure_future(shared.ready())
        await asyncio.sleep(0.05)
        assert not waiting.done()
        started = loop.time()
        shared.set_share(1)  # the whole rate again
        await waiting
        return loop.time() - started

    # The jitter allowance spaces these buckets (2/s, and 1/1.5 s for a twentieth): the
    # token is due 0.48 s after the switch at the new rate, 1.45 s at the old one. On the
    # real clock the bound was 0.5 s: a 17 ms stall failed it.
    assert run_in_virtual_time(served_after()) == pytest.approx(0.4833, abs=0.005)
