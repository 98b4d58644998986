"""Engines, sessions and schema migrations for SQLite (aiosqlite) and PostgreSQL (psycopg)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:  # importing Alembic costs every command ~0.25 s: only when migrating
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# The newest migration in migrations/versions (tests/storage/test_schema_head.py checks it):
# a database already there is not handed to Alembic at all.
HEAD_REVISION = "0008"

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
SUPPORTED_FORMS = "sqlite+aiosqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DBNAME"
MAINTENANCE_DATABASE = "postgres"  # every PostgreSQL server has it; CREATE DATABASE runs there
# PostgreSQL advisory lock keys (one namespace per database). Instances started together
# migrate one after the other: the first does the work, the rest find the schema at head.
MIGRATION_LOCK_KEY = 0x6272_6965_666D_6967  # "briefmig"
LEADER_LOCK_KEY = 0x6272_6965_666C_6561  # "brieflea": bot/cluster/leader.py


class DatabaseUnavailable(Exception):
    """The database cannot be opened; the message is one line with no password in it."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing  # the server answers but this database does not exist


def normalize_url(url: str | URL) -> URL:
    """Pick the async driver for plain `sqlite://` and `postgresql://` URLs."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def check_url(url: str) -> URL:
    """The parsed URL if briefbot can use it; ValueError naming the supported forms if not.

    The URL itself is echoed only with its password hidden, and not at all when malformed
    (the password may be anywhere in a string SQLAlchemy cannot parse).
    """
    try:
        parsed = normalize_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"malformed database URL; use {SUPPORTED_FORMS}") from None
    shown = redact(parsed)
    if parsed.drivername not in _ASYNC_DRIVERS.values():
        raise ValueError(f"unsupported database URL {shown}; use {SUPPORTED_FORMS}")
    if parsed.get_backend_name() == "postgresql" and not parsed.database:
        raise ValueError(f"database URL {shown} names no database; use {SUPPORTED_FORMS}")
    return parsed


def redact(url: str | URL) -> str:
    """The URL as text with its password hidden (for logs, errors and start-up lines)."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for in-memory databases and other backends."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or _is_sqlite_memory(parsed):
        return None
    return Path(parsed.database or "").expanduser()


def with_base_dir(url: str, base: Path) -> str:
    """A SQLite URL whose relative file path is made absolute under `base`; others unchanged."""
    path = sqlite_path(url)
    if path is None or path.is_absolute():
        return url
    absolute = make_url(url).set(database=str((base / path).resolve()))
    return absolute.render_as_string(hide_password=False)


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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalize_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade_database(engine_or_url: AsyncEngine | str | URL, revision: str = "head") -> None:
    """Run Alembic migrations up to `revision` (default head) in one transaction; on
    PostgreSQL under an advisory lock, so processes starting together migrate once."""
    if isinstance(engine_or_url, AsyncEngine):
        if revision == "head" and await schema_revision(engine_or_url) == HEAD_REVISION:
            return
        async with engine_or_url.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Held until this transaction ends; whoever waited then sees the head
                # revision committed and Alembic has nothing left to do.
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            await connection.run_sync(_upgrade_on, revision)
        return
    engine = create_engine(engine_or_url)
    try:
        await upgrade_database(engine, revision)
    finally:
        await engine.dispose()


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The database's Alembic revision; None before the first migration."""
    async with engine.connect() as connection:
        try:
            return await connection.scalar(text("SELECT version_num FROM alembic_version"))
        except DBAPIError:  # no table yet
            return None


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Synchronous entry point for CLIs; must not be called from a running event loop."""
    asyncio.run(upgrade_database(url, revision))


async def ping(session: AsyncSession) -> None:
    """A round trip to the database (health checks); raises when it is unreachable."""
    await session.execute(text("SELECT 1"))


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc  # the driver's own message, without SQLAlchemy's
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


async def check_connection(engine: AsyncEngine) -> None:
    """Connect once; DatabaseUnavailable (one line, missing=True when only the database is
    absent from a reachable PostgreSQL server) instead of the driver's chained errors."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (DBAPIError, OSError) as exc:
        where = redact(engine.url)
        if engine.url.get_backend_name() == "postgresql":
            exists = await _database_exists(engine.url)
            if exists is False:
                message = (
                    f'database "{engine.url.database}" does not exist on the server of {where}'
                )
                raise DatabaseUnavailable(message, missing=True) from None
        raise DatabaseUnavailable(f"cannot open {where}: {_first_line(exc)}") from None


def _maintenance_engine(url: URL) -> AsyncEngine:
    # CREATE DATABASE cannot run inside a transaction block.
    admin = url.set(database=MAINTENANCE_DATABASE)
    return _create_async_engine(admin, isolation_level="AUTOCOMMIT", poolclass=StaticPool)


async def _database_exists(url: URL) -> bool | None:
    """Whether the server has the database; None when the server itself is unreachable."""
    engine = _maintenance_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
        return found is not None
    except (DBAPIError, OSError):
        return None
    finally:
        await engine.dispose()


async def create_database(url: str | URL) -> bool:
    """Create the URL's database (PostgreSQL: on the server's `postgres` database; SQLite:
    the file's folder and file). True if it was created, False if it already existed."""
    text_url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    parsed = check_url(text_url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is None or path.exists():
            return False
        engine = create_engine(parsed)  # makes the folder; the first connection makes the file
        try:
            await check_connection(engine)
        finally:
            await engine.dispose()
        return True
    exists = await _database_exists(parsed)
    if exists is None:
        raise DatabaseUnavailable(f"cannot reach the server of {redact(parsed)}")
    if exists:
        return False
    engine = _maintenance_engine(parsed)
    try:
        async with engine.connect() as connection:
            name = engine.dialect.identifier_preparer.quote(parsed.database or "")
            await connection.execute(text(f"CREATE DATABASE {name}"))
    except DBAPIError as exc:
        if await _database_exists(parsed):  # another process created it meanwhile
            return False
        raise DatabaseUnavailable(f"cannot create {redact(parsed)}: {_first_line(exc)}") from None
    finally:
        await engine.dispose()
    return True
