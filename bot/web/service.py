"""What `briefbot run` starts for the web endpoint and the WeChat / WeCom platforms.

    async with open_web_service(runtime, core, extra_routes=[telegram_route]) as web:
        await web.prepare()         # robot subscribers, before the first publication
        await web.run(stop_event)   # serves HTTP until stop is set; `web.senders` go to the engine

`run` should do this when `web_service_wanted(settings)`: a webhook platform is configured
(`needs_web`: callbacks, served over HTTP) or pushes are (`pushes_wanted`: the Official
Account's app id and secret, a WeCom app's corp id, secret and agent id, or WeCom robots;
pushes need no HTTP). Each answer comes from the platforms' own predicates
(`bot.platforms.<name>.configured` and its parts), the only code that reads which keys are
set. Push-only configurations serve nothing. `senders` are what the service adds to the
delivery engine: WeCom's batch sender and the Official Account's tag campaigns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.cluster.membership import short_lived
from bot.config import Settings
from bot.delivery.correction_terms import CorrectionTerms
from bot.delivery.engine import DeliveryEngine
from bot.platforms import telegram as telegram_platform
from bot.platforms import wechat as wechat_platform
from bot.platforms import wecom as wecom_platform
from bot.platforms.wechat.adapter import ANSWER_BUDGET, WechatAdapter
from bot.platforms.wechat.campaign import WechatCampaign
from bot.platforms.wechat.sender import WechatSender
from bot.platforms.wechat.tags import TagSync
from bot.platforms.wechat_common import secret_text
from bot.platforms.wechat_common.api import WechatApi
from bot.platforms.wechat_common.clients import (
    OfficialAccountClient,
    WeComAppClient,
    make_official_client,
    make_wecom_client,
)
from bot.platforms.wechat_common.crypto import OfficialCodec, WecomCodec
from bot.platforms.wechat_common.inbound import TextCore
from bot.platforms.wecom.adapter import WecomAdapter
from bot.platforms.wecom.push import WecomPush
from bot.platforms.wecom.robots import robot_keys, sync_robots
from bot.platforms.wecom.sender import WecomSender
from bot.runtime import Runtime
from bot.web.server import create_app, serve
from storage.db import ping

log = logging.getLogger(__name__)
Loop = Callable[[asyncio.Event], Awaitable[None]]


def needs_web(settings: Settings) -> bool:
    """Whether `briefbot run` must serve HTTP (any webhook platform configured)."""
    return (
        telegram_platform.webhook_configured(settings)
        or wechat_platform.callbacks_configured(settings)
        or wecom_platform.callbacks_configured(settings)
        or bool(settings.web.pages and settings.web.public_url)  # readers are sent there
    )


def pushes_wanted(settings: Settings) -> bool:
    """Credentials for Official Account mass sends, WeCom app messages or WeCom robots."""
    return wechat_platform.pushes_configured(settings) or wecom_platform.pushes_configured(settings)


def web_service_wanted(settings: Settings) -> bool:
    """HTTP callbacks or public pages to serve, or pushes to run."""
    return needs_web(settings) or pushes_wanted(settings)


def carries_chat(settings: Settings) -> bool:
    """Whether the web service brings a chat platform (WeChat, WeCom): without one and
    without Telegram, `run` keeps the terminal, even when it serves the public pages."""
    return (
        wechat_platform.callbacks_configured(settings)
        or wecom_platform.callbacks_configured(settings)
        or pushes_wanted(settings)
    )


def official_api(runtime: Runtime) -> WechatApi[OfficialAccountClient] | None:
    w = runtime.settings.wechat
    if not wechat_platform.pushes_configured(runtime.settings):
        return None
    client = make_official_client(w.app_id, secret_text(w.secret), w.base_url, auto_retry=False)
    return WechatApi(client, runtime.sessions, f"wechat.{w.app_id}")


def wecom_api(runtime: Runtime) -> WechatApi[WeComAppClient] | None:
    w = runtime.settings.wecom
    if not wecom_platform.app_configured(runtime.settings):
        return None
    client = make_wecom_client(w.corp_id, secret_text(w.secret), w.base_url, auto_retry=False)
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
    senders: dict[str, Any] = field(default_factory=dict)  # for the delivery engine

    async def prepare(self) -> None:
        """Start-up steps (robot subscribers); call before the scheduler's first cycle."""
        steps, self.startup = self.startup, []
        for step in steps:
            try:
                await step()
            except Exception:
                log.exception("start-up step %s failed", getattr(step, "__name__", step))

    async def run(self, stop: asyncio.Event) -> None:
        """Serve HTTP (when callbacks are configured) and run the loops until `stop`.

        Raises as soon as one of them fails (e.g. the port is taken), after stopping the rest.
        """
        await self.prepare()
        halt = asyncio.Event()  # our tasks' stop: the caller's, or a failure of one of them
        jobs = [asyncio.create_task(loop(halt)) for loop in self.loops]
        if self.serve_http:
            jobs.append(asyncio.create_task(serve(self.app, self.settings.web, halt)))
        watcher = asyncio.create_task(stop.wait())
        try:
            failure = await _first_failure(watcher, jobs)
        finally:
            halt.set()
            watcher.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
        if failure is not None:
            raise failure


async def _first_failure(
    watcher: asyncio.Task[object], jobs: list[asyncio.Task[None]]
) -> BaseException | None:
    """Wait for `watcher`; the exception of a job that fails first, if one does."""
    pending: set[asyncio.Task[Any]] = {watcher, *jobs}
    while watcher in pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not watcher and not task.cancelled() and task.exception() is not None:
                return task.exception()
    return None


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
        official = official_api(runtime)
        tags = TagSync.for_runtime(official, runtime) if official else None
        wechat = _wechat(runtime, core, official, tags, answer_budget)
        sender = _wecom_sender(runtime, http)
        wecom = _wecom(runtime, core, sender)
        service = WebService(
            create_app(
                wechat=wechat.endpoint if wechat else None,
                wecom=wecom.endpoint if wecom else None,
                extra_routes=[*extra_routes, *_public_routes(runtime)],
                health={"database": lambda: _ping_database(runtime)},
            ),
            settings,
            wechat=wechat,
            wecom=wecom,
            serve_http=needs_web(settings),
        )
        if official is not None and tags is not None:
            service.senders["wechat"] = _campaign(runtime, official, tags)
        if sender is not None:
            service.senders["wecom"] = WecomPush(sender)
        if settings.wecom.robots:

            async def robots() -> int:
                return await sync_robots(runtime)

            service.startup.append(robots)
        try:
            yield service
        finally:
            for adapter in (service.wechat, service.wecom):
                if adapter is not None:
                    await adapter.drain()  # replies and tag syncs still under way


def _wechat(
    runtime: Runtime,
    core: TextCore,
    api: WechatApi[OfficialAccountClient] | None,
    tags: TagSync | None,
    budget: float,
) -> WechatAdapter | None:
    """The callback adapter, when callbacks are configured (pushes need only `api`)."""
    settings = runtime.settings
    if not wechat_platform.callbacks_configured(settings):
        return None
    w = settings.wechat
    codec = OfficialCodec(secret_text(w.token), secret_text(w.encoding_aes_key) or None, w.app_id)
    if api is None:
        log.warning("wechat: no secret configured: passive replies only, no pushes")
    return WechatAdapter(
        core,
        codec,
        runtime.sessions,
        sender=WechatSender(api) if api is not None else None,
        tags=tags,
        max_bytes=w.max_bytes,
        budget=budget,
    )


def _wecom_sender(runtime: Runtime, http: aiohttp.ClientSession) -> WecomSender | None:
    w = runtime.settings.wecom
    api = wecom_api(runtime)
    if api is None and not w.robots:
        return None
    return WecomSender(api, w.agent_id, robot_keys(w), w.base_url, http)


def _wecom(runtime: Runtime, core: TextCore, sender: WecomSender | None) -> WecomAdapter | None:
    """The callback adapter, when callbacks are configured (replies go out through `sender`)."""
    if not wecom_platform.callbacks_configured(runtime.settings):
        return None
    w = runtime.settings.wecom
    codec = WecomCodec(secret_text(w.token), secret_text(w.encoding_aes_key), w.corp_id)
    return WecomAdapter(core, codec, runtime.sessions, sender=sender)


def _campaign(
    runtime: Runtime, api: WechatApi[OfficialAccountClient], tags: TagSync
) -> WechatCampaign:
    return WechatCampaign(api, tags, runtime.sessions, runtime.settings.wechat)


def _public_routes(runtime: Runtime) -> list[BaseRoute]:
    """The archive pages and feeds (`[web] pages`) and the operator page (`admin_token`),
    after the callbacks and the webhook: `/{series}` would match their paths too."""
    from bot.web.operator import operator_routes  # Jinja and the charts: only when served
    from bot.web.pages import content_languages, series_taxonomies, site_routes

    web = runtime.settings.web
    routes = operator_routes(runtime.sessions, web)
    return routes + site_routes(
        runtime.sessions,
        runtime.series,
        runtime.taxonomy,
        web,
        content_languages(runtime),
        series_taxonomies(runtime),
    )


async def _ping_database(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        await ping(session)


async def push_once(runtime: Runtime) -> list[str]:
    """The WeChat campaign and the WeCom push (`tick --deliver`): the delivery engine until
    idle with their senders, as a short-lived instance (its claims live by its heartbeat);
    summaries."""
    async with short_lived(runtime.sessions, runtime.settings.cluster) as member:
        return await _push_once(runtime, member.id)


async def _push_once(runtime: Runtime, claimant: str) -> list[str]:
    senders: dict[str, Any] = {}
    api = official_api(runtime)
    if api is not None:
        tags = TagSync.for_runtime(api, runtime)
        senders["wechat"] = _campaign(runtime, api, tags)
    w = runtime.settings.wecom
    wecom = wecom_api(runtime)
    async with aiohttp.ClientSession() as http:
        if wecom is not None or w.robots:
            if w.robots:
                await sync_robots(runtime)
            sender = WecomSender(wecom, w.agent_id, robot_keys(w), w.base_url, http)
            senders["wecom"] = WecomPush(sender)
        if not senders:
            return []
        engine = DeliveryEngine(
            runtime.sessions,
            senders,
            runtime.settings.delivery,
            claimant=claimant,
            corrections=CorrectionTerms.from_settings(runtime.settings.publish),
        )
        report = await engine.run_until_idle()
    done = [f"wechat: {campaign}" for campaign in report.campaigns]
    return [*done, f"{', '.join(sorted(senders))}: {report}"]
