"""Each series' pages and feeds use its own taxonomy: with the two-series example, the
widgets weekly's free `##` headings (Tool of the week, Articles) and its own topics
(releases, tooling) have pages, feeds and links under /widgets; the primary series'
sections and topics are 404 there; the primary series' pages are as before."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import httpx
import pytest

from bot.config import Settings
from bot.ingest import ingest_documents
from bot.runtime import Runtime, open_runtime
from bot.web.pages import Site, content_languages
from bot.web.server import create_app
from bot.web.service import _public_routes
from tests.conftest import ROOT
from tests.web.conftest import fill

EXAMPLE = ROOT / "examples" / "two-series.toml"
WIDGETS = ROOT / "examples" / "two-series" / "widgets"


@dataclass
class Clients:
    site: httpx.AsyncClient  # the pages `run` serves (service._public_routes)
    before: httpx.AsyncClient  # one taxonomy for every series, as the site had


def _client(routes: list) -> httpx.AsyncClient:  # type: ignore[type-arg]
    transport = httpx.ASGITransport(app=create_app(extra_routes=routes))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def clients(tmp_path: Path) -> AsyncIterator[Clients]:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["storage"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
    async with open_runtime(Settings.model_validate(data)) as runtime:
        await fill(runtime, hostile=False)
        await _ingest_widgets(runtime)
        web, languages = runtime.settings.web, content_languages(runtime)
        old = Site(runtime.sessions, runtime.series, runtime.taxonomy, web, languages)
        async with _client(_public_routes(runtime)) as site, _client(old.routes()) as before:
            yield Clients(site, before)


async def _ingest_widgets(runtime: Runtime) -> None:
    widgets = runtime.for_series("widgets")
    assert widgets is not None
    docs = [(p.name, p.read_bytes()) for p in sorted(WIDGETS.glob("*.md"))]
    assert (await ingest_documents(widgets, docs)).added == 2
    assert runtime.sections_seen is not None
    await runtime.sections_seen.read()  # as when `run` opens the runtime on this archive


async def test_a_free_section_has_its_page_with_its_name(clients: Clients) -> None:
    page = await clients.site.get("/widgets/section/tool-of-the-week?lang=en")
    assert page.status_code == 200
    assert "Section: Tool of the week" in page.text
    # newest first, each entry naming its issue's section by the series' name for it
    assert page.text.index("widget-dbg") < page.text.index("widget-fmt")
    assert 'href="/widgets/51?lang=en#s-tool-of-the-week"' in page.text
    assert "· Tool of the week" in page.text
    assert "Profiling widgets" not in page.text  # an article, not a tool
    zh = await clients.site.get("/widgets/section/tool-of-the-week?lang=zh")
    assert zh.status_code == 200 and "栏目：Tool of the week" in zh.text
    articles = await clients.site.get("/widgets/section/articles?lang=en")
    assert articles.status_code == 200
    assert "Section: Articles" in articles.text
    assert "Profiling widgets in production" in articles.text


@pytest.mark.parametrize(
    "path",
    [
        "/widgets/section/papers",
        "/widgets/section/blogs",
        "/widgets/section/papers/feed.atom",
        "/widgets/topic/quantization",
        "/widgets/topic/chips/feed.rss",
        "/embedded-ai/section/tool-of-the-week",
        "/embedded-ai/section/articles/feed.atom",
        "/embedded-ai/topic/tooling",
        "/widgets/section/nothing-of-the-week",
    ],
)
async def test_another_series_sections_and_topics_are_not_found(
    clients: Clients, path: str
) -> None:
    response = await clients.site.get(path)
    assert response.status_code == 404, path


async def test_the_series_pages_link_its_own_sections_and_topics(clients: Clients) -> None:
    home = (await clients.site.get("/widgets?lang=en")).text
    for key in ("updates-from-the-community", "articles", "tool-of-the-week"):
        assert f'href="/widgets/section/{key}?lang=en"' in home, key
    assert ">Tool of the week</a>" in home
    assert 'href="/widgets/topic/tooling?lang=en">Tooling</a>' in home
    assert "/widgets/section/papers" not in home and "/widgets/topic/chips" not in home
    issue = (await clients.site.get("/widgets/51?lang=en")).text
    assert '<a href="/widgets/section/tool-of-the-week?lang=en">Tool of the week</a>' in issue
    assert '<a href="/widgets/section/articles?lang=en">Articles</a>' in issue
    assert 'href="/widgets/topic/tooling?lang=en">Tooling</a>' in issue  # widget-dbg's topic


async def test_the_series_topic_page_lists_its_entries(clients: Clients) -> None:
    page = await clients.site.get("/widgets/topic/tooling?lang=zh")
    assert page.status_code == 200
    assert "话题：工具" in page.text
    assert "widget-dbg" in page.text and "A month with the widget linter" in page.text
    assert "Widget runtime 3.2 released" not in page.text


async def test_the_section_feed_is_the_series_own(clients: Clients) -> None:
    response = await clients.site.get("/widgets/section/tool-of-the-week/feed.atom?lang=en")
    assert response.status_code == 200
    feed = feedparser.parse(response.text)
    assert feed.feed.title == "Tool of the week · This Week in Widgets"
    assert [e.title for e in feed.entries] == ["widget-dbg", "widget-fmt"]
    rss = await clients.site.get("/widgets/topic/releases/feed.rss?lang=en")
    assert rss.status_code == 200
    titles = [e.title for e in feedparser.parse(rss.text).entries]
    assert titles == ["Widget runtime 3.2 released", "Widget runtime 3.1 released"]


async def test_search_filters_by_the_series_own_names(clients: Clients) -> None:
    path = "/search?q=section:tool-of-the-week&series=widgets&lang=en"
    hits = (await clients.site.get(path)).text
    assert "widget-dbg" in hits and "Profiling widgets" not in hits
    assert "#51 · Tool of the week" in hits
    # 工具 names the widgets topic `tooling`: the primary series' taxonomy has no such name
    path = "/search?q=topic:工具&series=widgets&lang=en"
    hits = (await clients.site.get(path)).text
    assert "widget-dbg" in hits and "A month with the widget linter" in hits
    assert "Widget runtime" not in hits
    assert "widget-dbg" not in (await clients.before.get(path)).text


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/embedded-ai",
        "/embedded-ai/2026-11-16?lang=en",
        "/embedded-ai/section/papers",
        "/embedded-ai/section/news?lang=en",
        "/embedded-ai/topic/quantization",
        "/embedded-ai/section/papers/feed.atom",
        "/embedded-ai/topic/chips/feed.rss?lang=en",
        "/embedded-ai/feed.atom",
        "/search?q=量化",
    ],
)
async def test_the_primary_series_pages_are_unchanged(clients: Clients, path: str) -> None:
    now, before = await clients.site.get(path), await clients.before.get(path)
    assert now.status_code == before.status_code == 200, path
    assert now.text == before.text, path
