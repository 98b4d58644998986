"""Inputs that are not briefings raise; recoverable defects warn and keep the entry."""

from __future__ import annotations

import pytest

from briefings.errors import BriefingParseError
from briefings.parser import decode_briefing
from tests.briefings._helpers import HEAD, doc, messages, one_entry, parse

SECTION = "## 论文\n\n- [a | b](https://a.example)\n"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 0, "empty"),
        ("  \n\n \t\n", 0, "empty"),
        ("# 嵌入式AI简报 (2026-01-05)\n\x00\x01\x02PNG\n" + SECTION, 2, "binary"),
        ("# 嵌入式AI简报 (2026-01-05)\n\n" + SECTION + "x\udcff\n", 6, "undecodable"),
        ("just some text\n\nmore text\n", 1, "no '# title"),
        ("**tagline**\n\n" + SECTION, 3, "no '# title"),
        ("# 嵌入式AI简报 第三期\n\n" + SECTION, 1, "no issue date"),
        ("# 嵌入式AI简报 (2019-02-30)\n\n" + SECTION, 1, "calendar date"),
        ("# 嵌入式AI简报 (2026-01-05)\n\n**关注**\n\n- 只有快讯\n", 1, "no '## ' sections"),
        (
            "# 嵌入式AI简报 (2026-01-05)\n\n## [往期回顾](https://x.example)\n\n- [d](https://d.example)\n",
            3,
            "only navigation",
        ),
        ("---\nlayout: default\n\n# 嵌入式AI简报 (2026-01-05)\n\n" + SECTION, 4, "not closed"),
        (
            "---\nlayout: default\n这是一段正文\n---\n# 嵌入式AI简报 (2026-01-05)\n" + SECTION,
            3,
            "broken",
        ),
        ("---\nlayout: default\ntitle: x\n", 1, "never closed"),
    ],
)
def test_non_briefings_raise_with_path_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(BriefingParseError) as caught:
        parse(text)
    error = caught.value
    assert (error.path, error.line) == ("t.md", line)
    assert fragment in error.message
    # a whole-file error has no line: never the meaningless `t.md:0:`
    assert str(error).startswith(f"t.md:{line}: " if line else "t.md: ")
    assert ":0:" not in str(error)


UNFINISHED = [
    "",
    " \n\n",
    "---\nlayout: default\n---\n\n",
    "# 嵌入式AI简报 (2026-01-05)\n",
    "# 嵌入式AI简报 (2026-01-05)\n\n> 导读：待写。\n",
    "# 嵌入式AI简报 (2026-01-05)\n\n## 往期回顾\n\n- [a](https://a.example)\n",
]
GARBAGE = [
    "just some text\n",
    "# 嵌入式AI简报 第三期\n\n" + SECTION,
    "\x00\x01binary\n",
    "---\nlayout: default\n",
]


@pytest.mark.parametrize("text", UNFINISHED)
def test_placeholders_are_unfinished_not_garbage(text: str) -> None:
    with pytest.raises(BriefingParseError) as caught:
        parse(text)
    assert caught.value.unfinished, caught.value


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_is_not_mistaken_for_a_placeholder(text: str) -> None:
    with pytest.raises(BriefingParseError) as caught:
        parse(text)
    assert not caught.value.unfinished, caught.value


def test_undecodable_bytes_raise_with_line() -> None:
    data = "# 嵌入式AI简报 (2026-01-05)\n\n".encode() + b"\xff\xfe broken\n"
    with pytest.raises(BriefingParseError) as caught:
        decode_briefing(data, "bad.md")
    assert (caught.value.path, caught.value.line) == ("bad.md", 3)
    assert decode_briefing("\ufeff# 简报".encode(), "ok.md") == "# 简报"


def _warned(*lines: str) -> tuple[list[str], list[int]]:
    issue = parse(doc("## 论文", *lines))
    assert len(issue.sections[0].entries) == sum(1 for line in lines if line.startswith("- "))
    return messages(issue), [w.line for w in issue.warnings]


def test_unclosed_bracket_keeps_the_entry_and_recovers_the_url() -> None:
    entry = one_entry("- [MobileNetV3 | 将门创投(https://mp.weixin.qq.com/s/LOUB0h)  ")
    assert (entry.title, entry.source) == ("MobileNetV3", "将门创投")
    assert entry.url == "https://mp.weixin.qq.com/s/LOUB0h"
    found, lines = _warned("- [MobileNetV3 | 将门创投(https://mp.weixin.qq.com/s/LOUB0h)")
    assert any("unclosed '['" in m for m in found)
    assert lines[0] == HEAD.count("\n") + 2


def test_empty_link_target_warns_and_keeps_title() -> None:
    entry = one_entry("- [端侧推理框架对比 | 知乎]()", "摘要：保留。")
    assert (entry.title, entry.source, entry.url, entry.summary) == (
        "端侧推理框架对比",
        "知乎",
        None,
        "保留。",
    )
    assert any("empty link" in m for m in _warned("- [端侧推理框架对比 | 知乎]()")[0])


def test_unclosed_parenthesis_warns_and_keeps_url() -> None:
    entry = one_entry("- [a | b](https://a.example/x")
    assert entry.url == "https://a.example/x"
    assert any("unclosed '('" in m for m in _warned("- [a | b](https://a.example/x")[0])


def test_item_that_cannot_be_split_warns() -> None:
    entry = one_entry("- [ | 机器之心](https://a.example)")
    assert (entry.title, entry.source) == ("机器之心", None)
    assert any("cannot split" in m for m in _warned("- [ | 机器之心](https://a.example)")[0])


def test_bracketed_item_without_target_warns_and_is_kept() -> None:
    entry = one_entry("- [写一个基于NEON指令的矩阵乘法 | 简书]")
    assert (entry.title, entry.source, entry.url) == ("写一个基于NEON指令的矩阵乘法", "简书", None)
    assert any("no link target" in m for m in _warned("- [写一个 | 简书]")[0])


def test_text_after_the_links_goes_to_the_summary_with_a_warning() -> None:
    entry = one_entry("- [a | b](https://a.example) (CVPR 2020)", "摘要：正文。")
    assert entry.summary == "(CVPR 2020)\n摘要：正文。"
    assert any("text after" in m for m in _warned("- [a | b](https://a.example) (CVPR 2020)")[0])


def test_empty_item_is_kept_with_a_placeholder_title() -> None:
    entry = one_entry("- [2107.04829]")
    assert (entry.title, entry.arxiv_id) == ("[2107.04829]", "2107.04829")
    assert any("no title" in m for m in _warned("- [2107.04829]")[0])


def test_section_without_entries_warns_and_is_kept() -> None:
    issue = parse(
        doc("## 业界新闻", "", "> 注：本期无新闻", "", "## 论文", "- [a](https://a.example)")
    )
    assert [s.key for s in issue.sections] == ["news", "papers"]
    assert issue.sections[0].notes == ("注：本期无新闻",)
    news_line = doc("## 业界新闻").splitlines().index("## 业界新闻") + 1
    assert [(w.line, w.message) for w in issue.warnings] == [
        (news_line, "section '业界新闻' has no entries")
    ]
    assert str(issue.warnings[0]) == f"t.md:{news_line}: section '业界新闻' has no entries"


def test_replacement_characters_warn_but_parse() -> None:
    issue = parse(doc("## 论文", "- [a\ufffd | b](https://a.example)"))
    assert issue.entry_count == 1
    assert any("U+FFFD" in m for m in messages(issue))


def test_empty_item_is_an_entry_not_summary_text() -> None:
    issue = parse(
        doc(
            "## 论文",
            "- [a | b](https://a.example)",
            "摘要：正文。",
            "-   ",
            "- [c | d](https://c.example)",
            "-",
            "摘要：无标题条目的摘要。",
        )
    )
    found = issue.sections[0].entries
    assert [(e.title, e.url, e.summary) for e in found] == [
        ("a", "https://a.example", "正文。"),
        ("(untitled)", None, ""),
        ("c", "https://c.example", ""),
        ("(untitled)", None, "无标题条目的摘要。"),
    ]
    first = HEAD.count("\n") + 2
    assert [(w.line, w.message) for w in issue.warnings] == [
        (first + 2, "empty list item; kept with a placeholder title"),
        (first + 4, "empty list item; kept with a placeholder title"),
    ]


def test_broken_link_after_a_prefix_keeps_entry_and_url() -> None:
    entry = one_entry("- 【重磅】[依图造芯 | 雷锋网(https://a.example/x)")
    assert (entry.title, entry.source, entry.url) == (
        "【重磅】依图造芯",
        "雷锋网",
        "https://a.example/x",
    )
    assert any(
        "malformed link" in m
        for m in _warned("- 【重磅】[依图造芯 | 雷锋网(https://a.example/x)")[0]
    )


def test_prefixed_empty_link_warns_and_keeps_title() -> None:
    entry = one_entry("- 🔥 [端侧推理 | 知乎]()")
    assert (entry.title, entry.source, entry.url) == ("🔥 端侧推理", "知乎", None)
    assert any("empty link" in m for m in _warned("- 🔥 [端侧推理 | 知乎]()")[0])


def test_main_link_that_is_not_a_web_url_warns() -> None:
    entry = one_entry("- [本地文档 | 编辑部](../docs/a.md)")
    assert (entry.title, entry.url) == ("本地文档", "../docs/a.md")
    assert any("not an http(s) URL" in m for m in _warned("- [本地文档 | 编辑部](../docs/a.md)")[0])
