"""Each dimension of a `Layout` on small files written for the tests, in the shapes real
public series use: the issue key, sections, entries, summaries, images and front matter."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from briefings.errors import BriefingParseError
from briefings.layout import Layout
from briefings.model import Entry, IssueKey, Link
from briefings.parser import Parsed, parse_issue, parse_with_layout
from briefings.presets import EMBEDDED_AI, NUMBERED_WEEKLY, THIS_WEEK_IN
from tests.briefings._helpers import SERIES, TAXONOMY


def run(text: str, layout: Layout, path: str = "t.md") -> Parsed:
    return parse_with_layout(text, path, SERIES, TAXONOMY, layout)


def entries(parsed: Parsed) -> list[Entry]:
    return [e for s in parsed.issue.sections for e in s.entries]


def titles(parsed: Parsed) -> list[str]:
    return [e.title for e in entries(parsed)]


WEEKLY_BODY = "\n## 工具\n\n1、[a](https://e.com/a)\n\n说明。\n"
TWIN_BODY = "\n## News\n\n- [a](https://e.com/a)\n"


# --------------------------------------------------------------------------- issue key


@pytest.mark.parametrize(
    ("h1", "path", "number"),
    [
        ("# 某周刊（第 300 期）：标题", "t.md", 300),
        ("# 某周刊 第300期", "t.md", 300),
        ("# 某周刊 #300", "t.md", 300),
        ("# 某周刊", "issue-300.md", 300),
        ("# 某周刊", "docs/300.md", 300),
        ("# 某周刊 第 300 期", "issue-300.md", 300),
    ],
)
def test_numbered_key_from_the_h1_or_the_file_name(h1: str, path: str, number: int) -> None:
    parsed = run(h1 + "\n" + WEEKLY_BODY, NUMBERED_WEEKLY, path)
    assert (parsed.key, parsed.issue.key) == (IssueKey(number), None)
    assert str(parsed.key) == f"#{number}"


@pytest.mark.parametrize(
    ("text", "path", "day"),
    [
        ("# 某周刊 第 7 期 (2026-01-09)\n", "t.md", date(2026, 1, 9)),
        ("# 某周刊 第 7 期\n", "7-2026-01-09.md", date(2026, 1, 9)),
        ("# 某周刊 第 7 期\n\n发布日期：2026年1月9日\n", "t.md", date(2026, 1, 9)),
    ],
)
def test_a_numbered_issue_keeps_a_date_written_anywhere(text: str, path: str, day: date) -> None:
    parsed = run(text + WEEKLY_BODY, NUMBERED_WEEKLY, path)
    assert (parsed.key, parsed.issue.key) == (IssueKey(7, day), day)
    assert str(parsed.key) == f"#7 ({day})"


def test_h1_and_file_name_numbers_must_agree() -> None:
    with pytest.raises(BriefingParseError, match="file name says #301 but the H1 says #300"):
        run("# 某周刊 第 300 期\n" + WEEKLY_BODY, NUMBERED_WEEKLY, "issue-301.md")


def test_a_numbered_layout_refuses_an_issue_without_a_number() -> None:
    with pytest.raises(BriefingParseError, match="no issue number in the H1 '某周刊'"):
        run("# 某周刊\n" + WEEKLY_BODY, NUMBERED_WEEKLY, "latest.md")


def test_date_keyed_layout_reads_the_date_from_the_file_name_when_told() -> None:
    layout = replace(EMBEDDED_AI, date_from=("title", "name"))
    text = "# 简报\n\n## 论文\n\n- [a](https://e.com)\n"
    assert run(text, layout, "2026-01-09.md").issue.key == date(2026, 1, 9)
    with pytest.raises(
        BriefingParseError, match=r"no issue date \(YYYY-MM-DD\) in the title, name"
    ):
        run(text, layout, "latest.md")
    with pytest.raises(BriefingParseError, match="has no issue date"):  # the preset's message
        run(text, EMBEDDED_AI, "2026-01-09.md")


def test_issue_keys_order_by_number_then_date() -> None:
    keys = [IssueKey(10), IssueKey(9, date(2026, 1, 9)), IssueKey(None, date(2020, 1, 1))]
    assert sorted(keys) == [keys[2], keys[1], keys[0]]
    with pytest.raises(ValueError, match="number or a date"):
        IssueKey()


# --------------------------------------------------------------------------- sections


def test_free_sections_take_every_heading_without_warning() -> None:
    text = "# W #1\n\n## Crates of the week\n\n- [a](https://e.com)\n\n## 论文\n\n- [b](https://e.com)\n"
    issue = run(text, THIS_WEEK_IN).issue
    assert [s.key for s in issue.sections] == ["crates-of-the-week", "papers"]
    assert issue.warnings == ()
    named = run(text, replace(THIS_WEEK_IN, sections="named")).issue
    assert [w.message for w in named.warnings] == [
        "section 'Crates of the week' is not in the taxonomy; key 'crates-of-the-week'"
    ]


def test_section_names_map_headings_to_keys() -> None:
    layout = replace(THIS_WEEK_IN, section_names=(("Crates of the week", "projects"),))
    text = "# W #1\n\n## Crates of the week\n\n- [a](https://e.com)\n"
    assert [s.key for s in run(text, layout).issue.sections] == ["projects"]


def test_a_flat_layout_has_one_section_and_its_headings_are_notes() -> None:
    layout = replace(THIS_WEEK_IN, sections="flat", flat_section="links")
    text = (
        "# Links #5\n\nA short intro.\n\n- [a](https://e.com/a)\n- [b](https://e.com/b)\n\n"
        "## Odd heading\n\n- [c](https://e.com/c)\n"
    )
    parsed = run(text, layout)
    (section,) = parsed.issue.sections
    assert (section.key, section.heading, len(section.entries)) == ("links", "", 3)
    assert parsed.issue.intro == "A short intro."
    assert section.notes == ("## Odd heading",)
    assert parsed.unmatched == ((8, "## Odd heading"),)


def test_a_flat_layout_without_entries_is_an_unfinished_issue() -> None:
    layout = replace(THIS_WEEK_IN, sections="flat")
    with pytest.raises(BriefingParseError, match="no entries yet") as caught:
        run("# Links #5\n\nComing soon.\n", layout)
    assert caught.value.unfinished


def test_cover_and_navigation_sections_are_not_content() -> None:
    text = (
        "# 某周刊 第 2 期\n\n## 封面图\n\n![](https://e.com/cover.jpg)\n\n湖边。\n"
        + WEEKLY_BODY
        + "\n## 往期回顾\n\n- [第 1 期](https://e.com/1)\n"
    )
    parsed = run(text, NUMBERED_WEEKLY)
    assert [s.heading for s in parsed.issue.sections] == ["工具"]
    assert parsed.issue.notes == ("![](https://e.com/cover.jpg)\n\n湖边。",)
    assert parsed.unmatched == ()


# --------------------------------------------------------------------------- entries


def test_numbered_paragraph_entries_take_the_paragraphs_after_them() -> None:
    text = (
        "# 某周刊 第 3 期\n\n## 文章\n\n"
        "1、[第一篇](https://e.com/1)\n\n第一段。\n\n第二段。\n\n"
        "2、[第二篇 | 某站](https://e.com/2)\n\n只有一段。\n\n"
        "**3、没有链接的标题**\n\n说明文字。\n\n"
        "## 工具\n\n1. [点号编号](https://e.com/4)\n"
    )
    found = entries(run(text, NUMBERED_WEEKLY))
    assert [(e.title, e.source, e.url) for e in found] == [
        ("第一篇", None, "https://e.com/1"),
        ("第二篇", "某站", "https://e.com/2"),
        ("没有链接的标题", None, None),
        ("点号编号", None, "https://e.com/4"),
    ]
    assert [e.summary for e in found] == ["第一段。\n\n第二段。", "只有一段。", "说明文字。", ""]
    assert [e.line for e in found] == [5, 11, 15, 21]


def test_a_date_or_version_at_the_start_of_a_line_is_not_a_numbered_entry() -> None:
    text = "# 某周刊 第 3 期\n\n## 文章\n\n1、[a](https://e.com/a)\n\n"
    text += "2026.01.09 发布。\n\n1.5 版本更新。\n"
    (entry,) = entries(run(text, NUMBERED_WEEKLY))
    assert entry.summary == "2026.01.09 发布。\n\n1.5 版本更新。"


def test_numbered_lines_are_no_entries_in_a_bullet_layout() -> None:
    text = "# 简报 (2026-01-09)\n\n## 论文\n\n- [a](https://e.com/a)\n1、第一点\n"
    (entry,) = entries(run(text, EMBEDDED_AI))
    assert entry.summary == "1、第一点"


def test_heading_entries_with_summary_line_or_paragraphs() -> None:
    text = (
        "# W #9\n\n## Articles\n\n### [One](https://e.com/1)\n\nSummary: the first.\n\n"
        "### [Two | Some Blog](https://e.com/2)\n\nA paragraph.\n\nAnother one.\n"
    )
    found = entries(run(text, THIS_WEEK_IN))
    assert [(e.title, e.source, e.summary) for e in found] == [
        ("One", None, "the first."),
        ("Two", "Some Blog", "A paragraph.\n\nAnother one."),
    ]


def test_a_plain_subheading_groups_bullets_unless_headings_are_the_only_entries() -> None:
    text = "# W #9\n\n## News\n\n### Official\n\n- [a](https://e.com/a)\n"
    parsed = run(text, THIS_WEEK_IN)
    assert titles(parsed) == ["a"]
    assert parsed.unmatched == ((5, "### Official"),)
    only_headings = replace(THIS_WEEK_IN, entries=("heading",))
    assert titles(run(text, only_headings)) == ["Official"]


# --------------------------------------------------------------------------- summaries


def test_summary_line_mode_keeps_labelled_and_indented_lines_only() -> None:
    layout = replace(THIS_WEEK_IN, summary="line")
    text = (
        "# W #9\n\n## News\n\n- [a](https://e.com/a)\n\n  indented.\n\nSummary: labelled.\n\n"
        "A loose paragraph.\n"
    )
    parsed = run(text, layout)
    (entry,) = entries(parsed)
    assert entry.summary == "indented.\n\nSummary: labelled."
    assert parsed.issue.sections[0].notes == ("A loose paragraph.",)


def test_summary_label_is_dropped_in_any_configured_language() -> None:
    text = "# W #9\n\n## News\n\n- [a](https://e.com/a)\n\nTL;DR: short.\n"
    assert entries(run(text, THIS_WEEK_IN))[0].summary == "short."


def test_summary_none_leaves_text_as_notes_and_keeps_links() -> None:
    layout = replace(THIS_WEEK_IN, summary="none")
    text = (
        "# W #9\n\n## News\n\n- [a](https://e.com/a)\n  [code](https://e.com/code)\n  Some words.\n"
    )
    parsed = run(text, layout)
    (entry,) = entries(parsed)
    assert (entry.summary, entry.links) == ("", (Link("code", "https://e.com/code"),))
    assert parsed.unmatched == ((7, "Some words."),)


# --------------------------------------------------------------------------- images


def test_images_become_links_of_their_entry() -> None:
    text = (
        "# W #9\n\n## News\n\n- [a](https://e.com/a)\n\n  ![Chart](https://e.com/chart.png)\n\n"
        "  ![](https://e.com/plain.png)\n\n  [![Demo](https://e.com/demo.gif)](https://e.com/demo)\n"
    )
    (entry,) = entries(run(text, THIS_WEEK_IN))
    assert entry.links == (
        Link("Chart", "https://e.com/chart.png"),
        Link("image", "https://e.com/plain.png"),
        Link("Demo", "https://e.com/demo"),
        Link("image", "https://e.com/demo.gif"),
    )
    assert entry.summary == ""


def test_images_stay_in_the_summary_when_inline() -> None:
    layout = replace(THIS_WEEK_IN, images="inline")
    text = "# W #9\n\n## News\n\n- [a](https://e.com/a)\n\n  ![Chart](https://e.com/chart.png)\n"
    (entry,) = entries(run(text, layout))
    assert (entry.summary, entry.links) == ("![Chart](https://e.com/chart.png)", ())


def test_an_image_outside_entries_is_kept_and_reported() -> None:
    text = "# W #9\n\n## News\n\n![Banner](https://e.com/b.png)\n\n- [a](https://e.com/a)\n"
    parsed = run(text, THIS_WEEK_IN)
    assert parsed.issue.sections[0].notes == ("![Banner](https://e.com/b.png)",)
    assert parsed.unmatched == ((5, "![Banner](https://e.com/b.png)"),)


def test_an_image_beside_text_stays_in_the_summary() -> None:
    text = "# W #9\n\n## News\n\n- [a](https://e.com/a)\n  See ![x](https://e.com/x.png) here.\n"
    (entry,) = entries(run(text, THIS_WEEK_IN))
    assert entry.summary == "See ![x](https://e.com/x.png) here."


# --------------------------------------------------------------------------- front matter


def test_intro_paragraphs_and_a_tagline() -> None:
    text = "# W #9\n\n**Weekly widgets**\n\nFirst paragraph\ncontinued.\n\nSecond.\n" + TWIN_BODY
    issue = run(text, THIS_WEEK_IN).issue
    assert issue.tagline == "Weekly widgets"
    assert issue.intro == "First paragraph\ncontinued.\n\nSecond."
    assert issue.notes == ()


def test_labelled_intro_leaves_other_paragraphs_as_reported_notes() -> None:
    layout = replace(THIS_WEEK_IN, intro="labelled")
    text = "# W #9\n\nIntro: the week.\n\nUnlabelled.\n" + TWIN_BODY
    parsed = run(text, layout)
    assert (parsed.issue.intro, parsed.issue.notes) == ("the week.", ("Unlabelled.",))
    assert parsed.unmatched == ((5, "Unlabelled."),)


def test_boilerplate_is_left_out_everywhere_and_reported() -> None:
    layout = replace(THIS_WEEK_IN, boilerplate=(r"^Sponsored by", r"^\(end\)$"))
    text = (
        "# W #9\n\nSponsored by Acme.\n\nHello.\n\n## News\n\n- [a](https://e.com/a)\n\n"
        "  Sponsored by Acme, again.\n  Real summary.\n\n(end)\n"
    )
    parsed = run(text, layout)
    assert parsed.left_out == (
        (3, "Sponsored by Acme."),
        (11, "  Sponsored by Acme, again."),
        (14, "(end)"),
    )
    assert parsed.issue.intro == "Hello."
    assert entries(parsed)[0].summary == "Real summary."
    assert parsed.unmatched == ()


def test_a_rule_ends_the_content_only_when_the_layout_says_so() -> None:
    text = (
        "# W #9\n\n## News\n\n- [a](https://e.com/a)\n\n---\n\n## Tools\n\n- [b](https://e.com/b)\n"
    )
    assert titles(run(text, THIS_WEEK_IN)) == ["a", "b"]
    text_with_footer = text + "\n---\n\nEditor: someone\n"
    issue = run(text_with_footer, replace(THIS_WEEK_IN, footer_after_rule=True)).issue
    assert issue.footer == "Editor: someone"
    assert [e.title for s in issue.sections for e in s.entries] == ["a", "b"]


def test_a_prose_section_of_a_free_layout_does_not_hold_the_issue() -> None:
    text = "# W #9\n\n## Editorial\n\nSome thoughts.\n\n## Empty\n" + TWIN_BODY
    warnings = run(text, THIS_WEEK_IN).issue.warnings
    assert [(w.message, w.unfinished) for w in warnings] == [
        ("section 'Editorial' has no entries", False),
        ("section 'Empty' has no entries", True),
    ]


def test_parse_issue_takes_a_layout_and_keeps_its_navigation_unless_told() -> None:
    text = "# W 第 1 期\n\n## A\n\n1、[a](https://e.com)\n\n## 往期推荐\n\n- [x](https://e.com)\n"
    issue = parse_issue(text, "t.md", SERIES, TAXONOMY, layout=NUMBERED_WEEKLY)
    assert [s.heading for s in issue.sections] == ["A"]
    told = parse_issue(
        text, "t.md", SERIES, TAXONOMY, layout=NUMBERED_WEEKLY, navigation_headings=[]
    )
    assert [s.heading for s in told.sections] == ["A", "往期推荐"]


@pytest.mark.parametrize(
    ("h1", "path", "key"),
    [
        ("# This Week in Widgets 300", "2026-01-09-this-week-in-widgets.md", "#300 (2026-01-09)"),
        ("# This Week in Widgets #300", "t.md", "#300"),
        ("# Widget Weekly, Issue 300", "t.md", "#300"),
        ("# Widget Weekly", "week-300.md", "#300"),
    ],
)
def test_this_week_in_numbers(h1: str, path: str, key: str) -> None:
    assert str(run(h1 + "\n" + TWIN_BODY, THIS_WEEK_IN, path).key) == key


def test_an_image_before_the_first_section_is_a_reported_note_not_intro() -> None:
    text = "# W #9\n\n![Cover](https://e.com/c.png)\n\nHello.\n" + TWIN_BODY
    parsed = run(text, THIS_WEEK_IN)
    assert (parsed.issue.intro, parsed.issue.notes) == (
        "Hello.",
        ("![Cover](https://e.com/c.png)",),
    )
    assert parsed.unmatched == ((3, "![Cover](https://e.com/c.png)"),)
