"""SIGKILL the delivery process mid-issue, again and again: nothing lost, duplicates bounded."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections import defaultdict
from pathlib import Path

from tests.delivery.helpers import FAST, SERVER_LIMITS, Sessions, counts, seed
from tests.fakes.telegram_fixtures import ServerFactory
from tests.fakes.telegram_server import FakeTelegramServer

ROOT = Path(__file__).resolve().parents[2]
KILLS = 5


async def start_worker(
    db_url: str, server: FakeTelegramServer, log: Path
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.delivery.drain_worker", db_url, server.base_url, server.token,
        cwd=ROOT, stdout=log.open("a"), stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def kill_after_progress(
    process: asyncio.subprocess.Process, server: FakeTelegramServer, rng: random.Random
) -> None:
    """Let the run send a few dozen messages, then kill it at a random instant."""
    before = len(server.messages)
    await server.wait_until(lambda: len(server.messages) >= before + 40, timeout=60)
    await asyncio.sleep(rng.uniform(0.0, 0.3))
    assert process.returncode is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    assert await process.wait() == -signal.SIGKILL


async def test_killed_runs_lose_nothing_and_repeat_at_most_one_message_per_worker(
    sqlite_sessions: Sessions, telegram_server_factory: ServerFactory, tmp_path: Path
) -> None:
    server = await telegram_server_factory(rate_limits=SERVER_LIMITS)
    seeded = await seed(sqlite_sessions, 300)
    db_url = str(sqlite_sessions.kw["bind"].url)
    log = tmp_path / "worker.log"
    rng = random.Random(7)
    for _ in range(KILLS):
        await kill_after_progress(await start_worker(db_url, server, log), server, rng)
    final = await start_worker(db_url, server, log)
    assert await asyncio.wait_for(final.wait(), 120) == 0, log.read_text()

    received: dict[int, list[str]] = defaultdict(list)
    for message in server.messages:
        received[message.chat_id].append(message.text)
    duplicates = {}
    for chat, expected in seeded.expected.items():
        got = received[chat]
        # A repeat is the message in flight at a kill, sent again right after itself.
        deduped = [t for i, t in enumerate(got) if i == 0 or t != got[i - 1]]
        assert deduped == expected, f"chat {chat}"
        duplicates[chat] = len(got) - len(expected)
    assert max(duplicates.values()) <= KILLS  # at most one per kill for any chat
    assert sum(duplicates.values()) <= KILLS * FAST.workers, log.read_text()
    assert (await counts(sqlite_sessions, seeded.issue_id))["sent"] == 300
