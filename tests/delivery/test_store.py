"""The send-path storage functions the engine uses (storage/deliveries/writes.py)."""

from __future__ import annotations

from sqlalchemy import select

from storage import deliveries, subscribers
from storage.deliveries.writes import Checkpoint, Progress, sent_message_ids
from storage.models import DeliveryRow
from tests.delivery.helpers import Sessions, seed
from tests.storage.factories import at


async def all_rows(sessions: Sessions) -> dict[int, DeliveryRow]:
    async with sessions() as session:
        return {r.id: r for r in await session.scalars(select(DeliveryRow))}


async def test_claim_for_sending_filters_platforms_and_paused_issues(sessions: Sessions) -> None:
    telegram = await seed(sessions, 4)
    await seed(sessions, 3, platform="wechat", issue_day=2)
    later = await seed(sessions, 4, issue_day=3)
    gone = telegram.subscriber_ids[1001]
    async with sessions.begin() as session:
        await subscribers.deactivate(session, gone, "/stop")
        claimed = await deliveries.claim_for_sending(
            session, 100, at(2), platforms={"telegram"}, exclude_issues={later.issue_id}
        )
        assert await deliveries.claim_for_sending(session, 100, platforms=()) == []
    assert {c.issue_id for c in claimed} == {telegram.issue_id}
    assert sorted(c.chat_id for c in claimed) == ["-5003", "1000", "1002"]
    assert all(c.attempts == 1 for c in claimed)
    rows = await all_rows(sessions)
    dropped = [r for r in rows.values() if r.status == "dropped"]
    assert [(r.subscriber_id, r.last_error) for r in dropped] == [(gone, "subscriber inactive")]
    assert sum(r.status == "pending" for r in rows.values()) == 3 + 4


async def test_checkpoints_apply_only_under_their_own_claim(sessions: Sessions) -> None:
    await seed(sessions, 3)
    async with sessions.begin() as session:
        a, b, c = await deliveries.claim_for_sending(session, 10, at(1))
        lost = await deliveries.record_claimed_progress(
            session,
            [
                Checkpoint(Progress(a.id, 5, "sent"), a.attempts),
                Checkpoint(Progress(b.id, 1, "failed", "Bad Request"), b.attempts + 1),
                Checkpoint(Progress(c.id, 2, "pending"), c.attempts),
            ],
            at(2),
        )
    assert lost == {b.id}
    rows = await all_rows(sessions)
    assert (rows[a.id].status, rows[a.id].messages_sent, rows[a.id].sent_at) == ("sent", 5, at(2))
    assert (rows[b.id].status, rows[b.id].messages_sent) == ("sending", 0)
    assert (rows[c.id].status, rows[c.id].sent_at) == ("pending", None)
    async with sessions.begin() as session:
        assert await deliveries.record_claimed_progress(session, []) == set()


async def test_heartbeat_keeps_claims_from_being_requeued(sessions: Sessions) -> None:
    await seed(sessions, 3)
    async with sessions.begin() as session:
        held, orphan, _ = await deliveries.claim_for_sending(session, 3, at(0))
    async with sessions.begin() as session:
        assert await deliveries.touch_claimed(session, [held.id], at(10)) == 1
        assert await deliveries.requeue_stale(session, at(5)) == 2
    rows = await all_rows(sessions)
    assert rows[held.id].status == "sending" and rows[orphan.id].status == "pending"
    async with sessions.begin() as session:  # pending rows are not touched
        assert await deliveries.touch_claimed(session, [orphan.id], at(11)) == 0


async def test_dropping_a_gone_subscribers_pending_deliveries(sessions: Sessions) -> None:
    first = await seed(sessions, 2)
    await seed(sessions, 2, issue_day=2)
    subscriber = first.subscriber_ids[1000]
    async with sessions.begin() as session:
        [claimed] = await deliveries.claim_for_sending(session, 1)
        assert claimed.subscriber_id == subscriber
        dropped = await deliveries.drop_pending_of_subscriber(session, subscriber, "blocked")
    assert dropped == 1  # the claimed one is the engine's to finish
    rows = await all_rows(sessions)
    mine = [r for r in rows.values() if r.subscriber_id == subscriber]
    assert sorted((r.status, r.last_error) for r in mine) == [
        ("dropped", "blocked"),
        ("sending", None),
    ]


async def test_progress_and_issue_listing_for_status(sessions: Sessions) -> None:
    first = await seed(sessions, 5)  # renders 5, 2, 3, 1, 4 messages
    second = await seed(sessions, 2, issue_day=2)
    async with sessions.begin() as session:
        a, b, c = await deliveries.claim_for_sending(session, 3, at(1))
        await deliveries.record_claimed_progress(
            session,
            [
                Checkpoint(Progress(a.id, 5, "sent"), a.attempts),
                Checkpoint(Progress(b.id, 1, "sending"), b.attempts),
                Checkpoint(Progress(c.id, 0, "dropped", "blocked"), c.attempts),
            ],
            at(2),
        )
    async with sessions() as session:
        [progress] = await deliveries.delivery_progress(session, first.issue_id, at(1))
        [old] = await deliveries.delivery_progress(session, first.issue_id, at(3))
        listed = await deliveries.issues_with_deliveries(session, "embedded-ai")
    assert progress.platform == "telegram"
    assert progress.counts == {"pending": 2, "sending": 1, "sent": 1, "failed": 0, "dropped": 1}
    assert (progress.messages_sent, progress.messages_total) == (6, 15)
    assert progress.messages_left == 1 + 1 + 4  # b's rest, and the two pending
    assert progress.recent_messages == 5 and old.recent_messages == 0
    assert progress.last_sent_at == at(2)
    assert [(i.issue_id, i.unfinished) for i in listed] == [
        (second.issue_id, 2),
        (first.issue_id, 3),
    ]


async def test_message_ids_are_kept_with_their_checkpoint_and_only_under_the_claim(
    sessions: Sessions,
) -> None:
    await seed(sessions, 2)
    async with sessions.begin() as session:
        a, b = await deliveries.claim_for_sending(session, 10, at(1))
        await deliveries.record_claimed_progress(
            session,
            [
                Checkpoint(Progress(a.id, 1, "sending", None, "501"), a.attempts),
                Checkpoint(Progress(b.id, 1, "sending", None, "601"), b.attempts + 1),
            ],
            at(2),
        )
        # Resent after a crash: the copy sent last is the one that can still be edited.
        await deliveries.record_claimed_progress(
            session,
            [
                Checkpoint(Progress(a.id, 1, "sending", None, "502"), a.attempts),
                Checkpoint(Progress(a.id, 2, "sent", None, "503"), a.attempts),
            ],
            at(3),
        )
    async with sessions() as session:
        assert await sent_message_ids(session, a.id) == {0: "502", 1: "503"}
        # A stale claim's checkpoint records neither its progress nor its message id.
        assert await sent_message_ids(session, b.id) == {}
