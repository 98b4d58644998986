"""The public web archive: server-rendered pages and feeds of the briefing archive.

    site = Site(runtime.sessions, runtime.series, runtime.taxonomy, settings.web,
                taxonomies=series_taxonomies(runtime))
    app = create_app(extra_routes=site.routes())

Addresses (stable; formatters.weblinks builds the issue one for pushes):

    /                                   home of the default series
    /<series>                           home of a series: latest issue, issues by year
    /<series>/<YYYY-MM-DD>              one issue
    /<series>/section/<key>             entries of a section, newest first (?page=)
    /<series>/topic/<key>               entries of a topic, newest first (?page=)
    /search?q=...&series=...&page=      the same search as the chat's /search
    /<series>/feed.atom|.rss            the newest issues
    /<series>/section/<key>/feed.atom|.rss, /<series>/topic/<key>/feed.atom|.rss
    /static/...                         the style sheet (cached a day)

Each series' pages and feeds use that series' taxonomy (`taxonomies`, from
`Runtime.each_series()`): its section and topic pages, names and filters are its own, and
a section or topic it does not have is a 404 under its address, even when another series
has one by that key.

Every text comes from briefing files, so nothing is trusted: Jinja autoescapes every
template, links keep http(s) targets only, and responses carry a Content-Security-Policy
that allows no script at all (the pages need none). The language is `?lang=zh|en` or
the browser's Accept-Language (bot/web/labels.py).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from email.utils import format_datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.commands.bounds import number_or_none
from bot.config import WebSettings
from bot.web import feeds
from bot.web.labels import LABELS, choose_language, lang_tag
from briefings.marks import MARK_END, MARK_START
from briefings.model import Entry, Issue, Link, Series
from briefings.taxonomy import Taxonomy
from formatters.plain import plain_inline
from formatters.weblinks import issue_label, issue_path, web_ref
from storage.issues import get_issue, get_numbered_issue, latest_issue
from storage.search.api import search
from storage.search.text import QueryError
from storage.web_queries import (
    EntryLine,
    issue_lines,
    neighbours,
    numbered_neighbours,
    section_entries,
    series_title,
    topic_entries,
)

if TYPE_CHECKING:
    from bot.runtime import Runtime

HERE = Path(__file__).parent
PER_PAGE = 20  # entries on a section or topic page
SEARCH_PER_PAGE = 10
MAX_PAGE = 500  # deeper pages of a listing are refused, not scanned
MAX_NUMBER_DIGITS = 6  # an issue number in a path (`/widgets/51`), as the layouts read them
STATIC_MAX_AGE = 86400
PAGE_MAX_AGE = 60  # pages change only when an issue is saved; a minute of staleness is fine

# No script anywhere; images only from here (the operator charts); forms post only here.
CSP = (
    "default-src 'self'; script-src 'none'; object-src 'none'; style-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def safe_href(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) link; anything else (javascript:, data:) is None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def marked(snippet: str) -> Markup:
    """A search snippet with its match marks as <mark>, everything else escaped."""
    text = str(escape(snippet))
    return Markup(text.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


_BARE_URL = re.compile(r"https?://[^\s<>\"'）)，。；]+")


def linkify(text: str) -> Markup:
    """`text` escaped, with its bare http(s) addresses (代码：https://…) as links."""
    out, last = [], 0
    for match in _BARE_URL.finditer(text):
        url = match.group().rstrip(".,;:!?")
        out += [str(escape(text[last : match.start()]))]
        out += [f'<a href="{escape(url)}" rel="noopener nofollow">{escape(url)}</a>']
        last = match.start() + len(url)
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def paragraphs(markdown: str) -> list[str]:
    """A markdown summary as plain paragraphs, one per line (links are listed beside it).

    Authors end lines with two spaces (a hard break): each line is a thought of its own,
    and joining them would run a list of points into one block.
    """
    lines = (line.strip() for line in markdown.replace("\r\n", "\n").split("\n"))
    return [text for line in lines if line and (text := plain_inline(line))]


class CachedStatic(StaticFiles):
    """StaticFiles with a Cache-Control header; the style sheet's URL carries its hash."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@dataclass(frozen=True, slots=True)
class Lang:
    code: str
    explicit: bool  # from ?lang=, so links keep it

    def url(self, path: str, **params: Any) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        if self.explicit:
            query["lang"] = self.code
        return path + ("?" + urlencode(query) if query else "")


CONTENT_PAGES = frozenset({"issue.html", "listing.html"})  # a series' own text


def content_languages(runtime: Runtime) -> dict[str, str]:
    """Each series' slug -> the language its issues are written in: the first of its
    `languages` (the series table lists its own language first)."""
    return {
        view.series.slug: view.settings.primary_series.languages[0]
        for view in runtime.each_series()
    }


class SeriesTaxonomies(Mapping[str, Taxonomy]):
    """Each series' slug -> its taxonomy (its own sections and topics), as last read:
    built again only when a free-heading series' sections changed (an ingest found a new
    heading: `SeenSections.version`), not per request."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._version: int | None = None
        self._built: dict[str, Taxonomy] = {}

    def _current(self) -> dict[str, Taxonomy]:
        seen = self._runtime.sections_seen
        version = 0 if seen is None else seen.version
        if version != self._version:
            views = self._runtime.each_series()
            self._built = {view.series.slug: view.taxonomy for view in views}
            self._version = version
        return self._built

    def __getitem__(self, slug: str) -> Taxonomy:
        return self._current()[slug]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())


def series_taxonomies(runtime: Runtime) -> SeriesTaxonomies:
    return SeriesTaxonomies(runtime)


class Site:
    """The pages and feeds on one archive; build it inside the web service's lifetime."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        series: Series,
        taxonomy: Taxonomy,
        web: WebSettings,
        languages: Mapping[str, str] | None = None,
        taxonomies: Mapping[str, Taxonomy] | None = None,
    ) -> None:
        """`languages`: each series' slug -> the language its issues are written in
        (`content_languages`); a series without one is declared in the reader's.
        `taxonomies`: each series' slug -> its taxonomy (`series_taxonomies`); a series
        without one (an archived series no longer configured) has `taxonomy`, the default
        series' one."""
        self.sessions = sessions
        self.series = series
        self.taxonomy = taxonomy
        self.web = web
        self.languages = dict(languages or {})
        self.taxonomies: Mapping[str, Taxonomy] = taxonomies if taxonomies is not None else {}
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html", "xml"], default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["marked"] = marked
        self.env.filters["linkify"] = linkify
        self.env.filters["rfc3339"] = lambda when: when.astimezone(UTC).isoformat()
        self.env.filters["rfc822"] = lambda when: format_datetime(when.astimezone(UTC), usegmt=True)
        self.templates = Jinja2Templates(env=self.env)
        self.feed_cache = feeds.FeedCache()
        css = (HERE / "static" / "site.css").read_bytes()
        self.css_url = "/static/site.css?v=" + hashlib.sha256(css).hexdigest()[:10]

    # --- routing ------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """Fixed paths first: `/{series}` would otherwise take `/search`."""
        page = self._page
        return [
            Mount("/static", CachedStatic(directory=HERE / "static"), name="static"),
            Route("/", page(self.home_default), methods=["GET", "HEAD"]),
            Route("/search", page(self.search), methods=["GET", "HEAD"]),
            Route("/{series}/feed.{fmt}", page(self.series_feed), methods=["GET", "HEAD"]),
            Route(
                "/{series}/{kind}/{key}/feed.{fmt}",
                page(self.listing_feed),
                methods=["GET", "HEAD"],
            ),
            Route("/{series}/{kind}/{key}", page(self.listing), methods=["GET", "HEAD"]),
            Route("/{series}/{key}", page(self.issue), methods=["GET", "HEAD"]),
            Route("/{series}", page(self.home), methods=["GET", "HEAD"]),
        ]

    def _page(
        self, handler: Callable[[Request, Lang], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            code, explicit = choose_language(
                request.query_params.get("lang"), request.headers.get("accept-language")
            )
            slug = request.path_params.get("series")
            if slug is not None and not await self._series_exists(slug):
                response: Response = PlainTextResponse("Not Found", status_code=404)
            else:
                response = await handler(request, Lang(code, explicit))
            response.headers.update(SECURITY_HEADERS)
            if not explicit:
                response.headers["Vary"] = "Accept-Language"
            return response

        return endpoint

    def render(
        self, request: Request, lang: Lang, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        t = LABELS[lang.code]
        # An issue's or a listing's entries are in the series' language, whatever the
        # interface's: the page declares it, the header and footer the interface's.
        slug = context.get("series", self.series).slug
        content = self.languages.get(slug) if name in CONTENT_PAGES else None
        base = {
            "lang": lang.code,
            "page_lang": lang_tag(content or lang.code),
            "ui_lang": lang_tag(lang.code),
            "u": lang.url,
            "t": t,
            "css_url": self.css_url,
            "other_lang": "en" if lang.code == "zh" else "zh",
            "lang_explicit": lang.explicit,
            "lang_switch": _switch(request, "en" if lang.code == "zh" else "zh"),
            "series": self.series,
            "feeds": [],
        }
        response = self.templates.TemplateResponse(
            request, name, {**base, **context}, status_code=status
        )
        if status == 200:
            response.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
        return response

    async def _series_exists(self, slug: str) -> bool:
        """Whether `/<slug>/...` is the site's: any other first segment (`/admin`, `/wp-login`)
        gets the server's short 404, as before the pages existed, not a page of ours."""
        if slug == self.series.slug:
            return True
        async with self.sessions() as session:
            return await series_title(session, slug) is not None

    def not_found(self, request: Request, lang: Lang) -> Response:
        return self.render(request, lang, "not_found.html", {"title": ""}, status=404)

    async def _series(self, session: AsyncSession, slug: str) -> Series | None:
        if slug == self.series.slug:
            title = await series_title(session, slug)
            return Series(slug, title or self.series.title)
        title = await series_title(session, slug)
        return None if title is None else Series(slug, title)

    def _feeds(self, lang: Lang, path: str, title: str) -> list[dict[str, str]]:
        t = LABELS[lang.code]
        return [
            {
                "href": lang.url(f"{path}/feed.atom"),
                "type": "application/atom+xml",
                "title": f"{title} · {t['feed_atom']}",
            },
            {
                "href": lang.url(f"{path}/feed.rss"),
                "type": "application/rss+xml",
                "title": f"{title} · {t['feed_rss']}",
            },
        ]

    # --- views of the model ---------------------------------------------------------------

    def taxonomy_of(self, slug: str) -> Taxonomy:
        return self.taxonomies.get(slug, self.taxonomy)

    def _name(self, slug: str, key: str, lang: Lang) -> str:
        return self.taxonomy_of(slug).display_name(key, lang.code)

    def _known(self, slug: str, kind: str, key: str) -> bool:
        taxonomy = self.taxonomy_of(slug)
        items = taxonomy.sections if kind == "section" else taxonomy.topics
        return any(item.key == key for item in items)

    def entry_view(
        self,
        series: str,
        lang: Lang,
        title: str,
        source: str | None,
        url: str | None,
        summary: str,
        links: Sequence[Link],
        topics: Sequence[str] = (),
    ) -> dict[str, Any]:
        return {
            "title": plain_inline(title),
            "source": plain_inline(source) if source else None,
            "href": safe_href(url),
            "summary": paragraphs(summary),
            "links": [
                {"label": plain_inline(link.label) or link.url, "href": href}
                for link in links
                if (href := safe_href(link.url))
            ],
            "topics": [
                {"name": self._name(series, t, lang), "href": lang.url(f"/{series}/topic/{t}")}
                for t in topics
            ],
        }

    def issue_view(self, issue: Issue, lang: Lang) -> dict[str, Any]:
        slug = issue.series.slug
        shown = self.taxonomy_of(slug).localized(issue, lang.code)

        def entry(e: Entry) -> dict[str, Any]:
            return self.entry_view(
                slug, lang, e.title, e.source, e.url, e.summary, e.links, e.topics
            )

        return {
            "key": issue.key,
            "label": issue_label(issue.key, issue.number),
            "title": plain_inline(issue.title),
            "subtitle": plain_inline(issue.subtitle),
            "tagline": plain_inline(issue.tagline),
            "intro": paragraphs(issue.intro),
            "quick_news": [plain_inline(n) for n in issue.quick_news],
            "href": lang.url(issue_path(slug, web_ref(issue.key, issue.number))),
            "sections": [
                {
                    "key": s.key,
                    "heading": plain_inline(s.heading),
                    "href": lang.url(f"/{slug}/section/{s.key}")
                    if self._known(slug, "section", s.key)
                    else None,
                    "entries": [entry(e) for e in s.entries],
                }
                for s in shown.sections
            ],
        }

    def line_view(self, series: str, lang: Lang, line: EntryLine) -> dict[str, Any]:
        view = self.entry_view(
            series, lang, line.title, line.source, line.url, line.summary, line.links
        )
        anchor = f"#s-{line.section_key}"
        ref = web_ref(line.issue_key, line.issue_number)
        view["issue"] = {
            "key": line.issue_key,
            "label": issue_label(line.issue_key, line.issue_number),
            "title": plain_inline(line.issue_title),
            "href": lang.url(issue_path(series, ref)) + anchor,
            "section": self._name(series, line.section_key, lang)
            if self._known(series, "section", line.section_key)
            else plain_inline(line.section_heading),
        }
        return view

    def _nav(self, series: str, lang: Lang) -> dict[str, Any]:
        taxonomy = self.taxonomy_of(series)
        return {
            "sections": [
                {
                    "name": s.zh if lang.code == "zh" else s.en,
                    "href": lang.url(f"/{series}/section/{s.key}"),
                }
                for s in taxonomy.sections
            ],
            "topics": [
                {
                    "name": t.zh if lang.code == "zh" else t.en,
                    "href": lang.url(f"/{series}/topic/{t.key}"),
                }
                for t in taxonomy.topics
            ],
        }

    # --- pages ----------------------------------------------------------------------------

    async def home_default(self, request: Request, lang: Lang) -> Response:
        return await self._home(request, lang, self.series.slug)

    async def home(self, request: Request, lang: Lang) -> Response:
        return await self._home(request, lang, request.path_params["series"])

    async def _home(self, request: Request, lang: Lang, slug: str) -> Response:
        async with self.sessions() as session:
            series = await self._series(session, slug)
            if series is None:
                return self.not_found(request, lang)
            latest = await latest_issue(session, slug)
            lines = await issue_lines(session, slug)
        years = [
            {
                "year": year,
                "issues": [
                    {
                        "key": line.key,
                        "label": issue_label(line.key, line.number),
                        "title": plain_inline(line.title),
                        "entries": line.entries,
                        "href": lang.url(issue_path(slug, web_ref(line.key, line.number))),
                    }
                    for line in group
                ],
            }
            # undated issues (a numbered series) are one list without a year
            for year, group in groupby(lines, key=lambda line: line.key.year if line.key else None)
        ]
        return self.render(
            request,
            lang,
            "home.html",
            {
                "title": series.title,
                "series": series,
                "latest": self.issue_view(latest, lang) if latest else None,
                "years": years,
                "nav": self._nav(slug, lang),
                "feeds": self._feeds(lang, f"/{slug}", series.title),
            },
        )

    async def issue(self, request: Request, lang: Lang) -> Response:
        slug, ref = request.path_params["series"], request.path_params["key"]
        if ref.isascii() and ref.isdigit() and len(ref) <= MAX_NUMBER_DIGITS:
            return await self._numbered_issue(request, lang, slug, int(ref))
        try:
            key = date.fromisoformat(ref)
        except ValueError:
            return self.not_found(request, lang)
        async with self.sessions() as session:
            series = await self._series(session, slug)
            issue = await get_issue(session, slug, key) if series else None
            if series is None or issue is None:
                return self.not_found(request, lang)
            older, newer = await neighbours(session, slug, key)
        return self._issue_page(
            request,
            lang,
            series,
            issue,
            lang.url(issue_path(slug, older)) if older else None,
            lang.url(issue_path(slug, newer)) if newer else None,
        )

    async def _numbered_issue(
        self, request: Request, lang: Lang, slug: str, number: int
    ) -> Response:
        """`/<series>/<number>`: an undated issue of a numbered series."""
        async with self.sessions() as session:
            series = await self._series(session, slug)
            issue = await get_numbered_issue(session, slug, number) if series else None
            if series is None or issue is None or issue.key is not None:
                return self.not_found(request, lang)  # a dated issue's page is by date
            older, newer = await numbered_neighbours(session, slug, number)

        def link(found: tuple[date | None, int] | None) -> str | None:
            return None if found is None else lang.url(issue_path(slug, web_ref(*found)))

        return self._issue_page(request, lang, series, issue, link(older), link(newer))

    def _issue_page(
        self,
        request: Request,
        lang: Lang,
        series: Series,
        issue: Issue,
        older: str | None,
        newer: str | None,
    ) -> Response:
        """An issue's page, dated or numbered, with links to its neighbours."""
        view = self.issue_view(issue, lang)
        return self.render(
            request,
            lang,
            "issue.html",
            {
                "title": f"{view['title']} · {series.title}",
                "series": series,
                "issue": view,
                "older": older,
                "newer": newer,
                "feeds": self._feeds(lang, f"/{series.slug}", series.title),
            },
        )

    async def listing(self, request: Request, lang: Lang) -> Response:
        slug, kind, key = (request.path_params[k] for k in ("series", "kind", "key"))
        page = _page_number(request)
        known = kind in ("section", "topic") and self._known(slug, kind, key)
        if not known or page is None:
            return self.not_found(request, lang)
        query = section_entries if kind == "section" else topic_entries
        async with self.sessions() as session:
            series = await self._series(session, slug)
            if series is None:
                return self.not_found(request, lang)
            lines = await query(
                session, slug, key, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE
            )
        more = len(lines) > PER_PAGE
        name = self._name(slug, key, lang)
        path = f"/{slug}/{kind}/{key}"
        heading = LABELS[lang.code][f"{kind}_page"].format(name=name)
        return self.render(
            request,
            lang,
            "listing.html",
            {
                "title": f"{heading} · {series.title}",
                "heading": heading,
                "series": series,
                "entries": [self.line_view(slug, lang, line) for line in lines[:PER_PAGE]],
                "page": page,
                "previous": lang.url(path, page=page - 1 if page > 2 else None)
                if page > 1
                else None,
                "next": lang.url(path, page=page + 1) if more else None,
                "nav": self._nav(slug, lang),
                "feeds": self._feeds(lang, path, f"{name} · {series.title}"),
            },
        )

    async def search(self, request: Request, lang: Lang) -> Response:
        slug = request.query_params.get("series") or self.series.slug
        text = request.query_params.get("q", "").strip()[:200]
        page = _page_number(request)
        async with self.sessions() as session:
            series = await self._series(session, slug)
            if series is None or page is None:
                return self.not_found(request, lang)
            result, error = None, None
            if text:
                try:
                    result = await search(
                        session,
                        text,
                        series_slug=slug,
                        page=page,
                        per_page=SEARCH_PER_PAGE,
                        taxonomy=self.taxonomy_of(slug),
                    )
                except QueryError as exc:
                    error = str(exc)
        hits = []
        pages: dict[str, Any] = {}
        if result is not None:
            series_param = None if slug == self.series.slug else slug
            for hit in result.hits:
                anchor = f"#s-{hit.section_key}"
                hits.append(
                    {
                        "title": plain_inline(hit.title),
                        "snippet": hit.snippet,
                        "href": lang.url(issue_path(slug, web_ref(hit.issue_key, hit.issue_number)))
                        + anchor,
                        "label": issue_label(hit.issue_key, hit.issue_number),
                        "source_href": safe_href(hit.url),
                        "issue_key": hit.issue_key,
                        "section": self._name(slug, hit.section_key, lang)
                        if self._known(slug, "section", hit.section_key)
                        else plain_inline(hit.section_heading),
                    }
                )
            last = math.ceil(result.total / SEARCH_PER_PAGE) if result.total is not None else None
            pages = {
                "total": result.total,
                "page": page,
                "last": last,
                "previous": lang.url("/search", q=text, series=series_param, page=page - 1)
                if page > 1
                else None,
                "next": lang.url("/search", q=text, series=series_param, page=page + 1)
                if result.has_more
                else None,
            }
        t = LABELS[lang.code]
        return self.render(
            request,
            lang,
            "search.html",
            {
                "title": f"{t['search']}{': ' + text if text else ''} · {series.title}",
                "series": series,
                "query": text,
                "series_param": None if slug == self.series.slug else slug,
                "hits": hits,
                "pages": pages,
                "error": error,
                "searched": result is not None,
                "feeds": self._feeds(lang, f"/{slug}", series.title),
            },
        )

    # --- feeds ----------------------------------------------------------------------------

    async def series_feed(self, request: Request, lang: Lang) -> Response:
        return await feeds.series_feed(self, request, lang)

    async def listing_feed(self, request: Request, lang: Lang) -> Response:
        return await feeds.listing_feed(self, request, lang)

    def base_url(self, request: Request) -> str:
        """The absolute address feeds link to: `public_url`, else where the request came."""
        return self.web.public_url or str(request.base_url).rstrip("/")


def _switch(request: Request, other: str) -> str:
    url = request.url.include_query_params(lang=other)
    # A 404 page echoes any path: `//evil.example` would be a link to another site.
    return "/" + url.path.lstrip("/") + "?" + url.query


def _page_number(request: Request) -> int | None:
    # read_number caps the digits before int(): `?page=` with thousands of digits (or a
    # Unicode digit such as "²", which isdigit() accepts) made int() raise: a 500.
    return number_or_none(request.query_params.get("page", "1"), 1, MAX_PAGE)


def site_routes(
    sessions: async_sessionmaker[AsyncSession],
    series: Series,
    taxonomy: Taxonomy,
    web: WebSettings,
    languages: Mapping[str, str] | None = None,
    taxonomies: Mapping[str, Taxonomy] | None = None,
) -> list[BaseRoute]:
    """The public routes when `[web] pages` is on, else none; `taxonomies`: each series'
    own (`series_taxonomies`)."""
    if not web.pages:
        return []
    return Site(sessions, series, taxonomy, web, languages, taxonomies).routes()
