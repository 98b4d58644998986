"""A curator's pattern that can backtrack exponentially is refused when the layout loads:
`re` cannot be interrupted, so one such pattern and one hostile line hang the parser."""

from __future__ import annotations

import re
import time

import pytest

from briefings.layout import Layout, LayoutError
from briefings.layout_config import layout_from_mapping
from briefings.presets import PRESETS
from briefings.regex_safety import (
    EMPTY_BODY,
    OPTIONAL,
    SAME_START,
    SPLIT_RUN,
    exponential_risk,
)

REFUSED = {
    r"(a*)*": EMPTY_BODY,
    r"(a?)+": EMPTY_BODY,
    r"(?:\s*|-)+": EMPTY_BODY,
    r"(a+)+$": SPLIT_RUN,
    r"(\d+\s*)+": SPLIT_RUN,
    r"(\w+\s?)+$": SPLIT_RUN,
    r"(.*a){2,}": SPLIT_RUN,
    r"(?:[^x]+y?)+": SPLIT_RUN,
    r"(\d{1,2}\s*)+": SPLIT_RUN,  # a bounded inner repeat splits a run as well
    r"(a+)*?": SPLIT_RUN,  # lazy
    r"((?:(a+))b?)+": SPLIT_RUN,  # in a group inside a group
    r"^(a|aa)+$": SAME_START,  # parsed as `a(?:|a)`: the empty branch meets the next round
    r"(x|x)*": SAME_START,
    r"(a|aa)+?": SAME_START,  # lazy
    r"(a|aa){2,}": SAME_START,
    r"(a|aa){1,100}": SAME_START,  # a bounded loop with room for 2^50 splits
    r"(?=(a|aa)+$)x": SAME_START,  # inside a lookahead
    r"x(?!y(?:(?:a|aa))+z)": SAME_START,  # inside a negative lookahead, in groups
    r"((?i:k)|\u212a)+": SAME_START,  # the Kelvin sign is a `k` when case is ignored
    r"(?i)(?:a|Aa)+$": SAME_START,  # `a` and `A` are one character when case is ignored
    r"(aa?)+": OPTIONAL,
    # nested short counts multiply: each runs only a few times, together 9^9 splits
    r"^(?:\w+\s?){1,9}$": SPLIT_RUN,
    r"^(\d{1,9}){1,9}$": SPLIT_RUN,
    r"^(?:a+){1,9}$": SPLIT_RUN,
    r"^(.*?,){9}P": SPLIT_RUN,
    r"(.*a){4}x": SPLIT_RUN,
    # after the round's first character, two repeats meet: the split between them is free
    r"^(?:x\d*\d*)+$": SPLIT_RUN,
    r"^(?:xa{0,2}a{0,2})+$": SPLIT_RUN,
}
ACCEPTED = [
    r"第\s*(?P<n>\d+)\s*期",
    r"(?:foo|bar)+",
    r"(?i)(?:foo|bar)+",
    r"^(?:[>*_]\s*)*欢迎",  # `[>*_]` and `\s` share no character
    r"#(?P<n>\d+)",
    r"\d{4}-\d{2}-\d{2}",
    r"(\d{1,2}[./-]){3}\d{1,2}",  # a short bounded count: a few splits at most
    r"(?:[\u4e00-\u9fff]\s*)+",
    r"(?:-?\d)+",
    r"(?:ab|a)+",  # `a(?:b|)`: after the empty branch comes the next round's `a`, not `b`
    r"(x(?:a|aa)?)+",  # each round opens with an `x`: one way to split
    r"(\d++\s*)+",  # possessive: never gives back a digit
    r"(\d+-)+",  # each run of digits ends at a `-`: one way to split
    r"\d{4}-\d{2}-\d{2}",
    r"(a|aa)++$",
    r"a*a*b",  # polynomial, bounded by the line caps
    r"^本(?:期|周刊)(?:由|内容由).{0,40}(?:赞助|支持)",
]


@pytest.mark.parametrize(("pattern", "reason"), REFUSED.items(), ids=list(REFUSED))
def test_nested_repetition_is_refused(pattern: str, reason: str) -> None:
    re.compile(pattern)  # valid: refused for its shape, not its syntax
    assert exponential_risk(pattern) == reason


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_safe_shapes_are_accepted(pattern: str) -> None:
    assert exponential_risk(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"^(a|aa)+$", "a" * 31 + "b"),
        (r"^(a+)+$", "a" * 22 + "b"),
        (r"^(x|x)*$", "x" * 22 + "y"),
        (r"^(aa?)+$", "a" * 31 + "b"),
        (r"^(?:a|aa){1,100}$", "a" * 31 + "b"),
    ],
)
def test_the_refused_shapes_really_hang(pattern: str, text: str) -> None:
    # what the check stands for: a few dozen characters already take a tenth of a second
    # (each more multiplies it), where a linear pattern takes microseconds
    start = time.thread_time()
    re.search(pattern, text)
    assert time.thread_time() - start > 0.02
    assert exponential_risk(pattern) is not None


@pytest.mark.parametrize("layout", PRESETS.values(), ids=PRESETS.keys())
def test_every_preset_pattern_is_accepted(layout: Layout) -> None:
    patterns = (*layout.title_number, *layout.name_number, *layout.boilerplate)
    assert patterns or layout.key == "date"
    assert [p for p in patterns if exponential_risk(p)] == []
    assert layout_from_mapping({"preset": layout.name}) == layout


@pytest.mark.parametrize("field", ["boilerplate", "title_number", "name_number"])
def test_the_loader_refuses_it_in_one_line(field: str) -> None:
    fine, pattern = (
        ("^ok", r"^(a|aa)+$") if field == "boilerplate" else (r"#(?P<n>\d+)", r"(?P<n>\d)(\d+\s*)+")
    )
    data = {"preset": "numbered-weekly", field: [fine, pattern]}
    with pytest.raises(LayoutError) as caught:
        layout_from_mapping(data)
    message = str(caught.value)
    assert message.startswith(
        f"layout.{field}[1]: {pattern!r}: nested repetition can take exponential time: "
    )
    assert "\n" not in message


def test_a_long_pattern_is_clipped_in_the_message() -> None:
    pattern = "x" * 200 + "(a+)+"
    with pytest.raises(LayoutError) as caught:
        layout_from_mapping({"boilerplate": [pattern]})
    assert pattern not in str(caught.value)
    assert "'" + "x" * 79 + "…'" in str(caught.value)
