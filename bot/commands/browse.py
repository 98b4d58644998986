"""/latest, /issue, /issues and their buttons: an issue's overview, then a section at a time."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from bot.commands.buttons import IssueList, IssuePart, IssueRef, OpenIssue, button
from bot.commands.context import Ctx, grid
from bot.commands.subscription_names import ALL_NAMES
from bot.commands.types import Invocation, Reply
from briefings.model import Issue, Section
from briefings.taxonomy import normalize_name
from formatters import Message
from storage.issues import (
    IssueSummary,
    get_issue,
    get_numbered_issue,
    issue_keys,
    latest_issue,
    list_issues,
    newest_number,
)

ISSUES_PER_PAGE = 8
NEAREST = 3
_DATE = re.compile(r"(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?")


# --- pure helpers ---------------------------------------------------------------------


def parse_date(text: str) -> date | None:
    """`2026-11-16`, `2026/11/16`, `20261116`, `2026年11月16日`, full-width digits too."""
    match = _DATE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def parse_number(text: str) -> int | None:
    """`51`, `#51`, `第51期` (full-width digits too): an issue number, at most 6 digits."""
    digits = _digits(text)
    if digits is None or len(digits) > 6:
        return None
    return int(digits)


def _digits(text: str) -> str | None:
    """The digits of `51`, `#51`, `第51期`, however many; None for anything else."""
    digits = unicodedata.normalize("NFKC", text).strip().removeprefix("#")
    digits = digits.removeprefix("第").removesuffix("期").strip()
    return digits if digits.isascii() and digits.isdigit() else None


def issue_ref(issue: Issue | IssueSummary) -> IssueRef:
    """How buttons and examples name an issue: by number in a numbered series (dates
    there are optional), else by date (an issue has one or the other, or both)."""
    if issue.number is not None:
        return issue.number
    if issue.key is None:
        raise ValueError(f"issue {issue.title!r} has neither a number nor a date")
    return issue.key


def ref_text(ref: IssueRef) -> str:
    """The `/issue` argument that opens `ref`: `51` or `2026-11-16`."""
    return str(ref) if isinstance(ref, int) else ref.isoformat()


def _issue_cmd(ctx: Ctx, *args: str) -> str:
    """`/issue ARGS` here; another series' issues need its slug first."""
    series = () if ctx.deps.is_primary else (ctx.deps.series.slug,)
    return ctx.cmd("issue", *series, *args)


async def _newest_number(ctx: Ctx) -> int | None:
    """The series' highest issue number; None: a date-keyed series (or an empty one)."""
    async with ctx.deps.sessions() as session:
        return await newest_number(session, ctx.deps.series.slug)


async def _numbered(ctx: Ctx, number: int, rest: str) -> Reply:
    async with ctx.deps.sessions() as session:
        issue = await get_numbered_issue(session, ctx.deps.series.slug, number)
    if issue is None:
        return ctx.say(ctx.t("no_numbered_issue", number=number))
    return named_part(ctx, issue, rest) if rest else _opened(ctx, issue)


def _opened(ctx: Ctx, issue: Issue) -> Reply:
    """`/issue KEY`: the overview; another series' issue whole, since the overview's
    buttons name issues of the primary series."""
    return overview(ctx, issue) if ctx.deps.is_primary else part_reply(ctx, issue, Part("all"))


@dataclass(frozen=True, slots=True)
class Part:
    """What of an issue to show: everything, one section, or a topic's entries."""

    kind: str  # "all" | "section" | "topic"
    key: str = ""


def find_part(ctx: Ctx, issue: Issue, name: str) -> Part | None:
    norm = normalize_name(name)
    if norm in ALL_NAMES:
        return Part("all")
    for section in issue.sections:
        if norm in (normalize_name(section.key), normalize_name(section.heading)):
            return Part("section", section.key)
    hit = ctx.deps.taxonomy.resolve(name)
    return None if hit is None else Part(hit[0], hit[1])


def section_label(ctx: Ctx, section: Section) -> str:
    """The taxonomy's name in the chat's language, else the heading as written."""
    known = any(s.key == section.key for s in ctx.deps.taxonomy.sections)
    name = ctx.deps.taxonomy.display_name(section.key, ctx.lang) if known else section.heading
    return f"{name} ({len(section.entries)})"


def section_payload(issue: Issue, index: int) -> IssuePart:
    return IssuePart.of_section(issue_ref(issue), issue.sections[index].key, index)


# --- replies --------------------------------------------------------------------------


def overview(ctx: Ctx, issue: Issue, *, is_latest: bool = False) -> Reply:
    """Header, 导读 and contents, with one button per section and one for everything."""
    buttons = [
        button(section_label(ctx, s), section_payload(issue, i))
        for i, s in enumerate(issue.sections)
    ]
    rows = grid(buttons, 2)
    rows.append([button(ctx.t("whole_issue"), IssuePart(issue_ref(issue)))])
    messages = list(ctx.renderer.overview(ctx.deps.taxonomy.localized(issue, ctx.lang)))
    if not ctx.has_buttons and issue.sections:
        name = ctx.deps.taxonomy.display_name(issue.sections[0].key, ctx.lang)
        if is_latest:
            example = ctx.cmd("latest", name)
        else:
            example = ctx.cmd("issue", ref_text(issue_ref(issue)), name)
        messages += ctx.renderer.service(ctx.t("latest_hint", example=example))
    return Reply(tuple(messages), tuple(tuple(r) for r in rows))


def part_reply(ctx: Ctx, issue: Issue, part: Part) -> Reply:
    messages = _part_messages(ctx, issue, part)
    if messages:
        return Reply(tuple(messages))
    name = ctx.deps.taxonomy.display_name(part.key, ctx.lang)
    day = issue.key.isoformat() if issue.key is not None else f"#{issue.number}"
    return ctx.say(ctx.t("part_empty", date=day, name=name))


def _part_messages(ctx: Ctx, issue: Issue, part: Part) -> list[Message]:
    renderer = ctx.renderer
    issue = ctx.deps.taxonomy.localized(issue, ctx.lang)
    if part.kind == "all":
        digest = ctx.subscriber is not None and ctx.subscriber.format == "digest"
        return renderer.digest(issue) if digest else renderer.issue(issue)
    if part.kind == "section":
        return renderer.sections(issue, [part.key])
    return renderer.for_subscriber(issue, topics=[part.key])


def named_part(ctx: Ctx, issue: Issue, name: str) -> Reply:
    part = find_part(ctx, issue, name)
    if part is not None:
        return part_reply(ctx, issue, part)
    sep = "{}（{}）" if ctx.lang == "zh" else "{} ({})"
    shown = ctx.deps.taxonomy.localized(issue, ctx.lang)
    sections = ctx.join(sep.format(s.key, s.heading) for s in shown.sections)
    return ctx.say(ctx.t("unknown_part", name=ctx.echo(name), sections=sections))


# --- commands -------------------------------------------------------------------------


async def latest(ctx: Ctx, inv: Invocation) -> list[Reply]:
    async with ctx.deps.sessions() as session:
        issue = await latest_issue(session, ctx.deps.series.slug)
    if issue is None:
        return [ctx.say(ctx.t("archive_empty"))]
    if inv.args and parse_date(inv.args[0]) is not None:  # `/latest 2026-11-02`: that issue
        return await issue_(ctx, inv)
    if inv.raw_args:
        return [named_part(ctx, issue, inv.raw_args)]
    if not ctx.deps.is_primary:
        # The overview's buttons name issues of the primary series: another series'
        # latest issue comes whole (`/latest SERIES SECTION` for one part).
        return [part_reply(ctx, issue, Part("all"))]
    return [overview(ctx, issue, is_latest=True)]


async def issue_(ctx: Ctx, inv: Invocation) -> list[Reply]:
    if not inv.args:
        return [await _issue_usage(ctx)]
    if inv.args[0].casefold() in ("latest", "最新"):
        return await latest(ctx, Invocation("latest", inv.args[1:], " ".join(inv.args[1:])))
    number = parse_number(inv.args[0])
    if number is not None and await _by_number(ctx):  # `/issue 51`, `/issue widgets 51`
        return [await _numbered(ctx, number, " ".join(inv.args[1:]))]
    key = parse_date(inv.args[0])
    if key is None:
        return [await _not_an_issue(ctx, inv.args[0])]
    async with ctx.deps.sessions() as session:
        issue = await get_issue(session, ctx.deps.series.slug, key)
        keys = [] if issue is not None else await issue_keys(session, ctx.deps.series.slug)
    if issue is None:
        return [_missing(ctx, key, keys)]
    rest = " ".join(inv.args[1:])
    return [named_part(ctx, issue, rest) if rest else _opened(ctx, issue)]


async def _by_number(ctx: Ctx) -> bool:
    """Whether `/issue 51` means issue #51: always in another series (as before numbered
    primaries existed); in the primary one when it is numbered, else 51 is a bad date."""
    return not ctx.deps.is_primary or await _newest_number(ctx) is not None


async def _not_an_issue(ctx: Ctx, text: str) -> Reply:
    """Neither a number nor a date: said in the series' own terms."""
    newest = await _newest_number(ctx)
    if newest is None:
        return ctx.say(ctx.t("bad_date", text=ctx.echo(text), example=_example_date(ctx)))
    digits = _digits(text)
    if digits is not None:  # more digits than any issue number has
        return ctx.say(ctx.t("no_numbered_issue", number=ctx.echo(digits)))
    example = _issue_cmd(ctx, str(newest))
    return ctx.say(ctx.t("bad_issue_number", text=ctx.echo(text), example=example))


async def _issue_usage(ctx: Ctx) -> Reply:
    newest = await _newest_number(ctx)
    return ctx.say(_usage_text(ctx, newest if newest is not None else ctx.now().date()))


def _usage_text(ctx: Ctx, example: IssueRef) -> str:
    """`/issue YYYY-MM-DD` or, for a numbered series, `/issue NUMBER`, with `example`."""
    key = "issue_usage_number" if isinstance(example, int) else "issue_usage"
    return ctx.t(
        key,
        issue=_issue_cmd(ctx),
        example=_issue_cmd(ctx, ref_text(example)),
        issues=ctx.cmd("issues"),
    )


def _example_date(ctx: Ctx) -> str:
    return ctx.now().date().isoformat()


def _missing(ctx: Ctx, key: date, keys: list[date]) -> Reply:
    lines = [ctx.t("no_issue", date=key.isoformat())]
    nearest = sorted(keys, key=lambda k: (abs((k - key).days), k))[:NEAREST]
    if nearest:
        lines.append(
            ctx.t("nearest_issues", dates=ctx.join(k.isoformat() for k in sorted(nearest)))
        )
    buttons = [button(k.isoformat(), OpenIssue(k)) for k in sorted(nearest)]
    return ctx.say("\n".join(lines), buttons=[buttons])


async def issues(ctx: Ctx, inv: Invocation) -> list[Reply]:
    return [await _issue_list(ctx, 0, edit=False)]


async def _issue_list(ctx: Ctx, offset: int, *, edit: bool) -> Reply:
    async with ctx.deps.sessions() as session:
        found = await list_issues(
            session, ctx.deps.series.slug, limit=ISSUES_PER_PAGE + 1, offset=offset
        )
    if not found:
        key = "archive_empty" if offset == 0 else "issues_end"
        return ctx.say(ctx.t(key), edit=edit)
    page, more = found[:ISSUES_PER_PAGE], len(found) > ISSUES_PER_PAGE
    if not ctx.deps.is_primary:
        return _other_series_list(ctx, page)
    lines = [ctx.t("issues_title")]
    lines += [ctx.t("issues_line", date=s.label, count=s.entry_count) for s in page]
    if not ctx.has_buttons:
        lines.append(_usage_text(ctx, issue_ref(page[0])))
    buttons = grid(
        [button(f"{s.label} ({s.entry_count})", OpenIssue(issue_ref(s))) for s in page], 2
    )
    if more:
        buttons.append([button(ctx.t("older"), IssueList(offset + ISSUES_PER_PAGE))])
    return ctx.say("\n".join(lines), buttons=buttons, edit=edit)


def _other_series_list(ctx: Ctx, page: list[IssueSummary]) -> Reply:
    """Another series' newest issues, by number or date: its buttons and /issue name issues
    of the primary series by date, so this list has none; `/latest SERIES` opens one."""
    lines = [f"{ctx.deps.series.title} ({ctx.deps.series.slug})", ctx.t("issues_title")]
    lines += [ctx.t("issues_line", date=s.label, count=s.entry_count) for s in page]
    slug = ctx.deps.series.slug
    lines.append(ctx.cmd("latest", slug))
    if page[0].number is not None:
        lines.append(ctx.cmd("issue", slug, str(page[0].number)))
    return ctx.say("\n".join(lines))


# --- buttons --------------------------------------------------------------------------


async def _load(ctx: Ctx, ref: IssueRef) -> Issue | None:
    async with ctx.deps.sessions() as session:
        if isinstance(ref, int):
            return await get_numbered_issue(session, ctx.deps.series.slug, ref)
        return await get_issue(session, ctx.deps.series.slug, ref)


async def on_overview(ctx: Ctx, opened: OpenIssue) -> list[Reply]:
    issue = await _load(ctx, opened.issue)
    if issue is None:
        return [ctx.say(ctx.t("expired_button"))]
    return [overview(ctx, issue)]


async def on_section(ctx: Ctx, chosen: IssuePart) -> list[Reply]:
    issue = await _load(ctx, chosen.issue)
    part = None if issue is None else _button_part(issue, chosen)
    if issue is None or part is None:
        return [ctx.say(ctx.t("expired_button"))]
    return [part_reply(ctx, issue, part)]


def _button_part(issue: Issue, chosen: IssuePart) -> Part | None:
    """The part a button names, if the issue (perhaps re-ingested since) still has it."""
    if chosen.index is not None:
        if chosen.index >= len(issue.sections):
            return None
        return Part("section", issue.sections[chosen.index].key)
    if chosen.section is None:
        return Part("all")
    known = issue.section(chosen.section) is not None
    return Part("section", chosen.section) if known else None


async def on_list(ctx: Ctx, page: IssueList) -> list[Reply]:
    return [await _issue_list(ctx, page.offset, edit=True)]
