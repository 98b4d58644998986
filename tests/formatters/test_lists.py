"""GitHub-style lists in summaries become list lines, with their nesting, everywhere."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefings.model import Entry, Issue, Section, Series
from formatters.inline import InlineMarkdown
from formatters.lists import normalize_lists
from formatters.views import ENTRY_INDENT

from .helpers import check_view, renderers, visible
from .strategies import markdown


@pytest.mark.parametrize(
    ("source", "normalized"),
    [
        ("方言包括：\n  - IR；\n  - HLO；", "方言包括：\n\n- IR；\n- HLO；"),
        ("如下：\n1. 一\n2. 二", "如下：\n\n1. 一\n2. 二"),
        ("- a\n  - b\n    - c\n- d", "- a\n    - b\n        - c\n\n- d"),
        ("1. a\n   1. b\n2. c", "1. a\n    1. b\n\n2. c"),
        ("  1. a\n  2. b：\n      1. c", "1. a\n2. b：\n    1. c"),
        ("- a\n\t- b", "- a\n    - b"),
        ("- a\n1. b", "- a\n\n1. b"),
        ("- a\n\n  续段\n- b", "- a\n\n    续段\n\n- b"),
        ("- a\n\n正文", "- a\n\n正文"),
    ],
)
def test_lists_get_a_blank_line_before_them_and_4_space_nesting(
    source: str, normalized: str
) -> None:
    assert normalize_lists(source) == normalized


@pytest.mark.parametrize(
    "source",
    [
        "文本\n2019. 年不是列表",  # only `1.` starts a numbered list after a paragraph line
        "正文\n\n    - 缩进代码块\n    - 第二行",
        "```\n- 代码\n  - 代码\n```",
        "* * *\n\n- a",
        "Q1. 不是列表\n1) 也不是",
    ],
)
def test_code_rules_and_non_lists_are_left_alone(source: str) -> None:
    assert normalize_lists(source) == source


SUMMARY = (
    "MLIR 提供了 “方言”，其中包括：\n"
    "  - TensorFlow IR；\n"
    "  - XLA HLO IR；\n"
    "本文的贡献如下：\n"
    "  1. 比较 roofline 模型；\n"
    "  2. 系统架构分为不同的层：\n"
    "      1. Pandas API 在最顶层；\n"
    "      2. 查询编译器；\n"
    "  3. 作者提出了未来方向。\n"
    "要点：\n"
    "- 第一\n"
    "  - 第一之一"
)
LIST_LINES = [
    "• TensorFlow IR；",
    "• XLA HLO IR；",
    "1. 比较 roofline 模型；",
    "2. 系统架构分为不同的层：",
    "  1. Pandas API 在最顶层；",
    "  2. 查询编译器；",
    "3. 作者提出了未来方向。",
    "• 第一",
    "  • 第一之一",
]


def test_inline_markdown_turns_them_into_prefixed_blocks() -> None:
    blocks = InlineMarkdown().blocks(SUMMARY)
    assert [f"{b.prefix}{b.text}" for b in blocks if b.prefix] == LIST_LINES
    assert [b.text for b in blocks if not b.prefix] == [
        "MLIR 提供了 “方言”，其中包括：",
        "本文的贡献如下：",
        "要点：",
    ]


ISSUE = Issue(
    Series("embedded-ai", "嵌入式AI简报"),
    date(2019, 4, 27),
    "嵌入式AI简报 (2019-04-27)",
    sections=(
        Section("news", "业界新闻", 0, (Entry(0, "MLIR", "TensorFlow", "https://x.org", SUMMARY),)),
    ),
)
ALL = renderers()


@pytest.mark.parametrize("name", ALL)
def test_every_platform_shows_list_lines_with_nesting(name: str) -> None:
    renderer = ALL[name]
    check_view(renderer, lambda r: r.issue(ISSUE))
    messages = renderer.issue(ISSUE)
    lines = [line.rstrip() for m in messages for line in visible(renderer, m.text).split("\n")]
    for expected in LIST_LINES:
        # nested under the entry's number, so "1." is not read as the next entry
        assert ENTRY_INDENT + expected in lines, (expected, lines)
    assert not [line for line in lines if re.match(r"\s*[-*+] ", line)]


def _squeezed(text: str) -> str:
    return re.sub(r"\s", "", text)


@given(markdown)
def test_normalizing_changes_only_whitespace_and_is_idempotent(source: str) -> None:
    normalized = normalize_lists(source)
    assert _squeezed(normalized) == _squeezed(source)
    assert normalize_lists(normalized) == normalized


WORDS = re.compile(r"alpha|beta|gamma|delta|omega|zeta|eta|theta|quote|head|more|wide|ten")
LINES = [
    *("- alpha", "  - beta", "1. gamma", "    2. delta", "   3. eta", "      - theta"),
    *("     - wide", "10. ten", "\t* zeta", "omega", "  more", "> quote", "## head", ""),
]


@given(st.lists(st.sampled_from(LINES), max_size=14))
def test_any_mix_of_list_lines_keeps_its_text_in_order(lines: list[str]) -> None:
    source = "\n".join(lines)
    normalized = normalize_lists(source)
    assert _squeezed(normalized) == _squeezed(source)
    assert normalize_lists(normalized) == normalized
    blocks = InlineMarkdown().blocks(source)
    assert [w for b in blocks for w in WORDS.findall(b.text)] == WORDS.findall(source)
    # never a literal bullet, except in an indented code block (4 spaces after a blank line)
    assert not any(re.match(r"[-*+] ", b.text) for b in blocks if b.kind != "pre")
