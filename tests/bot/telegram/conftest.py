"""The Telegram adapter end to end: a real PTB Application polling the strict fake Bot API."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands import Core, CoreDeps, FloodPolicy
from bot.config import Settings, StorageSettings, TelegramSettings
from bot.ingest import ingest_documents, read_files
from bot.platforms.telegram.adapter import TelegramPlatform
from bot.runtime import Runtime, build_taxonomy
from briefings.model import Series
from storage.db import session_factory
from tests.bot.telegram.harness import ADMIN_ID, Harness
from tests.fakes.telegram_fixtures import (  # noqa: F401  (fixtures)
    telegram_server_factory_fixture,
    telegram_server_fixture,
)
from tests.fakes.telegram_limits import RateLimits

HarnessFactory = Callable[..., Awaitable[Harness]]
# A scripted user types faster than the flood guard allows a person to.
SCRIPTED_USER = FloodPolicy(per_minute=6000, burst=100)


@pytest.fixture(autouse=True)
def _no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("BRIEFBOT_")]:
        monkeypatch.delenv(name)


def make_runtime(engine: AsyncEngine, telegram: TelegramSettings) -> Runtime:
    settings = Settings(storage=StorageSettings(url=str(engine.url)), telegram=telegram)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        series=Series(settings.series.slug, settings.series.title),
        taxonomy=build_taxonomy(settings),
    )


@pytest.fixture
async def harness_factory(
    engine: AsyncEngine, telegram_server_factory: Any, samples_dir: Path
) -> AsyncIterator[HarnessFactory]:
    """`await factory(server options..., telegram=dict(settings), ingest=[dirs])`: a fake
    Bot API and a started TelegramPlatform on it, with the sample briefings archived."""
    started: list[Harness] = []
    async with AsyncExitStack() as stack:

        async def start(
            *,
            telegram: dict[str, Any] | None = None,
            ingest: list[Path] | None = None,
            flood: FloodPolicy = SCRIPTED_USER,
            **server_options: Any,
        ) -> Harness:
            server_options.setdefault("rate_limits", RateLimits.off())
            server = await telegram_server_factory(**server_options)
            options: dict[str, Any] = {
                "token": server.token,
                "base_url": server.base_url,
                "admins": [ADMIN_ID],
                "default_subscription": "none",
                **(telegram or {}),
            }
            runtime = make_runtime(engine, TelegramSettings(**options))
            report = await ingest_documents(runtime, read_files(ingest or [samples_dir]))
            assert report.failed == 0 and report.added > 0
            deps = replace(CoreDeps.from_runtime(runtime), flood=flood)
            platform = TelegramPlatform(runtime, Core(deps), poll_timeout=1.0)
            await stack.enter_async_context(platform)
            started.append(Harness(server, runtime, platform))
            return started[-1]

        yield start
    for harness in started:  # every call the bot made, shutdown included, was accepted
        refused = [(c.method, c.description) for c in harness.refused()]
        assert harness.expect_refusals or not refused, refused


@pytest.fixture
async def harness(harness_factory: HarnessFactory) -> Harness:
    return await harness_factory()
