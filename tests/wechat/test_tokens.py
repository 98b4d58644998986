"""Access tokens: cached in the database, shared by instances, refreshed early and on errors."""

from __future__ import annotations

import pytest

from bot.delivery.types import ChatGone, Permanent, RetryAfter
from bot.platforms.wechat.sender import WechatSender
from bot.platforms.wechat_common.api import WechatApi
from bot.platforms.wechat_common.clients import OfficialAccountClient, make_official_client
from bot.runtime import Runtime
from storage.wechat import get_token
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET
from tests.fakes.wechat_server import FakeWeChatServer

TOKEN_PATH = "/cgi-bin/token"
SEND = "/cgi-bin/message/custom/send"


class Clock:
    def __init__(self, server: FakeWeChatServer) -> None:
        self.server = server

    def __call__(self) -> float:
        return self.server.clock.now()


def instance(runtime: Runtime, server: FakeWeChatServer) -> WechatApi[OfficialAccountClient]:
    """One briefbot process's client (each with its own wechatpy client and memory)."""
    client = make_official_client(DEFAULT_APPID, DEFAULT_SECRET, server.mp_base_url)
    return WechatApi(client, runtime.sessions, f"wechat.{DEFAULT_APPID}", clock=Clock(server))


async def test_instances_share_one_token_through_the_database(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    wechat_server.mp.add_follower("o1")
    first, second = instance(runtime, wechat_server), instance(runtime, wechat_server)
    await WechatSender(first).send_text("o1", "一")
    await WechatSender(second).send_text("o1", "二")
    assert len(wechat_server.mp.calls(TOKEN_PATH)) == 1
    async with runtime.sessions() as session:
        cached = await get_token(session, f"wechat.{DEFAULT_APPID}")
    assert cached is not None and cached.token == wechat_server.mp.tokens.latest(DEFAULT_APPID)
    assert wechat_server.mp.inbox("o1") == ["一", "二"]


async def test_a_token_is_refreshed_before_it_expires(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    wechat_server.mp.add_follower("o1")
    api = instance(runtime, wechat_server)
    await WechatSender(api).send_text("o1", "一")
    wechat_server.clock.advance(7200 - 200)  # inside the refresh margin, not yet expired
    await WechatSender(api).send_text("o1", "二")
    codes = [r.errcode for r in wechat_server.mp.requests]
    assert len(wechat_server.mp.calls(TOKEN_PATH)) == 2
    assert 42001 not in codes and 40001 not in codes  # refreshed early, never rejected


@pytest.mark.parametrize("errcode", [40001, 42001])
async def test_a_rejected_token_is_refreshed_and_the_call_retried_once(
    runtime: Runtime, wechat_server: FakeWeChatServer, errcode: int
) -> None:
    wechat_server.mp.add_follower("o1")
    api = instance(runtime, wechat_server)
    await WechatSender(api).send_text("o1", "一")
    wechat_server.mp.faults.inject(SEND, errcode=errcode)
    await WechatSender(api).send_text("o1", "二")
    assert wechat_server.mp.inbox("o1") == ["一", "二"]
    assert len(wechat_server.mp.calls(TOKEN_PATH)) == 2
    other = instance(runtime, wechat_server)  # a second process picks up the new token
    await WechatSender(other).send_text("o1", "三")
    assert len(wechat_server.mp.calls(TOKEN_PATH)) == 2


async def test_a_token_rejected_twice_is_not_retried_forever(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    wechat_server.mp.add_follower("o1")
    wechat_server.mp.faults.inject(SEND, errcode=40001, times=5)
    with pytest.raises(Permanent, match="40001"):
        await WechatSender(instance(runtime, wechat_server)).send_text("o1", "一")
    assert len(wechat_server.mp.calls(SEND)) == 2


@pytest.mark.parametrize(
    ("errcode", "error"),
    [(45015, Permanent), (45047, Permanent), (43004, ChatGone), (45009, RetryAfter)],
)
async def test_customer_service_errors_are_classified(
    runtime: Runtime, wechat_server: FakeWeChatServer, errcode: int, error: type[Exception]
) -> None:
    wechat_server.mp.add_follower("o1")
    wechat_server.mp.faults.inject(SEND, errcode=errcode)
    with pytest.raises(error):
        await WechatSender(instance(runtime, wechat_server)).send_text("o1", "一")
