"""Telegram's limits held against a strict Bot API with network jitter.

    .venv/bin/python bench/limits_bench.py [--chats 300] [--users 30] [--jitter 0.25]

The fake Bot API (tests/fakes/telegram_server.py) runs in this process in strict mode
(exact token buckets: 30 msg/s global with 30 tokens, 1 msg/s and 3 tokens per private
chat, edits counted) and delays every request by up to `--jitter` seconds before its
bucket check (and up to 50 ms after). The engine runs with the default DeliverySettings
(Telegram's numbers) and 64 sending slots. Five runs, one line each:

push (random jitter): `--chats` private chats, one message each; achieved rate (accepted
    sends over the span from the first to the last, by the time they reached the server)
    as a fraction of 30 msg/s, and the server's 429 count.
push (draining link): the same with the worst bunching of the same jitter: the link
    lets everything sent within `--jitter` seconds through at one instant.
push + replies: a real python-telegram-bot Application on the same Gate answers
    `--users` users typing /latest (half of them among the chats being pushed to) while
    the engine pushes to `--chats` chats; 429 count and the reply latency (update
    injected -> reply accepted), max and median.
restart: a warm process bursts two messages into each of 8 chats and stops; a fresh
    one starts at once on the same token and sends the rest; 429 count. Then the
    control: the same with a restart that trusts full buckets.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bot.commands import Core, CoreDeps, FloodPolicy  # noqa: E402
from bot.config import Settings, StorageSettings, TelegramSettings  # noqa: E402
from bot.delivery import DeliveryEngine  # noqa: E402
from bot.delivery.ratelimit import Gate, RateLimits  # noqa: E402
from bot.ingest import ingest_documents, read_files  # noqa: E402
from bot.platforms.telegram.adapter import TelegramPlatform  # noqa: E402
from bot.platforms.telegram.sender import TelegramSender  # noqa: E402
from bot.runtime import Runtime, build_taxonomy  # noqa: E402
from briefings.model import Series  # noqa: E402
from storage.db import create_engine, session_factory, upgrade_database  # noqa: E402
from tests.delivery.strict import SETTINGS, TUNING, achieved_rate, seed_push  # noqa: E402
from tests.fakes.telegram_limits import Latency  # noqa: E402
from tests.fakes.telegram_limits import RateLimits as ServerLimits  # noqa: E402
from tests.fakes.telegram_server import FakeTelegramServer  # noqa: E402

SAMPLES = ROOT / "samples"
LIMIT = SETTINGS.global_per_second


async def fresh_runtime(directory: Path, server: FakeTelegramServer) -> Runtime:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    await upgrade_database(engine)
    telegram = TelegramSettings(
        token=server.token, base_url=server.base_url, default_subscription="none"
    )
    settings = Settings(storage=StorageSettings(url=str(engine.url)), telegram=telegram)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        series=Series(settings.series.slug, settings.series.title),
        taxonomy=build_taxonomy(settings),
    )


def strict_server(latency: Latency) -> FakeTelegramServer:
    return FakeTelegramServer(rate_limits=ServerLimits.strict(), latency=latency)


async def push(args: argparse.Namespace, latency: Latency, label: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        async with strict_server(latency) as server:
            runtime = await fresh_runtime(Path(directory), server)
            await seed_push(runtime.sessions, list(range(1000, 1000 + args.chats)))
            started = time.monotonic()
            async with TelegramSender.open(server.token, server.base_url) as sender:
                engine = DeliveryEngine(
                    runtime.sessions, {"telegram": sender}, SETTINGS, tuning=TUNING
                )
                report = await engine.run_until_idle()
            wall = time.monotonic() - started
            await runtime.engine.dispose()
        rate, steady = achieved_rate(server), achieved_rate(server, skip=2.0)
        print(
            f"push ({label}): {report.messages_sent} messages in {wall:.1f} s; achieved "
            f"{rate:.2f} msg/s = {rate / LIMIT:.1%} of {LIMIT:.0f}/s overall, "
            f"{steady:.2f} msg/s = {steady / LIMIT:.1%} after the first 2 s; "
            f"{server.answered_429} x 429",
            flush=True,
        )


async def push_and_replies(args: argparse.Namespace, latency: Latency) -> None:
    chats = list(range(2000, 2000 + args.chats))
    half = args.users // 2
    users = chats[-half:] + list(range(3000, 3000 + args.users - half))
    with tempfile.TemporaryDirectory() as directory:
        async with strict_server(latency) as server:
            runtime = await fresh_runtime(Path(directory), server)
            await ingest_documents(runtime, read_files([SAMPLES]))
            seeded = await seed_push(runtime.sessions, chats)
            pushed = {text for texts in seeded.expected.values() for text in texts}
            gate = Gate(RateLimits.from_settings(SETTINGS), time.monotonic, asyncio.sleep)
            deps = replace(CoreDeps.from_runtime(runtime), flood=FloodPolicy(6000, 100))
            platform = TelegramPlatform(runtime, Core(deps), poll_timeout=1.0, gate=gate)
            async with platform:
                sender = TelegramSender(platform.bot, gated=True)
                engine = DeliveryEngine(
                    runtime.sessions,
                    {"telegram": sender},
                    SETTINGS,
                    tuning=TUNING,
                    gates={"telegram": gate},
                )
                pushing = asyncio.create_task(engine.run_until_idle())
                await server.wait_until(lambda: len(server.messages) >= 40, 30)
                typed = {}
                for user in users:
                    server.inject_command(user, "latest", language_code="en")
                    typed[user] = time.time()
                report = await pushing
                await server.wait_until(lambda: not server.pending_updates, 30)
                await platform.application.update_queue.join()
            await runtime.engine.dispose()
        latencies = []
        for user in users:
            answered = [
                c.answered
                for c in server.calls_to("sendMessage")
                if c.status == 200
                and c.answered is not None
                and c.params.get("chat_id") == str(user)
                and c.params.get("text") not in pushed
            ]
            latencies.append(min(answered) - typed[user])
        print(
            f"push + replies: {report.messages_sent} pushed to {args.chats} chats, "
            f"{len(users)} users typed /latest mid-push; {server.answered_429} x 429; reply "
            f"latency max {max(latencies):.2f} s, median {statistics.median(latencies):.2f} s",
            flush=True,
        )


async def restart(latency: Latency, *, fresh: bool = True) -> None:
    chats = list(range(1000, 1008))
    limits = RateLimits.from_settings(SETTINGS)
    with tempfile.TemporaryDirectory() as directory:
        async with strict_server(latency) as server:
            runtime = await fresh_runtime(Path(directory), server)
            await seed_push(runtime.sessions, chats, messages=5)
            async with TelegramSender.open(server.token, server.base_url) as sender:

                def engine(gate: Gate) -> DeliveryEngine:
                    return DeliveryEngine(
                        runtime.sessions,
                        {"telegram": sender},
                        SETTINGS,
                        tuning=TUNING,
                        gates={"telegram": gate},
                    )

                stop = asyncio.Event()
                warm = Gate(limits, time.monotonic, asyncio.sleep, fresh=False)
                running = asyncio.create_task(engine(warm).run_forever(stop))
                await server.wait_until(
                    lambda: all(len(server.messages_in(c)) >= 2 for c in chats), 30
                )
                stop.set()
                await running
                before = len(server.messages)
                restarted = Gate(limits, time.monotonic, asyncio.sleep, fresh=fresh)
                await engine(restarted).run_until_idle()
            await runtime.engine.dispose()
        label = "restart" if fresh else "restart trusting full buckets (control)"
        print(
            f"{label}: {before} messages by the stopped process, "
            f"{len(server.messages) - before} by the fresh one right after; "
            f"{server.answered_429} x 429",
            flush=True,
        )


async def main(args: argparse.Namespace) -> None:
    random_jitter = Latency(args.jitter, 0.05, seed=args.seed)
    draining = Latency(args.jitter, 0.05, seed=args.seed, drain=True)
    print(
        f"strict Bot API, jitter up to {args.jitter * 1000:.0f} ms before the bucket check "
        f"and 50 ms after; engine at Telegram's limits, {SETTINGS.workers} workers",
        flush=True,
    )
    await push(args, random_jitter, "random jitter")
    await push(args, draining, "draining link")
    await push_and_replies(args, random_jitter)
    await restart(random_jitter)
    await restart(random_jitter, fresh=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--jitter", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=13)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
