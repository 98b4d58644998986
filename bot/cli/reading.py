"""Reading sub-commands: `render` (an issue as a subscriber gets it) and `search` (as /search).

`render` takes a date, `latest` or, in a numbered series, an issue number (`--series
SLUG` names the series), as `publish` does. Both reuse the bot's own code paths
(`bot.publish.rendering` and `storage.search` with `bot.commands.search`'s page size),
so what they print is what a chat would receive.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from bot.cli.base import Subparsers, fail, print_json
from bot.cli.publishing import issue_ref, ref_label
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from briefings.marks import MARK_END, MARK_START
from briefings.taxonomy import Kind, Taxonomy

if TYPE_CHECKING:  # handlers import what they run: `briefbot --help` stays instant
    from bot.runtime import Runtime
    from briefings.model import Issue
    from formatters import Message
    from storage.search import SearchHit, SearchPage
    from storage.subscribers import Subscriber, Subscription

PLATFORMS = ("telegram", "wechat", "wecom", "wecom-robot", "console")
_LIST_SEPARATORS = re.compile(r"[,，、;；]")
_MARKED = re.compile(f"{MARK_START}(.*?){MARK_END}", re.DOTALL)


def register(commands: Subparsers) -> None:
    render = commands.add_parser(
        "render", help="print an archived issue as a subscriber on a platform would receive it"
    )
    render.add_argument("key", type=issue_ref, metavar="KEY|NUMBER|latest")
    render.add_argument("--platform", choices=PLATFORMS, required=True)
    render.add_argument("--sections", default="", help="comma-separated section keys or names")
    render.add_argument("--topics", default="", help="comma-separated topic keys or names")
    render.add_argument("--digest", action="store_true", help="titles and links only")
    render.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE)
    render.add_argument("--json", action="store_true", help="messages as a JSON list")
    render.set_defaults(handler=_render)

    find = commands.add_parser("search", help="search the archive the way /search does")
    find.add_argument("words", nargs="+", metavar="WORDS")
    find.add_argument("--limit", type=_page_size, help="hits per page (default: as /search)")
    find.add_argument("--page", type=_page_number, default=1, help="1-based")
    find.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE)
    find.add_argument("--json", action="store_true", help="hits and page info as JSON")
    find.set_defaults(handler=_search)


def _page_size(text: str) -> int:
    from storage.search import MAX_PER_PAGE

    return _number(text, 1, MAX_PER_PAGE)


def _page_number(text: str) -> int:
    from bot.commands.bounds import MAX_PAGE

    return _number(text, 1, MAX_PAGE)


def _number(text: str, low: int, high: int) -> int:
    from bot.commands.bounds import NumberError, read_number

    try:
        return read_number(text, low, high)
    except NumberError as exc:  # its text is clipped: no 100 KB number echoed back
        raise argparse.ArgumentTypeError(str(exc)) from None


# --- render ---------------------------------------------------------------------------


async def _render(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.publish.rendering import RendererSet, profile_of, render_for
    from storage.subscribers import ALL

    try:
        subscriptions = [
            *_subscriptions(runtime.taxonomy, args.sections, "section"),
            *_subscriptions(runtime.taxonomy, args.topics, "topic"),
        ]
    except ValueError as exc:
        return fail(str(exc), 2)
    issue = await _load_issue(runtime, args.key)
    if issue is None:
        asked = "at all" if args.key is None else ref_label(args.key)
        return fail(f"no issue {asked} in the archive of {runtime.series.slug}")
    subscriber = _virtual_subscriber(args, subscriptions or [ALL])
    renderer = RendererSet(runtime.settings).get(profile_of(subscriber), subscriber.language)
    messages = render_for(renderer, issue, subscriber, runtime.taxonomy)
    if args.json:
        print_json([_message_dict(m) for m in messages])
    else:
        _print_messages(messages, renderer.limits.max_size, _label(issue))
    return 0


def _subscriptions(taxonomy: Taxonomy, text: str, kind: Kind) -> list[Subscription]:
    """Comma-separated keys, names or aliases of one kind; ValueError names the valid ones."""
    from storage.subscribers import Subscription

    names = [n.strip() for n in _LIST_SEPARATORS.split(text) if n.strip()]
    found: list[Subscription] = []
    for name in names:
        hit = taxonomy.resolve(name)
        if hit is None or hit[0] != kind:
            raise ValueError(f"unknown {kind} {name!r}; valid: {_valid(taxonomy, kind)}")
        found.append(Subscription(kind, hit[1]))
    return list(dict.fromkeys(found))


def _valid(taxonomy: Taxonomy, kind: Kind) -> str:
    items = taxonomy.sections if kind == "section" else taxonomy.topics
    return ", ".join(f"{item.key} ({item.zh})" for item in items)


async def _load_issue(runtime: Runtime, key: date | int | None) -> Issue | None:
    from storage.issues import get_issue, get_numbered_issue, latest_issue

    slug = runtime.series.slug
    async with runtime.sessions() as session:
        if key is None:
            return await latest_issue(session, slug)
        if isinstance(key, int):  # a numbered series' issue, dated or not
            return await get_numbered_issue(session, slug, key)
        return await get_issue(session, slug, key)


def _label(issue: Issue) -> str:
    from storage.issues import issue_label

    return issue_label(issue.key, issue.number)


def _virtual_subscriber(args: argparse.Namespace, subs: list[Subscription]) -> Subscriber:
    """A chat on the chosen profile; a WeCom group is what selects the robot variant."""
    from storage.subscribers import Subscriber

    robot = args.platform == "wecom-robot"
    return Subscriber(
        id=0,
        platform="wecom" if robot else args.platform,
        chat_id="cli",
        kind="group" if robot else "private",
        language=args.lang,
        format="digest" if args.digest else "full",
        paused=False,
        active=True,
        created_at=datetime.now(UTC),
        subscriptions=tuple(sorted(subs)),
    )


def _message_dict(message: Message) -> dict[str, Any]:
    return {
        "text": message.text,
        "format": message.format,
        "size": message.size,
        "unit": message.unit,
    }


def _print_messages(messages: list[Message], limit: int | None, label: str) -> None:
    if not messages:
        print(f"nothing of issue {label} matches this selection: a subscriber would get no message")
    for number, message in enumerate(messages, start=1):
        budget = f"/{limit}" if limit is not None else " (no limit)"
        size = f"{message.size}{budget} {message.unit}"
        print(f"───── message {number}/{len(messages)} · {size} ─────")
        print(message.text)


# --- search ---------------------------------------------------------------------------


async def _search(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.commands.search import PER_PAGE
    from bot.rendering import renderer_for
    from storage.search import QueryError, search

    query = " ".join(args.words).strip()
    if not query:
        example = "briefbot search 量化"
        return fail(t(args.lang, "search_usage", search="briefbot search", example=example))
    try:
        async with runtime.sessions() as session:
            page = await search(
                session,
                query,
                series_slug=runtime.series.slug,
                page=args.page,
                per_page=args.limit or PER_PAGE,
                taxonomy=runtime.taxonomy,
            )
    except QueryError as exc:
        reason = t(args.lang, f"query_{exc.code}", **exc.params)
        return fail(t(args.lang, "search_bad", reason=reason))
    if args.json:
        print_json(_page_dict(page))
    elif not page.hits:
        print(t(args.lang, "search_none" if page.page == 1 else "search_end", query=query))
    else:
        renderer = renderer_for("console", None, args.lang, runtime.settings)
        for message in renderer.search_results(page):
            print(message.text)
    return 0


def _page_dict(page: SearchPage) -> dict[str, Any]:
    from bot.commands.search import has_next

    return {
        "query": page.query,
        "page": page.page,
        "page_size": page.page_size,
        "total": page.total,
        "has_more": page.has_more,
        "next_page": page.page + 1 if has_next(page) else None,
        "hits": [_hit_dict(hit) for hit in page.hits],
    }


def _hit_dict(hit: SearchHit) -> dict[str, Any]:
    """The hit with a plain snippet; the words it matched are listed in `highlights`."""
    from bot.json_output import to_jsonable

    data: dict[str, Any] = to_jsonable(hit)
    data["snippet"] = hit.snippet.replace(MARK_START, "").replace(MARK_END, "")
    data["highlights"] = _MARKED.findall(hit.snippet)
    return data
