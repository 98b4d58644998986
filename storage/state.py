"""Small shared key/value state (cached access tokens, source cursors, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage._dialect import insert
from storage.clock import utcnow
from storage.models import AppStateRow


async def get_value(
    session: AsyncSession, key: str, default: Any = None, *, for_update: bool = False
) -> Any:
    """`for_update`: lock the row until the transaction ends (PostgreSQL; SQLite has one
    writer anyway), so a read-then-write is not raced by another process."""
    query = select(AppStateRow.value).where(AppStateRow.key == key)
    row = await session.execute(query.with_for_update() if for_update else query)
    found = row.one_or_none()
    return default if found is None else found[0]


async def get_entry(session: AsyncSession, key: str) -> tuple[Any, datetime] | None:
    """The value and when it was last set (e.g. to judge a cached token's age)."""
    row = await session.execute(
        select(AppStateRow.value, AppStateRow.updated_at).where(AppStateRow.key == key)
    )
    found = row.one_or_none()
    return None if found is None else (found[0], found[1])


async def set_value(
    session: AsyncSession, key: str, value: Any, now: datetime | None = None
) -> None:
    """Insert or overwrite `key` (value must be JSON-serialisable)."""
    now = now or utcnow()
    stmt = insert(session, AppStateRow).values(key=key, value=value, updated_at=now)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
    )


async def delete_value(session: AsyncSession, key: str) -> bool:
    result = await session.execute(delete(AppStateRow).where(AppStateRow.key == key))
    return bool(getattr(result, "rowcount", 0))
