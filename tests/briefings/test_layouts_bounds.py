"""Hostile inputs stay bounded under every preset: the new line shapes (numbered items,
`###` entries, images, number and date patterns, boilerplate) are linear, and the caps on
sections and entries hold whatever starts an entry."""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace

import pytest

from briefings.errors import BriefingParseError
from briefings.layout import Layout
from briefings.parser import ParseLimits, parse_with_layout
from briefings.presets import NUMBERED_WEEKLY, PRESETS, THIS_WEEK_IN
from tests.briefings._helpers import SERIES, TAXONOMY
from tests.briefings.test_parser_bounds import SHAPES

N = 400_000
H1 = "# W 第 1 期 #1 (2030-01-01)"
ITEM = "## S\n\n1、[a](https://e.com)\n"
LAYOUT_SHAPES = {
    "spaces after a number": f"{H1}\n\n## S\n\n1、" + " " * N + "x\n",
    "bold number never closed": f"{H1}\n\n## S\n\n**1、" + "*" * N + "\n",
    "digits in the H1": "# W " + "1" * N + " 期\n\n" + ITEM,
    "hashes in the H1": "# W" + " #" * (N // 2) + "\n\n" + ITEM,
    "dates in the intro": f"{H1}\n\n" + "2030-01-" * (N // 8) + "\n\n" + ITEM,
    "image openers": f"{H1}\n\n{ITEM}\n" + "![" * (N // 2) + "\n",
    "linked image debris": f"{H1}\n\n{ITEM}\n" + "[![a](b)" * (N // 8) + "\n",
    "heading of brackets": f"{H1}\n\n## S\n\n### " + "[" * N + "\n",
    "summary label spaces": f"{H1}\n\n{ITEM}\nSummary" + " " * N + "x\n",
}


@pytest.mark.parametrize("layout", PRESETS.values(), ids=PRESETS.keys())
@pytest.mark.parametrize(
    "text", [*SHAPES.values(), *LAYOUT_SHAPES.values()], ids=[*SHAPES, *LAYOUT_SHAPES]
)
def test_adversarial_lines_parse_in_linear_time(layout: Layout, text: str) -> None:
    start = time.thread_time()  # this thread's CPU time: neither the load nor other threads count
    with contextlib.suppress(BriefingParseError):  # refusing is fine; taking minutes is not
        parse_with_layout(text, "t.md", SERIES, TAXONOMY, layout)
    assert time.thread_time() - start < 5, "superlinear parsing: a DoS for any source"


def test_a_long_line_is_matched_against_boilerplate_on_its_head_only() -> None:
    # a curator's pattern that backtracks and still loads (an exponential one is refused,
    # test_regex_safety): on a line with no `c` it is quadratic, milliseconds on the
    # 1000-character head, about a minute on the whole 400 000-character line
    layout = replace(THIS_WEEK_IN, boilerplate=(r"^a*a*c",))
    text = "# W #1\n\n## S\n\n- [x](https://e.com)\n  " + "a" * N + "b\n"
    start = time.thread_time()
    parse_with_layout(text, "t.md", SERIES, TAXONOMY, layout)
    assert time.thread_time() - start < 5


@pytest.mark.parametrize(
    ("layout", "item"),
    [
        (NUMBERED_WEEKLY, "{n}、[e](https://e.com)\n\n"),
        (THIS_WEEK_IN, "### [e](https://e.com)\n\n"),
        (replace(THIS_WEEK_IN, sections="flat"), "- [e](https://e.com)\n"),
    ],
)
def test_entry_caps_hold_for_every_entry_style(layout: Layout, item: str) -> None:
    text = "# W #1\n\n## S\n\n" + "".join(item.format(n=n % 999 + 1) for n in range(60))
    limits = ParseLimits(max_sections=10, max_entries=50, max_section_entries=1024)
    with pytest.raises(BriefingParseError) as caught:
        parse_with_layout(text, "t.md", SERIES, TAXONOMY, layout, limits=limits)
    assert str(caught.value) == "t.md: 60 entries, more than max_entries = 50"


def test_section_caps_hold_for_free_sections() -> None:
    text = "# W #1\n\n" + "".join(f"## S{n}\n\n- [e](https://e.com)\n" for n in range(50))
    limits = ParseLimits(max_sections=10, max_entries=1000, max_section_entries=1024)
    with pytest.raises(BriefingParseError, match="50 sections, more than max_sections = 10"):
        parse_with_layout(text, "t.md", SERIES, TAXONOMY, THIS_WEEK_IN, limits=limits)
