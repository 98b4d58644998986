"""Delivery engine benchmarks against the fake Bot API running in a separate process.

    .venv/bin/python bench/delivery_bench.py throughput [--subscribers 10000]
    .venv/bin/python bench/delivery_bench.py limited [--seconds 45]
    .venv/bin/python bench/delivery_bench.py memory [--subscribers 1000000] [--seconds 60]
    .venv/bin/python bench/delivery_bench.py all

throughput: rate limits off on both sides; sustained messages/s of DeliveryEngine with the
    Telegram sender (python-telegram-bot + aiohttp transport) and the SQLite checkpoint
    writer, and the delivery process's CPU per message (time.process_time).
limited: Telegram's own limits on both sides (30 msg/s global, 1 msg/s per private chat
    with burst 3); achieved rate over the run and the server's 429 count.
memory: N subscribers and N pending deliveries generated in SQLite with INSERT ... SELECT;
    a child process runs the engine with a null sender (no network, limits off) for a
    bounded time and reports its peak RSS (ru_maxrss): the claim/queue/checkpoint path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bot.config import DeliverySettings  # noqa: E402
from bot.delivery import DeliveryEngine, DrainReport, EngineTuning  # noqa: E402
from storage.db import create_engine, session_factory, upgrade  # noqa: E402

TOKEN = "123456789:AAHbenchTokenForTheDeliveryBench"
STAMP = "2025-03-01 08:00:00.000000"  # how SQLAlchemy stores UTC datetimes on SQLite


# ---- data ------------------------------------------------------------------------------


def message(key: str, n: int, total: int) -> dict[str, Any]:
    link = f'<a href="https://e.com/{n}">链接</a>'
    text = f"<b>嵌入式AI简报 {key}</b> 第 {n}/{total} 部分 {link}"
    return {"text": text, "format": "html", "size": len(text), "unit": "utf16",
            "disable_preview": True}  # fmt: skip


def seed(db: Path, subscribers: int, messages_each: int) -> None:
    """One issue, `subscribers` private Telegram chats, one pending delivery each."""
    upgrade(f"sqlite:///{db}")
    rendering = [message("all", n + 1, messages_each) for n in range(messages_each)]
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("INSERT INTO series (slug, title) VALUES ('embedded-ai', '嵌入式AI简报')")
        conn.execute(
            "INSERT INTO issues (series_id, key, title, subtitle, tagline, intro, quick_news, "
            "notes, source_path, content_hash, warnings, front_matter, footer, first_seen_at, "
            "content_changed_at, updated_at, published_at) VALUES (1, '2025-03-01', 't', '', "
            "'', '', '[]', '[]', 'x.md', 'h', '[]', '', '', ?, ?, ?, ?)",
            (STAMP,) * 4,
        )
        conn.execute(
            "INSERT INTO renderings (issue_id, platform, cache_key, messages, created_at) "
            "VALUES (1, 'telegram', 'all', ?, ?)",
            (json.dumps(rendering, ensure_ascii=False), STAMP),
        )
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO subscribers (platform, chat_id, kind, language, format, paused, "
            "active, created_at) SELECT 'telegram', CAST(100000 + i AS TEXT), 'private', "
            "'zh', 'full', 0, 1, ? FROM n",
            (subscribers, STAMP),
        )
        conn.execute(
            "INSERT INTO deliveries (issue_id, subscriber_id, rendering_id, platform, status, "
            "messages_total, messages_sent, attempts, created_at, updated_at) SELECT 1, id, 1, "
            "'telegram', 'pending', ?, 0, 0, ?, ? FROM subscribers ORDER BY id",
            (messages_each, STAMP, STAMP),
        )


# ---- the fake server process -----------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, limits: bool) -> None:
        command = [sys.executable, "-m", "tests.fakes.telegram_server", "--port", "0",
                   "--token", TOKEN]  # fmt: skip
        if not limits:
            command.append("--no-rate-limits")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http://127.0.0.1:"):
            self.process.kill()
            raise RuntimeError(f"fake Telegram server did not start: {self.base_url!r}")

    def calls(self) -> list[dict[str, Any]]:
        root = self.base_url.removesuffix("/bot")
        with urllib.request.urlopen(f"{root}/_fake/calls", timeout=60) as response:
            return list(json.load(response))

    def cpu(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# ---- phases ----------------------------------------------------------------------------


@dataclass
class Run:
    report: DrainReport
    seconds: float
    cpu_seconds: float


async def deliver(db: Path, server: Server, settings: DeliverySettings, limits: bool) -> Run:
    from bot.delivery.ratelimit import RateLimits
    from bot.platforms.telegram.sender import TelegramSender

    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    sessions = session_factory(engine)
    try:
        pool = max(64, settings.workers)  # one connection per sending slot
        async with TelegramSender.open(TOKEN, server.base_url, connection_pool=pool) as sender:
            chosen = RateLimits.from_settings(settings) if limits else None
            delivery = DeliveryEngine(
                sessions, {"telegram": sender}, settings, limits={"telegram": chosen}
            )
            wall, cpu = time.perf_counter(), time.process_time()
            report = await delivery.run_until_idle()
            return Run(report, time.perf_counter() - wall, time.process_time() - cpu)
    finally:
        await engine.dispose()


def throughput(args: argparse.Namespace, workdir: Path) -> None:
    db = workdir / "throughput.db"
    seed(db, args.subscribers, args.messages_each)
    server = Server(limits=False)
    try:
        settings = DeliverySettings(workers=args.workers, batch_size=500)
        server_cpu = server.cpu()
        run = asyncio.run(deliver(db, server, settings, limits=False))
        server_cpu = server.cpu() - server_cpu
    finally:
        server.stop()
    sent = run.report.messages_sent
    print(
        f"throughput (limits off): {sent} messages to {args.subscribers} chats in "
        f"{run.seconds:.1f} s = {sent / run.seconds:.0f} msg/s; delivery process "
        f"{1000 * run.cpu_seconds / sent:.3f} ms CPU/msg (server {1000 * server_cpu / sent:.3f}"
        f" ms CPU/msg); {args.workers} workers, {run.report.commits} checkpoint commits "
        f"({sent / max(1, run.report.commits):.1f} msgs each), {run.report.retries} retries"
    )


def limited(args: argparse.Namespace, workdir: Path) -> None:
    settings = DeliverySettings()  # Telegram's limits, as the server enforces them
    messages_each = 3
    subscribers = int(args.seconds * settings.global_per_second / messages_each)
    db = workdir / "limited.db"
    seed(db, subscribers, messages_each)
    server = Server(limits=True)
    try:
        run = asyncio.run(deliver(db, server, settings, limits=True))
        calls = [c for c in server.calls() if c["method"] == "sendMessage"]
    finally:
        server.stop()
    accepted = sorted(c["time"] for c in calls if c["status"] == 200)
    refused = sum(c["status"] == 429 for c in calls)
    span = accepted[-1] - accepted[0]
    burst = int(settings.global_per_second)
    steady = (len(accepted) - burst) / (accepted[-1] - accepted[burst])
    limit = settings.global_per_second
    print(
        f"limited (30 msg/s, 1/s per chat): {len(accepted)} messages to {subscribers} chats "
        f"over {span:.1f} s = {len(accepted) / span:.2f} msg/s ({len(accepted) / span / limit:.1%}"
        f" of the limit); after the first {burst}: {steady:.2f} msg/s ({steady / limit:.1%}); "
        f"429 answers: {refused} (engine: {run.report.rate_limited} flood waits, "
        f"{run.report.deliveries_sent} deliveries complete)"
    )


class NullSender:
    platform = "telegram"

    def chat_kind(self, chat_id: str) -> str:
        return "private"

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> None:
        return None


def rss_kb() -> int:
    """The process's resident set now (Linux)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0])


async def memory_child(db: Path, seconds: float) -> dict[str, Any]:
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    sessions = session_factory(engine)
    settings = DeliverySettings(workers=64)
    tuning = EngineTuning(idle_poll=0.5)
    delivery = DeliveryEngine(sessions, {"telegram": NullSender()}, settings, limits={},
                              tuning=tuning)  # fmt: skip
    before = rss_kb()
    samples: list[int] = []

    async def sample() -> None:
        while True:
            await asyncio.sleep(1.0)
            samples.append(rss_kb())

    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    report = await delivery.run_forever(stop)
    elapsed = time.perf_counter() - started
    sampler.cancel()
    await engine.dispose()
    return {
        "before_kb": before,
        "first_kb": samples[0],
        "last_kb": samples[-1],
        "max_sampled_kb": max(samples),
        "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "deliveries": report.deliveries_sent,
        "seconds": elapsed,
    }


def memory(args: argparse.Namespace, workdir: Path) -> None:
    db = workdir / "memory.db"
    started = time.perf_counter()
    seed(db, args.subscribers, 1)
    seeded = time.perf_counter() - started
    command = [sys.executable, __file__, "memory-child", str(db), str(args.seconds)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])

    def mb(key: str) -> str:
        return f"{result[key] / 1024:.1f} MB"

    print(
        f"memory: {args.subscribers} subscribers + deliveries generated in {seeded:.1f} s; "
        f"the delivery process ran {result['seconds']:.0f} s with a null sender: "
        f"{result['deliveries']} deliveries claimed, sent and checkpointed "
        f"({result['deliveries'] / result['seconds']:.0f}/s); peak RSS (ru_maxrss) "
        f"{mb('peak_kb')}; RSS before the run {mb('before_kb')}, after 1 s {mb('first_kb')}, "
        f"at the end {mb('last_kb')} (max sampled {mb('max_sampled_kb')})"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "memory-child":
        result = asyncio.run(memory_child(Path(sys.argv[2]), float(sys.argv[3])))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("phase", choices=["throughput", "limited", "memory", "all"])
    parser.add_argument("--subscribers", type=int, default=None)
    parser.add_argument("--messages-each", type=int, default=3)
    parser.add_argument("--workers", type=int, default=256, help="throughput: sending slots")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="delivery-bench-") as tmp:
        workdir = Path(tmp)
        if args.phase in ("throughput", "all"):
            throughput(_with(args, subscribers=10_000), workdir)
        if args.phase in ("limited", "all"):
            limited(_with(args, seconds=45.0), workdir)
        if args.phase in ("memory", "all"):
            memory(_with(args, subscribers=1_000_000, seconds=60.0), workdir)


def _with(args: argparse.Namespace, **defaults: Any) -> argparse.Namespace:
    values = vars(args).copy()
    for name, value in defaults.items():
        if values.get(name) is None:
            values[name] = value
    return argparse.Namespace(**values)


if __name__ == "__main__":
    main()
