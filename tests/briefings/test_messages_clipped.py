"""Messages that quote input quote a clipped piece of it: a megabyte title line, heading or
pattern gives one short error or warning line (CLI, logs, a source's error), never the
megabyte back."""

from __future__ import annotations

from dataclasses import replace

import pytest

from briefings.errors import QUOTE_CHARS, BriefingParseError, clip, quoted, read_warning
from briefings.layout import Layout, LayoutError
from briefings.layout_config import layout_from_mapping
from briefings.parser import parse_with_layout
from briefings.presets import EMBEDDED_AI, NUMBERED_WEEKLY
from tests.briefings._helpers import SERIES, TAXONOMY

MEGABYTE = 1_000_000
SHORT = 300  # any message about one line of input fits in this


def test_clip_marks_the_cut_and_leaves_short_text_alone() -> None:
    assert clip("abc") == "abc"
    cut = clip("x" * MEGABYTE)
    assert (len(cut), cut[-1]) == (QUOTE_CHARS, "…")
    assert quoted("y" * 500) == repr("y" * (QUOTE_CHARS - 1) + "…")


@pytest.mark.parametrize(
    ("layout", "body", "expected"),
    [
        (NUMBERED_WEEKLY, "\n## 工具\n\n1、[a](https://e.com/a)\n", "no issue number in the H1"),
        (EMBEDDED_AI, "\n## 论文\n\n- [a](https://e.com/a)\n", "has no issue date"),
    ],
    ids=["numbered", "dated"],
)
def test_a_megabyte_title_line_gives_a_short_error(
    layout: Layout, body: str, expected: str
) -> None:
    text = "# " + "周刊" * (MEGABYTE // 2) + "\n" + body
    with pytest.raises(BriefingParseError) as caught:
        parse_with_layout(text, "latest.md", SERIES, TAXONOMY, layout)
    assert expected in caught.value.message
    assert len(str(caught.value)) < SHORT
    assert "…" in caught.value.message


def test_a_megabyte_heading_gives_a_short_warning_that_still_reads_back() -> None:
    heading = "奇" * MEGABYTE
    text = f"# 嵌入式AI简报 (2026-01-05)\n\n## {heading}\n\n- [a](https://e.com/a)\n"
    layout = replace(EMBEDDED_AI, name="named")
    parsed = parse_with_layout(text, "t.md", SERIES, TAXONOMY, layout)
    (warning,) = parsed.issue.warnings
    assert len(warning.message) < SHORT
    code, fields = read_warning(warning.message)
    assert code == "unknown_section"
    assert fields["heading"].startswith("'奇奇") and fields["heading"].endswith("…'")


def test_a_megabyte_layout_pattern_gives_a_short_error_naming_its_item() -> None:
    bad = "(" + "x" * MEGABYTE
    with pytest.raises(LayoutError) as caught:
        layout_from_mapping({"preset": "numbered-weekly", "boilerplate": ["^ok", bad]})
    message = str(caught.value)
    assert message == "layout.boilerplate[1]: 1000001 characters, more than 1000"
    assert len(message) < SHORT
    # a Layout built in code has no length cap: the regex error is clipped there
    with pytest.raises(LayoutError) as caught:
        replace(NUMBERED_WEEKLY, boilerplate=("^ok", bad))
    message = str(caught.value)
    assert message.startswith("layout.boilerplate: bad regular expression '(xxx")
    assert len(message) < SHORT
