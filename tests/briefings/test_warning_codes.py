"""Every parser warning has a stable code and fields (briefings.errors.WARNINGS): the
message is written from them, and read back into them, so it can be said in another
language (bot.i18n) while the archive, logs and the CLI keep the English message."""

from __future__ import annotations

import pytest

from briefings.errors import WARNINGS, read_warning, warning_message
from briefings.model import Issue, ParseWarning
from tests.briefings._helpers import doc, parse

# One item (or section) per warning code.
DEFECTS = doc(
    "## 业界新闻",
    "",
    "## 论文",
    "",
    "- [a\ufffd | b](https://a.example/1)",
    "- [ | 机器之心](https://a.example/2)",
    "- [MobileNetV3 | 将门创投(https://a.example/3)",
    "- 【重磅】[依图造芯 | 雷锋网(https://a.example/7)",
    "- [a | b](https://a.example/4",
    "- [端侧推理框架对比 | 知乎]()",
    "- [a | b](https://a.example/5) (CVPR 2020)",
    "- [a | b](https://a.example/6) [代码]()",
    "-   ",
    "- [写一个 | 简书]",
    "- [本地文档 | 编辑部](../docs/a.md)",
    "- [2107.04829]",
    "",
    "## 奇怪的栏目",
    "",
    "- [c | d](https://c.example)",
)


def defective_issue() -> Issue:
    return parse(DEFECTS)


def test_every_code_is_written_by_the_parser() -> None:
    codes = {w.code for w in defective_issue().warnings}
    assert codes == set(WARNINGS)


def test_a_warning_reads_back_into_its_code_and_fields() -> None:
    by_code = {w.code: w for w in defective_issue().warnings}
    assert by_code["not_web_url"].params == {"url": "'../docs/a.md'"}
    assert by_code["empty_section"].params == {"heading": "'业界新闻'"}
    assert by_code["unknown_section"].params["heading"] == "'奇怪的栏目'"
    assert by_code["text_after_links"].message == (
        "text after the item's links kept in the summary: '(CVPR 2020)'"
    )
    for warning in by_code.values():
        assert warning_message(warning.code, **warning.params) == warning.message


@pytest.mark.parametrize("code", sorted(WARNINGS))
def test_messages_round_trip_with_awkward_fields(code: str) -> None:
    names = [n for n in ("text", "url", "heading", "section_key") if f"{{{n}}}" in WARNINGS[code]]
    fields = {name: repr(f"it's {name}: in item; key 'x'") for name in names}
    message = warning_message(code, **fields)
    assert read_warning(message) == (code, fields)


def test_a_message_no_code_writes_has_no_code() -> None:
    """Ingest's own warnings, or a message from an older parser: said as written."""
    warning = ParseWarning("x.md", 3, "not a briefing; skipped")
    assert (warning.code, warning.params) == ("", {})
    assert read_warning("unclosed '[' in item!") == ("", {})
