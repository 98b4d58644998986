"""The layouts of common briefing series, by name (`[layout] preset = "..."`).

Each preset has an example in `samples/layouts/<name>/` and a description in
`samples/layouts/README.md`; tests parse the examples with their preset.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from briefings.layout import Layout, LayoutError

EMBEDDED_AI: Final = Layout()
"""The Embedded AI briefing (嵌入式AI简报), the layout the parser was written for.

`# 嵌入式AI简报 (2020-11-30) subtitle` (the date is the key; a date in the file name must
agree), a bold tagline, a `> 导读：` intro and bullets of quick news before the first
section; `## 业界新闻` / `## 论文` / `## 开源项目` / `## 博文` resolved through the taxonomy;
`- [title | source](url)` items with `摘要：` and `代码：url` lines; `## 往期回顾` is
navigation; a `----` rule starts the editor's footer.
"""

# The number groups take every digit written (`\d+`): the parser refuses more than
# MAX_NUMBER_DIGITS saying so, where `\d{1,6}` would only fail to find a number.
# `#300`, but not the `# 12` of `C# 12` or `F# 8`: a letter before `#` names a language
_HASH_NUMBER: Final = r"(?<![A-Za-z0-9#])#\s*(?P<n>\d+)"

NUMBERED_WEEKLY: Final = Layout(
    name="numbered-weekly",
    key="number",
    date_from=("title", "front_matter", "name", "text"),
    date_labels=("发布日期", "发布时间", "出版日期", "日期"),
    title_number=(r"第\s*(?P<n>\d+)\s*期", _HASH_NUMBER),
    name_number=(r"(?i)^(?:issue[-_]?)?(?P<n>\d+)\.md$",),
    sections="free",
    navigation_headings=("往期回顾", "往期推荐"),
    cover_headings=("封面", "封面图"),
    entries=("numbered", "bullet"),
    summary="paragraphs",
    summary_labels=("摘要", "简介"),
    images="links",
    intro="paragraphs",
    intro_labels=("导读", "前言"),
    # anchored: `欢迎订阅本周刊` is a line of its own; mid-sentence (`项目欢迎投稿者`) it is
    # content
    boilerplate=(
        r"^本(?:期|周刊)(?:由|内容由).{0,40}(?:赞助|支持)",
        r"^(?:[>*_]\s*)*欢迎(?:订阅|投稿)",
    ),
    footer_after_rule=False,
)
"""A numbered Chinese weekly: `# 某某周刊 第 300 期` (or `300.md`, `issue-300.md`).

The number is the key; a date in the H1, the file name or on a labelled line before the
first section (`发布日期：2026-01-09`, `日期：2026年1月9日`) is kept when there is one; a date
in the intro's prose is not the issue's. Without a `# ` line, the front matter's `title:`
is the title and its `date:` a date.
Every `##` heading is a section of its own (`## 工具`, `## 文章`); entries are numbered paragraphs,
`1、[title](url)` or `**1、Title**`, followed by paragraphs that are their summary
(list items work too). Image lines become links of the entry they follow; a `## 封面`
section is a cover kept with the issue's notes; the paragraphs before the first
section are the intro; sponsor and subscription lines are left out.
"""

THIS_WEEK_IN: Final = Layout(
    name="this-week-in",
    key="number",
    date_from=("title", "front_matter", "name", "text"),
    date_labels=("Published", "Published on", "Posted on", "Date", "发布日期"),
    title_number=(
        _HASH_NUMBER,
        r"(?i)\bissue\s*(?:no\.?\s*)?(?P<n>\d+)",
        # `This Week in Rust 300`, `... 300: subtitle`, `... 300 — subtitle`: the first
        # number ending the name, not one in a subtitle or a date (`2026-11-20`)
        r"(?i)^this week in\b.*?\s(?P<n>\d+)(?=\s*$|\s*[:：]|\s+[-—–|])",
    ),
    name_number=(r"(?i)(?:issue|edition|week)[-_ ]?(?P<n>\d+)\D*$",),
    sections="free",
    navigation_headings=("Previous issues", "Archive"),
    entries=("bullet", "heading"),
    summary="paragraphs",
    summary_labels=("Summary", "TL;DR", "摘要"),
    images="links",
    intro="paragraphs",
    intro_labels=("Intro", "Editor's note"),
    boilerplate=(
        r"(?i)^_*this (?:issue|newsletter) is (?:sponsored|brought to you) by",
        r"(?i)^_*(?:subscribe|unsubscribe)\b.{0,80}$",
    ),
    footer_after_rule=False,
)
"""An English "This Week in X" newsletter: `# This Week in X #300` (or `... X 300`,
`Issue 300`) or `issue-300.md`.

The number is the key; a date on a labelled line (`Published 2026-01-09`, `Date:
2026-01-09`) or in the file name (`2026-01-09-this-week-in-x.md`) is kept when there is
one; a date in the intro's prose (`ten years ago, on 2016-11-27`) is not the issue's.
Every `##` heading is a section (`## News`, `## Crates of the week`); entries are
`- [title](url)` items or `### [title](url)` headings, with a `Summary:` line or the
paragraphs that follow as summary. Images become links of their entry; the paragraphs
before the first section are the intro; `---` separators between sections are ignored;
sponsor and subscribe lines are left out.
"""

PRESETS: Final[Mapping[str, Layout]] = MappingProxyType(
    {layout.name: layout for layout in (EMBEDDED_AI, NUMBERED_WEEKLY, THIS_WEEK_IN)}
)


def preset(name: str) -> Layout:
    """The preset called `name`; LayoutError naming the presets when there is none."""
    found = PRESETS.get(name)
    if found is None:
        known = ", ".join(PRESETS)
        raise LayoutError(f"layout.preset: unknown preset {name!r}; presets: {known}")
    return found
