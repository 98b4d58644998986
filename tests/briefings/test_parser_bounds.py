"""Bounded work: no line shape makes the parser (or the topic tagger) superlinear.

Each payload is ~400 kB on one line or a few; the quadratic regexes this guards
against took minutes on 80 kB. The bound is generous (seconds, for tenths of a second
of work) so it only fails on a real blow-up, and it is on this process's CPU time: the
wall clock of a loaded machine (xdist workers on two cores) ran 8x the CPU time."""

from __future__ import annotations

import time

import pytest

from briefings.errors import BriefingParseError
from briefings.parser import ParseLimits, parse_issue
from tests.briefings._helpers import SERIES, TAXONOMY, parse

N = 400_000
H1 = "# 嵌入式AI简报 (2030-01-01)"
ITEM = "## 论文\n\n- [a](https://e.com)\n"
SHAPES = {
    "spaces in the H1": "# a" + " " * N + "x (2030-01-01)\n\n" + ITEM,
    "spaces in a heading": f"{H1}\n\n## a" + " " * N + "x\n\n- [a](https://e.com)\n",
    "spaces in an item": f"{H1}\n\n## 论文\n\n- a" + " " * N + "x\n",
    "spaces in a link text": f"{H1}\n\n## 论文\n\n- [a" + " " * N + "x](https://e.com)\n",
    "spaces in a summary": f"{H1}\n\n{ITEM}  a" + " " * N + "x\n",
    "label: URL pairs": f"{H1}\n\n{ITEM}" + "a:https://x" * (N // 11) + "，\n",
    "link debris": f"{H1}\n\n{ITEM}摘要：" + "](" * (N // 2) + "\n",
    "open brackets": f"{H1}\n\n## 论文\n\n- x" + "[" * N + "http\n",
    "many links": f"{H1}\n\n## 论文\n\n- " + "[b](https://x) " * (N // 15) + "\n",
}


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_adversarial_lines_parse_in_linear_time(text: str) -> None:
    start = time.thread_time()
    parse(text)
    assert time.thread_time() - start < 5, "superlinear parsing: a DoS for any source"


def test_caps_are_checked_before_entries_are_built() -> None:
    text = f"{H1}\n\n" + "".join(f"## S{n}\n\n- [e](https://e.com)\n" for n in range(50))
    limits = ParseLimits(max_sections=10, max_entries=1000, max_section_entries=1024)
    with pytest.raises(BriefingParseError) as caught:
        parse_issue(text, "t.md", SERIES, TAXONOMY, limits=limits)
    assert str(caught.value) == "t.md: 50 sections, more than max_sections = 10"
