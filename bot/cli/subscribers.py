"""`briefbot subscribers add|list|remove|export|import`: manage who gets the briefing.

`register` uses only light imports; each handler imports what it runs (see bot/cli).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli.base import Subparsers, fail, print_json
from storage import vocabulary

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from storage.subscribers import Subscription

EXPORT_FORMAT = "briefbot-subscribers"
IMPORT_CHUNK = 500  # records per transaction


def register(commands: Subparsers) -> None:
    parser = commands.add_parser("subscribers", help="manage subscribers")
    actions = parser.add_subparsers(dest="subscribers_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add or update a chat, e.g. telegram:123456")
    add.add_argument("chat", type=_chat, metavar="PLATFORM:CHAT_ID")
    add.add_argument("--sections", nargs="+", default=[], metavar="SECTION")
    add.add_argument("--topics", nargs="+", default=[], metavar="TOPIC")
    add.add_argument("--kind", choices=vocabulary.CHAT_KINDS, help="default: guessed from the id")
    add.add_argument("--language", choices=vocabulary.LANGUAGES)
    add.add_argument("--format", choices=vocabulary.FORMATS)
    add.add_argument(
        "--series",
        metavar="SLUG",
        help="the series these subscriptions are for (several [[series]]; default: the first)",
    )
    add.set_defaults(handler=_add)

    listing = actions.add_parser("list", help="every subscriber, inactive ones included")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)

    remove = actions.add_parser("remove", help="forget a chat and its deliveries")
    remove.add_argument("chat", type=_chat, metavar="PLATFORM:CHAT_ID")
    remove.set_defaults(handler=_remove)

    export = actions.add_parser("export", help="write all subscribers as JSON")
    export.add_argument("--output", "-o", type=Path, help="file (default: standard output)")
    export.set_defaults(handler=_export)

    load = actions.add_parser("import", help="create or overwrite subscribers from an export")
    load.add_argument("file", metavar="FILE|-")
    load.set_defaults(handler=_import)


def _chat(text: str) -> tuple[str, str]:
    platform, sep, chat_id = text.partition(":")
    if not sep or not chat_id or platform not in vocabulary.PLATFORMS:
        raise argparse.ArgumentTypeError(
            f"expected PLATFORM:CHAT_ID with PLATFORM one of {', '.join(vocabulary.PLATFORMS)}"
        )
    return platform, chat_id


def guess_kind(platform: str, chat_id: str) -> str:
    """Telegram: @name is a channel, negative ids are groups; WeChat/WeCom ids are users."""
    if platform == "telegram":
        if chat_id.startswith("@"):
            return "channel"
        return "group" if chat_id.startswith("-") else "private"
    return "user" if platform in ("wechat", "wecom") else "private"


def _split(values: list[str]) -> list[str]:
    return [part for value in values for part in value.split(",") if part.strip()]


def subscriptions_from(args: argparse.Namespace, runtime: Runtime) -> list[Subscription]:
    """--sections / --topics as keys (names and aliases resolve); none given: everything.

    Names are those of `runtime`'s series: a series with free `##` headings has the
    sections its stored issues had when the runtime opened (bot/series_sections.py)."""
    from storage.subscribers import ALL, Subscription

    wanted = [("section", n) for n in _split(args.sections)]
    wanted += [("topic", n) for n in _split(args.topics)]
    if not wanted:
        return [ALL]
    found = []
    for kind, name in wanted:
        hit = runtime.taxonomy.resolve(name.strip())
        if hit is None or hit[0] != kind:
            raise ValueError(f"unknown {kind} {name!r}; {_valid(runtime, kind)}")
        found.append(Subscription(kind, hit[1]))
    return found


def _valid(runtime: Runtime, kind: str) -> str:
    items = runtime.taxonomy.sections if kind == "section" else runtime.taxonomy.topics
    keys = [item.key for item in items]
    return f"valid: {', '.join(keys)}" if keys else f"the series has no {kind}s yet"


async def _add(args: argparse.Namespace, runtime: Runtime) -> int:
    from storage import subscribers as subs

    platform, chat_id = args.chat
    series = runtime if args.series is None else runtime.for_series(args.series)
    if series is None:
        known = ", ".join(r.series.slug for r in runtime.each_series())
        return fail(f"--series: no series {args.series!r}; configured: {known}", 2)
    try:
        subscriptions = subscriptions_from(args, series)  # names in that series' taxonomy
    except ValueError as exc:
        return fail(str(exc), 2)
    key = subs.series_key(series.series.slug, runtime.primary_slug)
    async with runtime.sessions.begin() as session:
        subscriber, created = await subs.get_or_create(
            session, platform, chat_id, kind=args.kind or guess_kind(platform, chat_id)
        )
        await subs.update_settings(
            session,
            subscriber.id,
            kind=args.kind,
            language=args.language,
            language_chosen=True if args.language else None,  # the operator chose it
            format=args.format,
        )
        await subs.set_subscriptions(session, subscriber.id, subscriptions, series=key)
    shown = ", ".join(_subscription_text(s) for s in sorted(subscriptions))
    within = f" ({series.series.slug})" if args.series is not None else ""
    print(f"{'added' if created else 'updated'} {platform}:{chat_id}{within}: {shown}")
    return 0


def _subscription_text(subscription: Subscription) -> str:
    return (
        subscription.kind
        if subscription.kind == "all"
        else f"{subscription.kind}:{subscription.key}"
    )


async def _list(args: argparse.Namespace, runtime: Runtime) -> int:
    from storage import subscribers as subs

    records = [record async for record in subs.export_records(runtime.sessions)]
    if args.json:
        print_json(records)
        return 0
    if not records:
        print("no subscribers")
    for r in records:
        flags = [flag for flag in ("paused", "inactive") if _flag(r, flag)]
        wanted = _wanted(r["subscriptions"]) or "(nothing)"
        # other series than the first (several [[series]]): `; widgets: all`
        for series, items in r.get("series_subscriptions", {}).items():
            wanted += f"; {series}: {_wanted(items) or '(nothing)'}"
        print(
            f"{r['platform']}:{r['chat_id']}  {r['kind']} {r['language']} {r['format']}"
            f"{' [' + ','.join(flags) + ']' if flags else ''}  {wanted}"
        )
    return 0


def _wanted(items: list[dict[str, str]]) -> str:
    return ", ".join(s["kind"] if s["kind"] == "all" else f"{s['kind']}:{s['key']}" for s in items)


def _flag(record: dict[str, Any], flag: str) -> bool:
    return bool(record["paused"]) if flag == "paused" else not record["active"]


async def _remove(args: argparse.Namespace, runtime: Runtime) -> int:
    from storage import subscribers as subs

    platform, chat_id = args.chat
    async with runtime.sessions.begin() as session:
        removed = await subs.delete_subscriber(session, platform, chat_id)
    if not removed:
        return fail(f"no subscriber {platform}:{chat_id}")
    print(f"removed {platform}:{chat_id}")
    return 0


async def _export(args: argparse.Namespace, runtime: Runtime) -> int:
    if args.output is None:
        count = await write_export(runtime, sys.stdout)
    else:
        with args.output.open("w", encoding="utf-8") as stream:
            count = await write_export(runtime, stream)
        print(f"exported {count} subscriber(s) to {args.output}")
    return 0


async def write_export(runtime: Runtime, stream: TextIO) -> int:
    """Stream `{"format", "version", "subscribers": [...]}`, one record per line."""
    from storage import subscribers as subs

    stream.write(f'{{"format": "{EXPORT_FORMAT}", "version": 1, "subscribers": [')
    count = 0
    async for record in subs.export_records(runtime.sessions):
        stream.write(("," if count else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        count += 1
    stream.write("\n]}\n")
    return count


async def _import(args: argparse.Namespace, runtime: Runtime) -> int:
    from storage import subscribers as subs

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
        records = import_records_of(json.loads(text))
    except (OSError, ValueError) as exc:
        return fail(f"cannot import {args.file}: {exc}")
    total = 0
    try:
        for chunk in _chunks(records, IMPORT_CHUNK):
            async with runtime.sessions.begin() as session:
                total += await subs.import_records(session, chunk)
    except (KeyError, TypeError, ValueError) as exc:
        return fail(f"record {total + 1} and after not imported: {type(exc).__name__}: {exc}")
    print(f"imported {total} subscriber(s)")
    return 0


def import_records_of(data: Any) -> list[dict[str, Any]]:
    """Records of an export (or a bare list of them)."""
    if isinstance(data, dict):
        if data.get("format", EXPORT_FORMAT) != EXPORT_FORMAT:
            raise ValueError(f"not a subscriber export: format {data.get('format')!r}")
        data = data.get("subscribers")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValueError("expected a list of subscriber records")
    return data


def _chunks(records: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]
