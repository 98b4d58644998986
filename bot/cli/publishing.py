"""Publishing sub-commands: `tick` (one scheduler cycle) and `publish` (an issue now).

`register` uses only light imports; each handler imports what it runs (see bot/cli).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.base import Subparsers, fail, issue_key, parse_moment

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.publish.alerts import StreamNotifier
    from bot.publish.cycle import CycleReport
    from bot.runtime import Runtime


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


def parse_now(text: str | None, timezone: str) -> Clock:
    from bot.clock import FixedClock, SystemClock

    return SystemClock() if text is None else FixedClock(parse_moment(text, timezone))


async def _tick(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.platforms.wecom.robots import sync_robots
    from bot.publish.cycle import build_cycle

    try:
        clock = parse_now(args.now, runtime.settings.publish.timezone)
    except ValueError as exc:
        return fail(f"--now: {exc}", 2)
    if runtime.settings.wecom.robots:  # robot subscribers must exist before the publication
        await sync_robots(runtime.sessions, runtime.settings.wecom, runtime.taxonomy)
    cycle = build_cycle(runtime, clock, _alerts())
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
    from bot.app import drain_configured
    from bot.web.service import push_once

    report = await drain_configured(runtime, notifier=_alerts())
    print(report)
    for summary in await push_once(runtime):
        print(summary)
    return 0


async def _publish(args: argparse.Namespace, runtime: Runtime) -> int:
    from zoneinfo import ZoneInfo

    from bot.clock import SystemClock
    from bot.commands.admin import answer_text
    from bot.publish.publisher import IssuePublisher
    from bot.publish.results import Refusal
    from storage.issues import latest_issue

    key = args.key
    if key is None:
        async with runtime.sessions() as session:
            latest = await latest_issue(session, runtime.series.slug)
        if latest is None:
            return fail("the archive is empty")
        key = latest.key
    publisher = IssuePublisher(runtime, SystemClock(), _alerts())
    result = await publisher.publish(key, dry_run=args.dry_run)
    # the chat's answer, in English like the rest of the CLI
    zone = ZoneInfo(runtime.settings.publish.timezone)
    text = answer_text("en", result, zone, runtime.taxonomy)
    if isinstance(result, Refusal):
        return fail(text)
    print(text)
    if args.dry_run:
        return 0
    if args.deliver:
        return await _deliver(runtime)
    print("queued: a running `briefbot run` sends them (or pass --deliver)")
    return 0


def _alerts() -> StreamNotifier:
    """Admin alerts on stderr, in English like the rest of the CLI."""
    from bot.publish.alerts import StreamNotifier
    from formatters import EN, ConsoleRenderer

    return StreamNotifier(sys.stderr, ConsoleRenderer(EN))
