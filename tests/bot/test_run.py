"""`briefbot run` on the embedded default: the bundled sample reaches the terminal chat once.

The real entry point runs in a subprocess (signals, stdin, the scheduler's wall clock);
`--start` moves its publication clock to just before the newest sample falls due.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SAMPLES_DIR

ROOT = SAMPLES_DIR.parent
HEADER = "── to console:"  # what the console sender prints before each delivered message


class Process:
    """A running `briefbot` whose stdout and stderr lines are collected by reader threads."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, sink), daemon=True).start()

    def _read(self, stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sink.append(line)
            self._lines.put(line)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.out + self.err):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                pytest.fail(f"{text!r} never appeared:\n{''.join(self.out + self.err)[-3000:]}")
            with contextlib.suppress(queue.Empty):
                self._lines.get(timeout=min(remaining, 0.5))

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.2)  # let the reader threads drain the pipes
        return code


@pytest.fixture
def briefbot() -> Path:
    path = Path(sys.executable).with_name("briefbot")
    if not path.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The embedded default (sample folder, terminal chat), on a fresh database."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    return clean | {
        "BRIEFBOT_STORAGE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}",
        "BRIEFBOT_PUBLISH_SETTLE_MINUTES": "0",
        "BRIEFBOT_PUBLISH_CHECK_INTERVAL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def newest_sample() -> str:
    return sorted(p.stem for p in SAMPLES_DIR.glob("*.md"))[-1]


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:  # a failed assertion must not leave a bot running
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


def test_run_publishes_the_sample_to_the_terminal_chat_when_due(
    briefbot: Path, env: dict[str, str], newest_sample: str, processes: list[Process]
) -> None:
    title = f"嵌入式AI简报 ({newest_sample})"
    # Started 6 s before 09:00 (the default publish time) on the newest sample's date. The
    # shifted clock runs from its creation, before the bot serves: with 3 s, a loaded
    # machine's slow start-up could leave under 1.5 s, and the check below see the push.
    bot = Process([str(briefbot), "run", "--start", f"{newest_sample}T08:59:54"], env)
    processes.append(bot)
    bot.wait_for("serving")
    time.sleep(1.5)
    assert not any(HEADER in line for line in bot.out), "pushed before its publish time"
    bot.wait_for(HEADER)
    bot.wait_for(title)
    bot.send("/latest")  # the chat still answers while the bot runs
    bot.wait_for("【目录】")
    bot.send("/quit")
    assert bot.finish() == 0, "".join(bot.err)

    out = "".join(bot.out)
    assert out.count(HEADER) >= 1 and out.count(f"【{title}】") >= 2  # the push and /latest
    assert "Traceback" not in "".join(bot.err)
    states = _states(briefbot, env)
    assert states[newest_sample] == "published"
    older = [key for key in states if key < newest_sample]
    assert all(states[key] == "archived" for key in older), states  # too old to push

    # A restart later that day publishes nothing again: the push happened once.
    again = Process([str(briefbot), "run", "--start", f"{newest_sample}T10:00:00"], env)
    processes.append(again)
    again.wait_for("published: none; archived: none")  # the start-up cycle
    time.sleep(2.5)  # and two more publication checks
    again.send("/quit")
    assert again.finish() == 0
    assert not any(HEADER in line for line in again.out)


def test_run_stops_cleanly_on_sigterm_without_a_chat(
    briefbot: Path, env: dict[str, str], processes: list[Process]
) -> None:
    bot = Process([str(briefbot), "run", "--no-chat"], env)
    processes.append(bot)
    bot.wait_for("serving")
    bot.proc.send_signal(signal.SIGTERM)
    assert bot.finish() == 0
    assert "Traceback" not in "".join(bot.err)


def test_run_rejects_a_bad_start_time(briefbot: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(briefbot), "run", "--start", "tomorrow"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--start" in done.stderr


def _states(briefbot: Path, env: dict[str, str]) -> dict[str, str]:
    done = subprocess.run(
        [str(briefbot), "issues", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {item["key"]: item["state"] for item in json.loads(done.stdout)}
