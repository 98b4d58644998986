"""/publish and /preview of another series' issue, by number (`/publish widgets 51`,
`#51`, `第51期`, `latest`), with the errors for an unknown series or number, in zh and
en; the primary series' dates work as before. Both databases."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands import Core
from tests.bot.commands.conftest import Client, FakePublisher, text_of
from tests.bot.commands.test_series_commands import two  # noqa: F401  (the fixture)


@pytest.mark.parametrize(
    "typed",
    [
        "/publish widgets 51",
        "/publish widgets #51",
        "/publish WIDGETS 第51期",
        "/publish widgets latest",
    ],
)
async def test_publish_names_another_series_issue_by_number(
    two: Core,  # noqa: F811
    publisher: FakePublisher,
    typed: str,
) -> None:
    text = text_of(await Client(two, is_admin=True).send(typed))
    assert text.startswith("已推送 #51 这一期（内容 ")
    assert (publisher.calls, publisher.series) == ([(51, False)], ["widgets"])


async def test_preview_by_number_in_both_languages(
    two: Core,  # noqa: F811
    publisher: FakePublisher,
) -> None:
    en = text_of(await Client(two, is_admin=True, language_code="en").send("/preview widgets 50"))
    assert en.startswith("Dry run (nothing sent): 嵌入式AI简报 (2026-11-16) [#50], content c0ffee")
    zh = text_of(await Client(two, is_admin=True).send("/preview widgets #50"))
    assert zh.startswith("预演（不发送）：嵌入式AI简报 (2026-11-16) [#50]，内容 c0ffee")
    assert (publisher.calls, publisher.series) == ([(50, True), (50, True)], ["widgets"] * 2)


async def test_primary_series_dates_still_work_beside_numbers(
    two: Core,  # noqa: F811
    publisher: FakePublisher,
) -> None:
    admin = Client(two, is_admin=True)
    assert text_of(await admin.send("/publish 2026-11-16")).startswith("已推送 2026-11-16 这一期")
    again = text_of(await admin.send("/publish embedded-ai latest"))
    assert again.startswith("2026-11-16 这一期已于 2026-11-20T16:00+08:00 推送")
    assert publisher.calls == [(date(2026, 11, 16), False)] * 2
    assert publisher.series == ["embedded-ai"] * 2


async def test_unknown_series_or_number_is_said_and_nothing_is_asked(
    two: Core,  # noqa: F811
    publisher: FakePublisher,
) -> None:
    zh, en = Client(two, is_admin=True), Client(two, is_admin=True, language_code="en")
    assert text_of(await zh.send("/publish widgets 99")) == "This Week in Widgets没有第 99 期。"
    assert text_of(await en.send("/preview widgets #99")) == (
        "This Week in Widgets has no issue #99."
    )
    assert text_of(await en.send("/publish 51")) == "嵌入式AI简报 has no issue #51."
    assert text_of(await zh.send("/publish gadgets 51")).startswith("没有叫「gadgets」的系列；")
    assert text_of(await en.send("/publish gadgets 51")) == (
        "No series “gadgets”; series: embedded-ai, widgets"
    )
    assert "Usage: /publish YYYY-MM-DD, /publish NUMBER" in text_of(
        await en.send("/publish widgets soon")
    )
    assert "用法：/preview YYYY-MM-DD、/preview 期号" in text_of(await zh.send("/preview widgets"))
    assert publisher.calls == []


async def test_readers_cannot_publish_another_series(
    two: Core,  # noqa: F811
    publisher: FakePublisher,
) -> None:
    await Client(two).send("/publish widgets 51")
    assert publisher.calls == []
