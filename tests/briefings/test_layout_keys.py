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


# --------------------------------------------------------------------------- the date


@pytest.mark.parametrize(
    ("preamble", "layout"),
    [
        ("Ten years ago, on 2016-11-27, the first widget toolkit shipped.", THIS_WEEK_IN),
        ("We meet again on 2026-12-04 in Berlin.\n\nPublished in Berlin.", THIS_WEEK_IN),
        ("Dates to remember: 2026-12-24.", THIS_WEEK_IN),
        ("十年前的 2016-11-27，第一个小部件工具包发布了。", NUMBERED_WEEKLY),
        ("活动报名截止到2026年12月4日。", NUMBERED_WEEKLY),
    ],
)
def test_a_date_in_the_intros_prose_is_not_the_issues(preamble: str, layout: Layout) -> None:
    body = TWIN_BODY if layout is THIS_WEEK_IN else WEEKLY_BODY
    parsed = run(f"# Weekly #52\n\n{preamble}\n" + body, layout)
    assert (parsed.key, parsed.issue.key) == (IssueKey(52), None)


@pytest.mark.parametrize(
    ("line", "layout", "day"),
    [
        ("Published 2026-11-20", THIS_WEEK_IN, date(2026, 11, 20)),
        ("Published on 2026-11-20 by the widget team", THIS_WEEK_IN, date(2026, 11, 20)),
        ("**Date:** 2026/11/20", THIS_WEEK_IN, date(2026, 11, 20)),
        ("> Posted on 2026.11.20", THIS_WEEK_IN, date(2026, 11, 20)),
        ("发布日期：2026-11-20", NUMBERED_WEEKLY, date(2026, 11, 20)),
        ("**发布日期**：2026年11月20日（周五）", NUMBERED_WEEKLY, date(2026, 11, 20)),
        ("日期: 2026-11-20", NUMBERED_WEEKLY, date(2026, 11, 20)),
    ],
)
def test_a_labelled_line_gives_the_date(line: str, layout: Layout, day: date) -> None:
    body = TWIN_BODY if layout is THIS_WEEK_IN else WEEKLY_BODY
    text = f"# Weekly #52\n\nIntro mentioning 2016-11-27 first.\n\n{line}\n" + body
    assert run(text, layout).key == IssueKey(52, day)


def test_the_curator_chooses_the_labels() -> None:
    layout = replace(THIS_WEEK_IN, date_labels=("Issue date",))
    text = "# Weekly #52\n\nPublished 2026-11-20\n\nIssue date: 2026-11-21\n" + TWIN_BODY
    assert run(text, layout).key == IssueKey(52, date(2026, 11, 21))
    loaded = layout_from_mapping({"preset": "this-week-in", "date_labels": ["Sent"]})
    assert loaded.date_labels == ("Sent",)
    with pytest.raises(LayoutError, match=r"layout\.date_labels"):
        layout_from_mapping({"preset": "this-week-in", "date_labels": []})
    with pytest.raises(LayoutError, match=r"layout\.date_labels: an empty label"):
        layout_from_mapping({"preset": "this-week-in", "date_labels": [" "]})


def test_a_date_keyed_layout_reading_text_takes_only_labelled_lines() -> None:
    layout = replace(THIS_WEEK_IN, key="date", date_from=("text",))
    body = "\n## News\n\n- [a](https://e.example/a)\n"
    text = "# Widgets weekly\n\nOn 2016-11-27 it began.\n\nDate: 2026-11-20\n" + body
    assert run(text, layout).issue.key == date(2026, 11, 20)
    with pytest.raises(BriefingParseError, match=r"no issue date \(YYYY-MM-DD\) in the text"):
        run("# Widgets weekly\n\nOn 2016-11-27 it began.\n" + body, layout)


# --------------------------------------------------------------------------- front matter


STATIC_SITE = """---
title: "This Week in Widgets 301"
number: 301
date: 2026-11-20 09:00:00 +0000
tags: [widgets, weekly]
---

Hello and welcome to another issue of *This Week in Widgets*!

## Updates from the community

* [Widgets 2.0 is out](https://w.example/2)
"""


def test_a_front_matter_title_stands_in_for_a_missing_h1() -> None:
    parsed = run(STATIC_SITE, THIS_WEEK_IN, "2026-11-20-this-week-in-widgets.md")
    issue = parsed.issue
    assert parsed.key == IssueKey(301, date(2026, 11, 20))
    assert issue.title == "This Week in Widgets 301"
    assert issue.intro.startswith("Hello and welcome")
    assert [s.heading for s in issue.sections] == ["Updates from the community"]
    assert issue.front_matter.startswith('title: "This Week in Widgets 301"')


def test_the_front_matter_date_keys_when_the_layout_reads_it() -> None:
    assert run(STATIC_SITE, THIS_WEEK_IN, "widgets.md").key == IssueKey(301, date(2026, 11, 20))
    no_front = replace(THIS_WEEK_IN, date_from=("title", "name", "text"))
    assert run(STATIC_SITE, no_front, "widgets.md").key == IssueKey(301)
    with pytest.raises(BriefingParseError, match="file name says 2026-11-27 but the H1 says"):
        run(STATIC_SITE, THIS_WEEK_IN, "2026-11-27-this-week-in-widgets.md")


def test_an_h1_wins_over_the_front_matter_title() -> None:
    text = STATIC_SITE.replace("\nHello", "\n# This Week in Widgets 302\n\nHello")
    parsed = run(text, THIS_WEEK_IN, "widgets.md")
    assert (parsed.key.number, parsed.issue.title) == (302, "This Week in Widgets 302")


def test_a_numbered_weekly_with_front_matter_and_no_h1() -> None:
    text = (
        "---\ntitle: '某周刊 第 12 期：端侧推理'\ndate: '2026-11-20'\nlayout: post\n---\n\n"
        "本周的内容比较多。\n" + WEEKLY_BODY
    )
    parsed = run(text, NUMBERED_WEEKLY, "posts/weekly.md")
    assert parsed.key == IssueKey(12, date(2026, 11, 20))
    assert parsed.issue.title == "某周刊 第 12 期：端侧推理"


def test_front_matter_without_a_title_still_needs_an_h1() -> None:
    text = "---\ndate: 2026-11-20\ntitle: >\n  folded\n---\n\nIntro.\n" + TWIN_BODY
    with pytest.raises(BriefingParseError, match="no '# title' line before the first section"):
        run(text, THIS_WEEK_IN, "widgets.md")


def test_a_front_matter_date_that_is_no_calendar_date_is_an_error() -> None:
    text = STATIC_SITE.replace("2026-11-20 09", "2026-13-45 09")
    with pytest.raises(BriefingParseError, match="front matter date: is not a calendar date"):
        run(text, THIS_WEEK_IN, "widgets.md")


# --------------------------------------------------------------------------- boilerplate


def test_numbered_weekly_boilerplate_is_whole_lines_not_words_in_content() -> None:
    text = (
        "# 某周刊 第 9 期\n\n本周欢迎订阅用户参加线下活动。\n\n> 欢迎投稿：发邮件给编辑部。\n\n"
        "## 工具\n\n1、[插件市场](https://e.example/m)\n\n这个项目欢迎投稿者提交插件，文档很全。\n\n"
        "**欢迎订阅**本周刊，每周五更新。\n\n欢迎订阅本周刊。\n"
    )
    parsed = run(text, NUMBERED_WEEKLY)
    assert [line for _, line in parsed.left_out] == [
        "> 欢迎投稿：发邮件给编辑部。",
        "**欢迎订阅**本周刊，每周五更新。",
        "欢迎订阅本周刊。",
    ]
    assert parsed.issue.intro == "本周欢迎订阅用户参加线下活动。"
    (entry,) = parsed.issue.sections[0].entries
    assert entry.summary == "这个项目欢迎投稿者提交插件，文档很全。"
