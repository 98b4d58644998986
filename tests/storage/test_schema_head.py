"""Commands skip Alembic on a database already at the newest revision; HEAD_REVISION must
name that revision, or a new migration would never run. (That Alembic is then not even
imported is checked by tests/bot/test_cli_startup.py.)"""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.db import (
    HEAD_REVISION,
    alembic_config,
    create_engine,
    schema_revision,
    upgrade_database,
)


def test_head_revision_is_the_newest_migration() -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == HEAD_REVISION, "a migration was added: set storage.db.HEAD_REVISION to it"


async def test_a_database_behind_head_is_still_migrated(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert await schema_revision(engine) is None  # nothing migrated yet
        await upgrade_database(engine, "0002")
        assert await schema_revision(engine) == "0002"
        await upgrade_database(engine)
        assert await schema_revision(engine) == HEAD_REVISION
        async with engine.connect() as connection:  # the later revisions' tables exist
            await connection.execute(text("SELECT count(*) FROM callbacks_seen"))
    finally:
        await engine.dispose()
