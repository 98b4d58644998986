"""What the crash suite (test_crash.py) shares across sender shapes: the kill loop, the
WeChat fake in its own process, the seeding of WeChat deliveries, and the checks.

A run is `tests.delivery.crash_worker` in a process of its own; the fakes outlive every
kill (the Telegram one runs in the test's process, the WeChat one in its own, as the real
services would).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import signal
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

from bot.platforms.wechat.tags import tag_name
from bot.platforms.wechat_common.clients import make_official_client
from bot.publish.rendering import PublicationRenderings, RendererSet
from bot.runtime import Runtime
from briefings.parser import decode_briefing, parse_issue
from storage.deliveries.writes import store_renderings
from storage.issues import load_issue, save_issue
from storage.subscribers import Subscription, get_or_create, get_subscriber, set_subscriptions
from tests.conftest import SAMPLES_DIR
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET
from tests.storage.factories import at
from tests.wechat.seeding import seed_deliveries

ROOT = Path(__file__).resolve().parents[2]
ISSUE = date(2026, 11, 16)  # a sample briefing: the campaign sends its real renderings
SEND_PATHS = {"/cgi-bin/message/send", "/cgi-bin/webhook/send", "/cgi-bin/message/mass/sendall"}
AMBIGUOUS = re.compile(
    r"^(\d+) WARNING .*ambiguous at-most-once message: chat=(\S+) delivery=\d+ message=(\d+)/"
)


async def spawn(args: Sequence[str], log: Path) -> asyncio.subprocess.Process:
    """`python -m tests.delivery.crash_worker ARGS`, its output appended to `log`."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.delivery.crash_worker", *args,
        cwd=ROOT, stdout=log.open("a"), stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


@dataclass(frozen=True)
class KillPlan:
    """Kill a run once `progress()` grew by `step` (drawn), then after up to `pause` s."""

    kills: int
    step: tuple[int, int]
    pause: float


async def kill_and_finish(
    start: Callable[[], Awaitable[asyncio.subprocess.Process]],
    progress: Callable[[], Awaitable[int]],
    plan: KillPlan,
    rng: random.Random,
    log: Path,
) -> None:
    """SIGKILL `plan.kills` runs mid-work at random instants, then let one run finish."""
    for _ in range(plan.kills):
        run = await start()
        target = await progress() + rng.randint(*plan.step)
        async with asyncio.timeout(60):
            while await progress() < target:
                assert run.returncode is None, "the run finished before it could be killed"
                await asyncio.sleep(0.01)
        await asyncio.sleep(rng.uniform(0.0, plan.pause))
        assert run.returncode is None, "the run finished before it could be killed"
        run.send_signal(signal.SIGKILL)
        assert await run.wait() == -signal.SIGKILL
    final = await start()
    assert await asyncio.wait_for(final.wait(), 120) == 0, log.read_text()


def assert_in_order(
    received: Mapping[Any, list[str]], expected: Mapping[Any, list[str]], kills: int
) -> Counter[Any]:
    """Every chat got every message, in order; a repeat is the message in flight at a
    kill, sent again right after itself (at most one per kill per chat). Repeats per chat."""
    repeats: Counter[Any] = Counter()
    for chat, texts in expected.items():
        got = received.get(chat, [])
        deduped = [t for i, t in enumerate(got) if i == 0 or t != got[i - 1]]
        assert deduped == texts, f"chat {chat}: {got}"
        repeats[chat] = len(got) - len(texts)
    assert max(repeats.values(), default=0) <= kills
    return repeats


# ---- the WeChat fake, in its own process --------------------------------------------


@dataclass
class WechatFake:
    """`python -m tests.fakes.wechat_server`, read over its control API."""

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

    async def messages(self, channel: str) -> list[dict[str, Any]]:
        url = self.mp_url if channel == "mass" else self.wecom_url
        return [m for m in await self.log(url, "messages") if m["channel"] == channel]


@contextlib.asynccontextmanager
async def wechat_fake(
    tmp_path: Path, latency: float, followers: Sequence[str], members: Sequence[str],
    robots: Sequence[str],
) -> AsyncIterator[WechatFake]:  # fmt: skip
    args = ["--port", "0", "--latency", str(latency), "--mass-quota", "100"]
    args += [a for openid in followers for a in ("--follower", openid)]
    args += [a for userid in members for a in ("--member", userid)]
    args += [a for key in robots for a in ("--robot", key)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.wechat_server", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=(tmp_path / "fake.log").open("w"),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = [(await asyncio.wait_for(process.stdout.readline(), 20)).decode() for _ in "ab"]
        async with aiohttp.ClientSession() as http:
            yield WechatFake(banner[0].split()[4], banner[1].split()[3], http)
    finally:
        process.terminate()
        await process.wait()


def by_chat(messages: list[dict[str, Any]]) -> dict[str, list[str]]:
    received: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        for target in message["targets"]:
            received[target].append(message["content"])
    return received


# ---- seeding WeChat deliveries ------------------------------------------------------


async def save_sample_issue(runtime: Runtime) -> int:
    path = SAMPLES_DIR / f"{ISSUE.isoformat()}.md"
    issue = parse_issue(
        decode_briefing(path.read_bytes(), path.name), path.name, runtime.series, runtime.taxonomy
    )
    async with runtime.sessions.begin() as session:
        return (await save_issue(session, issue, at(0))).issue_id


async def seed_followers(
    runtime: Runtime, issue_id: int, followers: Mapping[str, tuple[Subscription, ...]]
) -> None:
    """What publication stores for followers: each tag part rendered once, and per follower
    its parts' messages (the campaign sends the stored parts)."""
    async with runtime.sessions.begin() as session:
        for openid, subscriptions in followers.items():
            follower, _ = await get_or_create(session, "wechat", openid, kind="user")
            await set_subscriptions(session, follower.id, subscriptions)
    async with runtime.sessions() as session:
        issue = await load_issue(session, issue_id)
        found = [await get_subscriber(session, "wechat", openid) for openid in followers]
    assert issue is not None
    cache = PublicationRenderings(issue, RendererSet(runtime.settings), runtime.taxonomy)
    mass = {f.chat_id: parts for f in found if f and (parts := cache.messages(f))}
    await seed_deliveries(runtime.sessions, issue_id, "wechat", mass)
    async with runtime.sessions.begin() as session:
        await store_renderings(session, issue_id, "wechat", cache.parts)


# ---- checks -------------------------------------------------------------------------


def announced(log: str) -> dict[str, dict[int, set[int]]]:
    """Robot chat -> message number -> the runs (pids) that called it ambiguous."""
    found: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for line in log.splitlines():
        if match := AMBIGUOUS.match(line):
            pid, chat, number = match.groups()
            found[chat][int(number)].add(int(pid))
    return found


def assert_at_most_once(
    got: list[str], expected: list[str], ambiguous: dict[int, set[int]], kills: int
) -> None:
    """A robot (no duplicate check): nothing twice, in order, nothing lost unannounced."""
    assert len(set(got)) == len(got), "a robot message was posted twice"
    assert got == [t for t in expected if t in got], "robot messages out of order"
    lost = {expected.index(t) + 1 for t in expected if t not in got}
    assert lost <= set(ambiguous), f"lost without a warning: {sorted(lost - set(ambiguous))}"
    runs = Counter(pid for pids in ambiguous.values() for pid in pids)
    assert all(count == 1 for count in runs.values()), "one run, two ambiguous messages"
    assert len(ambiguous) <= kills  # one per kill at most


async def assert_one_mass_send_per_tag(
    fake: WechatFake, audiences: Mapping[str, set[str]], kills: int
) -> None:
    """Every tag got its part exactly once; a resend (one per kill at most) was refused
    as a duplicate of its `clientmsgid` (45065)."""
    client = make_official_client(DEFAULT_APPID, DEFAULT_SECRET, fake.mp_url)
    names = {t["id"]: t["name"] for t in await asyncio.to_thread(client.tag.get)}
    by_tag = defaultdict(list)
    for message in await fake.messages("mass"):
        by_tag[names[message["meta"]["tag_id"]]].append(set(message["targets"]))
    assert by_tag == {tag_name(part): [audience] for part, audience in audiences.items()}
    calls = [r for r in await fake.log(fake.mp_url, "requests") if r["path"] in SEND_PATHS]
    assert sum(1 for r in calls if r["errcode"] == 45065) <= kills
