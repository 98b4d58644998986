"""/series and choosing a series in other commands (several `[[series]]` configured).

`/series` lists the series, each with a button that subscribes to it (everything) or
unsubscribes from it; on text platforms `/series NAME` does the same. Other commands
take a series first (`/latest widgets`, `/sections widgets`, `/subscribe widgets
releases`, `/search series:widgets release`): `series_aware` switches the request to
that series (its taxonomy, the reader's subscriptions to it) before the handler runs.
With one series none of this shows: /series is not in the menus, and a first word
is never taken for a series.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from bot.commands.buttons import Toggle, button
from bot.commands.context import Ctx
from bot.commands.deps import SeriesChoice
from bot.commands.types import Invocation, Reply
from storage.subscribers import ALL, get_subscriber, set_subscriptions, subscribed_series

Handler = Callable[[Ctx, Invocation], Awaitable[list[Reply]]]
ON, OFF = "✅", "⬜"
_SERIES_FILTER = re.compile(r"(?:^|\s)series:(\S+)", re.IGNORECASE)


async def split_series(ctx: Ctx, inv: Invocation) -> tuple[Ctx, Invocation]:
    """`/cmd SERIES rest...`: the request switched to SERIES, and the rest; as it was when
    the first word names no series (or only one series is configured)."""
    if not ctx.deps.several_series or not inv.args:
        return ctx, inv
    choice = ctx.deps.find_series(inv.args[0])
    if choice is None:
        return ctx, inv
    rest = inv.args[1:]
    return await ctx.in_series(choice), Invocation(inv.name, rest, " ".join(rest), inv.mentioned)


def series_aware(handler: Handler) -> Handler:
    """The handler, run on the series its first argument names (if any)."""

    async def run(ctx: Ctx, inv: Invocation) -> list[Reply]:
        ctx, inv = await split_series(ctx, inv)
        return await handler(ctx, inv)

    run.__name__ = run.__qualname__ = getattr(handler, "__name__", "handler")
    return run


async def series_filter(ctx: Ctx, query: str) -> tuple[Ctx, str] | str:
    """A search query's `series:NAME`: the request switched to it and the query without
    it; the unknown name (a str) when there is no such series."""
    match = _SERIES_FILTER.search(query)
    if match is None or not ctx.deps.several_series:
        return ctx, query
    choice = ctx.deps.find_series(match.group(1))
    if choice is None:
        return match.group(1)
    rest = (query[: match.start()] + " " + query[match.end() :]).strip()
    return await ctx.in_series(choice), rest


def unknown_series(ctx: Ctx, name: str) -> Reply:
    names = ctx.join(c.series.slug for c in ctx.deps.catalog)
    return ctx.say(ctx.t("unknown_series", name=ctx.echo(name), names=names))


# --- /series ------------------------------------------------------------------------


async def series_cmd(ctx: Ctx, inv: Invocation) -> list[Reply]:
    if not ctx.deps.several_series:
        return [ctx.say(ctx.t("only_one_series", title=ctx.deps.series.title))]
    if inv.raw_args:
        choice = ctx.deps.find_series(inv.raw_args)
        if choice is None:
            return [unknown_series(ctx, inv.raw_args)]
        return await _switch(ctx, choice, edit=False)
    return [await series_view(ctx, edit=False)]


async def on_series(ctx: Ctx, toggle: Toggle) -> list[Reply]:
    """A /series button: the series on or off, then the list again (edited in place)."""
    choice = next((c for c in ctx.deps.catalog if c.key == toggle.series), None)
    if choice is None or not ctx.deps.several_series:
        return [ctx.say(ctx.t("expired_button"))]
    return await _switch(ctx, choice, edit=True)


async def _switch(ctx: Ctx, choice: SeriesChoice, *, edit: bool) -> list[Reply]:
    async with ctx.deps.sessions.begin() as session:
        subscriber, _ = await ctx.ensure_subscriber(session)
        subscribed = choice.key in await subscribed_series(session, subscriber.id)
        wanted = [] if subscribed else [ALL]
        await set_subscriptions(session, subscriber.id, wanted, series=choice.key)
    said = "series_unsubscribed" if subscribed else "series_subscribed"
    view = await series_view(ctx, edit=edit, note=ctx.t(said, title=choice.series.title))
    return [view]


async def series_view(ctx: Ctx, *, edit: bool, note: str = "") -> Reply:
    subscribed: set[str] = set()
    async with ctx.deps.sessions() as session:
        subscriber = await get_subscriber(session, ctx.chat.platform, ctx.chat.chat_id)
        if subscriber is not None:
            subscribed = await subscribed_series(session, subscriber.id)
    lines = [note] if note else []
    lines.append(ctx.t("series_title" if ctx.has_buttons else "series_title_text"))
    buttons = []
    for choice in ctx.deps.catalog:
        mark = ON if choice.key in subscribed else OFF
        lines.append(f"{mark} {choice.series.title} ({choice.series.slug})")
        toggle = Toggle("series", series=choice.key)
        buttons.append([button(f"{mark} {choice.series.title}", toggle)])
    example = ctx.deps.catalog[-1].series.slug
    lines.append(
        ctx.t(
            "series_hint",
            latest=ctx.cmd("latest", example),
            sections=ctx.cmd("sections", example),
            series=ctx.cmd("series", example),
        )
    )
    return ctx.say("\n".join(lines), buttons=buttons if ctx.has_buttons else (), edit=edit)
