"""The Telegram adapter: a python-telegram-bot `Application` serving the command core.

    async with TelegramPlatform(runtime, core) as telegram:
        sender = TelegramSender(telegram.bot)      # pushes share the bot's connection pool
        ...                                        # run until told to stop

Long polling unless `telegram.webhook_url` is set; then the bot registers that URL (with
`telegram.webhook_secret`, or a random secret per start) and updates arrive through
`feed_webhook`, mounted by the web app (see bot/platforms/telegram_webhook.py).

With a `gate` (bot/app.py passes the one the delivery engine uses), every reply, button
answer and apology goes through it (bot/platforms/telegram/limiter.py), so replies and
pushes together keep Telegram's limits; pushes then use `TelegramSender(bot, gated=True)`.

Only private and group messages and button presses are taken: a channel is a push
target (publication adds the configured one as a subscriber), and answering a command
posted in a channel would publish the answer to every reader.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
import secrets
from datetime import timedelta
from types import TracebackType
from typing import Any, Final

from telegram import BotCommand, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.commands import Core
from bot.config import TelegramSettings
from bot.delivery.ratelimit import Gate
from bot.platforms.telegram.chat_admins import TelegramChatAdmins
from bot.platforms.telegram.limiter import GateLimiter
from bot.platforms.telegram.processor import ChatOrderedProcessor
from bot.platforms.telegram.replies import ReplySender, retrying
from bot.platforms.telegram.transport import AiohttpRequest
from bot.platforms.telegram.updates import Where, button_target, incoming, text_target
from bot.runtime import Runtime

log = logging.getLogger(__name__)

TgApp = Application[Any, Any, Any, Any, Any, Any]
ALLOWED_UPDATES: Final = (Update.MESSAGE, Update.CALLBACK_QUERY)
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
# The menu in Chinese for Chinese-speaking users, English for everyone else: the same rule
# the core's i18n.pick_language applies to replies (any non-"zh" language code -> English).
MENU_LANGUAGES: Final = (("", "en"), ("zh", "zh"))
READ_TIMEOUT = 10.0  # getUpdates adds its long-poll timeout to this


def build_application(
    settings: TelegramSettings,
    requests: tuple[AiohttpRequest, AiohttpRequest],
    *,
    polling: bool,
    concurrency: int,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> TgApp:
    """The Application on the aiohttp transport: `requests` = (API calls, getUpdates)."""
    if settings.token is None:
        raise ValueError("telegram.token is not set")
    calls, updates = requests
    builder = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.base_url)
        .request(calls)
        .get_updates_request(updates)
        .job_queue(None)  # scheduling is the publisher's; no second scheduler
        .concurrent_updates(ChatOrderedProcessor(concurrency))
    )
    if not polling:
        builder = builder.updater(None)  # updates come through feed_webhook
    if rate_limiter is not None:
        return builder.rate_limiter(rate_limiter).build()
    return builder.build()


class TelegramPlatform:
    """Owns the Telegram `Application`: start, serve updates, stop (an async context)."""

    def __init__(
        self,
        runtime: Runtime,
        core: Core,
        *,
        poll_timeout: float = 30.0,
        concurrency: int = 16,
        gate: Gate | None = None,
    ) -> None:
        self._settings = runtime.settings.telegram
        self._core = core
        self._admins = frozenset(self._settings.admins)
        self._poll_timeout = poll_timeout
        self._webhook_url = self._settings.webhook_url
        self._webhook_secret: str | None = None
        self._requests = (
            AiohttpRequest(
                connection_pool_size=self._settings.connection_pool, read_timeout=READ_TIMEOUT
            ),
            AiohttpRequest(connection_pool_size=1, read_timeout=READ_TIMEOUT),
        )
        limiter = None
        if gate is not None:
            margin = runtime.settings.delivery.retry_margin_seconds
            limiter = GateLimiter(gate, retry_margin=margin)
        self._app = build_application(
            self._settings,
            self._requests,
            polling=not self._webhook_url,
            concurrency=concurrency,
            rate_limiter=limiter,
        )
        self._app.add_handler(
            MessageHandler(
                filters.UpdateType.MESSAGE & filters.TEXT & ~filters.ChatType.CHANNEL,
                self._on_text,
            )
        )
        self._app.add_handler(CallbackQueryHandler(self._on_button))
        self._app.add_error_handler(self._on_error)

    # -- what the rest of the process uses ---------------------------------------------

    @property
    def bot(self) -> ExtBot[Any]:
        """The bot, for the delivery engine's `TelegramSender` (shares the connection pool)."""
        return self._app.bot

    @property
    def application(self) -> TgApp:
        return self._app

    @property
    def core(self) -> Core:
        """The core answering updates, bound to this bot's @username once started."""
        return self._core

    @property
    def webhook_mode(self) -> bool:
        return bool(self._webhook_url)

    async def __aenter__(self) -> TelegramPlatform:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """getMe, command menus, then polling or the webhook; undone if any step fails."""
        app = self._app
        try:
            await app.initialize()  # getMe: the username the core needs for /cmd@bot
            self._bind_core(app.bot.username)
            await self._set_commands()
            await app.start()
            if self._webhook_url:
                await self._set_webhook()
            else:
                assert app.updater is not None  # built with one for polling
                await app.updater.start_polling(
                    timeout=timedelta(seconds=self._poll_timeout),
                    allowed_updates=list(ALLOWED_UPDATES),
                )
        except BaseException:
            await self.stop()
            raise
        mode = "webhook" if self._webhook_url else "long polling"
        log.info("telegram: @%s serving by %s", app.bot.username, mode)

    async def stop(self) -> None:
        """Stop taking updates, finish the ones in hand, close connections. Idempotent."""
        app = self._app
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()  # waits for the updates being processed
        await app.shutdown()
        for request in self._requests:  # also when start failed before PTB owned them
            await request.shutdown()

    def webhook_secret_ok(self, secret: str | None) -> bool:
        """Whether a delivery carries the secret registered with setWebhook."""
        expected = self._webhook_secret
        if expected is None or secret is None:
            return False  # not in webhook mode (or not started): nothing is ours
        return hmac.compare_digest(secret.encode(), expected.encode())

    async def feed_webhook(self, body: bytes, secret: str | None) -> int:
        """One webhook delivery: the HTTP status to answer (200 once queued)."""
        if not self.webhook_secret_ok(secret):
            return 403
        if not self._app.running:
            return 503  # Telegram retries later
        try:
            data = json.loads(body)
            update = Update.de_json(data, self._app.bot) if isinstance(data, dict) else None
        except Exception as exc:  # any malformed body: refuse it, never crash the web app
            log.warning("telegram: unreadable webhook update: %r", exc)
            update = None
        if update is None:
            return 400
        await self._app.update_queue.put(update)
        return 200

    # -- start-up ----------------------------------------------------------------------

    def _bind_core(self, username: str) -> None:
        """The core with what only the running bot knows: its username (after getMe) and
        how to ask who administers a group (for changes to a group's subscription)."""
        deps = self._core.deps
        admins = {**deps.chat_admins, "telegram": TelegramChatAdmins(self._app.bot)}
        # CoreDeps is frozen.
        self._core = Core(dataclasses.replace(deps, bot_username=username, chat_admins=admins))

    async def _set_commands(self) -> None:
        for language_code, language in MENU_LANGUAGES:
            menu = [BotCommand(name, text) for name, text in self._core.command_menu(language)]
            try:
                await self._app.bot.set_my_commands(menu, language_code=language_code or None)
            except TelegramError as exc:  # the menu is a convenience: serve without it
                log.warning("telegram: setMyCommands(%s) failed: %s", language, exc)

    async def _set_webhook(self) -> None:
        configured = self._settings.webhook_secret
        self._webhook_secret = (
            configured.get_secret_value() if configured else secrets.token_urlsafe(32)
        )
        await self._app.bot.set_webhook(
            self._webhook_url,
            secret_token=self._webhook_secret,
            allowed_updates=list(ALLOWED_UPDATES),
        )

    # -- handlers ----------------------------------------------------------------------

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or message.text is None:
            return
        request = incoming(message.chat, message.from_user, message.text, self._admins)
        replies = await self._core.handle_text(request)
        await ReplySender(context.bot, text_target(message)).send_all(replies)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        try:  # at once: the client shows a spinner until the press is answered
            await retrying(context.bot)(query.answer)
        except TelegramError as exc:  # too old (e.g. pressed while the bot was down)
            log.info("telegram: answerCallbackQuery failed: %s", exc)
        where = button_target(query)
        if where is None or query.message is None or not query.data:
            return
        request = incoming(query.message.chat, query.from_user, query.data, self._admins)
        replies = await self._core.handle_button(request)
        await ReplySender(context.bot, where).send_all(replies)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log, and tell the user something went wrong; the application keeps running."""
        error = context.error
        if isinstance(error, Forbidden):  # blocked or kicked: nobody to apologise to
            log.info("telegram: %s", error)
            return
        log.error("telegram: update failed: %r", error, exc_info=error)
        where = _apology_target(update)
        if where is None:
            return
        user = update.effective_user if isinstance(update, Update) else None
        text = i18n.t(i18n.pick_language(None, user.language_code if user else None), "error")
        try:
            await context.bot.send_message(
                chat_id=where.chat_id, text=text, message_thread_id=where.thread_id
            )
        except TelegramError as exc:
            log.warning("telegram: could not send the apology: %s", exc)


def _apology_target(update: object) -> Where | None:
    if not isinstance(update, Update):
        return None
    if update.message is not None and update.message.chat.type != "channel":
        return text_target(update.message)
    if update.callback_query is not None:
        return button_target(update.callback_query)
    return None
