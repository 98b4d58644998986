"""A series' `languages` on the web archive: its issue and section pages declare the
language its issues are written in (`<html lang>`, the header and footer keeping the
reader's interface language), and so do its feeds (Atom xml:lang, RSS <language>),
whatever language the reader chose; the home page stays in the reader's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.ingest import ingest_documents
from bot.runtime import open_runtime
from bot.web.pages import Site, content_languages
from bot.web.server import create_app
from tests.web.conftest import fill
from tests.web.test_series_pages import WIDGETS


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    source = {"kind": "folder", "interval_seconds": 60}
    settings = Settings.model_validate(
        {
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"},
            "series": [
                {"slug": "embedded-ai", "sources": [{**source, "name": "a", "path": "a"}]},
                {
                    "slug": "widgets",
                    "title": "This Week in Widgets",
                    "languages": ["en"],
                    "layout": "this-week-in",
                    "sources": [{**source, "name": "w", "path": str(WIDGETS)}],
                },
            ],
        }
    )
    async with open_runtime(settings) as runtime:
        await fill(runtime, hostile=False)
        widgets = runtime.for_series("widgets")
        assert widgets is not None
        docs = [(p.name, p.read_bytes()) for p in sorted(WIDGETS.glob("*.md"))]
        assert (await ingest_documents(widgets, docs)).added == 2
        languages = content_languages(runtime)
        assert languages == {"embedded-ai": "zh", "widgets": "en"}  # zh: the default
        web = runtime.settings.web
        site = Site(runtime.sessions, runtime.series, runtime.taxonomy, web, languages)
        transport = httpx.ASGITransport(app=create_app(extra_routes=site.routes()))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _langs(client: httpx.AsyncClient, path: str) -> tuple[str, str | None, str | None]:
    """The page's declared language, and its header's and footer's if they differ."""
    response = await client.get(path)
    assert response.status_code == 200, path
    html = re.search(r'<html lang="([^"]+)">', response.text)
    header = re.search(r'<header class="site"(?: lang="([^"]+)")?>', response.text)
    footer = re.search(r'<footer class="site"(?: lang="([^"]+)")?>', response.text)
    assert html and header and footer, path
    return html.group(1), header.group(1), footer.group(1)


@pytest.mark.parametrize(
    ("path", "declared"),
    [
        # an English weekly read with the Chinese interface, then the English one
        ("/widgets/51", ("en", "zh-CN", "zh-CN")),
        ("/widgets/51?lang=en", ("en", None, None)),
        ("/widgets/section/blogs", ("en", "zh-CN", "zh-CN")),
        # the Chinese briefing read with the English interface, then the Chinese one
        ("/embedded-ai/2026-11-16?lang=en", ("zh-CN", "en", "en")),
        ("/embedded-ai/section/papers?lang=en", ("zh-CN", "en", "en")),
        ("/embedded-ai/2026-11-16", ("zh-CN", None, None)),
        # pages of the interface itself are in the reader's language
        ("/widgets", ("zh-CN", None, None)),
        ("/widgets?lang=en", ("en", None, None)),
        ("/search?q=profiling&series=widgets&lang=en", ("en", None, None)),
    ],
)
async def test_pages_declare_the_series_language(
    site: httpx.AsyncClient, path: str, declared: tuple[str, str | None, str | None]
) -> None:
    assert await _langs(site, path) == declared


@pytest.mark.parametrize(
    ("path", "atom", "rss"),
    [
        ("/widgets/feed", 'xml:lang="en"', "<language>en</language>"),
        ("/widgets/section/blogs/feed", 'xml:lang="en"', "<language>en</language>"),
        ("/embedded-ai/feed", 'xml:lang="zh-CN"', "<language>zh-CN</language>"),
        ("/embedded-ai/section/papers/feed", 'xml:lang="zh-CN"', "<language>zh-CN</language>"),
    ],
)
async def test_feeds_declare_the_series_language_for_either_interface(
    site: httpx.AsyncClient, path: str, atom: str, rss: str
) -> None:
    for suffix in ("", "?lang=en", "?lang=zh"):
        body = (await site.get(f"{path}.atom{suffix}")).text
        assert f'<feed xmlns="http://www.w3.org/2005/Atom" {atom}>' in body, suffix
        assert rss in (await site.get(f"{path}.rss{suffix}")).text, suffix
