"""The correction message's heading names the issue by its title as written: the date is
added only when the title does not carry it, and never cut out of the title (issue 14:
readers saw "更正：嵌入式AI简报 测试" for "嵌入式AI简报 (2026-11-02) 测试")."""

from __future__ import annotations

from datetime import date

import pytest

from bot.publish.corrections import EntryChange, correction_message
from briefings.model import Issue, Series

KEY = date(2026, 11, 2)
CHANGE = [EntryChange("芯片发布（更正）", "https://example.com/1", False, True)]


def heading(title: str, language: str, platform: str = "wecom") -> str:
    issue = Issue(Series("embedded-ai", "嵌入式AI简报"), KEY, title)
    return correction_message(platform, language, issue, CHANGE)["text"].splitlines()[0]


@pytest.mark.parametrize(
    ("title", "zh", "en"),
    [
        # the date inside the title stays where the curators wrote it
        (
            "嵌入式AI简报 (2026-11-02) 测试",
            "更正：嵌入式AI简报 (2026-11-02) 测试",
            "Correction: 嵌入式AI简报 (2026-11-02) 测试",
        ),
        (
            "嵌入式AI简报（2026-11-02）特刊",
            "更正：嵌入式AI简报（2026-11-02）特刊",
            "Correction: 嵌入式AI简报（2026-11-02）特刊",
        ),
        ("2026-11-02 周报", "更正：2026-11-02 周报", "Correction: 2026-11-02 周报"),
        # no date in the title: the heading adds it once
        ("嵌入式AI简报 测试", "更正：嵌入式AI简报 测试（2026-11-02）", None),
        # another date in the title is not this issue's date: it is kept, ours added
        (
            "嵌入式AI简报 (2026-10-26) 重发",
            "更正：嵌入式AI简报 (2026-10-26) 重发（2026-11-02）",
            "Correction: 嵌入式AI简报 (2026-10-26) 重发 (2026-11-02)",
        ),
    ],
)
def test_the_title_is_said_whole_and_the_date_once(title: str, zh: str, en: str | None) -> None:
    assert heading(title, "zh") == zh
    assert heading(title, "en") == (en or f"Correction: {title} (2026-11-02)")
    for language in ("zh", "en"):
        assert heading(title, language).count("2026-11-02") == 1


def test_telegram_heading_is_bold_and_escaped_with_the_title_whole() -> None:
    said = heading("嵌入式AI简报 (2026-11-02) <测试>", "zh", "telegram")
    assert said == "<b>更正：嵌入式AI简报 (2026-11-02) &lt;测试&gt;</b>"
