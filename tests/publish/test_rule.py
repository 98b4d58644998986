"""The pure due / settle / backfill / held rule, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.config import PublishSettings, Settings
from bot.publish.rule import decide, due_at, issue_state, repaired_defects, unfinished_reasons
from briefings.model import Entry, Issue, ParseWarning, Section, Series
from storage.issues import IssueSummary

SHANGHAI = PublishSettings()  # 09:00 Asia/Shanghai, settle 30 min, backfill 3 days
KEY = date(2026, 11, 2)
DUE = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def summary(changed: datetime, **fields: object) -> IssueSummary:
    base = IssueSummary(
        id=1,
        series_slug="embedded-ai",
        key=KEY,
        title="t",
        content_hash="h",
        entry_count=1,
        sections=(),
        first_seen_at=changed,
        content_changed_at=changed,
        updated_at=changed,
        published_at=None,
        published_hash=None,
        held_at=None,
        hold_reason=None,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_due_at_is_the_publish_time_in_the_configured_zone() -> None:
    assert due_at(KEY, SHANGHAI) == DUE
    berlin = PublishSettings(time=time(7, 30), timezone="Europe/Berlin")
    assert due_at(date(2026, 7, 1), berlin) == datetime(2026, 7, 1, 5, 30, tzinfo=UTC)  # CEST
    assert due_at(date(2026, 12, 1), berlin) == datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # CET


@pytest.mark.parametrize(
    ("changed", "now", "expected"),
    [
        (DUE - timedelta(days=3), DUE - timedelta(minutes=1), "wait"),  # a draft
        (DUE - timedelta(days=3), DUE, "publish"),  # settled long ago: on the minute
        (DUE - timedelta(minutes=10), DUE, "wait"),  # edited just before
        (DUE - timedelta(minutes=10), DUE + timedelta(minutes=20), "publish"),
        (DUE + timedelta(hours=2), DUE + timedelta(hours=2, minutes=29), "wait"),
        (DUE + timedelta(hours=2), DUE + timedelta(hours=2, minutes=30), "publish"),
        (DUE - timedelta(days=1), DUE + timedelta(days=3), "publish"),  # downtime: caught up
        (DUE - timedelta(days=1), DUE + timedelta(days=40), "publish"),  # seen before: still
        (DUE + timedelta(days=3, hours=15), DUE + timedelta(days=4), "archive"),  # first seen late
        (DUE + timedelta(days=30), DUE + timedelta(days=30), "archive"),  # imported archive
    ],
)
def test_decide(changed: datetime, now: datetime, expected: str) -> None:
    assert decide(summary(changed), now, SHANGHAI) == expected


def test_published_and_held_issues_are_left_alone() -> None:
    changed = DUE - timedelta(days=1)
    done = summary(changed, published_at=DUE, published_hash="h")
    held = summary(changed, held_at=DUE, hold_reason="empty")
    assert decide(done, DUE + timedelta(hours=1), SHANGHAI) == "published"
    assert decide(held, DUE + timedelta(hours=1), SHANGHAI) == "held"


def test_zero_settle_and_zero_backfill() -> None:
    strict = PublishSettings(settle_minutes=0, backfill_days=0)
    assert decide(summary(DUE), DUE, strict) == "publish"
    late_same_day = DUE + timedelta(hours=14)  # 23:00 local, still the issue's date
    assert decide(summary(late_same_day), late_same_day, strict) == "publish"
    next_day = DUE + timedelta(hours=15)
    assert decide(summary(next_day), next_day, strict) == "archive"


def test_staleness_counts_from_first_sight_not_from_now() -> None:
    seen_on_time = summary(DUE + timedelta(hours=1))  # seen on its date, then the bot went down
    later = DUE + timedelta(days=10)
    assert decide(seen_on_time, later, SHANGHAI) == "publish"
    edited = replace(seen_on_time, content_changed_at=later)  # edits do not make it stale
    assert decide(edited, later + timedelta(minutes=30), SHANGHAI) == "publish"
    imported = summary(later)  # first seen ten days after its date
    assert decide(imported, later, SHANGHAI) == "archive"


def test_issue_state() -> None:
    settings = Settings()
    changed = DUE - timedelta(days=1)
    assert issue_state(summary(changed), DUE - timedelta(seconds=1), settings) == "draft"
    assert issue_state(summary(changed), DUE, settings) == "due"
    assert issue_state(summary(changed, held_at=DUE), DUE, settings) == "held"
    published = summary(changed, published_at=DUE, published_hash="h")
    assert issue_state(published, DUE, settings) == "published"
    archived = summary(changed, published_at=DUE, published_hash="archived:h")
    assert issue_state(archived, DUE, settings.publish) == "archived"


def _issue(*sections: Section, warnings: tuple[ParseWarning, ...] = ()) -> Issue:
    return Issue(Series("s", "S"), KEY, "t", sections=sections, warnings=warnings)


def test_unfinished_reasons() -> None:
    entry = Entry(0, "title")
    full = Section("news", "业界新闻", 0, (entry,))
    empty = Section("blogs", "博文", 1)
    assert unfinished_reasons(_issue(full)) == []
    assert unfinished_reasons(_issue(full, empty)) == ["section '博文' has no entries"]
    warned = _issue(
        full,
        empty,
        warnings=(
            ParseWarning("x.md", 9, "section '博文' has no entries", unfinished=True),
            ParseWarning("x.md", 4, "unclosed '[' in item", unfinished=True),
            ParseWarning("x.md", 6, "text after the item's links kept in the summary: 'x'"),
        ),
    )
    assert unfinished_reasons(warned) == [
        "line 9: section '博文' has no entries",
        "line 4: unclosed '[' in item",
    ]
    assert repaired_defects(warned) == [
        "line 6: text after the item's links kept in the summary: 'x'"
    ]
    assert unfinished_reasons(_issue()) == ["the issue has no entries"]


def test_a_repaired_defect_is_not_a_reason_to_hold() -> None:
    full = Section("news", "业界新闻", 0, (Entry(0, "title"),))
    repaired = _issue(
        full,
        warnings=(
            ParseWarning("x.md", 3, "cannot split 'a | ' into 'title | source'; kept as title"),
            ParseWarning("x.md", 5, "section 'Misc' is not in the taxonomy; key 'misc'"),
        ),
    )
    assert unfinished_reasons(repaired) == []
    assert len(repaired_defects(repaired)) == 2
