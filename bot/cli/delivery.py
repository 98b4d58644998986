"""Delivery sub-commands: `status [KEY] [--watch] [--json]`, `resume KEY`.

KEY is a date, `latest`, or an issue number of a numbered series (`--series SLUG`
names the series; the primary one by default), parsed as `publish` parses it.

`status` also lists the running instances (several on PostgreSQL), their heartbeats and
the leader; `--json` is then {"issues": [...], "leader": ..., "instances": [...]}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.cli.base import Subparsers, fail, print_json
from bot.cli.publishing import issue_ref, ref_label

if TYPE_CHECKING:  # handlers import what they run: `briefbot --help` stays instant
    from bot.delivery.status import IssueStatus
    from bot.runtime import Runtime
    from storage.instances import InstanceStatus

CLEAR_SCREEN = "\x1b[H\x1b[2J"


def register(commands: Subparsers) -> None:
    status = commands.add_parser(
        "status",
        help="delivery progress per issue and platform; running instances and the leader",
        description="Sent / pending / failed / dropped deliveries, rate and ETA. Without KEY: "
        "every issue still delivering, and the newest one. Then the `run` instances, the age "
        "of their heartbeats and which one leads.",
    )
    status.add_argument("key", nargs="?", type=issue_ref, default=None, metavar="KEY|NUMBER|latest")
    status.add_argument(
        "--watch", action="store_true", help="redraw every second until done (Ctrl-C stops)"
    )
    status.add_argument(
        "--json", action="store_true", help="machine-readable (JSON lines with --watch)"
    )
    status.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    status.set_defaults(handler=_status)

    resume = commands.add_parser(
        "resume", help="resume delivering an issue paused after an error burst"
    )
    resume.add_argument("key", type=issue_ref, metavar="KEY|NUMBER|latest")
    resume.set_defaults(handler=_resume)


async def _status(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.delivery.status import RateMeter, issue_statuses
    from storage.instances import list_instances

    meter = RateMeter() if args.watch else None
    stale = runtime.settings.cluster.stale_seconds
    while True:
        async with runtime.sessions() as session:
            statuses = await issue_statuses(
                session, runtime.series.slug, args.key, datetime.now(UTC), meter, time.monotonic()
            )
            instances = await list_instances(session, stale)
        if statuses is None:
            return fail(f"no issue {ref_label(args.key)} in the archive of {runtime.series.slug}")
        show(statuses, instances, as_json=args.json, watch=args.watch)
        if not args.watch or all(s.done for s in statuses):
            return 0
        await asyncio.sleep(args.interval)


def show(
    statuses: list[IssueStatus],
    instances: list[InstanceStatus],
    *,
    as_json: bool,
    watch: bool,
) -> None:
    from bot.cluster import status as cluster
    from bot.delivery.status import render, to_json

    if as_json:
        data = {"issues": to_json(statuses), **cluster.to_json(instances)}
        if watch:
            print(json.dumps(data, ensure_ascii=False), flush=True)
        else:
            print_json(data)
        return
    text = render(statuses) + "\n" + cluster.render(instances)
    if watch and sys.stdout.isatty():
        sys.stdout.write(CLEAR_SCREEN + text + "\n")
        sys.stdout.flush()
    else:
        print(text + ("\n" if watch else ""), flush=True)


async def _resume(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.delivery.pauses import resume_issue
    from storage.deliveries.status import issues_with_deliveries
    from storage.issues import find_issue_id, find_numbered_id, get_summary

    slug = runtime.series.slug
    async with runtime.sessions.begin() as session:
        if args.key is None:  # `latest`: the newest issue that has deliveries
            newest = await issues_with_deliveries(session, slug, limit=1)
            issue_id = newest[0].issue_id if newest else None
        elif isinstance(args.key, int):  # a numbered series' issue, dated or not
            issue_id = await find_numbered_id(session, slug, args.key)
        else:
            issue_id = await find_issue_id(session, slug, args.key)
        summary = None if issue_id is None else await get_summary(session, issue_id)
        if summary is None:
            asked = "with deliveries" if args.key is None else ref_label(args.key)
            return fail(f"no issue {asked} in the archive of {slug}")
        resumed = await resume_issue(session, summary.id, datetime.now(UTC))
    label = summary.label
    print(f"{label}: delivery resumed" if resumed else f"{label}: delivery was not paused")
    return 0
