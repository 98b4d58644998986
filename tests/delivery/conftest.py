"""Delivery tests: real databases (SQLite and PostgreSQL) through the shared fixtures."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory, upgrade_database
from tests.dbfixtures import db_url, engine, postgres_database
from tests.dbfixtures import session_factory as sessions
from tests.fakes.telegram_fixtures import telegram_server_factory_fixture

__all__ = [
    "db_url",
    "engine",
    "postgres_database",
    "sessions",
    "sqlite_sessions",
    "telegram_server_factory_fixture",
]


@pytest.fixture
async def sqlite_sessions(tmp_path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """SQLite only, for the heavier end-to-end runs."""
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'delivery.db'}")
    try:
        await upgrade_database(eng)
        yield session_factory(eng)
    finally:
        await eng.dispose()
