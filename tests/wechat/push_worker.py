"""A push process for the WeChat / WeCom crash test: pushes until no delivery is unfinished.

    python -m tests.wechat.push_worker DB_URL MP_BASE_URL WECOM_BASE_URL ROBOT_KEY...

Push-only settings (no callback token) against the fake API server's process: the delivery
engine with the tag campaign (WeChat mass sends) and the WeCom push (app members and
robots) as its senders, as `briefbot run` runs them. The parent SIGKILLs it at random
moments and starts it again; rows a killed run left 'sending' are requeued once stale.
Logs go to stderr, each line with the process id, so the parent can tell which run said
what.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp

from bot.config import Settings, WechatSettings, WecomSettings
from bot.delivery.engine import DeliveryEngine, EngineTuning
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
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET
from tests.fakes.wechat_work import DEFAULT_AGENTID, DEFAULT_CORPID, DEFAULT_CORPSECRET

SERIES = Series("embedded-ai", "嵌入式AI简报")
STALE_AFTER = 1.0  # a killed run's rows are taken over after this long
MASS_QUOTA = 100
LOG_FORMAT = "%(process)d %(levelname)s %(name)s %(message)s"


def settings_for(db_url: str, mp_url: str, wecom_url: str, robots: list[str]) -> Settings:
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


async def unfinished(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        issues = await deliveries.issues_with_deliveries(session)
    return sum(i.unfinished for i in issues)


async def push_until_done(runtime: Runtime, http: aiohttp.ClientSession) -> None:
    official, app = official_api(runtime), wecom_api(runtime)
    assert official is not None and app is not None
    tags = TagSync(official, runtime.sessions, runtime.taxonomy)
    w = runtime.settings
    campaign = WechatCampaign(official, tags, runtime.sessions, w.wechat, runtime.taxonomy)
    sender = WecomSender(app, w.wecom.agent_id, robot_keys(w.wecom), w.wecom.base_url, http)
    tuning = EngineTuning(stale_after=STALE_AFTER, backoff_base=0.05)
    senders = {"wechat": campaign, "wecom": WecomPush(sender)}
    engine = DeliveryEngine(runtime.sessions, senders, w.delivery, tuning=tuning)
    while await unfinished(runtime):
        await engine.run_until_idle()
        await asyncio.sleep(0.1)  # a dead run's rows: wait until they go stale


async def main(db_url: str, mp_url: str, wecom_url: str, *robots: str) -> int:
    settings = settings_for(db_url, mp_url, wecom_url, list(robots))
    engine = create_engine(db_url)
    runtime = Runtime(settings, engine, session_factory(engine), SERIES, Taxonomy.default())
    try:
        async with aiohttp.ClientSession() as http:
            await push_until_done(runtime, http)
    finally:
        await engine.dispose()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format=LOG_FORMAT)
    sys.exit(asyncio.run(main(*sys.argv[1:])))
