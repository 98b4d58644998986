"""Official Account callbacks end to end: the Starlette app, the command core, a real database
and the fake WeChat API receiving customer-service messages and tag changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.commands import Core, Incoming, Invocation, Reply
from bot.platforms.wechat.adapter import ANSWER_BUDGET
from bot.platforms.wechat.tags import tag_name
from bot.runtime import Runtime
from bot.web.service import WebService, open_web_service
from storage.search import search
from storage.subscribers import ALL, Subscription, get_subscriber
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.helpers import (
    WECHAT_MAX,
    Callback,
    Mode,
    client_for,
    event_fields,
    official_callback,
    official_verification,
    post,
    read_official_reply,
    text_fields,
    utf8_len,
)

PATH = "/wechat/callback"
WECHAT_WAITS = 5.0  # seconds WeChat waits for an answer before it retries
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


class CountingCore:
    """The real core, counted, optionally held until `release` is set (to cross the answer
    budget: a fixed delay let a loaded machine's callbacks outlast it)."""

    def __init__(self, core: Core, release: asyncio.Event | None = None) -> None:
        self.core = core
        self.release = release
        self.texts: list[str] = []

    def parse(self, text: str, platform: str) -> Invocation | None:
        return self.core.parse(text, platform)

    async def handle_text(self, incoming: Incoming) -> list[Reply]:
        self.texts.append(incoming.text)
        if self.release is not None:
            await self.release.wait()
        return await self.core.handle_text(incoming)


@pytest.fixture
def counting(core: Core) -> CountingCore:
    return CountingCore(core)


@pytest.fixture
async def web(runtime: Runtime, counting: CountingCore) -> AsyncIterator[WebService]:
    async with open_web_service(runtime, counting) as service:
        yield service


async def exchange(web: WebService, callback: Callback, mode: Mode) -> dict[str, Any] | None:
    """One callback round trip, answered within WeChat's 5 seconds; the reply's fields."""
    async with client_for(web.app) as client:
        started = time.monotonic()
        response = await post(client, PATH, callback)
        elapsed = time.monotonic() - started
    assert elapsed < WECHAT_WAITS, f"answered after {elapsed:.2f} s: WeChat would retry"
    assert response.status_code == 200, response.text
    return read_official_reply(response.text, mode)


async def say(web: WebService, server: FakeWeChatServer, text: str, mode: Mode = "safe") -> str:
    """The user writes `text` (opening a 客服 window at the fake); the passive reply's text."""
    server.mp.user_interacted(OPENID, "message")
    reply = await exchange(web, official_callback(text_fields(OPENID, text), mode), mode)
    assert reply is not None, "expected a passive reply"
    return check_reply(reply)


def check_reply(reply: dict[str, Any]) -> str:
    assert reply["MsgType"] == "text"
    assert reply["ToUserName"] == OPENID
    content = str(reply["Content"])
    assert utf8_len(content) <= WECHAT_MAX
    return content


async def settle(web: WebService) -> None:
    assert web.wechat is not None
    await web.wechat.drain()


async def test_follower_session_end_to_end(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime, counting: CountingCore
) -> None:
    assert ANSWER_BUDGET < WECHAT_WAITS  # slow work hands over to 客服 messages in time
    wechat_server.mp.add_follower(OPENID, interacted="subscribe")
    follow = official_callback(event_fields(OPENID, "subscribe"))
    greeting = check_reply(await exchange(web, follow, "safe") or {})
    assert "欢迎使用「嵌入式AI简报」" in greeting
    assert "当前订阅：全部栏目" in greeting
    await settle(web)
    async with runtime.sessions() as session:
        subscriber = await get_subscriber(session, "wechat", OPENID)
    assert subscriber is not None and subscriber.subscriptions == (ALL,)
    all_tag = wechat_server.mp.tag_id(tag_name("all"))
    assert all_tag is not None and all_tag in wechat_server.mp.followers[OPENID].tags

    assert "已包含在内：论文" in await say(web, wechat_server, "订阅 论文")

    latest = await say(web, wechat_server, "最新")
    assert "嵌入式AI简报" in latest and "2026-11-16" in latest and "目录" in latest

    found = await say(web, wechat_server, "搜索 量化")
    async with runtime.sessions() as session:
        page = await search(session, "量化", series_slug=runtime.series.slug)
    assert page.hits, "the sample briefings mention 量化: the search must find something"
    top = page.hits[0]
    assert top.url is not None and f'<a href="{top.url}">' in found
    assert top.title in found  # the hit itself came back, not just the echoed query

    help_text = await say(web, wechat_server, "今天天气怎么样")
    assert "命令与示例" in help_text and "搜索" in help_text

    # Every text fitted one passive reply: nothing went out as customer-service messages.
    await settle(web)
    assert wechat_server.mp.sent("custom") == []
    assert counting.texts == ["开始", "订阅 论文", "最新", "搜索 量化", "帮助"]


async def test_a_retried_message_runs_once_and_gets_the_same_answer(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime, counting: CountingCore
) -> None:
    wechat_server.mp.add_follower(OPENID)
    fields = text_fields(OPENID, "订阅 芯片")
    first = await exchange(web, official_callback(fields), "safe")
    retry = await exchange(web, official_callback(fields), "safe")  # same MsgId, new signature
    assert first is not None and retry is not None
    assert check_reply(first) == check_reply(retry)
    assert "已订阅：芯片" in check_reply(first)
    assert counting.texts == ["订阅 芯片"]
    async with runtime.sessions() as session:
        subscriber = await get_subscriber(session, "wechat", OPENID)
    assert subscriber is not None and subscriber.subscriptions == (Subscription("topic", "chips"),)


async def test_retried_events_run_once(
    web: WebService, wechat_server: FakeWeChatServer, counting: CountingCore
) -> None:
    wechat_server.mp.add_follower(OPENID, interacted="subscribe")
    fields = event_fields(OPENID, "subscribe")
    first = await exchange(web, official_callback(fields), "safe")
    second = await exchange(web, official_callback(fields), "safe")
    # The same answer again; its CreateTime is the moment of each reply (seconds), which
    # differs when the two straddle a second.
    assert {**first, "CreateTime": ""} == {**second, "CreateTime": ""}
    assert counting.texts == ["开始"]


async def test_slow_answers_become_customer_service_messages(
    runtime: Runtime, core: Core, wechat_server: FakeWeChatServer
) -> None:
    release = asyncio.Event()
    slow = CountingCore(core, release)
    wechat_server.mp.add_follower(OPENID)
    async with open_web_service(runtime, slow, answer_budget=0.2) as web:
        fields = text_fields(OPENID, "订阅 论文")
        try:
            # Within WeChat's wait: an answer that waited for the held work would never come.
            async with client_for(web.app) as client, asyncio.timeout(2 * WECHAT_WAITS):
                first = await post(client, PATH, official_callback(fields))
                retry = await post(client, PATH, official_callback(fields))  # WeChat's retry
            assert (first.status_code, first.text) == (200, "success")
            assert (retry.status_code, retry.text) == (200, "success")
            assert wechat_server.mp.sent("custom") == []  # still working
        finally:
            release.set()  # else the service's close waits for the held work forever
        await settle(web)
    inbox = wechat_server.mp.inbox(OPENID)
    assert len(inbox) == 1 and "已订阅：论文" in inbox[0]
    assert utf8_len(inbox[0]) <= WECHAT_MAX
    assert slow.texts == ["订阅 论文"]  # the retry did not run the command again


async def test_a_reply_too_long_for_one_message_continues_as_customer_service(
    web: WebService, wechat_server: FakeWeChatServer
) -> None:
    wechat_server.mp.add_follower(OPENID)
    first = await say(web, wechat_server, "最新 全部")  # the whole issue: several messages
    await settle(web)
    rest = [m.content for m in wechat_server.mp.sent("custom")]
    assert rest, "the rest of the issue should follow as customer-service messages"
    assert len(rest) <= 5  # WeChat's 5 sends per user message
    assert all(utf8_len(text) <= WECHAT_MAX for text in [first, *rest])
    whole = "\n".join([first, *rest])
    assert "业界新闻" in whole and "博文" in whole


@pytest.mark.parametrize("mode", ["compatible", "safe"])
async def test_encrypted_modes_are_answered_encrypted(
    web: WebService, wechat_server: FakeWeChatServer, mode: Mode
) -> None:
    wechat_server.mp.add_follower(OPENID)
    callback = official_callback(text_fields(OPENID, "帮助"), mode)
    async with client_for(web.app) as client:
        response = await post(client, PATH, callback)
    assert response.status_code == 200
    assert "<Encrypt>" in response.text
    reply = read_official_reply(response.text, mode)
    assert reply is not None and "命令与示例" in check_reply(reply)


async def test_with_an_aes_key_a_plaintext_post_is_refused(
    web: WebService, wechat_server: FakeWeChatServer, counting: CountingCore
) -> None:
    """Correctly signed with the token, but not encrypted: safe mode is configured."""
    wechat_server.mp.add_follower(OPENID)
    callback = official_callback(text_fields(OPENID, "订阅 论文"), "plain")
    async with client_for(web.app) as client:
        response = await post(client, PATH, callback)
    assert (response.status_code, response.text) == (403, "bad signature")
    assert counting.texts == []


async def test_plaintext_mode_answers_plaintext_and_refuses_encrypted_posts(
    runtime: Runtime, counting: CountingCore, wechat_server: FakeWeChatServer
) -> None:
    wechat = runtime.settings.wechat.model_copy(update={"encoding_aes_key": None})
    settings = runtime.settings.model_copy(update={"wechat": wechat})
    plain_runtime = Runtime(
        settings, runtime.engine, runtime.sessions, runtime.series, runtime.taxonomy
    )
    wechat_server.mp.add_follower(OPENID)
    async with open_web_service(plain_runtime, counting) as web:
        plain = official_callback(text_fields(OPENID, "帮助"), "plain")
        sealed = official_callback(text_fields(OPENID, "帮助"), "safe")
        async with client_for(web.app) as client:
            answered = await post(client, PATH, plain)
            refused = await post(client, PATH, sealed)
    assert answered.status_code == 200 and "<Encrypt>" not in answered.text
    reply = read_official_reply(answered.text, "plain")
    assert reply is not None and "命令与示例" in check_reply(reply)
    assert (refused.status_code, refused.text) == (400, "bad request")
    assert counting.texts == ["帮助"]


async def test_forged_signatures_get_403_and_change_nothing(
    web: WebService, wechat_server: FakeWeChatServer, counting: CountingCore, runtime: Runtime
) -> None:
    good = official_callback(text_fields(OPENID, "订阅 论文"))
    forged_plain = Callback({**good.params, "signature": "0" * 40}, good.body)
    forged_aes = Callback({**good.params, "msg_signature": "f" * 40}, good.body)
    unsigned = Callback({k: v for k, v in good.params.items() if k != "signature"}, good.body)
    async with client_for(web.app) as client:
        for callback in (forged_plain, forged_aes, unsigned):
            response = await post(client, PATH, callback)
            assert (response.status_code, response.text) == (403, "bad signature")
        bad_get = await client.get(PATH, params=official_verification(forged=True))
        assert bad_get.status_code == 403
    assert counting.texts == []
    async with runtime.sessions() as session:
        assert await get_subscriber(session, "wechat", OPENID) is None
    assert wechat_server.mp.requests == []


# A few seconds past the 300 s limit: a future timestamp comes closer while the test runs
# (the exact boundary is tested against a fixed clock in test_units).
@pytest.mark.parametrize("skew", [-305, 305, -3600])
async def test_replayed_callbacks_get_403_and_change_nothing(
    web: WebService,
    wechat_server: FakeWeChatServer,
    counting: CountingCore,
    runtime: Runtime,
    skew: int,
) -> None:
    """Correctly signed, but the signature is over 300 s from now: a replay."""
    wechat_server.mp.add_follower(OPENID)
    at = time.time() + skew
    async with client_for(web.app) as client:
        for mode in ("plain", "safe"):
            fields = text_fields(OPENID, "订阅 论文")
            response = await post(client, PATH, official_callback(fields, mode, timestamp=at))
            assert response.status_code == 403
        verification = official_verification(timestamp=at)
        assert (await client.get(PATH, params=verification)).status_code == 403
    assert counting.texts == []
    async with runtime.sessions() as session:
        assert await get_subscriber(session, "wechat", OPENID) is None
    assert wechat_server.mp.requests == []


async def test_retries_signed_seconds_ago_are_still_answered(
    web: WebService, wechat_server: FakeWeChatServer, counting: CountingCore
) -> None:
    """WeChat retries within about 15 s: a first try signed 20 s ago and its retry."""
    wechat_server.mp.add_follower(OPENID)
    fields = text_fields(OPENID, "订阅 芯片")
    first = await exchange(web, official_callback(fields, timestamp=time.time() - 20), "safe")
    retry = await exchange(web, official_callback(fields, timestamp=time.time() - 5), "safe")
    assert first is not None and retry is not None
    assert check_reply(first) == check_reply(retry) and "已订阅：芯片" in check_reply(first)
    assert counting.texts == ["订阅 芯片"]


async def test_url_verification_echoes(web: WebService) -> None:
    async with client_for(web.app) as client:
        response = await client.get(PATH, params=official_verification("abc123"))
        health = await client.get("/healthz")
    assert (response.status_code, response.text) == (200, "abc123")
    assert health.json() == {"status": "ok", "database": "ok"}


async def test_unfollow_deactivates_and_subscription_commands_retag(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime
) -> None:
    wechat_server.mp.add_follower(OPENID, interacted="subscribe")
    await exchange(web, official_callback(event_fields(OPENID, "subscribe")), "safe")
    await say(web, wechat_server, "退订 全部")
    await say(web, wechat_server, "订阅 论文 量化")
    await settle(web)
    mp = wechat_server.mp
    names = {mp.tags[t] for t in mp.followers[OPENID].tags}
    assert names == {tag_name("section:papers"), tag_name("topic:quantization")}

    unfollow = official_callback(event_fields(OPENID, "unsubscribe"))
    assert await exchange(web, unfollow, "safe") is None  # `success`: nothing to say
    async with runtime.sessions() as session:
        subscriber = await get_subscriber(session, "wechat", OPENID)
    assert subscriber is not None and not subscriber.active
