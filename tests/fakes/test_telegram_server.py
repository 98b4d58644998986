"""The fake Bot API's own rules, checked on the wire (status, error_code, description)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp
import pytest

from tests.fakes.telegram_entities import parse_html
from tests.fakes.telegram_fixtures import (  # noqa: F401  (fixtures)
    telegram_server_factory_fixture,
    telegram_server_fixture,
)
from tests.fakes.telegram_limits import Jitter, Latency, RateLimits
from tests.fakes.telegram_messages import default_html_validator, telegram_only
from tests.fakes.telegram_server import FakeTelegramServer

Reply = tuple[int, dict[str, Any]]


async def call(server: FakeTelegramServer, method: str, token: str = "", **params: Any) -> Reply:
    """POST like python-telegram-bot: form-encoded, non-strings JSON-encoded."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    url = f"http://127.0.0.1:{server.port}/bot{token or server.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, data=form) as response:
        return response.status, await response.json()


async def send(server: FakeTelegramServer, chat_id: int | str, text: str, **params: Any) -> Reply:
    return await call(server, "sendMessage", chat_id=chat_id, text=text, **params)


def accepted(reply: Reply) -> bool:
    return reply[0] == 200 and reply[1]["ok"] is True


NOTHING: Reply = (200, {"ok": True, "result": []})
TRUE: Reply = (200, {"ok": True, "result": True})


def refused(code: int, description: str, **parameters: Any) -> Reply:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---- addressing ---------------------------------------------------------------------


async def test_get_me_describes_the_bot_named_by_the_token(telegram_server: FakeTelegramServer):
    status, body = await call(telegram_server, "getMe")
    assert status == 200 and body["ok"] is True
    assert body["result"]["id"] == int(telegram_server.token.split(":")[0])
    assert body["result"]["is_bot"] is True
    assert body["result"]["username"] == "briefbot_test_bot"


async def test_wrong_token_is_unauthorized_and_malformed_token_not_found(telegram_server):
    assert await call(telegram_server, "getMe", token="123:WRONG") == refused(401, "Unauthorized")
    assert await call(telegram_server, "getMe", token="not-a-token") == refused(404, "Not Found")


async def test_unknown_method_and_path_are_not_found(telegram_server: FakeTelegramServer):
    assert await call(telegram_server, "sendTelepathy") == refused(404, "Not Found")
    url = f"http://127.0.0.1:{telegram_server.port}/nothing"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 404
        assert await response.json() == refused(404, "Not Found")[1]


async def test_method_names_are_case_insensitive(telegram_server: FakeTelegramServer):
    status, body = await call(telegram_server, "SENDMESSAGE", chat_id=5, text="hi")
    assert status == 200 and body["result"]["text"] == "hi"
    assert telegram_server.calls_to("sendMessage")[0].method == "sendMessage"


async def test_json_body_and_query_string_are_accepted(telegram_server: FakeTelegramServer):
    base = telegram_server.api_url
    async with aiohttp.ClientSession() as session:
        payload = {"chat_id": 5, "text": "json", "reply_markup": {"inline_keyboard": [[]]}}
        async with session.post(f"{base}/sendMessage", json=payload) as response:
            assert (await response.json())["result"]["text"] == "json"
        async with session.get(f"{base}/sendMessage?chat_id=5&text=query") as response:
            assert (await response.json())["result"]["text"] == "query"
    assert [m.text for m in telegram_server.messages_in(5)] == ["json", "query"]


# ---- sendMessage ----------------------------------------------------------------------


async def test_accepted_messages_are_recorded_in_order(telegram_server: FakeTelegramServer):
    markup = {"inline_keyboard": [[{"text": "More", "callback_data": "more:1"}]]}
    before = time.time()
    await call(telegram_server, "sendMessage", chat_id=7, text="<b>one</b>", parse_mode="HTML",
               reply_markup=markup)  # fmt: skip
    await call(telegram_server, "sendMessage", chat_id=8, text="other chat")
    _, body = await send(telegram_server, 7, "two")
    first, second = telegram_server.messages_in(7)
    assert (first.chat_id, first.message_id, first.text) == (7, 1, "<b>one</b>")
    assert (first.parse_mode, first.reply_markup, first.visible_text) == ("HTML", markup, "one")
    assert before <= first.time <= time.time()
    assert (second.message_id, second.parse_mode, second.reply_markup) == (2, None, None)
    assert body["result"]["message_id"] == 2 and body["result"]["chat"]["id"] == 7
    assert [m.chat_id for m in telegram_server.messages] == [7, 8, 7]


async def test_missing_chat_or_text_is_refused(telegram_server: FakeTelegramServer):
    assert await call(telegram_server, "sendMessage", text="x") == refused(
        400, "Bad Request: chat_id is empty"
    )
    assert await call(telegram_server, "sendMessage", chat_id=1) == refused(
        400, "Bad Request: message text is empty"
    )
    # Only whitespace once the markup is gone: empty, as Telegram trims the text.
    reply = await send(telegram_server, 1, "<b> </b>\n", parse_mode="HTML")
    assert reply == refused(400, "Bad Request: message text is empty")
    assert telegram_server.messages == []


async def test_length_limit_counts_visible_utf16_units(telegram_server: FakeTelegramServer):
    too_long = refused(400, "Bad Request: message is too long")
    assert accepted(await send(telegram_server, 1, "a" * 4096))
    assert await send(telegram_server, 1, "a" * 4097) == too_long
    # An emoji outside the BMP is two UTF-16 units.
    assert accepted(await send(telegram_server, 1, "😀" * 2048))
    assert await send(telegram_server, 1, "😀" * 2049) == too_long
    # Markup and character references do not count; what the reader sees does.
    html = "<b>" + "&amp;" * 4096 + "</b>"
    assert accepted(await send(telegram_server, 1, html, parse_mode="HTML"))
    html = "<b>" + "&amp;" * 4097 + "</b>"
    assert await send(telegram_server, 1, html, parse_mode="HTML") == too_long


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("a <br/> b", 'Unsupported start tag "br/" at byte offset 2'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("ok</b>", "Unexpected end tag at byte offset 2"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("é<b", "Unclosed start tag at byte offset 2"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_html_telegram_rejects_is_refused_in_its_words(
    telegram_server: FakeTelegramServer, html: str, problem: str
):
    reply = await send(telegram_server, 1, html, parse_mode="HTML")
    assert reply == refused(400, f"Bad Request: can't parse entities: {problem}")
    assert telegram_server.messages == []


async def test_same_text_without_parse_mode_is_plain(telegram_server: FakeTelegramServer):
    status, body = await send(telegram_server, 1, "<b>bold")
    assert status == 200 and body["result"]["text"] == "<b>bold"


async def test_unknown_parse_mode_is_refused(telegram_server: FakeTelegramServer):
    reply = await send(telegram_server, 1, "x", parse_mode="BBCode")
    assert reply == refused(400, "Bad Request: unsupported parse_mode")


async def test_html_becomes_text_and_utf16_entities(telegram_server: FakeTelegramServer):
    html = (
        '😀 <b>Top</b> &lt;news&gt; <a href="https://example.org/a?b=1&amp;c=2">link</a>\n'
        '<pre><code class="language-python">x = 1</code></pre>'
    )
    status, body = await send(telegram_server, 1, html, parse_mode="html")
    assert status == 200
    result = body["result"]
    assert result["text"] == "😀 Top <news> link\nx = 1"
    assert result["entities"] == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "text_link", "offset": 14, "length": 4, "url": "https://example.org/a?b=1&c=2"},
        {"type": "pre", "offset": 19, "length": 5, "language": "python"},
    ]


async def test_injected_validator_adds_rules_after_telegrams(telegram_server_factory):
    def no_italics(text: str) -> list[str]:
        return ["italics are banned here"] if "<i>" in text else []

    server = await telegram_server_factory(html_validator=no_italics)
    reply = await send(server, 1, "<i>x</i>", parse_mode="HTML")
    assert reply == refused(400, "Bad Request: can't parse entities: italics are banned here")
    assert accepted(await send(server, 1, "<b>x</b>", parse_mode="HTML"))
    # Telegram's own refusals come first, in Telegram's words.
    reply = await send(server, 1, "<i>x", parse_mode="HTML")
    assert reply[1]["description"] == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"i\""
    )
    reply = await send(server, 1, "<i>" + "x" * 4097 + "</i>", parse_mode="HTML")
    assert reply == refused(400, "Bad Request: message is too long")
    # Plain text is never checked as HTML.
    assert accepted(await send(server, 1, "<i>x</i>"))


async def test_telegram_only_accepts_what_telegram_accepts(telegram_server_factory):
    server = await telegram_server_factory(html_validator=telegram_only)
    assert accepted(await send(server, 1, "1 > 0 & <b>ok</b>", parse_mode="HTML"))


def test_default_validator_is_the_projects_checker():
    checker = pytest.importorskip("tests.formatters.telegram_html")
    assert default_html_validator() is checker.validate_telegram_html
    assert FakeTelegramServer().state.html_validator is checker.validate_telegram_html


@pytest.mark.parametrize(
    "html",
    [
        "<b>Brief</b> № 12 — <i>embedded</i> AI",
        '<a href="https://example.org/?a=1&amp;b=2">src</a> &lt;tag&gt; &quot;q&quot; &#169;',
        '<pre><code class="language-c">int x = 1 &lt; 2;</code></pre>',
        "<blockquote expandable>😀 quoted</blockquote>\n<tg-spoiler>hidden</tg-spoiler>",
    ],
)
def test_projects_checker_agrees_with_the_servers_parser(html: str):
    checker = pytest.importorskip("tests.formatters.telegram_html")
    assert checker.validate_telegram_html(html) == []
    assert checker.visible_text(html) == parse_html(html)[0]


@pytest.mark.parametrize(
    ("button", "description"),
    [
        ({"text": "x", "callback_data": "d" * 65}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "x", "callback_data": "я" * 33}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "x", "callback_data": ""}, "Bad Request: BUTTON_DATA_INVALID"),
        (
            {"text": "x"},
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        (
            {"callback_data": "a"},
            'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String',
        ),
        (
            {"text": "x", "url": "example.org"},
            "Bad Request: inline keyboard button URL 'example.org' is invalid: Wrong HTTP URL",
        ),
    ],
)
async def test_bad_inline_buttons_are_refused(telegram_server, button: dict, description: str):
    markup = {"inline_keyboard": [[button]]}
    reply = await send(telegram_server, 1, "x", reply_markup=markup)
    assert reply == refused(400, description)


async def test_callback_data_up_to_64_bytes_is_accepted(telegram_server: FakeTelegramServer):
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "d" * 64}],
                                  [{"text": "b", "callback_data": "я" * 32}]]}  # fmt: skip
    status, body = await send(telegram_server, 1, "x", reply_markup=markup)
    assert status == 200 and body["result"]["reply_markup"] == markup


async def test_unparsable_reply_markup_is_refused(telegram_server: FakeTelegramServer):
    reply = await send(telegram_server, 1, "x", reply_markup="{oops")
    assert reply == refused(400, "Bad Request: can't parse reply keyboard markup JSON object")
    reply = await send(telegram_server, 1, "x", reply_markup={"inline_keyboard": "nope"})
    description = "should be an Array of Arrays"
    assert reply == refused(
        400, f'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup {description}'
    )


async def test_link_preview_options_and_legacy_flag_are_kept(telegram_server: FakeTelegramServer):
    preview = {"is_disabled": True, "url": "https://x.org"}
    await send(telegram_server, 1, "a", link_preview_options=preview)
    await send(telegram_server, 1, "b", disable_web_page_preview=True)
    await send(telegram_server, 1, "c", message_thread_id=99)
    a, b, c = telegram_server.messages_in(1)
    assert a.link_preview_options == {"is_disabled": True, "url": "https://x.org"}
    assert b.link_preview_options == {"is_disabled": True}
    assert c.link_preview_options is None and c.message_thread_id == 99


# ---- chats that refuse ------------------------------------------------------------------


async def test_refusing_chats_answer_like_telegram(telegram_server: FakeTelegramServer):
    telegram_server.block(10)
    telegram_server.deactivate(11)
    telegram_server.forget(12)
    telegram_server.kick(-13)
    new_id = telegram_server.migrate(-14)
    send = lambda chat_id: call(telegram_server, "sendMessage", chat_id=chat_id, text="x")  # noqa: E731
    assert await send(10) == refused(403, "Forbidden: bot was blocked by the user")
    assert await send(11) == refused(403, "Forbidden: user is deactivated")
    assert await send(12) == refused(400, "Bad Request: chat not found")
    assert await send(-13) == refused(403, "Forbidden: bot was kicked from the group chat")
    assert await send(-14) == refused(
        400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=new_id
    )
    assert new_id == -10014
    assert (await send(new_id))[0] == 200
    assert [m.chat_id for m in telegram_server.messages] == [new_id]
    assert await send("not-a-chat") == refused(400, "Bad Request: chat not found")


async def test_strict_chats_know_only_registered_ones(telegram_server_factory):
    server = await telegram_server_factory(strict_chats=True)
    assert await call(server, "sendMessage", chat_id=77, text="x") == refused(
        400, "Bad Request: chat not found"
    )
    server.inject_message(77, "hello")  # the user wrote first: now the chat exists
    server.add_chat(-1001, "channel", username="briefs")
    assert (await call(server, "sendMessage", chat_id=77, text="x"))[0] == 200
    status, body = await call(server, "sendMessage", chat_id="@briefs", text="x")
    assert status == 200 and body["result"]["chat"]["id"] == -1001


async def test_writing_again_unblocks_a_user(telegram_server: FakeTelegramServer):
    telegram_server.block(10)
    telegram_server.inject_message(10, "/start")
    assert (await call(telegram_server, "sendMessage", chat_id=10, text="welcome back"))[0] == 200


# ---- flood control and faults -------------------------------------------------------------


async def test_private_chat_gets_429_after_its_burst(telegram_server_factory):
    clock = Clock()
    server = await telegram_server_factory(rate_limits=RateLimits(private_burst=3), clock=clock)
    for n in range(3):
        assert (await call(server, "sendMessage", chat_id=1, text=str(n)))[0] == 200
    flood = refused(429, "Too Many Requests: retry after 1", retry_after=1)
    assert await call(server, "sendMessage", chat_id=1, text="too fast") == flood
    assert (await call(server, "sendMessage", chat_id=2, text="other user"))[0] == 200
    clock.now += 1.0
    assert (await call(server, "sendMessage", chat_id=1, text="later"))[0] == 200
    assert await call(server, "sendMessage", chat_id=1, text="again") == flood
    assert [m.text for m in server.messages_in(1)] == ["0", "1", "2", "later"]


async def test_group_gets_20_messages_a_minute(telegram_server_factory):
    clock = Clock()
    limits = RateLimits(group_burst=20, global_per_second=None)
    server = await telegram_server_factory(rate_limits=limits, clock=clock)
    for n in range(20):
        assert (await call(server, "sendMessage", chat_id=-5, text=str(n)))[0] == 200
    assert await call(server, "sendMessage", chat_id=-5, text="x") == refused(
        429, "Too Many Requests: retry after 3", retry_after=3
    )
    clock.now += 3.0
    assert (await call(server, "sendMessage", chat_id=-5, text="x"))[0] == 200


async def test_global_rate_spans_chats(telegram_server_factory):
    clock = Clock()
    limits = RateLimits(global_per_second=2, global_burst=2, private_per_second=None)
    server = await telegram_server_factory(rate_limits=limits, clock=clock)
    assert (await call(server, "sendMessage", chat_id=1, text="a"))[0] == 200
    assert (await call(server, "sendMessage", chat_id=2, text="b"))[0] == 200
    status, body = await call(server, "sendMessage", chat_id=3, text="c")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    clock.now += 0.5
    assert (await call(server, "sendMessage", chat_id=3, text="c"))[0] == 200


async def test_rate_limits_can_be_switched_off(telegram_server_factory):
    server = await telegram_server_factory(rate_limits=RateLimits.off())
    replies = [await call(server, "sendMessage", chat_id=1, text=str(n)) for n in range(40)]
    assert {status for status, _ in replies} == {200}


async def test_faults_hit_the_next_calls_for_the_chat(telegram_server: FakeTelegramServer):
    telegram_server.inject_fault("sendMessage", "500", times=2, chat_id=1)
    telegram_server.inject_fault("sendMessage", "429", chat_id=2, retry_after=7)
    send = lambda chat_id: call(telegram_server, "sendMessage", chat_id=chat_id, text="x")  # noqa: E731
    assert (await send(3))[0] == 200  # another chat is untouched
    assert await send(1) == refused(500, "Internal Server Error")
    assert await send(1) == refused(500, "Internal Server Error")
    assert (await send(1))[0] == 200
    assert await send(2) == refused(429, "Too Many Requests: retry after 7", retry_after=7)
    assert (await send(2))[0] == 200
    assert [m.chat_id for m in telegram_server.messages] == [3, 1, 2]


async def test_hang_outlasts_the_client_and_may_still_deliver(telegram_server: FakeTelegramServer):
    telegram_server.inject_fault("sendMessage", "hang", hang_seconds=0.6, then_process=True)
    timeout = aiohttp.ClientTimeout(total=0.2)
    url = f"{telegram_server.api_url}/sendMessage"
    async with aiohttp.ClientSession(timeout=timeout) as session:
        with pytest.raises(TimeoutError):
            await session.post(url, data={"chat_id": "1", "text": "late"})
    assert telegram_server.messages == []
    # Telegram got it after all: the client saw a timeout, the user sees the message.
    [message] = await telegram_server.wait_for_messages(1, 1, timeout=2)
    assert message.text == "late"


async def test_hang_without_processing_delivers_nothing(telegram_server: FakeTelegramServer):
    telegram_server.inject_fault("sendMessage", "hang", hang_seconds=0.3)
    reply = await call(telegram_server, "sendMessage", chat_id=1, text="lost")
    assert reply == refused(500, "Internal Server Error")
    assert telegram_server.messages == []


# ---- updates --------------------------------------------------------------------------


async def test_long_poll_returns_as_soon_as_an_update_arrives(telegram_server: FakeTelegramServer):
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, telegram_server.inject_message, 42, "hello")
    started = loop.time()
    status, body = await call(telegram_server, "getUpdates", timeout=10)
    elapsed = loop.time() - started
    assert status == 200 and [u["message"]["text"] for u in body["result"]] == ["hello"]
    assert 0.15 < elapsed < 2


async def test_long_poll_waits_out_its_timeout(telegram_server: FakeTelegramServer):
    started = time.monotonic()
    assert await call(telegram_server, "getUpdates", timeout=0.5) == NOTHING
    assert time.monotonic() - started >= 0.45


async def test_offset_confirms_earlier_updates(telegram_server: FakeTelegramServer):
    first = telegram_server.inject_message(1, "a")["update_id"]
    telegram_server.inject_message(2, "b")
    telegram_server.inject_message(3, "c")
    ids = lambda reply: [u["update_id"] for u in reply[1]["result"]]  # noqa: E731
    assert ids(await call(telegram_server, "getUpdates")) == [first, first + 1, first + 2]
    # Not confirmed yet: delivered again, limit applies.
    assert ids(await call(telegram_server, "getUpdates", limit=2)) == [first, first + 1]
    later = [first + 1, first + 2]
    assert ids(await call(telegram_server, "getUpdates", offset=first + 1)) == later
    # first is gone for good, even without an offset.
    assert ids(await call(telegram_server, "getUpdates")) == later
    assert ids(await call(telegram_server, "getUpdates", offset=first + 3)) == []
    assert telegram_server.pending_updates == []


async def test_negative_offset_keeps_only_the_last_updates(telegram_server: FakeTelegramServer):
    for text in "abcd":
        telegram_server.inject_message(1, text)
    reply = await call(telegram_server, "getUpdates", offset=-2)
    assert [u["message"]["text"] for u in reply[1]["result"]] == ["c", "d"]
    reply = await call(telegram_server, "getUpdates")
    assert [u["message"]["text"] for u in reply[1]["result"]] == ["c", "d"]


async def test_allowed_updates_filters_and_persists(telegram_server: FakeTelegramServer):
    telegram_server.inject_message(1, "text")
    telegram_server.inject_channel_post(-1002, "post")
    reply = await call(telegram_server, "getUpdates", allowed_updates=["channel_post"])
    assert [list(u)[1] for u in reply[1]["result"]] == ["channel_post"]
    telegram_server.inject_message(1, "more text")
    reply = await call(telegram_server, "getUpdates")  # the setting is remembered
    assert [list(u)[1] for u in reply[1]["result"]] == ["channel_post"]


async def test_second_poller_terminates_the_first(telegram_server: FakeTelegramServer):
    first = asyncio.create_task(call(telegram_server, "getUpdates", timeout=5))
    # Until the server holds the first poll: a fixed 0.2 s let a loaded machine's second
    # request arrive first, and the first then ended the second instead.
    await telegram_server.wait_for_calls("getUpdates", 1, timeout=30)
    second = asyncio.create_task(call(telegram_server, "getUpdates", timeout=0.3))
    assert await first == refused(
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running",
    )
    assert (await second)[0] == 200


async def test_webhook_blocks_get_updates_until_deleted(telegram_server: FakeTelegramServer):
    telegram_server.inject_message(1, "queued")
    hook = {"url": "https://bot.example.org/hook", "secret_token": "s3cret", "max_connections": 5}
    assert (await call(telegram_server, "setWebhook", **hook))[1]["result"] is True
    assert await call(telegram_server, "getUpdates") == refused(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
        "delete the webhook first",
    )
    info = (await call(telegram_server, "getWebhookInfo"))[1]["result"]
    assert info == {
        "url": "https://bot.example.org/hook",
        "has_custom_certificate": False,
        "pending_update_count": 1,
        "max_connections": 5,
    }
    assert (telegram_server.webhook or {}).get("secret_token") == "s3cret"
    await call(telegram_server, "deleteWebhook", drop_pending_updates=True)
    assert await call(telegram_server, "getUpdates") == NOTHING
    assert (await call(telegram_server, "getWebhookInfo"))[1]["result"]["url"] == ""


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "An HTTPS URL must be provided for webhook"),
        ("https://a.org:8080/hook", "Webhook can be set up only on ports 80, 88, 443 or 8443"),
    ],
)
async def test_webhook_url_rules(telegram_server: FakeTelegramServer, url: str, reason: str):
    assert await call(telegram_server, "setWebhook", url=url) == refused(
        400, f"Bad Request: bad webhook: {reason}"
    )


# ---- injected updates ----------------------------------------------------------------------


async def test_group_message_carries_sender_and_language(telegram_server: FakeTelegramServer):
    update = telegram_server.inject_message(-300, "hola", user_id=9, language_code="es",
                                             title="Team")  # fmt: skip
    message = update["message"]
    assert message["chat"] == {"id": -300, "type": "group", "title": "Team"}
    sender = message["from"]
    assert (sender["id"], sender["is_bot"], sender["language_code"]) == (9, False, "es")
    with pytest.raises(ValueError):
        telegram_server.inject_message(-300, "who?")


async def test_command_with_bot_mention_is_one_bot_command_entity(telegram_server):
    update = telegram_server.inject_command(5, "digest", "weekly", mention_bot=True)
    message = update["message"]
    assert message["text"] == "/digest@briefbot_test_bot weekly"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 25}]


async def test_channel_post_has_a_sender_chat_and_no_user(telegram_server: FakeTelegramServer):
    update = telegram_server.inject_channel_post(-1001, "news", title="Briefs")
    post = update["channel_post"]
    assert post["chat"] == {"id": -1001, "type": "channel", "title": "Briefs"}
    assert post["sender_chat"] == post["chat"] and "from" not in post


async def test_button_press_references_the_message_and_is_answered_once(telegram_server):
    markup = {"inline_keyboard": [[{"text": "Next", "callback_data": "page:2"}]]}
    sent = (await send(telegram_server, 5, "page 1", reply_markup=markup))[1]
    query_id = telegram_server.press_button(5, sent["result"]["message_id"], text="Next")
    [update] = telegram_server.pending_updates
    query = update["callback_query"]
    assert (query["id"], query["data"], query["from"]["id"]) == (query_id, "page:2", 5)
    assert query["message"]["message_id"] == sent["result"]["message_id"]
    assert query["message"]["reply_markup"] == markup
    reply = await call(telegram_server, "answerCallbackQuery", callback_query_id=query_id, text="k")
    assert reply == TRUE
    assert (telegram_server.callback_answer(query_id) or {}).get("text") == "k"
    again = await call(telegram_server, "answerCallbackQuery", callback_query_id=query_id)
    assert again == refused(
        400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    with pytest.raises(LookupError):
        telegram_server.press_button(5, sent["result"]["message_id"], data="page:3")


# ---- editing, deleting, chat actions, getChat --------------------------------------------


async def test_edits_are_checked_and_recorded(telegram_server: FakeTelegramServer):
    sent = (await call(telegram_server, "sendMessage", chat_id=5, text="draft"))[1]["result"]
    edit = dict(chat_id=5, message_id=sent["message_id"])
    status, body = await call(telegram_server, "editMessageText", text="<b>final</b>",
                              parse_mode="HTML", **edit)  # fmt: skip
    assert status == 200 and body["result"]["text"] == "final" and "edit_date" in body["result"]
    again = await call(telegram_server, "editMessageText", text=" <b>final</b>", parse_mode="HTML",
                       **edit)  # fmt: skip
    assert again[0] == 400
    assert again[1]["description"].startswith("Bad Request: message is not modified")
    markup = {"inline_keyboard": [[{"text": "ok", "callback_data": "ok"}]]}
    reply = await call(telegram_server, "editMessageReplyMarkup", reply_markup=markup, **edit)
    assert accepted(reply)
    [message] = telegram_server.messages_in(5)
    assert (message.text, message.reply_markup) == ("<b>final</b>", markup)
    assert [e["text"] for e in message.edits] == ["draft", "<b>final</b>"]
    missing = await call(telegram_server, "editMessageText", chat_id=5, message_id=99, text="x")
    assert missing == refused(400, "Bad Request: message to edit not found")


async def test_deleted_messages_cannot_be_deleted_or_edited(telegram_server: FakeTelegramServer):
    sent = (await call(telegram_server, "sendMessage", chat_id=5, text="oops"))[1]["result"]
    key = dict(chat_id=5, message_id=sent["message_id"])
    assert await call(telegram_server, "deleteMessage", **key) == TRUE
    assert await call(telegram_server, "deleteMessage", **key) == refused(
        400, "Bad Request: message to delete not found"
    )
    assert (await call(telegram_server, "editMessageText", text="x", **key))[1]["description"] == (
        "Bad Request: message to edit not found"
    )
    assert telegram_server.messages_in(5)[0].deleted


async def test_chat_actions_and_get_chat(telegram_server: FakeTelegramServer):
    telegram_server.add_chat(5, first_name="Ann", username="ann")
    assert (await call(telegram_server, "sendChatAction", chat_id=5, action="typing"))[0] == 200
    assert await call(telegram_server, "sendChatAction", chat_id=5, action="dancing") == refused(
        400, "Bad Request: wrong parameter action in request"
    )
    assert [(a.chat_id, a.action) for a in telegram_server.chat_actions] == [(5, "typing")]
    chat = (await call(telegram_server, "getChat", chat_id=5))[1]["result"]
    assert (chat["id"], chat["type"], chat["first_name"]) == (5, "private", "Ann")
    assert chat["username"] == "ann"


# ---- command menus -------------------------------------------------------------------------


async def test_commands_are_stored_per_scope_and_language(telegram_server: FakeTelegramServer):
    en = [{"command": "start", "description": "Subscribe"}]
    de = [{"command": "start", "description": "Abonnieren"}]
    groups = {"type": "all_group_chats"}
    await call(telegram_server, "setMyCommands", commands=en)
    await call(telegram_server, "setMyCommands", commands=de, language_code="de")
    await call(telegram_server, "setMyCommands", commands=de[:0] + en, scope=groups)
    assert (await call(telegram_server, "getMyCommands"))[1]["result"] == en
    assert (await call(telegram_server, "getMyCommands", language_code="de"))[1]["result"] == de
    assert (await call(telegram_server, "getMyCommands", language_code="fr"))[1]["result"] == []
    assert telegram_server.commands(groups) == en
    assert telegram_server.commands(language_code="de") == de
    await call(telegram_server, "deleteMyCommands", language_code="de")
    assert telegram_server.commands(language_code="de") == []
    one_chat = {"type": "chat", "chat_id": -100777}
    await call(telegram_server, "setMyCommands", commands=de, scope=one_chat, language_code="de")
    assert telegram_server.commands({"type": "chat", "chat_id": "-100777"}, "de") == de
    assert telegram_server.commands({"type": "chat", "chat_id": -100778}, "de") == []


TOO_MANY = "Bad Request: BOT_COMMANDS_TOO_MUCH"


@pytest.mark.parametrize(
    ("commands", "description"),
    [
        ([{"command": "Start", "description": "x"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "sub-scribe", "description": "x"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "s" * 33, "description": "x"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "start", "description": ""}], "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
        ([{"command": f"c{n}", "description": "x"} for n in range(101)], TOO_MANY),
    ],
)
async def test_invalid_commands_are_refused(telegram_server, commands: list, description: str):
    reply = await call(telegram_server, "setMyCommands", commands=commands)
    assert reply == refused(400, description)
    assert telegram_server.commands() == []


# ---- helpers for tests ------------------------------------------------------------------------


async def test_wait_for_messages_reports_what_it_saw(telegram_server: FakeTelegramServer):
    await call(telegram_server, "sendMessage", chat_id=5, text="only one")
    await call(telegram_server, "sendMessage", chat_id=5, text="<b", parse_mode="HTML")
    with pytest.raises(TimeoutError) as caught:
        await telegram_server.wait_for_messages(5, 2, timeout=0.2)
    assert "only one" in str(caught.value) and "can't parse entities" in str(caught.value)


async def test_wait_for_messages_wakes_on_arrival(telegram_server: FakeTelegramServer):
    asyncio.get_running_loop().call_later(
        0.1, asyncio.ensure_future, call(telegram_server, "sendMessage", chat_id=5, text="hi")
    )
    [message] = await telegram_server.wait_for_messages(5, 1, timeout=3)
    assert message.text == "hi"


def test_parser_matches_telegram_on_nested_entities():
    text, entities = parse_html("<b>a<i>b</i></b><tg-spoiler>c</tg-spoiler>")
    assert text == "abc"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "italic", "offset": 1, "length": 1},
        {"type": "spoiler", "offset": 2, "length": 1},
    ]


async def test_standalone_server_prints_its_base_url_and_serves():
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram_server", "--port", "0", "--token", "123:ABC",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 20)  # type: ignore[union-attr]
        base_url = line.decode().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
        control = base_url.removesuffix("/bot") + "/_fake/message"
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base_url}123:ABC/getMe") as response:
                assert (await response.json())["result"]["id"] == 123
            async with session.post(control, data={"chat_id": "7", "text": "/start"}) as response:
                assert (await response.json())["message"]["text"] == "/start"
            async with session.post(f"{base_url}123:ABC/getUpdates") as response:
                [update] = (await response.json())["result"]
                assert update["message"]["entities"][0]["type"] == "bot_command"
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


# ---- strict limits and latency jitter -------------------------------------------------------


async def test_strict_limits_are_telegrams_buckets_on_sends_and_edits(telegram_server_factory):
    clock = Clock()
    server = await telegram_server_factory(rate_limits=RateLimits.strict(), clock=clock)
    for n in range(3):
        assert accepted(await send(server, 1, str(n)))
    [*_, last] = server.messages_in(1)
    edit = {"chat_id": 1, "message_id": last.message_id, "text": "changed"}
    flood = refused(429, "Too Many Requests: retry after 1", retry_after=1)
    assert await call(server, "editMessageText", **edit) == flood  # edits count like sends
    clock.now += 1.0
    assert accepted(await call(server, "editMessageText", **edit))
    for chat in range(100, 129):  # the edit took one token of the refilled 30
        assert accepted(await send(server, chat, "x"))
    assert await send(server, 200, "one too many") == flood
    clock.now += 1 / 30 + 1e-6  # a token later, up to float rounding
    assert accepted(await send(server, 200, "a token later"))
    assert server.answered_429 == server.state.limiter.refused == 2


async def test_latency_jitter_delays_requests_before_the_bucket_check(telegram_server_factory):
    limits = RateLimits.strict()
    server = await telegram_server_factory(rate_limits=limits, latency=Latency(0.2, seed=1))
    await asyncio.gather(*(send(server, chat, str(chat)) for chat in range(1, 21)))
    calls = server.calls_to("sendMessage")
    delays = [c.answered - c.time for c in calls if c.answered is not None]
    assert len(delays) == 20 and all(-0.01 <= d <= 0.2 + 0.15 for d in delays)
    assert max(delays) - min(delays) > 0.05
    # Requests received in one order are processed (and stored) in another.
    received = [int(c.params["chat_id"]) for c in calls]
    assert [m.chat_id for m in server.messages] != received


def test_latency_jitter_is_reproducible_with_a_seed():
    def draws(seed: int | None) -> list[float]:
        jitter = Jitter(Latency(0.25, 0.1, seed=seed))
        return [jitter.draw(0.25) for _ in range(5)]

    assert draws(7) == draws(7) != draws(8)
    assert all(0 <= d <= 0.25 for d in draws(None))
    with pytest.raises(ValueError):
        Latency(-1)


async def test_a_draining_link_lets_requests_through_together(telegram_server_factory):
    # A 1 s period: with 0.3 s a loaded machine delivered the last request after the tick
    # (0.18 s of margin), and it went through at the next one.
    latency = Latency(1.0, drain=True)
    server = await telegram_server_factory(rate_limits=RateLimits.strict(), latency=latency)

    async def later(chat: int, delay: float) -> Reply:
        await asyncio.sleep(delay)
        return await send(server, chat, "x")

    # Sent over ~0.15 s from the first request on: all read at one tick, 1 s after it (the
    # next tick is a second later).
    replies = await asyncio.gather(*(later(chat, chat * 0.03) for chat in range(1, 6)))
    assert all(accepted(reply) for reply in replies)
    answered = [c.answered for c in server.calls_to("sendMessage") if c.answered is not None]
    first = min(c.time for c in server.calls_to("sendMessage"))
    assert len(answered) == 5 and max(answered) - min(answered) < 0.5
    assert min(answered) - first >= 1.0 - 0.02
