"""Engines, sessions and schema migrations for SQLite (aiosqlite) and PostgreSQL (psycopg)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


def normalize_url(url: str | URL) -> URL:
    """Pick the async driver for plain `sqlite://` and `postgresql://` URLs."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def _is_sqlite_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url)


def _json_dumps(value: Any) -> str:
    # Keep Chinese text readable (and smaller) in the stored JSON.
    return json.dumps(value, ensure_ascii=False)


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite with foreign keys, WAL and a busy timeout on every connection."""
    parsed = normalize_url(url)
    kwargs.setdefault("json_serializer", _json_dumps)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return _create_async_engine(parsed, **kwargs)
    memory = _is_sqlite_memory(parsed)
    if memory:
        kwargs.setdefault("poolclass", StaticPool)  # one shared connection, or data vanishes
    else:
        Path(parsed.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = _create_async_engine(parsed, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas(wal=not memory))
    return engine


def _sqlite_pragmas(*, wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, far fewer fsyncs
        cursor.close()

    return on_connect


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | URL | None = None) -> Config:
    """Alembic config built in code, so migrations run from an installed package too."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalize_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade_database(engine_or_url: AsyncEngine | str | URL, revision: str = "head") -> None:
    """Run Alembic migrations up to `revision` (default head) in one transaction."""
    if isinstance(engine_or_url, AsyncEngine):
        async with engine_or_url.begin() as connection:
            await connection.run_sync(_upgrade_on, revision)
        return
    engine = create_engine(engine_or_url)
    try:
        await upgrade_database(engine, revision)
    finally:
        await engine.dispose()


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Synchronous entry point for CLIs; must not be called from a running event loop."""
    asyncio.run(upgrade_database(url, revision))


async def ping(session: AsyncSession) -> None:
    """A round trip to the database (health checks); raises when it is unreachable."""
    await session.execute(text("SELECT 1"))
