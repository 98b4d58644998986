"""Numbered issues (several series): stored by number, with or without a date, ordered by
number; NULL dates and NULL numbers never collide on either database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from briefings.model import Issue, Series
from storage import issues
from storage.models import IssueRow
from tests.storage.factories import at, make_issue

Sessions = async_sessionmaker[AsyncSession]
WEEKLY = Series(slug="weekly", title="This Week in Widgets")


def numbered(number: int, day: date | None = None, content_hash: str = "n1") -> Issue:
    return replace(make_issue(content_hash=content_hash), series=WEEKLY, key=day, number=number)


async def test_numbered_issues_round_trip_without_a_date(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        first = await issues.save_issue(session, numbered(300), at(0))
        second = await issues.save_issue(session, numbered(301), at(1))
    assert first.outcome == second.outcome == "added"  # two NULL dates: no collision
    async with session_factory() as session:
        loaded = await issues.get_numbered_issue(session, "weekly", 300)
        assert loaded is not None and loaded.number == 300 and loaded.key is None
        assert loaded == numbered(300)
        latest = await issues.latest_issue(session, "weekly")
        assert latest is not None and latest.number == 301
        assert await issues.newest_number(session, "weekly") == 301
        assert await issues.issue_keys(session, "weekly") == []


async def test_a_numbered_issue_is_found_by_its_number_when_its_date_changes(
    session_factory: Sessions,
) -> None:
    async with session_factory.begin() as session:
        await issues.save_issue(session, numbered(7), at(0))
        again = await issues.save_issue(
            session, numbered(7, date(2026, 1, 9), content_hash="n2"), at(5)
        )
    assert again.outcome == "updated"
    async with session_factory() as session:
        loaded = await issues.get_numbered_issue(session, "weekly", 7)
        assert loaded is not None and loaded.key == date(2026, 1, 9)


async def test_numbered_issues_are_listed_by_number_not_date(session_factory: Sessions) -> None:
    # The dates disagree with the numbers: the number decides the order.
    async with session_factory.begin() as session:
        await issues.save_issue(session, numbered(10, date(2026, 3, 1)), at(0))
        await issues.save_issue(session, numbered(12, date(2026, 1, 1)), at(0))
        await issues.save_issue(session, numbered(11), at(0))
    async with session_factory() as session:
        listed = await issues.list_issues(session, "weekly")
        waiting = await issues.unpublished_issues(session, "weekly", at(10))
    assert [s.number for s in listed] == [12, 11, 10]
    assert [s.number for s in waiting] == [10, 11, 12]
    assert [s.label for s in listed] == ["#12 (2026-01-01)", "#11", "#10 (2026-03-01)"]


async def test_dated_series_beside_a_numbered_one_keep_their_order(
    session_factory: Sessions,
) -> None:
    async with session_factory.begin() as session:
        await issues.save_issue(session, make_issue(date(2025, 3, 1)), at(0))
        await issues.save_issue(session, make_issue(date(2025, 3, 8)), at(0))
        await issues.save_issue(session, numbered(1, date(2025, 3, 8)), at(0))
    async with session_factory() as session:
        listed = await issues.list_issues(session, "embedded-ai")
        latest = await issues.latest_issue(session, "embedded-ai")
    assert [s.key for s in listed] == [date(2025, 3, 8), date(2025, 3, 1)]
    assert latest is not None and latest.key == date(2025, 3, 8) and latest.number is None


async def test_the_same_number_twice_in_a_series_is_refused(session_factory: Sessions) -> None:
    async with session_factory.begin() as session:
        saved = await issues.save_issue(session, numbered(5), at(0))
        row = await session.get(IssueRow, saved.issue_id)
        assert row is not None
        values = {
            c.name: getattr(row, c.name) for c in IssueRow.__table__.columns if c.name != "id"
        }
    with pytest.raises(IntegrityError):
        async with session_factory.begin() as session:
            await session.execute(insert(IssueRow).values(values))


async def test_an_undated_issue_is_never_found_by_a_missing_date(
    session_factory: Sessions,
) -> None:
    async with session_factory.begin() as session:
        await issues.save_issue(session, numbered(1), at(0))
    async with session_factory() as session:
        assert await issues.find_issue_id(session, "weekly", None) is None  # type: ignore[arg-type]
        assert await issues.find_numbered_id(session, "weekly", 1) is not None
