"""/search and its "next page" button.

The query is kept in the key/value state under a short hash, so the button's
payload (`SearchMore`: hash and page) stays far below Telegram's 64 bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot import i18n
from bot.commands.buttons import HASH_CHARS, SearchMore, button
from bot.commands.context import Ctx
from bot.commands.series import series_filter, unknown_series
from bot.commands.types import Button, Invocation, Reply
from storage.search import INTRO_KEY, QueryError, SearchHit, SearchPage, search
from storage.state import get_value, set_value

PER_PAGE = 5
STATE_PREFIX = "search:q:"


def query_hash(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()[:HASH_CHARS]


def has_next(page: SearchPage) -> bool:
    if page.has_more:
        return True
    return page.total is not None and page.page * (page.page_size or PER_PAGE) < page.total


async def search_cmd(ctx: Ctx, inv: Invocation) -> list[Reply]:
    query = inv.raw_args.strip()
    if not query:
        usage = ctx.t("search_usage", search=ctx.cmd("search"), example=ctx.cmd("search", "量化"))
        return [ctx.say(usage)]
    return [await _page(ctx, query, 1)]


async def _page(ctx: Ctx, query: str, number: int) -> Reply:
    asked = query
    switched = await series_filter(ctx, query)  # `series:NAME` (several series)
    if isinstance(switched, str):
        return unknown_series(ctx, switched)
    ctx, query = switched
    async with ctx.deps.sessions.begin() as session:
        try:
            page = await search(
                session,
                query,
                series_slug=ctx.deps.series.slug,
                page=number,
                per_page=PER_PAGE,
                taxonomy=ctx.deps.taxonomy,
            )
        except QueryError as exc:
            return ctx.say(ctx.t("search_bad", reason=query_error_text(ctx, exc)))
        if not page.hits:
            key = "search_none" if number == 1 else "search_end"
            return ctx.say(ctx.t(key, query=ctx.echo(query)))
        buttons: list[list[Button]] = []
        if has_next(page):
            digest = await _remember(ctx, session, asked)
            buttons.append([button(ctx.t("search_more"), SearchMore(digest, number + 1))])
    messages = ctx.renderer.search_results(localized(ctx, page))
    if buttons and not ctx.has_buttons:
        buttons = []  # text platforms: the renderer's "more results" line says it all
    return Reply(tuple(messages), tuple(tuple(r) for r in buttons))


def localized(ctx: Ctx, page: SearchPage) -> SearchPage:
    """Section names in the reader's language (the archive keeps the headings as written)."""
    if ctx.lang.startswith("zh"):
        return page
    hits = tuple(replace(hit, section_heading=_section_name(ctx, hit)) for hit in page.hits)
    return replace(page, hits=hits)


def _section_name(ctx: Ctx, hit: SearchHit) -> str:
    if hit.section_key == INTRO_KEY:
        return ctx.t("intro")
    known = any(s.key == hit.section_key for s in ctx.deps.taxonomy.sections)
    return (
        ctx.deps.taxonomy.display_name(hit.section_key, ctx.lang) if known else hit.section_heading
    )


async def _remember(ctx: Ctx, session: AsyncSession, query: str) -> str:
    digest = query_hash(query)
    await set_value(session, STATE_PREFIX + digest, {"query": query}, ctx.now())
    return digest


async def on_more(ctx: Ctx, more: SearchMore) -> list[Reply]:
    async with ctx.deps.sessions() as session:
        stored = await get_value(session, STATE_PREFIX + more.digest)
    if not isinstance(stored, dict) or not isinstance(stored.get("query"), str):
        return [ctx.say(ctx.t("expired_button"))]
    return [await _page(ctx, stored["query"], more.page)]


def query_error_text(ctx: Ctx, error: QueryError) -> str:
    """The reason in the user's language (the English message for an unknown code)."""
    key = f"query_{error.code}"
    if key not in i18n.TEXTS:
        return i18n.clip(str(error), i18n.ECHO_CHARS * 4)
    # Parameters such as `filter` repeat what the user typed.
    return ctx.t(key, **{k: ctx.echo(str(v)) for k, v in error.params.items()})
