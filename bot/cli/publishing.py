"""Publishing sub-commands: `tick` (one scheduler cycle) and `publish` (an issue now).

`register` uses only light imports; each handler imports what it runs (see bot/cli).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING

from bot.cli.base import Subparsers, fail, parse_moment
from bot.i18n import clip

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

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
    publish.add_argument("key", type=issue_ref, metavar="KEY|NUMBER|latest")
    publish.add_argument("--dry-run", action="store_true", help="show who would get what")
    publish.add_argument(
        "--deliver",
        action="store_true",
        help="also send the deliveries now (otherwise a running `briefbot run` sends them)",
    )
    publish.set_defaults(handler=_publish)


def issue_ref(text: str) -> date | int | None:
    """`latest` -> None; an ISO date; or an issue number (`51`, `#51`) of a numbered
    series (`--series SLUG` names the series); otherwise argparse's error."""
    if text == "latest":
        return None
    digits = text.removeprefix("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= 6:
        return int(digits)
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = f"expected YYYY-MM-DD, an issue number or 'latest', got {clip(text)!r}"
        raise argparse.ArgumentTypeError(message) from None


def ref_label(ref: date | int) -> str:
    return f"#{ref}" if isinstance(ref, int) else ref.isoformat()


async def resolve_ref(
    session: AsyncSession, series_slug: str, ref: date | int | None
) -> date | int | None:
    """`latest` as the newest issue's number (a numbered series) or date; None: no issue."""
    from storage.issues import latest_issue

    if ref is not None:
        return ref
    newest = await latest_issue(session, series_slug)
    if newest is None:
        return None
    return newest.number if newest.number is not None else newest.key


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
    if args.deliver:
        _check_pushes(runtime)  # a config the push refuses stops before anything is published
    if runtime.settings.wecom.robots:  # robot subscribers must exist before the publication
        await sync_robots(runtime)
    cycle = build_cycle(runtime, clock, _alerts())
    report = await cycle.run_once()
    print_cycle(report)
    failed = [poll for poll in report.polls if not poll.ok or (poll.report and poll.report.failed)]
    code = 1 if failed else 0
    if args.deliver:
        code = max(code, await _deliver(runtime))
    return code


def _check_pushes(runtime: Runtime) -> None:
    from bot.platforms import wechat
    from bot.platforms.wechat.tags import mass_series, within_budget

    if wechat.pushes_configured(runtime.settings):
        within_budget(mass_series(runtime))


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

    async with runtime.sessions() as session:
        key = await resolve_ref(session, runtime.series.slug, args.key)
    if key is None:
        return fail("the archive is empty")
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
