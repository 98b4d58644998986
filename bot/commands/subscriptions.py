"""/subscribe, /unsubscribe and /sections (toggle buttons that edit their message)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.buttons import Toggle, ToggleKind, button
from bot.commands.context import Ctx, grid
from bot.commands.subscription_names import (
    Resolved,
    covers,
    resolve_names,
    with_section,
    without_section,
)
from bot.commands.types import Button, Invocation, Reply
from storage.subscribers import (
    ALL,
    Subscriber,
    Subscription,
    add_subscription,
    get_subscriber,
    remove_subscription,
    set_subscriptions,
)

ON, OFF = "✅", "⬜"


# --- texts ----------------------------------------------------------------------------


def valid_names(ctx: Ctx) -> str:
    taxonomy = ctx.deps.taxonomy
    sep = "（{}）" if ctx.lang == "zh" else " ({})"

    def item(key: str) -> str:
        return key + sep.format(taxonomy.display_name(key, ctx.lang))

    return "\n".join(
        (
            ctx.t("valid_sections", items=ctx.join(item(s.key) for s in taxonomy.sections)),
            ctx.t("valid_topics", items=ctx.join(item(t.key) for t in taxonomy.topics)),
            ctx.t("valid_all"),
        )
    )


def _names(ctx: Ctx, subscriptions: list[Subscription]) -> str:
    return ctx.join(ctx.name_of(s) for s in subscriptions)


def _unknown(ctx: Ctx, resolved: Resolved) -> list[str]:
    if not resolved.unknown:
        return []
    names = ctx.echo_list(resolved.unknown)
    return [ctx.t("unknown_names", names=names) + "\n" + valid_names(ctx)]


# --- /subscribe, /unsubscribe ---------------------------------------------------------


async def subscribe(ctx: Ctx, inv: Invocation) -> list[Reply]:
    if not inv.raw_args:
        example = ctx.cmd("subscribe", "论文" if ctx.lang == "zh" else "papers")
        usage = ctx.t("subscribe_usage", subscribe=ctx.cmd("subscribe"), example=example)
        return [ctx.say(usage, valid_names(ctx))]
    resolved = resolve_names(ctx.deps.taxonomy, inv.raw_args)
    added: list[Subscription] = []
    already: list[Subscription] = []
    if resolved.subscriptions:
        async with ctx.deps.sessions.begin() as session:
            subscriber, _ = await ctx.ensure_subscriber(session)
            current = set(subscriber.subscriptions)
            for wanted in resolved.subscriptions:
                if covers(tuple(current), wanted):
                    already.append(wanted)
                    continue
                await add_subscription(session, subscriber.id, wanted)
                added.append(wanted)
                current.add(wanted)
            if ALL in added:  # everything now: explicit sections are redundant
                kept = [s for s in current if s.kind == "topic"]
                await set_subscriptions(session, subscriber.id, [ALL, *kept])
    parts = []
    if added:
        parts.append(ctx.t("subscribed", names=_names(ctx, added)))
    if already:
        parts.append(ctx.t("already_subscribed", names=_names(ctx, already)))
    return [ctx.say(*parts, *_unknown(ctx, resolved))]


async def unsubscribe(ctx: Ctx, inv: Invocation) -> list[Reply]:
    if not inv.raw_args:
        example = ctx.cmd("unsubscribe", "论文" if ctx.lang == "zh" else "papers")
        usage = ctx.t("unsubscribe_usage", unsubscribe=ctx.cmd("unsubscribe"), example=example)
        return [ctx.say(usage, valid_names(ctx))]
    resolved = resolve_names(ctx.deps.taxonomy, inv.raw_args)
    removed: list[Subscription] = []
    missing: list[Subscription] = []
    if resolved.subscriptions:
        async with ctx.deps.sessions.begin() as session:
            chat = ctx.chat
            subscriber = await get_subscriber(session, chat.platform, chat.chat_id)
            for unwanted in resolved.subscriptions:
                done = subscriber is not None and await _remove(ctx, session, subscriber, unwanted)
                (removed if done else missing).append(unwanted)
                subscriber = await get_subscriber(session, chat.platform, chat.chat_id)
    parts = []
    if removed:
        parts.append(ctx.t("unsubscribed", names=_names(ctx, removed)))
    if missing:
        parts.append(ctx.t("not_subscribed", names=_names(ctx, missing)))
    return [ctx.say(*parts, *_unknown(ctx, resolved))]


async def _remove(
    ctx: Ctx, session: AsyncSession, subscriber: Subscriber, unwanted: Subscription
) -> bool:
    current = subscriber.subscriptions
    if unwanted == ALL:
        await set_subscriptions(session, subscriber.id, [])
        return bool(current)
    if unwanted.kind == "section" and ALL in current:
        await set_subscriptions(
            session, subscriber.id, without_section(ctx.deps.taxonomy, current, unwanted.key)
        )
        return True
    return await remove_subscription(session, subscriber.id, unwanted)


# --- /sections ------------------------------------------------------------------------


def sections_view(ctx: Ctx, subscriptions: tuple[Subscription, ...], *, edit: bool) -> Reply:
    taxonomy = ctx.deps.taxonomy
    section_buttons = [
        _toggle(ctx, "section", s.key, i, covers(subscriptions, Subscription("section", s.key)))
        for i, s in enumerate(taxonomy.sections)
    ]
    topic_buttons = [
        _toggle(ctx, "topic", t.key, i, Subscription("topic", t.key) in subscriptions)
        for i, t in enumerate(taxonomy.topics)
    ]
    everything = ALL in subscriptions
    all_button = button(f"{ON if everything else OFF} {ctx.t('everything')}", Toggle("all"))
    lines = [ctx.t("sections_title"), _state_line(ctx, subscriptions)]
    lines.append(ctx.t("valid_sections", items=" ".join(b.text for b in section_buttons)))
    lines.append(ctx.t("valid_topics", items=" ".join(b.text for b in topic_buttons)))
    if not ctx.has_buttons:
        example = ctx.cmd("subscribe", "论文" if ctx.lang == "zh" else "papers")
        lines.append(ctx.t("subscribe_usage", subscribe=ctx.cmd("subscribe"), example=example))
    rows = [[all_button], *grid(section_buttons, 3), *grid(topic_buttons, 3)]
    return ctx.say("\n".join(lines), buttons=rows, edit=edit)


def _state_line(ctx: Ctx, subscriptions: tuple[Subscription, ...]) -> str:
    if not subscriptions:
        return ctx.t("sections_none")
    return ctx.t("sections_state", names=_names(ctx, list(subscriptions)))


def _toggle(ctx: Ctx, kind: ToggleKind, key: str, index: int, on: bool) -> Button:
    name = ctx.deps.taxonomy.display_name(key, ctx.lang)
    return button(f"{ON if on else OFF} {name}", Toggle.of(kind, key, index))


async def sections(ctx: Ctx, inv: Invocation) -> list[Reply]:
    current = ctx.subscriber.subscriptions if ctx.subscriber else ()
    return [sections_view(ctx, current, edit=False)]


async def on_toggle(ctx: Ctx, toggle: Toggle) -> list[Reply]:
    target = _toggle_target(ctx, toggle)
    if target is None:
        return [ctx.say(ctx.t("expired_button"))]
    async with ctx.deps.sessions.begin() as session:
        subscriber, _ = await ctx.ensure_subscriber(session)
        await set_subscriptions(session, subscriber.id, _toggled(ctx, subscriber, target))
        subscriber, _ = await ctx.ensure_subscriber(session)
    return [sections_view(ctx.with_subscriber(subscriber), subscriber.subscriptions, edit=True)]


def _toggle_target(ctx: Ctx, toggle: Toggle) -> Subscription | None:
    """What the button switches, if the taxonomy still has it."""
    if toggle.kind == "all":
        return ALL
    taxonomy = ctx.deps.taxonomy
    pool = taxonomy.sections if toggle.kind == "section" else taxonomy.topics
    if toggle.index is not None:
        key = pool[toggle.index].key if toggle.index < len(pool) else None
    else:
        key = toggle.key if any(x.key == toggle.key for x in pool) else None
    return None if key is None else Subscription(toggle.kind, key)


def _toggled(ctx: Ctx, subscriber: Subscriber, target: Subscription) -> list[Subscription]:
    current = subscriber.subscriptions
    taxonomy = ctx.deps.taxonomy
    if target == ALL:
        topics = [s for s in current if s.kind == "topic"]
        return topics if ALL in current else [ALL, *topics]
    if target.kind == "section":
        if covers(current, target):
            return without_section(taxonomy, current, target.key)
        return with_section(taxonomy, current, target.key)
    if target in current:
        return [s for s in current if s != target]
    return [*current, target]
