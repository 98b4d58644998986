"""Publishing sub-commands: `tick`, `publish`, `subscribers add|list|remove|export|import`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from bot.cli.base import Subparsers, fail, issue_key, parse_moment, print_json
from bot.delivery import drain
from bot.platforms.wechat_service import push_once
from bot.platforms.wechat_work_robots import sync_robots
from bot.publish.alerts import StreamNotifier
from bot.publish.clock import Clock, FixedClock, SystemClock
from bot.publish.cycle import CycleReport, build_cycle
from bot.publish.publisher import IssuePublisher
from bot.runtime import Runtime
from storage import subscribers as subs
from storage.issues import latest_issue
from storage.subscribers import ALL, Subscription

EXPORT_FORMAT = "briefbot-subscribers"
IMPORT_CHUNK = 500  # records per transaction


def register(commands: Subparsers) -> None:
    tick = commands.add_parser(
        "tick",
        help="run one scheduler cycle: poll the sources, publish what is due",
        description=(
            "Exit status 1 when a source or one of its files failed (the cycle still ran "
            "for the others); unfinished briefings and non-files are warnings."
        ),
    )
    tick.add_argument(
        "--now",
        metavar="ISO-8601",
        help="act as if it were this time (no offset: the publish timezone)",
    )
    tick.add_argument(
        "--deliver", action="store_true", help="send the resulting deliveries before exiting"
    )
    tick.set_defaults(handler=_tick)

    publish = commands.add_parser("publish", help="push an issue now (admins' manual publication)")
    publish.add_argument("key", type=issue_key, metavar="KEY|latest")
    publish.add_argument("--dry-run", action="store_true", help="show who would get what")
    publish.add_argument(
        "--deliver",
        action="store_true",
        help="also send the deliveries now (otherwise a running `briefbot run` sends them)",
    )
    publish.set_defaults(handler=_publish)

    _register_subscribers(commands)


def _register_subscribers(commands: Subparsers) -> None:
    parser = commands.add_parser("subscribers", help="manage subscribers")
    actions = parser.add_subparsers(dest="subscribers_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add or update a chat, e.g. telegram:123456")
    add.add_argument("chat", type=_chat, metavar="PLATFORM:CHAT_ID")
    add.add_argument("--sections", nargs="+", default=[], metavar="SECTION")
    add.add_argument("--topics", nargs="+", default=[], metavar="TOPIC")
    add.add_argument("--kind", choices=subs.CHAT_KINDS, help="default: guessed from the id")
    add.add_argument("--language", choices=subs.LANGUAGES)
    add.add_argument("--format", choices=subs.FORMATS)
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


# --- tick / publish -------------------------------------------------------------------


def parse_now(text: str | None, timezone: str) -> Clock:
    return SystemClock() if text is None else FixedClock(parse_moment(text, timezone))


async def _tick(args: argparse.Namespace, runtime: Runtime) -> int:
    try:
        clock = parse_now(args.now, runtime.settings.publish.timezone)
    except ValueError as exc:
        return fail(f"--now: {exc}", 2)
    if runtime.settings.wecom.robots:  # robot subscribers must exist before the publication
        await sync_robots(runtime.sessions, runtime.settings.wecom, runtime.taxonomy)
    cycle = build_cycle(runtime, clock, StreamNotifier(sys.stderr))
    report = await cycle.run_once()
    print_cycle(report)
    failed = [poll for poll in report.polls if not poll.ok or (poll.report and poll.report.failed)]
    code = 1 if failed else 0
    if args.deliver:
        code = max(code, await _deliver(runtime))
    return code


def print_cycle(report: CycleReport) -> None:
    """Counts on stdout; per source what failed and why, and the warnings, on stderr."""
    for poll in report.polls:
        print(poll.summary())
        if poll.report is not None:
            for warning in poll.report.warnings:
                print(f"warning: {poll.source}: {warning}", file=sys.stderr)
            for failure in poll.report.failures:
                print(f"error: {poll.source}: {failure}", file=sys.stderr)
        if not poll.ok:
            print(f"briefbot: source {poll.source} failed: {poll.error}", file=sys.stderr)
    print(report.check.summary())


async def _deliver(runtime: Runtime) -> int:
    """Send what the cycle queued (Telegram with a token, the console always, WeChat and
    WeCom when configured), then return."""
    report = await drain(runtime, notifier=StreamNotifier(sys.stderr))
    print(report)
    for summary in await push_once(runtime):
        print(summary)
    return 0


async def _publish(args: argparse.Namespace, runtime: Runtime) -> int:
    key = args.key
    if key is None:
        async with runtime.sessions() as session:
            latest = await latest_issue(session, runtime.series.slug)
        if latest is None:
            return fail("the archive is empty")
        key = latest.key
    publisher = IssuePublisher(runtime, SystemClock(), StreamNotifier(sys.stderr))
    reply = await publisher.request(key, dry_run=args.dry_run)
    if not reply.ok:
        return fail(reply.message)
    print(reply.message)
    if args.dry_run:
        return 0
    if args.deliver:
        return await _deliver(runtime)
    print("queued: a running `briefbot run` sends them (or pass --deliver)")
    return 0


# --- subscribers ----------------------------------------------------------------------


def _chat(text: str) -> tuple[str, str]:
    platform, sep, chat_id = text.partition(":")
    if not sep or not chat_id or platform not in subs.PLATFORMS:
        raise argparse.ArgumentTypeError(
            f"expected PLATFORM:CHAT_ID with PLATFORM one of {', '.join(subs.PLATFORMS)}"
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
    """--sections / --topics as keys (names and aliases resolve); none given: everything."""
    wanted = [("section", n) for n in _split(args.sections)]
    wanted += [("topic", n) for n in _split(args.topics)]
    if not wanted:
        return [ALL]
    found = []
    for kind, name in wanted:
        hit = runtime.taxonomy.resolve(name.strip())
        if hit is None or hit[0] != kind:
            raise ValueError(f"unknown {kind} {name!r}")
        found.append(Subscription(kind, hit[1]))
    return found


async def _add(args: argparse.Namespace, runtime: Runtime) -> int:
    platform, chat_id = args.chat
    try:
        subscriptions = subscriptions_from(args, runtime)
    except ValueError as exc:
        return fail(str(exc), 2)
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
        await subs.set_subscriptions(session, subscriber.id, subscriptions)
    shown = ", ".join(_subscription_text(s) for s in sorted(subscriptions))
    print(f"{'added' if created else 'updated'} {platform}:{chat_id}: {shown}")
    return 0


def _subscription_text(subscription: Subscription) -> str:
    return (
        subscription.kind
        if subscription.kind == "all"
        else f"{subscription.kind}:{subscription.key}"
    )


async def _list(args: argparse.Namespace, runtime: Runtime) -> int:
    records = [record async for record in subs.export_records(runtime.sessions)]
    if args.json:
        print_json(records)
        return 0
    if not records:
        print("no subscribers")
    for r in records:
        flags = [flag for flag in ("paused", "inactive") if _flag(r, flag)]
        wanted = ", ".join(
            s["kind"] if s["kind"] == "all" else f"{s['kind']}:{s['key']}"
            for s in r["subscriptions"]
        )
        print(
            f"{r['platform']}:{r['chat_id']}  {r['kind']} {r['language']} {r['format']}"
            f"{' [' + ','.join(flags) + ']' if flags else ''}  {wanted or '(nothing)'}"
        )
    return 0


def _flag(record: dict[str, Any], flag: str) -> bool:
    return bool(record["paused"]) if flag == "paused" else not record["active"]


async def _remove(args: argparse.Namespace, runtime: Runtime) -> int:
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
    stream.write(f'{{"format": "{EXPORT_FORMAT}", "version": 1, "subscribers": [')
    count = 0
    async for record in subs.export_records(runtime.sessions):
        stream.write(("," if count else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        count += 1
    stream.write("\n]}\n")
    return count


async def _import(args: argparse.Namespace, runtime: Runtime) -> int:
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
