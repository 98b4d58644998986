"""Database fixtures shared by test packages: `db_url`, `engine`, `session_factory`.

Every test using them runs twice, on SQLite (a temp file) and on PostgreSQL (a
database created for the test session, its public schema reset before each test).
PostgreSQL params are skipped when the server is unreachable, unless
BRIEFBOT_REQUIRE_POSTGRES=1. Use from a conftest.py with either

    pytest_plugins = ["tests.dbfixtures"]          # only in tests/conftest.py
    from tests.dbfixtures import db_url, engine, postgres_database, session_factory
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, upgrade_database
from storage.db import session_factory as make_session_factory

PG_ADMIN_URL = os.environ.get(
    "BRIEFBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("BRIEFBOT_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway database for this test session; dropped at the end."""
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}".strip()
        if REQUIRE_POSTGRES:
            pytest.fail(f"{reason} (BRIEFBOT_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    name = f"briefbot_test_{secrets.token_hex(4)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _reset_public_schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of an empty database (no tables) for this test."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'briefbot.db'}"
    url = request.getfixturevalue("postgres_database")
    _reset_public_schema(url)
    return url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on `db_url`, migrated to head."""
    eng = create_engine(db_url)
    try:
        await upgrade_database(eng)
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)
