"""WeChat / WeCom tests: a real database (SQLite and PostgreSQL) with the sample briefings,
the fake WeChat/WeCom API server, and the command core wired as `briefbot run` wires it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.commands import Core, CoreDeps, FloodPolicy
from bot.config import Settings
from bot.runtime import Runtime
from briefings.model import Series
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from storage.issues import save_issue
from storage.search import index_issue
from tests.dbfixtures import db_url, engine, postgres_database, session_factory
from tests.fakes.wechat_fixtures import make_wechat_server, wechat_server
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.helpers import settings_for

__all__ = [
    "clean_env",
    "db_url",
    "engine",
    "make_wechat_server",
    "postgres_database",
    "session_factory",
    "wechat_server",
]

SERIES = Series("embedded-ai", "嵌入式AI简报")
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read BRIEFBOT_* variables: keep the developer's out of the tests."""
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_") and name != "BRIEFBOT_REQUIRE_POSTGRES":
            monkeypatch.delenv(name)


async def ingest(
    sessions: async_sessionmaker[AsyncSession], paths: list[Path], taxonomy: Taxonomy
) -> None:
    for path in paths:
        issue = parse_issue(
            decode_briefing(path.read_bytes(), path.name), path.name, SERIES, taxonomy
        )
        async with sessions.begin() as session:
            await save_issue(session, issue, T0, on_saved=index_issue)


@pytest.fixture
def settings(wechat_server: FakeWeChatServer) -> Settings:
    return settings_for(wechat_server)


@pytest.fixture
async def runtime(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    samples_dir: Path,
) -> AsyncIterator[Runtime]:
    taxonomy = Taxonomy.default()
    await ingest(session_factory, sorted(samples_dir.glob("*.md")), taxonomy)
    yield Runtime(settings, engine, session_factory, SERIES, taxonomy)


@pytest.fixture
def core(runtime: Runtime) -> Core:
    deps = CoreDeps.from_runtime(runtime)
    return Core(
        CoreDeps(
            sessions=deps.sessions,
            series=deps.series,
            taxonomy=deps.taxonomy,
            settings=deps.settings,
            clock=deps.clock,
            flood=FloodPolicy(per_minute=600, burst=100),
        )
    )
