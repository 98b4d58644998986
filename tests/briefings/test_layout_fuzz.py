"""Hostile documents and layouts nobody has written yet, under every preset and under
layouts a curator could write in TOML.

Properties: parsing refuses with its own BriefingParseError or returns an issue whose
entries keep the parser's documented invariants (titles and URLs bounded by the input,
a URL one token, line numbers inside the file, positions in order, section keys unique,
warnings short); reading a layout refuses with LayoutError only. The timing tests compare
the CPU time of a near-miss of each inline shape at n and 4n repetitions: linear work is
~4x, the quadratic scans they guard against were 16x and more (minutes at 2 MB).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from briefings.errors import QUOTE_CHARS, BriefingParseError
from briefings.layout import MAX_NUMBER_DIGITS, Layout, LayoutError
from briefings.layout_config import layout_from_mapping
from briefings.parser import TITLE_SPAN, Parsed, parse_with_layout
from briefings.presets import PRESETS, THIS_WEEK_IN
from tests.briefings._helpers import SERIES, TAXONOMY

LAYOUT_NAMES = sorted(PRESETS)
H1 = "# W 第 1 期 #1 (2030-01-01)"
SECTION = "## S\n\n"
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------- documents

words = st.sampled_from(
    ["a", "标题", "Title", "论文", "News", "|", " | ", "｜", "丨", "[", "]", "(", ")", "![",
     "](", "**", "__", "*", "_", "~~", "<", ">", "\\", "`", "#", "1、", "1.", "arXiv:2101.00001",
     "[2107.04829]", "https://e.com/a", "http://x", "<https://e.com/a b>", "摘要：", "Summary:",
     "<https://e.com/a\tb>", "代码：", "：", ":", "\t", "  ", "\u3000", "\u00a0", "\ufffd", "🔥",
     "2026-01-09", "(2030-01-01)", "第 12 期", "#42", "Issue 7", "C# 12", "<b>", "</font>",
     "&amp;", "\\[",
     "\\(", "(", "[a](", "[![a](i)](https://e.com)", "[![](i)](https://e.com)"]
)  # fmt: skip
inline = st.lists(st.one_of(words, st.text(max_size=6)), max_size=10).map("".join)
# a line shape the presets recognise, its text drawn from `inline`
line_shapes = st.sampled_from(
    ["{}", "# {}", "## {}", "### {}", "#### {}", "###### {}", "- {}", "* {}", "+ {}", "  - {}",
     "    {}", "1、{}", "2. {}", "3) {}", "**1、{}**", "**4、{}", "1、[{}](https://e.com)",
     "- [{} | src](https://e.com)", "### [{}](https://e.com)", "![{}](https://e.com/i.png)",
     "[![{}](https://e.com/i.png)](https://e.com)", "摘要：{}", "Summary: {}", "> {}",
     "> 导读：{}", "导读：{}", "代码：https://e.com/{}", "| {} | {} |", "|---|---|", "```", "~~~",
     "----", "---", "***", "<div>{}</div>", "<!-- {} -->", "**{}**", "Published {}",
     "发布日期：2026-01-09 {}", "本期由{}赞助", "欢迎投稿{}", "Subscribe {}", "", "", ""]
)  # fmt: skip
lines = st.builds(lambda shape, text: shape.replace("{}", text), line_shapes, inline)
heads = st.sampled_from(
    ["# 嵌入式AI简报 (2026-01-05)", "# 周刊 第 12 期", "# This Week in X #42",
     "# This Week in X 301: C# 12", "# Issue 7 (2026-01-05)", "# W 第 1 期 #1 (2030-01-01)",
     "---\ntitle: This Week in X 42\ndate: 2026-01-09\n---", "---\nlayout: x\n---\n\n# 周刊 #3",
     "---\ntitle: 周刊 第 3 期", "", "# 无日期"]
)  # fmt: skip
breaks = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    head = draw(heads)
    body = draw(st.lists(lines, max_size=40))
    sep = draw(breaks)
    text = sep.join([head, "", *body]).replace("\n", sep)
    if draw(st.booleans()):  # a long line, as a hostile source sends
        text += sep + draw(line_shapes).replace("{}", draw(words) * draw(st.integers(1, 3000)))
    return draw(st.sampled_from(["", "\ufeff"])) + text


# ------------------------------------------------------------------------- layouts

patterns = st.sampled_from(
    [r"^本期由.*赞助", r"(?i)^subscribe", r"^a*a*b", r"\d{4}", r"[", r"(?P<n>\d+)",
     r"a{4294967296}", r"(?P<n>\w+)", r"(?P<n>\d+)?", "(" * 120 + ")" * 120, r"(?<=x)y+", r"\b"]
)  # fmt: skip
number_patterns = st.sampled_from(
    [r"第\s*(?P<n>\d+)\s*期", r"#(?P<n>\d+)", r"(?i)issue\s*(?P<n>\d+)", r"(?P<n>[0-9]{1,3})",
     r"(?P<n>\d+)(?=\D*$)", r"(?P<x>\d+)", r"(?P<n>\d|x)", r"(?P<n>\d*)"]
)  # fmt: skip
labels = st.sampled_from(["Published", "日期", "摘要", "Summary", "TL;DR", " ", "(", "a|b"])
layout_fields = st.fixed_dictionaries(
    {},
    optional={
        "preset": st.sampled_from([*LAYOUT_NAMES, "nope"]),
        "key": st.sampled_from(["date", "number", "x"]),
        "date_from": st.lists(st.sampled_from(["title", "front_matter", "name", "text"])),
        "date_labels": st.lists(labels, max_size=3),
        "title_number": st.lists(number_patterns, max_size=3),
        "name_number": st.lists(number_patterns, max_size=2),
        "sections": st.sampled_from(["named", "free", "flat"]),
        "section_names": st.dictionaries(st.sampled_from(["News", "论文", "工具"]),
                                         st.sampled_from(["news", "tools", "Bad Key"])),
        "navigation_headings": st.lists(st.sampled_from(["往期回顾", "Archive", "News"])),
        "cover_headings": st.lists(st.sampled_from(["封面", "Cover"])),
        "flat_section": st.sampled_from(["items", "x", "-bad"]),
        "entries": st.lists(st.sampled_from(["bullet", "numbered", "heading"]), max_size=3),
        "summary": st.sampled_from(["line", "paragraphs", "none"]),
        "summary_labels": st.lists(labels, max_size=2),
        "images": st.sampled_from(["inline", "links"]),
        "intro": st.sampled_from(["labelled", "paragraphs"]),
        "intro_labels": st.lists(labels, max_size=2),
        "boilerplate": st.lists(patterns, max_size=3),
        "footer_after_rule": st.booleans(),
    },
)  # fmt: skip


def _layout(data: dict[str, object]) -> Layout:
    try:
        return layout_from_mapping(data)
    except LayoutError:
        assume(False)
        raise  # pragma: no cover - assume raises


# ------------------------------------------------------------------------- properties


def _parse(text: str, layout: Layout, path: str = "t.md") -> Parsed | None:
    """The parse of `text`, None when the parser refused it with its own error."""
    try:
        return parse_with_layout(text, path, SERIES, TAXONOMY, layout)
    except BriefingParseError as exc:
        assert len(exc.message) < 4 * QUOTE_CHARS + 200, "an error quotes input whole"
        assert 0 <= exc.line <= text.count("\n") + text.count("\r") + 1
        return None


def _check_invariants(text: str, parsed: Parsed, layout: Layout) -> None:
    issue = parsed.issue
    split = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    longest = max(map(len, split))
    if layout.key == "date":
        assert issue.key is not None
    else:
        assert issue.number is not None and 0 <= issue.number < 10**MAX_NUMBER_DIGITS
    assert [s.position for s in issue.sections] == list(range(len(issue.sections)))
    assert len({s.key for s in issue.sections}) == len(issue.sections)
    for section in issue.sections:
        assert [e.position for e in section.entries] == list(range(len(section.entries)))
        for entry in section.entries:
            assert 1 <= entry.line <= len(split)
            assert entry.title and len(entry.title) <= longest + TITLE_SPAN + 2
            for url in [entry.url, *(link.url for link in entry.links)]:
                if url is None:
                    continue
                # `<a b>` targets percent-encode their spaces: never longer than 3x the line
                assert url and len(url) <= 3 * longest
                assert not any(char.isspace() for char in url), "a URL is one token"
    for warning in issue.warnings:
        assert 0 <= warning.line <= len(split)
        assert len(warning.message) < 3 * QUOTE_CHARS + 100
        assert warning.code, f"a warning no code writes: {warning.message}"
    for number, _ in (*parsed.unmatched, *parsed.left_out):
        assert 1 <= number <= len(split)


@pytest.mark.parametrize("name", LAYOUT_NAMES)
@FUZZ
@given(text=documents())
def test_any_document_parses_or_is_refused_with_bounded_results(name: str, text: str) -> None:
    layout = PRESETS[name]
    parsed = _parse(text, layout)
    if parsed is not None:
        _check_invariants(text, parsed, layout)


@pytest.mark.parametrize("name", LAYOUT_NAMES)
@FUZZ
@given(text=documents())
def test_line_breaks_and_a_bom_do_not_change_the_issue(name: str, text: str) -> None:
    layout = PRESETS[name]
    plain = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    crlf = "\ufeff" + plain.replace("\n", "\r\n")
    first, second = _parse(plain, layout), _parse(crlf, layout)
    assert (first is None) == (second is None)
    if first is not None and second is not None:
        assert first.issue.sections == second.issue.sections
        assert first.issue.warnings == second.issue.warnings
        assert first.key == second.key


@pytest.mark.parametrize("name", LAYOUT_NAMES)
@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=300), control=st.sampled_from(["\x00", "\x08", "\x1f", "\ud800"]))
def test_binary_and_lone_surrogates_are_refused(name: str, text: str, control: str) -> None:
    with pytest.raises(BriefingParseError):
        parse_with_layout(
            "# W #1 (2030-01-01)\n\n## S\n\n- " + text + control,
            "t.md",
            SERIES,
            TAXONOMY,
            PRESETS[name],
        )


@FUZZ
@given(data=layout_fields, text=documents())
def test_a_curators_layout_is_refused_with_layout_error_or_parses(
    data: dict[str, object], text: str
) -> None:
    layout = _layout(data)
    parsed = _parse(text, layout, path=f"issue-12-{layout.name}.md")
    if parsed is not None:
        _check_invariants(text, parsed, layout)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # `re` on `[[`: refused or not, fine
@settings(max_examples=100, deadline=None)
@given(
    field=st.sampled_from(["boilerplate", "title_number", "name_number"]),
    pattern=st.lists(
        st.sampled_from(["(", ")", "[", "]", "{", "}", "?", "*", "+", "\\", "P<n>", "\\d", "a",
                         "|", "^", "$", "4294967296", "9" * 30, ",", "<", ">", "=", "!", "-"]),
        max_size=14,
    ).map("".join),
)  # fmt: skip
def test_any_pattern_is_a_layout_or_a_layout_error(field: str, pattern: str) -> None:
    data = {"preset": "numbered-weekly", field: [pattern]}
    with contextlib.suppress(LayoutError):
        layout_from_mapping(data)


def test_white_space_in_an_angle_bracket_target_is_percent_encoded() -> None:
    # a tab or an ideographic space left in a URL splits it wherever it is written out
    text = f"{H1}\n\n{SECTION}- [a](<https://e.com/a\tb\u3000c d>)\n"
    parsed = _parse(text, PRESETS["embedded-ai"])
    assert parsed is not None
    assert parsed.issue.sections[0].entries[0].url == "https://e.com/a%09b%E3%80%80c%20d"


def test_a_repeat_count_re_cannot_hold_is_a_layout_error() -> None:
    with pytest.raises(LayoutError, match=r"layout\.boilerplate\[1\]: bad regular expression"):
        layout_from_mapping({"boilerplate": ["^ok", "a{4294967296}"]})


def test_a_layout_string_over_its_cap_is_refused_in_one_short_line() -> None:
    with pytest.raises(LayoutError) as refused:
        layout_from_mapping({"boilerplate": ["^ok", "x" * 40_000]})
    assert str(refused.value) == "layout.boilerplate[1]: 40000 characters, more than 1000"


def test_groups_nested_deeper_than_re_parses_are_a_layout_error() -> None:
    deep = "(?:" * 2000 + "a" + ")" * 2000  # over the config's length cap: built in code
    with pytest.raises(LayoutError, match=r"layout\.boilerplate: bad regular expression"):
        replace(THIS_WEEK_IN, boilerplate=(deep,))


# ------------------------------------------------------------------------- linear time

# near-misses of the inline link scanner: each opener finds its partner far away or never
NEAR_MISSES: dict[str, Callable[[int], str]] = {
    "brackets closed by the last link": lambda n: f"- x{'[a' * n}](https://e.com)\n",
    "numbered, brackets closed at the end": lambda n: f"1、x{'[a' * n}](https://e.com)\n",
    "empty links never closed": lambda n: f"- x{'[](' * n}\n",
    "empty brackets, one paren": lambda n: f"- x{'[]' * n}(\n",
    "nested brackets around a link": lambda n: f"- x{'[' * n}](https://e.com){']' * n}\n",
    "nested targets": lambda n: f"- x{'[a](' * n}{')' * n}\n",
    "image without alt, brackets after": lambda n: f"- [![](i)](https://e.com) x{'[a' * n}](b)\n",
}


def _cpu(text: str, layout: Layout, tries: int = 3) -> float:
    """The least CPU time of `tries` parses, this thread's: neither load nor other threads count."""
    best = float("inf")
    for _ in range(tries):
        start = time.thread_time()
        with contextlib.suppress(BriefingParseError):
            parse_with_layout(text, "t.md", SERIES, TAXONOMY, layout)
        best = min(best, time.thread_time() - start)
    return best


@pytest.mark.parametrize("name", LAYOUT_NAMES)
@pytest.mark.parametrize("shape", sorted(NEAR_MISSES))
def test_near_misses_of_a_link_parse_in_linear_time(name: str, shape: str) -> None:
    make, layout, n = NEAR_MISSES[shape], PRESETS[name], 3000
    small = _cpu(f"{H1}\n\n{SECTION}{make(n)}", layout)
    large = _cpu(f"{H1}\n\n{SECTION}{make(4 * n)}", layout, tries=2)
    # linear is ~4x; under 0.25 s nothing is quadratic at 16k repetitions (it took seconds)
    assert large < max(10 * small, 0.25), f"{small:.3f}s at {n}, {large:.3f}s at {4 * n}"


def test_a_curators_number_pattern_reads_the_head_of_the_h1_only() -> None:
    # natural for a curator, and `\d+` restarts at every digit of a run that never ends in 期
    layout = replace(PRESETS["numbered-weekly"], title_number=(r"(?P<n>\d+)\s*期",))
    text = "# W {}x\n\n## S\n\n1、[a](https://e.com)\n"
    small = _cpu(text.format("1" * 3000), layout)
    large = _cpu(text.format("1" * 12000), layout, tries=2)
    assert large < max(10 * small, 0.25), f"{small:.3f}s at 3000 digits, {large:.3f}s at 12000"


def test_an_issue_number_leading_a_long_h1_is_still_found() -> None:
    layout = replace(PRESETS["numbered-weekly"], title_number=(r"(?P<n>\d+)\s*期",))
    text = f"# W 12 期 {'字' * 5000}\n\n## S\n\n1、[a](https://e.com)\n"
    parsed = _parse(text, layout)
    assert parsed is not None and parsed.key.number == 12
