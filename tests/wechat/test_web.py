"""The web endpoint served by uvicorn on loopback, and the route hook for Telegram."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.commands import Core
from bot.config import Settings, WebSettings
from bot.platforms.wechat_service import open_web_service, web_service_wanted
from bot.runtime import Runtime
from bot.web import create_app, needs_web
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.helpers import client_for, official_callback, read_official_reply, text_fields


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
