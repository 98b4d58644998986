"""The public pages over HTTP (in-process ASGI): what each page shows, in both languages,
with hostile titles from files escaped, and the headers that keep them safe and cached."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.runtime import Runtime, open_runtime
from bot.web.pages import CSP, Site, linkify, marked, paragraphs, safe_href
from bot.web.server import create_app
from bot.web.service import carries_chat, needs_web, web_service_wanted
from formatters.weblinks import issue_path, issue_url
from tests.web.conftest import ATTR_TITLE, web_settings

ISSUE = "/embedded-ai/2026-11-02"
HOSTILE_ISSUE = "/embedded-ai/2026-10-05"
PAGES = (
    "/",
    "/embedded-ai",
    ISSUE,
    HOSTILE_ISSUE,
    "/embedded-ai/section/papers",
    "/embedded-ai/topic/quantization",
    "/search?q=量化",
)


class Parsed(HTMLParser):
    """Tags, attributes and text of a page, as a browser's parser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def visible(self) -> str:
        return " ".join(self.text)


async def get(client: httpx.AsyncClient, path: str, **kw: object) -> tuple[httpx.Response, Parsed]:
    response = await client.get(path, **kw)  # type: ignore[arg-type]
    return response, Parsed(response.text)


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_is_safe_html_announcing_its_feeds(
    client: httpx.AsyncClient, path: str
) -> None:
    response, page = await get(client, path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CSP
    assert "script-src 'none'" in CSP and "default-src 'self'" in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert page.all("script") == []  # no script of ours, and none smuggled in by a file
    for _tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), attrs
        for name in ("href", "src", "action"):
            assert not (attrs.get(name) or "").lower().startswith(("javascript:", "data:"))
    feeds = {(a["type"], a["href"]) for a in page.all("link") if a.get("rel") == "alternate"}
    assert ("application/atom+xml", "/embedded-ai/feed.atom") in feeds or any(
        t == "application/atom+xml" and h and h.endswith("/feed.atom") for t, h in feeds
    )
    assert any(t == "application/rss+xml" for t, _ in feeds)


async def test_home_shows_the_latest_issue_and_every_issue_by_year(
    client: httpx.AsyncClient,
) -> None:
    _, page = await get(client, "/")
    text = page.visible
    assert "最新一期" in text and "2026-11-16" in text
    hrefs = [a["href"] for a in page.all("a")]
    for key in ("2026-10-05", "2026-11-02", "2026-11-16"):
        assert f"/embedded-ai/{key}" in hrefs
    assert [a["id"] for a in page.all("h3") if a.get("id")] == ["y2026"]
    assert "/embedded-ai/section/papers" in hrefs and "/embedded-ai/topic/quantization" in hrefs


async def test_issue_page_shows_sections_entries_summaries_and_links(
    client: httpx.AsyncClient,
) -> None:
    response, page = await get(client, ISSUE)
    assert response.headers["cache-control"] == "public, max-age=60"
    text = page.visible
    assert "业界新闻" in text and "论文" in text
    assert "骁龙新旗舰平台发布" in text
    assert "新平台采用3nm工艺" in text  # a summary, its 摘要： label gone
    hrefs = [a["href"] for a in page.all("a")]
    assert "https://example.com/news/snapdragon-flagship-2026" in hrefs
    assert "https://arxiv.org/abs/2610.04211" in hrefs
    assert any(a.get("rel") == "next" for a in page.all("a"))  # 2026-11-16 is newer
    assert {a["id"] for a in page.all("section") if a.get("id")} >= {"s-news", "s-papers"}


async def test_hostile_titles_come_out_as_text(client: httpx.AsyncClient) -> None:
    response, page = await get(client, HOSTILE_ISSUE)
    assert "<script>" not in response.text and "onerror" not in response.text
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in response.text
    assert "<script>alert('t')</script> 标题攻击" in page.visible  # shown, as text
    assert ATTR_TITLE.strip('"') in page.visible
    assert "javascript:" not in response.text  # the entry's javascript: link is dropped
    for path in ("/", "/search?q=芯片", "/embedded-ai/feed.atom", "/embedded-ai/topic/chips"):
        body = (await client.get(path)).text
        assert "<script>" not in body and '"onmouseover=' not in body


async def test_english_by_query_or_accept_language(client: httpx.AsyncClient) -> None:
    _, zh = await get(client, ISSUE)
    _, en = await get(client, ISSUE + "?lang=en")
    _, browser = await get(client, ISSUE, headers={"accept-language": "en-US,en;q=0.9,zh;q=0.5"})
    assert "论文" in zh.visible and "Papers" not in zh.visible
    assert "Papers" in en.visible and "Older issue" in en.visible and "上一期" not in en.visible
    assert "Papers" in browser.visible
    # An explicit language travels with the links; the browser's choice does not need to.
    assert any((a.get("href") or "").endswith("?lang=en") for a in en.all("a"))
    assert (await client.get(ISSUE)).headers["vary"] == "Accept-Language"
    assert 'lang="en"' in (await client.get(ISSUE + "?lang=en")).text


async def test_section_and_topic_pages_list_entries_newest_first(
    client: httpx.AsyncClient,
) -> None:
    _, papers = await get(client, "/embedded-ai/section/papers")
    assert "栏目：论文" in papers.visible
    froms = [a["href"] for a in papers.all("a") if "#s-papers" in (a.get("href") or "")]
    keys = [h.split("/")[2].split("#")[0] for h in froms]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == 3
    _, topic = await get(client, "/embedded-ai/topic/quantization?lang=en")
    assert "Topic: Quantization" in topic.visible
    assert "CalibFree-Q" in topic.visible
    for missing in (
        "/embedded-ai/section/nope",
        "/embedded-ai/topic/x",
        "/embedded-ai/chapter/papers",
    ):
        assert (await client.get(missing)).status_code == 404
    assert (await client.get("/embedded-ai/section/papers?page=0")).status_code == 404
    for hostile in ("9" * 5000, "²", "-1", "1e3"):  # a huge number or no number: no 500
        response = await client.get(f"/embedded-ai/section/papers?page={hostile}")
        assert response.status_code == 404, hostile


async def test_search_highlights_and_pages(client: httpx.AsyncClient) -> None:
    response, page = await get(client, "/search?q=量化")
    assert "<mark>量化</mark>" in response.text
    hits = [a for a in page.all("li") if a.get("class") == "hit"]
    assert 1 <= len(hits) <= 10
    assert any((a.get("href") or "").startswith("/embedded-ai/2026-") for a in page.all("a"))
    # the form keeps the query
    assert any(a.get("name") == "q" and a.get("value") == "量化" for a in page.all("input"))
    _, nothing = await get(client, "/search?q=zzzqqqxxx")
    assert "没有找到结果" in nothing.visible
    _, bad = await get(client, "/search?q=section:")
    assert bad.all("p") and any(a.get("class") == "error" for a in bad.all("p"))
    _, empty = await get(client, "/search")
    assert not [a for a in empty.all("li") if a.get("class") == "hit"]


async def test_search_pages_through_every_hit(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    path: str | None = "/search?q=NPU"
    while path is not None:
        _, page = await get(client, path)
        seen += [
            a["href"] or ""
            for a in page.all("a")
            if (a.get("href") or "").startswith("/embedded-ai/2026-")
        ]
        nxt = [a["href"] for a in page.all("a") if a.get("rel") == "next"]
        path = nxt[0] if nxt else None
        assert len(seen) < 200
    assert len(seen) > 10  # more than one page of hits, all reached
    assert all("#s-" in href for href in seen)


async def test_static_files_are_cached_and_unknown_paths_are_404(
    client: httpx.AsyncClient,
) -> None:
    _, home = await get(client, "/")
    sheet = next(a["href"] for a in home.all("link") if a.get("rel") == "stylesheet")
    assert sheet and sheet.startswith("/static/site.css?v=")
    css = await client.get(sheet)
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert css.headers["cache-control"] == "public, max-age=86400"
    again = await client.get(sheet, headers={"if-none-match": css.headers["etag"]})
    assert again.status_code == 304
    for path in ("/nope", "/embedded-ai/2026-13-01", "/embedded-ai/1999-01-01", "/static/x.css"):
        response = await client.get(path)
        assert response.status_code == 404, path
    # a known series gets a page that leads home; any other path the server's short answer
    assert '<a href="/">首页</a>' in (await client.get("/embedded-ai/1999-01-01")).text
    for path in ("/admin?token=x", "/wp-login.php", "/nope/2026-11-02", "/x/feed.atom"):
        response = await client.get(path)
        assert (response.status_code, response.text) == (404, "Not Found"), path
    assert (await client.get("/healthz")).json()["status"] == "ok"  # still the server's


def test_the_language_link_stays_on_this_site() -> None:
    from starlette.requests import Request

    from bot.web.pages import _switch

    scope = {
        "type": "http",
        "method": "GET",
        "path": "//evil.example/x",
        "raw_path": b"//evil.example/x",
        "query_string": b"q=1",
        "headers": [(b"host", b"t")],
        "scheme": "http",
        "server": ("t", 80),
    }
    assert _switch(Request(scope), "en") == "/evil.example/x?q=1&lang=en"


async def test_pages_off_serves_none(tmp_path: Path) -> None:
    async with open_runtime(web_settings(tmp_path, pages=False)) as runtime:
        from bot.web.pages import site_routes

        routes = site_routes(
            runtime.sessions, runtime.series, runtime.taxonomy, runtime.settings.web
        )
        app = create_app(extra_routes=routes)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            assert (await client.get("/")).status_code == 404
            assert (await client.get("/embedded-ai/feed.atom")).status_code == 404


async def test_the_web_service_mounts_the_pages_after_the_callbacks(runtime: Runtime) -> None:
    from bot.web.service import _public_routes

    paths = [getattr(r, "path", "") for r in _public_routes(runtime)]
    assert paths[:2] == ["/operator", "/operator/chart/{name}.png"]  # admin_token is set
    assert paths[-1] == "/{series}"  # the catch-all comes last


def test_public_url_makes_run_serve_the_pages() -> None:
    assert not needs_web(Settings())
    pages_only = Settings(web={"public_url": "https://brief.example.org/"})
    assert needs_web(pages_only) and web_service_wanted(pages_only)
    assert not carries_chat(pages_only)  # so `run` keeps the terminal beside the pages
    assert carries_chat(Settings(wecom={"robots": [{"key": "k"}]}))
    assert not needs_web(Settings(web={"public_url": "https://b.example.org", "pages": False}))
    assert Settings(web={"public_url": "https://b.example.org/"}).web.public_url == (
        "https://b.example.org"
    )
    for bad in ("javascript:alert(1)", "brief.example.org", "ftp://x.org"):
        with pytest.raises(ValueError):
            Settings(web={"public_url": bad})
    with pytest.raises(ValueError):
        Settings(web={"admin_token": "short"})


def test_issue_url_is_the_issue_page_path() -> None:
    from datetime import date

    key = date(2026, 11, 2)
    assert issue_url("https://b.example.org/", "embedded-ai", key) == (
        "https://b.example.org/embedded-ai/2026-11-02"
    )
    assert issue_url("", "embedded-ai", key) is None
    assert issue_path("a/b", key) == "/a%2Fb/2026-11-02"
    assert issue_path("embedded-ai", key) == ISSUE


def test_helpers_escape_and_filter() -> None:
    assert safe_href("javascript:alert(1)") is None
    assert safe_href(" JAVASCRIPT:x") is None
    assert safe_href("data:text/html,x") is None
    assert safe_href("//evil.example") is None
    assert safe_href("https://ok.example/a?b=1") == "https://ok.example/a?b=1"
    assert str(marked("<b>\x02量化\x03</b>")) == "&lt;b&gt;<mark>量化</mark>&lt;/b&gt;"
    assert str(linkify("代码：https://g.com/a?b=1&c=<x>。 javascript:alert(1)")) == (
        '代码：<a href="https://g.com/a?b=1&amp;c=" rel="noopener nofollow">'
        "https://g.com/a?b=1&amp;c=</a>&lt;x&gt;。 javascript:alert(1)"
    )
    assert str(linkify('x "https://a.org/p". <b>')) == (
        'x &#34;<a href="https://a.org/p" rel="noopener nofollow">https://a.org/p</a>'
        "&#34;. &lt;b&gt;"
    )
    assert paragraphs("**粗体** 一行  \n1. 续行\n\n第二段 [链接](https://x.org)\n  \n") == [
        "粗体 一行",
        "1. 续行",
        "第二段 链接",
    ]


def test_site_builds_nothing_at_import() -> None:
    import bot.web.pages as pages

    assert not [v for v in vars(pages).values() if isinstance(v, Site)]
