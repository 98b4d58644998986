"""The Alembic revisions and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import alembic_config, create_engine, upgrade, upgrade_database
from storage.models import Base
from storage.search.models import include_in_autogenerate


def _diff(connection: Connection) -> list[Any]:
    opts = {"compare_type": True, "include_name": include_in_autogenerate}
    context = MigrationContext.configure(connection, opts=opts)
    return compare_metadata(context, Base.metadata)


async def test_migrations_match_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_upgrade_is_idempotent_and_creates_all_tables(db_url: str) -> None:
    await upgrade_database(db_url)
    await upgrade_database(db_url)  # already at head: a no-op, not an error
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    assert version == [(head,)]
    assert head is not None and head != "0001"  # the search index revision is applied too


async def test_sqlite_engine_sets_pragmas_and_creates_parent_dir(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "briefbot.db"
    engine = create_engine(f"sqlite:///{path}")  # plain URL: the async driver is picked
    try:
        async with engine.connect() as conn:
            fk = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
    finally:
        await engine.dispose()
    assert (fk, mode) == (1, "wal")
    assert path.is_file()


def test_sync_upgrade_and_alembic_commands_without_ini(db_url: str) -> None:
    """The CLI path: env.py builds its own async engine from the configured URL."""
    upgrade(db_url)
    config = alembic_config(db_url)
    command.downgrade(config, "base")
    assert _tables(db_url) == {"alembic_version"}
    command.upgrade(config, "head")
    assert set(Base.metadata.tables) <= _tables(db_url)


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())
