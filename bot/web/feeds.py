"""Atom 1.0 and RSS 2.0 feeds of a series, a section and a topic, with conditional GET.

Ids never depend on the host a reader used: an issue is
`urn:uuid:<uuid5("briefbot:<series>/<key>")>`, an entry of a section or topic feed adds
`#<section>/<position>`, a feed its own path. Links are absolute on `[web] public_url`
(else on the address of the request). Content is the issue (or entry) rendered by the
same escaping templates as the pages, then escaped once more as XML text.

The validators come from the archive, not from the rendered bytes, so a repeated request
is answered 304 before any issue is loaded: the ETag hashes the series' issue and pushed
counts, newest save and newest push with the feed's address and language; Last-Modified
is the later of the two times.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, time
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from bot.web.labels import lang_tag
from briefings.model import Series
from formatters.plain import plain_inline
from formatters.weblinks import issue_label, issue_path, web_ref
from storage.issues import IssueSummary, list_issues, load_issue
from storage.publication import ARCHIVED_PREFIX
from storage.web_queries import ArchiveVersion, archive_version, section_entries, topic_entries

if TYPE_CHECKING:
    from bot.web.pages import Lang, Site

SERIES_ITEMS = 20  # issues in a series feed
LISTING_ITEMS = 50  # entries in a section or topic feed
FORMATS = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
CACHED_FEEDS = 64  # rendered bodies kept per Site: readers poll the same few feeds


class FeedCache:
    """Rendered feeds by (address, host, ETag): a feed is rebuilt only when the archive
    changed, even for readers that never send a conditional request (a series feed loads
    20 issues: ~130 ms on the corpus, against a few ms from here)."""

    def __init__(self, size: int = CACHED_FEEDS) -> None:
        self.size = size
        self.bodies: dict[tuple[str, str, str], str] = {}

    def get(self, key: tuple[str, str, str]) -> str | None:
        return self.bodies.get(key)

    def put(self, key: tuple[str, str, str], body: str) -> None:
        if len(self.bodies) >= self.size:
            self.bodies.pop(next(iter(self.bodies)))  # the oldest insertion
        self.bodies[key] = body


def stable_id(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'briefbot:' + name)}"


def day_start(key: Any) -> datetime:
    return datetime.combine(key, time(0), tzinfo=UTC)


def publication_time(summary: IssueSummary) -> datetime:
    """When the issue went out; the issue date for one archived unpushed (a backfill's
    archive time says nothing to a reader) or not pushed yet."""
    pushed = summary.published_hash is not None and not summary.published_hash.startswith(
        ARCHIVED_PREFIX
    )
    if pushed and summary.published_at is not None:
        return summary.published_at
    if summary.key is None:  # an undated issue of a numbered series: when it appeared
        return summary.first_seen_at
    return day_start(summary.key)


def validators(version: ArchiveVersion, path: str, lang: str) -> tuple[str, datetime | None]:
    stamps = [t.isoformat() if t else "-" for t in (version.updated_at, version.published_at)]
    state = f"{path}|{lang}|{version.issues}|{version.published}|{'|'.join(stamps)}"
    return f'"{hashlib.sha256(state.encode()).hexdigest()[:32]}"', version.changed_at


def not_modified(request: Request, etag: str, modified: datetime | None) -> bool:
    """RFC 9110: If-None-Match decides when present; else If-Modified-Since."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since is None or modified is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return modified.replace(microsecond=0) <= when


def _headers(etag: str, modified: datetime | None) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if modified is not None:
        headers["Last-Modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
    return headers


def _format(request: Request) -> str | None:
    fmt = request.path_params.get("fmt")
    return fmt if fmt in FORMATS else None


def _cache_key(site: Site, request: Request, etag: str) -> tuple[str, str, str]:
    return (str(request.url.path) + "?" + str(request.url.query), site.base_url(request), etag)


def _cached(site: Site, request: Request, fmt: str, headers: dict[str, str]) -> Response | None:
    body = site.feed_cache.get(_cache_key(site, request, headers["ETag"]))
    if body is None:
        return None
    return Response(body, media_type=f"{FORMATS[fmt]}; charset=utf-8", headers=headers)


async def _revalidate(
    site: Site, request: Request, session: Any, slug: str, lang: Lang, fmt: str
) -> tuple[Response | None, dict[str, str], datetime | None]:
    """A feed's validators from the archive's version: a 304 or the cached body when
    they allow (else None), the headers to answer with, and the Last-Modified time."""
    etag, modified = validators(await archive_version(session, slug), request.url.path, lang.code)
    headers = _headers(etag, modified)
    if not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers), headers, modified
    return _cached(site, request, fmt, headers), headers, modified


def _respond(
    site: Site, request: Request, fmt: str, feed: dict[str, Any], headers: dict[str, str]
) -> Response:
    template = site.env.get_template(f"{fmt}.xml")
    body = template.render(feed=feed)
    site.feed_cache.put(_cache_key(site, request, headers["ETag"]), body)
    return Response(body, media_type=f"{FORMATS[fmt]}; charset=utf-8", headers=headers)


async def series_feed(site: Site, request: Request, lang: Lang) -> Response:
    slug, fmt = request.path_params["series"], _format(request)
    if fmt is None:
        return site.not_found(request, lang)
    async with site.sessions() as session:
        series = await site._series(session, slug)
        if series is None:
            return site.not_found(request, lang)
        ready, headers, modified = await _revalidate(site, request, session, slug, lang, fmt)
        if ready is not None:
            return ready
        summaries = await list_issues(session, slug, limit=SERIES_ITEMS)
        issues = [(s, await load_issue(session, s.id)) for s in summaries]
    base = site.base_url(request)
    content = site.env.get_template("_issue_content.html")
    items = []
    for summary, issue in issues:
        if issue is None:
            continue
        view = site.issue_view(issue, lang)
        published = publication_time(summary)
        items.append(
            {
                "id": stable_id(f"{slug}/{issue_label(issue.key, issue.number)}"),
                "title": view["title"],
                "link": base + issue_path(slug, web_ref(issue.key, issue.number)),
                "updated": max(summary.content_changed_at, published),
                "published": published,
                "summary": view["tagline"] or view["subtitle"],
                "content": content.render(issue=view, t=_labels(lang)),
            }
        )
    feed = _feed(site, request, lang, series, series.title, f"/{slug}", items, modified, base)
    return _respond(site, request, fmt, feed, headers)


async def listing_feed(site: Site, request: Request, lang: Lang) -> Response:
    slug, kind, key = (request.path_params[k] for k in ("series", "kind", "key"))
    fmt = _format(request)
    known = kind in ("section", "topic") and site._known(slug, kind, key)
    if fmt is None or not known:
        return site.not_found(request, lang)
    query = section_entries if kind == "section" else topic_entries
    async with site.sessions() as session:
        series = await site._series(session, slug)
        if series is None:
            return site.not_found(request, lang)
        ready, headers, modified = await _revalidate(site, request, session, slug, lang, fmt)
        if ready is not None:
            return ready
        lines = await query(session, slug, key, limit=LISTING_ITEMS)
    base = site.base_url(request)
    content = site.env.get_template("_entry_content.html")
    items = []
    for line in lines:
        view = site.line_view(slug, lang, line)
        issue_link = base + issue_path(slug, web_ref(line.issue_key, line.issue_number))
        label = issue_label(line.issue_key, line.issue_number)
        link = view["href"] or issue_link + f"#s-{line.section_key}"
        items.append(
            {
                "id": stable_id(f"{slug}/{label}#{line.section_key}/{line.position}"),
                "title": view["title"],
                "link": link,
                "updated": line.issue_updated_at,
                # an undated issue of a numbered series: its last change
                "published": day_start(line.issue_key) if line.issue_key else line.issue_updated_at,
                "summary": " ".join(view["summary"])[:300],
                "content": content.render(entry=view, issue_link=issue_link, t=_labels(lang)),
            }
        )
    name = site._name(slug, key, lang)
    path = f"/{slug}/{kind}/{key}"
    feed = _feed(
        site, request, lang, series, f"{name} · {series.title}", path, items, modified, base
    )
    return _respond(site, request, fmt, feed, headers)


def _labels(lang: Lang) -> Any:
    from bot.web.labels import LABELS

    return LABELS[lang.code]


def _feed(
    site: Site,
    request: Request,
    lang: Lang,
    series: Series,
    title: str,
    path: str,
    items: list[dict[str, Any]],
    modified: datetime | None,
    base: str,
) -> dict[str, Any]:
    updated = max(
        (i["updated"] for i in items), default=modified or datetime(2000, 1, 1, tzinfo=UTC)
    )
    suffix = "?lang=en" if lang.code == "en" else ""
    return {
        "id": stable_id(f"feed:{path}:{lang.code}"),
        "title": plain_inline(title),
        # the entries' language: the series' own, else the reader's (as the pages do)
        "lang": lang_tag(site.languages.get(series.slug, lang.code)),
        "home": base + path + suffix,
        "self": base + request.url.path + suffix,
        "updated": updated,
        "items": items,
        "author": plain_inline(series.title),
    }
