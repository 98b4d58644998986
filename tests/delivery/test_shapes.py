"""Sender shapes the engine drives (bot/delivery/types.py), with an in-memory batch sender:
the limits it states are kept, its failures handled by the engine's one lifecycle."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from bot.delivery import DeliveryEngine, pauses
from bot.delivery.types import BatchResult, MaybeSent, SendError, Transient
from storage import subscribers
from tests.delivery.fakes import ScriptedSender
from tests.delivery.helpers import FAST, TUNING, Sessions, counts, seed

PLATFORM = "console"  # any known platform name: the engine only goes by the sender


class Windows:
    """Records what the engine took before each call."""

    def __init__(self) -> None:
        self.taken: list[list[str]] = []

    async def acquire(self, keys: Sequence[str]) -> float:
        self.taken.append(list(keys))
        return 0.0


class BatchSender:
    platform = PLATFORM
    shape = "batch"
    exhausted = "release"

    def __init__(
        self,
        batch_size: int = 3,
        *,
        failures: Sequence[SendError] = (),
        gone: Sequence[str] = (),
        solo: Mapping[str, list[SendError | None]] | None = None,
    ) -> None:
        self.batch_size = batch_size
        self.batch_concurrency = 1
        self.windows = Windows()
        self.failures = list(failures)
        self.gone = set(gone)
        self.solo = dict(solo or {})  # chat -> one outcome per send: sent alone, at most once
        self.calls: list[tuple[list[str], str]] = []  # accepted batch calls
        self.singles: list[tuple[str, str]] = []  # accepted single sends
        self.attempts = 0
        self.in_flight = self.most_in_flight = 0

    def chat_kind(self, chat_id: str) -> str:
        return "user"

    def batchable(self, chat_id: str) -> bool:
        return chat_id not in self.solo

    def at_most_once(self, chat_id: str) -> bool:
        return chat_id in self.solo

    async def send_batch(self, chat_ids: Sequence[str], message: Mapping[str, Any]) -> BatchResult:
        assert self.windows.taken and self.windows.taken[-1] == list(chat_ids)  # taken first
        self.attempts += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            if self.failures:
                raise self.failures.pop(0)
        finally:
            self.in_flight -= 1
        self.calls.append((list(chat_ids), str(message["text"])))
        reached = tuple(c for c in chat_ids if c not in self.gone)
        return BatchResult(reached, tuple(c for c in chat_ids if c in self.gone))

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> None:
        outcomes = self.solo.get(chat_id) or [None]
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if outcome is not None:
            raise outcome
        self.singles.append((chat_id, str(message["text"])))

    def received(self, chat_id: str) -> list[str]:
        return [text for chats, text in self.calls if chat_id in chats]


def engine(sessions: Sessions, sender: BatchSender) -> DeliveryEngine:
    return DeliveryEngine(sessions, {PLATFORM: sender}, FAST, tuning=TUNING, limits={})


async def test_each_message_goes_to_a_batch_in_one_call_within_the_stated_limits(
    sessions: Sessions,
) -> None:
    seeded = await seed(sessions, 25, platform=PLATFORM)  # 5 renderings x 5 chats
    sender = BatchSender(batch_size=3)
    report = await engine(sessions, sender).run_until_idle()
    for chat, expected in seeded.expected.items():
        assert sender.received(str(chat)) == expected  # every message, in order, once
    assert all(0 < len(chats) <= 3 for chats, _ in sender.calls)  # batch_size kept
    assert sender.most_in_flight == 1  # batch_concurrency kept
    per_rendering = sum(len(texts) for texts in {tuple(t) for t in seeded.expected.values()})
    assert len(sender.calls) == 2 * per_rendering  # 5 chats of a rendering: 3 + 2
    assert report.calls == len(sender.calls) and report.deliveries_sent == 25
    assert (await counts(sessions, seeded.issue_id, PLATFORM))["sent"] == 25


async def test_retries_run_out_so_the_batch_goes_back_and_the_platform_rests(
    sessions: Sessions,
) -> None:
    seeded = await seed(sessions, 5, platform=PLATFORM)
    outage = [Transient("502")] * 100
    sender = BatchSender(batch_size=10, failures=outage)
    report = await engine(sessions, sender).run_until_idle()  # returns: no busy loop
    assert sender.calls == [] and report.deliveries_released == 5
    # Each batch retried at most max_attempts times; once one ran out, the rest went back.
    assert sender.attempts <= 5 * FAST.max_attempts
    assert (await counts(sessions, seeded.issue_id, PLATFORM))["pending"] == 5

    sender.failures.clear()  # the next run tries again and delivers
    again = await engine(sessions, sender).run_until_idle()
    assert again.deliveries_sent == 5
    for chat, expected in seeded.expected.items():
        assert sender.received(str(chat)) == expected


async def test_chats_a_call_cannot_reach_are_dropped_the_others_go_on(
    sessions: Sessions,
) -> None:
    seeded = await seed(sessions, 10, platform=PLATFORM)
    gone = str(next(iter(seeded.expected)))
    sender = BatchSender(batch_size=10, gone=[gone])
    report = await engine(sessions, sender).run_until_idle()
    assert report.deliveries_dropped == 1 and report.deliveries_sent == 9
    assert sender.received(gone)[1:] == []  # not sent to again after the first call
    async with sessions() as session:
        subscriber = await subscribers.get_subscriber(session, PLATFORM, gone)
    assert subscriber is not None and not subscriber.active


async def test_an_at_most_once_chat_never_gets_a_message_twice(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    seeded = await seed(sessions, 1, platform=PLATFORM)  # the "all" rendering: 5 messages
    [(chat, expected)] = [(str(c), e) for c, e in seeded.expected.items()]
    # Message 2 leaves without an answer: it may have arrived; it is not sent again.
    sender = BatchSender(solo={chat: [None, MaybeSent("timeout"), None]})
    report = await engine(sessions, sender).run_until_idle()
    assert [text for _, text in sender.singles] == [expected[0], *expected[2:]]
    assert report.deliveries_sent == 1 and report.calls == len(expected) - 1
    [warning] = [r.getMessage() for r in caplog.records if "at-most-once" in r.getMessage()]
    assert f"chat={chat}" in warning and f"message=2/{len(expected)}" in warning


async def test_an_error_burst_pauses_the_issue_only_where_the_errors_are(
    sessions: Sessions,
) -> None:
    """A Telegram outage holds back the issue on Telegram; its deliveries on another
    platform go on (pauses are per platform; `resume` lifts them everywhere)."""
    broken = await seed(sessions, 6, platform="telegram")
    working = await seed(sessions, 6, platform="console")
    assert broken.issue_id == working.issue_id
    outage = {str(chat): [Transient("502")] * 10 for chat in broken.expected}
    telegram = ScriptedSender("telegram", outage)
    console = ScriptedSender("console")
    settings = FAST.model_copy(update={"error_burst": 3})
    senders = {"telegram": telegram, "console": console}
    report = await DeliveryEngine(
        sessions, senders, settings, tuning=TUNING, limits={}
    ).run_until_idle()
    assert report.paused_issues == [broken.issue_id]
    for chat, expected in working.expected.items():
        assert console.texts_to(chat) == expected  # not held back by Telegram's errors
    assert (await counts(sessions, working.issue_id, "console"))["sent"] == 6
    assert (await counts(sessions, broken.issue_id, "telegram"))["sent"] == 0
    async with sessions() as session:
        saved = await pauses.paused_issues(session)
    assert saved[broken.issue_id]["platforms"] == ["telegram"]
