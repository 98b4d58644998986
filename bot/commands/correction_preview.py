"""/preview correction [SERIES] [KEY]: what an edit of a published issue would correct,
said in the admin's language without sending anything (bot/publish/correction_preview.py
plans it with the corrector's own dry run). With several series SERIES names one (the
primary one by default), and KEY is a date, an issue number or `latest`, as for
`/preview SERIES NUMBER`."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from bot import i18n, redaction
from bot.commands.bounds import LOG_CHARS
from bot.commands.browse import parse_date, parse_number
from bot.commands.context import Ctx
from bot.commands.series import split_series, unknown_series
from bot.commands.types import Invocation, Reply
from bot.publish.correction_preview import CorrectionPreview
from bot.publish.corrections import LISTED, correction_message

# The word after /preview that asks for a correction rather than a push.
WORDS: Final = frozenset({"correction", "corrections", "更正"})


def asks_for_correction(args: tuple[str, ...]) -> bool:
    return bool(args) and args[0].casefold() in WORDS


async def preview_correction(ctx: Ctx, inv: Invocation) -> list[Reply]:
    """`inv.args` after the word: [SERIES] and none or `latest`, or the issue's date or
    number."""
    command = ctx.cmd("preview")
    previewer = ctx.deps.corrections
    if previewer is None:
        return [ctx.say(ctx.t("correction_unconfigured"))]
    ctx, rest = await split_series(ctx, inv)
    args = rest.args
    if rest is inv and len(args) == 2 and ctx.deps.several_series:  # no series named
        return [unknown_series(ctx, args[0])]
    if len(args) > 1:
        return [ctx.say(ctx.t("preview_usage", command=command))]
    key: date | int | None = None  # none or `latest`: the newest published issue
    if args and args[0].casefold() != "latest":
        key = _key(args[0])
        if key is None:
            return [ctx.say(ctx.t("preview_usage", command=command))]
    try:
        preview = await previewer.preview(key, ctx.now(), ctx.deps.series.slug)
    except Exception as exc:  # the admin wants to know why, not a generic error
        error = i18n.clip(redaction.describe(exc), LOG_CHARS)
        return [ctx.say(ctx.t("publish_failed", command=command, error=error))]
    if preview.state == "unknown" and isinstance(key, int):
        return [ctx.say(ctx.t("no_series_issue", series=ctx.deps.series.title, number=key))]
    zone = ZoneInfo(ctx.deps.settings.publish.timezone)
    return [ctx.say(correction_text(ctx.lang, preview, zone))]


def _key(text: str) -> date | int | None:
    """A date, or an issue number (`51`, `#51`, `第51期`) as /preview and /publish read it."""
    found = parse_date(text)
    return found if found is not None else parse_number(text)


def correction_text(lang: str, preview: CorrectionPreview, zone: tzinfo) -> str:
    """The preview in `lang`; times in the publication's `zone`."""
    day = preview.label
    if preview.state == "unknown":
        if preview.number is not None and preview.key is None:
            return i18n.t(lang, "no_numbered_issue", number=preview.number)
        if preview.key is None:
            return i18n.t(lang, "correction_none_published")
        return i18n.t(lang, "no_issue", date=day)
    if preview.state == "unpublished":
        return i18n.t(lang, "correction_unpublished", date=day)
    if preview.state == "current":
        return i18n.t(lang, "correction_current", date=day)
    if preview.state in ("off", "switched_off"):
        return i18n.t(lang, f"correction_{preview.state}", date=day)
    if preview.state == "window_passed":
        hours = f"{preview.window_hours:g}"
        return i18n.t(lang, "correction_window_passed", date=day, hours=hours)
    return _planned(lang, preview, zone)


def _planned(lang: str, preview: CorrectionPreview, zone: tzinfo) -> str:
    plan, issue = preview.plan, preview.issue
    assert plan is not None and issue is not None
    lines = [i18n.t(lang, "correction_title", title=issue.title, date=preview.label)]
    if preview.settles_at is not None:
        lines.append(i18n.t(lang, "correction_settling", at=_at(preview.settles_at, zone)))
    if not plan.operations:
        lines.append(i18n.t(lang, "correction_nothing"))
        return "\n".join(lines)
    lines.append(
        i18n.t(
            lang,
            "correction_counts",
            edits=i18n.t(lang, "n_chats", count=plan.edits),
            messages=i18n.t(lang, "n_chats", count=plan.messages),
            operations=i18n.t(lang, "n_operations", count=plan.operations),
        )
    )
    if plan.messages:
        # As a WeCom chat gets it (plain text, links spelled out), in the admin's language.
        message = correction_message("wecom", lang, issue, plan.changes)
        lines += [i18n.t(lang, "correction_message"), message["text"]]
    elif plan.changes:
        lines.append(i18n.t(lang, "correction_changed"))
        for change in plan.changes[:LISTED]:
            title = change.title
            if change.removed:
                title = i18n.t(lang, "correction_removed", title=title)
            lines.append(f"• {title}")
        if len(plan.changes) > LISTED:
            lines.append(i18n.t(lang, "correction_more", count=len(plan.changes) - LISTED))
    return "\n".join(lines)


def _at(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="minutes")
