"""Bot API transport throughput: PTB's HTTPXRequest vs briefbot's AiohttpRequest.

Sends N sendMessage calls (default 3000, 32 in flight) through the real telegram.Bot to the
fake Bot API running in a separate process with rate limits off, and reports messages per
second and the client process's CPU milliseconds per message (time.process_time); the
server's CPU per message is shown too, to tell a slow client from a saturated server.

    .venv/bin/python bench/transport_bench.py [--messages 3000] [--concurrency 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.platforms.telegram.transport import AiohttpRequest  # noqa: E402

TOKEN = "123456789:AAHbenchTokenForTheTransportBench"


@dataclass(frozen=True)
class Result:
    name: str
    messages: int
    seconds: float
    cpu_seconds: float
    server_cpu_seconds: float

    def line(self) -> str:
        rate = self.messages / self.seconds
        cpu_ms = 1000 * self.cpu_seconds / self.messages
        server_ms = 1000 * self.server_cpu_seconds / self.messages
        return (
            f"{self.name:<14} {rate:>6.0f} msg/s  client {cpu_ms:6.3f} ms CPU/msg  "
            f"(server {server_ms:.3f} ms CPU/msg, {self.seconds:.2f} s)"
        )


def process_cpu_seconds(pid: int) -> float:
    """User+system CPU of another process (Linux /proc); NaN where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server() -> tuple[subprocess.Popen[str], str]:
    """The fake Bot API in its own process, so its CPU is not the client's."""
    command = [sys.executable, "-m", "tests.fakes.telegram_server", "--port", "0",
               "--token", TOKEN, "--no-rate-limits"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1:"):
        server.kill()
        raise RuntimeError(f"fake Telegram server did not start: {base_url!r}")
    return server, base_url


async def send_all(bot: Bot, messages: int, concurrency: int) -> None:
    counter = iter(range(messages))

    async def worker() -> None:
        for n in counter:
            await bot.send_message(1000 + n % 97, f"<b>Brief</b> item {n}", parse_mode="HTML")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(
    name: str, request: BaseRequest, server_pid: int, base_url: str, args: argparse.Namespace
) -> Result:
    async with Bot(TOKEN, base_url=base_url, request=request) as bot:
        await send_all(bot, 200, args.concurrency)  # warm up connections and code paths
        server_cpu = process_cpu_seconds(server_pid)
        wall, cpu = time.perf_counter(), time.process_time()
        await send_all(bot, args.messages, args.concurrency)
        return Result(
            name,
            args.messages,
            time.perf_counter() - wall,
            time.process_time() - cpu,
            process_cpu_seconds(server_pid) - server_cpu,
        )


def transports(pool: int) -> dict[str, BaseRequest]:
    return {
        "HTTPXRequest": HTTPXRequest(connection_pool_size=pool),
        "AiohttpRequest": AiohttpRequest(connection_pool_size=pool),
    }


async def run(args: argparse.Namespace) -> None:
    server, base_url = start_server()
    try:
        print(
            f"{args.messages} sendMessage calls, {args.concurrency} concurrent, server {base_url}"
        )
        for round_number in range(1, args.rounds + 1):
            for name, request in transports(args.concurrency).items():
                result = await measure(name, request, server.pid, base_url, args)
                print(f"round {round_number}: {result.line()}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
