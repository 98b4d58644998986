"""Three `briefbot run` instances on one PostgreSQL push an issue to WeCom members and
robots, and to Official Account followers by tag, against the strict local WeChat/WeCom
server; the process doing the work is SIGKILLed mid-push, and later the next one.

Black-box: processes, the HTTP fake and database rows read through storage/. The instance
doing the work is the one whose base URL the server's calls come in on (each instance has
its own ports: tests/wechat/run_cluster.py). To kill it mid-call, the server holds one
chosen call on arrival; the kill comes while it is held, and the server then answers it
normally: a call accepted by the platform whose answer the dead process never recorded.

Asserted (issue 13's "Done when" for WeCom and the Official Account): the issue is
published once; every member ends with every message, in order, once as they see it;
repeats never exceed the calls in flight at the kills (WeCom's duplicate check spares
members the resent call; the Official Account answers 45065 to a resent part's
clientmsgid); each tag part is mass-sent once; the work resumes within 15 s of a kill;
the server's limits (per-member rates, robot rates, batch sizes, the mass-send quota)
held. The instances run the production [cluster] defaults (2 s heartbeat, 10 s staleness).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.platforms.wechat.tags import tag_name
from bot.platforms.wecom.robots import robot_chat_id
from storage.db import upgrade_database
from storage.subscribers import ALL, Subscription
from tests.dbfixtures import _reset_public_schema
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET, MpConfig
from tests.fakes.wechat_work import (
    DEFAULT_AGENTID,
    DEFAULT_CORPID,
    DEFAULT_CORPSECRET,
    DEFAULT_ROBOT_KEY,
)
from tests.wechat.run_cluster import (
    ISSUE_KEY,
    Arrival,
    AttributedWeChatServer,
    RunCluster,
    poll,
    write_issue,
)

pytestmark = pytest.mark.postgres

INSTANCES = 3
FAILOVER = 15.0  # seconds: the issue's bound for resending a dead instance's work
LATENCY = 0.1  # seconds the server takes over each call
SEND = "/cgi-bin/message/send"
MASS = "/cgi-bin/message/mass/sendall"
NEWS = Subscription("section", "news")
PAPERS = Subscription("section", "papers")
PROJECTS = Subscription("section", "projects")
CHIPS = Subscription("topic", "chips")
QUANT = Subscription("topic", "quantization")
PAPERS_ROBOT = "00000000-fake-robo-t000-000000000002"
PER_SECTION = 16  # entries per section: 8 WeCom messages to a member of everything


@dataclass(frozen=True)
class Kill:
    instance: int
    at: float
    in_flight: list[Arrival]  # the killed instance's calls the server had not answered
    resumed_after: float  # seconds until another instance called the server


@pytest.fixture
async def cluster(postgres_database: str, tmp_path: Path) -> AsyncIterator[RunCluster]:
    url = postgres_database
    _reset_public_schema(url)
    await upgrade_database(url)
    server = AttributedWeChatServer(
        INSTANCES, mp_config=MpConfig(mass_daily_quota=10), latency=LATENCY
    ).start()
    cluster = RunCluster(url, server, tmp_path)
    try:
        yield cluster
    finally:
        server.release()
        await cluster.close()
        server.stop()


async def kill_the_worker(cluster: RunCluster, path: str) -> Kill:
    """Once a held call to `path` is in flight and every live instance has joined: SIGKILL
    the instance that made it, let the server answer it, and time the resumption."""
    server = cluster.server

    def holding() -> bool:
        cluster.check_alive()  # an instance that exited says why, not a timeout
        return bool(server.held())

    await poll(holding, 90, f"a held {path}")
    [held] = server.held()
    assert held.path == path, held
    await cluster.wait_joined(len(cluster.live))  # so the kill leaves standbys that know
    in_flight = server.unanswered(held.instance)
    killed_at = await cluster.kill(held.instance)
    server.release()
    resumed_after = await poll(
        lambda: server.first_call_after(killed_at, not_from=held.instance) is not None,
        2 * FAILOVER,
        "another instance resumed the work",
    )
    print(f"killed instance {held.instance} with {len(in_flight)} call(s) in flight; "
          f"another called the server {resumed_after:.1f} s later")  # fmt: skip
    return Kill(held.instance, killed_at, in_flight, resumed_after)


# --- WeCom ---------------------------------------------------------------------------


def wecom_members() -> dict[str, list[Subscription]]:
    """300 members over three renderings: everything, one section, one topic."""
    members = {f"m-all-{n:03d}": [ALL] for n in range(200)}
    members |= {f"m-papers-{n:03d}": [PAPERS] for n in range(50)}
    members |= {f"m-quant-{n:03d}": [QUANT] for n in range(50)}
    return members


async def test_wecom_push_survives_two_kills_of_the_pushing_instance(
    cluster: RunCluster,
) -> None:
    server = cluster.server
    members = wecom_members()
    server.wecom.add_members(*members)
    server.wecom.add_robot(PAPERS_ROBOT)
    await cluster.add_subscribers("wecom", members)
    robots = [{"key": DEFAULT_ROBOT_KEY}, {"key": PAPERS_ROBOT, "sections": ["papers"]}]
    cluster.env |= {
        "BRIEFBOT_WECOM_CORP_ID": DEFAULT_CORPID,
        "BRIEFBOT_WECOM_SECRET": DEFAULT_CORPSECRET,
        "BRIEFBOT_WECOM_AGENT_ID": str(DEFAULT_AGENTID),
        "BRIEFBOT_WECOM_ROBOTS": json.dumps(robots),
    }
    write_issue(cluster.issues, PER_SECTION)
    # The 3rd application call is held (the first pusher dies with it in flight), and the
    # 6th: the 3rd of the next pusher, after it resent the first one's.
    server.hold(SEND, 3, 6)
    began = time.monotonic()
    for index in range(INSTANCES):  # the leader publishes the issue three seconds in
        await cluster.start(index, f"{ISSUE_KEY}T08:59:57")

    await poll(lambda: bool(server.held()), 90, "the first held call")
    expected = await cluster.expected("wecom")
    keys = {robot_chat_id(key["key"]): key["key"] for key in robots}
    assert set(expected) == set(members) | set(keys)
    assert len(expected["m-all-000"]) >= 6, "a member should get several messages"
    # The robots' messages go out beside the first calls: let them arrive, so a kill
    # cannot take one in flight (robot messages are at most once: that one could be lost).
    await poll(
        lambda: all(server.wecom.robot_messages(keys[c]) == expected[c] for c in keys),
        30,
        "the robots' messages",
    )
    kills = [await kill_the_worker(cluster, SEND) for _ in range(2)]

    def everyone_has_everything() -> bool:
        inboxes = wecom_inboxes(server)
        for member in members:  # more than expected never becomes right: fail at once
            got = inboxes[member]
            assert got == expected[member][: len(got)], f"{member}: a repeat or a wrong message"
        return all(inboxes[member] == expected[member] for member in members)

    await poll(everyone_has_everything, 60, "every message to every member")

    async def all_recorded() -> bool:
        return set(await cluster.statuses("wecom")) == {"sent"}

    await poll(all_recorded, 30, "every delivery recorded as sent")
    print(f"all delivered and recorded {time.monotonic() - began:.1f} s after the start")
    await cluster.stop_all()

    assert await cluster.publications() == 1
    assert len(await cluster.statuses("wecom")) == len(members) + len(keys)
    inboxes = wecom_inboxes(server)
    for member in members:  # every message, in order, once as the member sees it
        assert inboxes[member] == expected[member], member
    for chat_id, key in keys.items():
        assert server.wecom.robot_messages(key) == expected[chat_id]
    assert_wecom_repeats_within_flight(server, kills)
    assert_wecom_limits_held(server)
    assert all(k.resumed_after <= FAILOVER for k in kills), [k.resumed_after for k in kills]


def wecom_inboxes(server: AttributedWeChatServer) -> dict[str, list[str]]:
    inboxes: dict[str, list[str]] = defaultdict(list)
    for message in server.wecom.sent("app"):
        for userid in message.targets:
            inboxes[userid].append(message.content)
    return inboxes


def send_pairs(call: Arrival) -> set[tuple[str, str]]:
    """(member, text) of one application call."""
    body = call.body
    return {(u, body["markdown"]["content"]) for u in str(body["touser"]).split("|") if u}


def assert_wecom_repeats_within_flight(server: AttributedWeChatServer, kills: list[Kill]) -> None:
    """What was sent twice is what was in flight at a kill, once per kill; WeCom's
    duplicate check kept every such repeat from the member."""
    sends = [a for a in server.arrivals if a.path == SEND]
    made = Counter(pair for call in sends for pair in send_pairs(call))
    repeats = {pair: n - 1 for pair, n in made.items() if n > 1}
    flights = [set().union(*(send_pairs(c) for c in k.in_flight if c.path == SEND)) for k in kills]
    for pair, extra in repeats.items():
        assert extra <= sum(pair in flight for flight in flights), pair
    repeated_calls = [c for c in sends if send_pairs(c) & set(repeats)]
    in_flight_calls = sum(1 for k in kills for c in k.in_flight if c.path == SEND)
    assert all(any(c.held for c in k.in_flight) for k in kills)  # each took a held call
    assert len(repeated_calls) <= 2 * in_flight_calls  # each call in flight and its resend
    spared = Counter((d.userid, d.content) for d in server.wecom.duplicates)
    assert spared == Counter(repeats)
    print(
        f"{len(sends)} application calls, {sum(repeats.values())} member repeats (all "
        f"spared by the duplicate check), {in_flight_calls} call(s) in flight at the kills"
    )


def assert_wecom_limits_held(server: AttributedWeChatServer) -> None:
    refused = [r for r in server.wecom.requests if r.status != 200 or r.errcode not in (0, None)]
    assert refused == [], refused[:5]
    assert server.wecom.dropped == []  # nobody over 30 a minute / 1000 an hour
    for call in server.wecom.calls(SEND):
        assert call.body["enable_duplicate_check"] == 1
        assert len(str(call.body["touser"]).split("|")) <= 1000


# --- Official Account ----------------------------------------------------------------


def followers() -> dict[str, list[Subscription]]:
    """150 followers over six tag parts (some in two)."""
    chosen = {f"o-all-{n:02d}": [ALL] for n in range(30)}
    for subscription in (NEWS, PAPERS, PROJECTS, CHIPS, QUANT):
        chosen |= {f"o-{subscription.key}-{n:02d}": [subscription] for n in range(20)}
    chosen |= {f"o-mixed-{n:02d}": [PAPERS, CHIPS] for n in range(20)}
    return chosen


def audiences(chosen: dict[str, list[Subscription]]) -> dict[str, set[str]]:
    """tag name -> its followers."""
    parts: dict[str, set[str]] = defaultdict(set)
    for openid, subscriptions in chosen.items():
        for s in subscriptions:
            parts[tag_name("all" if s == ALL else f"{s.kind}:{s.key}")].add(openid)
    return dict(parts)


async def test_official_account_campaign_survives_two_kills_of_its_holder(
    cluster: RunCluster,
) -> None:
    server = cluster.server
    chosen = followers()
    for openid in chosen:
        server.mp.add_follower(openid, interacted=None)  # no 客服 window: mass sends only
    await cluster.add_subscribers("wechat", chosen)
    cluster.env |= {
        "BRIEFBOT_WECHAT_APP_ID": DEFAULT_APPID,
        "BRIEFBOT_WECHAT_SECRET": DEFAULT_SECRET,
        "BRIEFBOT_WECHAT_MASS_SEND_DAILY_QUOTA": "10",
    }
    write_issue(cluster.issues, PER_SECTION)
    # The 2nd mass send is held (its campaign's instance dies with it in flight), and the
    # 5th: the next instance's resend of it (45065), one more part, then the held one.
    server.hold(MASS, 2, 5)
    began = time.monotonic()
    for index in range(INSTANCES):  # the leader publishes the issue three seconds in
        await cluster.start(index, f"{ISSUE_KEY}T08:59:57")
    kills = [await kill_the_worker(cluster, MASS) for _ in range(2)]

    async def settled() -> bool:
        return set(await cluster.statuses("wechat")) == {"sent"}

    await poll(settled, 60, "every follower's delivery settled as sent")
    print(f"campaign finished {time.monotonic() - began:.1f} s after the start")
    await cluster.stop_all()

    assert await cluster.publications() == 1
    assert len(await cluster.statuses("wechat")) == len(chosen)
    expected = audiences(chosen)
    sent: dict[str, list[set[str]]] = defaultdict(list)
    for message in server.mp.sent("mass"):
        sent[server.mp.tags[message.meta["tag_id"]]].append(set(message.targets))
    assert sent == {tag: [audience] for tag, audience in expected.items()}  # once each
    stored = await cluster.expected("wechat")  # a follower's parts, as rendered at publication
    for openid, subscriptions in chosen.items():  # as each follower sees it: each part once
        inbox = server.mp.inbox(openid)
        assert len(inbox) == len(subscriptions) == len(set(inbox)), openid
        assert sorted(inbox) == sorted(stored[openid]), openid
    assert_resends_were_in_flight(server, kills)
    refused = [r for r in server.mp.requests if r.status != 200 or r.errcode not in (0, None)]
    assert [r.errcode for r in refused] == [45065] * len(kills), refused[:5]
    assert all(k.resumed_after <= FAILOVER for k in kills), [k.resumed_after for k in kills]


def assert_resends_were_in_flight(server: AttributedWeChatServer, kills: list[Kill]) -> None:
    """A 45065 answer goes only to a part whose send was in flight at a kill."""
    flights = [c.body["clientmsgid"] for k in kills for c in k.in_flight if c.path == MASS]
    resent = [r.body["clientmsgid"] for r in server.mp.calls(MASS) if r.errcode == 45065]
    assert sorted(resent) == sorted(flights), (resent, flights)
