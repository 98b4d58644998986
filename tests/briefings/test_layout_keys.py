"""Which key a numbered issue gets from its title, file name, front matter and labelled
lines: files written for the tests in the shapes real public weeklies use."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from briefings import layout as layout_module
from briefings.errors import BriefingParseError
from briefings.layout import Layout, LayoutError
from briefings.layout_config import layout_from_mapping
from briefings.model import IssueKey
from briefings.parser import Parsed, parse_with_layout
from briefings.presets import NUMBERED_WEEKLY, THIS_WEEK_IN
from tests.briefings._helpers import SERIES, TAXONOMY

WEEKLY_BODY = "\n## 工具\n\n1、[甲](https://e.example/a)\n\n说明。\n"
TWIN_BODY = "\n## News\n\n- [Widgets 2.0](https://e.example/w2)\n"


def run(text: str, layout: Layout, path: str = "t.md") -> Parsed:
    return parse_with_layout(text, path, SERIES, TAXONOMY, layout)


# --------------------------------------------------------------------------- the number


@pytest.mark.parametrize(
    ("h1", "number"),
    [
        ("This Week in Widgets 301: C# 12 lands", 301),
        ("Issue 42 — from #1 to #100", 42),
        ("This Week in Widgets #42", 42),
        ("This Week in Widgets 300", 300),
        ("This Week in Widgets 301 — Widgets 2.0 and #7 of the survey", 301),
        ("This Week in Widgets, Issue No. 88: F# 8 and C# 13", 88),
    ],
)
def test_this_week_in_takes_the_issues_own_number(h1: str, number: int) -> None:
    parsed = run(f"# {h1}\n" + TWIN_BODY, THIS_WEEK_IN)
    assert parsed.key == IssueKey(number)


@pytest.mark.parametrize(
    ("h1", "number"),
    [
        ("某周刊（第 300 期）：从 #1 到 #100", 300),
        ("某周刊：C# 12 发布（第 301 期）", 301),
        ("C# 周刊 #12", 12),
        ("某周刊 #12：回顾第 3 期的读者来信", 12),
    ],
)
def test_numbered_weekly_takes_the_issues_own_number(h1: str, number: int) -> None:
    assert run(f"# {h1}\n" + WEEKLY_BODY, NUMBERED_WEEKLY).key == IssueKey(number)


def test_a_subtitle_number_cannot_claim_another_issue_from_a_dated_file_name() -> None:
    """The file keys nothing by itself (a date in its name), so the H1 alone decides: an
    issue mentioning C# 61 must not overwrite published #61."""
    text = "# This Week in Widgets 302: C# 61 lands\n" + TWIN_BODY
    parsed = run(text, THIS_WEEK_IN, "2026-12-11-this-week-in-widgets.md")
    assert parsed.key == IssueKey(302, date(2026, 12, 11))


# --------------------------------------------------------------------------- bad number groups


@pytest.mark.parametrize(
    ("field", "pattern"),
    [
        ("title_number", r"Issue (?P<n>\w+)"),
        ("title_number", r"Issue (?P<n>\d*)"),  # may match nothing: int("")
        ("name_number", r"^(?P<n>[^.]+)\.md$"),
    ],
)
def test_a_number_group_that_is_not_digits_is_refused_at_load(field: str, pattern: str) -> None:
    with pytest.raises(LayoutError) as caught:
        layout_from_mapping({"preset": "this-week-in", field: ["#(?P<n>\\d+)", pattern]})
    assert str(caught.value).startswith(f"layout.{field}[1]: ")
    assert "must match digits only" in str(caught.value)


@pytest.mark.parametrize(
    "pattern",
    [r"(?P<n>\d+)", r"(?P<n>[0-9]{1,6})(?!\d)", r"第(?P<n>[0-9０-９]+)期", r"(?P<n>\d++)"],
)
def test_digit_groups_load(pattern: str) -> None:
    assert layout_from_mapping({"preset": "numbered-weekly", "title_number": [pattern]})


def test_a_number_group_the_load_check_could_not_read_fails_one_file_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the regex tree cannot be read (another Python), the file fails with a message
    naming the pattern; ingest never sees a ValueError from int()."""
    monkeypatch.setattr(layout_module, "_digits_only", lambda pattern, group: True)
    layout = replace(THIS_WEEK_IN, title_number=(r"Issue (?P<n>\w+)",))
    with pytest.raises(BriefingParseError) as caught:
        run("# Issue abc\n" + TWIN_BODY, layout)
    assert caught.value.line == 1
    assert caught.value.message.startswith(r"layout.title_number 'Issue (?P<n>\\w+)' found 'abc'")
    assert run("# Issue 12\n" + TWIN_BODY, layout).key == IssueKey(12)


# --------------------------------------------------------------------------- over-long numbers


@pytest.mark.parametrize(
    ("text", "layout", "digits"),
    [
        ("# 某周刊 第 1000000000000 期\n" + WEEKLY_BODY, NUMBERED_WEEKLY, 13),
        ("# This Week in Widgets #1234567\n" + TWIN_BODY, THIS_WEEK_IN, 7),
        ("# Issue " + "9" * 100_000 + "\n" + TWIN_BODY, THIS_WEEK_IN, 100_000),
    ],
    ids=["weekly", "twin", "huge"],
)
def test_an_over_long_number_says_it_has_too_many_digits(
    text: str, layout: Layout, digits: int
) -> None:
    with pytest.raises(BriefingParseError) as caught:
        run(text, layout)
    message = caught.value.message
    assert f"has {digits} digits, more than 6" in message
    assert "no issue number" not in message
    assert len(message) < 200


def test_an_over_long_number_in_the_file_name_is_named_when_the_h1_has_none() -> None:
    with pytest.raises(BriefingParseError, match=r"'20261120' in the file name has 8 digits"):
        run("# 某周刊\n" + WEEKLY_BODY, NUMBERED_WEEKLY, "20261120.md")


def test_a_date_like_file_name_does_not_contradict_the_h1s_number() -> None:
    assert run("# 某周刊 第 5 期\n" + WEEKLY_BODY, NUMBERED_WEEKLY, "20261120.md").key == IssueKey(
        5
    )
    assert run("# 某周刊 第 999999 期\n" + WEEKLY_BODY, NUMBERED_WEEKLY).key == IssueKey(999999)
