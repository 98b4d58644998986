"""The rule for a series' own schedule: weekdays (a weekly series) and undated issues of
a numbered series, due at the next slot after they appeared; only the newest number of
a batch goes out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.config import PublishSettings
from bot.publish.rule import decide, due_at, due_moment, issue_state
from tests.publish.test_rule import summary

# Fridays 08:00 UTC, settle 30 minutes
FRIDAYS = PublishSettings(time=time(8), timezone="UTC", weekdays=["fri"])
DAILY_UTC = PublishSettings(time=time(8), timezone="UTC")
TUESDAY = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)  # 2026-11-06 is a Friday
FRIDAY_SLOT = datetime(2026, 11, 6, 8, 0, tzinfo=UTC)


def test_a_dated_issue_of_a_weekly_series_waits_for_its_weekday() -> None:
    assert due_at(date(2026, 11, 3), FRIDAYS) == FRIDAY_SLOT
    assert due_at(date(2026, 11, 6), FRIDAYS) == FRIDAY_SLOT  # its own day is a Friday
    several = PublishSettings(time=time(8), timezone="UTC", weekdays=["sat", "tue"])
    assert due_at(date(2026, 11, 4), several) == datetime(2026, 11, 7, 8, 0, tzinfo=UTC)
    dated = summary(TUESDAY, key=date(2026, 11, 3))
    assert decide(dated, FRIDAY_SLOT - timedelta(minutes=1), FRIDAYS) == "wait"
    assert decide(dated, FRIDAY_SLOT, FRIDAYS) == "publish"


def test_an_undated_number_goes_out_at_the_next_slot_after_it_appeared() -> None:
    new = summary(TUESDAY, key=None, number=51)
    assert due_moment(new, FRIDAYS) == FRIDAY_SLOT
    assert issue_state(new, TUESDAY, FRIDAYS) == "draft"
    assert decide(new, FRIDAY_SLOT - timedelta(seconds=1), FRIDAYS, newest_number=51) == "wait"
    assert decide(new, FRIDAY_SLOT, FRIDAYS, newest_number=51) == "publish"
    # seen on a Friday after 08:00: the next Friday
    late = summary(FRIDAY_SLOT + timedelta(minutes=1), key=None, number=52)
    assert due_moment(late, FRIDAYS) == FRIDAY_SLOT + timedelta(days=7)
    # without weekdays: the next day's publish time
    assert due_moment(new, DAILY_UTC) == datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
    early = summary(TUESDAY.replace(hour=7), key=None, number=51)
    assert due_moment(early, DAILY_UTC) == TUESDAY.replace(hour=8)


def test_an_undated_number_behind_a_newer_one_is_archived_not_pushed() -> None:
    imported = [summary(TUESDAY, key=None, number=n) for n in (49, 50, 51)]
    decisions = [decide(s, FRIDAY_SLOT, FRIDAYS, newest_number=51) for s in imported]
    assert decisions == ["archive", "archive", "publish"]


def test_the_weekday_keeps_its_wall_clock_time_across_a_dst_change() -> None:
    berlin = PublishSettings(time=time(8), timezone="Europe/Berlin", weekdays=["mon"])
    # Friday 2026-10-23 (CEST) -> Monday 2026-10-26 (CET, after the change)
    assert due_at(date(2026, 10, 23), berlin) == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
