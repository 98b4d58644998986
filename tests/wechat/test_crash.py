"""SIGKILL the WeChat / WeCom push process mid-push, again and again, then let it finish.

The fake API server runs in its own process (so it outlives every kill, like WeChat), the
pushes in `tests.wechat.push_worker`. Afterwards:
- WeCom app members got every message exactly once (the fake's delivered log, after its
  duplicate check absorbed the batches resent after a kill);
- robots got every message at most once, in order, and lost nothing but messages a later
  run announced as ambiguous: at most one per robot per kill;
- every WeChat tag got its part exactly once (resends answered 45065 by `clientmsgid`).
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.platforms.wechat.tags import tag_name
from bot.platforms.wechat_common.clients import make_official_client
from bot.platforms.wecom.robots import robot_chat_id
from bot.publish.rendering import PublicationRenderings, RendererSet
from bot.runtime import Runtime
from storage.deliveries import status_counts
from storage.deliveries.writes import store_renderings
from storage.issues import find_issue_id, load_issue
from storage.subscribers import (
    ALL,
    Subscription,
    get_or_create,
    get_subscriber,
    set_subscriptions,
)
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET
from tests.wechat.seeding import markdown_messages, seed_deliveries

ROOT = Path(__file__).resolve().parents[2]
KILLS = 5
LATENCY = 0.02  # seconds the fake holds every call: kills often land mid-call
SEND_PATHS = {"/cgi-bin/message/send", "/cgi-bin/webhook/send", "/cgi-bin/message/mass/sendall"}
ROBOTS = [f"00000000-fake-crash-robot-{n:08d}" for n in range(3)]
ROBOT_MESSAGES = 8
MEMBER_RENDERINGS = {"r3": 3, "r4": 4, "r5": 5, "r6": 6}  # rendering -> its messages
MEMBERS = {f"member{n:02d}": f"r{3 + n % 4}" for n in range(36)}
PAPERS = Subscription("section", "papers")
FOLLOWERS: dict[str, tuple[Subscription, ...]] = {
    "o-all-1": (ALL,),
    "o-all-2": (ALL,),
    "o-papers": (PAPERS,),
    "o-papers-quant": (PAPERS, Subscription("topic", "quantization")),
    "o-chips": (Subscription("topic", "chips"),),
}
AUDIENCES = {
    "all": {"o-all-1", "o-all-2"},
    "section:papers": {"o-papers", "o-papers-quant"},
    "topic:chips": {"o-chips"},
    "topic:quantization": {"o-papers-quant"},
}
AMBIGUOUS = re.compile(
    r"^(\d+) WARNING .*ambiguous at-most-once message: chat=(\S+) delivery=\d+ message=(\d+)/"
)


@dataclass
class FakeProcess:
    """`python -m tests.fakes.wechat_server` in its own process, read over its control API."""

    process: asyncio.subprocess.Process
    mp_url: str
    wecom_url: str
    http: aiohttp.ClientSession

    async def log(self, url: str, kind: str) -> list[dict[str, Any]]:
        async with self.http.get(f"{url}/_fake/{kind}") as response:
            assert response.status == 200
            rows: list[dict[str, Any]] = await response.json()
            return rows

    async def sends(self) -> int:
        """Calls of a send API answered so far (accepted or not)."""
        requests = [*await self.log(self.mp_url, "requests")]
        requests += await self.log(self.wecom_url, "requests")
        return sum(1 for r in requests if r["path"] in SEND_PATHS)


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeProcess]:
    args = ["--port", "0", "--latency", str(LATENCY), "--mass-quota", "100"]
    args += [a for openid in FOLLOWERS for a in ("--follower", openid)]
    args += [a for userid in MEMBERS for a in ("--member", userid)]
    args += [a for key in ROBOTS for a in ("--robot", key)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.wechat_server", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=(tmp_path / "fake.log").open("w"),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = [(await asyncio.wait_for(process.stdout.readline(), 20)).decode() for _ in "ab"]
        async with aiohttp.ClientSession() as http:
            yield FakeProcess(process, banner[0].split()[4], banner[1].split()[3], http)
    finally:
        process.terminate()
        await process.wait()


async def seed(runtime: Runtime) -> tuple[int, dict[str, list[str]]]:
    """Pending deliveries of one issue to followers, members and robots; chat -> texts."""
    async with runtime.sessions.begin() as session:
        issue_id = await find_issue_id(session, runtime.series.slug, date(2026, 11, 16))
        assert issue_id is not None
        for openid, subscriptions in FOLLOWERS.items():
            follower, _ = await get_or_create(session, "wechat", openid, kind="user")
            await set_subscriptions(session, follower.id, subscriptions)
    # What publication stores for followers: each tag part rendered once, and per follower
    # its parts' messages (the campaign sends the stored parts).
    async with runtime.sessions() as session:
        issue = await load_issue(session, issue_id)
        followers = [await get_subscriber(session, "wechat", openid) for openid in FOLLOWERS]
    assert issue is not None
    cache = PublicationRenderings(issue, RendererSet(runtime.settings), runtime.taxonomy)
    mass = {f.chat_id: found for f in followers if f and (found := cache.messages(f))}
    await seed_deliveries(runtime.sessions, issue_id, "wechat", mass)
    async with runtime.sessions.begin() as session:
        await store_renderings(session, issue_id, "wechat", cache.parts)
    renderings = {key: markdown_messages(key, n) for key, n in MEMBER_RENDERINGS.items()}
    chats = {userid: (key, renderings[key]) for userid, key in MEMBERS.items()}
    robot = {robot_chat_id(k): (k, markdown_messages(k[-2:], ROBOT_MESSAGES)) for k in ROBOTS}
    expected = await seed_deliveries(runtime.sessions, issue_id, "wecom", chats | robot)
    return issue_id, expected


async def start_worker(db_url: str, fake: FakeProcess, log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.wechat.push_worker", db_url, fake.mp_url, fake.wecom_url,
        *ROBOTS, cwd=ROOT, stdout=log.open("a"), stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def kill_mid_push(
    worker: asyncio.subprocess.Process, fake: FakeProcess, rng: random.Random
) -> None:
    """Let the run make a few sends, then kill it at a random instant."""
    target = await fake.sends() + rng.randint(1, 3)
    async with asyncio.timeout(60):
        while await fake.sends() < target:
            assert worker.returncode is None, "the run finished before it could be killed"
            await asyncio.sleep(0.01)
    await asyncio.sleep(rng.uniform(0.0, LATENCY * 2))
    assert worker.returncode is None, "the run finished before it could be killed"
    worker.send_signal(signal.SIGKILL)
    assert await worker.wait() == -signal.SIGKILL


def by_chat(messages: list[dict[str, Any]], channel: str) -> dict[str, list[str]]:
    received: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        if message["channel"] == channel:
            for target in message["targets"]:
                received[target].append(message["content"])
    return received


def announced(log: str) -> dict[str, dict[int, set[int]]]:
    """Robot chat -> message number -> the runs (pids) that called it ambiguous."""
    found: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for line in log.splitlines():
        if match := AMBIGUOUS.match(line):
            pid, chat, number = match.groups()
            found[chat][int(number)].add(int(pid))
    return found


def assert_at_most_once(
    got: list[str], expected: list[str], ambiguous: dict[int, set[int]]
) -> None:
    assert len(set(got)) == len(got), "a robot message was posted twice"
    assert got == [t for t in expected if t in got], "robot messages out of order"
    lost = {expected.index(t) + 1 for t in expected if t not in got}
    assert lost <= set(ambiguous), "a robot message was lost without a warning"
    runs = Counter(pid for pids in ambiguous.values() for pid in pids)
    assert all(count == 1 for count in runs.values()), "one run, two ambiguous messages"
    assert len(ambiguous) <= KILLS  # one per kill at most


async def assert_one_mass_send_per_tag(fake: FakeProcess) -> None:
    client = make_official_client(DEFAULT_APPID, DEFAULT_SECRET, fake.mp_url)
    names = {t["id"]: t["name"] for t in await asyncio.to_thread(client.tag.get)}
    mass = [m for m in await fake.log(fake.mp_url, "messages") if m["channel"] == "mass"]
    by_tag = defaultdict(list)
    for message in mass:
        by_tag[names[message["meta"]["tag_id"]]].append(set(message["targets"]))
    assert by_tag == {tag_name(part): [audience] for part, audience in AUDIENCES.items()}
    calls = [r for r in await fake.log(fake.mp_url, "requests") if r["path"] in SEND_PATHS]
    assert sum(1 for r in calls if r["errcode"] == 45065) <= KILLS  # one resend per kill


async def test_killed_pushes_repeat_nothing_and_lose_at_most_the_robot_call_in_flight(
    runtime: Runtime, db_url: str, fake: FakeProcess, tmp_path: Path
) -> None:
    issue_id, expected = await seed(runtime)
    log = tmp_path / "worker.log"
    rng = random.Random(11)
    for _ in range(KILLS):
        await kill_mid_push(await start_worker(db_url, fake, log), fake, rng)
    final = await start_worker(db_url, fake, log)
    assert await asyncio.wait_for(final.wait(), 120) == 0, log.read_text()

    wecom = await fake.log(fake.wecom_url, "messages")
    members = by_chat(wecom, "app")
    for userid in MEMBERS:
        assert members[userid] == expected[userid], userid  # exactly once, in order
    # A kill repeats at most the one batch in flight; the duplicate check absorbed those.
    repeats = Counter(u for m in wecom if m["channel"] == "app" for u in m["meta"]["duplicates"])
    assert max(repeats.values(), default=0) <= KILLS
    robots = by_chat(wecom, "robot")
    warnings = announced(log.read_text())
    for key in ROBOTS:
        chat = robot_chat_id(key)
        assert_at_most_once(robots[key], expected[chat], warnings[chat])
    assert set(warnings) <= {robot_chat_id(k) for k in ROBOTS}
    await assert_one_mass_send_per_tag(fake)
    async with runtime.sessions() as session:
        counts = await status_counts(session, issue_id)
    assert counts["wecom"]["sent"] == len(MEMBERS) + len(ROBOTS)
    assert counts["wechat"]["sent"] == len(FOLLOWERS)
