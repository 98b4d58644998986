"""WeCom: the application callback, batched application pushes and group-robot pushes."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import insert, select

from bot.clock import FixedClock
from bot.commands import Core
from bot.config import DeliverySettings
from bot.delivery.engine import DeliveryEngine, EngineTuning
from bot.delivery.report import DrainReport
from bot.platforms.wecom.push import WecomPush
from bot.platforms.wecom.robots import robot_chat_id, robot_keys, sync_robots
from bot.platforms.wecom.sender import BatchResult, WecomLimits, WecomSender
from bot.publish.publisher import IssuePublisher
from bot.runtime import Runtime
from bot.web.service import WebService, open_web_service, wecom_api
from storage.deliveries import load_renderings, status_counts
from storage.issues import find_issue_id
from storage.models import DeliveryRow, SubscriberRow, SubscriptionRow
from storage.subscribers import ALL, Subscription, get_or_create, get_subscriber, set_subscriptions
from tests.fakes.wechat_server import FakeWeChatServer
from tests.fakes.wechat_work import WecomConfig
from tests.wechat.helpers import (
    ROBOT_KEY,
    WECOM_APP_MAX,
    WECOM_ROBOT_MAX,
    client_for,
    post,
    settings_for,
    utf8_len,
    wecom_callback,
    wecom_fields,
    wecom_verification,
)
from tests.wechat.seeding import markdown_messages, seed_deliveries

PATH = "/wecom/callback"
NEWER, OLDER = date(2026, 11, 16), date(2026, 11, 2)
SECOND_ROBOT = "00000000-fake-robo-t000-000000000002"
MEMBERS: dict[str, tuple[Subscription, ...]] = {
    "zhangsan": (ALL,),
    "lisi": (ALL,),
    "wangwu": (Subscription("section", "papers"),),
    "zhaoliu": (Subscription("topic", "chips"),),
}


class Crash(BaseException):
    """A kill between two sends."""


class VirtualTime:
    """Our limiter's clock and sleep, moving the fake server's clock along."""

    def __init__(self, server: FakeWeChatServer) -> None:
        self.server = server
        self.slept = 0.0

    def now(self) -> float:
        return self.server.clock.now()

    async def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.server.clock.advance(seconds)


class CrashingSender(WecomSender):
    """Dies right after WeCom answered its `crash_at`-th call: the answer is never recorded."""

    def __init__(self, *args: Any, crash_at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0
        self.crash_at = crash_at

    async def send_batch(
        self, userids: Sequence[str], message: Mapping[str, Any], **options: Any
    ) -> BatchResult:
        result = await super().send_batch(userids, message, **options)
        self._count()
        return result

    async def send_robot(self, chat_id: str, text: str, **options: Any) -> None:
        await super().send_robot(chat_id, text, **options)
        self._count()

    def _count(self) -> None:
        self.calls += 1
        if self.calls == self.crash_at:
            raise Crash


class DyingRobotSender(WecomSender):
    """Dies while its `crash_at`-th robot call is in flight, before the request leaves."""

    def __init__(self, *args: Any, crash_at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0
        self.crash_at = crash_at

    async def send_robot(self, chat_id: str, text: str, **options: Any) -> None:
        self.calls += 1
        if self.calls == self.crash_at:
            raise Crash
        await super().send_robot(chat_id, text, **options)


async def push(
    runtime: Runtime,
    sender: WecomSender,
    *,
    wall: Callable[[], datetime] | None = None,
    settings: DeliverySettings | None = None,
    tuning: EngineTuning | None = None,
) -> DrainReport:
    """Every claimable wecom delivery through the delivery engine, WeCom as its batch sender."""
    engine = DeliveryEngine(
        runtime.sessions,
        {"wecom": WecomPush(sender)},
        settings or runtime.settings.delivery,
        tuning=tuning,
        wall=wall or (lambda: datetime.now(UTC)),
    )
    return await engine.run_until_idle()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def sender_for(
    runtime: Runtime,
    http: aiohttp.ClientSession,
    time: VirtualTime,
    limits: WecomLimits | None = None,
    cls: type[WecomSender] = WecomSender,
    **extra: Any,
) -> WecomSender:
    w = runtime.settings.wecom
    return cls(
        wecom_api(runtime),
        w.agent_id,
        robot_keys(w),
        w.base_url,
        http,
        limits=limits,
        clock=time.now,
        sleep=time.sleep,
        **extra,
    )


def with_settings(runtime: Runtime, server: FakeWeChatServer, **kwargs: Any) -> Runtime:
    settings = settings_for(server, **kwargs)
    return Runtime(settings, runtime.engine, runtime.sessions, runtime.series, runtime.taxonomy)


async def add_members(runtime: Runtime, server: FakeWeChatServer, members: dict[str, Any]) -> None:
    async with runtime.sessions.begin() as session:
        for userid, subscriptions in members.items():
            subscriber, _ = await get_or_create(session, "wecom", userid, kind="user")
            await set_subscriptions(session, subscriber.id, subscriptions)
    server.wecom.add_members(*members)


async def add_crowd(
    runtime: Runtime, server: FakeWeChatServer, userids: list[str], subscription: Subscription
) -> None:
    """Many members at once (bulk inserts: one by one would dominate the test's time)."""
    now = datetime.now(UTC)
    row = {"kind": "user", "language": "zh", "format": "full", "paused": False, "active": True}
    async with runtime.sessions.begin() as session:
        ids = await session.scalars(
            insert(SubscriberRow)
            .values(
                [{**row, "platform": "wecom", "chat_id": u, "created_at": now} for u in userids]
            )
            .returning(SubscriberRow.id)
        )
        wanted = {"kind": subscription.kind, "key": subscription.key}
        await session.execute(
            insert(SubscriptionRow), [{"subscriber_id": i, **wanted} for i in ids.all()]
        )
    server.wecom.add_members(*userids)


async def publish(runtime: Runtime, key: date = NEWER) -> int:
    async with runtime.sessions() as session:
        issue_id = await find_issue_id(session, runtime.series.slug, key)
    assert issue_id is not None
    clock = FixedClock(datetime(2026, 11, 17, 1, 0, tzinfo=UTC))
    assert (await IssuePublisher(runtime, clock).publish_issue(issue_id, manual=True)).publication
    return issue_id


async def expected_texts(runtime: Runtime, issue_id: int) -> dict[str, list[str]]:
    """chat id -> the texts its wecom delivery holds."""
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(SubscriberRow.chat_id, DeliveryRow.rendering_id)
                .join(DeliveryRow, DeliveryRow.subscriber_id == SubscriberRow.id)
                .where(DeliveryRow.issue_id == issue_id, DeliveryRow.platform == "wecom")
            )
        ).all()
        renderings = await load_renderings(session, {r for _, r in rows})
    return {chat: [m["text"] for m in renderings[r]] for chat, r in rows}


def per_member_window(server: FakeWeChatServer, seconds: float) -> int:
    """The most application messages any member got within any `seconds`."""
    worst = 0
    times: dict[str, list[float]] = {}
    for message in server.wecom.sent("app"):
        for userid in message.targets:
            times.setdefault(userid, []).append(message.at)
    for stamps in times.values():
        for i, start in enumerate(stamps):
            worst = max(worst, sum(1 for t in stamps[i:] if t < start + seconds))
    return worst


# --- the callback ---------------------------------------------------------------------


@pytest.fixture
async def web(runtime: Runtime, core: Core) -> AsyncIterator[WebService]:
    async with open_web_service(runtime, core) as service:
        yield service


async def test_wecom_commands_are_answered_with_markdown_app_messages(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime
) -> None:
    wechat_server.wecom.add_members("zhangsan")
    async with client_for(web.app) as client:
        verified = await client.get(PATH, params=wecom_verification("hello-wecom"))
        follow = {**wecom_fields("zhangsan", ""), "MsgType": "event", "Event": "subscribe"}
        del follow["MsgId"], follow["Content"]
        answers = [await post(client, PATH, wecom_callback(follow))]
        latest = wecom_fields("zhangsan", "最新")
        answers.append(await post(client, PATH, wecom_callback(latest)))
        # WeCom's retry: the same message (MsgId), signed anew; handled once
        answers.append(await post(client, PATH, wecom_callback(latest)))
        answers.append(await post(client, PATH, wecom_callback(wecom_fields("zhangsan", "嗨"))))
    assert (verified.status_code, verified.text) == (200, "hello-wecom")
    assert [(a.status_code, a.text) for a in answers] == [(200, "")] * 4
    assert web.wecom is not None
    await web.wecom.drain()
    inbox = wechat_server.wecom.inbox("zhangsan")
    assert "欢迎使用「嵌入式AI简报」" in inbox[0] and "全部栏目" in inbox[0]
    assert sum("目录" in text for text in inbox) == 1
    assert "命令与示例" in inbox[-1]
    assert all(utf8_len(text) <= WECOM_APP_MAX for text in inbox)
    assert {m.msgtype for m in wechat_server.wecom.sent("app")} == {"markdown"}
    async with runtime.sessions() as session:
        subscriber = await get_subscriber(session, "wecom", "zhangsan")
    assert subscriber is not None and subscriber.subscriptions == (ALL,)


async def test_forged_wecom_callbacks_get_403(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime
) -> None:
    good = wecom_callback(wecom_fields("zhangsan", "订阅 论文"))
    async with client_for(web.app) as client:
        forged = await client.post(
            PATH, params={**good.params, "msg_signature": "0" * 40}, content=good.body
        )
        bad_get = await client.get(PATH, params={**wecom_verification(), "msg_signature": "1"})
    assert (forged.status_code, forged.text) == (403, "bad signature")
    assert (bad_get.status_code, bad_get.text) == (403, "bad signature")
    async with runtime.sessions() as session:
        assert await get_subscriber(session, "wecom", "zhangsan") is None
    assert wechat_server.wecom.requests == []


async def test_a_replayed_wecom_callback_inside_the_window_gets_403(
    web: WebService, wechat_server: FakeWeChatServer
) -> None:
    """Fresh and correctly signed, but the very same request again: refused, not re-run."""
    wechat_server.wecom.add_members("zhangsan")
    callback = wecom_callback(wecom_fields("zhangsan", "帮助"))
    async with client_for(web.app) as client:
        first = await post(client, PATH, callback)
        again = await post(client, PATH, callback)
    assert first.status_code == 200
    assert (again.status_code, again.text) == (403, "bad signature")
    assert web.wecom is not None
    await web.wecom.drain()
    assert len(wechat_server.wecom.inbox("zhangsan")) == 1


async def test_replayed_wecom_callbacks_get_403(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime
) -> None:
    wechat_server.wecom.add_members("zhangsan")
    now = datetime.now(UTC).timestamp()
    stale = wecom_callback(wecom_fields("zhangsan", "订阅 论文"), timestamp=now - 301)
    recent = wecom_callback(wecom_fields("zhangsan", "帮助"), timestamp=now - 20)
    async with client_for(web.app) as client:
        replayed = await post(client, PATH, stale)
        answered = await post(client, PATH, recent)
    assert replayed.status_code == 403 and answered.status_code == 200
    assert web.wecom is not None
    await web.wecom.drain()
    async with runtime.sessions() as session:
        assert await get_subscriber(session, "wecom", "zhangsan") is None
    [reply] = wechat_server.wecom.inbox("zhangsan")
    assert "命令与示例" in reply  # only the recent one was handled


# --- pushes ---------------------------------------------------------------------------


async def test_app_push_groups_identical_renderings_into_one_call(
    runtime: Runtime, wechat_server: FakeWeChatServer, http: aiohttp.ClientSession
) -> None:
    await add_members(runtime, wechat_server, MEMBERS)
    issue_id = await publish(runtime)
    expected = await expected_texts(runtime, issue_id)
    time = VirtualTime(wechat_server)
    report = await push(runtime, sender_for(runtime, http, time))
    for userid in MEMBERS:
        assert wechat_server.wecom.inbox(userid) == expected[userid]
    renderings = {tuple(texts) for texts in expected.values()}
    assert report.calls == sum(len(texts) for texts in renderings)
    both = [m for m in wechat_server.wecom.sent("app") if set(m.targets) == {"zhangsan", "lisi"}]
    assert len(both) == len(expected["zhangsan"])  # the two "all" members share every call
    assert all(utf8_len(m.content) <= WECOM_APP_MAX for m in wechat_server.wecom.sent("app"))
    assert wechat_server.wecom.dropped == []
    async with runtime.sessions() as session:
        counts = await status_counts(session, issue_id)
    assert counts["wecom"]["sent"] == len(MEMBERS)


async def test_more_than_1000_members_are_split_into_batches(
    runtime: Runtime, wechat_server: FakeWeChatServer, http: aiohttp.ClientSession
) -> None:
    crowd = [f"user{i:04d}" for i in range(1203)]
    await add_crowd(runtime, wechat_server, crowd, Subscription("section", "papers"))
    issue_id = await publish(runtime)
    expected = await expected_texts(runtime, issue_id)
    time = VirtualTime(wechat_server)
    await push(runtime, sender_for(runtime, http, time))
    calls = wechat_server.wecom.calls("/cgi-bin/message/send")
    sizes = sorted(len(str(c.body["touser"]).split("|")) for c in calls)
    per_message = len(expected["user0000"])
    assert sizes == sorted([1000, 203] * per_message)
    delivered = Counter(u for m in wechat_server.wecom.sent("app") for u in m.targets)
    assert set(delivered) == set(crowd) and set(delivered.values()) == {per_message}


async def test_member_limits_are_taken_before_sending(
    runtime: Runtime,
    make_wechat_server: Callable[..., FakeWeChatServer],
    http: aiohttp.ClientSession,
) -> None:
    server = make_wechat_server(wecom_config=WecomConfig(member_per_minute=2, member_per_hour=4))
    runtime = with_settings(runtime, server)
    await add_members(runtime, server, {"zhangsan": (ALL,)})
    first, second = await publish(runtime, OLDER), await publish(runtime, NEWER)
    expected = await expected_texts(runtime, first), await expected_texts(runtime, second)
    total = len(expected[0]["zhangsan"]) + len(expected[1]["zhangsan"])
    assert total > 4  # more than the hourly limit: the push has to wait
    time = VirtualTime(server)
    limits = WecomLimits(member_per_minute=2, member_per_hour=4)
    await push(runtime, sender_for(runtime, http, time, limits))
    assert server.wecom.dropped == []  # WeCom would have dropped the excess silently
    assert server.wecom.inbox("zhangsan") == expected[0]["zhangsan"] + expected[1]["zhangsan"]
    assert per_member_window(server, 60) <= 2 and per_member_window(server, 3600) <= 4
    assert time.slept >= 3600


async def test_robots_get_their_sections_within_size_and_rate(
    runtime: Runtime,
    make_wechat_server: Callable[..., FakeWeChatServer],
    http: aiohttp.ClientSession,
) -> None:
    server = make_wechat_server(wecom_config=WecomConfig(robot_per_minute=2))
    server.wecom.add_robot(SECOND_ROBOT)
    robots = [{"key": ROBOT_KEY, "sections": ["论文"]}, {"key": SECOND_ROBOT}]
    runtime = with_settings(runtime, server, robots=robots)
    await sync_robots(runtime)
    first, second = await publish(runtime, OLDER), await publish(runtime, NEWER)
    expected = [await expected_texts(runtime, issue) for issue in (first, second)]
    papers, everything = robot_chat_id(ROBOT_KEY), robot_chat_id(SECOND_ROBOT)
    assert len(expected[0][everything]) + len(expected[1][everything]) > 2  # over 2 a minute
    time = VirtualTime(server)
    limits = WecomLimits(robot_per_minute=2)
    report = await push(runtime, sender_for(runtime, http, time, limits))
    assert report.deliveries_sent == 4
    assert server.wecom.robot_messages(ROBOT_KEY) == expected[0][papers] + expected[1][papers]
    assert server.wecom.robot_messages(SECOND_ROBOT) == (
        expected[0][everything] + expected[1][everything]
    )
    assert all("【论文】" not in t and "论文" in t for t in server.wecom.robot_messages(ROBOT_KEY))
    for message in server.wecom.sent("robot"):
        assert message.msgtype == "markdown" and utf8_len(message.content) <= WECOM_ROBOT_MAX
    assert [r.errcode for r in server.wecom.requests if r.errcode] == []  # never a 45009
    assert time.slept > 0


async def test_a_restart_mid_push_repeats_nothing(
    runtime: Runtime, wechat_server: FakeWeChatServer, http: aiohttp.ClientSession
) -> None:
    await add_members(runtime, wechat_server, MEMBERS)
    issue_id = await publish(runtime)
    expected = await expected_texts(runtime, issue_id)
    time = VirtualTime(wechat_server)
    dying = sender_for(runtime, http, time, cls=CrashingSender, crash_at=3)
    with pytest.raises(Crash):  # one call in flight at a time (WecomPush.concurrency)
        await push(runtime, dying)
    accepted = wechat_server.wecom.sent("app")
    assert len(accepted) == 3  # the third was accepted, but its checkpoint never written

    later = datetime.now(UTC) + timedelta(minutes=5)  # the dead process's claims have lapsed
    report = await push(runtime, sender_for(runtime, http, time), wall=lambda: later)
    assert report.requeued > 0
    # The third call went out again, and WeCom's duplicate check kept it from its members.
    repeats = {(d.userid, d.content) for d in wechat_server.wecom.duplicates}
    assert repeats == {(u, accepted[2].content) for u in accepted[2].targets}
    for userid in MEMBERS:
        assert wechat_server.wecom.inbox(userid) == expected[userid]  # each message once
    for call in wechat_server.wecom.calls("/cgi-bin/message/send"):
        assert call.body["enable_duplicate_check"] == 1
        assert call.body["duplicate_check_interval"] == 14400
    async with runtime.sessions() as session:
        counts = await status_counts(session, issue_id)
    assert counts["wecom"]["sent"] == len(MEMBERS)


async def test_identical_commands_get_identical_answers_twice(
    web: WebService, wechat_server: FakeWeChatServer
) -> None:
    """Replies never ask for the duplicate check: asking twice means answering twice."""
    wechat_server.wecom.add_members("zhangsan")
    async with client_for(web.app) as client:
        for _ in range(2):  # two messages (two MsgIds), not a retry of one
            answer = await post(client, PATH, wecom_callback(wecom_fields("zhangsan", "最新")))
            assert answer.status_code == 200
    assert web.wecom is not None
    await web.wecom.drain()
    inbox = wechat_server.wecom.inbox("zhangsan")
    assert len(inbox) >= 2 and len(inbox) % 2 == 0
    half = len(inbox) // 2
    assert inbox[:half] == inbox[half:] and "目录" in inbox[0]
    assert wechat_server.wecom.duplicates == []
    calls = wechat_server.wecom.calls("/cgi-bin/message/send")
    assert all("enable_duplicate_check" not in call.body for call in calls)


async def robot_push(runtime: Runtime, server: FakeWeChatServer) -> tuple[Runtime, list[str], str]:
    """One robot with one pending delivery of four messages: its texts, its chat id."""
    runtime = with_settings(runtime, server, robots=[{"key": ROBOT_KEY}])
    await sync_robots(runtime)
    async with runtime.sessions() as session:
        issue_id = await find_issue_id(session, runtime.series.slug, NEWER)
    assert issue_id is not None
    chat_id = robot_chat_id(ROBOT_KEY)
    messages = markdown_messages("robot", 4)
    texts = await seed_deliveries(runtime.sessions, issue_id, "wecom", {chat_id: ("r", messages)})
    return runtime, texts[chat_id], chat_id


def ambiguous(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "ambiguous at-most-once" in r.getMessage()]


async def restart(runtime: Runtime, sender: WecomSender) -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)  # the dead process's claims have lapsed
    report = await push(runtime, sender, wall=lambda: later)
    assert report.requeued == 1 and report.deliveries_sent == 1


async def test_a_robot_message_accepted_before_a_crash_is_not_posted_again(
    runtime: Runtime,
    wechat_server: FakeWeChatServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime, texts, chat_id = await robot_push(runtime, wechat_server)
    time = VirtualTime(wechat_server)
    dying = sender_for(runtime, http, time, cls=CrashingSender, crash_at=2)
    with pytest.raises(Crash):
        await push(runtime, dying)
    assert wechat_server.wecom.robot_messages(ROBOT_KEY) == texts[:2]

    await restart(runtime, sender_for(runtime, http, time))
    assert wechat_server.wecom.robot_messages(ROBOT_KEY) == texts  # the second not twice
    [warning] = ambiguous(caplog)
    assert f"chat={chat_id}" in warning and f"message=2/{len(texts)}" in warning


@pytest.mark.parametrize("crash_at", [2, 4])  # 4: the last, after which nothing is left
async def test_a_robot_message_in_flight_at_a_crash_is_lost_not_repeated(
    crash_at: int,
    runtime: Runtime,
    wechat_server: FakeWeChatServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime, texts, chat_id = await robot_push(runtime, wechat_server)
    assert len(texts) == 4
    time = VirtualTime(wechat_server)
    dying = sender_for(runtime, http, time, cls=DyingRobotSender, crash_at=crash_at)
    with pytest.raises(Crash):
        await push(runtime, dying)

    await restart(runtime, sender_for(runtime, http, time))
    # Whether it reached WeCom is unknown after a crash: at most once means lost, and said.
    lost = crash_at - 1
    assert wechat_server.wecom.robot_messages(ROBOT_KEY) == texts[:lost] + texts[lost + 1 :]
    [warning] = ambiguous(caplog)
    assert f"chat={chat_id}" in warning and f"message={crash_at}/{len(texts)}" in warning


async def test_a_robot_call_that_times_out_is_not_retried(
    runtime: Runtime,
    wechat_server: FakeWeChatServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime, texts, chat_id = await robot_push(runtime, wechat_server)
    wechat_server.wecom.faults.inject("/cgi-bin/webhook/send", hang=1.0)  # answers late
    sender = sender_for(runtime, http, VirtualTime(wechat_server), timeout=0.3)
    report = await push(runtime, sender)
    assert report.deliveries_sent == 1 and report.calls == len(texts) - 1
    [warning] = ambiguous(caplog)
    assert f"chat={chat_id}" in warning and f"message=1/{len(texts)}" in warning
    await asyncio.sleep(1.0)  # the late call lands: the robot got it after all, once
    assert Counter(wechat_server.wecom.robot_messages(ROBOT_KEY)) == Counter(texts)
    assert len(wechat_server.wecom.calls("/cgi-bin/webhook/send")) == len(texts)


async def test_unreachable_members_are_dropped_and_failures_retried_later(
    runtime: Runtime, wechat_server: FakeWeChatServer, http: aiohttp.ClientSession
) -> None:
    await add_members(runtime, wechat_server, {"zhangsan": (ALL,)})
    async with runtime.sessions.begin() as session:  # left the company: not a member any more
        gone, _ = await get_or_create(session, "wecom", "ex-colleague", kind="user")
        await set_subscriptions(session, gone.id, [ALL])
    issue_id = await publish(runtime)
    expected = await expected_texts(runtime, issue_id)
    wechat_server.wecom.faults.inject("/cgi-bin/message/send", http_status=502, times=3)
    time = VirtualTime(wechat_server)
    settings = runtime.settings.delivery.model_copy(update={"max_attempts": 3})
    tuning = EngineTuning(backoff_base=0)
    sender = sender_for(runtime, http, time)

    failing = await push(runtime, sender, settings=settings, tuning=tuning)
    assert failing.deliveries_released == 2 and failing.calls == 0
    async with runtime.sessions() as session:
        assert (await status_counts(session, issue_id))["wecom"]["pending"] == 2

    report = await push(runtime, sender, settings=settings, tuning=tuning)
    assert report.deliveries_dropped == 1 and report.deliveries_sent == 1
    assert wechat_server.wecom.inbox("zhangsan") == expected["zhangsan"]
    async with runtime.sessions() as session:
        subscriber = await get_subscriber(session, "wecom", "ex-colleague")
        counts = await status_counts(session, issue_id)
    assert subscriber is not None and not subscriber.active
    assert counts["wecom"]["dropped"] == 1 and counts["wecom"]["sent"] == 1
