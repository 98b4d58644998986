"""The search revision matches storage.search.models, and builds the native index."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base
from storage.search.models import include_in_autogenerate  # also registers search_docs


def _diff(connection: Connection) -> list[Any]:
    opts = {"compare_type": True, "include_name": include_in_autogenerate}
    return compare_metadata(MigrationContext.configure(connection, opts=opts), Base.metadata)


async def test_search_tables_match_their_model(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def _native_index(connection: Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        names = "'search_fts', 'search_docs_fts_delete'"
        rows = connection.execute(text(f"SELECT name FROM sqlite_master WHERE name IN ({names})"))
        return {name for (name,) in rows}
    return {
        ix["name"]
        for ix in inspect(connection).get_indexes("search_docs")
        if ix["name"] == "ix_search_docs_tsv"
        and ix.get("dialect_options", {}).get("postgresql_using") == "gin"
    }


async def test_the_native_full_text_index_exists(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        found = await conn.run_sync(_native_index)
    expected = (
        {"search_fts", "search_docs_fts_delete"}
        if engine.dialect.name == "sqlite"
        else {"ix_search_docs_tsv"}
    )
    assert found == expected
