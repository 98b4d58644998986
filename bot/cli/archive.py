"""Archive sub-commands: `db upgrade`, `db create`, `ingest`, `issues`, `show`,
`corrections` (what an edit of a published issue changes for readers).

`register` uses only light imports; each handler imports what it runs (see bot/cli).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.base import Subparsers, fail, print_json
from bot.cli.publishing import issue_ref, ref_label, resolve_ref

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.ingest import IngestReport
    from bot.runtime import Runtime
    from briefings.model import Issue
    from storage.issues import IssueSummary


def register(commands: Subparsers) -> None:
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply schema migrations up to the newest")
    upgrade.set_defaults(handler=_upgrade)
    create = db_commands.add_parser(
        "create",
        help="create the database of storage.url if it does not exist, then migrate it",
        description="PostgreSQL: connects to the server's `postgres` database to create it.",
    )
    create.set_defaults(handler=_create, migrate=False)  # it may not exist yet

    ingest = commands.add_parser("ingest", help="parse briefing files or folders into the archive")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.set_defaults(handler=_ingest)

    issues = commands.add_parser("issues", help="list archived issues, newest first")
    issues.add_argument("--json", action="store_true", help="machine-readable output")
    issues.add_argument("--limit", type=int, default=100)
    issues.set_defaults(handler=_issues)

    corrections = commands.add_parser(
        "corrections",
        help="what an edit of a published issue corrects for readers (or correct it now)",
        description="Without --dry-run, the correction is written for the delivery engine "
        "now, without waiting for the edit to settle; the window and publish.corrections "
        "still apply.",
    )
    corrections.add_argument("key", type=issue_ref, metavar="KEY|NUMBER|latest")
    corrections.add_argument("--dry-run", action="store_true", help="say it, write nothing")
    corrections.set_defaults(handler=_corrections)

    show = commands.add_parser("show", help="show one parsed issue")
    show.add_argument("key", type=issue_ref, metavar="KEY|NUMBER|latest")
    show.add_argument("--json", action="store_true", help="the full model as JSON")
    show.set_defaults(handler=_show)


async def _upgrade(args: argparse.Namespace, runtime: Runtime) -> int:
    # open_runtime has already migrated; say where, so operators can check.
    print(f"database at head: {runtime.engine.url.render_as_string(hide_password=True)}")
    return 0


async def _create(args: argparse.Namespace, runtime: Runtime) -> int:
    from storage.db import DatabaseUnavailable, create_database, redact, upgrade_database

    where = redact(runtime.engine.url)
    try:
        created = await create_database(runtime.engine.url)
    except DatabaseUnavailable as exc:
        return fail(f"storage.url: {exc}", 2)
    await upgrade_database(runtime.engine)
    print(f"{'created' if created else 'already exists'}, at head: {where}")
    return 0


async def _ingest(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.ingest import ingest_documents, read_files

    limit = runtime.settings.ingest.max_file_bytes
    report = await ingest_documents(runtime, read_files(args.paths, limit))
    print_report(report)
    return 1 if report.failed else 0


def print_report(report: IngestReport) -> None:
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for failure in report.failures:
        print(f"error: {failure}", file=sys.stderr)
    print(report.summary())


async def _issues(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.publish.rule import issue_state
    from storage.corrections import corrections_sent
    from storage.issues import list_issues

    async with runtime.sessions() as session:
        summaries = await list_issues(session, runtime.series.slug, limit=args.limit)
        corrected = await corrections_sent(session, [s.id for s in summaries])
    now = datetime.now(UTC)
    if args.json:
        listed = [summary_to_dict(s, now, runtime.settings) for s in summaries]
        for summary, data in zip(summaries, listed, strict=True):
            data["corrections_sent"] = corrected.get(summary.id, 0)
        print_json(listed)
        return 0
    if not summaries:
        print("the archive is empty: run `briefbot ingest PATH`")
    elif len(summaries) == args.limit:
        print(f"(the newest {args.limit}; --limit N shows more)", file=sys.stderr)
    for s in summaries:
        counts = ", ".join(f"{c.key} {c.entries}" for c in s.sections)
        state = issue_state(s, now, runtime.settings)
        fixes = corrected.get(s.id, 0)
        fixed = f"  {fixes} correction(s) sent" if fixes else ""
        name = s.key if s.number is None else s.label  # a numbered series: `#51 (date)`
        print(f"{name}  {s.entry_count:3d} entries  {state:9s}  {counts}{fixed}")
    return 0


async def _corrections(args: argparse.Namespace, runtime: Runtime) -> int:
    from datetime import timedelta

    from bot.clock import SystemClock
    from bot.publish.corrections import Corrector
    from storage.corrections import ChangedIssue
    from storage.issues import find_issue_id, find_numbered_id, get_summary
    from storage.publication import is_archived_hash
    from storage.switches import corrections_switch

    slug = runtime.series.slug
    async with runtime.sessions() as session:
        key = await resolve_ref(session, slug, args.key)
        if isinstance(key, int):  # a numbered series' issue, dated or not
            issue_id = await find_numbered_id(session, slug, key)
        else:
            issue_id = None if key is None else await find_issue_id(session, slug, key)
        summary = None if issue_id is None else await get_summary(session, issue_id)
    if summary is None:
        asked = "latest" if args.key is None else ref_label(args.key)
        return fail(f"no issue {asked} in the archive of {slug}")
    label = summary.label
    published = summary.published_hash
    if summary.published_at is None or published is None or is_archived_hash(published):
        print(f"{label} was never pushed: nothing to correct")
        return 0
    if published == summary.content_hash:
        print(f"{label}: readers have the current content: nothing to correct")
        return 0
    settings = runtime.settings.publish
    now = SystemClock().now()
    window = timedelta(hours=settings.corrections_window_hours)
    async with runtime.sessions() as session:
        switched_on = (await corrections_switch(session)).on
    why = ""
    if not settings.corrections:
        why = "corrections are off"
    elif not switched_on:  # the Corrector would refuse to write, as it does for the cycle
        why = "an admin switched corrections off in the chat (/corrections on)"
    elif summary.published_at < now - window:
        why = "the window has passed"
    if why:
        print(f"{label} changed after publication, but {why}: the archive only")
        return 0
    changed = ChangedIssue(summary.id, summary.key, published, summary.content_hash)
    plan = await Corrector(runtime, SystemClock()).correct(changed, now, dry_run=args.dry_run)
    if plan is None:
        print(f"{label}: corrected by another process meanwhile")
        return 0
    # the plan names an issue by its date; an undated one is named by its number here
    counts = plan.summary().partition(": ")[2]
    print(("would correct " if args.dry_run else "corrected ") + f"{label}: {counts}")
    for change in plan.changes:
        what = "removed" if change.removed else ("changed" if change.link_or_title else "summary")
        print(f"  {what:8s} {change.title} {change.url}".rstrip())
    return 0


def summary_to_dict(summary: IssueSummary, now: datetime, settings: Settings) -> dict[str, object]:
    """The summary with its state; an archived issue has `archived_at`, no publication."""
    from bot.json_output import to_jsonable
    from bot.publish.rule import issue_state

    data = to_jsonable(summary)
    data["state"] = state = issue_state(summary, now, settings)
    if state == "archived":
        data["archived_at"], data["published_at"], data["published_hash"] = (
            data["published_at"],
            None,
            None,
        )
    return data


async def _show(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.json_output import issue_to_dict
    from storage.issues import get_issue, get_numbered_issue, latest_issue

    slug = runtime.series.slug
    async with runtime.sessions() as session:
        if args.key is None:
            issue = await latest_issue(session, slug)
        elif isinstance(args.key, int):  # a numbered series' issue, dated or not
            issue = await get_numbered_issue(session, slug, args.key)
        else:
            issue = await get_issue(session, slug, args.key)
    if issue is None:
        asked = "at all" if args.key is None else ref_label(args.key)
        return fail(f"no issue {asked} in the archive")
    if args.json:
        print_json(issue_to_dict(issue))
    else:
        print(describe(issue))
    return 0


def describe(issue: Issue) -> str:
    shown = (
        issue.key
        if issue.number is None
        else f"#{issue.number}" + (f" {issue.key}" if issue.key else "")
    )
    lines = [f"{issue.title}  [{shown}]"]
    if issue.tagline:
        lines.append(issue.tagline)
    for section in issue.sections:
        lines.append(f"\n## {section.heading} ({section.key}, {len(section.entries)} entries)")
        for entry in section.entries:
            source = f" | {entry.source}" if entry.source else ""
            lines.append(f"  {entry.position + 1}. {entry.title}{source}")
            if entry.url:
                lines.append(f"     {entry.url}")
    for warning in issue.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)
