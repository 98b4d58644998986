"""What `briefbot run` starts for the web endpoint and the WeChat / WeCom platforms.

    async with open_web_service(runtime, core, extra_routes=[telegram_route]) as web:
        await web.prepare()         # robot subscribers, before the first publication
        await web.run(stop_event)   # serves HTTP, runs the pushers, until stop is set

`run` should do this when `web_service_wanted(settings)`: a webhook platform is configured
(`bot.web.needs_web`) or WeCom robots are (they need the pusher, not HTTP). The delivery engine must
NOT be given wechat or wecom senders: wechat deliveries are settled by the tag
campaigns and wecom deliveries are sent, batched, by `WecomPusher`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.config import Settings
from bot.delivery.senders.wechat import WechatSender
from bot.delivery.senders.wecom import WecomSender
from bot.platforms.wechat import ANSWER_BUDGET, TextCore, WechatAdapter
from bot.platforms.wechat_api import WechatApi
from bot.platforms.wechat_campaign import WechatCampaign, WechatPusher
from bot.platforms.wechat_crypto import OfficialCodec, WecomCodec
from bot.platforms.wechat_tags import TagSync
from bot.platforms.wechat_work_push import WecomPusher
from bot.platforms.wechat_work_robots import robot_keys, sync_robots
from bot.platforms.wecom import WecomAdapter
from bot.runtime import Runtime
from bot.web import create_app, needs_web, serve, wechat_configured, wecom_configured
from bot.wechat_clients import (
    OfficialAccountClient,
    WeComAppClient,
    make_official_client,
    make_wecom_client,
)

log = logging.getLogger(__name__)
Loop = Callable[[asyncio.Event], Awaitable[None]]


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""


def web_service_wanted(settings: Settings) -> bool:
    """HTTP callbacks to serve, or WeCom robots to push to."""
    return needs_web(settings) or bool(settings.wecom.robots)


def official_api(runtime: Runtime) -> WechatApi[OfficialAccountClient] | None:
    w = runtime.settings.wechat
    if not (w.app_id and _secret(w.secret)):
        return None
    client = make_official_client(w.app_id, _secret(w.secret), w.base_url, auto_retry=False)
    return WechatApi(client, runtime.sessions, f"wechat.{w.app_id}")


def wecom_api(runtime: Runtime) -> WechatApi[WeComAppClient] | None:
    w = runtime.settings.wecom
    if not (w.corp_id and _secret(w.secret) and w.agent_id is not None):
        return None
    client = make_wecom_client(w.corp_id, _secret(w.secret), w.base_url, auto_retry=False)
    return WechatApi(client, runtime.sessions, f"wecom.{w.corp_id}.{w.agent_id}")


@dataclass
class WebService:
    app: Starlette
    settings: Settings
    loops: list[Loop] = field(default_factory=list)  # run until the stop event
    startup: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    wechat: WechatAdapter | None = None
    wecom: WecomAdapter | None = None
    serve_http: bool = True

    async def prepare(self) -> None:
        """Start-up steps (robot subscribers); call before the scheduler's first cycle."""
        steps, self.startup = self.startup, []
        for step in steps:
            try:
                await step()
            except Exception:
                log.exception("start-up step %s failed", getattr(step, "__name__", step))

    async def run(self, stop: asyncio.Event) -> None:
        """Serve HTTP (when a webhook platform is configured) and run the pushers."""
        await self.prepare()
        tasks = [asyncio.create_task(loop(stop)) for loop in self.loops]
        if self.serve_http:
            tasks.append(asyncio.create_task(serve(self.app, self.settings.web, stop)))
        try:
            await stop.wait()
        finally:
            await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def open_web_service(
    runtime: Runtime,
    core: TextCore,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    answer_budget: float = ANSWER_BUDGET,
) -> AsyncIterator[WebService]:
    settings = runtime.settings
    async with aiohttp.ClientSession() as http:
        wechat = _wechat(runtime, core, answer_budget)
        wecom, sender = _wecom(runtime, core, http)
        service = WebService(
            create_app(
                wechat=wechat[0].endpoint if wechat else None,
                wecom=wecom.endpoint if wecom else None,
                extra_routes=extra_routes,
                health=lambda: _health(runtime),
            ),
            settings,
            wechat=wechat[0] if wechat else None,
            wecom=wecom,
            serve_http=needs_web(settings),
        )
        if wechat and wechat[1] is not None:
            pusher = wechat[1]
            service.loops.append(pusher.run_forever)
        if sender is not None:
            service.loops.append(WecomPusher(runtime.sessions, sender).run_forever)
        if settings.wecom.robots:

            async def robots() -> int:
                return await sync_robots(runtime.sessions, settings.wecom, runtime.taxonomy)

            service.startup.append(robots)
        try:
            yield service
        finally:
            for adapter in (service.wechat, service.wecom):
                if adapter is not None:
                    await adapter.drain()  # replies and tag syncs still under way


def _wechat(
    runtime: Runtime, core: TextCore, budget: float
) -> tuple[WechatAdapter, WechatPusher | None] | None:
    settings = runtime.settings
    if not wechat_configured(settings):
        return None
    w = settings.wechat
    codec = OfficialCodec(_secret(w.token), _secret(w.encoding_aes_key) or None, w.app_id)
    api = official_api(runtime)
    if api is None:
        log.warning("wechat: no secret configured: passive replies only, no pushes")
        adapter = WechatAdapter(core, codec, runtime.sessions, max_bytes=w.max_bytes, budget=budget)
        return adapter, None
    tags = TagSync(api, runtime.sessions, runtime.taxonomy)
    adapter = WechatAdapter(
        core,
        codec,
        runtime.sessions,
        sender=WechatSender(api),
        tags=tags,
        max_bytes=w.max_bytes,
        budget=budget,
    )
    campaign = WechatCampaign(api, tags, runtime.sessions, w, runtime.taxonomy)
    return adapter, WechatPusher(campaign, runtime.sessions)


def _wecom(
    runtime: Runtime, core: TextCore, http: aiohttp.ClientSession
) -> tuple[WecomAdapter | None, WecomSender | None]:
    w = runtime.settings.wecom
    api = wecom_api(runtime)
    sender = None
    if api is not None or w.robots:
        sender = WecomSender(api, w.agent_id, robot_keys(w), w.base_url, http)
    if not wecom_configured(runtime.settings):
        return None, sender
    codec = WecomCodec(_secret(w.token), _secret(w.encoding_aes_key), w.corp_id)
    return WecomAdapter(core, codec, runtime.sessions, sender=sender), sender


async def _health(runtime: Runtime) -> dict[str, object]:
    async with runtime.sessions() as session:
        await session.execute(text("SELECT 1"))
    return {"database": "ok"}


async def push_once(runtime: Runtime) -> list[str]:
    """One pass of the WeChat campaign and the WeCom push (`tick --deliver`); summaries."""
    done: list[str] = []
    api = official_api(runtime)
    if api is not None:
        tags = TagSync(api, runtime.sessions, runtime.taxonomy)
        w = runtime.settings.wechat
        campaign = WechatCampaign(api, tags, runtime.sessions, w, runtime.taxonomy)
        report = await WechatPusher(campaign, runtime.sessions).run_once()
        if report is not None:
            done.append(f"wechat: {report}")
    w = runtime.settings.wecom
    wecom = wecom_api(runtime)
    if wecom is not None or w.robots:
        if w.robots:
            await sync_robots(runtime.sessions, w, runtime.taxonomy)
        async with aiohttp.ClientSession() as http:
            sender = WecomSender(wecom, w.agent_id, robot_keys(w), w.base_url, http)
            done.append(f"wecom: {await WecomPusher(runtime.sessions, sender).run_once()}")
    return done
