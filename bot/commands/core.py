"""`Core`: the platform-neutral entry point the adapters call."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot import i18n
from bot.commands import buttons
from bot.commands.bounds import LOG_CHARS
from bot.commands.context import Ctx
from bot.commands.deps import CoreDeps
from bot.commands.filters import IGNORE, Refuse, Update, decide
from bot.commands.flood import FloodGuard, Verdict
from bot.commands.group_admins import AdminCache
from bot.commands.parsing import parse_command
from bot.commands.router import Route, Router, Run
from bot.commands.spec import CommandTable
from bot.commands.table import COMMAND_TABLE, SERIES_COMMANDS
from bot.commands.types import Incoming, Invocation, Reply
from storage.subscribers import Subscriber, get_subscriber, update_settings

log = logging.getLogger(__name__)


class Core:
    """Commands and button presses in, rendered replies out; one instance per process.

    Every update goes the same way: parse or decode it, route it to a handler, let the
    route's filters drop or refuse it, check the flood guard, build the `Ctx`, run.
    """

    def __init__(self, deps: CoreDeps, *, table: CommandTable | None = None) -> None:
        self._deps = deps
        self._flood = FloodGuard(deps.flood)
        if table is None:  # /series only with several series: one series changes nothing
            several = deps.several_series
            table = COMMAND_TABLE.for_series(SERIES_COMMANDS) if several else COMMAND_TABLE
        self._table = table
        self._router = Router(table)
        self._admins = AdminCache()

    @property
    def deps(self) -> CoreDeps:
        return self._deps

    def parse(self, text: str, platform: str) -> Invocation | None:
        """The command in `text` as this core reads it (its table: /series only with
        several series); adapters ask before answering anything else with the help."""
        return parse_command(text, self._deps.bot_username, platform=platform, table=self._table)

    async def handle_text(self, incoming: Incoming) -> list[Reply]:
        """Replies to a text; [] when it is not for us (chatter, another bot's command)."""
        invocation = self.parse(incoming.text, incoming.chat.platform)
        route = self._router.for_text(invocation)
        return await self._dispatch(Update(incoming, invocation), route)

    async def handle_button(self, incoming: Incoming) -> list[Reply]:
        """Replies to a button press; `incoming.text` is the callback data.

        The data is untrusted (a forged update, an old client): anything that is not one
        of our payloads (bot/commands/buttons.py) is answered as an expired button.
        """
        route = self._router.for_button(buttons.decode(incoming.text))
        return await self._dispatch(Update(incoming), route)

    async def notice(self, incoming: Incoming, key: str, **fields: object) -> list[Reply]:
        """One of the i18n texts in the reader's language (adapters' own answers, such as
        a terminal choice number that no button has)."""

        async def run(ctx: Ctx) -> list[Reply]:
            return [ctx.say(ctx.t(key, **fields))]

        return await self._guarded(incoming, run)

    def command_menu(self, language: str) -> list[tuple[str, str]]:
        """(command, description) of the public commands, for Telegram's setMyCommands."""
        return self._table.menu(language)

    # -- internals -------------------------------------------------------------

    async def _dispatch(self, update: Update, route: Route) -> list[Reply]:
        decision = decide(route.filters, update)
        if decision is IGNORE:
            return []  # not for us: no reply, and the flood guard does not count it
        if isinstance(decision, Refuse):
            refusal = decision.key

            async def refuse(ctx: Ctx) -> list[Reply]:
                return [ctx.say(ctx.t(refusal))]

            return await self._guarded(update.incoming, refuse)
        if route.group_admins_only:
            return await self._guarded(update.incoming, self._for_group_admins(route.run))
        return await self._guarded(update.incoming, route.run)

    def _for_group_admins(self, run: Run) -> Run:
        """`run` for a group's admins; a polite refusal in the reader's language for
        other members. Checked inside the flood guard: every check may cost an API call."""

        async def checked(ctx: Ctx) -> list[Reply]:
            incoming = ctx.incoming
            chat = incoming.chat
            port = self._deps.chat_admins.get(chat.platform)
            # Channels are exempt: only their admins can post in them at all. Operators
            # (config) are trusted everywhere, as for the admin commands.
            if port is None or chat.kind != "group" or incoming.is_admin:
                return await run(ctx)
            now = self._deps.clock().timestamp()
            try:
                allowed = await self._admins.is_admin(port, chat, incoming.user_id, now)
            except Exception:
                log.warning("could not check the admins of %s", chat, exc_info=True)
                return [ctx.say(ctx.t("group_admin_unknown"))]
            return await run(ctx) if allowed else [ctx.say(ctx.t("group_admins_only"))]

        return checked

    async def _guarded(self, incoming: Incoming, run: Run) -> list[Reply]:
        verdict = self._check_flood(incoming)
        if verdict is Verdict.DROP:
            return []
        ctx = await self._context(incoming)
        if verdict is Verdict.WARN:
            return [ctx.say(ctx.t("slow_down"))]
        try:
            return await run(ctx)
        except Exception:
            text = i18n.clip(incoming.text, LOG_CHARS)
            log.exception("command failed: %r in %s", text, incoming.chat)
            return [ctx.say(ctx.t("error"))]

    def _check_flood(self, incoming: Incoming) -> Verdict:
        if incoming.is_admin:
            return Verdict.OK  # operators are trusted, and piped console sessions are fast
        chat = incoming.chat
        key = f"{chat.platform}:{incoming.user_id or chat.chat_id}"
        return self._flood.check(key, self._deps.clock().timestamp())

    async def _context(self, incoming: Incoming) -> Ctx:
        chat = incoming.chat
        async with self._deps.sessions() as session:
            subscriber = await get_subscriber(session, chat.platform, chat.chat_id)
        if subscriber is None:
            lang = i18n.pick_language(None, incoming.language_code)
            return Ctx(self._deps, incoming, None, lang, self._table)
        lang = i18n.pick_language(
            subscriber.language, incoming.language_code, subscriber.language_chosen
        )
        if lang != subscriber.language and chat.kind == "private":
            subscriber = await self._follow_client_language(subscriber, lang)
        return Ctx(self._deps, incoming, subscriber, lang, self._table)

    async def _follow_client_language(self, subscriber: Subscriber, lang: str) -> Subscriber:
        """Pushes to a private chat follow its client's language until /settings picks one
        (a group's members differ, so a group keeps the language it was created with)."""
        async with self._deps.sessions.begin() as session:
            await update_settings(session, subscriber.id, language=lang)
        return replace(subscriber, language=lang)
