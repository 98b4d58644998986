"""The replay memo: each signed WeChat / WeCom callback is accepted once, across processes.

A signature never expires, so a captured callback could be sent again within the freshness
window; the database, shared by every `briefbot run`, remembers what was accepted. The
primary key makes the check and the record one statement: of two identical requests racing,
the database lets exactly one insert.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage._dialect import insert
from storage.models import CallbackSeenRow


async def first_sighting(
    session: AsyncSession, platform: str, signed_at: int, nonce: str, signature: str
) -> bool:
    """Record the callback; False when it was recorded before (a replay)."""
    # RETURNING yields a row only when the row was inserted; an ORM insert's rowcount is
    # not reliable on psycopg.
    stmt = (
        insert(session, CallbackSeenRow)
        .values(platform=platform, signed_at=signed_at, nonce=nonce, signature=signature)
        .on_conflict_do_nothing()
        .returning(CallbackSeenRow.signed_at)
    )
    return (await session.execute(stmt)).first() is not None


async def forget_signed_before(session: AsyncSession, signed_before: int) -> int:
    """Drop callbacks signed before `signed_before` (they are refused as stale anyway)."""
    result = await session.execute(
        delete(CallbackSeenRow).where(CallbackSeenRow.signed_at < signed_before)
    )
    return int(getattr(result, "rowcount", 0))
