"""A delivery process for the crash suite (test_crash.py): drains until nothing is unfinished.

    python -m tests.delivery.crash_worker telegram DB_URL BASE_URL TOKEN
    python -m tests.delivery.crash_worker wechat DB_URL MP_BASE_URL WECOM_BASE_URL ROBOT_KEY...

Like `briefbot tick --deliver` in a loop, with the senders `briefbot run` has: Telegram's
(one message per call), or WeCom's push (member batches, robots at most once) and the
Official Account's tag campaign, against the local fakes. The parent SIGKILLs it at
random moments and starts it again; rows a killed run left 'sending' are requeued once
stale (claims without an instance: `stale_after`). Log lines carry the process id, so
the parent can tell which run said what.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp

from bot.config import Settings, WechatSettings, WecomSettings
from bot.delivery import DeliveryEngine, EngineTuning
from bot.delivery.types import Sender
from bot.platforms.telegram.sender import TelegramSender
from bot.platforms.wechat.campaign import WechatCampaign
from bot.platforms.wechat.tags import TagSync
from bot.platforms.wecom.push import WecomPush
from bot.platforms.wecom.robots import robot_keys
from bot.platforms.wecom.sender import WecomSender
from bot.runtime import Runtime
from bot.web.service import official_api, wecom_api
from briefings.model import Series
from briefings.taxonomy import Taxonomy
from storage import deliveries
from storage.db import create_engine, session_factory
from tests.delivery.helpers import CLIENT_LIMITS, FAST, Sessions
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET
from tests.fakes.wechat_work import DEFAULT_AGENTID, DEFAULT_CORPID, DEFAULT_CORPSECRET

SERIES = Series("embedded-ai", "嵌入式AI简报")
TUNING = EngineTuning(stale_after=1.0, backoff_base=0.05, idle_poll=0.1)  # 1 s: takeover
MASS_QUOTA = 100
LOG_FORMAT = "%(process)d %(levelname)s %(name)s %(message)s"


def wechat_settings(db_url: str, mp_url: str, wecom_url: str, robots: list[str]) -> Settings:
    """Push-only settings (no callback token) against the fake WeChat server's process."""
    return Settings(
        storage={"url": db_url},
        wechat=WechatSettings(
            app_id=DEFAULT_APPID,
            secret=DEFAULT_SECRET,
            base_url=mp_url,
            mass_send_daily_quota=MASS_QUOTA,
        ),
        wecom=WecomSettings(
            corp_id=DEFAULT_CORPID,
            secret=DEFAULT_CORPSECRET,
            agent_id=DEFAULT_AGENTID,
            base_url=wecom_url,
            robots=[{"key": key} for key in robots],
        ),
    )


async def unfinished(sessions: Sessions) -> int:
    async with sessions() as session:
        issues = await deliveries.issues_with_deliveries(session)
    return sum(i.unfinished for i in issues)


async def drain(engine: DeliveryEngine, sessions: Sessions) -> None:
    while await unfinished(sessions):
        await engine.run_until_idle()
        await asyncio.sleep(0.1)  # a dead run's rows: wait until they go stale


async def telegram(sessions: Sessions, base_url: str, token: str) -> None:
    async with TelegramSender.open(token, base_url, read_timeout=2.0) as sender:
        senders: dict[str, Sender] = {"telegram": sender}
        limits = {"telegram": CLIENT_LIMITS}
        await drain(DeliveryEngine(sessions, senders, FAST, limits=limits, tuning=TUNING), sessions)


async def wechat(runtime: Runtime, http: aiohttp.ClientSession) -> None:
    official, app = official_api(runtime), wecom_api(runtime)
    assert official is not None and app is not None
    tags = TagSync.for_runtime(official, runtime)
    w = runtime.settings
    campaign = WechatCampaign(official, tags, runtime.sessions, w.wechat)
    sender = WecomSender(app, w.wecom.agent_id, robot_keys(w.wecom), w.wecom.base_url, http)
    senders: dict[str, Sender] = {"wechat": campaign, "wecom": WecomPush(sender)}
    engine = DeliveryEngine(runtime.sessions, senders, w.delivery, tuning=TUNING)
    await drain(engine, runtime.sessions)


async def main(platform: str, db_url: str, *args: str) -> int:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        if platform == "telegram":
            await telegram(sessions, *args)
        else:
            settings = wechat_settings(db_url, args[0], args[1], list(args[2:]))
            runtime = Runtime(settings, engine, sessions, SERIES, Taxonomy.default())
            async with aiohttp.ClientSession() as http:
                await wechat(runtime, http)
    finally:
        await engine.dispose()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format=LOG_FORMAT)
    sys.exit(asyncio.run(main(*sys.argv[1:])))
