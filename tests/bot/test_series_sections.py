"""A series' sections by its layout (bot/series_sections.py): the Embedded AI layout keeps
the default taxonomy exactly; free headings drop the built-in sections for the declared
ones and those stored issues have, never taking a topic's or another section's name;
the stored sections are the newest issues' ones with entries, bounded. Both databases
for the storage query."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import ConfigError, Settings
from bot.runtime import build_taxonomy
from bot.series_sections import SeenSections, add_sections, series_sections
from briefings.model import Entry, Issue, Section, Series
from briefings.presets import NUMBERED_WEEKLY, THIS_WEEK_IN
from briefings.taxonomy import Taxonomy
from storage.issues import save_issue
from storage.seen_sections import seen_sections

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
WEEKLY = Series("weekly", "Weekly")


def _settings(**series: object) -> Settings:
    return Settings.model_validate({"series": {"slug": "weekly", **series}})


def test_the_embedded_ai_layout_keeps_the_default_taxonomy() -> None:
    default = Taxonomy.default()
    for layout in (None, "embedded-ai"):
        taxonomy = build_taxonomy(_settings(layout=layout), seen=[("tools", "Tools")])
        assert taxonomy.sections == default.sections
        assert taxonomy.topics == default.topics


def test_free_headings_have_their_declared_and_seen_sections() -> None:
    settings = _settings(layout={"preset": "this-week-in", "section_names": {"工具": "tools"}})
    taxonomy = build_taxonomy(settings, seen=[("tools", "Tools"), ("news", "News")])
    assert [s.key for s in taxonomy.sections] == ["tools", "news"]
    tools = taxonomy.sections[0]
    assert (tools.zh, tools.en) == ("工具", "Tools")  # each language's own heading
    assert taxonomy.resolve("工具") == taxonomy.resolve("tools") == ("section", "tools")
    assert taxonomy.resolve("papers") is None and taxonomy.resolve("业界新闻") is None
    assert taxonomy.resolve("chips") == ("topic", "chips")  # the topics are as configured


def test_a_seen_section_never_takes_a_topic_or_another_sections_name() -> None:
    base = series_sections(Taxonomy.default(), NUMBERED_WEEKLY, {})
    assert base.sections == ()
    taxonomy = add_sections(
        base,
        [
            ("chips", "Chips"),  # the topic's key: left out, the topic answers to it
            ("section-1a2b3c4d", "推理"),  # a topic alias: named with its key
            ("news", "News"),
            ("news-2", "News"),  # the same heading twice in one issue
        ],
    )
    names = {s.key: s.zh for s in taxonomy.sections}
    assert names == {
        "section-1a2b3c4d": "推理 (section-1a2b3c4d)",
        "news": "News",
        "news-2": "News (news-2)",
    }
    assert taxonomy.resolve("推理") == ("topic", "inference")
    assert add_sections(taxonomy, [("news", "News"), ("news-2", "News")]) is taxonomy


def test_a_declared_name_already_taken_is_a_config_error() -> None:
    settings = _settings(layout={"preset": "this-week-in", "section_names": {"Chips": "hw"}})
    with pytest.raises(ConfigError, match=r"series 'weekly': sections: .*'Chips'.*topic chips"):
        build_taxonomy(settings)


def test_a_flat_layout_has_its_one_section() -> None:
    layout = {"preset": "numbered-weekly", "sections": "flat", "flat_section": "links"}
    taxonomy = build_taxonomy(_settings(layout=layout), seen=[("other", "Other")])
    assert [s.key for s in taxonomy.sections] == ["links"]
    assert series_sections(Taxonomy.default(), THIS_WEEK_IN, {}).sections == ()


def _issue(number: int, *headings: str, empty: str = "") -> Issue:
    sections = [
        Section(
            key=heading.lower().replace(" ", "-"),
            heading=heading,
            position=i,
            entries=(Entry(0, f"{heading} {number}", url=f"https://e.example/{number}/{i}"),),
        )
        for i, heading in enumerate(headings)
    ]
    if empty:
        sections.append(Section(key=empty.lower(), heading=empty, position=len(sections)))
    return Issue(
        series=WEEKLY,
        key=None,
        number=number,
        title=f"Weekly #{number}",
        sections=tuple(sections),
        source_path=f"issue-{number}.md",
        content_hash=f"h{number}",
    )


async def test_stored_sections_are_the_newest_issues_ones_with_entries(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory.begin() as session:
        await save_issue(session, _issue(1, "Old Only", "News"), T0)
        await save_issue(session, _issue(2, "News", "Tools", empty="Prose"), T0)
        await save_issue(session, _issue(3, "Tools", "Links"), T0)
    async with session_factory() as session:
        found = await seen_sections(session, "weekly")
        assert [(s.key, s.heading) for s in found] == [
            ("tools", "Tools"),
            ("links", "Links"),
            ("news", "News"),
            ("old-only", "Old Only"),
        ]  # the newest issue's order first; a section of prose only is not one
        assert [s.key for s in await seen_sections(session, "weekly", issues=2)] == [
            "tools",
            "links",
            "news",
        ]
        assert len(await seen_sections(session, "weekly", limit=2)) == 2
        assert await seen_sections(session, "nope") == ()
    seen = SeenSections(session_factory, ["weekly"])
    assert not seen.takes("embedded-ai") and seen.of("weekly") == ()
    default = Taxonomy.default()
    assert await seen.taxonomy("embedded-ai", default) is default  # not read, as it is
    free = series_sections(default, THIS_WEEK_IN, {})
    taxonomy = await seen.taxonomy("weekly", free)
    assert [s.key for s in taxonomy.sections] == ["tools", "links", "news", "old-only"]
    assert [s.key for s in seen.of("weekly")] == ["tools", "links", "news", "old-only"]
