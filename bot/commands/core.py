"""`Core`: the platform-neutral entry point the adapters call."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot import i18n
from bot.commands.bounds import LOG_CHARS, callback_fields
from bot.commands.context import Ctx
from bot.commands.deps import CoreDeps
from bot.commands.flood import FloodGuard, Verdict
from bot.commands.parsing import SLASHES, parse_command
from bot.commands.router import Router, build_router
from bot.commands.types import Incoming, Reply
from storage.subscribers import Subscriber, get_subscriber, update_settings

log = logging.getLogger(__name__)

_SHARED_CHATS = ("group", "channel")
_Run = Callable[[Ctx], Awaitable[list[Reply]]]


class Core:
    """Commands and button presses in, rendered replies out; one instance per process."""

    def __init__(self, deps: CoreDeps) -> None:
        self._deps = deps
        self._flood = FloodGuard(deps.flood)
        self._router: Router = build_router()

    @property
    def deps(self) -> CoreDeps:
        return self._deps

    async def handle_text(self, incoming: Incoming) -> list[Reply]:
        """Replies to a text; [] when it is not for us (chatter, another bot's command)."""
        chat = incoming.chat
        invocation = parse_command(incoming.text, self._deps.bot_username, platform=chat.platform)
        if invocation is None:
            text = incoming.text.strip()
            if chat.kind in _SHARED_CHATS or not text or text[0] in SLASHES:
                return []  # chatter, or a command for another bot
            return await self._guarded(incoming, self._not_a_command)
        command = self._router.commands.get(invocation.name)
        if command is None and chat.kind in _SHARED_CHATS and not invocation.mentioned:
            return []  # probably another bot's command, sent to every bot in the group

        async def run(ctx: Ctx) -> list[Reply]:
            if command is None:
                help_cmd = ctx.cmd("help")
                name = ctx.echo(f"/{invocation.name}")
                return [ctx.say(ctx.t("unknown_command", command=name, help=help_cmd))]
            if command.admin and not incoming.is_admin:
                return [ctx.say(ctx.t("admin_only"))]
            return await command.handler(ctx, invocation)

        return await self._guarded(incoming, run)

    async def handle_button(self, incoming: Incoming) -> list[Reply]:
        """Replies to a button press; `incoming.text` is the callback data.

        The data is untrusted (a forged update, an old client): anything that is not one
        of our buttons' shapes is answered as an expired button.
        """
        fields = callback_fields(incoming.text)
        button = None if fields is None else self._router.buttons.get(fields[0])

        async def run(ctx: Ctx) -> list[Reply]:
            if button is None or fields is None:
                return [ctx.say(ctx.t("expired_button"))]
            if button.admin and not incoming.is_admin:
                return [ctx.say(ctx.t("admin_only"))]
            return await button.handler(ctx, fields[1])

        return await self._guarded(incoming, run)

    async def notice(self, incoming: Incoming, key: str, **fields: object) -> list[Reply]:
        """One of the i18n texts in the reader's language (adapters' own answers, such as
        a terminal choice number that no button has)."""

        async def run(ctx: Ctx) -> list[Reply]:
            return [ctx.say(ctx.t(key, **fields))]

        return await self._guarded(incoming, run)

    def command_menu(self, language: str) -> list[tuple[str, str]]:
        """(command, description) of the public commands, for Telegram's setMyCommands."""
        lang = "en" if language == "en" else "zh"
        return [(c.name, i18n.describe(lang, c.name)) for c in self._router.menu()]

    # -- internals -------------------------------------------------------------

    async def _not_a_command(self, ctx: Ctx) -> list[Reply]:
        return [ctx.say(ctx.t("not_a_command", help=ctx.cmd("help")))]

    async def _guarded(self, incoming: Incoming, run: _Run) -> list[Reply]:
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
            return Ctx(self._deps, incoming, None, i18n.pick_language(None, incoming.language_code))
        lang = i18n.pick_language(
            subscriber.language, incoming.language_code, subscriber.language_chosen
        )
        if lang != subscriber.language and chat.kind == "private":
            subscriber = await self._follow_client_language(subscriber, lang)
        return Ctx(self._deps, incoming, subscriber, lang)

    async def _follow_client_language(self, subscriber: Subscriber, lang: str) -> Subscriber:
        """Pushes to a private chat follow its client's language until /settings picks one
        (a group's members differ, so a group keeps the language it was created with)."""
        async with self._deps.sessions.begin() as session:
            await update_settings(session, subscriber.id, language=lang)
        return replace(subscriber, language=lang)
