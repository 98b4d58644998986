"""A strict local Telegram Bot API server for end-to-end tests (aiohttp, loopback only).

It answers python-telegram-bot's real requests (`base_url=server.base_url`) for the methods
briefbot uses and refuses what Telegram refuses, in Telegram's words. Tests inject updates
and inspect what the bot sent:

    async with FakeTelegramServer() as server:
        bot = telegram.Bot(server.token, base_url=server.base_url)
        server.inject_command(42, "start")
        ...
        [reply] = await server.wait_for_messages(42, 1)

Standalone, for manual trials: `python -m tests.fakes.telegram_server --port 8081 --token 123:ABC`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from itertools import count
from typing import Any

from aiohttp import web

from tests.fakes import telegram_bot_methods as bot_methods
from tests.fakes import telegram_methods as message_methods
from tests.fakes.telegram_chats import ChatInfo, ChatRegistry, ChatStatus, infer_chat_type
from tests.fakes.telegram_control import control_routes
from tests.fakes.telegram_errors import (
    ApiError,
    internal_error,
    not_found,
    too_many_requests,
    unauthorized,
)
from tests.fakes.telegram_inject import FakeUser, callback_query, incoming_message
from tests.fakes.telegram_limits import (
    Clock,
    Fault,
    FaultInjector,
    FaultKind,
    Jitter,
    Latency,
    RateLimiter,
    RateLimits,
)
from tests.fakes.telegram_markup import inline_buttons
from tests.fakes.telegram_messages import HtmlValidator, StoredMessage, default_html_validator
from tests.fakes.telegram_params import Params, read_params
from tests.fakes.telegram_state import ApiCall, BotApiState, CallbackRecord, ChatAction

DEFAULT_TOKEN = "123456789:AAHfakeTokenForBriefbotEndToEndTests"
TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
LOG = logging.getLogger(__name__)

Handler = Callable[[BotApiState, Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {
    "getMe": bot_methods.get_me,
    "getUpdates": bot_methods.get_updates,
    "setWebhook": bot_methods.set_webhook,
    "deleteWebhook": bot_methods.delete_webhook,
    "getWebhookInfo": bot_methods.get_webhook_info,
    "setMyCommands": bot_methods.set_my_commands,
    "getMyCommands": bot_methods.get_my_commands,
    "deleteMyCommands": bot_methods.delete_my_commands,
    "close": bot_methods.close_bot,
    "logOut": bot_methods.close_bot,
    "sendMessage": message_methods.send_message,
    "editMessageText": message_methods.edit_message_text,
    "editMessageReplyMarkup": message_methods.edit_message_reply_markup,
    "deleteMessage": message_methods.delete_message,
    "sendChatAction": message_methods.send_chat_action,
    "getChat": message_methods.get_chat,
    "getChatMember": message_methods.get_chat_member,
    "sendPhoto": message_methods.send_photo,
    "answerCallbackQuery": message_methods.answer_callback_query,
}
# Telegram matches method names case-insensitively.
METHODS_BY_KEY = {name.lower(): (name, handler) for name, handler in METHODS.items()}


def _json_response(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


class FakeTelegramServer:
    """The fake Bot API plus the helpers a test needs to drive it and check the outcome.

    `html_validator(text) -> problems` adds rules to Telegram's own HTML parser; by default
    it is the project's checker, tests/formatters/telegram_html.validate_telegram_html
    (pass `telegram_only` for Telegram's rules alone). `rate_limits=RateLimits.off()`
    disables 429s, `RateLimits.strict()` holds every message call to Telegram's published
    buckets; `latency=Latency(before, after, seed)` delays each request by a random
    0..before seconds ahead of the bucket check (and 0..after behind it), as a real network
    bunches evenly sent requests; `answered_429` counts the 429s answered.
    `strict_chats=True` makes unregistered chat ids "chat not found".
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "briefbot_test_bot",
        bot_name: str = "Briefbot Test",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimits | None = None,
        html_validator: HtmlValidator | None = None,
        strict_chats: bool = False,
        clock: Clock = time.monotonic,
        latency: Latency | None = None,
    ) -> None:
        self.token = token
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        bot_id = int(token.split(":", 1)[0]) if TOKEN_SHAPE.fullmatch(token) else 1
        self.state = BotApiState(
            token=token,
            bot=FakeUser(bot_id, bot_name, bot_username, None, is_bot=True),
            chats=ChatRegistry(strict=strict_chats),
            html_validator=html_validator or default_html_validator(),
            limiter=RateLimiter(rate_limits or RateLimits(), clock),
        )
        self.faults = FaultInjector()
        self._jitter = Jitter(latency) if latency is not None else None
        self.internal_errors: list[BaseException] = []
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._hung: set[asyncio.Task[web.Response]] = set()
        self._ids = count(1)

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_routes(control_routes(self))
        app.router.add_route("*", "/{tail:.*}", self._unknown_path)
        # Cancelling handlers on disconnect ends abandoned long polls promptly.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._closing.set()
        self.state.updates.close()
        for task in list(self._hung):
            task.cancel()
        await asyncio.gather(*self._hung, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake Telegram server is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """What to pass as python-telegram-bot's `base_url` (it appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}{self.token}"

    # ---- request handling ------------------------------------------------------------

    async def _unknown_path(self, request: web.Request) -> web.Response:
        return _json_response(not_found().body(), 404)

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if not TOKEN_SHAPE.fullmatch(token):
            return _json_response(not_found().body(), 404)
        if token != self.token:
            return _json_response(unauthorized().body(), 401)
        entry = METHODS_BY_KEY.get(method.lower())
        if entry is None:
            return _json_response(not_found().body(), 404)
        name, handler = entry
        try:
            params = await read_params(request)
        except ApiError as exc:
            return _json_response(exc.body(), exc.code)
        call = ApiCall(name, params.values)
        self.state.calls.append(call)
        self.state.notify()
        if self._jitter is not None:
            await self._jitter.before()
        fault = self.faults.take(name, params.text("chat_id"))
        if fault is not None and fault.kind == "hang":
            return await self._hang(fault, handler, params, call)
        response = await self._respond(handler, params, call, fault)
        if self._jitter is not None:
            await self._jitter.after()
        return response

    async def _respond(
        self, handler: Handler, params: Params, call: ApiCall, fault: Fault | None
    ) -> web.Response:
        try:
            if fault is not None:
                raise _fault_error(fault)
            result = await handler(self.state, params)
        except ApiError as exc:
            call.status, call.description, call.answered = exc.code, exc.description, time.time()
            self.state.notify()
            return _json_response(exc.body(), exc.code)
        except Exception as exc:  # a bug in the fake: make the test fail loudly
            LOG.exception("fake Telegram server failed on %s", call.method)
            self.internal_errors.append(exc)
            call.status, call.description = 500, repr(exc)
            return _json_response(internal_error().body(), 500)
        call.status, call.answered = 200, time.time()
        self.state.notify()
        return _json_response({"ok": True, "result": result})

    async def _hang(
        self, fault: Fault, handler: Handler, params: Params, call: ApiCall
    ) -> web.Response:
        async def hang_then_answer() -> web.Response:
            await self._sleep(fault.hang_seconds)
            if not fault.then_process:
                return await self._respond(handler, params, call, _HUNG_UP)
            return await self._respond(handler, params, call, None)

        # Shielded: a call that goes on after the client gave up must still take effect.
        task = asyncio.ensure_future(hang_then_answer())
        self._hung.add(task)
        task.add_done_callback(self._hung.discard)
        return await asyncio.shield(task)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # ---- what the bot did --------------------------------------------------------------

    @property
    def messages(self) -> list[StoredMessage]:
        """Every message the bot sent and the server accepted, in order."""
        return list(self.state.log.sent)

    def messages_in(self, chat_id: int) -> list[StoredMessage]:
        return self.state.log.sent_to(chat_id)

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return self.state.log.get(chat_id, message_id)

    @property
    def calls(self) -> list[ApiCall]:
        """Every well-addressed request in order; `status` is None while one is unanswered."""
        return list(self.state.calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.state.calls if c.method.lower() == method.lower()]

    @property
    def answered_429(self) -> int:
        """How many requests were answered 429 (by the buckets or by an injected fault)."""
        return sum(1 for c in self.state.calls if c.status == 429)

    @property
    def chat_actions(self) -> list[ChatAction]:
        return list(self.state.chat_actions)

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        record = self.state.callback_queries.get(query_id)
        return record.answer if record else None

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The command menu stored by setMyCommands for that scope and language."""
        key = (bot_methods.scope_key(scope), language_code)
        return list(self.state.commands.get(key, []))

    @property
    def webhook(self) -> dict[str, Any] | None:
        return self.state.webhook

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return self.state.updates.pending

    # ---- chats ----------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> ChatInfo:
        return self.state.chats.ensure(
            chat_id,
            chat_type,
            title=title,
            username=username,
            first_name=first_name,
            language_code=language_code,
        )

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """The user's standing in the group, as getChatMember answers it."""
        self.state.chats.ensure(chat_id).members[user_id] = status

    def set_chat_status(self, chat_id: int, status: ChatStatus | str) -> ChatInfo:
        chat = self.state.chats.ensure(chat_id)
        chat.status = ChatStatus(status)
        return chat

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sends get 403 "bot was blocked by the user"."""
        self.set_chat_status(chat_id, ChatStatus.BLOCKED)

    def deactivate(self, chat_id: int) -> None:
        self.set_chat_status(chat_id, ChatStatus.DEACTIVATED)

    def kick(self, chat_id: int) -> None:
        self.set_chat_status(chat_id, ChatStatus.KICKED)

    def forget(self, chat_id: int) -> None:
        """Telegram no longer knows the chat: 400 "chat not found"."""
        self.set_chat_status(chat_id, ChatStatus.UNKNOWN)

    def migrate(self, chat_id: int, new_chat_id: int | None = None) -> int:
        """Upgrade a group to a supergroup; returns the supergroup's id."""
        old = self.state.chats.ensure(chat_id, "group")
        new_chat_id = new_chat_id or int(f"-100{abs(chat_id)}")
        self.state.chats.ensure(new_chat_id, "supergroup", title=old.title)
        old.status, old.migrate_to_chat_id = ChatStatus.MIGRATED, new_chat_id
        return new_chat_id

    # ---- faults ---------------------------------------------------------------------

    def inject_fault(
        self,
        method: str,
        kind: FaultKind,
        *,
        times: int = 1,
        chat_id: int | str | None = None,
        retry_after: int = 1,
        hang_seconds: float = 30.0,
        then_process: bool = False,
    ) -> Fault:
        """The next `times` calls to `method` (for `chat_id` only, if given) answer 500,
        429 with retry_after, or hang for `hang_seconds` (then succeed if `then_process`)."""
        return self.faults.add(
            Fault(method, kind, times, chat_id, retry_after, hang_seconds, then_process)
        )

    # ---- updates --------------------------------------------------------------------

    def inject_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update body such as {"message": {...}}; returns it with update_id."""
        update = self.state.updates.push(body)
        self.state.notify()
        return update

    def inject_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = "en",
        chat_type: str | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """A user's text message; private when chat_id > 0 (the user is the chat)."""
        chat_type = chat_type or infer_chat_type(chat_id)
        if chat_type == "private":
            user_id = chat_id
        elif user_id is None:
            raise ValueError("a group message needs the sender's user_id")
        sender = FakeUser(user_id, first_name, username, language_code)
        chat = self._chat_for_incoming(chat_id, chat_type, sender, title)
        message = incoming_message(chat, chat.next_message_id(), text, sender)
        self._store_incoming(chat, message)
        return self.inject_update({"message": message})

    def inject_command(
        self, chat_id: int, command: str, args: str = "", *, mention_bot: bool = False, **kw: Any
    ) -> dict[str, Any]:
        """`/command[@botname] args`, marked as a bot_command entity like Telegram does."""
        text = f"/{command.lstrip('/')}"
        if mention_bot:
            text += f"@{self.state.bot.username}"
        return self.inject_message(chat_id, f"{text} {args}".rstrip(), **kw)

    def inject_channel_post(
        self, chat_id: int, text: str, *, title: str | None = None, username: str | None = None
    ) -> dict[str, Any]:
        chat = self.state.chats.ensure(chat_id, "channel", title=title, username=username)
        message = incoming_message(chat, chat.next_message_id(), text, None)
        self._store_incoming(chat, message)
        return self.inject_update({"channel_post": message})

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        *,
        data: str | None = None,
        text: str | None = None,
        user_id: int | None = None,
        first_name: str = "Test",
        language_code: str | None = "en",
    ) -> str:
        """Press an inline button of a message the bot sent (chosen by callback_data or by
        its text); returns the callback query id the bot must answer."""
        message = self.state.log.get(chat_id, message_id)
        if message is None or not message.outgoing:
            raise LookupError(f"the bot sent no message {message_id} in chat {chat_id}")
        button = _find_button(inline_buttons(message.reply_markup), data, text)
        user_id = user_id if user_id is not None else chat_id
        if user_id <= 0:
            raise ValueError("a button press in a group needs the presser's user_id")
        query_id = f"{self.state.bot.id}{next(self._ids):08d}"
        self.state.callback_queries[query_id] = CallbackRecord(
            query_id, chat_id, message_id, button["callback_data"]
        )
        sender = FakeUser(user_id, first_name, None, language_code)
        query = callback_query(query_id, sender, dict(message.json), button["callback_data"])
        self.inject_update({"callback_query": query})
        return query_id

    def _chat_for_incoming(
        self, chat_id: int, chat_type: str, sender: FakeUser, title: str | None
    ) -> ChatInfo:
        if chat_type == "private":
            chat = self.state.chats.ensure(
                chat_id, "private", first_name=sender.first_name, username=sender.username,
                language_code=sender.language_code,
            )  # fmt: skip
            if chat.status is ChatStatus.BLOCKED:
                chat.status = ChatStatus.ACTIVE  # writing to the bot again unblocks it
            return chat
        return self.state.chats.ensure(chat_id, chat_type, title=title)

    def _store_incoming(self, chat: ChatInfo, message: dict[str, Any]) -> None:
        self.state.log.add(
            StoredMessage(
                chat_id=chat.id,
                message_id=message["message_id"],
                text=message["text"],
                parse_mode=None,
                reply_markup=None,
                visible_text=message["text"],
                entities=message.get("entities", []),
                outgoing=False,
                json=message,
            )
        )

    # ---- waiting --------------------------------------------------------------------

    async def wait_until(
        self, condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            await self.state.wait_for_change(remaining)

    async def wait_for_messages(
        self, chat_id: int, n: int = 1, timeout: float = 5.0
    ) -> list[StoredMessage]:
        """Wait until the bot has sent at least `n` messages to the chat; returns them all."""
        try:
            await self.wait_until(lambda: len(self.messages_in(chat_id)) >= n, timeout)
        except TimeoutError:
            got = [m.text for m in self.messages_in(chat_id)]
            refused = [
                (c.method, c.description) for c in self.state.calls if c.status not in (None, 200)
            ]
            raise TimeoutError(
                f"expected {n} message(s) in chat {chat_id} within {timeout}s; got "
                f"{len(got)}: {got!r}; refused calls: {refused[-5:]!r}"
            ) from None
        return self.messages_in(chat_id)

    async def wait_for_calls(self, method: str, n: int = 1, timeout: float = 5.0) -> list[ApiCall]:
        await self.wait_until(lambda: len(self.calls_to(method)) >= n, timeout, f"{n}× {method}")
        return self.calls_to(method)


_HUNG_UP = Fault("", "500")


def _fault_error(fault: Fault) -> ApiError:
    if fault.kind == "429":
        return too_many_requests(fault.retry_after)
    return internal_error()


def _find_button(
    buttons: Iterable[dict[str, Any]], data: str | None, text: str | None
) -> dict[str, Any]:
    for button in buttons:
        if "callback_data" not in button:
            continue
        if (data is None or button["callback_data"] == data) and (
            text is None or button["text"] == text
        ):
            return button
    raise LookupError(f"no inline button with callback_data={data!r} text={text!r}")


# ---- standalone ------------------------------------------------------------------------


def _limits(args: argparse.Namespace) -> RateLimits | None:
    if args.no_rate_limits:
        return RateLimits.off()
    return RateLimits.strict() if args.strict else None


async def serve(args: argparse.Namespace) -> None:
    server = FakeTelegramServer(
        token=args.token,
        host=args.host,
        port=args.port,
        rate_limits=_limits(args),
        strict_chats=args.strict_chats,
        latency=Latency(args.jitter, args.jitter, args.seed) if args.jitter else None,
    )
    await server.start()
    print(server.base_url, flush=True)
    print(
        f"token={server.token}  (python-telegram-bot: base_url={server.base_url!r}; "
        f"test controls under http://{server.host}:{server.port}/_fake/)",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API for local trials.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--no-rate-limits", action="store_true", help="never answer 429")
    parser.add_argument("--strict-chats", action="store_true", help="unknown ids: not found")
    parser.add_argument("--strict", action="store_true", help="RateLimits.strict(): edits too")
    parser.add_argument("--jitter", type=float, default=0.0, help="max latency (s) each way")
    parser.add_argument("--seed", type=int, default=None, help="seed of the latency jitter")
    asyncio.run(serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
