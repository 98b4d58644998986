"""`[[series]]`: several series in one config, each with its layout, sources, schedule,
topics and default subscription; `[series]` stays the one series it always was."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from bot.runtime import build_taxonomy
from briefings.presets import THIS_WEEK_IN
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "two-series.toml"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


TWO = """
[publish]
time = "09:00:00"
settle_minutes = 5

[[series]]
slug = "embedded-ai"
[[series.sources]]
kind = "folder"
name = "eai"
path = "eai"

[[series]]
slug = "widgets"
title = "This Week in Widgets"
languages = ["en"]
layout = "this-week-in"
default_subscription = false
[series.schedule]
time = "08:00"
weekdays = ["Friday", "fri"]
timezone = "UTC"
[[series.sources]]
kind = "folder"
name = "widgets"
path = "widgets"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_one_series_table_is_one_series_as_before() -> None:
    settings = load_settings(None)
    (view,) = settings.series_views()
    assert view is settings
    assert settings.primary_series.slug == "embedded-ai"


def test_each_series_has_its_own_sources_schedule_and_layout(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, TWO))
    first, second = settings.series_views()
    assert (first.primary_series.slug, second.primary_series.slug) == ("embedded-ai", "widgets")
    assert first.sources[0].path == str(tmp_path / "eai")  # against the config's folder
    assert second.sources[0].path == str(tmp_path / "widgets")
    # the schedule's keys over [publish]; unset ones ([publish].settle_minutes) kept
    assert (first.publish.time, first.publish.weekdays) == (dt.time(9), [])
    assert second.publish.time == dt.time(8)
    assert second.publish.weekdays == ["fri"]
    assert (second.publish.timezone, second.publish.settle_minutes) == ("UTC", 5)
    assert second.primary_series.default_subscription is False
    assert second.primary_series.languages == ["en"]


async def test_the_runtime_gives_one_view_per_series(tmp_path: Path) -> None:
    from bot.runtime import open_runtime

    settings = load_settings(
        write(tmp_path, TWO + '\n[storage]\nurl = "sqlite+aiosqlite:///a.db"\n')
    )
    async with open_runtime(settings, migrate=False) as runtime:
        assert runtime.series.slug == "embedded-ai" and runtime.is_primary
        assert runtime.layout is None  # the Embedded AI parse
        views = runtime.each_series()
        assert [v.series.slug for v in views] == ["embedded-ai", "widgets"]
        assert views[0] is runtime
        widgets = runtime.for_series("widgets")
        assert widgets is not None and not widgets.is_primary
        assert widgets.series.title == "This Week in Widgets"
        assert widgets.layout == THIS_WEEK_IN
        assert widgets.settings.sources[0].name == "widgets"
        assert runtime.for_series("nope") is None


def test_series_topics_are_the_series_own(tmp_path: Path) -> None:
    text = TWO + '\n[series.topics.releases]\nkeywords = ["release"]\nen = "Releases"\n'
    eai, widgets = load_settings(write(tmp_path, text)).series_views()
    assert build_taxonomy(widgets).topics_for("Runtime 3.1 release") == ("releases",)
    assert build_taxonomy(widgets).resolve("chips") is None
    assert build_taxonomy(eai).resolve("chips") == ("topic", "chips")  # built-in kept


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('slug = "widgets"', 'slug = "embedded-ai"'), "series.1.slug: duplicate slug"),
        (('layout = "this-week-in"', 'layout = "weekly"'), "series.1.layout: preset: unknown"),
        (('path = "widgets"', 'path = "eai"'), "series.1.sources: a source with the same files"),
        (('name = "widgets"', 'name = "eai"'), "same name 'eai' as one of series 'embedded-ai'"),
        (('"Friday"', '"Fryday"'), "series.1.schedule.weekdays: unknown weekday 'Fryday'"),
        (('timezone = "UTC"', 'timezone = "Mars/Base"'), "series.1.schedule.timezone"),
        (('slug = "widgets"', 'slug = "Widgets!"'), "series.1.slug: must be 1-32 of a-z"),
        (('slug = "widgets"', f'slug = "{"w" * 33}"'), "series.1.slug: must be 1-32 of a-z"),
        (('languages = ["en"]', 'languages = ["fr"]'), "series.1.languages.0"),
    ],
)
def test_bad_series_values_are_one_line_naming_the_key(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    assert expected in refused(tmp_path, TWO.replace(*change))


def test_several_series_need_their_own_sources(tmp_path: Path) -> None:
    top = TWO + '\n[[sources]]\nkind = "folder"\npath = "x"\n'
    assert "sources: with several [[series]], each series lists its own" in refused(tmp_path, top)
    bare = TWO.replace(
        '[[series.sources]]\nkind = "folder"\nname = "widgets"\npath = "widgets"', ""
    )
    assert "series.1.sources: series 'widgets' has no sources" in refused(tmp_path, bare)
    assert "an empty [[series]] list" in refused(tmp_path, "series = []\n")


def test_a_layout_table_is_a_preset_with_overrides(tmp_path: Path) -> None:
    text = TWO.replace(
        'layout = "this-week-in"',
        'layout = { preset = "this-week-in", navigation_headings = ["Back issues"] }',
    )
    widgets = load_settings(write(tmp_path, text)).series_views()[1]
    assert widgets.primary_series.layout == {
        "preset": "this-week-in",
        "navigation_headings": ["Back issues"],
    }
    bad = text.replace("navigation_headings", "navigation")
    assert "series.1.layout: navigation: unknown field" in refused(tmp_path, bad)


def test_a_layout_with_an_exponential_pattern_is_refused(tmp_path: Path) -> None:
    text = TWO.replace('layout = "this-week-in"', 'layout = { boilerplate = ["(x+)+y"] }')
    message = refused(tmp_path, text)
    assert (
        "series.1.layout: boilerplate[0]: '(x+)+y': nested repetition can take exponential time"
    ) in message


def test_the_two_series_example_is_valid() -> None:
    settings = load_settings(EXAMPLE)
    views = settings.series_views()
    assert [v.primary_series.slug for v in views] == ["embedded-ai", "widgets"]
    for view in views:
        (source,) = view.sources
        assert Path(source.path).is_dir(), source.path
    assert views[1].publish.weekdays == ["fri"]
    assert Settings.model_validate({"series": [{"slug": "a"}]}).primary_series.slug == "a"


def test_check_layout_resolves_a_series_through_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--config",
            str(EXAMPLE),
            "check-layout",
            str(EXAMPLE.parent / "two-series/widgets"),
            "--series",
            "widgets",
        ]
    )
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert "issue-51.md: #51, 4 entries" in out
    assert out.splitlines()[-1] == "layout this-week-in: 2 files, 0 failed"
    code = main(["--config", str(EXAMPLE), "check-layout", str(EXAMPLE.parent), "--series", "x"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "--series: no series 'x'; configured: embedded-ai, widgets" in err


def test_series_environment_overrides_never_replace_several_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_SERIES_TITLE", "Other")
    message = refused(tmp_path, TWO)
    assert message.startswith("BRIEFBOT_SERIES_TITLE: environment overrides apply to one")
    single = load_settings(write(tmp_path, '[series]\nslug = "eai"\n'))
    assert single.primary_series.title == "Other"  # one [series] table: as before


def test_a_single_series_keeps_any_slug_it_had() -> None:
    legacy = Settings.model_validate({"series": {"slug": "Embedded_AI"}})  # as before
    assert legacy.primary_series.slug == "Embedded_AI"


def test_the_longest_slug_fits_every_button() -> None:
    from bot.commands.buttons import Toggle, decode

    slug = "w" * 32
    for toggle in (
        Toggle("series", series=slug),
        Toggle.of("topic", "k" * 64, 9999, slug),
        Toggle("all", series=slug),
    ):
        assert decode(toggle.encode()) == toggle
