"""Deliveries: one per (issue, subscriber), shared renderings, claiming and checkpoints."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import deliveries, issues, subscribers
from storage.deliveries.writes import AlreadyPublished, Checkpoint, DeliveryItem, Progress
from storage.models import DeliveryRow, RenderingRow
from tests.storage.factories import at, make_issue

Sessions = async_sessionmaker[AsyncSession]
FULL = [{"text": "part 1", "format": "html", "size": 6, "unit": "chars"}, {"text": "part 2"}]
DIGEST = [{"text": "摘要版", "format": "html", "size": 3, "unit": "chars"}]


async def _setup(session_factory: Sessions, chats: int) -> tuple[int, list[int]]:
    async with session_factory.begin() as session:
        saved = await issues.save_issue(session, make_issue(), at(0))
        ids = []
        for n in range(chats):
            platform = "telegram" if n % 2 == 0 else "wechat"
            sub, _ = await subscribers.get_or_create(session, platform, f"chat-{n}")
            ids.append(sub.id)
    return saved.issue_id, ids


def _items(ids: list[int]) -> list[DeliveryItem]:
    return [
        DeliveryItem(
            sid,
            "full" if n % 3 else "digest",
            "telegram" if n % 2 == 0 else "wechat",
            FULL if n % 3 else DIGEST,
        )
        for n, sid in enumerate(ids)
    ]


async def test_create_stores_renderings_once_and_one_delivery_each(
    session_factory: Sessions,
) -> None:
    issue_id, ids = await _setup(session_factory, 12)
    async with session_factory.begin() as session:
        result = await deliveries.create_deliveries(session, issue_id, _items(ids), at(1))
    assert (result.created, result.skipped, result.renderings_added) == (12, 0, 4)
    async with session_factory() as session:
        renderings = await session.scalar(select(func.count()).select_from(RenderingRow))
        counts = await deliveries.status_counts(session, issue_id)
        rows = (await session.scalars(select(DeliveryRow).order_by(DeliveryRow.id))).all()
    assert renderings == 4  # {full, digest} x {telegram, wechat}
    assert counts["telegram"]["pending"] == 6 and counts["wechat"]["pending"] == 6
    assert counts["telegram"]["sent"] == 0
    assert [r.messages_total for r in rows[:3]] == [1, 2, 2]
    assert {(r.status, r.messages_sent, r.attempts) for r in rows} == {("pending", 0, 0)}


async def test_second_publication_is_skipped_or_refused(session_factory: Sessions) -> None:
    issue_id, ids = await _setup(session_factory, 6)
    async with session_factory.begin() as session:
        await deliveries.create_deliveries(session, issue_id, _items(ids[:4]))
    async with session_factory.begin() as session:
        again = await deliveries.create_deliveries(session, issue_id, _items(ids))
    assert (again.created, again.skipped, again.renderings_added) == (2, 4, 0)
    with pytest.raises(AlreadyPublished, match="6 subscriber"):
        async with session_factory.begin() as session:
            await deliveries.create_deliveries(session, issue_id, _items(ids), skip_existing=False)
    async with session_factory.begin() as session:
        total = await session.scalar(select(func.count()).select_from(DeliveryRow))
        other = await issues.save_issue(session, make_issue(date(2025, 3, 8)), at(0))
        fresh = await deliveries.create_deliveries(
            session, other.issue_id, _items(ids), skip_existing=False
        )
    assert total == 6
    assert fresh.created == 6  # the constraint is per issue


async def test_unique_constraint_itself_rejects_duplicates(session_factory: Sessions) -> None:
    issue_id, ids = await _setup(session_factory, 1)
    async with session_factory.begin() as session:
        await deliveries.create_deliveries(session, issue_id, _items(ids))
    async with session_factory() as session:
        row = (await session.scalars(select(DeliveryRow))).one()
        values = {c.key: getattr(row, c.key) for c in DeliveryRow.__table__.columns}
        values.pop("id")
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            await session.execute(DeliveryRow.__table__.insert().values(values))


async def test_claim_progress_and_counts(session_factory: Sessions) -> None:
    issue_id, ids = await _setup(session_factory, 10)
    async with session_factory.begin() as session:
        await deliveries.create_deliveries(session, issue_id, _items(ids), at(1))
    async with session_factory.begin() as session:
        first = await deliveries.claim_for_sending(session, 4, at(2))
        second = await deliveries.claim_for_sending(session, 4, at(2), platforms=["wechat"])
    assert [c.subscriber_id for c in first] == ids[:4]
    assert [c.chat_id for c in first] == ["chat-0", "chat-1", "chat-2", "chat-3"]
    assert {c.platform for c in second} == {"wechat"}
    assert [c.subscriber_id for c in second] == [ids[5], ids[7], ids[9]]
    assert {(c.attempts, c.messages_sent) for c in first + second} == {(1, 0)}
    async with session_factory() as session:
        messages = await deliveries.load_renderings(session, [c.rendering_id for c in first])
    assert messages[first[0].rendering_id] == DIGEST
    assert messages[first[1].rendering_id] == FULL

    async with session_factory.begin() as session:
        lost = await deliveries.record_claimed_progress(
            session,
            [
                Checkpoint(Progress(first[0].id, 1, "sent"), 1),
                Checkpoint(Progress(first[1].id, 1, "sending"), 1),  # checkpoint mid-delivery
                Checkpoint(Progress(first[2].id, 0, "dropped", "Forbidden: bot was blocked"), 1),
                Checkpoint(Progress(first[3].id, 1, "pending", "429 retry after 5"), 1),
            ],
            at(3),
        )
    assert lost == set()
    async with session_factory.begin() as session:
        rows = {
            r.id: r
            for r in await session.scalars(
                select(DeliveryRow).where(DeliveryRow.id.in_([c.id for c in first]))
            )
        }
        retried = await deliveries.claim_for_sending(session, 1, at(4))
    assert (rows[first[0].id].status, rows[first[0].id].sent_at) == ("sent", at(3))
    assert (rows[first[1].id].messages_sent, rows[first[1].id].sent_at) == (1, None)
    assert rows[first[2].id].last_error == "Forbidden: bot was blocked"
    # The retried delivery resumes from its checkpoint.
    assert [(c.id, c.messages_sent, c.attempts) for c in retried] == [(first[3].id, 1, 2)]
    async with session_factory() as session:
        counts = await deliveries.status_counts(session, issue_id)
    assert counts == {
        "telegram": {"pending": 3, "sending": 0, "sent": 1, "failed": 0, "dropped": 1},
        "wechat": {"pending": 0, "sending": 5, "sent": 0, "failed": 0, "dropped": 0},
    }
    assert sum(sum(c.values()) for c in counts.values()) == 10


async def test_record_progress_rejects_unknown_status(session_factory: Sessions) -> None:
    async with session_factory() as session:
        with pytest.raises(ValueError, match="status"):
            await deliveries.record_claimed_progress(
                session, [Checkpoint(Progress(1, 0, "done"), 1)]
            )


async def test_concurrent_claims_never_share_a_delivery(session_factory: Sessions) -> None:
    issue_id, ids = await _setup(session_factory, 40)
    async with session_factory.begin() as session:
        await deliveries.create_deliveries(session, issue_id, _items(ids))

    async def worker() -> list[int]:
        got: list[int] = []
        while True:
            async with session_factory.begin() as session:
                batch = await deliveries.claim_for_sending(session, 3)
            if not batch:
                return got
            got.extend(c.id for c in batch)
            await asyncio.sleep(0)

    results = await asyncio.gather(*(worker() for _ in range(4)))
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)) == 40


async def test_requeue_stale_returns_stuck_deliveries(session_factory: Sessions) -> None:
    issue_id, ids = await _setup(session_factory, 3)
    async with session_factory.begin() as session:
        await deliveries.create_deliveries(session, issue_id, _items(ids))
        await deliveries.claim_for_sending(session, 2, at(10))
        assert await deliveries.requeue_stale(session, older_than=at(5)) == 0
        assert await deliveries.requeue_stale(session, older_than=at(11)) == 2
        counts = await deliveries.status_counts(session, issue_id)
    assert sum(c["pending"] for c in counts.values()) == 3
