"""/preview correction [KEY]: what an edit of a published issue would correct, said in
the admin's language without sending anything (bot/publish/correction_preview.py plans
it with the corrector's own dry run)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from bot import i18n, redaction
from bot.commands.bounds import LOG_CHARS
from bot.commands.browse import parse_date
from bot.commands.context import Ctx
from bot.commands.types import Reply
from bot.publish.correction_preview import CorrectionPreview
from bot.publish.corrections import LISTED, correction_message

# The word after /preview that asks for a correction rather than a push.
WORDS: Final = frozenset({"correction", "corrections", "更正"})


def asks_for_correction(args: tuple[str, ...]) -> bool:
    return bool(args) and args[0].casefold() in WORDS


async def preview_correction(ctx: Ctx, args: tuple[str, ...]) -> list[Reply]:
    """`args` after the word: none or `latest`, or the issue's date."""
    command = ctx.cmd("preview")
    previewer = ctx.deps.corrections
    if previewer is None:
        return [ctx.say(ctx.t("correction_unconfigured"))]
    key: date | None = None  # none or `latest`: the newest published issue
    if args and args != ("latest",):
        key = parse_date(args[0]) if len(args) == 1 else None
        if key is None:
            return [ctx.say(ctx.t("preview_usage", command=command))]
    try:
        preview = await previewer.preview(key, ctx.now())
    except Exception as exc:  # the admin wants to know why, not a generic error
        error = i18n.clip(redaction.describe(exc), LOG_CHARS)
        return [ctx.say(ctx.t("publish_failed", command=command, error=error))]
    zone = ZoneInfo(ctx.deps.settings.publish.timezone)
    return [ctx.say(correction_text(ctx.lang, preview, zone))]


def correction_text(lang: str, preview: CorrectionPreview, zone: tzinfo) -> str:
    """The preview in `lang`; times in the publication's `zone`."""
    day = preview.key.isoformat() if preview.key is not None else ""
    if preview.state == "unknown":
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
    day = preview.key.isoformat() if preview.key is not None else ""
    lines = [i18n.t(lang, "correction_title", title=issue.title, date=day)]
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
