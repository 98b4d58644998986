"""Three `briefbot run` instances on one PostgreSQL against the local Bot API server:
the leader is SIGKILLed mid-delivery, then the next leader too.

Asserted: leadership moves within 15 s each time, and every delivery the killed one held
is being sent again (claimed by a live instance) within 15 s of the kill; long polling
never runs in two instances at once (the server answers 409 to a second getUpdates:
none recorded); the issue is published once; every subscriber ends with every message,
in order; repeats stay within the messages in flight at the kills (a sending slot each:
`workers` per instance); the server never answered 429, though together the instances
could outrun its global limit if they did not share it (bot/delivery/share.py). The
instances run the production [cluster] defaults (2 s heartbeat, 10 s staleness, 3 s
retry).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage import subscribers
from storage.db import create_engine, session_factory, upgrade_database
from storage.instances import InstanceStatus, list_instances
from storage.models import DeliveryRow, IssueRow, SubscriberRow
from tests.conftest import SAMPLES_DIR
from tests.dbfixtures import _reset_public_schema
from tests.fakes.telegram_limits import Latency, RateLimits
from tests.fakes.telegram_server import FakeTelegramServer

pytestmark = pytest.mark.postgres

ROOT = SAMPLES_DIR.parent
INSTANCES = 3
CHATS = 150
WORKERS = 4  # sending slots per instance: the most messages one kill can leave in flight
FAILOVER = 15.0  # seconds: the issue's bound for leadership and for a dead one's claims
# Telegram's limits x2 globally, x10 per chat. Each instance could push faster alone: the
# global rate holds only because the instances split it among themselves.
SERVER = RateLimits(global_per_second=60, global_burst=60, private_per_second=10, private_burst=3)
TOKEN_RATE = 60  # messages/s for the token, all instances together


ISSUE_KEY = "2026-11-16"
SUMMARY = "这段摘要较长，介绍模型压缩、低比特量化与端侧部署的实践经验，以及它们在设备上的实测效果。"


def write_long_issue(folder: Path) -> None:
    """An issue long enough for several Telegram messages per chat (order then matters)."""
    lines = ["---", "layout: default", "---", "", f"# 嵌入式AI简报 ({ISSUE_KEY})", ""]
    lines += ["> 导读：集群故障切换测试。", ""]
    for section in ("业界新闻", "论文", "开源项目", "博文"):
        lines += [f"## {section}", ""]
        for n in range(25):
            url = f"https://example.com/{len(lines)}/{n}"
            lines += [f"- [{section}第{n + 1}条：端侧推理的量化与部署 | 测试]({url})  "]
            lines += [f"摘要：{SUMMARY * 2}  "]
        lines.append("")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{ISSUE_KEY}.md").write_text("\n".join(lines), encoding="utf-8")


def briefbot() -> Path:
    path = Path(sys.executable).with_name("briefbot")
    if not path.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    return path


class Cluster:
    def __init__(self, url: str, server: FakeTelegramServer, logs: Path, issues: Path) -> None:
        self.engine = create_engine(url)
        self.sessions = session_factory(self.engine)
        self.logs = logs
        clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
        self.env = clean | {
            "BRIEFBOT_STORAGE_URL": url,
            "BRIEFBOT_SOURCES": f'[{{"kind": "folder", "name": "t", "path": "{issues}"}}]',
            "BRIEFBOT_PUBLISH_SETTLE_MINUTES": "0",
            "BRIEFBOT_PUBLISH_CHECK_INTERVAL_SECONDS": "1",
            "BRIEFBOT_TELEGRAM_TOKEN": server.token,
            "BRIEFBOT_TELEGRAM_BASE_URL": server.base_url,
            "BRIEFBOT_DELIVERY_GLOBAL_PER_SECOND": str(TOKEN_RATE),
            "BRIEFBOT_DELIVERY_PRIVATE_PER_SECOND": "5",
            "BRIEFBOT_DELIVERY_WORKERS": str(WORKERS),
            "BRIEFBOT_DELIVERY_BATCH_SIZE": "10",
            "BRIEFBOT_DELIVERY_RETRY_MARGIN_SECONDS": "0.1",
        }
        self.processes: dict[int, asyncio.subprocess.Process] = {}

    async def start(self, start: str) -> asyncio.subprocess.Process:
        log = (self.logs / f"run-{len(self.processes)}.log").open("w")
        proc = await asyncio.create_subprocess_exec(
            str(briefbot()), "run", "--no-chat", "--start", start,
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        self.processes[proc.pid] = proc
        return proc

    async def instances(self) -> list[InstanceStatus]:
        async with self.sessions() as session:
            return await list_instances(session, 10.0)

    async def leader(self) -> InstanceStatus | None:
        leading = [i for i in await self.instances() if i.leader and i.pid in self.live]
        assert len(leading) <= 1, leading
        return leading[0] if leading else None

    @property
    def live(self) -> set[int]:
        return {pid for pid, proc in self.processes.items() if proc.returncode is None}

    async def wait_leader(self, timeout: float, not_pid: int | None = None) -> InstanceStatus:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leader = await self.leader()
            if leader is not None and leader.pid != not_pid:
                return leader
            await asyncio.sleep(0.1)
        raise AssertionError(f"no new leader within {timeout} s\n{self.log_tails()}")

    async def kill(self, pid: int) -> float:
        self.processes[pid].send_signal(signal.SIGKILL)
        assert await self.processes[pid].wait() == -signal.SIGKILL
        return time.monotonic()

    async def claimed_by(self, instance_id: str) -> int:
        async with self.sessions() as session:
            return (
                await session.scalar(
                    select(func.count())
                    .select_from(DeliveryRow)
                    .where(DeliveryRow.status == "sending", DeliveryRow.claimed_by == instance_id)
                )
                or 0
            )

    async def claims_of(self, instance_id: str) -> list[int]:
        async with self.sessions() as session:
            found = await session.scalars(
                select(DeliveryRow.id).where(
                    DeliveryRow.status == "sending", DeliveryRow.claimed_by == instance_id
                )
            )
            return list(found)

    async def waiting(self, ids: list[int], dead_id: str) -> int:
        """Of `ids`, the deliveries still held by the dead instance or back in pending."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(DeliveryRow.status, DeliveryRow.claimed_by).where(DeliveryRow.id.in_(ids))
            )
            return sum(1 for status, by in rows if status == "pending" or by == dead_id)

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-2500:]}" for path in sorted(self.logs.glob("*"))
        )


async def seed_subscribers(url: str, count: int = CHATS) -> list[int]:
    engine = create_engine(url)
    chats = [20_000 + n for n in range(count)]
    try:
        async with session_factory(engine).begin() as session:
            for chat in chats:
                sub, _ = await subscribers.get_or_create(session, "telegram", str(chat))
                await subscribers.add_subscription(session, sub.id, subscribers.ALL)
    finally:
        await engine.dispose()
    return chats


async def test_leader_killed_twice_mid_delivery(postgres_database: str, tmp_path: Path) -> None:
    url = postgres_database
    _reset_public_schema(url)
    await upgrade_database(url)
    chats = await seed_subscribers(url)
    latency = Latency(before=0.05, after=0.05, seed=13)
    async with FakeTelegramServer(rate_limits=SERVER, latency=latency) as server:
        write_long_issue(tmp_path / "issues")
        cluster = Cluster(url, server, tmp_path / "logs", tmp_path / "issues")
        try:
            await run_and_kill(cluster, server, chats)
        finally:
            for proc in cluster.processes.values():
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            await cluster.engine.dispose()


async def run_and_kill(cluster: Cluster, server: FakeTelegramServer, chats: list[int]) -> None:
    cluster.logs.mkdir()
    start = f"{ISSUE_KEY}T08:59:57"  # due three seconds after each start
    for _ in range(INSTANCES):
        await cluster.start(start)
        await asyncio.sleep(0.3)
    began = time.monotonic()
    first = await cluster.wait_leader(30)
    print(f"first leader after {time.monotonic() - began:.1f} s")

    async with cluster.sessions() as session:  # published (and the outbox filled) by now?
        await server.wait_until(lambda: len(server.messages) > 0, 30, "the first push")
        [(_, total)] = (
            await session.execute(
                select(DeliveryRow.issue_id, func.sum(DeliveryRow.messages_total)).group_by(
                    DeliveryRow.issue_id
                )
            )
        ).all()
    messages_total = int(total)
    assert messages_total >= 2 * CHATS, "the issue should take a few messages per chat"

    failovers: list[float] = []
    handovers: list[asyncio.Task[float]] = []
    dead = first
    for share in (0.15, 0.45):  # kill the leader at these shares of the push, or later
        await server.wait_until(
            lambda share=share: len(server.messages) >= share * messages_total,
            60,
            f"{share:.0%} of the push",
        )
        assert len(server.messages) < messages_total, "the push ended before the kill"
        killed_at = await cluster.kill(dead.pid)
        print(f"kill at {killed_at - began:.1f} s, {len(server.messages)} sent")
        handovers.append(asyncio.create_task(claims_resumed(cluster, dead, killed_at)))
        polls_before = len(server.calls_to("getUpdates"))
        successor = await cluster.wait_leader(FAILOVER, not_pid=dead.pid)
        failovers.append(time.monotonic() - killed_at)
        await server.wait_until(
            lambda n=polls_before: len(server.calls_to("getUpdates")) > n, 10, "polling again"
        )
        dead = successor
    handed = [await task for task in handovers]
    print(f"leadership moved in {failovers} s; a dead one's claims resent after {handed} s")

    def everyone_has_everything() -> bool:
        got = defaultdict(set)
        for message in server.messages:
            got[message.chat_id].add(message.text)
        return all(got[chat] and len(got[chat]) == per_chat[chat] for chat in chats)

    per_chat = await expected_counts(cluster)
    await server.wait_until(everyone_has_everything, 90, "every message to every chat")
    print(f"all delivered at {time.monotonic() - began:.1f} s")
    last = cluster.processes[dead.pid]
    last.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(last.wait(), 60) == 0, cluster.log_tails()

    # The issue was published once: one publication stamp, one delivery per subscriber.
    async with cluster.sessions() as session:
        published = (await session.scalars(select(IssueRow.published_at))).all()
        statuses = (await session.execute(select(DeliveryRow.status))).scalars().all()
    assert sum(p is not None for p in published) == 1
    assert len(statuses) == CHATS and set(statuses) == {"sent"}

    received: dict[int, list[str]] = defaultdict(list)
    for message in server.messages:
        received[message.chat_id].append(message.text)
    repeats = 0
    for chat in chats:
        got = received[chat]
        deduped = [t for i, t in enumerate(got) if i == 0 or t != got[i - 1]]
        assert len(deduped) == per_chat[chat] == len(set(deduped)), f"chat {chat}: {got}"
        repeats += len(got) - len(deduped)
    print(f"{messages_total} messages to {CHATS} chats; {repeats} repeated after two kills")
    assert repeats <= 2 * WORKERS, f"{repeats} repeats after two kills"

    sends = server.calls_to("sendMessage")
    assert not [c for c in sends if c.status == 429], "the server answered 429"
    polls = server.calls_to("getUpdates")
    assert not [c for c in polls if c.status == 409], "two instances polled at once"
    assert all(seconds <= FAILOVER for seconds in failovers + handed), (failovers, handed)


async def claims_resumed(cluster: Cluster, dead: InstanceStatus, killed_at: float) -> float:
    """Seconds until every delivery the dead instance held is being sent again: claimed
    by a live instance, or sent (handed back to pending is not enough: the bound is on
    resending, so an engine's idle poll after the requeue counts too)."""
    held = await cluster.claims_of(dead.id)
    assert held, "the killed instance held no deliveries"
    while await cluster.waiting(held, dead.id):
        if time.monotonic() - killed_at > 2 * FAILOVER:
            break  # the assertion on the result says it was too slow
        await asyncio.sleep(0.1)
    return time.monotonic() - killed_at


async def expected_counts(cluster: Cluster) -> dict[int, int]:
    async with cluster.sessions() as session:
        rows = await session.execute(
            select(SubscriberRow.chat_id, DeliveryRow.messages_total).join(
                SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id
            )
        )
        return {int(chat): total for chat, total in rows}


async def test_a_clean_stop_hands_its_claims_back_at_once(
    postgres_database: str, tmp_path: Path
) -> None:
    url = postgres_database
    _reset_public_schema(url)
    await upgrade_database(url)
    chats = await seed_subscribers(url, 60)
    async with FakeTelegramServer(rate_limits=SERVER) as server:
        write_long_issue(tmp_path / "issues")
        cluster = Cluster(url, server, tmp_path / "logs", tmp_path / "issues")
        cluster.env["BRIEFBOT_DELIVERY_GLOBAL_PER_SECOND"] = "40"  # 240 messages: 6 s or more
        cluster.logs.mkdir()
        try:
            for _ in range(2):
                await cluster.start(f"{ISSUE_KEY}T08:59:57")
            leader = await cluster.wait_leader(30)
            await server.wait_until(lambda: len(server.messages) >= 20, 30, "the push")
            proc = cluster.processes[leader.pid]
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0, cluster.log_tails()
            stopped_at = time.monotonic()
            left = len(server.messages)
            async with cluster.sessions() as session:  # nothing waits for a heartbeat to lapse
                assert leader.id not in {i.id for i in await list_instances(session, 10.0)}
            assert await cluster.claimed_by(leader.id) == 0
            assert left < 3 * len(chats), "the push ended before the stop"
            successor = await cluster.wait_leader(FAILOVER, not_pid=leader.pid)
            print(f"clean stop: the other led after {time.monotonic() - stopped_at:.1f} s")
            per_chat = await expected_counts(cluster)
            await server.wait_until(
                lambda: len(server.messages) >= sum(per_chat.values()), 60, "the whole push"
            )
            last = cluster.processes[successor.pid]
            last.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(last.wait(), 30) == 0, cluster.log_tails()
        finally:
            for proc in cluster.processes.values():
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            await cluster.engine.dispose()
    received: dict[int, list[str]] = defaultdict(list)
    for message in server.messages:
        received[message.chat_id].append(message.text)
    # A clean stop repeats nothing: sends under way finished and were recorded.
    assert all(len(received[chat]) == per_chat[chat] for chat in chats)
    assert sum(per_chat.values()) == len(server.messages)
