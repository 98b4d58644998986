"""The body of weeklies in the shapes public ones use, on files written for the tests:
a numbered marker alone on its line, lists inside an entry's summary, a linked image as
an entry's link, and navigation headings in a flat layout."""

from __future__ import annotations

from dataclasses import replace

from briefings.layout import Layout
from briefings.model import Entry, Link
from briefings.parser import TITLE_SPAN, Parsed, parse_with_layout
from briefings.presets import NUMBERED_WEEKLY, THIS_WEEK_IN
from tests.briefings._helpers import SERIES, TAXONOMY

FLAT_WEEKLY = replace(NUMBERED_WEEKLY, name="flat-weekly", sections="flat")


def run(text: str, layout: Layout = NUMBERED_WEEKLY) -> Parsed:
    return parse_with_layout(text, "t.md", SERIES, TAXONOMY, layout)


def entries(parsed: Parsed) -> list[Entry]:
    return [e for s in parsed.issue.sections for e in s.entries]


def holding(parsed: Parsed) -> list[str]:
    return [w.message for w in parsed.issue.warnings if w.unfinished]


# --------------------------------------------------------- a marker alone on its line

QUOTES = """# 示例周刊 第 12 期

## 言论

1、

好的工具让人忘记它的存在。

—— [一位工程师](https://q.example/a)

**2、**

> 先让它工作，再让它正确，最后让它变快。这句话常被引用。

3、

[一篇带链接的条目](https://q.example/c)

它的说明。

4、

![](https://q.example/d.png)

图片之后才是这一条的文字。
"""


def test_a_numbered_marker_alone_is_named_by_the_paragraph_after_it() -> None:
    parsed = run(QUOTES)
    found = entries(parsed)
    assert [(e.title, e.url) for e in found] == [
        ("好的工具让人忘记它的存在。", None),
        ("先让它工作，再让它正确，最后让它变快。", None),
        ("一篇带链接的条目", "https://q.example/c"),
        ("图片之后才是这一条的文字。", None),
    ]
    assert [e.summary for e in found] == [
        "—— [一位工程师](https://q.example/a)",
        "> 这句话常被引用。",
        "它的说明。",
        "",
    ]
    assert found[3].links == (Link("image", "https://q.example/d.png"),)
    assert holding(parsed) == []  # a quotes section does not hold the issue back
    assert [e.line for e in found] == [5, 11, 15, 21]


def test_a_long_first_paragraph_gives_a_bounded_title_and_stays_in_the_summary() -> None:
    quote = "长" * (TITLE_SPAN + 20) + "。后一句。"
    parsed = run(f"# 示例周刊 第 12 期\n\n## 言论\n\n1、\n\n{quote}\n\n出处。\n")
    (entry,) = entries(parsed)
    assert entry.title == "长" * TITLE_SPAN + "…"
    assert entry.summary == f"{quote}\n\n出处。"
    assert holding(parsed) == []


def test_a_marker_followed_only_by_a_picture_is_named_by_it() -> None:
    text = "# 示例周刊 第 12 期\n\n## 图片\n\n1、\n\n![日出](https://p.example/1.jpg)\n\n"
    text += "**2、**\n\n[![](https://p.example/2.jpg)](https://p.example/photos/2)\n"
    parsed = run(text)
    found = entries(parsed)
    assert [(e.title, e.links[0]) for e in found] == [
        ("日出", Link("日出", "https://p.example/1.jpg")),
        ("p.example/photos/2", Link("image", "https://p.example/photos/2")),
    ]
    assert found[1].links[1] == Link("image", "https://p.example/2.jpg")
    assert holding(parsed) == []


def test_a_marker_with_nothing_after_it_is_still_an_unfinished_placeholder() -> None:
    parsed = run("# 示例周刊 第 12 期\n\n## 言论\n\n1、\n\n2、[有标题](https://q.example/b)\n")
    assert [e.title for e in entries(parsed)] == ["(untitled)", "有标题"]
    assert holding(parsed) == ["empty list item; kept with a placeholder title"]


# --------------------------------------------------------- lists inside a summary

LISTS = """# 示例周刊 第 13 期

## 文章

1、[一篇长文](https://b.example/1)

作者给出三条建议：

1. 先量测
2. 再优化
   1. 从热点开始

- 要点甲
  - 要点甲的细节
* 要点乙

1999、那一年发生的事至今还有人提起。

2、[另一篇](https://b.example/2)

  3、缩进的编号也是说明。

12、[第十二篇](https://b.example/12)
"""


def test_lists_inside_an_entry_stay_in_its_summary() -> None:
    parsed = run(LISTS)
    found = entries(parsed)
    assert [(e.title, e.url) for e in found] == [
        ("一篇长文", "https://b.example/1"),
        ("另一篇", "https://b.example/2"),
        ("第十二篇", "https://b.example/12"),
    ]
    assert found[0].summary == (
        "作者给出三条建议：\n\n1. 先量测\n2. 再优化\n 1. 从热点开始\n\n"
        "- 要点甲\n- 要点甲的细节\n* 要点乙\n\n1999、那一年发生的事至今还有人提起。"
    )
    assert found[1].summary == "3、缩进的编号也是说明。"
    assert parsed.unmatched == ()


def test_entries_numbered_with_dots_keep_their_bullet_lists() -> None:
    text = (
        "# 示例周刊 第 14 期\n\n## 工具\n\n1. [甲](https://t.example/1)\n\n- 支持 A\n- 支持 B\n\n"
        "2. [乙](https://t.example/2)\n"
    )
    found = entries(run(text))
    assert [(e.title, e.summary) for e in found] == [("甲", "- 支持 A\n- 支持 B"), ("乙", "")]


def test_a_year_is_not_an_entry_marker_even_before_the_first_entry() -> None:
    text = "# 示例周刊 第 15 期\n\n## 回顾\n\n2016、一段往事。\n\n1、[正文](https://h.example/1)\n"
    parsed = run(text)
    assert [e.title for e in entries(parsed)] == ["正文"]
    assert parsed.issue.sections[0].notes == ("2016、一段往事。",)


def test_bullets_after_a_heading_entry_are_its_summary() -> None:
    text = (
        "# This Week in Widgets #9\n\n## Articles\n\n### [Faster widgets](https://w.example/1)\n\n"
        "What changed:\n\n- a new cache\n- fewer locks\n\n### [Testing widgets](https://w.example/2)\n"
    )
    found = entries(run(text, THIS_WEEK_IN))
    assert [(e.title, e.summary) for e in found] == [
        ("Faster widgets", "What changed:\n\n- a new cache\n- fewer locks"),
        ("Testing widgets", ""),
    ]


# --------------------------------------------------------- a linked image as the link

PICTURES = """# 示例周刊 第 16 期

## 图片

1、[![湖边的气象站](https://p.example/1.jpg)](https://p.example/1)

2、[![](https://p.example/2.jpg)](https://p.example/2) 山顶的信号塔 [原图](https://p.example/2.raw)

3、[![](https://p.example/3.png)](https://p.example/3)

一座会发电的桥。夜里也亮着。

4、[![](https://p.example/4.png)](https://p.example/photos/4/)

5、**[![](https://p.example/5.png)](https://p.example/5)**
"""


def test_a_linked_image_entry_is_named_by_its_alt_text_or_the_text_after_it() -> None:
    parsed = run(PICTURES)
    found = entries(parsed)
    assert [(e.title, e.url) for e in found] == [
        ("湖边的气象站", "https://p.example/1"),
        ("山顶的信号塔", "https://p.example/2"),
        ("一座会发电的桥。", "https://p.example/3"),
        ("p.example/photos/4", "https://p.example/photos/4/"),
        ("p.example/5", "https://p.example/5"),
    ]
    assert [e.links[0] for e in found] == [
        Link("image", f"https://p.example/{n}.{ext}")
        for n, ext in ((1, "jpg"), (2, "jpg"), (3, "png"), (4, "png"), (5, "png"))
    ]
    assert found[1].links[1] == Link("原图", "https://p.example/2.raw")
    assert found[2].summary == "夜里也亮着。"
    assert not any("![" in e.title for e in found)
    assert parsed.issue.warnings == ()


def test_a_linked_image_bullet_in_an_english_newsletter() -> None:
    text = "# This Week in Widgets #9\n\n## Tool of the week\n\n"
    text += "- [![widget-lint](https://w.example/lint.gif)](https://w.example/lint)\n"
    (entry,) = entries(run(text, THIS_WEEK_IN))
    assert (entry.title, entry.url) == ("widget-lint", "https://w.example/lint")
    assert entry.links == (Link("image", "https://w.example/lint.gif"),)


# --------------------------------------------------------- navigation in a flat layout

FLAT = """# 示例周刊 第 400 期

导语一段。

1、[条目一](https://x.example/1)

说明一。

2、[条目二](https://x.example/2)

## 往期推荐

- [第 399 期](https://x.example/399)
- [第 398 期](https://x.example/398)

### 更早

1、[更早的一期](https://x.example/300)

## 附录

3、[条目三](https://x.example/3)
"""


def test_a_flat_layout_leaves_out_what_is_under_a_navigation_heading() -> None:
    parsed = run(FLAT, FLAT_WEEKLY)
    (section,) = parsed.issue.sections
    assert [(e.title, e.url) for e in section.entries] == [
        ("条目一", "https://x.example/1"),
        ("条目二", "https://x.example/2"),
        ("条目三", "https://x.example/3"),
    ]
    assert [e.summary for e in section.entries] == ["说明一。", "", ""]
    # the navigation part is not reported as unmatched; a heading after it is
    assert parsed.unmatched == ((20, "## 附录"),)


def test_a_flat_layout_does_not_let_a_cover_heading_swallow_the_entries_after_it() -> None:
    text = (
        "# 示例周刊 第 401 期\n\n1、[条目一](https://x.example/1)\n\n"
        "## 封面\n\n![](https://x.example/cover.png)\n\n2、[条目二](https://x.example/2)\n"
    )
    parsed = run(text, FLAT_WEEKLY)
    assert [e.title for e in entries(parsed)] == ["条目一", "条目二"]
