"""/start, /help and /stop."""

from __future__ import annotations

import re

from bot import i18n
from bot.commands.context import Ctx
from bot.commands.subscription_names import resolve_names
from bot.commands.types import Invocation, Reply
from storage.subscribers import (
    ALL,
    Subscriber,
    Subscription,
    add_subscription,
    delete_subscriber,
)

_PAYLOAD_SPLIT = re.compile(r"[-_+]")


async def start(ctx: Ctx, inv: Invocation) -> list[Reply]:
    notes: list[str] = []
    async with ctx.deps.sessions.begin() as session:
        subscriber, created = await ctx.ensure_subscriber(session)
        chosen = _payload_subscriptions(ctx, inv.raw_args)
        if inv.raw_args and not chosen:
            notes.append(ctx.t("unknown_payload", payload=ctx.echo(inv.raw_args)))
        if not chosen and not subscriber.subscriptions and _default_is_all(ctx):
            chosen = [ALL]
        for subscription in chosen:
            await add_subscription(session, subscriber.id, subscription)
        subscriber, _ = await ctx.ensure_subscriber(session)
    ctx = ctx.with_subscriber(subscriber)
    greeting = ctx.t("welcome", title=ctx.deps.series.title)
    if not created:
        greeting = f"{ctx.t('welcome_back')} {greeting}"
    return [ctx.say(greeting, *notes, _state(ctx, subscriber), _command_list(ctx))]


def _payload_subscriptions(ctx: Ctx, payload: str) -> list[Subscription]:
    """A deep-link payload: one name, or several joined by - _ +, all of them known."""
    if not payload:
        return []
    whole = resolve_names(ctx.deps.taxonomy, payload)
    if whole.subscriptions and not whole.unknown:
        return list(whole.subscriptions)
    parts = resolve_names(ctx.deps.taxonomy, " ".join(_PAYLOAD_SPLIT.split(payload)))
    return list(parts.subscriptions) if parts.subscriptions and not parts.unknown else []


def _default_is_all(ctx: Ctx) -> bool:
    if ctx.chat.platform in ("wechat", "wecom"):
        return True  # following the account / app is subscribing to the whole briefing
    return ctx.deps.settings.telegram.default_subscription == "all"


def _state(ctx: Ctx, subscriber: Subscriber) -> str:
    if subscriber.subscriptions:
        names = ctx.join(ctx.name_of(s) for s in subscriber.subscriptions)
        lines = [ctx.t("subscribed_now", names=names)]
    else:
        lines = [ctx.t("nothing_subscribed", sections=ctx.cmd("sections"))]
    if subscriber.paused:
        lines.append(ctx.t("paused_note", resume=ctx.cmd("settings", "resume")))
    return "\n".join(lines)


def _command_list(ctx: Ctx) -> str:
    lines = [ctx.t("commands_title")]
    for command in ctx.commands.public:
        lines.append(f"{ctx.cmd(command.name)} — {i18n.describe(ctx.lang, command.name)}")
    return "\n".join(lines)


async def help_(ctx: Ctx, inv: Invocation) -> list[Reply]:
    """Every public command of the table; the admin ones too for an admin."""
    parts = [ctx.t("help_title"), *(_help_entry(ctx, c.name) for c in ctx.commands.public)]
    parts.append(ctx.t("help_names"))
    if ctx.incoming.is_admin:
        parts.append(ctx.t("help_admin"))
        parts.extend(_help_entry(ctx, c.name) for c in ctx.commands.admin)
    return [ctx.say(*parts)]


def _help_entry(ctx: Ctx, name: str) -> str:
    syntax, example = i18n.usage(ctx.lang, name)
    head = " ".join(filter(None, (ctx.cmd(name), syntax)))
    lines = [f"{head} — {i18n.describe(ctx.lang, name)}"]
    if example:
        lines.append("  " + ctx.t("help_example", example=ctx.cmd(name, example)))
    return "\n".join(lines)


async def stop(ctx: Ctx, inv: Invocation) -> list[Reply]:
    chat = ctx.chat
    async with ctx.deps.sessions.begin() as session:
        deleted = await delete_subscriber(session, chat.platform, chat.chat_id)
    if not deleted:
        return [ctx.say(ctx.t("stop_nothing"))]
    return [ctx.say(ctx.t("stopped", start=ctx.cmd("start")))]
