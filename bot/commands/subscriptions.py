"""/subscribe, /unsubscribe and /sections (toggle buttons that edit their message).

Each of them first brings the series' taxonomy up to date: a series with free `##`
headings has the sections its stored issues have now (bot/series_sections.py), so
`/sections widgets` lists "Tool of the week" and `/subscribe widgets tool-of-the-week`
finds it; a series whose layout names its sections keeps its taxonomy as configured.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bot.commands import series
from bot.commands.buttons import Toggle, ToggleKind, button
from bot.commands.context import Ctx, grid
from bot.commands.subscription_model import Outcome, Plan
from bot.commands.subscription_names import Resolved, resolve_names
from bot.commands.types import Button, Invocation, Reply
from bot.series_sections import add_sections
from storage.subscribers import ALL, Subscriber, Subscription, get_subscriber, set_subscriptions

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


def _example(ctx: Ctx) -> tuple[str, ...]:
    """What a usage line shows to subscribe to: 论文 / papers, or the first section (or
    topic) of a series without it; another series' slug first."""
    taxonomy = ctx.deps.taxonomy
    within = () if ctx.deps.is_primary else (ctx.deps.series.slug,)
    if taxonomy.resolve("papers") == ("section", "papers"):
        return (*within, "论文" if ctx.lang == "zh" else "papers")
    first = next(iter((*taxonomy.sections, *taxonomy.topics)), None)
    return (*within, first.key if first else "all")


def _names(ctx: Ctx, subscriptions: Iterable[Subscription]) -> str:
    return ctx.join(ctx.name_of(s) for s in subscriptions)


def _unknown(ctx: Ctx, resolved: Resolved) -> list[str]:
    if not resolved.unknown:
        return []
    names = ctx.echo_list(resolved.unknown)
    return [ctx.t("unknown_names", names=names) + "\n" + valid_names(ctx)]


def plan_of(ctx: Ctx, subscriber: Subscriber | None) -> Plan:
    if subscriber is None:
        return Plan.nothing()
    return Plan.of(subscriber.subscriptions, ctx.deps.taxonomy)


def state_line(ctx: Ctx, plan: Plan) -> str:
    """What the chat now receives, in the reader's language and the taxonomy's order."""
    if plan.empty:
        return ctx.t("sections_none")
    if plan.everything:
        return ctx.t("sections_state", names=ctx.t("everything"))
    return ctx.t("sections_state", names=_names(ctx, plan.ordered(ctx.deps.taxonomy)))


def _grouped(outcomes: list[tuple[Subscription, Outcome]]) -> dict[Outcome, list[Subscription]]:
    grouped: dict[Outcome, list[Subscription]] = {}
    for item, outcome in outcomes:
        grouped.setdefault(outcome, []).append(item)
    return grouped


async def with_seen_sections(ctx: Ctx) -> Ctx:
    """The request with its series' sections as its stored issues have them now."""
    seen = ctx.deps.sections_seen
    if seen is None:
        return ctx
    taxonomy = await seen.taxonomy(ctx.deps.series.slug, ctx.deps.taxonomy)
    if seen.takes(ctx.deps.series.slug) and ctx.subscriber is not None:
        # A section the reader follows that the newest issues no longer have stays one
        # it can see and drop (`/unsubscribe widgets interview`), named by its key.
        known = {section.key for section in taxonomy.sections}
        kept = [
            (s.key, s.key)
            for s in ctx.subscriber.subscriptions
            if s.kind == "section" and s.key not in known
        ]
        taxonomy = add_sections(taxonomy, kept) if kept else taxonomy
    if taxonomy is ctx.deps.taxonomy:
        return ctx
    return replace(ctx, deps=replace(ctx.deps, taxonomy=taxonomy))


# --- /subscribe, /unsubscribe ---------------------------------------------------------


async def subscribe(ctx: Ctx, inv: Invocation) -> list[Reply]:
    ctx = await with_seen_sections(ctx)
    if not inv.raw_args:
        example = ctx.cmd("subscribe", *_example(ctx))
        usage = ctx.t("subscribe_usage", subscribe=ctx.cmd("subscribe"), example=example)
        return [ctx.say(usage, valid_names(ctx))]
    taxonomy = ctx.deps.taxonomy
    resolved = resolve_names(taxonomy, inv.raw_args)
    if not resolved.subscriptions:
        return [ctx.say(state_line(ctx, plan_of(ctx, ctx.subscriber)), *_unknown(ctx, resolved))]
    outcomes: list[tuple[Subscription, Outcome]] = []
    async with ctx.deps.sessions.begin() as session:
        subscriber, _ = await ctx.ensure_subscriber(session)
        before = plan = plan_of(ctx, subscriber)
        for wanted in resolved.subscriptions:
            plan, outcome = plan.add(wanted, taxonomy)
            outcomes.append((wanted, outcome))
        if plan != before:
            await set_subscriptions(session, subscriber.id, plan.rows(), series=ctx.series_key)
    grouped = _grouped(outcomes)
    parts = []
    if Outcome.ADDED in grouped:
        parts.append(ctx.t("subscribed", names=_names(ctx, grouped[Outcome.ADDED])))
    if Outcome.ALREADY in grouped:
        parts.append(ctx.t("already_subscribed", names=_names(ctx, grouped[Outcome.ALREADY])))
    if Outcome.INCLUDED in grouped:
        names = _names(ctx, grouped[Outcome.INCLUDED])
        parts.append(ctx.t("included_in_everything", names=names))
    parts.append(state_line(ctx, plan))
    return [ctx.say("\n".join(parts), *_unknown(ctx, resolved))]


async def unsubscribe(ctx: Ctx, inv: Invocation) -> list[Reply]:
    ctx = await with_seen_sections(ctx)
    if not inv.raw_args:
        example = ctx.cmd("unsubscribe", *_example(ctx))
        usage = ctx.t("unsubscribe_usage", unsubscribe=ctx.cmd("unsubscribe"), example=example)
        return [ctx.say(usage, valid_names(ctx))]
    taxonomy = ctx.deps.taxonomy
    resolved = resolve_names(taxonomy, inv.raw_args)
    if not resolved.subscriptions:
        return [ctx.say(state_line(ctx, plan_of(ctx, ctx.subscriber)), *_unknown(ctx, resolved))]
    outcomes: list[tuple[Subscription, Outcome]] = []
    async with ctx.deps.sessions.begin() as session:
        chat = ctx.chat
        # No subscriber is created here: unsubscribing must not leave data behind.
        subscriber = await get_subscriber(
            session, chat.platform, chat.chat_id, series=ctx.series_key
        )
        before = plan = plan_of(ctx, subscriber)
        for unwanted in resolved.subscriptions:
            plan, outcome = plan.remove(unwanted, taxonomy)
            outcomes.append((unwanted, outcome))
        if subscriber is not None and plan != before:
            await set_subscriptions(session, subscriber.id, plan.rows(), series=ctx.series_key)
    parts = []
    for item, outcome in outcomes:
        if item == ALL:
            parts.append(ctx.t("unsubscribed_all" if outcome is Outcome.REMOVED else "nothing_was"))
    grouped = _grouped([(i, o) for i, o in outcomes if i != ALL])
    if Outcome.REMOVED in grouped:
        parts.append(ctx.t("unsubscribed", names=_names(ctx, grouped[Outcome.REMOVED])))
    if Outcome.ABSENT in grouped:
        parts.append(ctx.t("not_subscribed", names=_names(ctx, grouped[Outcome.ABSENT])))
    still = [i for i in grouped.get(Outcome.REMOVED, []) if plan.still_delivers(i)]
    parts.append(state_line(ctx, plan))
    # Said, not hidden: a section and a topic overlap, so taking one away may not stop
    # all of its entries.
    topics = [i for i in still if i.kind == "topic"]
    if topics:
        parts.append(ctx.t("topic_still_in_sections", names=_names(ctx, topics)))
    sections = [i for i in still if i.kind == "section"]
    if sections:
        parts.append(ctx.t("section_still_by_topics", names=_names(ctx, sections)))
    return [ctx.say("\n".join(parts), *_unknown(ctx, resolved))]


# --- /sections ------------------------------------------------------------------------


def sections_view(ctx: Ctx, plan: Plan, *, edit: bool) -> Reply:
    taxonomy = ctx.deps.taxonomy
    section_buttons = [
        _toggle(ctx, "section", s.key, i, plan.includes(Subscription("section", s.key)))
        for i, s in enumerate(taxonomy.sections)
    ]
    topic_buttons = [
        _toggle(ctx, "topic", t.key, i, plan.includes(Subscription("topic", t.key)))
        for i, t in enumerate(taxonomy.topics)
    ]
    mark = ON if plan.everything else OFF
    everything = Toggle("all", series=ctx.series_key)
    all_button = button(f"{mark} {ctx.t('everything_button')}", everything)
    lines = [ctx.t("sections_title"), state_line(ctx, plan)]
    if ctx.deps.several_series:  # whose sections: the series' title first
        lines.insert(0, f"{ctx.deps.series.title} ({ctx.deps.series.slug})")
    lines.append(ctx.t("valid_sections", items=" ".join(b.text for b in section_buttons)))
    lines.append(ctx.t("valid_topics", items=" ".join(b.text for b in topic_buttons)))
    if not ctx.has_buttons:
        example = ctx.cmd("subscribe", *_example(ctx))
        lines.append(ctx.t("subscribe_usage", subscribe=ctx.cmd("subscribe"), example=example))
    rows = [[all_button], *grid(section_buttons, 3), *grid(topic_buttons, 3)]
    return ctx.say("\n".join(lines), buttons=rows, edit=edit)


def _toggle(ctx: Ctx, kind: ToggleKind, key: str, index: int, on: bool) -> Button:
    name = ctx.deps.taxonomy.display_name(key, ctx.lang)
    return button(f"{ON if on else OFF} {name}", Toggle.of(kind, key, index, ctx.series_key))


async def sections(ctx: Ctx, inv: Invocation) -> list[Reply]:
    ctx = await with_seen_sections(ctx)
    return [sections_view(ctx, plan_of(ctx, ctx.subscriber), edit=False)]


async def on_toggle(ctx: Ctx, toggle: Toggle) -> list[Reply]:
    if toggle.kind == "series" or toggle.series:  # several series (bot/commands/series.py)
        if toggle.kind == "series":
            return await series.on_series(ctx, toggle)
        choice = next((c for c in ctx.deps.catalog if c.key == toggle.series), None)
        if choice is None:
            return [ctx.say(ctx.t("expired_button"))]
        ctx = await ctx.in_series(choice)
    ctx = await with_seen_sections(ctx)
    target = _toggle_target(ctx, toggle)
    if target is None:
        return [ctx.say(ctx.t("expired_button"))]
    async with ctx.deps.sessions.begin() as session:
        subscriber, _ = await ctx.ensure_subscriber(session)
        plan = plan_of(ctx, subscriber).toggle(target, ctx.deps.taxonomy)
        await set_subscriptions(session, subscriber.id, plan.rows(), series=ctx.series_key)
        subscriber, _ = await ctx.ensure_subscriber(session)
    return [sections_view(ctx.with_subscriber(subscriber), plan, edit=True)]


def _toggle_target(ctx: Ctx, toggle: Toggle) -> Subscription | None:
    """What the button switches, if the taxonomy still has it."""
    if toggle.kind == "all":
        return ALL
    if toggle.kind == "series":
        return None
    taxonomy = ctx.deps.taxonomy
    pool = taxonomy.sections if toggle.kind == "section" else taxonomy.topics
    if toggle.index is not None:
        key = pool[toggle.index].key if toggle.index < len(pool) else None
    else:
        key = toggle.key if any(x.key == toggle.key for x in pool) else None
    return None if key is None else Subscription(toggle.kind, key)
