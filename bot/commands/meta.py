"""/start, /help and /stop."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from bot import i18n
from bot.commands.context import Ctx
from bot.commands.subscription_model import Plan
from bot.commands.subscription_names import resolve_names
from bot.commands.subscriptions import plan_of, state_line
from bot.commands.types import Invocation, Reply
from storage.subscribers import (
    ALL,
    Subscriber,
    Subscription,
    delete_subscriber,
    set_subscriptions,
)
from storage.switches import corrections_switch

_PAYLOAD_SPLIT = re.compile(r"[-_+]")


async def start(ctx: Ctx, inv: Invocation) -> list[Reply]:
    notes: list[str] = []
    taxonomy = ctx.deps.taxonomy
    async with ctx.deps.sessions.begin() as session:
        subscriber, created = await ctx.ensure_subscriber(session)
        chosen = _payload_subscriptions(ctx, inv.raw_args)
        if inv.raw_args and not chosen:
            notes.append(ctx.t("unknown_payload", payload=ctx.echo(inv.raw_args)))
        before = plan = plan_of(ctx, subscriber)
        if not chosen and plan.empty and _default_is_all(ctx) and _primary_by_default(ctx):
            chosen = [ALL]
        for subscription in chosen:
            plan = plan.add(subscription, taxonomy)[0]
        if plan != before:
            await set_subscriptions(session, subscriber.id, plan.rows())
        if created and _default_is_all(ctx):
            await _default_series(ctx, session, subscriber.id)
        subscriber, _ = await ctx.ensure_subscriber(session)
    ctx = ctx.with_subscriber(subscriber)
    state = _state(ctx, subscriber, plan)
    if not created:
        # The greeting and the command list were said once; a second /start is usually
        # "is it still working?", answered by what the chat gets and where to go next.
        again = ctx.t("start_again", help=ctx.cmd("help"), sections=ctx.cmd("sections"))
        return [ctx.say(again, *notes, state)]
    greeting = ctx.t("welcome", title=ctx.deps.series.title)
    return [ctx.say(greeting, *notes, state, _command_list(ctx))]


def _payload_subscriptions(ctx: Ctx, payload: str) -> list[Subscription]:
    """A deep-link payload: one name, or several joined by - _ +, all of them known."""
    if not payload:
        return []
    whole = resolve_names(ctx.deps.taxonomy, payload)
    if whole.subscriptions and not whole.unknown:
        return list(whole.subscriptions)
    parts = resolve_names(ctx.deps.taxonomy, " ".join(_PAYLOAD_SPLIT.split(payload)))
    return list(parts.subscriptions) if parts.subscriptions and not parts.unknown else []


def _primary_by_default(ctx: Ctx) -> bool:
    catalog = ctx.deps.catalog
    return not catalog or catalog[0].default_subscription


async def _default_series(ctx: Ctx, session: AsyncSession, subscriber_id: int) -> None:
    """A new reader of several series: also everything of each other series that says
    `default_subscription = true` (the primary one is the plan above)."""
    for choice in ctx.deps.catalog[1:]:
        if choice.default_subscription:
            await set_subscriptions(session, subscriber_id, [ALL], series=choice.key)


def _default_is_all(ctx: Ctx) -> bool:
    if ctx.chat.platform in ("wechat", "wecom"):
        return True  # following the account / app is subscribing to the whole briefing
    return ctx.deps.settings.telegram.default_subscription == "all"


def _state(ctx: Ctx, subscriber: Subscriber, plan: Plan) -> str:
    if plan.empty:
        lines = [ctx.t("nothing_subscribed", sections=ctx.cmd("sections"))]
    else:
        lines = [state_line(ctx, plan)]
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
        parts.append(await _corrections_note(ctx))
    return [ctx.say(*parts)]


async def _corrections_note(ctx: Ctx) -> str:
    """How edits of published issues reach readers, whether they do now (the setting,
    then the admins' switch: bot/publish/corrections.py reads both), and how to switch
    that off."""
    publish = ctx.deps.settings.publish
    on = publish.corrections
    if on:
        async with ctx.deps.sessions() as session:
            on = (await corrections_switch(session)).on
    state = ctx.t("corrections_on" if on else "corrections_off")
    hours = f"{publish.corrections_window_hours:g}"
    switch = {
        "on": ctx.cmd("corrections", ctx.t("corrections_word_on")),
        "off": ctx.cmd("corrections", ctx.t("corrections_word_off")),
    }
    return ctx.t("help_corrections", hours=hours, state=state, **switch)


def _help_entry(ctx: Ctx, name: str) -> str:
    syntax, example = i18n.usage(ctx.lang, name)
    if "{series}" in example:  # an example only several series have: name a real one
        catalog = ctx.deps.catalog
        example = example.format(series=catalog[-1].series.slug) if catalog else ""
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
