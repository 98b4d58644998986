"""Whole `briefbot run` processes on one PostgreSQL against the local WeChat/WeCom server,
for the WeChat and WeCom failover tests (tests/wechat/test_run_failover.py).

The fake server is the strict one of tests/fakes, listening on one extra port pair per
instance: instance i is configured with its own base URLs, so every call the server gets
tells which process made it (`AttributedWeChatServer.arrivals`, logged when the request
arrives, before the server's latency and faults). That is how the tests find "the process
doing the work" without looking inside it, and how they time the resumption after a kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from storage import subscribers
from storage.db import create_engine, session_factory
from storage.deliveries import load_renderings
from storage.instances import InstanceStatus, list_instances
from storage.models import DeliveryRow, IssueRow, SubscriberRow
from tests.conftest import SAMPLES_DIR
from tests.fakes.wechat_http import build_app
from tests.fakes.wechat_server import FakeWeChatServer

ROOT = SAMPLES_DIR.parent
ISSUE_KEY = "2026-11-16"
STALE_SECONDS = 10.0  # the production [cluster] default, which the instances run with
TOPICS = ("量化", "芯片", "剪枝压缩", "推理加速", "编译器", "目标检测")
HANG = 120.0  # seconds a held request waits unless released (released right after a kill)


@dataclass
class Arrival:
    """One API request as it reached the fake server."""

    instance: int  # index of the instance whose base URL it used
    api: str  # "mp" | "wecom"
    path: str
    body: Any
    at: float  # time.monotonic() on arrival
    done: float | None = None  # when it was answered
    held: bool = False


class AttributedWeChatServer(FakeWeChatServer):
    """The fake WeChat/WeCom server, with one (mp, wecom) port pair per instance."""

    def __init__(self, instances: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.instances = instances
        self.arrivals: list[Arrival] = []
        self.instance_urls: dict[str, list[str]] = {"mp": [], "wecom": []}
        self._owners: dict[int, int] = {}  # port -> instance
        self._holds: dict[str, set[int]] = {}  # path -> ordinals of calls to hold
        self._release: asyncio.Event | None = None  # on the server's loop
        self._arrivals_lock = threading.Lock()

    def hold(self, path: str, *ordinals: int) -> None:
        """Hold the calls to `path` with these 1-based ordinals (counted over every call to
        `path`) on arrival, until `release`: they are in flight, then answered normally."""
        with self._arrivals_lock:
            self._holds.setdefault(path, set()).update(ordinals)

    def release(self) -> None:
        """Let every held call go on now (it is then handled and answered as usual)."""
        if self._loop is not None and self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)

    def held(self) -> list[Arrival]:
        """Calls being held right now."""
        with self._arrivals_lock:
            return [a for a in self.arrivals if a.held and a.done is None]

    async def _listen(self, name: str, api: Any) -> web.AppRunner:
        app, dispatcher = build_app(api, self._latency)
        app.middlewares.append(self._attribute(name))
        self._dispatchers.append(dispatcher)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, self._host, self._ports[name]).start()
        host, port = runner.addresses[0][:2]
        self._urls[name] = f"http://{host}:{port}"
        for index in range(self.instances):
            site = web.TCPSite(runner, self._host, 0)
            await site.start()
            port = runner.addresses[-1][1]
            self._owners[port] = index
            self.instance_urls[name].append(f"http://{self._host}:{port}")
        return runner

    def _attribute(self, name: str) -> Any:
        @web.middleware
        async def attribute(request: web.Request, handler: Any) -> web.StreamResponse:
            port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
            if port not in self._owners or request.path.startswith("/_fake/"):
                return await handler(request)
            raw = await request.read()  # cached: the handler reads it again
            body = json.loads(raw) if raw.startswith(b"{") else None
            arrival = Arrival(self._owners[port], name, request.path, body, time.monotonic())
            with self._arrivals_lock:
                self.arrivals.append(arrival)
                ordinal = sum(1 for a in self.arrivals if a.path == request.path)
                arrival.held = ordinal in self._holds.get(request.path, set())
            try:
                if arrival.held:
                    await self._hold()
                return await handler(request)
            finally:
                arrival.done = time.monotonic()

        return attribute

    async def _hold(self) -> None:
        if self._release is None or self._release.is_set():
            self._release = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), HANG)

    def unanswered(self, instance: int) -> list[Arrival]:
        """The calls of `instance` not answered yet (at a kill: those in flight)."""
        with self._arrivals_lock:
            return [a for a in self.arrivals if a.instance == instance and a.done is None]

    def first_call_after(self, moment: float, *, not_from: int) -> float | None:
        """When the first call after `moment` from another instance than `not_from` came."""
        with self._arrivals_lock:
            times = [a.at for a in self.arrivals if a.at > moment and a.instance != not_from]
        return min(times, default=None)


async def poll(condition: Callable[[], Awaitable[bool] | bool], timeout: float, what: str) -> float:
    """Wait until `condition` holds (checked every 50 ms); the seconds it took."""
    began = time.monotonic()
    while True:
        outcome = condition()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)


def briefbot() -> list[str]:
    """`briefbot` as this checkout's code (what the venv's entry point runs, from here)."""
    return [sys.executable, "-m", "bot.cli"]


def write_issue(folder: Path, per_section: int) -> None:
    """An issue whose entries spread over the four sections and six topics: several
    WeCom messages per member, a mass-send part per section and topic."""
    lines = ["---", "layout: default", "---", "", f"# 嵌入式AI简报 ({ISSUE_KEY})", ""]
    lines += ["> 导读：WeChat/WeCom 集群故障切换测试。", ""]
    for s, section in enumerate(("业界新闻", "论文", "开源项目", "博文")):
        lines += [f"## {section}", ""]
        for n in range(per_section):
            topic = TOPICS[(s + n) % len(TOPICS)]
            lines += [
                f"- [{section}第{n + 1}条：端侧{topic}实践 | 测试](https://example.com/{s}/{n})  "
            ]
            lines += [
                f"摘要：本条介绍{topic}在设备上的部署经验与实测效果，涵盖工具链与精度对比。  "
            ]
        lines.append("")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{ISSUE_KEY}.md").write_text("\n".join(lines), encoding="utf-8")


class RunCluster:
    """`briefbot run` instances on `url`; instance i talks to the server's i-th ports."""

    def __init__(self, url: str, server: AttributedWeChatServer, tmp: Path) -> None:
        self.engine = create_engine(url)
        self.sessions = session_factory(self.engine)
        self.server = server
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.issues = tmp / "issues"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
        self.env = clean | {
            "BRIEFBOT_STORAGE_URL": url,
            "BRIEFBOT_SOURCES": json.dumps(
                [{"kind": "folder", "name": "t", "path": str(self.issues)}]
            ),
            "BRIEFBOT_PUBLISH_SETTLE_MINUTES": "0",
            "BRIEFBOT_PUBLISH_CHECK_INTERVAL_SECONDS": "1",
        }
        self.processes: dict[int, asyncio.subprocess.Process] = {}  # instance -> process

    def env_for(self, index: int | None) -> dict[str, str]:
        """Instance `index`'s environment (None: the server's own ports, unattributed)."""
        server = self.server
        mp, wecom = server.mp_base_url, server.wecom_base_url
        if index is not None:
            mp, wecom = server.instance_urls["mp"][index], server.instance_urls["wecom"][index]
        return self.env | {"BRIEFBOT_WECHAT_BASE_URL": mp, "BRIEFBOT_WECOM_BASE_URL": wecom}

    async def command(self, *args: str, timeout: float = 120) -> str:
        """A one-shot briefbot command, outside the instances; its output."""
        proc = await asyncio.create_subprocess_exec(
            *briefbot(), *args, cwd=ROOT, env=self.env_for(None),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        text = out.decode()
        assert proc.returncode == 0, f"briefbot {' '.join(args)}: {proc.returncode}\n{text}"
        return text

    async def start(self, index: int, start: str) -> None:
        log = (self.logs / f"run-{index}.log").open("w")
        self.processes[index] = await asyncio.create_subprocess_exec(
            *briefbot(), "run", "--no-chat", "--start", start,
            cwd=ROOT, env=self.env_for(index), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip

    @property
    def live(self) -> list[int]:
        return [i for i, proc in self.processes.items() if proc.returncode is None]

    async def instances(self) -> list[InstanceStatus]:
        async with self.sessions() as session:
            return [i for i in await list_instances(session, STALE_SECONDS) if i.alive]

    async def wait_joined(self, count: int, timeout: float = 60) -> None:
        async def joined() -> bool:
            self.check_alive()
            return len(await self.instances()) >= count

        await poll(joined, timeout, f"{count} instances joined")

    def check_alive(self) -> None:
        dead = [i for i, p in self.processes.items() if p.returncode not in (None, -9)]
        assert not dead, f"instances {dead} exited\n{self.log_tails()}"

    async def kill(self, index: int) -> float:
        """SIGKILL instance `index`; the moment it died."""
        proc = self.processes[index]
        proc.send_signal(signal.SIGKILL)
        assert await proc.wait() == -signal.SIGKILL
        return time.monotonic()

    async def stop_all(self, timeout: float = 60) -> None:
        """SIGTERM every live instance: each must stop cleanly."""
        for index in self.live:
            self.processes[index].send_signal(signal.SIGTERM)
        for index, proc in self.processes.items():
            code = await asyncio.wait_for(proc.wait(), timeout)
            assert code in (0, -signal.SIGKILL), f"instance {index}: {code}\n{self.log_tails()}"

    async def close(self) -> None:
        for proc in self.processes.values():
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await self.engine.dispose()

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-3000:]}" for path in sorted(self.logs.glob("*"))
        )

    # --- the database, through storage/ ------------------------------------------------

    async def add_subscribers(
        self, platform: str, chats: Mapping[str, Sequence[subscribers.Subscription]]
    ) -> None:
        async with self.sessions.begin() as session:
            for chat_id, wanted in chats.items():
                sub, _ = await subscribers.get_or_create(session, platform, chat_id, kind="user")
                await subscribers.set_subscriptions(session, sub.id, wanted)

    async def expected(self, platform: str) -> dict[str, list[str]]:
        """chat id -> the texts stored for it at publication, in order."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(SubscriberRow.chat_id, DeliveryRow.rendering_id)
                    .join(DeliveryRow, DeliveryRow.subscriber_id == SubscriberRow.id)
                    .where(DeliveryRow.platform == platform)
                )
            ).all()
            renderings = await load_renderings(session, {r for _, r in rows})
        return {chat: [str(m["text"]) for m in renderings[r]] for chat, r in rows}

    async def statuses(self, platform: str) -> list[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(DeliveryRow.status).where(DeliveryRow.platform == platform)
            )
            return list(rows)

    async def publications(self) -> int:
        async with self.sessions() as session:
            stamps = await session.scalars(select(IssueRow.published_at))
            return sum(stamp is not None for stamp in stamps)
