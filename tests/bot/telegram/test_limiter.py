"""GateLimiter, python-telegram-bot's rate-limiter hook on the engine's Gate, with a real
ExtBot against the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.delivery.ratelimit import Gate, RateLimits
from bot.platforms.telegram.limiter import GateLimiter
from bot.platforms.telegram.sender import TelegramSender
from bot.platforms.telegram.transport import AiohttpRequest
from tests.fakes.telegram_fixtures import ServerFactory
from tests.fakes.telegram_limits import RateLimits as ServerLimits
from tests.fakes.telegram_server import FakeTelegramServer

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

# A slow global bucket, started empty: a request that takes a token waits about 2 s.
SLOW = RateLimits(global_per_second=0.5, global_burst=1, private_per_second=None)


@asynccontextmanager
async def limited_bot(
    server: FakeTelegramServer, gate: Gate, **options: Any
) -> AsyncIterator[ExtBot[GateLimiter]]:
    request = AiohttpRequest(connection_pool_size=8)
    bot = ExtBot(
        server.token,
        base_url=server.base_url,
        request=request,
        rate_limiter=GateLimiter(gate, **options),
    )
    await bot.initialize()
    try:
        yield bot
    finally:
        await bot.shutdown()


def gate_of(limits: RateLimits | None) -> Gate:
    return Gate(limits, time.monotonic, asyncio.sleep)


async def test_a_429_pauses_everyone_and_the_reply_is_sent_after_it(
    telegram_server_factory: ServerFactory,
) -> None:
    server = await telegram_server_factory(rate_limits=ServerLimits.off())
    server.inject_fault("sendMessage", "429", chat_id=5, retry_after=1)
    gate = gate_of(None)
    async with limited_bot(server, gate, retry_margin=0.2) as bot:
        started = time.monotonic()
        await bot.send_message(5, "hello")
        assert time.monotonic() - started >= 1.2 - 0.05  # retry_after plus the margin
    assert [m.text for m in server.messages_in(5)] == ["hello"]
    assert server.answered_429 == 1


async def test_retries_are_bounded_and_a_long_flood_wait_is_not_waited_out(
    telegram_server_factory: ServerFactory,
) -> None:
    server = await telegram_server_factory(rate_limits=ServerLimits.off())
    gate = gate_of(None)
    async with limited_bot(server, gate, retry_margin=0.0, max_retries=1) as bot:
        server.inject_fault("sendMessage", "429", times=5, chat_id=5, retry_after=1)
        with pytest.raises(RetryAfter):
            await bot.send_message(5, "hello")
        assert len(server.calls_to("sendMessage")) == 2  # the try and one retry
        server.faults.clear()
        server.inject_fault("sendMessage", "429", chat_id=6, retry_after=60)
        await gate.pause.wait()  # the last refusal's pause
        started = time.monotonic()
        with pytest.raises(RetryAfter):
            await bot.send_message(6, "hello")
        assert time.monotonic() - started < 1.0
        assert gate.pause.remaining > 55  # pushes wait for it all the same


async def test_replies_take_tokens_while_the_engines_sends_and_other_calls_pass(
    telegram_server_factory: ServerFactory,
) -> None:
    server = await telegram_server_factory(rate_limits=ServerLimits.off())
    async with limited_bot(server, gate_of(SLOW)) as bot:
        started = time.monotonic()
        await TelegramSender(bot, gated=True).send("7", {"text": "pushed", "format": "plain"})
        await bot.send_chat_action(7, "typing")
        await bot.get_me()
        assert time.monotonic() - started < 1.0  # no token taken: the engine took its own
        with pytest.raises(TimeoutError):  # a reply (or an alert) waits for a token
            await asyncio.wait_for(bot.send_message(7, "reply"), 0.5)
        alert = TelegramSender(bot)  # an admin alert: through the limiter
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(alert.send("7", {"text": "alert", "format": "plain"}), 0.5)
    assert [m.text for m in server.messages_in(7)] == ["pushed"]
