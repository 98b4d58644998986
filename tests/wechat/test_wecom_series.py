"""A WeCom app member with several series: the callback parses with the core's command
table, so choosing a series (系列 gadgets) subscribes the member there instead of being
answered with the help. On the local WeCom server, both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.commands import Core, CoreDeps
from bot.runtime import Runtime, open_runtime
from bot.web.service import WebService, open_web_service
from storage.subscribers import ALL, get_subscriber, series_key
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.helpers import client_for, post, settings_for, wecom_callback, wecom_fields
from tests.wechat.test_robot_series import two_series
from tests.wechat.test_wecom import PATH

MEMBER = "lisi"


@pytest.fixture
async def runtime(
    db_url: str, tmp_path: Path, wechat_server: FakeWeChatServer
) -> AsyncIterator[Runtime]:
    settings = two_series(db_url, tmp_path, robots=[])
    wecom = settings_for(wechat_server).wecom
    async with open_runtime(settings.model_copy(update={"wecom": wecom})) as runtime:
        yield runtime


@pytest.fixture
async def web(runtime: Runtime) -> AsyncIterator[WebService]:
    async with open_web_service(runtime, Core(CoreDeps.from_runtime(runtime))) as service:
        yield service


async def say(web: WebService, server: FakeWeChatServer, text: str) -> str:
    """The member writes `text` through the signed callback; WeCom's answer(s), joined."""
    before = len(server.wecom.inbox(MEMBER))
    async with client_for(web.app) as client:
        response = await post(client, PATH, wecom_callback(wecom_fields(MEMBER, text)))
    assert (response.status_code, response.text) == (200, "")
    assert web.wecom is not None
    await web.wecom.drain()
    return "\n".join(server.wecom.inbox(MEMBER)[before:])


async def subscriptions(runtime: Runtime, slug: str) -> tuple[object, ...] | None:
    async with runtime.sessions() as session:
        key = series_key(slug, runtime.primary_slug)
        subscriber = await get_subscriber(session, "wecom", MEMBER, series=key)
    return None if subscriber is None else subscriber.subscriptions


async def test_a_member_choosing_a_series_is_subscribed_to_it(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime
) -> None:
    wechat_server.wecom.add_members(MEMBER)
    chosen = await say(web, wechat_server, "系列 gadgets")
    assert "已订阅「This Week in Gadgets」" in chosen, chosen
    assert "命令与示例" not in chosen  # not the help: the command was understood
    assert "按钮" not in chosen  # no buttons on WeCom: the commands say it
    assert await subscriptions(runtime, "gadgets") == (ALL,)

    # the same command again leaves the series (a toggle), still not the help
    left = await say(web, wechat_server, "系列 gadgets")
    assert "已退订「This Week in Gadgets」" in left and "命令与示例" not in left, left
    assert await subscriptions(runtime, "gadgets") == ()
