"""The per-user token bucket: burst, one warning, silence, refill, independence."""

from __future__ import annotations

from bot.commands import FloodGuard, FloodPolicy, Verdict
from bot.commands.flood import MAX_TRACKED


def test_burst_then_one_warning_then_silence() -> None:
    guard = FloodGuard(FloodPolicy(per_minute=20, burst=5))
    verdicts = [guard.check("u1", 0.0) for _ in range(8)]
    assert verdicts == [Verdict.OK] * 5 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]


def test_refill_at_the_sustained_rate() -> None:
    guard = FloodGuard(FloodPolicy(per_minute=20, burst=5))  # one token per 3 s
    for _ in range(5):
        guard.check("u1", 0.0)
    assert guard.check("u1", 2.9) is Verdict.WARN
    assert guard.check("u1", 3.0) is Verdict.OK  # 3.0 s -> one token
    assert guard.check("u1", 3.1) is Verdict.WARN  # warned again after a success
    assert guard.check("u1", 60.0) is Verdict.OK


def test_one_users_flood_never_slows_another() -> None:
    guard = FloodGuard(FloodPolicy(per_minute=20, burst=2))
    for _ in range(10):
        guard.check("flooder", 0.0)
    assert [guard.check("calm", 0.0) for _ in range(2)] == [Verdict.OK, Verdict.OK]


def test_clock_going_backwards_does_not_mint_tokens() -> None:
    guard = FloodGuard(FloodPolicy(per_minute=60, burst=1))
    assert guard.check("u", 100.0) is Verdict.OK
    assert guard.check("u", 50.0) is Verdict.WARN
    assert guard.check("u", 100.5) is Verdict.DROP


def test_idle_buckets_are_forgotten_when_many_users() -> None:
    guard = FloodGuard(FloodPolicy(per_minute=60, burst=1))
    for i in range(MAX_TRACKED):
        guard.check(f"user{i}", 0.0)
    assert len(guard) == MAX_TRACKED
    guard.check("late", 10.0)  # everybody refilled by now
    assert len(guard) == 1
