"""Scheduled issue pushes on the Official Account: one mass send per tag, within quota, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest

from bot.platforms.wechat_api import WechatApi
from bot.platforms.wechat_campaign import WechatCampaign, WechatPusher, china_day
from bot.platforms.wechat_service import official_api
from bot.platforms.wechat_tags import TagSync, tag_name
from bot.publish.clock import FixedClock
from bot.publish.publisher import IssuePublisher
from bot.runtime import Runtime
from storage.deliveries import status_counts
from storage.issues import find_issue_id
from storage.subscribers import ALL, Subscription, get_or_create, set_subscriptions, update_settings
from tests.fakes.wechat_mp import MpConfig
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.helpers import WECHAT_MAX, settings_for, utf8_len

T = TypeVar("T")
ISSUE = date(2026, 11, 16)
PAPERS = Subscription("section", "papers")
CHIPS = Subscription("topic", "chips")
QUANT = Subscription("topic", "quantization")
FOLLOWERS: dict[str, tuple[Subscription, ...]] = {
    "o-all-1": (ALL,),
    "o-all-2": (ALL,),
    "o-papers": (PAPERS,),
    "o-papers-quant": (PAPERS, QUANT),
    "o-chips": (CHIPS,),
}
EXPECTED = {  # part -> its audience
    "all": {"o-all-1", "o-all-2"},
    "section:papers": {"o-papers", "o-papers-quant"},
    "topic:chips": {"o-chips"},
    "topic:quantization": {"o-papers-quant"},
}


class Crash(BaseException):
    """A kill: nothing after it runs (not even `except Exception`)."""


class CrashAfterMassSends:
    """The real API, dying right after WeChat accepted the `n`-th mass send."""

    def __init__(self, api: WechatApi[Any], server: FakeWeChatServer, n: int) -> None:
        self._api = api
        self._server = server
        self._n = n

    async def call(self, fn: Callable[[Any], T]) -> T:
        result = await self._api.call(fn)
        if len(self._server.mp.sent("mass")) == self._n:
            raise Crash
        return result


@pytest.fixture
def server(make_wechat_server: Callable[..., FakeWeChatServer]) -> FakeWeChatServer:
    return make_wechat_server(mp_config=MpConfig(mass_daily_quota=10))


@pytest.fixture
def wechat_server(server: FakeWeChatServer) -> FakeWeChatServer:
    return server


async def add_followers(runtime: Runtime, server: FakeWeChatServer) -> None:
    async with runtime.sessions.begin() as session:
        for openid, subscriptions in FOLLOWERS.items():
            subscriber, _ = await get_or_create(session, "wechat", openid, kind="user")
            await set_subscriptions(session, subscriber.id, subscriptions)
            server.mp.add_follower(openid, interacted=None)  # no 客服 window: mass only
        paused, _ = await get_or_create(session, "wechat", "o-paused", kind="user")
        await set_subscriptions(session, paused.id, [ALL])
        await update_settings(session, paused.id, paused=True)
        server.mp.add_follower("o-paused", interacted=None)


async def publish(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        issue_id = await find_issue_id(session, runtime.series.slug, ISSUE)
    assert issue_id is not None
    publisher = IssuePublisher(runtime, FixedClock(datetime(2026, 11, 17, 1, 0, tzinfo=UTC)))
    outcome = await publisher.publish_issue(issue_id, manual=True)
    assert outcome.publication is not None
    return issue_id


def campaign(runtime: Runtime, server: FakeWeChatServer, api: Any = None) -> WechatCampaign:
    api = api or official_api(runtime)
    assert api is not None
    tags = TagSync(api, runtime.sessions, runtime.taxonomy)
    return WechatCampaign(
        api,
        tags,
        runtime.sessions,
        runtime.settings.wechat,
        runtime.taxonomy,
        today=lambda: china_day(server.clock.now()),
    )


def mass_by_tag(server: FakeWeChatServer) -> dict[str, list[set[str]]]:
    by_tag: dict[str, list[set[str]]] = {}
    for message in server.mp.sent("mass"):
        name = server.mp.tags[message.meta["tag_id"]]
        by_tag.setdefault(name, []).append(set(message.targets))
    return by_tag


def assert_within_limits(server: FakeWeChatServer) -> None:
    for message in server.mp.sent():
        assert utf8_len(message.content) <= WECHAT_MAX
    # 45065: a resend answered "already sent"; 42001: a token expired by moving the clock.
    refused = [r for r in server.mp.requests if r.errcode not in (None, 0, 45065, 42001)]
    assert refused == [], refused


async def test_an_issue_goes_out_as_one_mass_send_per_tag(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    report = await WechatPusher(campaign(runtime, server), runtime.sessions).run_once()
    assert report is not None and report.finished
    assert report.sent == ["all", "section:papers", "topic:chips", "topic:quantization"]
    assert mass_by_tag(server) == {tag_name(p): [audience] for p, audience in EXPECTED.items()}
    for call in server.mp.calls("/cgi-bin/message/mass/sendall"):
        assert call.body["filter"] == {"is_to_all": False, "tag_id": call.body["filter"]["tag_id"]}
        assert call.body["clientmsgid"].startswith(f"briefbot-{issue_id}-")
    texts = {server.mp.tags[m.meta["tag_id"]]: m.content for m in server.mp.sent("mass")}
    assert "【论文】" in texts[tag_name("section:papers")]
    assert "业界新闻" not in texts[tag_name("section:papers")]
    assert "【业界新闻】" in texts[tag_name("all")] and "【博文】" in texts[tag_name("all")]
    assert_within_limits(server)
    async with runtime.sessions() as session:
        counts = await status_counts(session, issue_id)
    assert counts["wechat"]["sent"] == len(FOLLOWERS) and counts["wechat"]["pending"] == 0

    again = await WechatPusher(campaign(runtime, server), runtime.sessions).run_once()
    assert again is None  # nothing pending: nothing sent twice
    assert len(server.mp.sent("mass")) == len(EXPECTED)


async def test_the_daily_quota_spreads_a_campaign_over_days(
    runtime: Runtime, make_wechat_server: Callable[..., FakeWeChatServer]
) -> None:
    server = make_wechat_server(mp_config=MpConfig(mass_daily_quota=1))
    runtime = Runtime(
        settings_for(server, quota=1),
        runtime.engine,
        runtime.sessions,
        runtime.series,
        runtime.taxonomy,
    )
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    pusher = WechatPusher(campaign(runtime, server), runtime.sessions)

    first = await pusher.run_once()
    assert first is not None and first.sent == ["all"] and not first.finished
    assert first.deferred == ["section:papers", "topic:chips", "topic:quantization"]
    calls = len(server.mp.requests)
    same_day = await pusher.run_once()
    assert same_day is not None and same_day.quota_exhausted and same_day.sent == []
    assert len(server.mp.requests) == calls  # waiting for tomorrow costs no API call

    days = 1
    while not (report := await pusher.run_once()) or not report.finished:
        server.clock.advance(86400)
        days += 1
        assert days < 10
    assert days == 4
    assert mass_by_tag(server) == {tag_name(p): [audience] for p, audience in EXPECTED.items()}
    assert_within_limits(server)  # never a 45028 (quota exceeded)
    async with runtime.sessions() as session:
        counts = await status_counts(session, issue_id)
    assert counts["wechat"]["sent"] == len(FOLLOWERS)


@pytest.mark.parametrize("crash_after", [1, 3])
async def test_a_restart_mid_campaign_repeats_nothing(
    runtime: Runtime, server: FakeWeChatServer, crash_after: int
) -> None:
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    api = official_api(runtime)
    assert api is not None
    dying = campaign(runtime, server, CrashAfterMassSends(api, server, crash_after))
    with pytest.raises(Crash):
        await WechatPusher(dying, runtime.sessions).run_once()
    assert len(server.mp.sent("mass")) == crash_after

    restarted = await WechatPusher(campaign(runtime, server), runtime.sessions).run_once()
    assert restarted is not None and restarted.finished
    # The part whose success was never recorded is resent with the same clientmsgid, and
    # WeChat answers 45065 instead of sending it again.
    assert len(restarted.already) == crash_after
    assert mass_by_tag(server) == {tag_name(p): [audience] for p, audience in EXPECTED.items()}
    assert [r.errcode for r in server.mp.calls("/cgi-bin/message/mass/sendall")].count(45065) == 1
    async with runtime.sessions() as session:
        counts = await status_counts(session, issue_id)
    assert counts["wechat"]["sent"] == len(FOLLOWERS)


async def test_an_older_pending_issue_is_superseded(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    await add_followers(runtime, server)
    async with runtime.sessions() as session:
        older = await find_issue_id(session, runtime.series.slug, date(2026, 11, 2))
    assert older is not None
    clock = FixedClock(datetime(2026, 11, 17, 1, 0, tzinfo=UTC))
    assert (await IssuePublisher(runtime, clock).publish_issue(older, manual=True)).publication
    newer = await publish(runtime)
    report = await WechatPusher(campaign(runtime, server), runtime.sessions).run_once()
    assert report is not None and report.issue_id == newer and report.finished
    async with runtime.sessions() as session:
        old_counts = await status_counts(session, older)
    assert old_counts["wechat"]["dropped"] == len(FOLLOWERS)
    assert all("2026-11-16" in m.content for m in server.mp.sent("mass"))
