"""Arbitrary texts and callback payloads through the command core: always a normal reply.

A normal reply is one a handler wrote: the core's catch-all ("something went wrong",
with a logged traceback) never fires, and the reply's size does not follow the input's.
Telegram presses go through the adapter's own decoding (`telegram_updates.incoming`).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Chat as TgChat
from telegram import User

from bot import i18n
from bot.commands import Chat, Core, CoreDeps, FloodPolicy, Incoming, Reply
from bot.commands.search import query_hash
from bot.platforms.telegram.updates import incoming as telegram_incoming
from tests.bot.commands.conftest import raw_of

MAX_MESSAGES = 20
MAX_REPLY_CHARS = 40_000  # the whole sample issue with every label is well under this
PLATFORMS = ("telegram", "wechat", "wecom", "console")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

numbers = st.one_of(
    st.integers(-10, 100).map(str),
    st.integers(2**63 - 2, 2**64).map(str),  # where a database integer ends
    st.integers(-(10**60), 10**60).map(str),  # still fits a 64-byte callback
    st.builds(str.__mul__, st.sampled_from("19"), st.integers(4301, 5000)),  # int() refuses
)
dates = st.builds(
    "{:04d}-{:02d}-{:02d}".format,
    st.integers(-1, 100_000),
    st.integers(-1, 99),
    st.integers(-1, 99),
)
keywords = st.sampled_from(
    ["papers", "论文", "all", "全部", "chips", "芯片", "lang", "en", "zh", "format", "digest",
     "pause", "resume", "latest", "year:9999", "year:0000", "date:0001-01..9999-12",
     "date:..", "section:", "topic:x", "*", "#", '"', "@briefbot"]
)  # fmt: skip
words = st.one_of(numbers, dates, keywords, st.text(max_size=40))
heads = st.sampled_from(
    ["/start", "/help", "/latest", "/issue", "/issues", "/search", "/sections", "/subscribe",
     "/unsubscribe", "/settings", "/stop", "/stats", "/preview", "/publish", "/nope",
     "/latest@briefbot", "/sub", "／latest", "最新", "搜索", "订阅", "退订", "设置", "往期",
     "latest", "search", "subscribe", "?", ""]
)  # fmt: skip
texts = st.one_of(
    st.text(max_size=300),
    st.builds(lambda head, args: " ".join([head, *args]), heads, st.lists(words, max_size=6)),
    st.builds(lambda head, body: f"{head} {body}", heads, st.text(min_size=2000, max_size=6000)),
)

CALLBACK_TOKENS = [
    "*", "#0", "#1", "#-1", "#99", "#²", "s", "t", "s#", "t#", "a", "f", "l", "p", "full",
    "digest", "zh", "0", "1", "20261116", "20261102", query_hash("量化"),
]  # fmt: skip
fields = st.one_of(
    numbers, dates.map(lambda d: d.replace("-", "")), st.text(max_size=20),
    st.sampled_from(CALLBACK_TOKENS),
)  # fmt: skip
callbacks = st.one_of(
    st.text(max_size=100),
    st.builds(
        lambda prefix, rest: ":".join([prefix, *rest]),
        st.sampled_from(["o", "x", "ls", "q", "t", "g", "zz", ""]),
        st.lists(fields, max_size=4),
    ),
)
languages = st.sampled_from([None, "zh-hans", "en", "en-US", "", "xx" * 50])


@pytest.fixture
def fuzz_core(deps: CoreDeps) -> Core:
    """The sample archive with flood control out of the way (hundreds of commands)."""
    return Core(replace(deps, flood=FloodPolicy(per_minute=1e9, burst=1_000_000)))


def assert_normal(replies: list[Reply], caplog: pytest.LogCaptureFixture, sent: str) -> None:
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    assert not failures, failures
    text = raw_of(replies)
    assert i18n.t("zh", "error") not in text and i18n.t("en", "error") not in text
    assert sum(len(r.messages) for r in replies) <= MAX_MESSAGES
    assert len(text) <= MAX_REPLY_CHARS
    if len(sent) > 1000:  # nothing long is quoted back whole
        assert sent[-200:] not in text


@FUZZ
@given(text=texts, platform=st.sampled_from(PLATFORMS), admin=st.booleans(), lang=languages)
async def test_any_text_gets_a_normal_reply(
    fuzz_core: Core,
    caplog: pytest.LogCaptureFixture,
    text: str,
    platform: str,
    admin: bool,
    lang: str | None,
) -> None:
    caplog.set_level(logging.ERROR, logger="bot")
    incoming = Incoming(Chat(platform, "9001", "private"), "9001", text, lang, admin)
    assert_normal(await fuzz_core.handle_text(incoming), caplog, text)


@FUZZ
@given(data=callbacks, admin=st.booleans(), lang=languages)
async def test_any_callback_payload_gets_a_normal_reply(
    fuzz_core: Core, caplog: pytest.LogCaptureFixture, data: str, admin: bool, lang: str | None
) -> None:
    """As a Telegram press arrives: the adapter's decoding, then the core."""
    caplog.set_level(logging.ERROR, logger="bot")
    chat = TgChat(id=9002, type=TgChat.PRIVATE)
    user = User(id=9002, first_name="f", is_bot=False, language_code=lang)
    request = telegram_incoming(chat, user, data, {9002} if admin else set())
    replies = await fuzz_core.handle_button(request)
    assert_normal(replies, caplog, data)
    assert replies, "a press always gets an answer (at least: the button expired)"


@FUZZ
@given(data=callbacks)
async def test_any_callback_payload_on_the_console_gets_a_normal_reply(
    fuzz_core: Core, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    caplog.set_level(logging.ERROR, logger="bot")
    incoming = Incoming(Chat("console", "console:fuzz", "private"), "local", data, None, True)
    assert_normal(await fuzz_core.handle_button(incoming), caplog, data)
