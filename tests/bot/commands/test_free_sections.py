"""Sections of a series with free `##` headings (examples/two-series.toml: the widgets
weekly, `this-week-in`): /sections lists the headings its issues have, not the Embedded
AI briefing's sections; /subscribe and /unsubscribe take them by key or heading, in
either language; the section buttons switch them; a heading the layout maps to a key
(`section_names`) is a section before any issue has it; and a reader subscribed to a
free section gets only that section when the issue is published. The first series
keeps the default taxonomy exactly. Both databases."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.clock import FixedClock
from bot.commands import Chat, Core, CoreDeps, FloodPolicy
from bot.config import Settings
from bot.ingest import ingest_documents
from bot.publish.publisher import IssuePublisher
from bot.publish.results import Publication
from bot.runtime import Runtime, open_runtime
from briefings.taxonomy import Taxonomy
from storage.models import (
    DeliveryRow,
    IssueRow,
    RenderingRow,
    SectionRow,
    SubscriberRow,
    SubscriptionRow,
)
from tests.bot.commands.conftest import Client, buttons, text_of
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "two-series.toml"
WIDGET_FILES = ROOT / "examples" / "two-series" / "widgets"
ZH = Chat("telegram", "2001", "private")
EN = Chat("telegram", "2002", "private")
BUILT_IN = ("Industry news", "Papers", "Open-source projects", "Applications")
FRIDAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def example(db_url: str, **widgets_layout: Any) -> Settings:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["storage"]["url"] = db_url
    data["series"][1]["layout"] |= widgets_layout
    return Settings.model_validate(data)


async def ingest_widgets(runtime: Runtime) -> None:
    widgets = runtime.for_series("widgets")
    assert widgets is not None
    docs = [(p.name, p.read_bytes()) for p in sorted(WIDGET_FILES.glob("*.md"))]
    assert (await ingest_documents(widgets, docs)).added == 2


def core_of(runtime: Runtime) -> Core:
    """The command core an entry point builds, without its flood limit (a test is quick)."""
    return Core(replace(CoreDeps.from_runtime(runtime), flood=FloodPolicy(6000.0, 100)))


@pytest.fixture
async def runtime(db_url: str) -> AsyncIterator[Runtime]:
    async with open_runtime(example(db_url)) as opened:
        yield opened


async def _rows(runtime: Runtime, chat: Chat) -> set[tuple[str, str, str]]:
    async with runtime.sessions() as session:
        found = await session.execute(
            select(SubscriptionRow.series, SubscriptionRow.kind, SubscriptionRow.key)
            .join(SubscriberRow, SubscriberRow.id == SubscriptionRow.subscriber_id)
            .where(SubscriberRow.chat_id == chat.chat_id)
        )
    return {(series, kind, key) for series, kind, key in found}


async def test_sections_lists_the_series_own_headings_after_an_ingest(runtime: Runtime) -> None:
    core = core_of(runtime)  # built before the issues came in
    en = Client(core, chat=EN, language_code="en")
    empty = text_of(await en.send("/sections widgets"))
    assert "Tool of the week" not in empty and not any(n in empty for n in BUILT_IN)
    await ingest_widgets(runtime)
    text = text_of(await en.send("/sections widgets"))
    assert text.startswith("This Week in Widgets (widgets)")
    for heading in ("Updates from the community", "Articles", "Tool of the week"):
        assert heading in text
    assert not any(name in text for name in BUILT_IN)
    assert "Releases" in text  # the series' own topics
    primary = text_of(await en.send("/sections"))
    assert all(name in primary for name in BUILT_IN) and "Tool of the week" not in primary


async def test_subscribe_takes_a_free_section_by_key_or_heading(runtime: Runtime) -> None:
    await ingest_widgets(runtime)
    core = core_of(runtime)
    en = Client(core, chat=EN, language_code="en")
    text = text_of(await en.send("/subscribe widgets tool-of-the-week"))
    assert "Subscribed: Tool of the week" in text and "Unknown" not in text
    assert await _rows(runtime, EN) == {("widgets", "section", "tool-of-the-week")}
    await en.send("/subscribe widgets Articles")
    assert ("widgets", "section", "articles") in await _rows(runtime, EN)
    text = text_of(await en.send("/unsubscribe widgets articles"))
    assert "Unsubscribed: Articles" in text
    usage = text_of(await en.send("/subscribe widgets"))
    assert "/subscribe widgets updates-from-the-community" in usage and "papers" not in usage
    unknown = text_of(await en.send("/subscribe widgets papers"))  # not this series'
    assert "papers" in unknown and "tool-of-the-week (Tool of the week)" in unknown
    assert await _rows(runtime, EN) == {("widgets", "section", "tool-of-the-week")}

    zh = Client(core, chat=ZH)
    text = text_of(await zh.send("/subscribe widgets Tool of the week"))
    assert "已订阅" in text and "Tool of the week" in text
    await zh.send("/sections widgets")
    await zh.press(zh.button("Updates from the community"))
    assert await _rows(runtime, ZH) == {
        ("widgets", "section", "tool-of-the-week"),
        ("widgets", "section", "updates-from-the-community"),
    }
    assert "✅ Updates from the community" in [b.text for b in buttons(zh.last)]
    # the first series' sections are unchanged, in both languages
    assert "已订阅" in text_of(await zh.send("/subscribe 论文"))
    assert ("", "section", "papers") in await _rows(runtime, ZH)


async def test_the_first_series_keeps_the_default_taxonomy(runtime: Runtime) -> None:
    await ingest_widgets(runtime)
    assert runtime.sections_seen is not None
    await runtime.sections_seen.read()  # as a command does; views built after it have them
    default = Taxonomy.default()
    assert runtime.taxonomy.sections == default.sections
    assert [t.key for t in runtime.taxonomy.topics] == [t.key for t in default.topics]
    widgets = runtime.for_series("widgets")
    assert widgets is not None
    keys = [s.key for s in widgets.taxonomy.sections]
    assert keys == ["updates-from-the-community", "articles", "tool-of-the-week"]
    assert [t.key for t in widgets.taxonomy.topics] == ["releases", "tooling"]


async def test_a_section_the_layout_names_is_there_before_any_issue(db_url: str) -> None:
    settings = example(db_url, section_names={"Tool of the week": "tools"})
    async with open_runtime(settings) as runtime:
        widgets = runtime.for_series("widgets")
        assert widgets is not None
        assert [s.key for s in widgets.taxonomy.sections] == ["tools"]
        core = core_of(runtime)
        en = Client(core, chat=EN, language_code="en")
        assert "Subscribed: Tool of the week" in text_of(await en.send("/subscribe widgets tools"))
        await ingest_widgets(runtime)  # the heading keeps its key; the others join it
        text = text_of(await en.send("/sections widgets"))
        assert "Tool of the week" in text and "Articles" in text
        assert await _rows(runtime, EN) == {("widgets", "section", "tools")}
        async with runtime.sessions() as session:
            keys = set(await session.scalars(select(SectionRow.key)))
        assert "tools" in keys and "tool-of-the-week" not in keys


async def test_a_reader_of_a_free_section_gets_only_that_section(runtime: Runtime) -> None:
    await ingest_widgets(runtime)
    core = core_of(runtime)
    await Client(core, chat=EN, language_code="en").send("/subscribe widgets tool-of-the-week")
    await Client(core, chat=ZH).send("/subscribe widgets Articles")
    widgets = runtime.for_series("widgets")
    assert widgets is not None
    publisher = IssuePublisher(widgets, FixedClock(FRIDAY))
    published = await publisher.publish(51)
    assert isinstance(published, Publication) and published.deliveries == 2
    texts = await _delivered_texts(runtime)
    assert "widget-dbg" in texts[EN.chat_id]
    assert "Profiling widgets" not in texts[EN.chat_id]
    assert "Widget runtime 3.2" not in texts[EN.chat_id]
    assert "Profiling widgets in production" in texts[ZH.chat_id]
    assert "widget-dbg" not in texts[ZH.chat_id]


async def _delivered_texts(runtime: Runtime) -> dict[str, str]:
    """Chat -> the text of the messages its delivery of issue #51 carries."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(SubscriberRow.chat_id, RenderingRow.messages)
            .select_from(DeliveryRow)
            .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
            .join(RenderingRow, RenderingRow.id == DeliveryRow.rendering_id)
            .join(IssueRow, IssueRow.id == DeliveryRow.issue_id)
            .where(IssueRow.number == 51)
        )
    return {chat: "\n".join(m["text"] for m in messages) for chat, messages in rows}


async def test_a_followed_section_gone_from_the_newest_issues_can_still_be_dropped(
    runtime: Runtime,
) -> None:
    await ingest_widgets(runtime)
    core = core_of(runtime)
    en = Client(core, chat=EN, language_code="en")
    await en.send("/subscribe widgets tool-of-the-week")
    async with runtime.sessions.begin() as session:  # as if an old issue's heading
        await session.execute(
            update(SubscriptionRow)
            .where(SubscriptionRow.key == "tool-of-the-week")
            .values(key="interviews")
        )
    listed = text_of(await en.send("/sections widgets"))
    assert "interviews" in listed  # the reader sees what it follows
    text = text_of(await en.send("/unsubscribe widgets interviews"))
    assert "Unsubscribed: interviews" in text and "Unknown" not in text
    assert await _rows(runtime, EN) == set()
    unknown = text_of(await en.send("/subscribe widgets interviews"))  # not offered anew
    assert "Unknown" in unknown or "unknown" in unknown
