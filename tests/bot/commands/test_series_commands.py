"""Readers of several series: /series lists them with (un)subscribe buttons, `/latest
SERIES`, `/sections SERIES` and `/subscribe SERIES ...` work within a series, `/search
series:SERIES` searches one; /series is in the menus only then. Both databases."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import Chat, Core, CoreDeps
from bot.commands.deps import SeriesChoice
from bot.config import Settings
from bot.runtime import build_taxonomy
from briefings.model import Series
from briefings.parser import decode_briefing, parse_with_layout
from briefings.presets import THIS_WEEK_IN
from storage.issues import save_issue
from storage.models import SubscriberRow, SubscriptionRow
from storage.search import index_issue
from tests.bot.commands.conftest import SERIES, T0, Client, buttons, text_of
from tests.conftest import ROOT

WIDGETS = Series("widgets", "This Week in Widgets")
WIDGET_FILES = ROOT / "examples" / "two-series" / "widgets"
TOPICS = {"releases": {"keywords": ["released"], "en": "Releases", "zh": "发布"}}


async def _ingest_widgets(sessions: async_sessionmaker[AsyncSession], taxonomy: object) -> None:
    for path in sorted(WIDGET_FILES.glob("*.md")):
        text = decode_briefing(path.read_bytes(), path.name)
        parsed = parse_with_layout(text, path.name, WIDGETS, taxonomy, THIS_WEEK_IN)  # type: ignore[arg-type]
        async with sessions.begin() as session:
            await save_issue(session, parsed.issue, T0, on_saved=index_issue)


def _catalog(deps: CoreDeps, *, widgets_by_default: bool = False) -> tuple[SeriesChoice, ...]:
    widgets = build_taxonomy(Settings.model_validate({"topics": TOPICS}))
    return (
        SeriesChoice(SERIES, deps.taxonomy, ""),
        SeriesChoice(WIDGETS, widgets, "widgets", widgets_by_default),
    )


@pytest.fixture
async def two(deps: CoreDeps, session_factory: async_sessionmaker[AsyncSession]) -> Core:
    catalog = _catalog(deps)
    await _ingest_widgets(session_factory, catalog[1].taxonomy)
    return Core(replace(deps, catalog=catalog))


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> set[tuple[str, str, str]]:
    async with sessions() as session:
        found = await session.execute(
            select(SubscriptionRow.series, SubscriptionRow.kind, SubscriptionRow.key)
        )
    return {(series, kind, key) for series, kind, key in found}


async def test_series_lists_them_and_its_buttons_switch_one_series(
    two: Core, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    client = Client(two, language_code="en")
    text = text_of(await client.send("/series"))
    assert "⬜ 嵌入式AI简报 (embedded-ai)" in text and "⬜ This Week in Widgets (widgets)" in text
    assert "/latest widgets" in text
    text = text_of(await client.press(client.button("This Week in Widgets")))
    assert "Subscribed to all of “This Week in Widgets”." in text
    assert "✅ This Week in Widgets (widgets)" in text
    assert client.last[0].edit
    assert await _rows(session_factory) == {("widgets", "all", "")}
    text = text_of(await client.press(client.button("This Week in Widgets")))
    assert "Unsubscribed from “This Week in Widgets”." in text
    assert await _rows(session_factory) == set()


async def test_start_subscribes_to_the_series_that_say_so(
    deps: CoreDeps, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    core = Core(replace(deps, catalog=_catalog(deps)))
    await Client(core).send("/start")
    assert await _rows(session_factory) == {("", "all", "")}  # the weekly is opt-in
    eager = Core(replace(deps, catalog=_catalog(deps, widgets_by_default=True)))
    await Client(eager, chat=Chat("telegram", "77", "private")).send("/start")
    assert ("widgets", "all", "") in await _rows(session_factory)
    first, second = _catalog(deps, widgets_by_default=True)
    opt_in_primary = (replace(first, default_subscription=False), second)
    shy = Core(replace(deps, catalog=opt_in_primary))
    await Client(shy, chat=Chat("telegram", "78", "private")).send("/start")
    async with session_factory() as session:
        found = await session.execute(
            select(SubscriptionRow.series)
            .join(SubscriberRow, SubscriberRow.id == SubscriptionRow.subscriber_id)
            .where(SubscriberRow.chat_id == "78")
        )
    assert [row[0] for row in found] == ["widgets"]  # the primary series is opt-in here


async def test_latest_takes_a_series(two: Core) -> None:
    client = Client(two, language_code="en")
    text = text_of(await client.send("/latest widgets"))
    assert "This Week in Widgets #51" in text
    assert "Profiling widgets in production" in text  # the whole issue
    assert "None" not in text
    part = text_of(await client.send("/latest widgets tool of the week"))
    assert "widget-dbg" in part and "Profiling" not in part
    primary = text_of(await client.send("/latest"))
    assert "嵌入式AI简报" in primary and "Widgets" not in primary


async def test_sections_and_subscribe_work_within_a_series(
    two: Core, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    client = Client(two, language_code="en")
    await client.send("/subscribe papers")
    text = text_of(await client.send("/sections widgets"))
    assert text.startswith("This Week in Widgets (widgets)")
    assert "Releases" in text and "Chips" not in text  # the series' own topics
    await client.press(client.button("Releases"))
    assert await _rows(session_factory) == {
        ("", "section", "papers"),
        ("widgets", "topic", "releases"),
    }
    await client.send("/unsubscribe widgets releases")
    await client.send("/subscribe widgets all")
    assert await _rows(session_factory) == {("", "section", "papers"), ("widgets", "all", "")}


async def test_search_takes_a_series_filter(two: Core) -> None:
    client = Client(two, language_code="en")
    text = text_of(await client.send("/search series:widgets profiling"))
    assert "Profiling widgets in production" in text
    assert "#51 · Blog posts" in text and "None" not in text  # named by its number
    assert "No series “nope”" in text_of(await client.send("/search series:nope x"))
    primary = text_of(await client.send("/search profiling"))
    assert "Profiling widgets" not in primary


async def test_series_is_in_the_menus_only_with_several_series(two: Core, core: Core) -> None:
    assert "series" in [name for name, _ in two.command_menu("en")]
    assert "series" not in [name for name, _ in core.command_menu("en")]
    assert "/series" in text_of(await Client(two, language_code="en").send("/help"))
    wecom = Client(two, chat=Chat("wecom", "u-1", "user"))
    text = text_of(await wecom.send("系列 widgets"))
    assert "已订阅「This Week in Widgets」的全部内容。" in text
    assert not buttons(wecom.last)  # text platforms: the commands say it
    # Official Account followers choose series too (each series has its own tags)
    wechat = Client(two, chat=Chat("wechat", "o-1", "user"))
    subscribed = text_of(await wechat.send("系列 widgets"))
    assert "已订阅「This Week in Widgets」的全部内容。" in subscribed
    assert "已退订「This Week in Widgets」。" in text_of(await wechat.send("系列 widgets"))


async def test_a_series_button_with_one_series_has_expired(core: Core) -> None:
    client = Client(core, language_code="en")
    text = text_of(await client.press("t:@widgets:z"))
    assert "expired" in text.lower() or "过期" in text


async def test_issues_lists_a_series_by_number(two: Core) -> None:
    client = Client(two, language_code="en")
    text = text_of(await client.send("/issues widgets"))
    assert text.startswith("This Week in Widgets (widgets)")
    assert text.index("#51") < text.index("#50") and "None" not in text
    assert "/latest widgets" in text and not buttons(client.last)
    assert "2026-11-16" in text_of(await client.send("/issues"))  # the primary series


async def test_issue_opens_another_series_issue_by_number(two: Core) -> None:
    client = Client(two, language_code="en")
    text = text_of(await client.send("/issue widgets 50"))
    assert "This Week in Widgets #50" in text and "Widget runtime 3.1 released" in text
    assert "widget-fmt" in text_of(await client.send("/issue widgets #50 tool of the week"))
    assert "There is no issue #52." in text_of(await client.send("/issue widgets 52"))
    zh = Client(two, chat=Chat("telegram", "9", "private"))
    assert "没有第 52 期。" in text_of(await zh.send("/issue widgets 第52期"))
    # the primary series still takes dates only
    assert "2026-11-16" in text_of(await client.send("/issue 2026-11-16"))
