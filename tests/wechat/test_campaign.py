"""Scheduled issue pushes on the Official Account: one mass send per tag, within quota, once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.delivery.engine import DeliveryEngine
from bot.platforms.wechat.campaign import CampaignReport, WechatCampaign, china_day
from bot.platforms.wechat.tags import TagSync, tag_name
from bot.platforms.wechat_common.api import WechatApi
from bot.platforms.wechat_common.clients import make_official_client
from bot.publish.publisher import IssuePublisher
from bot.publish.rendering import MASS_PART_PREFIX
from bot.runtime import Runtime
from bot.web.service import official_api
from storage.deliveries import status_counts
from storage.deliveries.writes import renderings_by_prefix
from storage.issues import find_issue_id
from storage.models import DeliveryRow, RenderingRow, SubscriberRow
from storage.subscribers import ALL, Subscription, get_or_create, set_subscriptions, update_settings
from storage.wechat import get_part
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET, MpConfig
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
MASS = "/cgi-bin/message/mass/sendall"
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
    tags = TagSync.for_runtime(api, runtime)
    return WechatCampaign(
        api,
        tags,
        runtime.sessions,
        runtime.settings.wechat,
        today=lambda: china_day(server.clock.now()),
    )


async def push(
    runtime: Runtime, sender: WechatCampaign, *, wall: Callable[[], datetime] | None = None
) -> CampaignReport | None:
    """The delivery engine until idle with the campaign as its wechat sender; the run's
    campaign report (None: no campaign was claimed)."""
    engine = DeliveryEngine(
        runtime.sessions,
        {"wechat": sender},
        runtime.settings.delivery,
        wall=wall or (lambda: datetime.now(UTC)),
    )
    report = await engine.run_until_idle()
    return report.campaigns[-1] if report.campaigns else None


async def stored_parts(runtime: Runtime, issue_id: int) -> dict[str, str]:
    """part -> the text publication rendered and stored for its mass send."""
    async with runtime.sessions() as session:
        stored = await renderings_by_prefix(session, issue_id, "wechat", MASS_PART_PREFIX)
    return {str(m[0]["part"]): str(m[0]["text"]) for m in stored}


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
    report = await push(runtime, campaign(runtime, server))
    assert report is not None and report.finished
    assert report.sent == ["all", "section:papers", "topic:chips", "topic:quantization"]
    assert mass_by_tag(server) == {tag_name(p): [audience] for p, audience in EXPECTED.items()}
    for call in server.mp.calls("/cgi-bin/message/mass/sendall"):
        assert call.body["filter"] == {"is_to_all": False, "tag_id": call.body["filter"]["tag_id"]}
        assert call.body["clientmsgid"].startswith(f"briefbot-{issue_id}-")
    texts = {server.mp.tags[m.meta["tag_id"]]: m.content for m in server.mp.sent("mass")}
    stored = await stored_parts(runtime, issue_id)  # what is sent is what was stored
    assert texts == {tag_name(part): stored[part] for part in EXPECTED}
    assert "【论文】" in texts[tag_name("section:papers")]
    assert "业界新闻" not in texts[tag_name("section:papers")]
    assert "【业界新闻】" in texts[tag_name("all")] and "【博文】" in texts[tag_name("all")]
    assert_within_limits(server)
    async with runtime.sessions() as session:
        counts = await status_counts(session, issue_id)
    assert counts["wechat"]["sent"] == len(FOLLOWERS) and counts["wechat"]["pending"] == 0

    again = await push(runtime, campaign(runtime, server))
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
    pusher = campaign(runtime, server)

    first = await push(runtime, pusher)
    assert first is not None and first.sent == ["all"] and not first.finished
    assert first.deferred == ["section:papers", "topic:chips", "topic:quantization"]
    calls = len(server.mp.requests)
    same_day = await push(runtime, pusher)
    assert same_day is not None and same_day.quota_exhausted and same_day.sent == []
    assert len(server.mp.requests) == calls  # waiting for tomorrow costs no API call

    days = 1
    while not (report := await push(runtime, pusher)) or not report.finished:
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
        await push(runtime, dying)
    assert len(server.mp.sent("mass")) == crash_after

    later = datetime.now(UTC) + timedelta(minutes=5)  # the dead process's claim has lapsed
    restarted = await push(runtime, campaign(runtime, server), wall=lambda: later)
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
    report = await push(runtime, campaign(runtime, server))
    assert report is not None and report.issue_id == newer and report.finished
    async with runtime.sessions() as session:
        old_counts = await status_counts(session, older)
    assert old_counts["wechat"]["dropped"] == len(FOLLOWERS)
    assert all("2026-11-16" in m.content for m in server.mp.sent("mass"))


def errcodes(server: FakeWeChatServer, path: str = MASS) -> list[int | None]:
    return [r.errcode for r in server.mp.calls(path)]


async def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


async def delivery_states(runtime: Runtime, issue_id: int) -> dict[str, tuple[str, str | None]]:
    """openid -> (status, last_error) of its wechat delivery of the issue."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(SubscriberRow.chat_id, DeliveryRow.status, DeliveryRow.last_error)
            .join(DeliveryRow, DeliveryRow.subscriber_id == SubscriberRow.id)
            .where(DeliveryRow.issue_id == issue_id, DeliveryRow.platform == "wechat")
        )
    return {chat: (status, error) for chat, status, error in rows}


async def test_followers_are_tagged_and_untagged_in_batches_of_50(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    crowd = [f"o-crowd-{n:03d}" for n in range(120)]
    async with runtime.sessions.begin() as session:
        ids = []
        for openid in crowd:
            subscriber, _ = await get_or_create(session, "wechat", openid, kind="user")
            await set_subscriptions(session, subscriber.id, [ALL])
            ids.append(subscriber.id)
            server.mp.add_follower(openid, interacted=None)
    api = official_api(runtime)
    assert api is not None
    tags = TagSync.for_runtime(api, runtime)
    assert (await tags.sync_all())["all"] == 120
    all_tag = server.mp.tag_id(tag_name("all"))
    tagging = server.mp.calls("/cgi-bin/tags/members/batchtagging")
    assert [len(c.body["openid_list"]) for c in tagging] == [50, 50, 20]
    assert {c.body["tagid"] for c in tagging} == {all_tag}
    assert {o for o, f in server.mp.followers.items() if all_tag in f.tags} == set(crowd)

    async with runtime.sessions.begin() as session:  # everyone pauses: every tag comes off
        for subscriber_id in ids:
            await update_settings(session, subscriber_id, paused=True)
    assert (await tags.sync_all())["all"] == 0
    untagging = server.mp.calls("/cgi-bin/tags/members/batchuntagging")
    assert [len(c.body["openid_list"]) for c in untagging] == [50, 50, 20]
    assert all(not f.tags for f in server.mp.followers.values())
    assert errcodes(server, "/cgi-bin/tags/members/batchtagging") == [0, 0, 0]


async def test_wechat_refusing_for_quota_stops_the_campaign_until_the_next_day(
    runtime: Runtime, make_wechat_server: Callable[..., FakeWeChatServer]
) -> None:
    """The account's quota was partly used elsewhere (the admin console): WeChat says 45028
    before the configured quota is reached."""
    server = make_wechat_server(mp_config=MpConfig(mass_daily_quota=2))
    runtime = Runtime(
        settings_for(server, quota=10),
        runtime.engine,
        runtime.sessions,
        runtime.series,
        runtime.taxonomy,
    )
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    pusher = campaign(runtime, server)

    first = await push(runtime, pusher)
    assert first is not None and not first.finished
    assert first.sent == ["all", "section:papers"]
    assert first.deferred == ["topic:chips", "topic:quantization"]
    assert errcodes(server) == [0, 0, 45028]
    calls = len(server.mp.requests)
    same_day = await push(runtime, pusher)
    assert same_day is not None and same_day.quota_exhausted and same_day.sent == []
    assert len(server.mp.requests) == calls  # the refusal is remembered: no API call

    server.clock.advance(86400)
    next_day = await push(runtime, pusher)
    assert next_day is not None and next_day.finished
    assert next_day.already == ["all", "section:papers"]
    assert next_day.sent == ["topic:chips", "topic:quantization"]
    assert errcodes(server) == [0, 0, 45028, 0, 0]
    assert mass_by_tag(server) == {tag_name(p): [audience] for p, audience in EXPECTED.items()}
    async with runtime.sessions() as session:
        counts = await status_counts(session, issue_id)
    assert counts["wechat"]["sent"] == len(FOLLOWERS)


@pytest.mark.parametrize("fault", ["45009", "-1", "timeout"])
async def test_an_interrupted_mass_send_is_retried_on_the_next_run_without_repeats(
    runtime: Runtime, server: FakeWeChatServer, fault: str
) -> None:
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    client = make_official_client(
        DEFAULT_APPID, DEFAULT_SECRET, server.mp_base_url, timeout=0.5, auto_retry=False
    )
    api = WechatApi(client, runtime.sessions, f"wechat.{DEFAULT_APPID}")
    if fault == "timeout":  # WeChat takes the call but answers too late
        server.mp.faults.inject(MASS, hang=30.0)
    else:
        server.mp.faults.inject(MASS, errcode=int(fault))
    pusher = campaign(runtime, server, api)

    first = await push(runtime, pusher)
    assert first is not None and not first.finished and first.sent == []
    assert first.interrupted is not None and first.interrupted.startswith("all: ")
    assert first.deferred == ["section:papers", "topic:chips", "topic:quantization"]
    if fault == "timeout":
        server.release_hangs()
        await wait_for(lambda: len(server.mp.sent("mass")) == 1)  # it went out after all
    else:
        assert server.mp.sent("mass") == [] and errcodes(server) == [int(fault)]

    second = await push(runtime, pusher)
    assert second is not None and second.finished
    if fault == "timeout":  # resent with the same clientmsgid: WeChat answers 45065
        assert second.already == ["all"] and errcodes(server).count(45065) == 1
    else:
        assert second.sent[0] == "all"
    assert mass_by_tag(server) == {tag_name(p): [audience] for p, audience in EXPECTED.items()}
    async with runtime.sessions() as session:
        counts = await status_counts(session, issue_id)
    assert counts["wechat"]["sent"] == len(FOLLOWERS)


async def test_a_refused_part_is_failed_and_reported_while_the_rest_go_out(
    runtime: Runtime, server: FakeWeChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    # The first part, "all", is refused.
    server.mp.faults.inject(MASS, errcode=45002, errmsg="content size out of limit")
    pusher = campaign(runtime, server)

    report = await push(runtime, pusher)
    assert report is not None and report.finished and report.failed == ["all"]
    assert report.sent == ["section:papers", "topic:chips", "topic:quantization"]
    assert any("refused" in r.getMessage() and "45002" in r.getMessage() for r in caplog.records)
    async with runtime.sessions() as session:
        record = await get_part(session, issue_id, "all")
    assert record is not None and record.status == "failed" and "45002" in record.detail
    states = await delivery_states(runtime, issue_id)
    for openid in EXPECTED["all"]:
        status, error = states.pop(openid)
        assert status == "failed" and error is not None
        assert "(all: " in error and "45002" in error
    assert {status for status, _ in states.values()} == {"sent"}

    assert await push(runtime, pusher) is None  # settled: the refused part is not retried
    assert len(server.mp.sent("mass")) == 3


async def test_the_campaign_sends_the_rendering_stored_at_publication(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    """Parts are rendered once, at publication: the campaign sends what was stored, and
    renders nothing itself (a stored text changed afterwards is what goes out)."""
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    stored = await stored_parts(runtime, issue_id)
    assert set(EXPECTED) <= set(stored)
    async with runtime.sessions.begin() as session:
        row = await session.scalar(
            select(RenderingRow).where(
                RenderingRow.issue_id == issue_id,
                RenderingRow.cache_key == f"{MASS_PART_PREFIX}topic:chips",
            )
        )
        assert row is not None
        row.messages = [{**row.messages[0], "text": "芯片：发布时存储的文本"}]
    report = await push(runtime, campaign(runtime, server))
    assert report is not None and report.finished
    texts = {server.mp.tags[m.meta["tag_id"]]: m.content for m in server.mp.sent("mass")}
    assert texts[tag_name("topic:chips")] == "芯片：发布时存储的文本"
    assert texts[tag_name("all")] == stored["all"]
    async with runtime.sessions() as session:  # a follower's delivery holds its parts' texts
        [messages] = await session.scalars(
            select(RenderingRow.messages)
            .join(DeliveryRow, DeliveryRow.rendering_id == RenderingRow.id)
            .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
            .where(DeliveryRow.issue_id == issue_id, SubscriberRow.chat_id == "o-papers-quant")
        )
    assert [m["part"] for m in messages] == ["section:papers", "topic:quantization"]
    assert [m["text"] for m in messages] == [
        stored["section:papers"],
        stored["topic:quantization"],
    ]
