"""Admin-only commands: /stats, /preview, /publish (AdminOnly, from the table, refuses
everyone else). `/preview correction [SERIES] [KEY]` is bot/commands/correction_preview.py.

The publisher answers /preview and /publish with data (`bot.publish.results`);
`answer_text` says it in the admin's language. The CLI prints the same in English.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from bot import i18n, redaction
from bot.commands.bounds import LOG_CHARS
from bot.commands.browse import parse_date, parse_number
from bot.commands.context import Ctx
from bot.commands.correction_preview import asks_for_correction, preview_correction
from bot.commands.series import split_series, unknown_series
from bot.commands.types import Invocation, Reply
from bot.publish.results import Preview, Publication, PublishResult, Refusal
from briefings.taxonomy import Taxonomy
from storage.deliveries.status import status_counts
from storage.issues import find_issue_id, find_numbered_id, latest_issue, list_issues
from storage.subscribers import SubscriberStats
from storage.subscribers import stats as subscriber_stats

log = logging.getLogger(__name__)
PICTURE_PLATFORMS = frozenset({"telegram"})  # where a reply's images are sent
RECENT_ISSUES = 20  # scanned for the last pushes
LAST_PUSHES = 3


async def stats(ctx: Ctx, inv: Invocation) -> list[Reply]:
    """`/stats [SERIES]`: subscribers by platform, then per series (with several: each
    one, or the one named) who subscribed to what and its last pushes."""
    if ctx.deps.several_series and inv.args:
        choice = ctx.deps.find_series(inv.raw_args)
        if choice is None:
            return [unknown_series(ctx, inv.raw_args)]
        chosen = [choice]
    else:
        chosen = list(ctx.deps.catalog) if ctx.deps.several_series else []
    async with ctx.deps.sessions() as session:
        # platforms, paused and inactive count subscribers, whatever their series
        counts = await subscriber_stats(session, series=ctx.deps.subscription_series)
        per_series = [(c, await subscriber_stats(session, series=c.key)) for c in chosen]
    lines = [
        ctx.t("stats_title"),
        ctx.t("stats_platforms", items=_items(ctx, counts.by_platform, "platform")),
        ctx.t("stats_paused", paused=counts.paused, inactive=counts.inactive),
    ]
    if not chosen:  # one series: its counts as they always were
        lines += await _series_stats(ctx, counts)
    for choice, in_series in per_series:
        title = ctx.t("stats_series", title=choice.series.title, slug=choice.series.slug)
        switched = replace(ctx, deps=ctx.deps.in_series(choice))
        lines += ["", title, *await _series_stats(switched, in_series)]
    reply = ctx.say("\n".join(lines))
    if ctx.chat.platform in PICTURE_PLATFORMS:
        reply = replace(reply, images=await _charts(ctx))
    return [reply]


async def _series_stats(ctx: Ctx, counts: SubscriberStats) -> list[str]:
    """The request's series: its subscriptions, named by its taxonomy, and last pushes."""
    async with ctx.deps.sessions() as session:
        recent = await list_issues(session, ctx.deps.series.slug, limit=RECENT_ISSUES)
        pushed = [s for s in recent if s.published_at is not None][:LAST_PUSHES]
        deliveries = [(s, await status_counts(session, s.id)) for s in pushed]
    lines = []
    if ctx.deps.several_series:
        lines.append(ctx.t("stats_subscribers", count=counts.subscribers))
    lines += [
        ctx.t("stats_all", count=counts.all_sections),
        ctx.t("stats_sections", items=_items(ctx, counts.by_section)),
        ctx.t("stats_topics", items=_items(ctx, counts.by_topic)),
        ctx.t("stats_pushes"),
    ]
    for summary, by_platform in deliveries:
        assert summary.published_at is not None
        at = summary.published_at.strftime("%Y-%m-%d %H:%M UTC")
        per_platform = [
            f"{_known(ctx, 'platform', platform)} "
            + " ".join(f"{_known(ctx, 'status', st)} {n}" for st, n in statuses.items() if n)
            for platform, statuses in sorted(by_platform.items())
        ]
        text = "; ".join(per_platform) or ctx.t("none")
        lines.append(ctx.t("stats_push_line", date=summary.label, at=at, counts=text))
    if not deliveries:
        lines.append(ctx.t("stats_no_pushes"))
    return lines


async def _charts(ctx: Ctx) -> tuple[bytes, ...]:
    """The operator page's charts as PNGs; /stats still answers in words if drawing fails."""
    try:
        from bot.web.charts import chart_pngs  # matplotlib: loaded when an admin asks

        async with ctx.deps.sessions() as session:
            return tuple((await chart_pngs(session)).values())
    except Exception:
        log.exception("cannot draw the /stats charts")
        return ()


def _items(ctx: Ctx, counts: dict[str, int], kind: str = "") -> str:
    """`name count` pairs, most first; `kind` names the keys: "platform", else a section
    or topic of the taxonomy."""
    if not counts:
        return ctx.t("none")
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if kind:
        return ctx.join(f"{_known(ctx, kind, key)} {count}" for key, count in ordered)
    name = ctx.deps.taxonomy.display_name
    return ctx.join(f"{name(key, ctx.lang)} {count}" for key, count in ordered)


def _known(ctx: Ctx, kind: str, key: str) -> str:
    """A platform or delivery status in the reader's language (as stored when unknown)."""
    text_key = f"{kind}_{key}"
    return ctx.t(text_key) if text_key in i18n.TEXTS else key


async def _issue_ref(ctx: Ctx, text: str) -> date | int | None:
    """`latest`, a date, or an issue number (`51`, `#51`, `第51期`) of the request's series;
    the newest issue of a numbered series by its number (it may have no date)."""
    if text.casefold() == "latest":
        async with ctx.deps.sessions() as session:
            newest = await latest_issue(session, ctx.deps.series.slug)
        if newest is None:
            return None
        return newest.number if newest.number is not None else newest.key
    found = parse_date(text)
    return found if found is not None else parse_number(text)


async def _find(ctx: Ctx, ref: date | int) -> int | None:
    async with ctx.deps.sessions() as session:
        if isinstance(ref, int):
            return await find_numbered_id(session, ctx.deps.series.slug, ref)
        return await find_issue_id(session, ctx.deps.series.slug, ref)


def _missing(ctx: Ctx, ref: date | int) -> Reply:
    if isinstance(ref, int):
        return ctx.say(ctx.t("no_series_issue", series=ctx.deps.series.title, number=ref))
    return ctx.say(ctx.t("no_issue", date=ref.isoformat()))


async def _push(ctx: Ctx, inv: Invocation, *, dry_run: bool) -> list[Reply]:
    """`/publish [SERIES] KEY`: KEY a date, an issue number or `latest`, of SERIES (with
    several series configured; by default the primary one)."""
    command = ctx.cmd(inv.name)
    publisher = ctx.deps.publisher
    if publisher is None:
        return [ctx.say(ctx.t("publish_unconfigured", command=command))]
    ctx, inv = await split_series(ctx, inv)
    if len(inv.args) == 2 and ctx.deps.several_series:  # the first word named no series
        return [unknown_series(ctx, inv.args[0])]
    ref = await _issue_ref(ctx, inv.args[0]) if len(inv.args) == 1 else None
    if ref is None:
        usage = "preview_usage" if dry_run else "publish_usage"
        return [ctx.say(ctx.t(usage, command=command))]
    if await _find(ctx, ref) is None:  # before asking the publisher, which would refuse it too
        return [_missing(ctx, ref)]
    try:
        result = await publisher.publish(ref, dry_run, ctx.deps.series.slug)
    except Exception as exc:  # the operator wants to know why, not a generic error
        # One redacted line: a failed push can carry an API URL with its token in it.
        error = i18n.clip(redaction.describe(exc), LOG_CHARS)
        return [ctx.say(ctx.t("publish_failed", command=command, error=error))]
    zone = ZoneInfo(ctx.deps.settings.publish.timezone)
    return [ctx.say(answer_text(ctx.lang, result, zone, ctx.deps.taxonomy))]


def answer_text(lang: str, result: PublishResult, zone: tzinfo, taxonomy: Taxonomy) -> str:
    """What a publish request came to, in `lang`; times in the publication's `zone`,
    sections named by `taxonomy` as the reader's issues name them."""
    day = result.label
    if isinstance(result, Refusal):
        if result.reason == "unknown" and isinstance(result.key, int):
            return i18n.t(lang, "no_numbered_issue", number=result.key)
        if result.reason == "unknown":
            return i18n.t(lang, "no_issue", date=day)
        if result.published_at is None:
            return i18n.t(lang, "already_published", date=day)
        at = _at(result.published_at, zone)
        return i18n.t(lang, "already_published_at", date=day, at=at, hash=result.published_hash)
    if isinstance(result, Publication):
        return i18n.t(
            lang,
            "published_issue",
            date=day,
            hash=result.content_hash,
            deliveries=i18n.t(lang, "n_deliveries", count=result.deliveries),
            renderings=i18n.t(lang, "n_renderings", count=result.renderings),
            empty=i18n.t(lang, "n_chats", count=result.empty),
        )
    return _preview_text(lang, result, zone, taxonomy)


def _preview_text(lang: str, preview: Preview, zone: tzinfo, taxonomy: Taxonomy) -> str:
    lines = [
        i18n.t(
            lang,
            "preview_title",
            title=preview.title,
            date=preview.label,
            hash=preview.content_hash,
        ),
        i18n.t(
            lang,
            "preview_counts",
            chats=i18n.t(lang, "n_chats", count=preview.recipients),
            renderings=i18n.t(lang, "n_renderings", count=preview.renderings),
            empty=i18n.t(lang, "n_chats", count=preview.empty),
        ),
    ]
    if preview.held_at is not None:
        lines.append(i18n.t(lang, "preview_held", at=_at(preview.held_at, zone)))
    if preview.unfinished:
        lines.append(i18n.t(lang, "preview_unfinished"))
        lines += [f"- {defect.said(lang, taxonomy)}" for defect in preview.unfinished]
    for r in preview.listed:
        chat = f"{r.platform}:{r.chat_id}"
        messages = i18n.t(lang, "n_messages", count=r.messages)
        line = i18n.t(
            lang,
            "preview_line",
            chat=chat,
            kind=r.kind,
            rendering=r.rendering_key,
            messages=messages,
        )
        lines.append(f"  {line}")
    if preview.unlisted:
        lines.append("  " + i18n.t(lang, "preview_more", count=preview.unlisted))
    return "\n".join(lines)


def _at(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="minutes")


async def preview(ctx: Ctx, inv: Invocation) -> list[Reply]:
    """`/preview [SERIES] KEY|NUMBER|latest`: a push; `/preview correction [SERIES]
    [KEY|NUMBER|latest]`: a correction."""
    if asks_for_correction(inv.args):
        rest = inv.args[1:]
        return await preview_correction(ctx, Invocation(inv.name, rest, " ".join(rest)))
    return await _push(ctx, inv, dry_run=True)


async def publish(ctx: Ctx, inv: Invocation) -> list[Reply]:
    return await _push(ctx, inv, dry_run=False)
