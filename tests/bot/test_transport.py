"""AiohttpRequest under the real python-telegram-bot Bot, against the strict fake Bot API."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.platforms.telegram.transport import AiohttpRequest
from tests.fakes.telegram_fixtures import telegram_server_fixture  # noqa: F401  (fixture)
from tests.fakes.telegram_server import FakeTelegramServer


@pytest.fixture
async def bot(telegram_server: FakeTelegramServer) -> AsyncIterator[Bot]:
    request = AiohttpRequest(connection_pool_size=8, read_timeout=2.0)
    async with Bot(telegram_server.token, base_url=telegram_server.base_url, request=request) as b:
        yield b


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after  # int today, timedelta once PTB_TIMEDELTA is the default
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def test_get_me_and_html_message_with_inline_keyboard(
    bot: Bot, telegram_server: FakeTelegramServer
):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456789, "briefbot_test_bot", True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next »", callback_data="page:2")]])
    message = await bot.send_message(
        42, "<b>Brief</b> № 1 &amp; more", parse_mode="HTML", reply_markup=keyboard
    )
    assert message.text == "Brief № 1 & more" and message.chat.id == 42
    assert message.text_html == "<b>Brief</b> № 1 &amp; more"
    assert message.reply_markup == keyboard
    [stored] = telegram_server.messages_in(42)
    assert (stored.text, stored.parse_mode) == ("<b>Brief</b> № 1 &amp; more", "HTML")
    assert stored.reply_markup == {
        "inline_keyboard": [[{"text": "Next »", "callback_data": "page:2"}]]
    }


async def test_bad_request_carries_the_servers_description(
    bot: Bot, telegram_server: FakeTelegramServer
):
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(42, "<b>unclosed", parse_mode="HTML")
    [call] = telegram_server.calls_to("sendMessage")
    assert call.description is not None
    assert call.description.startswith("Bad Request: can't parse entities: ")
    # PTB drops the "Bad Request: " prefix and capitalizes what is left.
    assert caught.value.message == call.description.removeprefix("Bad Request: ").capitalize()
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        too_long = InlineKeyboardButton("x", callback_data="d" * 65)
        await bot.send_message(42, "x", reply_markup=InlineKeyboardMarkup([[too_long]]))


async def test_blocked_and_deactivated_users_are_forbidden(
    bot: Bot, telegram_server: FakeTelegramServer
):
    telegram_server.block(7)
    telegram_server.deactivate(8)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(7, "hi")
    with pytest.raises(Forbidden, match=r"^Forbidden: user is deactivated$"):
        await bot.send_message(8, "hi")


# PTB itself warns about RetryAfter's int form while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_is_retry_after(bot: Bot, telegram_server: FakeTelegramServer):
    telegram_server.inject_fault("sendMessage", "429", retry_after=5)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(42, "hi")
    assert retry_seconds(caught.value) == 5
    # The real rate limit: a private chat's burst is 3.
    for n in range(3):
        await bot.send_message(43, str(n))
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(43, "one too many")
    assert retry_seconds(caught.value) >= 1


async def test_migrated_group_is_chat_migrated(bot: Bot, telegram_server: FakeTelegramServer):
    new_id = telegram_server.migrate(-55)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-55, "hi")
    assert caught.value.new_chat_id == new_id
    assert (await bot.send_message(new_id, "hi")).chat.id == new_id


async def test_hung_request_times_out(bot: Bot, telegram_server: FakeTelegramServer):
    telegram_server.inject_fault("sendMessage", "hang", hang_seconds=10)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimedOut):
        await bot.send_message(42, "hi", read_timeout=0.3)
    assert loop.time() - started < 2
    assert (await bot.send_message(42, "next one")).text == "next one"


async def test_wrong_token_is_invalid_token(telegram_server: FakeTelegramServer):
    wrong = Bot("999:WRONG", base_url=telegram_server.base_url, request=AiohttpRequest())
    with pytest.raises(InvalidToken) as caught:
        await wrong.initialize()  # PTB checks the token with getMe
    await wrong.shutdown()
    assert isinstance(caught.value.__cause__, InvalidToken)
    assert caught.value.__cause__.message == "Unauthorized"


async def test_connection_refused_is_network_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(connect_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot1:A/getMe")
        assert not isinstance(caught.value, TimedOut)
        assert "aiohttp.Client" in caught.value.message
    finally:
        await request.shutdown()


async def test_full_pool_times_out_without_sending(telegram_server: FakeTelegramServer):
    telegram_server.inject_fault("sendMessage", "hang", hang_seconds=10)
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.2, read_timeout=3)
    async with Bot(telegram_server.token, base_url=telegram_server.base_url, request=request) as b:
        hung = asyncio.create_task(b.send_message(42, "hangs"))
        await telegram_server.wait_for_calls("sendMessage", 1)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await b.send_message(42, "never sent")
        hung.cancel()
    assert len(telegram_server.calls_to("sendMessage")) == 1


async def test_long_poll_outlasts_the_read_timeout(telegram_server: FakeTelegramServer):
    # PTB adds the poll timeout to read_timeout, so a 1 s read timeout must not cut a poll
    # answered after 2 s. Each answer comes a second or more before read timeout + poll
    # timeout: with 0.5 s, a loaded machine's stall could let both timers fire together.
    request = AiohttpRequest(connection_pool_size=1, read_timeout=1.0)
    base_url = telegram_server.base_url
    async with Bot(telegram_server.token, base_url=base_url, get_updates_request=request) as b:
        asyncio.get_running_loop().call_later(2.0, telegram_server.inject_message, 42, "late")
        [update] = await b.get_updates(timeout=4)
        assert update.message is not None and update.message.text == "late"
        assert await b.get_updates(offset=update.update_id + 1, timeout=2) == ()


async def test_application_round_trip_over_aiohttp(telegram_server: FakeTelegramServer):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = [[InlineKeyboardButton("Read", callback_data="read:1")]]
        await update.effective_message.reply_html(
            "<i>Welcome</i>", reply_markup=InlineKeyboardMarkup(keyboard)
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Opening")
        await query.edit_message_text(f"You chose {query.data}")

    app = (
        ApplicationBuilder()
        .token(telegram_server.token)
        .base_url(telegram_server.base_url)
        .request(AiohttpRequest(connection_pool_size=8))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1)
        telegram_server.inject_command(42, "start", mention_bot=True)
        [welcome] = await telegram_server.wait_for_messages(42, 1)
        query_id = telegram_server.press_button(42, welcome.message_id, data="read:1")
        await telegram_server.wait_until(lambda: bool(welcome.edits), what="the edit")
        await app.updater.stop()
        await app.stop()
    assert welcome.text == "You chose read:1"
    assert telegram_server.callback_answer(query_id) == {
        "text": "Opening", "show_alert": False, "url": None, "cache_time": 0,
    }  # fmt: skip
    assert telegram_server.pending_updates == []  # PTB confirmed everything on the way out


# ---- encoding parity with PTB's own HTTPX transport ---------------------------------------


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    """A server answering with what it received, as the Bot API's {"ok", "result"}."""

    async def echo(request: web.Request) -> web.Response:
        fields: dict[str, Any] = {}
        for name, value in (await request.post()).items():
            if isinstance(value, str):
                fields[name] = value
            else:
                fields[name] = ["file", value.filename, value.file.read().decode()]
        result = {
            "content_type": request.content_type,
            "user_agent": request.headers.get("User-Agent"),
            "fields": fields,
        }
        return web.json_response({"ok": True, "result": result})

    app = web.Application()
    app.router.add_post("/{tail:.*}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/bot1:A/sendDocument"
    await runner.cleanup()


def _request_data(with_file: bool) -> RequestData:
    values: dict[str, Any] = {
        "chat_id": -100123,
        "text": "naïve & <b>bold</b> ✓",
        "disable_notification": True,
        "reply_markup": InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="b")]]),
    }
    if with_file:
        values["document"] = InputFile(b"file body", filename="brief.txt")
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


@pytest.mark.parametrize("with_file", [False, True])
async def test_requests_are_encoded_like_httpx_request(echo_url: str, with_file: bool):
    received = []
    for request in (HTTPXRequest(), AiohttpRequest()):
        async with request:
            result = await request.post(echo_url, request_data=_request_data(with_file))
            assert isinstance(result, dict)
            received.append(result)
    httpx_seen, aiohttp_seen = received
    assert aiohttp_seen == httpx_seen
    assert aiohttp_seen["user_agent"] == BaseRequest.USER_AGENT
    expected_type = "multipart/form-data" if with_file else "application/x-www-form-urlencoded"
    assert aiohttp_seen["content_type"] == expected_type
    fields = aiohttp_seen["fields"]
    assert fields["chat_id"] == "-100123" and fields["disable_notification"] == "true"
    assert fields["text"] == "naïve & <b>bold</b> ✓"
    keyboard = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    assert json.loads(fields["reply_markup"]) == keyboard
    if with_file:
        assert fields["document"] == ["file", "brief.txt", "file body"]


# ---- lifecycle ------------------------------------------------------------------------------


async def test_lifecycle_and_configuration(telegram_server: FakeTelegramServer):
    request = AiohttpRequest(connection_pool_size=3, read_timeout=7)
    assert (request.read_timeout, request.connection_pool_size) == (7, 3)
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{telegram_server.api_url}/getMe", "POST")
    for _ in range(2):  # shut down, then usable again after initialize()
        await request.initialize()
        status, _ = await request.do_request(f"{telegram_server.api_url}/getMe", "POST")
        assert status == 200
        await request.shutdown()
        await request.shutdown()
    with pytest.raises(ValueError):
        AiohttpRequest(connection_pool_size=0)
