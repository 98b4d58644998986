"""The web endpoint served by uvicorn on loopback, the route hook for Telegram, and what
`open_web_service` starts for each configuration (callbacks served, pushers run)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.clock import FixedClock
from bot.commands import Core
from bot.config import Settings, WebSettings, WechatSettings, WecomSettings
from bot.delivery.engine import DeliveryEngine
from bot.platforms.wechat_common.crypto import MAX_BODY_BYTES
from bot.publish.publisher import IssuePublisher
from bot.runtime import Runtime
from bot.web.server import create_app, serve
from bot.web.service import WebService, needs_web, open_web_service, web_service_wanted
from storage.db import create_engine, session_factory
from storage.issues import find_issue_id
from storage.subscribers import ALL, get_or_create, set_subscriptions
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET
from tests.fakes.wechat_server import FakeWeChatServer
from tests.fakes.wechat_work import DEFAULT_AGENTID, DEFAULT_CORPID, DEFAULT_CORPSECRET
from tests.wechat.helpers import (
    TOKEN,
    Callback,
    client_for,
    official_callback,
    post,
    read_official_reply,
    text_fields,
    wecom_callback,
    wecom_fields,
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
    assert (missing.status_code, missing.text) == (404, "Not Found")  # WeChat not configured
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


async def run_until(
    web: WebService, done: Callable[[], bool], port: int, runtime: Runtime | None = None
) -> bool:
    """Run the service (and, given `runtime`, the delivery engine with the senders it
    brings, as `run` does) until `done()`; whether it listened on `port` meanwhile."""
    stop = asyncio.Event()
    running = asyncio.create_task(web.run(stop))
    engine = None
    if runtime is not None:
        delivery = DeliveryEngine(runtime.sessions, web.senders, runtime.settings.delivery)
        engine = asyncio.create_task(delivery.run_forever(stop))
    try:
        async with asyncio.timeout(20):
            while not done():
                assert not running.done(), running
                await asyncio.sleep(0.05)
        return listening(port)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        if engine is not None:
            await asyncio.wait_for(engine, 10)


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
        assert "wechat" in web.senders  # the engine runs the campaign (bot/app.py)
        sent = wechat_server.mp.sent
        served = await run_until(web, lambda: bool(sent("mass")), port, runtime)
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
        assert "wecom" in web.senders  # the engine pushes (bot/app.py adds the senders)
        inbox = wechat_server.wecom.inbox
        served = await run_until(web, lambda: bool(inbox("zhangsan")), port, runtime)
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


# --- bounded work for unauthenticated and oversized requests ----------------------------

HUGE = 100 * 1024 * 1024  # what an attacker offers to send
BLOCK = 64 * 1024


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[int]:
    """`app` served by uvicorn on a free loopback port, as `briefbot run` serves it."""
    port, stop = free_port(), asyncio.Event()
    running = asyncio.create_task(serve(app, WebSettings(port=port), stop))
    try:
        async with asyncio.timeout(10):
            while not listening(port):
                await asyncio.sleep(0.02)
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


@dataclass
class Offer:
    status: int
    body: bytes
    sent_before_answer: int  # body bytes the client had written when the answer came


async def offer_body(
    port: int, target: str, *, declared: int | None = None, send: int = 0
) -> Offer:
    """POST `send` body bytes (chunked unless `declared`) while watching for the answer.

    The body is written as fast as the connection takes it; the answer is read
    concurrently, so a server that answers early is seen to do so.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = (
        f"Content-Length: {declared}" if declared is not None else "Transfer-Encoding: chunked"
    )
    writer.write(f"POST {target} HTTP/1.1\r\nHost: briefbot\r\n{framing}\r\n\r\n".encode())
    sent = 0

    async def pump() -> None:
        nonlocal sent
        block = b"<" * BLOCK
        while sent < send:
            framed = block if declared is not None else b"%x\r\n%s\r\n" % (len(block), block)
            writer.write(framed)
            await writer.drain()
            sent += len(block)

    pumping = asyncio.create_task(pump())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
        answered_at = sent
        headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if line)
        length = int(headers.get(b"content-length", b"0"))
        body = await asyncio.wait_for(reader.readexactly(length), 5)
    finally:
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await pumping
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return Offer(int(head.split()[1]), body, answered_at)


def target(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params)}"


async def test_oversized_bodies_are_refused_while_streaming(runtime: Runtime, core: Core) -> None:
    """Correctly signed queries, 100 MB offered: 413 long before the client is done."""
    oa = official_callback(text_fields("o-big", "帮助")).params
    wecom = wecom_callback(wecom_fields("big", "帮助")).params
    async with open_web_service(runtime, core) as web, served(web.app) as port:
        chunked_oa = await offer_body(port, target("/wechat/callback", oa), send=HUGE)
        chunked_wecom = await offer_body(port, target("/wecom/callback", wecom), send=HUGE)
        streamed = await offer_body(port, target("/wechat/callback", oa), declared=HUGE, send=HUGE)
        announced = await offer_body(port, target("/wecom/callback", wecom), declared=HUGE)
    for offer in (chunked_oa, chunked_wecom, streamed, announced):
        assert (offer.status, offer.body) == (413, b"too large")
        # the kernel's socket buffers hold a few MB; reading it all would take 100
        assert offer.sent_before_answer < HUGE // 4, offer.sent_before_answer
    assert announced.sent_before_answer == 0  # refused on the declared length alone


async def test_unauthenticated_posts_are_refused_before_the_body_is_read(
    runtime: Runtime, core: Core
) -> None:
    forged = official_callback(text_fields("o-forged", "帮助")).params | {"signature": "0" * 40}
    stale = wecom_callback(wecom_fields("old", "帮助"), timestamp=time.time() - 3600).params
    absurd = wecom_callback(wecom_fields("odd", "帮助")).params | {"timestamp": "9" * 400}
    async with open_web_service(runtime, core) as web, served(web.app) as port:
        offers = [
            # the body is announced but never sent: an answer proves nobody waited for it
            await offer_body(port, target("/wechat/callback", forged), declared=1000),
            await offer_body(port, target("/wecom/callback", stale), declared=1000),
            await offer_body(port, target("/wecom/callback", absurd), declared=1000),
            await offer_body(port, target("/wechat/callback", forged), send=HUGE),
        ]
    for offer in offers:
        assert (offer.status, offer.body) == (403, b"bad signature")
        assert offer.sent_before_answer < HUGE // 4


async def test_a_body_over_the_cap_is_413_in_process(runtime: Runtime, core: Core) -> None:
    callback = official_callback(text_fields("o-cap", "帮助"))
    big = Callback(callback.params, callback.body + " " * MAX_BODY_BYTES)
    async with open_web_service(runtime, core) as web, client_for(web.app) as client:
        too_big = await post(client, "/wechat/callback", big)
        fits = await post(client, "/wechat/callback", callback)
    assert (too_big.status_code, too_big.text) == (413, "too large")
    assert fits.status_code == 200


# --- fixed error bodies ------------------------------------------------------------------


async def test_an_unexpected_error_is_a_fixed_500_with_the_trace_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("internal detail: /srv/briefbot/secret.toml line 3")

    app = create_app(extra_routes=[Route("/broken", broken, methods=["GET"])])
    async with client_for(app) as client:
        response = await client.get("/broken")
    assert (response.status_code, response.text) == (500, "internal error")
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.exc_text is not None and "internal detail" in record.exc_text


async def test_healthz_names_the_failing_check_but_not_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def down() -> None:
        raise OSError("connection to postgres://admin:hunter2@db:5432 refused")

    async def fine() -> None:
        return None

    app = create_app(health={"database": down, "cache": fine})
    async with client_for(app) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "unreachable", "cache": "ok"}
    assert "hunter2" not in response.text and "hunter2" not in caplog.text


async def test_healthz_of_the_service_says_the_database_is_down_and_nothing_more(
    runtime: Runtime, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_web_service(runtime, core) as web, client_for(web.app) as client:
        healthy = await client.get("/healthz")
    assert (healthy.status_code, healthy.json()) == (200, {"status": "ok", "database": "ok"})
    dead = create_engine(f"postgresql+psycopg://briefbot:pw-hunter2@127.0.0.1:{free_port()}/x")
    down = Runtime(runtime.settings, dead, session_factory(dead), runtime.series, runtime.taxonomy)
    try:
        async with open_web_service(down, core) as web, client_for(web.app) as client:
            sick = await client.get("/healthz")
    finally:
        await dead.dispose()
    assert (sick.status_code, sick.json()) == (
        503,
        {"status": "degraded", "database": "unreachable"},
    )
    assert "hunter2" not in sick.text and "hunter2" not in caplog.text
