"""Instances started together migrate a fresh PostgreSQL database once, all successfully."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import inspect

from storage.db import HEAD_REVISION, create_engine, schema_revision, upgrade
from storage.models import Base
from tests.dbfixtures import _reset_public_schema

pytestmark = pytest.mark.postgres


async def test_three_processes_migrating_at_once_all_succeed(postgres_database: str) -> None:
    _reset_public_schema(postgres_database)
    start = threading.Barrier(3)

    def migrate() -> None:
        start.wait()  # as close together as three starts can be
        upgrade(postgres_database)  # each with its own engine and event loop, like a process

    with ThreadPoolExecutor(3) as pool:
        for future in [pool.submit(migrate) for _ in range(3)]:
            future.result(timeout=120)  # raises what a failed migration raised

    engine = create_engine(postgres_database)
    try:
        assert await schema_revision(engine) == HEAD_REVISION
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    with psycopg.connect(postgres_database) as connection:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert rows == [(HEAD_REVISION,)]
