"""Replies and pushes together against the strict Bot API with 250 ms of jitter.

The real Application (its rate limiter on the engine's Gate, bot/platforms/telegram/
limiter.py) answers a crowd of users typing /latest while the engine pushes an issue
to hundreds of chats at Telegram's own limits: no 429, and replies come within seconds
because they take global tokens ahead of the push.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands import Core, CoreDeps
from bot.config import TelegramSettings
from bot.delivery import DeliveryEngine
from bot.delivery.ratelimit import Gate, RateLimits
from bot.ingest import ingest_documents, read_files
from bot.platforms.telegram.adapter import TelegramPlatform
from bot.platforms.telegram.sender import TelegramSender
from tests.bot.telegram.conftest import SCRIPTED_USER, make_runtime
from tests.bot.telegram.harness import ADMIN_ID
from tests.delivery.strict import JITTER, SETTINGS, TUNING, LoopStalls, seed_push
from tests.fakes.telegram_fixtures import ServerFactory
from tests.fakes.telegram_limits import RateLimits as ServerLimits
from tests.fakes.telegram_server import FakeTelegramServer

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),  # the limits, not the SQL
]

PUSHED = list(range(2000, 2200))
# Half of the users are also being pushed to (their chat's turn is shared with the push).
USERS = PUSHED[-15:] + list(range(3000, 3015))
# Seconds from the update to the reply's first message (about 2 s measured: a token of the
# chat's, its turn, global tokens behind other replies), and to its last (a chat gets
# 1 message/s). Generous, for a loaded machine: waiting behind the push would take 10 s.
FIRST_REPLY_WITHIN = 5.0
WHOLE_REPLY_WITHIN = 10.0


def reply_times(server: FakeTelegramServer, chat: int, push_texts: set[str]) -> list[float]:
    """When the server accepted each message of the bot's reply in `chat` (push excluded)."""
    return [
        c.answered
        for c in server.calls_to("sendMessage")
        if c.status == 200
        and c.answered is not None
        and c.params.get("chat_id") == str(chat)
        and c.params.get("text") not in push_texts
    ]


async def test_users_typing_latest_during_a_push_get_replies_within_seconds_and_no_429(
    engine: AsyncEngine, telegram_server_factory: ServerFactory, samples_dir: Path
) -> None:
    server = await telegram_server_factory(rate_limits=ServerLimits.strict(), latency=JITTER)
    options: dict[str, Any] = {
        "token": server.token,
        "base_url": server.base_url,
        "admins": [ADMIN_ID],
        "default_subscription": "none",
    }
    runtime = make_runtime(engine, TelegramSettings(**options))
    assert (await ingest_documents(runtime, read_files([samples_dir]))).failed == 0
    push = await seed_push(runtime.sessions, PUSHED)
    push_texts = {text for texts in push.expected.values() for text in texts}
    gate = Gate(RateLimits.from_settings(SETTINGS), time.monotonic, asyncio.sleep)
    core = Core(replace(CoreDeps.from_runtime(runtime), flood=SCRIPTED_USER))
    platform = TelegramPlatform(runtime, core, poll_timeout=1.0, gate=gate)

    async with LoopStalls(time.time) as stalls, platform:
        sender = TelegramSender(platform.bot, gated=True)
        pushes = DeliveryEngine(
            runtime.sessions,
            {"telegram": sender},
            SETTINGS,
            tuning=TUNING,
            gates={"telegram": gate},
        )
        pushing = asyncio.create_task(pushes.run_until_idle())
        await server.wait_until(lambda: len(server.messages) >= 40, 10, "the push under way")
        typed: dict[int, float] = {}
        for user in USERS:
            server.inject_command(user, "latest", language_code="en")
            typed[user] = time.time()
        report = await pushing
        await server.wait_until(lambda: not server.pending_updates, 10, "updates fetched")
        await platform.application.update_queue.join()
        await server.wait_until(
            lambda: all(reply_times(server, u, push_texts) for u in USERS), 10, "replies"
        )

    assert server.answered_429 == 0 and report.rate_limited == 0
    pushed = {
        chat: [m.text for m in server.messages_in(chat) if m.text in push_texts] for chat in PUSHED
    }
    assert pushed == push.expected
    waits = {u: reply_times(server, u, push_texts) for u in USERS}
    # A loaded machine may stall the loop bot and server share: that wait is not the bot's.
    first = {u: ts[0] - typed[u] - stalls.excused(typed[u], ts[0]) for u, ts in waits.items()}
    whole = {u: ts[-1] - typed[u] - stalls.excused(typed[u], ts[-1]) for u, ts in waits.items()}
    assert max(first.values()) <= FIRST_REPLY_WITHIN, sorted(first.values())
    assert max(whole.values()) <= WHOLE_REPLY_WITHIN, sorted(whole.values())
