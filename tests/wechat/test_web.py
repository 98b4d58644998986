"""The web endpoint served by uvicorn on loopback, the route hook for Telegram, and what
`open_web_service` starts for each configuration (callbacks served, pushers run)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import aiohttp
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.commands import Core
from bot.config import Settings, WebSettings, WechatSettings, WecomSettings
from bot.platforms.wechat_service import WebService, open_web_service, web_service_wanted
from bot.publish.clock import FixedClock
from bot.publish.publisher import IssuePublisher
from bot.runtime import Runtime
from bot.web import create_app, needs_web, serve
from storage.issues import find_issue_id
from storage.subscribers import ALL, get_or_create, set_subscriptions
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET
from tests.fakes.wechat_server import FakeWeChatServer
from tests.fakes.wechat_work import DEFAULT_AGENTID, DEFAULT_CORPID, DEFAULT_CORPSECRET
from tests.wechat.helpers import (
    TOKEN,
    client_for,
    official_callback,
    read_official_reply,
    text_fields,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_extra_routes_are_mounted_next_to_the_callbacks() -> None:
    async def telegram(request: Request) -> Response:
        return PlainTextResponse("update queued")

    app = create_app(extra_routes=[Route("/telegram/webhook", telegram, methods=["POST"])])
    async with client_for(app) as client:
        hook = await client.post("/telegram/webhook", content=b"{}")
        missing = await client.post("/wechat/callback")
        health = await client.get("/healthz")
    assert (hook.status_code, hook.text) == (200, "update queued")
    assert missing.status_code == 404  # WeChat not configured: no route
    assert health.json() == {"status": "ok"}


def test_which_settings_need_the_web_service() -> None:
    assert not needs_web(Settings()) and not web_service_wanted(Settings())
    assert needs_web(Settings(wechat={"app_id": "wx1", "token": "t"}))
    assert not needs_web(Settings(wecom={"robots": [{"key": "k"}]}))
    assert web_service_wanted(Settings(wecom={"robots": [{"key": "k"}]}))
    assert needs_web(Settings(telegram={"token": "1:x", "webhook_url": "https://h/telegram"}))
    push_only_wechat = Settings(wechat={"app_id": "wx1", "secret": "s"})
    push_only_wecom = Settings(wecom={"corp_id": "ww1", "secret": "s", "agent_id": 1000002})
    for settings in (push_only_wechat, push_only_wecom):
        assert web_service_wanted(settings) and not needs_web(settings)
    # Half-configured platforms never get this far: the settings refuse them at start.
    for half in ({"wechat": {"app_id": "wx1"}}, {"wecom": {"corp_id": "ww1", "secret": "s"}}):
        with pytest.raises(ValueError, match="is set but"):
            Settings(**half)  # type: ignore[arg-type]


async def test_run_serves_callbacks_on_loopback_until_stopped(
    runtime: Runtime, core: Core, wechat_server: FakeWeChatServer
) -> None:
    port = free_port()
    settings = runtime.settings.model_copy(update={"web": WebSettings(port=port)})
    runtime = Runtime(settings, runtime.engine, runtime.sessions, runtime.series, runtime.taxonomy)
    wechat_server.mp.add_follower("o-loop")
    stop = asyncio.Event()
    async with open_web_service(runtime, core) as web:
        running = asyncio.create_task(web.run(stop))
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            callback = official_callback(text_fields("o-loop", "帮助"))
            async with http.post(
                f"{base}/wechat/callback", params=callback.params, data=callback.body.encode()
            ) as response:
                assert response.status == 200
                reply = read_official_reply(await response.text(), "safe")
        stop.set()
        await asyncio.wait_for(running, 10)
    assert reply is not None and "命令与示例" in reply["Content"]


# --- what each configuration starts ----------------------------------------------------


def with_settings(runtime: Runtime, port: int, **sections: object) -> Runtime:
    settings = Settings(web=WebSettings(port=port), **sections)  # type: ignore[arg-type]
    return Runtime(settings, runtime.engine, runtime.sessions, runtime.series, runtime.taxonomy)


async def subscribe_and_publish(runtime: Runtime, platform: str, chat_ids: list[str]) -> None:
    async with runtime.sessions.begin() as session:
        for chat_id in chat_ids:
            subscriber, _ = await get_or_create(session, platform, chat_id, kind="user")
            await set_subscriptions(session, subscriber.id, [ALL])
        issue_id = await find_issue_id(session, runtime.series.slug, date(2026, 11, 16))
    assert issue_id is not None
    publisher = IssuePublisher(runtime, FixedClock(datetime(2026, 11, 17, 1, 0, tzinfo=UTC)))
    assert (await publisher.publish_issue(issue_id, manual=True)).publication


async def run_until(web: WebService, done: Callable[[], bool], port: int) -> bool:
    """Run the service until `done()`; whether it listened on `port` meanwhile."""
    stop = asyncio.Event()
    running = asyncio.create_task(web.run(stop))
    try:
        async with asyncio.timeout(20):
            while not done():
                assert not running.done(), running
                await asyncio.sleep(0.05)
        return listening(port)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_push_only_wechat_runs_the_campaign_and_serves_nothing(
    runtime: Runtime, core: Core, wechat_server: FakeWeChatServer
) -> None:
    port = free_port()
    wechat = WechatSettings(
        app_id=DEFAULT_APPID,
        secret=DEFAULT_SECRET,
        base_url=wechat_server.mp_base_url,
        mass_send_daily_quota=10,
    )  # no callback token
    runtime = with_settings(runtime, port, wechat=wechat)
    assert web_service_wanted(runtime.settings)
    wechat_server.mp.add_follower("o-push-only", interacted=None)
    await subscribe_and_publish(runtime, "wechat", ["o-push-only"])
    async with open_web_service(runtime, core) as web:
        assert web.wechat is None and not web.serve_http
        served = await run_until(web, lambda: bool(wechat_server.mp.sent("mass")), port)
    assert not served
    [mass] = wechat_server.mp.sent("mass")
    assert mass.targets == ("o-push-only",) and "2026-11-16" in mass.content


async def test_push_only_wecom_app_pushes_to_members_and_serves_nothing(
    runtime: Runtime, core: Core, wechat_server: FakeWeChatServer
) -> None:
    port = free_port()
    wecom = WecomSettings(
        corp_id=DEFAULT_CORPID,
        secret=DEFAULT_CORPSECRET,
        agent_id=DEFAULT_AGENTID,
        base_url=wechat_server.wecom_base_url,
    )  # no callback token or AES key
    runtime = with_settings(runtime, port, wecom=wecom)
    assert web_service_wanted(runtime.settings)
    wechat_server.wecom.add_members("zhangsan")
    await subscribe_and_publish(runtime, "wecom", ["zhangsan"])
    async with open_web_service(runtime, core) as web:
        assert web.wecom is None and not web.serve_http
        served = await run_until(web, lambda: bool(wechat_server.wecom.inbox("zhangsan")), port)
    assert not served
    assert "2026-11-16" in wechat_server.wecom.inbox("zhangsan")[0]


async def test_callbacks_only_serve_passive_replies_and_push_nothing(
    runtime: Runtime, core: Core, wechat_server: FakeWeChatServer
) -> None:
    port = free_port()
    wechat = WechatSettings(app_id=DEFAULT_APPID, token=TOKEN)  # plaintext mode, no secret
    runtime = with_settings(runtime, port, wechat=wechat)
    assert web_service_wanted(runtime.settings)
    callback = official_callback(text_fields("o-cb", "帮助"), "plain")
    async with open_web_service(runtime, core) as web:
        assert web.wechat is not None and web.serve_http and web.loops == []
        stop = asyncio.Event()
        running = asyncio.create_task(web.run(stop))
        try:
            async with asyncio.timeout(10):
                while not listening(port):
                    await asyncio.sleep(0.05)
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{port}/wechat/callback"
                async with http.post(url, params=callback.params, data=callback.body) as answer:
                    reply = read_official_reply(await answer.text(), "plain")
        finally:
            stop.set()
            await asyncio.wait_for(running, 10)
    assert reply is not None and "命令与示例" in reply["Content"]
    assert wechat_server.mp.requests == []  # no secret: no API call at all


@pytest.fixture
def occupied_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


async def test_a_taken_port_fails_serve_with_an_ordinary_error(occupied_port: int) -> None:
    settings = WebSettings(port=occupied_port)
    with pytest.raises(RuntimeError, match=f"web: cannot listen on 127.0.0.1:{occupied_port}"):
        await asyncio.wait_for(serve(create_app(), settings, asyncio.Event()), 10)


async def test_a_taken_port_fails_the_service_run_at_once(
    runtime: Runtime, core: Core, occupied_port: int
) -> None:
    wechat = WechatSettings(app_id=DEFAULT_APPID, token=TOKEN)
    runtime = with_settings(runtime, occupied_port, wechat=wechat)
    async with open_web_service(runtime, core) as web:
        with pytest.raises(RuntimeError, match="cannot listen"):
            await asyncio.wait_for(web.run(asyncio.Event()), 10)  # the stop is never set
