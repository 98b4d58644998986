"""Issue-level structure: title line, preamble, sections, navigation, footer."""

from __future__ import annotations

import hashlib
from datetime import date

from briefings.taxonomy import Taxonomy, generated_section_key
from tests.briefings._helpers import doc, messages, parse

SECTIONS = ("## 论文", "", "- [a | b](https://a.example)")


def test_h1_gives_date_key_title_and_subtitle() -> None:
    head = "# 嵌入式AI简报 (2020-11-30) 华为Bolt发布1.0/轻量检测NanoDet  \n\n"
    issue = parse(doc(*SECTIONS, head=head))
    assert issue.key == date(2020, 11, 30)
    assert issue.title == "嵌入式AI简报 (2020-11-30) 华为Bolt发布1.0/轻量检测NanoDet"
    assert issue.subtitle == "华为Bolt发布1.0/轻量检测NanoDet"


def test_h1_without_subtitle_and_with_full_width_parentheses() -> None:
    issue = parse(doc(*SECTIONS, head="# 嵌入式AI简报（2019-03-31）\n"))
    assert issue.key == date(2019, 3, 31)
    assert issue.subtitle == ""


def test_front_matter_hash_and_path_are_kept() -> None:
    text = doc(*SECTIONS)
    issue = parse(text)
    assert issue.front_matter == "layout: default"
    assert issue.content_hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert issue.source_path == "t.md"
    assert issue.series.slug == "embedded-ai"


def test_file_without_front_matter_parses() -> None:
    issue = parse(doc(*SECTIONS, head="# 简报 (2026-02-01)\n\n"))
    assert issue.front_matter == ""
    assert issue.entry_count == 1


def test_crlf_line_endings_and_bom_parse_like_lf() -> None:
    text = doc(*SECTIONS)
    crlf = parse("\ufeff" + text.replace("\n", "\r\n"))
    assert crlf.sections == parse(text).sections
    assert crlf.front_matter == "layout: default"


def test_preamble_tagline_intro_quick_news_and_notes() -> None:
    head = "\n".join(
        [
            "# 嵌入式AI简报 (2020-03-19)",
            "",
            "**关注模型压缩、低比特量化、移动端推理加速优化、部署**  ",
            "<font>注：PC端微信链接打不开请用手机打开</font>",
            "",
            "> 导读：本次内容20条。「业界新闻」[苹果A14](https://x.example/a14)值得关注；  ",
            "近期英国AI芯片创企Graphcore完成融资。  ",
            "",
            "好了，先是一些热身小新闻ヽ(✿゜▽゜)ノ：",
            "",
            "- 华为：新机将首发天玑700，7nm；  ",
            "- [联发科发布新SoC](https://x.example/mtk)，3GHz主频；",
            "",
            "> 注：个别链接打不开，请点击文末【阅读原文】跳转",
            "",
            "",
        ]
    )
    issue = parse(doc(*SECTIONS, head=head))
    assert issue.tagline == "关注模型压缩、低比特量化、移动端推理加速优化、部署"
    assert issue.intro == (
        "本次内容20条。「业界新闻」[苹果A14](https://x.example/a14)值得关注；\n"
        "近期英国AI芯片创企Graphcore完成融资。"
    )
    assert issue.quick_news == (
        "华为：新机将首发天玑700，7nm；",
        "[联发科发布新SoC](https://x.example/mtk)，3GHz主频；",
    )
    assert issue.notes == (
        "<font>注：PC端微信链接打不开请用手机打开</font>",
        "好了，先是一些热身小新闻ヽ(✿゜▽゜)ノ：",
        "注：个别链接打不开，请点击文末【阅读原文】跳转",
    )


def test_default_section_keys_and_headings_as_written() -> None:
    text = doc(
        *("## 业界新闻  ", "- [n | s](https://n.example)"),
        *("## 应用", "- [a | s](https://a.example)"),
        *("## 论文", "- [p | s](https://p.example)"),
        *("## 开源项目", "- [o | s](https://o.example)"),
        *("## 博文", "- [b | s](https://b.example)"),
    )
    issue = parse(text)
    assert [(s.key, s.heading, s.position) for s in issue.sections] == [
        ("news", "业界新闻", 0),
        ("apps", "应用", 1),
        ("papers", "论文", 2),
        ("projects", "开源项目", 3),
        ("blogs", "博文", 4),
    ]
    assert issue.warnings == ()


def test_per_series_heading_mapping_from_config() -> None:
    taxonomy = Taxonomy.default().with_section_headings({"行业动态": "news", "工具箱": "tools"})
    issue = parse(
        doc("## 行业动态", "- [n](https://n.example)", "## 工具箱", "- [t](https://t.example)"),
        taxonomy,
    )
    assert [s.key for s in issue.sections] == ["news", "tools"]
    assert issue.warnings == ()


def test_unknown_heading_is_kept_under_a_stable_generated_key() -> None:
    text = doc(
        "## 硬件评测", "- [x | y](https://x.example)", "## Tools & Tips", "- [t](https://t.example)"
    )
    first, again = (
        parse(text),
        parse(
            doc("## 其它", "- [z](https://z.example)", "## 硬件评测", "- [x](https://x.example)")
        ),
    )
    keys = [s.key for s in first.sections]
    assert keys[0] == generated_section_key("硬件评测") == again.sections[1].key
    assert keys[0].startswith("section-") and keys[0].isascii()
    assert keys[1] == "tools-tips"
    assert first.sections[0].entries[0].title == "x"
    assert any("not in the taxonomy" in m for m in messages(first))


def test_duplicate_headings_get_distinct_keys() -> None:
    issue = parse(doc("## 论文", "- [a](https://a.example)", "## 论文", "- [b](https://b.example)"))
    assert [s.key for s in issue.sections] == ["papers", "papers-2"]


def test_navigation_section_is_not_content() -> None:
    text = doc(
        *SECTIONS,
        "",
        "## [往期回顾](https://github.com/ysh329/awesome-embedded-ai)",
        "",
        "- [2019-04-13](https://github.com/x/2019-04-13.md)  ",
        "| [2020-10-21](../embedded-ai-report/2020-10-21.md) |",
    )
    issue = parse(text)
    assert [s.heading for s in issue.sections] == ["论文"]
    assert issue.entry_count == 1


def test_navigation_headings_are_a_parameter() -> None:
    text = doc(
        *SECTIONS,
        "## 相关链接",
        "- [x](https://x.example)",
        "## 往期回顾",
        "- [y](https://y.example)",
    )
    issue = parse(text, navigation_headings={"相关链接"})
    assert [s.heading for s in issue.sections] == ["论文", "往期回顾"]


def test_thematic_break_starts_the_footer_and_its_bullets_are_not_entries() -> None:
    text = doc(
        *SECTIONS,
        "摘要：最后一条。",
        "",
        "",
        "----",
        "",
        "> 往期回顾：见公众号主菜单【历史消息】",
        "- WeChat: NeuralTalk  ",
        "- Editor: https://github.com/ysh329  ",
    )
    issue = parse(text)
    assert issue.entry_count == 1
    assert issue.sections[0].entries[0].summary == "最后一条。"
    assert issue.footer == (
        "> 往期回顾：见公众号主菜单【历史消息】\n- WeChat: NeuralTalk\n"
        "- Editor: https://github.com/ysh329"
    )


def test_section_notes_keep_blockquotes_and_closing_paragraphs() -> None:
    text = doc(
        "## 开源项目",
        "",
        "> 注：每条内容前缀为github地址的仓库拥有者和仓库名。",
        "",
        "- [a/b: 工具](https://github.com/a/b)  ",
        "摘要：一个工具。",
        "",
        "最近看到一篇文章，最后有三点总结：  ",
        "1. 不要去做技术上的高手；  ",
        "2. 提高认识问题的高度。",
    )
    section = parse(text).sections[0]
    assert section.notes == (
        "注：每条内容前缀为github地址的仓库拥有者和仓库名。",
        "最近看到一篇文章，最后有三点总结：\n1. 不要去做技术上的高手；\n2. 提高认识问题的高度。",
    )
    assert section.entries[0].summary == "摘要：一个工具。".removeprefix("摘要：")
