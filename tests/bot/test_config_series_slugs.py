"""A slug of several series never reads as something else readers type or visit: an issue
date or number, a command word, "all", a section or topic name, a web path. Such a config
stops with one line naming `series.N.slug` (bot.config at load; bot.series_slugs, for the
words the commands and taxonomies define, before the entry point opens the runtime)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.cli import main
from bot.config import WEB_ROUTE_NAMES, ConfigError, Settings, WebSettings, load_settings
from bot.series_slugs import check_series_words
from tests.conftest import ROOT

TWO = """
[storage]
url = "sqlite+aiosqlite:///a.db"

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
[[series.sources]]
kind = "folder"
name = "widgets"
path = "widgets"
[series.topics.releases]
en = "Releases"
zh = "发布"
keywords = ["release"]
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def with_slug(slug: str, extra: str = "") -> str:
    return TWO.replace('slug = "widgets"', f'slug = "{slug}"') + extra


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused_at_load(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    return one_line(info.value)


def refused_words(tmp_path: Path, text: str) -> str:
    settings = load_settings(write(tmp_path, text))  # the shape is fine
    with pytest.raises(ConfigError) as info:
        check_series_words(settings)
    return one_line(info.value)


def one_line(error: ConfigError) -> str:
    message = str(error)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("2026-11-16", "'2026-11-16' is a date, read as an issue"),
        ("1999-99-99", "'1999-99-99' is a date, read as an issue"),  # the shape, not the calendar
        ("51", "'51' is a number, read as an issue"),
        ("0", "'0' is a number, read as an issue"),
        *(
            (name, f"'{name}' is a web path of its own (/{name})")
            for name in sorted(WEB_ROUTE_NAMES)
        ),
    ],
)
def test_keys_and_web_paths_are_refused_at_load(tmp_path: Path, slug: str, reason: str) -> None:
    message = refused_at_load(tmp_path, with_slug(slug))
    assert f"series.1.slug: {reason}; choose another slug" in message
    assert message.startswith("invalid configuration (")


def test_the_telegram_webhook_path_is_a_web_path(tmp_path: Path) -> None:
    hook = '\n[telegram]\ntoken = "1:x"\nwebhook_url = "https://bot.example/tg/hook"\n'
    message = refused_at_load(tmp_path, with_slug("tg", hook))
    assert "series.1.slug: 'tg' is a web path of its own (/tg)" in message
    assert load_settings(write(tmp_path, with_slug("hook", hook))).series[1].slug == "hook"


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("latest", "the command /latest"),
        ("search", "a web path of its own (/search)"),  # a command too; the web path is found first
        ("series", "the command /series"),  # only there with several series, as here
        ("start", "the command /start"),
        ("archive", "a word for the command /issues"),
        ("sub", "a word for the command /subscribe"),
        ("pause", "a word for the command /settings"),
        ("topics", "a word for the command /sections"),
        ("all", "the word for everything"),
        ("everything", "the word for everything"),
        ("papers", "a section name (papers)"),  # the built-in sections of every series
        ("news", "a section name (news)"),
        ("open-source", "a section name (projects)"),
        ("chips", "a topic name (chips)"),  # a built-in topic (embedded-ai keeps them)
        ("releases", "a topic name (releases)"),  # widgets' own topic
    ],
)
def test_reader_words_are_refused_before_the_runtime_opens(
    tmp_path: Path, slug: str, reason: str
) -> None:
    try:
        message = refused_words(tmp_path, with_slug(slug))
    except ConfigError as exc:  # refused already at load (a web path)
        message = str(exc)
    assert f"series.1.slug: '{slug}' is {reason}; choose another slug" in message


def test_another_series_topics_are_names_too(tmp_path: Path) -> None:
    third = (
        '\n[[series]]\nslug = "releases"\nlayout = "this-week-in"\n'
        '[[series.sources]]\nkind = "folder"\nname = "r"\npath = "r"\n'
    )
    message = refused_words(tmp_path, TWO + third)
    assert "series.2.slug: 'releases' is a topic name (releases)" in message


def test_a_series_own_section_headings_are_names_too(tmp_path: Path) -> None:
    text = TWO.replace('slug = "embedded-ai"', 'slug = "embedded-ai"\nsections = {Tools = "tools"}')
    message = refused_words(tmp_path, text.replace('slug = "widgets"', 'slug = "tools"'))
    assert "series.1.slug: 'tools' is a section name (tools)" in message


def test_the_primary_series_slug_is_checked_too(tmp_path: Path) -> None:
    message = refused_words(tmp_path, TWO.replace('slug = "embedded-ai"', 'slug = "latest"'))
    assert message == "series.0.slug: 'latest' is the command /latest; choose another slug"


@pytest.mark.parametrize(
    ("slug", "key"),
    [("2026-11-16", "series.3.slug"), ("latest", "series.2.slug"), ("papers", "series.1.slug")],
)
def test_briefbot_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], slug: str, key: str
) -> None:
    """The reviewer's config (slugs papers, latest, 2026-11-16), one bad slug at a time."""
    slugs = ["papers", "latest", "2026-11-16"]
    kept = {s: f"ok-{i}" for i, s in enumerate(slugs) if s != slug}
    tables = "".join(
        f'\n[[series]]\nslug = "{kept.get(s, s)}"\nlayout = "this-week-in"\n'
        f'[[series.sources]]\nkind = "folder"\nname = "s{i}"\npath = "s{i}"\n'
        for i, s in enumerate(slugs)
    )
    config = write(tmp_path, TWO.split('\n[[series]]\nslug = "widgets"')[0] + tables)
    assert main(["--config", str(config), "issues"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("briefbot: ") and f"{key}: '{slug}' is " in line
    assert not (tmp_path / "a.db").exists()


def test_the_two_series_example_and_ordinary_slugs_pass(tmp_path: Path) -> None:
    check_series_words(load_settings(ROOT / "examples" / "two-series.toml"))
    for slug in ("gadgets", "weekly", "w" * 32, "news-digest", "2026-11", "a1"):
        check_series_words(load_settings(write(tmp_path, with_slug(slug))))


def test_a_single_series_keeps_any_slug_it_had() -> None:
    """One `[series]` table: no first word is ever taken for a series; nothing changes."""
    for slug in ("latest", "papers", "2026-11-16", "search"):
        settings = Settings.model_validate({"series": {"slug": slug}})
        check_series_words(settings)
        assert settings.primary_series.slug == slug


def test_the_reserved_web_names_are_the_routes_the_web_service_mounts() -> None:
    """Every fixed first path segment of the pages, feeds, operator page, health check and
    callbacks is in WEB_ROUTE_NAMES (a new route must be added there)."""
    from starlette.routing import Mount, Route

    from bot.web.operator import operator_routes
    from bot.web.pages import Site
    from bot.web.server import create_app
    from briefings.model import Series
    from briefings.taxonomy import Taxonomy

    async def endpoint(*_: object) -> None:
        return None

    web = WebSettings(admin_token="x" * 16)
    site = Site(async_sessionmaker(), Series("s", "S"), Taxonomy.default(), web)
    app = create_app(
        wechat=endpoint,
        wecom=endpoint,
        extra_routes=[*operator_routes(async_sessionmaker(), web), *site.routes()],
    )
    segments = {
        route.path.strip("/").split("/")[0]
        for route in app.routes
        if isinstance(route, Route | Mount)
    }
    fixed = {s for s in segments if s and not s.startswith("{")}
    assert fixed == WEB_ROUTE_NAMES
