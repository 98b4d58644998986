"""Pytest fixtures that run the fake Telegram Bot API on an ephemeral loopback port.

Register them once in tests/conftest.py:  pytest_plugins = ["tests.fakes.telegram_fixtures"]
(or import the fixture functions into a test module). Then:

    async def test_start(telegram_server):
        bot = telegram.Bot(telegram_server.token, base_url=telegram_server.base_url)

    async def test_floods(telegram_server_factory):
        server = await telegram_server_factory(rate_limits=RateLimits(private_burst=1))
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.fakes.telegram_server import FakeTelegramServer

ServerFactory = Callable[..., Awaitable[FakeTelegramServer]]


async def _stop_and_check(server: FakeTelegramServer) -> None:
    await server.stop()
    # A crash inside the fake is a bug in the fake, never a pass for the code under test.
    assert not server.internal_errors, f"fake Telegram server crashed: {server.internal_errors!r}"


@pytest.fixture(name="telegram_server")
async def telegram_server_fixture() -> AsyncIterator[FakeTelegramServer]:
    """A started fake Bot API with default settings (rate limits on, built-in chats lax)."""
    server = FakeTelegramServer()
    await server.start()
    try:
        yield server
    finally:
        await _stop_and_check(server)


@pytest.fixture(name="telegram_server_factory")
async def telegram_server_factory_fixture() -> AsyncIterator[ServerFactory]:
    """`await factory(**FakeTelegramServer options)` → a started server, stopped after the test."""
    servers: list[FakeTelegramServer] = []

    async def start(**options: Any) -> FakeTelegramServer:
        server = FakeTelegramServer(**options)
        await server.start()
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            await _stop_and_check(server)
