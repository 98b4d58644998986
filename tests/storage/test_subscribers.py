"""Subscribers, subscriptions, keyed iteration, stats and export/import on both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import deliveries, issues, subscribers
from storage.models import DeliveryRow, SubscriberRow, SubscriptionRow
from storage.subscribers import ALL, Subscription
from tests.storage.factories import at, make_issue

Sessions = async_sessionmaker[AsyncSession]
NEWS = Subscription("section", "news")
LLM = Subscription("topic", "llm")


async def test_get_or_create_is_idempotent_and_reactivates(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        first, created = await subscribers.get_or_create(
            session, "telegram", "-100123", kind="group", language="en", now=at(0)
        )
        again, created_again = await subscribers.get_or_create(session, "telegram", "-100123")
        await subscribers.deactivate(session, first.id, "bot was blocked", at(5))
        gone = await subscribers.get_subscriber(session, "telegram", "-100123")
    assert created and not created_again
    assert again == first
    assert (first.kind, first.language, first.format, first.paused, first.active) == (
        "group",
        "en",
        "full",
        False,
        True,
    )
    assert first.created_at == at(0)
    assert gone is not None and not gone.active
    assert (gone.deactivated_at, gone.deactivation_reason) == (at(5), "bot was blocked")
    async with session_factory.begin() as session:
        back, created = await subscribers.get_or_create(session, "telegram", "-100123")
    assert not created and back.id == first.id and back.active
    assert back.deactivated_at is None and back.deactivation_reason is None
    assert back.language == "en"  # settings survive a block/unblock


async def test_invalid_values_are_rejected(session_factory: Sessions) -> None:
    with pytest.raises(ValueError, match="platform"):
        async with session_factory.begin() as session:
            await subscribers.get_or_create(session, "icq", "1")
    with pytest.raises(ValueError):
        Subscription("all", "news")
    with pytest.raises(ValueError):
        Subscription("section")
    async with session_factory.begin() as session:
        sub, _ = await subscribers.get_or_create(session, "wechat", "openid-1")
        with pytest.raises(ValueError, match="language"):
            await subscribers.update_settings(session, sub.id, language="fr")


async def test_subscriptions_round_trip(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        sub, _ = await subscribers.get_or_create(session, "wecom", "room-1", kind="group")
        assert await subscribers.add_subscription(session, sub.id, NEWS)
        assert not await subscribers.add_subscription(session, sub.id, NEWS)
        assert await subscribers.add_subscription(session, sub.id, LLM)
        assert await subscribers.add_subscription(session, sub.id, ALL)
    async with session_factory() as session:
        loaded = await subscribers.get_subscriber_by_id(session, sub.id)
    assert loaded is not None
    assert loaded.subscriptions == (ALL, NEWS, LLM)
    async with session_factory.begin() as session:
        assert await subscribers.remove_subscription(session, sub.id, ALL)
        assert not await subscribers.remove_subscription(session, sub.id, ALL)
        assert await subscribers.update_settings(
            session, sub.id, language="en", format="digest", paused=True
        )
        assert not await subscribers.update_settings(session, 999_999, paused=True)
    async with session_factory() as session:
        loaded = await subscribers.get_subscriber(session, "wecom", "room-1")
    assert loaded is not None and loaded.subscriptions == (NEWS, LLM)
    assert (loaded.language, loaded.format, loaded.paused) == ("en", "digest", True)
    papers = Subscription("section", "papers")
    async with session_factory.begin() as session:
        await subscribers.set_subscriptions(session, sub.id, [papers, papers, LLM])
    async with session_factory() as session:
        loaded = await subscribers.get_subscriber_by_id(session, sub.id)
    assert loaded is not None and loaded.subscriptions == (papers, LLM)


async def _seed(session_factory: Sessions, count: int) -> list[int]:
    """`count` telegram + a few other subscribers; every 7th paused, every 11th inactive."""
    rows = [
        {
            "platform": "telegram" if n % 5 else "wechat",
            "chat_id": str(n),
            "kind": "private",
            "language": "zh",
            "format": "full",
            "paused": n % 7 == 0,
            "active": n % 11 != 0,
            "created_at": at(0),
        }
        for n in range(count)
    ]
    async with session_factory.begin() as session:
        ids = await session.scalars(
            SubscriberRow.__table__.insert().returning(
                SubscriberRow.id, sort_by_parameter_order=True
            ),
            rows,
        )
        return list(ids)


async def test_iter_active_yields_keyed_batches_in_id_order(session_factory: Sessions) -> None:
    ids = await _seed(session_factory, 2300)
    expected = [i for n, i in enumerate(ids) if n % 11 != 0 and n % 7 != 0]
    batches = [b async for b in subscribers.iter_active(session_factory, batch=1000)]
    assert [len(b) for b in batches][:-1] == [1000] * (len(batches) - 1)
    assert [s.id for b in batches for s in b] == expected
    with_paused = [
        s.id
        async for b in subscribers.iter_active(session_factory, batch=333, include_paused=True)
        for s in b
    ]
    assert with_paused == [i for n, i in enumerate(ids) if n % 11 != 0]
    wechat = [
        s async for b in subscribers.iter_active(session_factory, "wechat", batch=50) for s in b
    ]
    assert {s.platform for s in wechat} == {"wechat"}
    assert [s.id for s in wechat] == [
        i for n, i in enumerate(ids) if n % 5 == 0 and n % 11 != 0 and n % 7 != 0
    ]


async def test_iter_active_carries_subscriptions_and_survives_concurrent_adds(
    session_factory: Sessions,
) -> None:
    ids = await _seed(session_factory, 30)
    async with session_factory.begin() as session:
        await subscribers.set_subscriptions(session, ids[1], [NEWS, LLM])
    seen = []
    async for batch in subscribers.iter_active(session_factory, batch=4):
        seen.extend(batch)
        if len(seen) == 4:  # a new chat arriving mid-iteration is picked up at the end
            async with session_factory.begin() as session:
                await subscribers.get_or_create(session, "telegram", "late")
    assert seen[0].id == ids[1] and seen[0].subscriptions == (NEWS, LLM)
    assert all(s.subscriptions == () for s in seen[1:])
    assert seen[-1].chat_id == "late"
    assert len({s.id for s in seen}) == len(seen)


async def test_stats_counts_platforms_sections_and_topics(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        a, _ = await subscribers.get_or_create(session, "telegram", "a")
        b, _ = await subscribers.get_or_create(session, "telegram", "b")
        c, _ = await subscribers.get_or_create(session, "wechat", "c", kind="user")
        d, _ = await subscribers.get_or_create(session, "wecom", "d", kind="group")
        await subscribers.set_subscriptions(session, a.id, [ALL])
        await subscribers.set_subscriptions(session, b.id, [NEWS, LLM])
        await subscribers.set_subscriptions(session, c.id, [NEWS])
        await subscribers.set_subscriptions(session, d.id, [NEWS, ALL])
        await subscribers.update_settings(session, b.id, paused=True)
        await subscribers.deactivate(session, d.id, "kicked")
    async with session_factory() as session:
        stats = await subscribers.stats(session)
    assert stats.by_platform == {"telegram": 2, "wechat": 1}
    assert (stats.paused, stats.inactive, stats.all_sections) == (1, 1, 1)
    assert stats.by_section == {"news": 2}
    assert stats.by_topic == {"llm": 1}


async def test_delete_forgets_subscriptions_and_deliveries(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        saved = await issues.save_issue(session, make_issue(), at(0))
        gone, _ = await subscribers.get_or_create(session, "telegram", "gone")
        kept, _ = await subscribers.get_or_create(session, "telegram", "kept")
        for sub in (gone, kept):
            await subscribers.set_subscriptions(session, sub.id, [ALL, NEWS])
        msgs = [{"text": "hi"}]
        await deliveries.create_deliveries(
            session,
            saved.issue_id,
            [(gone.id, "full", "telegram", msgs), (kept.id, "full", "telegram", msgs)],
        )
    async with session_factory.begin() as session:
        assert await subscribers.delete_subscriber(session, "telegram", "gone")
        assert not await subscribers.delete_subscriber(session, "telegram", "gone")
    async with session_factory() as session:
        assert await subscribers.get_subscriber(session, "telegram", "gone") is None
        left = await session.execute(
            select(SubscriptionRow.subscriber_id, func.count()).group_by(
                SubscriptionRow.subscriber_id
            )
        )
        assert [tuple(row) for row in left] == [(kept.id, 2)]
        owners = await session.scalars(select(DeliveryRow.subscriber_id))
        assert owners.all() == [kept.id]


async def test_update_chat_id_moves_or_merges(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        group, _ = await subscribers.get_or_create(session, "telegram", "-1", kind="group")
        await subscribers.set_subscriptions(session, group.id, [NEWS])
        assert await subscribers.update_chat_id(session, "telegram", "-1", "-1001")
        assert not await subscribers.update_chat_id(session, "telegram", "-1", "-1002")
        moved = await subscribers.get_subscriber(session, "telegram", "-1001")
        assert moved is not None and (moved.id, moved.subscriptions) == (group.id, (NEWS,))
        # Target already subscribed: it keeps its settings and gains the old subscriptions.
        other, _ = await subscribers.get_or_create(session, "telegram", "-2", language="en")
        await subscribers.set_subscriptions(session, other.id, [LLM])
        assert await subscribers.update_chat_id(session, "telegram", "-2", "-1001")
        merged = await subscribers.get_subscriber(session, "telegram", "-1001")
        assert await subscribers.get_subscriber(session, "telegram", "-2") is None
    assert merged is not None
    assert (merged.id, merged.language, merged.subscriptions) == (group.id, "zh", (NEWS, LLM))


async def test_export_import_round_trip(session_factory: Sessions, db_url: str) -> None:
    async with session_factory.begin() as session:
        a, _ = await subscribers.get_or_create(session, "telegram", "42", now=at(1))
        b, _ = await subscribers.get_or_create(session, "wechat", "oid", kind="user", now=at(2))
        await subscribers.set_subscriptions(session, a.id, [ALL, LLM])
        await subscribers.update_settings(session, b.id, format="digest", paused=True)
        await subscribers.deactivate(session, b.id, "unsubscribed", at(3))
    records = [r async for r in subscribers.export_records(session_factory, batch=1)]
    records = json.loads(json.dumps(records))  # truly JSON-able
    assert [r["chat_id"] for r in records] == ["42", "oid"]
    assert records[0]["subscriptions"] == [
        {"kind": "all", "key": ""},
        {"kind": "topic", "key": "llm"},
    ]
    async with session_factory.begin() as session:
        for platform, chat in (("telegram", "42"), ("wechat", "oid")):
            await subscribers.delete_subscriber(session, platform, chat)
        assert await subscribers.import_records(session, records) == 2
    again = [r async for r in subscribers.export_records(session_factory)]
    assert again == records
