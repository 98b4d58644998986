"""Delivery throughput of one and of two `briefbot run` instances on one PostgreSQL.

    .venv/bin/python bench/cluster_bench.py [--subscribers 20000] [--messages-each 3]
                                            [--workers 256] [--instances 1,2] [--rounds 1]

For each instance count, on a fresh PostgreSQL database: N private Telegram chats and
one published issue of `--messages-each` messages are seeded; the fake Bot API runs in
its own process with `--no-rate-limits`; that many `briefbot run --no-chat` processes
start (the real composition: heartbeats, leadership, long polling by the leader, the
shared global rate), with limits set far above what a machine can send (limits off in
effect: the buckets never wait); once they have joined, the push is queued in one
transaction (N pending deliveries) and timed until every delivery is recorded as sent.

Reported per instance count: accepted messages / seconds from the first to the last
accepted send (server timestamps), and CPU per message: the instances' processes (user +
system time from /proc, over the push only), the fake server's, and PostgreSQL's (the
backends serving this database), and how many CPUs they kept busy together (their CPU
time / the span: on a shared machine the rate follows what the neighbours leave); then
the ratio of two instances to one (with `--rounds N`, of each count's fastest run; the
counts alternate, so a change in the machine's load falls on both).

PostgreSQL: BRIEFBOT_BENCH_PG_URL (else BRIEFBOT_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/postgres), an admin URL that may create databases.
Without a reachable server the bench prints one line saying it skipped and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # run as a script from anywhere

from delivery_bench import TOKEN, Server, message, process_cpu_seconds  # noqa: E402

from storage.db import upgrade  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "BRIEFBOT_BENCH_PG_URL",
    os.environ.get("BRIEFBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
UNLIMITED = "1000000"  # messages/s: no bucket ever waits at what one machine can send
JOIN_TIMEOUT = 90.0  # seconds for the instances to start and join (2 loaded cores)
DRAIN_TIMEOUT = 900.0


@dataclass
class Result:
    instances: int
    messages: int
    span: float  # first to last accepted send, server clock
    drained: float  # queued -> every delivery recorded as sent
    instance_cpu: float
    server_cpu: float
    database_cpu: float
    shares: list[int]  # deliveries completed by each instance, most first

    @property
    def rate(self) -> float:
        return (self.messages - 1) / self.span

    def per_message(self, cpu: float) -> float:
        return 1000 * cpu / self.messages

    @property
    def cores(self) -> float:
        """CPUs the instances, the fake server and PostgreSQL kept busy, on average: on
        a shared machine the rate follows what the neighbours leave."""
        return (self.instance_cpu + self.server_cpu + self.database_cpu) / self.span

    def line(self) -> str:
        noun = "instance" if self.instances == 1 else "instances"
        return (
            f"{self.instances} {noun}: {self.messages} messages in {self.span:.1f} s = "
            f"{self.rate:.0f} msg/s (queued to all recorded: {self.drained:.1f} s); CPU per "
            f"message: instances {self.per_message(self.instance_cpu):.3f} ms, fake server "
            f"{self.per_message(self.server_cpu):.3f} ms, PostgreSQL "
            f"{self.per_message(self.database_cpu):.3f} ms; {self.cores:.2f} CPUs busy; "
            f"deliveries per instance: "
            f"{'/'.join(map(str, self.shares))}"
        )


# ---- PostgreSQL --------------------------------------------------------------------------


def admin_connection() -> psycopg.Connection | None:
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"cluster bench: skipped: PostgreSQL unreachable at {PG_ADMIN_URL}: {reason}")
        return None


@contextmanager
def scratch_database(admin: psycopg.Connection) -> Iterator[str]:
    name = f"briefbot_bench_{secrets.token_hex(4)}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def seed(url: str, subscribers: int, messages_each: int) -> None:
    """Schema, one published issue with its rendering, `subscribers` private chats."""
    upgrade(url)
    rendering = [message("all", n + 1, messages_each) for n in range(messages_each)]
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO series (slug, title) VALUES ('embedded-ai', '嵌入式AI简报')")
        conn.execute(
            "INSERT INTO issues (series_id, key, title, subtitle, tagline, intro, quick_news, "
            "notes, source_path, content_hash, warnings, front_matter, footer, first_seen_at, "
            "content_changed_at, updated_at, published_at) SELECT id, '2025-03-01', 't', '', "
            "'', '', '[]', '[]', 'x.md', 'h', '[]', '', '', now(), now(), now(), now() "
            "FROM series"
        )
        conn.execute(
            "INSERT INTO renderings (issue_id, platform, cache_key, messages, created_at) "
            "SELECT id, 'telegram', 'all', %s, now() FROM issues",
            (json.dumps(rendering, ensure_ascii=False),),
        )
        conn.execute(
            "INSERT INTO subscribers (platform, chat_id, kind, language, format, paused, "
            "active, created_at) SELECT 'telegram', (100000 + i)::text, 'private', 'zh', "
            "'full', false, true, now() FROM generate_series(1, %s) AS i",
            (subscribers,),
        )
    # Statistics for the planner before the push, as a database in service has them.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def queue_push(url: str, messages_each: int) -> None:
    """The publication's outbox: one pending delivery per subscriber, in one transaction."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO deliveries (issue_id, subscriber_id, rendering_id, platform, status, "
            "messages_total, messages_sent, attempts, created_at, updated_at) "
            "SELECT i.id, s.id, r.id, 'telegram', 'pending', %s, 0, 0, now(), now() "
            "FROM subscribers s, issues i, renderings r ORDER BY s.id",
            (messages_each,),
        )


def count(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def by_instance(url: str) -> list[int]:
    """Deliveries per claiming instance (a sent row keeps its last claimant), most first."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM deliveries GROUP BY claimed_by ORDER BY count(*) DESC"
        ).fetchall()
    return [int(n) for (n,) in rows]


def backends_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to `database` (their titles
    name it), as /proc shows them; backends that ended are not counted."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres: ") and f" {database} " in title:
                total += process_cpu_seconds(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


# ---- the instances -----------------------------------------------------------------------


class Instances:
    def __init__(self, url: str, server: Server, workers: int, logs: Path) -> None:
        sources = logs / "no-issues"
        sources.mkdir()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
        self.env = clean | {
            "BRIEFBOT_STORAGE_URL": url,
            "BRIEFBOT_SOURCES": json.dumps([{"kind": "folder", "name": "b", "path": str(sources)}]),
            "BRIEFBOT_TELEGRAM_TOKEN": TOKEN,
            "BRIEFBOT_TELEGRAM_BASE_URL": server.base_url,
            "BRIEFBOT_TELEGRAM_CONNECTION_POOL": str(workers),
            "BRIEFBOT_DELIVERY_WORKERS": str(workers),
            "BRIEFBOT_DELIVERY_BATCH_SIZE": "500",
            "BRIEFBOT_DELIVERY_GLOBAL_PER_SECOND": UNLIMITED,
            "BRIEFBOT_DELIVERY_PRIVATE_PER_SECOND": UNLIMITED,
        }
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        # `python -m bot.cli` from this checkout: the code next to this bench, whatever
        # the venv's `briefbot` entry point was installed from.
        for index in range(count):
            log = (self.logs / f"run-{index}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "run", "--no-chat"],
                    cwd=ROOT,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            )

    def cpu(self) -> float:
        return sum(process_cpu_seconds(p.pid) for p in self.processes)

    def check(self) -> None:
        for index, proc in enumerate(self.processes):
            if proc.poll() is not None:
                tail = (self.logs / f"run-{index}.log").read_text()[-2000:]
                raise RuntimeError(f"instance {index} exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, check: Callable[[], None]
) -> float:
    """Poll `condition()` every 0.1 s (and `check()`, which raises on trouble); seconds."""
    began = time.perf_counter()
    while not condition():
        check()
        if time.perf_counter() - began > timeout:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)
    return time.perf_counter() - began


def measure(admin: psycopg.Connection, args: argparse.Namespace, instances: int) -> Result:
    with scratch_database(admin) as url, tempfile.TemporaryDirectory() as tmp:
        seed(url, args.subscribers, args.messages_each)
        database = make_url(url).database or ""
        server = Server(limits=False)
        running = Instances(url, server, args.workers, Path(tmp))
        try:
            running.start(instances)
            alive = "SELECT count(*) FROM instances WHERE heartbeat_at > now() - interval '10 s'"
            wait_for(lambda: count(url, alive) == instances, JOIN_TIMEOUT, "joined", running.check)
            leader = "SELECT count(*) FROM instances WHERE leader"
            wait_for(lambda: count(url, leader) == 1, JOIN_TIMEOUT, "a leader", running.check)
            time.sleep(4.0)  # past a joining instance's hold (a heartbeat + 1 s): all idle
            cpu = (running.cpu(), server.cpu(), backends_cpu(database))
            queued = time.perf_counter()
            queue_push(url, args.messages_each)
            done = "SELECT count(*) FROM deliveries WHERE status <> 'sent'"
            wait_for(lambda: count(url, done) == 0, DRAIN_TIMEOUT, "the push", running.check)
            drained = time.perf_counter() - queued
            used = (
                running.cpu() - cpu[0],
                server.cpu() - cpu[1],
                backends_cpu(database) - cpu[2],
            )
            calls = [c for c in server.calls() if c["method"] == "sendMessage"]
            shares = by_instance(url)
        finally:
            running.stop()
            server.stop()
    accepted = sorted(c["time"] for c in calls if c["status"] == 200)
    expected = args.subscribers * args.messages_each
    if len(accepted) < expected:
        raise RuntimeError(f"{len(accepted)} messages accepted, {expected} expected")
    span = accepted[-1] - accepted[0]
    return Result(instances, len(accepted), span, drained, *used, shares=shares)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--messages-each", type=int, default=3)
    parser.add_argument("--workers", type=int, default=256, help="sending slots per instance")
    parser.add_argument("--instances", default="1,2", help="instance counts to run, in order")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the counts, alternating")
    args = parser.parse_args()
    admin = admin_connection()
    if admin is None:
        return
    results: dict[int, list[Result]] = {}
    with admin:
        for _ in range(args.rounds):
            for instances in (int(n) for n in args.instances.split(",")):
                result = measure(admin, args, instances)
                results.setdefault(instances, []).append(result)
                print(f"{result.line()} (load {os.getloadavg()[0]:.1f})", flush=True)
    if 1 in results and 2 in results:
        one, two = best(results[1]), best(results[2])
        cpu_one = one.per_message(one.instance_cpu)
        cpu_two = two.per_message(two.instance_cpu)
        print(
            f"2 instances / 1 (best runs): throughput x{two.rate / one.rate:.2f}, per busy "
            f"CPU x{(two.rate / two.cores) / (one.rate / one.cores):.2f}; instances' CPU per "
            f"message x{cpu_two / cpu_one:.2f} ({os.cpu_count()} CPUs)"
        )


def best(runs: list[Result]) -> Result:
    """The fastest run: on a shared machine, the one least slowed by other work."""
    return max(runs, key=lambda r: r.rate)


if __name__ == "__main__":
    main()
