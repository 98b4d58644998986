"""The replay memo: insert-or-fail on both databases, across connections, and its purge."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import CallbackSeenRow
from storage.replay import first_sighting, forget_signed_before

SIG = "a" * 40


async def sighting(
    sessions: async_sessionmaker[AsyncSession], signed_at: int, nonce: str, sig: str = SIG
) -> bool:
    async with sessions.begin() as session:
        return await first_sighting(session, "wechat", signed_at, nonce, sig)


async def test_a_callback_is_new_once(session_factory: async_sessionmaker[AsyncSession]) -> None:
    assert await sighting(session_factory, 1_800_000_000, "n1")
    assert not await sighting(session_factory, 1_800_000_000, "n1")
    # any field that differs makes another callback
    assert await sighting(session_factory, 1_800_000_001, "n1")
    assert await sighting(session_factory, 1_800_000_000, "n2")
    assert await sighting(session_factory, 1_800_000_000, "n1", "b" * 40)
    async with session_factory.begin() as session:
        assert await first_sighting(session, "wecom", 1_800_000_000, "n1", SIG)


async def test_racing_sightings_admit_exactly_one(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    results = await asyncio.gather(
        *(sighting(session_factory, 1_800_000_000, "race") for _ in range(8))
    )
    assert sorted(results) == [False] * 7 + [True]


async def test_old_sightings_are_purged_and_recent_ones_kept(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    for signed_at in (100, 200, 300):
        assert await sighting(session_factory, signed_at, "n")
    async with session_factory.begin() as session:
        assert await forget_signed_before(session, 250) == 2
    async with session_factory() as session:
        left = await session.scalar(select(func.count()).select_from(CallbackSeenRow))
    assert left == 1
    assert not await sighting(session_factory, 300, "n")
    assert await sighting(session_factory, 100, "n")  # forgotten (stale callbacks never get here)
