"""The engine with the real Telegram sender against the strict local Bot API server.

Limits run at ten times Telegram's on both sides (tests/delivery/helpers.py), so
hundreds of chats take seconds while the same arithmetic is exercised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.delivery import DeliveryEngine, DrainReport
from bot.platforms.telegram.sender import TelegramSender
from storage import subscribers
from storage.deliveries.writes import sent_message_ids
from tests.delivery.helpers import (
    CLIENT_LIMITS,
    FAST,
    RENDERINGS,
    SERVER_LIMITS,
    TUNING,
    Sessions,
    counts,
    seed,
)
from tests.delivery.test_engine import rows_by_chat
from tests.fakes.telegram_fixtures import ServerFactory
from tests.fakes.telegram_limits import Fault
from tests.fakes.telegram_server import FakeTelegramServer

# python-telegram-bot's own RetryAfter constructor reads its deprecated int attribute.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@asynccontextmanager
async def telegram_engine(
    sessions: Sessions, server: FakeTelegramServer, **options: Any
) -> AsyncIterator[DeliveryEngine]:
    settings = options.pop("settings", FAST)
    # The sender's own default: a send answered after its read timeout is resent, and
    # Telegram has no idempotency key, so a short timeout on a loaded machine would
    # repeat messages the server had accepted. Tests of hangs cut it themselves.
    read_timeout = options.pop("read_timeout", 10.0)
    async with TelegramSender.open(
        server.token, server.base_url, read_timeout=read_timeout
    ) as sender:
        yield DeliveryEngine(
            sessions,
            {"telegram": sender},
            settings,
            limits={"telegram": CLIENT_LIMITS},
            tuning=TUNING,
            **options,
        )


async def deliver(sessions: Sessions, server: FakeTelegramServer, **options: Any) -> DrainReport:
    async with telegram_engine(sessions, server, **options) as engine:
        return await engine.run_until_idle()


def received(server: FakeTelegramServer) -> dict[int, list[str]]:
    by_chat: dict[int, list[str]] = defaultdict(list)
    for message in server.messages:
        by_chat[message.chat_id].append(message.text)
    return by_chat


def refusals(server: FakeTelegramServer) -> list[tuple[int | None, str | None]]:
    return [(c.status, c.description) for c in server.calls if c.status != 200]


async def test_300_chats_get_exactly_their_messages_in_order_without_a_429(
    sqlite_sessions: Sessions, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory(rate_limits=SERVER_LIMITS)
    seeded = await seed(sqlite_sessions, 300)
    report = await deliver(sqlite_sessions, server)

    assert refusals(server) == []  # no 429, nor anything else
    assert dict(received(server)) == seeded.expected
    assert report.messages_sent == sum(map(len, seeded.expected.values())) == len(server.messages)
    assert report.rate_limited == 0 and report.deliveries_sent == 300
    assert (await counts(sqlite_sessions, seeded.issue_id))["sent"] == 300
    flags = {m["text"]: m["disable_preview"] for r in RENDERINGS.values() for m in r}
    for message in server.messages:
        assert message.parse_mode == "HTML" and "<b>" not in message.visible_text
        assert message.link_preview_options == {"is_disabled": flags[message.text]}


async def test_flood_control_pauses_everyone_and_retries_the_same_message(
    sessions: Sessions, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory(rate_limits=SERVER_LIMITS)
    seeded = await seed(sessions, 20)
    server.faults.add(Fault("sendMessage", "429", times=1, chat_id=1005, retry_after=1))
    report = await deliver(sessions, server)

    assert dict(received(server)) == seeded.expected  # 1005's refused message came later
    assert refusals(server) == [(429, "Too Many Requests: retry after 1")]
    [flood] = [i for i, c in enumerate(server.calls) if c.status == 429]
    refused_at = server.calls[flood].time
    later = [c.time - refused_at for c in server.calls[flood + 1 :]]
    # Only requests already on the wire (one per other slot) land during the pause.
    assert len([t for t in later if t < 1.0]) <= FAST.workers - 1
    assert any(t >= 1.0 for t in later)
    assert report.rate_limited == 1


async def test_blocked_deactivated_kicked_and_unknown_chats_are_dropped(
    sessions: Sessions, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory(rate_limits=SERVER_LIMITS)
    seeded = await seed(sessions, 14)
    server.block(1000)
    server.deactivate(1001)
    server.kick(-5003)
    server.forget(1004)
    gone = {1000: "blocked", 1001: "user is deactivated", -5003: "kicked", 1004: "chat not found"}
    report = await deliver(sessions, server)

    assert dict(received(server)) == {
        chat: texts for chat, texts in seeded.expected.items() if chat not in gone
    }
    rows = await rows_by_chat(sessions, seeded.issue_id)
    async with sessions() as session:
        for chat, reason in gone.items():
            assert rows[str(chat)].status == "dropped"
            subscriber = await subscribers.get_subscriber(session, "telegram", str(chat))
            assert subscriber is not None and not subscriber.active
            assert reason in (subscriber.deactivation_reason or "").lower()
    assert report.deliveries_dropped == 4 and report.deliveries_sent == 10


async def test_timeouts_and_server_errors_are_retried_then_given_up(
    sessions: Sessions, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory(rate_limits=SERVER_LIMITS)
    seeded = await seed(sessions, 10)
    server.faults.add(Fault("sendMessage", "500", times=2, chat_id=1000))
    server.faults.add(Fault("sendMessage", "hang", times=1, chat_id=1002, hang_seconds=4.0))
    server.faults.add(Fault("sendMessage", "500", times=99, chat_id=1004))
    report = await deliver(sessions, server, read_timeout=2.0)  # cuts the hung send only

    expected = {chat: texts for chat, texts in seeded.expected.items() if chat != 1004}
    assert dict(received(server)) == expected  # each exactly once, in order
    row = (await rows_by_chat(sessions, seeded.issue_id))["1004"]
    assert (row.status, row.messages_sent, row.last_error) == ("failed", 0, "Internal Server Error")
    assert len(server.calls_to("sendMessage")) == sum(map(len, expected.values())) + 3 + 4
    assert report.retries == 2 + 1 + (FAST.max_attempts - 1) and report.deliveries_failed == 1


async def test_migrated_group_is_followed_and_updated(
    sessions: Sessions, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory(rate_limits=SERVER_LIMITS)
    seeded = await seed(sessions, 6)
    supergroup = server.migrate(-5003)
    report = await deliver(sessions, server)

    assert received(server)[supergroup] == seeded.expected[-5003]
    assert -5003 not in received(server)
    async with sessions() as session:
        moved = await subscribers.get_subscriber(session, "telegram", str(supergroup))
    assert moved is not None and moved.id == seeded.subscriber_ids[-5003]
    assert report.migrated == 1 and report.deliveries_sent == 6


async def test_the_ledger_keeps_the_id_telegram_gave_every_sent_message(
    sessions: Sessions, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory(rate_limits=SERVER_LIMITS)
    seeded = await seed(sessions, 6)
    await deliver(sessions, server)

    rows = await rows_by_chat(sessions, seeded.issue_id)
    async with sessions() as session:
        for chat, texts in seeded.expected.items():
            ids = await sent_message_ids(session, rows[str(chat)].id)
            assert sorted(ids) == list(range(len(texts)))
            # Each stored id names, on the server, the message sent at that position.
            for position, text in enumerate(texts):
                stored = server.message(chat, int(ids[position]))
                assert stored is not None and stored.text == text
