"""Database URLs and start-up checks: supported forms, relative SQLite paths, a missing
PostgreSQL database reported in one line and created by `create_database`."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from storage.db import (
    DatabaseUnavailable,
    check_connection,
    check_url,
    create_database,
    create_engine,
    redact,
    upgrade_database,
    with_base_dir,
)
from tests.dbfixtures import PG_ADMIN_URL, REQUIRE_POSTGRES

PASSWORD = "pw-Never-Printed"


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite+aiosqlite:///data/x.sqlite3", "sqlite+aiosqlite"),
        ("sqlite:///x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite://", "sqlite+aiosqlite"),  # in memory (tests)
        ("postgresql://postgres@127.0.0.1:5432/b", "postgresql+psycopg"),
        ("postgresql+psycopg://postgres@127.0.0.1/b", "postgresql+psycopg"),
    ],
)
def test_supported_urls(url: str, driver: str) -> None:
    assert check_url(url).drivername == driver


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"mysql+pymysql://root:{PASSWORD}@h/b", "unsupported"),
        (f"postgresql+asyncpg://u:{PASSWORD}@h/b", "unsupported"),
        (f"postgresql+psycopg://u:{PASSWORD}@h:5432/", "names no database"),
        (f"not a url {PASSWORD}", "malformed"),
        (f"postgresql://u:{PASSWORD}@h:notaport/b", "malformed"),
    ],
)
def test_unsupported_urls_say_why_without_the_password(url: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        check_url(url)
    message = str(info.value)
    assert reason in message and PASSWORD not in message
    assert "sqlite+aiosqlite:///" in message and "postgresql+psycopg://" in message


def test_relative_sqlite_paths_get_a_base_others_do_not(tmp_path: Path) -> None:
    assert with_base_dir("sqlite+aiosqlite:///d/x.db", tmp_path) == (
        f"sqlite+aiosqlite:///{tmp_path / 'd' / 'x.db'}"
    )
    for unchanged in (
        "sqlite+aiosqlite:////abs/x.db",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        f"postgresql+psycopg://u:{PASSWORD}@h/b",  # the password survives: it is used
    ):
        assert with_base_dir(unchanged, tmp_path) == unchanged


def test_redact_hides_the_password() -> None:
    shown = redact(f"postgresql+psycopg://u:{PASSWORD}@h:5432/b")
    assert PASSWORD not in shown and shown == "postgresql+psycopg://u:***@h:5432/b"


async def test_sqlite_create_database_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'b.sqlite3'}"
    assert await create_database(url) is True
    assert (tmp_path / "new" / "b.sqlite3").is_file()
    assert await create_database(url) is False


async def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    engine = create_engine(f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:9/briefbot")
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            await check_connection(engine)
    finally:
        await engine.dispose()
    message = str(info.value)
    assert not info.value.missing and "\n" not in message and PASSWORD not in message
    assert "cannot open postgresql+psycopg://postgres:***@127.0.0.1:9/briefbot" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.fixture
def missing_pg_database() -> Iterator[str]:
    """The URL of a database that does not exist on the local server (dropped afterwards)."""
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    name = f"briefbot_missing_{secrets.token_hex(4)}"
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.mark.postgres
async def test_a_missing_postgres_database_is_reported_then_created(
    missing_pg_database: str,
) -> None:
    engine = create_engine(missing_pg_database)
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            await check_connection(engine)
        assert info.value.missing and "does not exist" in str(info.value)
        assert await create_database(missing_pg_database) is True
        assert await create_database(missing_pg_database) is False  # idempotent
        await check_connection(engine)
        await upgrade_database(engine)
    finally:
        await engine.dispose()
