"""pytest fixtures for the fake WeChat / WeCom server.

Re-export the ones you need. In a conftest.py:

    from tests.fakes.wechat_fixtures import mp_client, wechat_server  # noqa: F401

In a test module (a plain import would trip ruff's F811 on the fixture argument):

    from tests.fakes import wechat_fixtures
    wechat_server = wechat_fixtures.wechat_server

Each server is fresh per test, listens on ephemeral loopback ports and is stopped after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.platforms.wechat_common.clients import (
    OfficialAccountClient,
    WeComAppClient,
    make_official_client,
    make_wecom_client,
)
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET
from tests.fakes.wechat_server import FakeWeChatServer
from tests.fakes.wechat_work import DEFAULT_CORPID, DEFAULT_CORPSECRET

ServerFactory = Callable[..., FakeWeChatServer]


@pytest.fixture
def make_wechat_server() -> Iterator[ServerFactory]:
    """Start servers with custom configs: `make_wechat_server(mp_config=MpConfig(...))`."""
    started: list[FakeWeChatServer] = []

    def make(**kwargs: Any) -> FakeWeChatServer:
        server = FakeWeChatServer(**kwargs).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def wechat_server(make_wechat_server: ServerFactory) -> FakeWeChatServer:
    return make_wechat_server()


@pytest.fixture
def mp_client(wechat_server: FakeWeChatServer) -> OfficialAccountClient:
    """The real wechatpy 公众号 client, pointed at `wechat_server` (default app)."""
    return make_official_client(DEFAULT_APPID, DEFAULT_SECRET, wechat_server.mp_base_url, timeout=5)


@pytest.fixture
def wecom_client(wechat_server: FakeWeChatServer) -> WeComAppClient:
    """The real wechatpy 企业微信 client, pointed at `wechat_server` (default app)."""
    return make_wecom_client(
        DEFAULT_CORPID, DEFAULT_CORPSECRET, wechat_server.wecom_base_url, timeout=5
    )
