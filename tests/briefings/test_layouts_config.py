"""Layouts from TOML data (a preset plus overrides) and the presets' example files."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from briefings.layout import Layout, LayoutError
from briefings.layout_config import layout_from_mapping
from briefings.model import Link
from briefings.parser import Parsed, parse_with_layout
from briefings.presets import EMBEDDED_AI, NUMBERED_WEEKLY, PRESETS, THIS_WEEK_IN, preset
from tests.briefings._helpers import SERIES, TAXONOMY


def test_a_preset_with_overrides() -> None:
    data = tomllib.loads(
        """
        [layout]
        preset = "numbered-weekly"
        name = "my-weekly"
        boilerplate = ["^本期由.*赞助", "^（完）$"]
        section_names = { "论文" = "papers", "开源" = "projects" }
        footer_after_rule = true
        """
    )
    layout = layout_from_mapping(data["layout"])
    assert layout.name == "my-weekly"
    assert layout.boilerplate == ("^本期由.*赞助", "^（完）$")
    assert layout.section_names == (("论文", "papers"), ("开源", "projects"))
    assert layout.footer_after_rule is True
    assert layout.entries == NUMBERED_WEEKLY.entries  # what is not overridden stays


def test_without_a_preset_the_embedded_ai_layout_is_the_base() -> None:
    assert layout_from_mapping({}) == EMBEDDED_AI
    assert layout_from_mapping({"preset": "this-week-in"}) == THIS_WEEK_IN


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"preset": "weekly"}, "layout.preset: unknown preset 'weekly'; presets: embedded-ai"),
        ({"preset": 3}, "layout.preset: expected a string, got int"),
        ({"colour": "red"}, "layout.colour: unknown field; fields: boilerplate,"),
        ({"boilerplate": ["ok", "(x"]}, "layout.boilerplate[1]: bad regular expression '(x'"),
        ({"boilerplate": ["a", 1]}, "layout.boilerplate[1]: expected a string, got int"),
        ({"boilerplate": [".*"]}, "layout.boilerplate[0]: '.*' matches an empty line"),
        ({"title_number": ["第(\\d+)期"]}, "layout.title_number[0]: '第(\\\\d+)期' has no group"),
        ({"key": "id"}, "layout.key: 'id' is not one of date, number"),
        ({"entries": ["bullet", "table"]}, "layout.entries[1]: 'table' is not one of"),
        ({"entries": []}, "layout.entries: at least one entry style"),
        ({"summary": "all"}, "layout.summary: 'all' is not one of line, none, paragraphs"),
        ({"section_names": ["论文"]}, "layout.section_names: expected a table"),
        ({"section_names": {"论文": "Papers"}}, "layout.section_names: section key 'Papers'"),
        ({"footer_after_rule": "yes"}, "layout.footer_after_rule: expected true or false"),
        ({"summary_labels": [" "]}, "layout.summary_labels: an empty label"),
        ({"key": "number", "title_number": []}, "layout.title_number: a numbered series needs"),
        ({"navigation_headings": ["x"] * 500}, "layout.navigation_headings: 500 items, more"),
    ],
)
def test_bad_values_name_their_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(LayoutError) as caught:
        layout_from_mapping(data)
    assert str(caught.value).startswith(message), caught.value


def test_the_table_name_is_the_callers() -> None:
    with pytest.raises(LayoutError, match=r"^series\.layout\.summary: 'all'"):
        layout_from_mapping({"summary": "all"}, table="series.layout")
    with pytest.raises(LayoutError, match=r"^series\.layout\.preset: unknown"):
        layout_from_mapping({"preset": "x"}, table="series.layout")


def test_a_single_string_is_a_one_item_list() -> None:
    assert layout_from_mapping({"boilerplate": "^Ad:"}).boilerplate == ("^Ad:",)


def test_layouts_are_values() -> None:
    assert Layout() == EMBEDDED_AI and hash(Layout()) == hash(EMBEDDED_AI)
    assert preset("numbered-weekly") is NUMBERED_WEEKLY
    assert sorted(PRESETS) == ["embedded-ai", "numbered-weekly", "this-week-in"]


# --------------------------------------------------------------------------- examples


def _example(samples_dir: Path, name: str) -> Parsed:
    (path,) = sorted((samples_dir / "layouts" / name).glob("*.md"))
    text = path.read_text(encoding="utf-8")
    return parse_with_layout(text, path.name, SERIES, TAXONOMY, preset(name))


def test_every_preset_has_a_documented_example(samples_dir: Path) -> None:
    readme = (samples_dir / "layouts" / "README.md").read_text(encoding="utf-8")
    for name in PRESETS:
        assert f"## {name}" in readme
        parsed = _example(samples_dir, name)
        assert parsed.issue.entry_count >= 4
        assert not [w for w in parsed.issue.warnings if w.unfinished]


def test_embedded_ai_example(samples_dir: Path) -> None:
    parsed = _example(samples_dir, "embedded-ai")
    issue = parsed.issue
    assert str(parsed.key) == "2026-11-30"
    assert [(s.key, len(s.entries)) for s in issue.sections] == [
        ("news", 1), ("papers", 1), ("projects", 1), ("blogs", 1)
    ]  # fmt: skip
    assert (issue.warnings, parsed.unmatched, parsed.left_out) == ((), (), ())
    assert issue.footer == "Editor: 示例编辑"


def test_numbered_weekly_example(samples_dir: Path) -> None:
    parsed = _example(samples_dir, "numbered-weekly")
    issue = parsed.issue
    assert str(parsed.key) == "#128 (2026-11-20)"
    assert [(s.heading, len(s.entries)) for s in issue.sections] == [
        ("本周话题：为什么小模型越来越多", 0), ("科技动态", 3), ("文章", 2), ("工具", 1)
    ]  # fmt: skip
    assert issue.notes[0].startswith("![](https://example.org/weekly/128/cover.jpg)")
    assert issue.intro.startswith("这里记录每周")
    news = issue.sections[1].entries
    assert news[0].links == (Link("image", "https://example.org/news/quant-toolchain/chart.png"),)
    assert (news[2].title, news[2].url) == ("一款会自己关机的温控器", None)
    assert [text for _, text in parsed.left_out] == [
        "本期由示例云赞助，新用户首月免费。",
        "欢迎订阅本周刊，每周五更新。",
    ]
    assert [n for n, _ in parsed.unmatched] == [17, 19]  # the prose of 本周话题


def test_this_week_in_example(samples_dir: Path) -> None:
    parsed = _example(samples_dir, "this-week-in")
    issue = parsed.issue
    assert str(parsed.key) == "#42 (2026-11-20)"
    assert [(s.key, len(s.entries)) for s in issue.sections] == [
        ("updates-from-the-community", 3), ("blogs", 2), ("tool-of-the-week", 1)
    ]  # fmt: skip
    articles = issue.sections[1].entries
    assert articles[0].links == (
        Link("Flame graph before and after", "https://example.com/blog/startup/flame.png"),
    )
    assert articles[1].summary == "headless rendering and image snapshots, with their pitfalls."
    tool = issue.sections[2].entries[0]
    assert [link.url for link in tool.links] == [
        "https://example.com/tools/widget-lint",
        "https://example.com/tools/widget-lint/demo.gif",
    ]
    assert parsed.unmatched == ((20, "### Newsletters"),)
    assert len(parsed.left_out) == 2
    assert issue.warnings == ()
