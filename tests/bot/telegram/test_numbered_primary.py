"""A numbered weekly (undated issues) as the one series, end to end on the local Bot API
server: /latest and /issues answer with keyboards whose buttons name issues by number,
pressing them opens the section, the issue and the next page; the strict server takes
every keyboard (callback data within 64 bytes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands import Core, CoreDeps
from bot.config import Settings, StorageSettings, TelegramSettings, layout_of
from bot.ingest import ingest_documents, read_files
from bot.platforms.telegram.adapter import TelegramPlatform
from bot.runtime import Runtime, build_taxonomy
from briefings.model import Series
from storage.db import session_factory
from tests.bot.telegram.conftest import SCRIPTED_USER
from tests.bot.telegram.harness import ADMIN_ID, Harness, button_texts
from tests.conftest import ROOT
from tests.fakes.telegram_limits import RateLimits
from tests.fakes.telegram_markup import inline_buttons

WIDGET_FILES = ROOT / "examples" / "two-series" / "widgets"
EN = 6303


@pytest.fixture
async def weekly(engine: AsyncEngine, telegram_server_factory: Any) -> AsyncIterator[Harness]:
    server = await telegram_server_factory(rate_limits=RateLimits.off())
    telegram = TelegramSettings(token=server.token, base_url=server.base_url, admins=[ADMIN_ID])
    series = {"slug": "widgets", "title": "This Week in Widgets", "layout": "this-week-in"}
    settings = Settings(
        storage=StorageSettings(url=str(engine.url)), telegram=telegram, series=series
    )
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        series=Series("widgets", "This Week in Widgets"),
        taxonomy=build_taxonomy(settings),
        layout=layout_of(settings.primary_series.layout),
    )
    report = await ingest_documents(runtime, read_files([WIDGET_FILES]))
    assert report.failed == 0 and report.added == 2
    deps = replace(CoreDeps.from_runtime(runtime), flood=SCRIPTED_USER)
    async with AsyncExitStack() as stack:
        platform = TelegramPlatform(runtime, Core(deps), poll_timeout=1.0)
        await stack.enter_async_context(platform)
        harness = Harness(server, runtime, platform)
        yield harness
    assert not harness.refused(), [(c.method, c.description) for c in harness.refused()]


def data_of(message: Any) -> list[str]:
    return [b["callback_data"] for b in inline_buttons(message.reply_markup)]


async def test_latest_and_issues_browse_by_number(weekly: Harness) -> None:
    h = weekly
    [overview] = await h.say(EN, "/latest", language_code="en")
    assert "This Week in Widgets #51" in overview.visible_text
    assert "x:n51:*" in data_of(overview)
    assert "Tool of the week (1)" in button_texts(overview)
    _, [section] = await h.press(overview, text="Tool of the week (1)", language_code="en")
    assert "widget-dbg" in section.visible_text
    assert "Profiling widgets" not in section.visible_text

    [listing] = await h.say(EN, "/issues", language_code="en")
    assert "#51 · 4 entries" in listing.visible_text and "#50 · 3 entries" in listing.visible_text
    assert data_of(listing) == ["o:n51", "o:n50"]
    _, [older] = await h.press(listing, text="#50 (3)", language_code="en")
    assert "This Week in Widgets #50" in older.visible_text
    assert data_of(older)[-1] == "x:n50:*"
    _, [whole] = await h.press(older, text="Everything", language_code="en")
    assert "widget-fmt" in whole.visible_text and "Widget runtime 3.1" in whole.visible_text

    [missing] = await h.say(EN, "/issue 1000000000000", language_code="en")
    assert missing.visible_text == "There is no issue #1000000000000."
