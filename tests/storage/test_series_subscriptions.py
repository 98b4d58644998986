"""Subscriptions per series: each series' rows apart, the primary series as '' (what every
row was before several series), delivery selection by series, and the primary's rows
following it when the config reorders the series. Both databases; the 0007 -> 0008
upgrade keeps existing rows as the primary series'."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import subscribers
from storage.db import alembic_config, upgrade
from storage.subscribers import ALL, PRIMARY, Subscription, series_key
from tests.storage.factories import at

Sessions = async_sessionmaker[AsyncSession]
NEWS = Subscription("section", "news")


async def _reader(session: AsyncSession, chat: str) -> int:
    subscriber, _ = await subscribers.get_or_create(session, "telegram", chat, now=at(0))
    return subscriber.id


async def test_each_series_keeps_its_own_subscriptions(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        both, only_weekly = await _reader(session, "1"), await _reader(session, "2")
        await subscribers.set_subscriptions(session, both, [NEWS])
        await subscribers.set_subscriptions(session, both, [ALL], series="weekly")
        await subscribers.set_subscriptions(session, only_weekly, [ALL], series="weekly")
        # replacing one series' subscriptions leaves the other's alone
        await subscribers.set_subscriptions(session, both, [ALL, NEWS], series="weekly")
        assert await subscribers.subscribed_series(session, both) == {PRIMARY, "weekly"}
        assert await subscribers.subscribed_series(session, only_weekly) == {"weekly"}
        primary = await subscribers.get_subscriber(session, "telegram", "1")
        weekly = await subscribers.get_subscriber(session, "telegram", "1", series="weekly")
        assert primary is not None and primary.subscriptions == (NEWS,)
        assert weekly is not None and weekly.subscriptions == (ALL, NEWS)
        assert await subscribers.remove_subscription(session, both, NEWS, series="weekly")
        assert await subscribers.add_subscription(session, both, NEWS, series="other")
        counts = await subscribers.stats(session, series="weekly")
    assert counts.all_sections == 2 and counts.by_section == {}


async def test_delivery_selection_reads_one_series(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        primary_reader, weekly_reader = await _reader(session, "1"), await _reader(session, "2")
        await subscribers.set_subscriptions(session, primary_reader, [ALL])
        await subscribers.set_subscriptions(session, weekly_reader, [ALL], series="weekly")

    async def subscribed(series: str) -> set[str]:
        found: set[str] = set()
        async for batch in subscribers.iter_active(session_factory, series=series):
            found |= {s.chat_id for s in batch if s.subscriptions}
        return found

    assert await subscribed(PRIMARY) == {"1"}
    assert await subscribed("weekly") == {"2"}
    assert series_key("embedded-ai", "embedded-ai") == PRIMARY
    assert series_key("weekly", "embedded-ai") == "weekly"


async def test_reordered_series_keep_their_readers(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        assert not await subscribers.adopt_primary(session, "eai", ["eai", "weekly"])
        reader = await _reader(session, "1")
        await subscribers.set_subscriptions(session, reader, [NEWS])
        await subscribers.set_subscriptions(session, reader, [ALL], series="weekly")
    async with session_factory.begin() as session:  # same order: nothing moves
        assert not await subscribers.adopt_primary(session, "eai", ["eai", "weekly"])
    async with session_factory.begin() as session:  # weekly is now first
        assert await subscribers.adopt_primary(session, "weekly", ["weekly", "eai"])
        primary = await subscribers.get_subscriber(session, "telegram", "1")
        eai = await subscribers.get_subscriber(session, "telegram", "1", series="eai")
    assert primary is not None and primary.subscriptions == (ALL,)
    assert eai is not None and eai.subscriptions == (NEWS,)
    async with session_factory.begin() as session:  # renamed (old one gone): rows stay
        assert not await subscribers.adopt_primary(session, "weekly-2", ["weekly-2", "eai"])
        primary = await subscribers.get_subscriber(session, "telegram", "1")
    assert primary is not None and primary.subscriptions == (ALL,)


async def test_instances_starting_together_swap_the_series_once(
    session_factory: Sessions, db_url: str
) -> None:
    """Two processes start with the reordered config at once: one swaps, the other then
    finds the swap recorded (the state row is locked on PostgreSQL; SQLite has one
    writer), so the readers' choices are not swapped back."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite runs one instance (a second `run` refuses to start)")
    async with session_factory.begin() as session:
        await subscribers.adopt_primary(session, "eai", ["eai", "weekly"])
        reader = await _reader(session, "1")
        await subscribers.set_subscriptions(session, reader, [NEWS])
        await subscribers.set_subscriptions(session, reader, [ALL], series="weekly")
    first, second = session_factory(), session_factory()
    try:
        async with first.begin():
            assert await subscribers.adopt_primary(first, "weekly", ["weekly", "eai"])
            racing = asyncio.create_task(
                _adopt_in(second, "weekly", ["weekly", "eai"])
            )  # blocks on the locked state row until `first` commits
            await asyncio.sleep(0.3)
            assert not racing.done()
        assert not await racing
    finally:
        await first.close()
        await second.close()
    async with session_factory() as session:
        primary = await subscribers.get_subscriber(session, "telegram", "1")
        eai = await subscribers.get_subscriber(session, "telegram", "1", series="eai")
    assert primary is not None and primary.subscriptions == (ALL,)
    assert eai is not None and eai.subscriptions == (NEWS,)


async def _adopt_in(session: AsyncSession, primary: str, configured: list[str]) -> bool:
    async with session.begin():
        return await subscribers.adopt_primary(session, primary, configured)


def test_upgrading_keeps_existing_rows_as_the_primary_series(db_url: str) -> None:
    config = alembic_config(db_url)
    command.upgrade(config, "0007")
    sync_url = db_url.replace("+aiosqlite", "")  # psycopg is sync and async alike
    engine = sa.create_engine(sync_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO series (slug, title) VALUES ('eai', 'EAI')"))
        conn.execute(
            sa.text(
                "INSERT INTO subscribers (platform, chat_id, kind, language, format, paused,"
                " active, created_at, language_chosen) VALUES ('telegram', '1', 'private',"
                " 'zh', 'full', false, true, '2026-01-01 00:00:00', false)"
            )
        )
        conn.execute(
            sa.text("INSERT INTO subscriptions (subscriber_id, kind, key) VALUES (1, 'all', '')")
        )
    upgrade(db_url)
    with engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT series, kind FROM subscriptions")).all()
        # two undated issues of one series: NULL keys never collide
        for number in (1, 2):
            conn.execute(
                sa.text(
                    "INSERT INTO issues (series_id, key, number, title, subtitle, tagline, intro,"
                    " quick_news, notes, source_path, content_hash, warnings, front_matter,"
                    " footer, first_seen_at, content_changed_at, updated_at) VALUES (1, NULL,"
                    " :n, 't', '', '', '', '[]', '[]', 'p', 'h', '[]', '', '',"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"n": number},
            )
    engine.dispose()
    assert rows == [("", "all")]
    command.downgrade(config, "0007")  # and back: the undated issues cannot stay


async def test_export_and_import_keep_every_series(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        reader = await _reader(session, "1")
        await subscribers.set_subscriptions(session, reader, [NEWS])
        await subscribers.set_subscriptions(session, reader, [ALL], series="weekly")
        plain = await _reader(session, "2")
        await subscribers.set_subscriptions(session, plain, [ALL])
    records = [r async for r in subscribers.export_records(session_factory)]
    assert records[0]["series_subscriptions"] == {"weekly": [{"kind": "all", "key": ""}]}
    assert "series_subscriptions" not in records[1]  # one series: the record as before
    async with session_factory.begin() as session:
        for chat in ("1", "2"):
            await subscribers.delete_subscriber(session, "telegram", chat)
        assert await subscribers.import_records(session, records) == 2
    assert [r async for r in subscribers.export_records(session_factory)] == records
    bad = [{**records[0], "series_subscriptions": {"": []}}]
    with pytest.raises(ValueError, match="not a series slug"):
        async with session_factory.begin() as session:
            await subscribers.import_records(session, bad)
