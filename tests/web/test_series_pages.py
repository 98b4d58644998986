"""The web archive of a numbered series whose issues have no date: its issues have pages
by number (`/widgets/51`) linked from its home, feeds, listings and search; the dated
series' pages are as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.ingest import ingest_documents
from bot.runtime import open_runtime
from bot.web.pages import Site, series_taxonomies
from bot.web.server import create_app
from tests.conftest import ROOT
from tests.web.conftest import fill

WIDGETS = ROOT / "examples" / "two-series" / "widgets"


@pytest.fixture
async def two_series(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    source = {"kind": "folder", "interval_seconds": 60}
    settings = Settings.model_validate(
        {
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"},
            "series": [
                {"slug": "embedded-ai", "sources": [{**source, "name": "a", "path": "a"}]},
                {
                    "slug": "widgets",
                    "title": "This Week in Widgets",
                    "layout": "this-week-in",
                    "sources": [{**source, "name": "w", "path": str(WIDGETS)}],
                },
            ],
        }
    )
    async with open_runtime(settings) as runtime:
        await fill(runtime, hostile=False)
        # built before the weekly's issues exist, as `briefbot run` builds it on a new
        # archive: the sections their headings make must show without a restart
        taxonomies = series_taxonomies(runtime)
        assert "tool-of-the-week" not in {s.key for s in taxonomies["widgets"].sections}
        widgets = runtime.for_series("widgets")
        assert widgets is not None
        docs = [(p.name, p.read_bytes()) for p in sorted(WIDGETS.glob("*.md"))]
        assert (await ingest_documents(widgets, docs)).added == 2
        web = runtime.settings.web
        site = Site(runtime.sessions, runtime.series, runtime.taxonomy, web, None, taxonomies)
        transport = httpx.ASGITransport(app=create_app(extra_routes=site.routes()))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.mark.parametrize(
    "path",
    [
        "/widgets",
        "/widgets/feed.atom",
        "/widgets/feed.rss",
        "/widgets/section/articles",
        "/widgets/section/tool-of-the-week",
        "/search?q=profiling&series=widgets",
    ],
)
async def test_a_numbered_series_pages_answer(two_series: httpx.AsyncClient, path: str) -> None:
    response = await two_series.get(path)
    assert response.status_code == 200, path
    assert "None" not in response.text


async def test_the_dated_series_is_as_before(two_series: httpx.AsyncClient) -> None:
    home = await two_series.get("/")
    assert home.status_code == 200 and "2026-11-16" in home.text
    assert "Widgets" not in home.text


async def test_undated_issues_have_pages_by_number(two_series: httpx.AsyncClient) -> None:
    home = (await two_series.get("/widgets")).text
    assert home.index('href="/widgets/51"') < home.index('href="/widgets/50"')
    assert "#51" in home and "This Week in Widgets #51" in home
    page = await two_series.get("/widgets/51")
    assert page.status_code == 200
    assert "Profiling widgets in production" in page.text
    assert 'href="/widgets/50"' in page.text  # the older issue
    older = (await two_series.get("/widgets/50")).text
    assert 'href="/widgets/51"' in older  # the newer one
    feed = (await two_series.get("/widgets/feed.atom")).text
    assert "http://testserver/widgets/51" in feed
    hits = (await two_series.get("/search?q=profiling&series=widgets")).text
    # free headings are the series' own sections: "## Articles" is not the built-in blogs
    assert "/widgets/51#s-articles" in hits
    for missing in ("/widgets/52", "/widgets/1234567", "/embedded-ai/51"):
        assert (await two_series.get(missing)).status_code == 404, missing
