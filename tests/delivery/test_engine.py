"""DeliveryEngine policy with in-memory senders, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.delivery import DeliveryEngine, EngineTuning, pauses
from bot.delivery.ratelimit import Gate, Urgent
from bot.delivery.types import ChatGone, ChatMigrated, Permanent, RetryAfter, Transient
from bot.publish.alerts import StreamNotifier
from storage import subscribers
from storage.models import DeliveryRow, SubscriberRow
from tests.delivery.fakes import FakeClock, ScriptedSender
from tests.delivery.helpers import FAST, RENDERINGS, TUNING, Sessions, counts, seed
from tests.storage.factories import at

NO_LIMITS: dict[str, Any] = {}


def make_engine(
    sessions: Sessions, sender: ScriptedSender, clock: FakeClock | None = None, **options: Any
) -> DeliveryEngine:
    settings = options.pop("settings", FAST)
    if clock is not None:
        options.update(clock=clock, sleep=clock.sleep)
    options.setdefault("tuning", TUNING)
    options.setdefault("limits", NO_LIMITS)
    return DeliveryEngine(sessions, {sender.platform: sender}, settings, **options)


async def rows_by_chat(sessions: Sessions, issue_id: int) -> dict[str, DeliveryRow]:
    async with sessions() as session:
        result = await session.execute(
            select(SubscriberRow.chat_id, DeliveryRow)
            .join(DeliveryRow, DeliveryRow.subscriber_id == SubscriberRow.id)
            .where(DeliveryRow.issue_id == issue_id)
        )
        return {chat: row for chat, row in result}


async def test_every_chat_gets_its_messages_in_order_each_recorded_before_the_next(
    sessions: Sessions,
) -> None:
    seeded = await seed(sessions, 24)
    violations: list[str] = []
    sender: ScriptedSender

    async def checkpoint_precedes_send(chat_id: str, message: Mapping[str, Any]) -> None:
        # The chat's previous accepted messages must all be committed by now.
        rows = await rows_by_chat(sessions, seeded.issue_id)
        accepted = len(sender.texts_to(chat_id))
        if rows[chat_id].messages_sent != accepted:
            violations.append(f"{chat_id}: db {rows[chat_id].messages_sent} != {accepted}")

    sender = ScriptedSender(before_send=checkpoint_precedes_send)
    report = await make_engine(sessions, sender).run_until_idle()

    assert violations == []
    for chat, expected in seeded.expected.items():
        assert sender.texts_to(chat) == expected
    assert report.messages_sent == sum(len(e) for e in seeded.expected.values())
    assert report.deliveries_sent == 24 and report.commits >= 1
    rows = await rows_by_chat(sessions, seeded.issue_id)
    assert {(r.status, r.messages_sent == r.messages_total) for r in rows.values()} == {
        ("sent", True)
    }
    assert all(r.sent_at is not None and r.last_error is None for r in rows.values())


async def test_sends_in_flight_never_exceed_the_workers(sessions: Sessions) -> None:
    await seed(sessions, 40)
    in_flight = peak = 0

    async def track(chat_id: str, message: Mapping[str, Any]) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.002)
        in_flight -= 1

    settings = FAST.model_copy(update={"workers": 3})
    sender = ScriptedSender(before_send=track)
    await make_engine(sessions, sender, settings=settings).run_until_idle()
    assert peak == 3


async def test_flood_control_pauses_every_chat_then_retries_the_same_message(
    sessions: Sessions,
) -> None:
    seeded = await seed(sessions, 12)
    victim = str(next(iter(seeded.expected)))
    # Stamped where they happen, not when a send starts: a send past the gate before the
    # refusal may start after it, later still on a loaded machine (a stall outlasts any
    # fixed grace for it: 50 ms from the refused attempt's start was allowed).
    passed_at: list[float] = []
    refused_at: list[float] = []

    class StampedGate(Gate):
        async def ready(self, *, priority: bool = False, urgent: Urgent | None = None) -> None:
            await super().ready(priority=priority, urgent=urgent)
            passed_at.append(time.monotonic())

    class StampedSender(ScriptedSender):
        async def send(self, chat_id: str, message: Mapping[str, Any]) -> None:
            try:
                await super().send(chat_id, message)
            except RetryAfter:
                refused_at.append(time.monotonic())
                raise

    sender = StampedSender(script={victim: [RetryAfter(0.3)]}, delay=0.01)
    settings = FAST.model_copy(update={"workers": 2, "retry_margin_seconds": 0.05})
    gate = StampedGate(None, time.monotonic, asyncio.sleep, fresh=False)
    engine = make_engine(sessions, sender, settings=settings, gates={"telegram": gate})
    report = await engine.run_until_idle()

    # The pause (0.3 s and the margin) starts as the refusal comes back: nothing passes
    # the gate within it.
    [refused] = refused_at
    later = [t for t in passed_at if t > refused]
    assert later and min(later) - refused >= 0.35 - 0.01
    assert report.rate_limited == 1
    for chat, expected in seeded.expected.items():
        assert sender.texts_to(chat) == expected


async def test_gone_chat_is_deactivated_and_all_its_deliveries_dropped(sessions: Sessions) -> None:
    first = await seed(sessions, 6)
    second = await seed(sessions, 6, issue_day=2)  # the same chats, a later issue
    gone = str(next(iter(first.expected)))
    sender = ScriptedSender(
        script={gone: [None, ChatGone("Forbidden: bot was blocked by the user")]}
    )
    report = await make_engine(sessions, sender).run_until_idle()

    assert sender.texts_to(gone) == first.expected[int(gone)][:1]
    rows = await rows_by_chat(sessions, first.issue_id)
    assert (rows[gone].status, rows[gone].messages_sent) == ("dropped", 1)
    assert rows[gone].last_error == "Forbidden: bot was blocked by the user"
    later = (await rows_by_chat(sessions, second.issue_id))[gone]
    assert (later.status, later.messages_sent) == ("dropped", 0)
    async with sessions() as session:
        subscriber = await subscribers.get_subscriber(session, "telegram", gone)
    assert subscriber is not None and not subscriber.active
    assert subscriber.deactivation_reason == "Forbidden: bot was blocked by the user"
    assert report.deliveries_dropped == 2 and report.deliveries_sent == 10


async def test_migrated_group_is_followed_to_its_new_id(sessions: Sessions) -> None:
    seeded = await seed(sessions, 5)
    group = next(str(c) for c in seeded.expected if c < 0)
    sender = ScriptedSender(script={group: [ChatMigrated("-100777")]})
    report = await make_engine(sessions, sender).run_until_idle()

    assert sender.attempts.count(group) == 1 and sender.texts_to(group) == []
    assert sender.texts_to("-100777") == seeded.expected[int(group)]
    async with sessions() as session:
        assert await subscribers.get_subscriber(session, "telegram", group) is None
        moved = await subscribers.get_subscriber(session, "telegram", "-100777")
    assert moved is not None and moved.id == seeded.subscriber_ids[int(group)]
    assert report.migrated == 1 and report.deliveries_sent == 5


async def test_transient_errors_back_off_exponentially_then_fail_with_the_error(
    sessions: Sessions,
) -> None:
    seeded = await seed(sessions, 2)
    flaky, broken = (str(c) for c in seeded.expected)
    clock = FakeClock()
    sender = ScriptedSender(
        script={
            flaky: [Transient("Timed out"), Transient("Internal Server Error")],
            broken: [None, *[Transient("Bad Gateway")] * FAST.max_attempts],
        }
    )
    tuning = EngineTuning(stale_after=2, backoff_base=1.0, backoff_max=3.0)
    report = await make_engine(sessions, sender, clock, tuning=tuning).run_until_idle()

    rows = await rows_by_chat(sessions, seeded.issue_id)
    assert rows[flaky].status == "sent"
    assert sender.texts_to(flaky) == seeded.expected[int(flaky)]
    assert (rows[broken].status, rows[broken].messages_sent) == ("failed", 1)
    assert rows[broken].last_error == "Bad Gateway"
    assert sender.attempts.count(broken) == 1 + FAST.max_attempts
    # flaky: 1, 2; broken: 1, 2, 3 (capped at backoff_max) — interleaved
    assert sorted(clock.sleeps) == [1.0, 1.0, 2.0, 2.0, 3.0]
    assert report.retries == 5 and report.deliveries_failed == 1


async def test_refused_message_fails_the_delivery_at_once(sessions: Sessions) -> None:
    seeded = await seed(sessions, 3)
    bad = str(next(iter(seeded.expected)))
    refusal = Permanent("Bad Request: can't parse entities: unclosed tag")
    sender = ScriptedSender(script={bad: [None, refusal]})
    await make_engine(sessions, sender).run_until_idle()
    row = (await rows_by_chat(sessions, seeded.issue_id))[bad]
    assert (row.status, row.messages_sent, row.last_error) == ("failed", 1, str(refusal))
    assert sender.attempts.count(bad) == 2
    assert await counts(sessions, seeded.issue_id) == {
        "pending": 0,
        "sending": 0,
        "sent": 2,
        "failed": 1,
        "dropped": 0,
    }


async def test_a_failing_chat_never_delays_the_others(sessions: Sessions) -> None:
    seeded = await seed(sessions, 30)
    slow = [str(c) for c in list(seeded.expected)[:2]]  # as many as there are slots
    others = {str(c): e for c, e in seeded.expected.items() if str(c) not in slow}
    sender = ScriptedSender(script={chat: [Transient("Timed out")] * 2 for chat in slow})
    others_done = asyncio.Event()
    original = sender.send

    async def send(chat_id: str, message: Mapping[str, Any]) -> None:
        await original(chat_id, message)
        if all(sender.texts_to(chat) == texts for chat, texts in others.items()):
            others_done.set()

    async def backoff_until_others_are_done(seconds: float) -> None:
        await others_done.wait()  # deadlocks if a backing-off chat kept its slot

    sender.send = send  # type: ignore[method-assign]
    settings = FAST.model_copy(update={"workers": 2})
    engine = make_engine(sessions, sender, settings=settings, sleep=backoff_until_others_are_done)
    await asyncio.wait_for(engine.run_until_idle(), 20)

    last_other = max(i for i, (chat, _) in enumerate(sender.sent) if chat not in slow)
    first_slow = min(i for i, (chat, _) in enumerate(sender.sent) if chat in slow)
    assert first_slow > last_other
    for chat in slow:
        assert sender.texts_to(chat) == seeded.expected[int(chat)]


async def test_error_burst_pauses_the_issue_alerts_once_and_resumes_later(
    sessions: Sessions,
) -> None:
    seeded = await seed(sessions, 20)
    failing = {str(c): [Transient("Internal Server Error")] * 2 for c in seeded.expected}
    sender = ScriptedSender(script=failing)
    alerts: list[Any] = []

    class Recorder:
        async def alert(self, alert: Any) -> None:
            alerts.append(alert)

    settings = FAST.model_copy(update={"error_burst": 5})
    clock = FakeClock()
    engine = make_engine(sessions, sender, clock, settings=settings, notifier=Recorder())
    report = await engine.run_until_idle()

    assert report.paused_issues == [seeded.issue_id]
    [alert] = alerts
    assert "2025-03-01" in alert.text and "briefbot resume 2025-03-01" in alert.text
    assert alert.issue_id == seeded.issue_id and alert.errors == 5
    left = await counts(sessions, seeded.issue_id)
    assert left["pending"] >= 15 and left["failed"] == 0 and left["sending"] == 0
    async with sessions() as session:
        assert seeded.issue_id in await pauses.paused_issues(session)
    # Paused issues are not claimed again until resumed.
    again = await make_engine(sessions, sender, clock, settings=settings).run_until_idle()
    assert again.messages_sent == 0
    async with sessions.begin() as session:
        assert await pauses.resume_issue(session, seeded.issue_id, at(5))
    healthy = ScriptedSender()
    await make_engine(sessions, healthy, clock, settings=settings).run_until_idle()
    assert (await counts(sessions, seeded.issue_id))["pending"] == 0
    for chat, expected in seeded.expected.items():
        assert sender.texts_to(chat) + healthy.texts_to(chat) == expected


async def test_deliveries_are_held_in_a_bounded_window(sessions: Sessions) -> None:
    await seed(sessions, 60)
    engine: DeliveryEngine
    held: list[int] = []

    async def watch(chat_id: str, message: Mapping[str, Any]) -> None:
        held.append(engine.held)

    sender = ScriptedSender(before_send=watch)
    settings = FAST.model_copy(update={"batch_size": 4})
    engine = make_engine(sessions, sender, settings=settings, tuning=EngineTuning(window=8))
    report = await engine.run_until_idle()
    assert report.deliveries_sent == 60
    assert max(held) <= 8 and engine.held == 0


async def test_run_forever_picks_up_new_deliveries_and_releases_on_stop(
    sessions: Sessions,
) -> None:
    first = await seed(sessions, 4)
    stuck = str(next(iter(first.expected)))
    sender = ScriptedSender(script={stuck: [None, Transient("Timed out")]})
    tuning = EngineTuning(stale_after=2, backoff_base=30, idle_poll=0.05)
    engine = make_engine(sessions, sender, tuning=tuning)
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run_forever(stop))
    second = await seed(sessions, 4, issue_day=2)
    for _ in range(200):
        if (await counts(sessions, second.issue_id))["sent"] == 3:
            break
        await asyncio.sleep(0.02)
    stop.set()
    report = await asyncio.wait_for(running, 5)  # not held up by the 30 s backoff

    # The stuck chat's next issue waits behind its first: one delivery per chat at a time.
    assert (await counts(sessions, second.issue_id))["sent"] == 3
    row = (await rows_by_chat(sessions, first.issue_id))[stuck]
    assert (row.status, row.messages_sent) == ("pending", 1)  # resumes at message 2
    row = (await rows_by_chat(sessions, second.issue_id))[stuck]
    assert (row.status, row.messages_sent) == ("pending", 0)
    assert report.deliveries_released == 2


async def test_orphans_of_a_dead_process_are_resumed_but_live_claims_left_alone(
    sessions: Sessions,
) -> None:
    seeded = await seed(sessions, 3)
    dead, alive, fresh = (str(c) for c in seeded.expected)
    rows = await rows_by_chat(sessions, seeded.issue_id)
    long_ago = at(0) - timedelta(days=1)
    async with sessions.begin() as session:
        for chat, stamp in ((dead, long_ago), (alive, at(10_000_000))):
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == rows[chat].id)
                .values(status="sending", messages_sent=1, attempts=1, updated_at=stamp)
            )
    sender = ScriptedSender()
    report = await make_engine(sessions, sender).run_until_idle()

    assert sender.texts_to(dead) == seeded.expected[int(dead)][1:]
    assert sender.texts_to(alive) == []
    assert sender.texts_to(fresh) == seeded.expected[int(fresh)]
    assert report.requeued == 1
    assert (await rows_by_chat(sessions, seeded.issue_id))[alive].status == "sending"


async def test_a_delivery_claimed_elsewhere_is_abandoned(sessions: Sessions) -> None:
    seeded = await seed(sessions, 1)  # renders "all": five messages
    [chat] = (str(c) for c in seeded.expected)

    async def steal(chat_id: str, message: Mapping[str, Any]) -> None:
        if message["text"] == RENDERINGS["all"][1]["text"]:
            async with sessions.begin() as session:  # another process's claim
                await session.execute(update(DeliveryRow).values(attempts=DeliveryRow.attempts + 1))

    sender = ScriptedSender(before_send=steal)
    report = await make_engine(sessions, sender).run_until_idle()
    assert len(sender.texts_to(chat)) == 2 and report.deliveries_lost == 1
    row = (await rows_by_chat(sessions, seeded.issue_id))[chat]
    assert (row.status, row.messages_sent) == ("sending", 1)  # untouched by the loser


async def test_rows_without_a_sender_or_subscriber_are_not_sent(sessions: Sessions) -> None:
    wechat = await seed(sessions, 2, platform="wechat")
    telegram = await seed(sessions, 3, issue_day=2)
    quiet = str(next(iter(telegram.expected)))
    async with sessions.begin() as session:
        await subscribers.deactivate(session, telegram.subscriber_ids[int(quiet)], "/stop")
    sender = ScriptedSender()
    await make_engine(sessions, sender).run_until_idle()

    assert (await counts(sessions, wechat.issue_id, "wechat"))["pending"] == 2
    assert sender.texts_to(quiet) == []
    row = (await rows_by_chat(sessions, telegram.issue_id))[quiet]
    assert (row.status, row.last_error) == ("dropped", "subscriber inactive")


async def test_an_engine_runs_once_at_a_time(sessions: Sessions) -> None:
    await seed(sessions, 2)
    engine = make_engine(sessions, ScriptedSender(delay=0.05))
    first = asyncio.create_task(engine.run_until_idle())
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="already running"):
        await engine.run_until_idle()
    await first


async def test_a_row_whose_last_message_was_recorded_is_completed_without_sending(
    sessions: Sessions,
) -> None:
    seeded = await seed(sessions, 2)
    done, other = (str(c) for c in seeded.expected)
    rows = await rows_by_chat(sessions, seeded.issue_id)
    async with sessions.begin() as session:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == rows[done].id)
            .values(messages_sent=DeliveryRow.messages_total)
        )
    sender = ScriptedSender()
    report = await make_engine(sessions, sender).run_until_idle()
    assert sender.texts_to(done) == [] and sender.texts_to(other) == seeded.expected[int(other)]
    assert (await rows_by_chat(sessions, seeded.issue_id))[done].status == "sent"
    assert report.deliveries_sent == 2


async def test_pause_alerts_reach_the_publishers_notifiers(sessions: Sessions) -> None:
    """The runtime passes bot.publish.alerts notifiers; the engine's alert must fit them."""
    seeded = await seed(sessions, 6)
    stream = io.StringIO()
    sender = ScriptedSender(script={str(c): [Transient("Bad Gateway")] for c in seeded.expected})
    settings = FAST.model_copy(update={"error_burst": 3})
    engine = make_engine(
        sessions, sender, FakeClock(), settings=settings, notifier=StreamNotifier(stream)
    )
    await engine.run_until_idle()
    assert "Delivery of issue 2025-03-01 paused: 3 send errors" in stream.getvalue()
    assert "Bad Gateway" in stream.getvalue()
