"""SQLite is single-instance: a second `briefbot run` on the same file refuses at once,
in one line, and the file is free again as soon as the first one is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cluster.single import AlreadyRunning, single_instance
from tests.bot.test_run import Process
from tests.conftest import SAMPLES_DIR

ROOT = SAMPLES_DIR.parent


@pytest.fixture
def briefbot() -> Path:
    path = Path(sys.executable).with_name("briefbot")
    if not path.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    return path


def test_a_second_run_on_the_same_sqlite_file_refuses_to_start(
    briefbot: Path, tmp_path: Path
) -> None:
    database = tmp_path / "one.sqlite3"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    env = clean | {"BRIEFBOT_STORAGE_URL": f"sqlite+aiosqlite:///{database}"}
    first = Process([str(briefbot), "run", "--no-chat"], env | {"PYTHONUNBUFFERED": "1"})
    try:
        first.wait_for("serving")
        second = subprocess.run(
            [str(briefbot), "run", "--no-chat"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        lines = [
            line for line in second.stderr.splitlines() if not line.startswith("briefbot: archive")
        ]
        assert second.returncode == 1 and len(lines) == 1, second.stderr
        assert f"another `briefbot run` (pid {first.proc.pid}) is using {database}" in lines[0]
        assert "PostgreSQL" in lines[0] and "Traceback" not in second.stderr
        assert first.proc.poll() is None  # the first one is untouched
    finally:
        first.proc.send_signal(signal.SIGKILL)  # however it dies, the lock goes with it
        first.finish()
    again = Process([str(briefbot), "run", "--no-chat"], env | {"PYTHONUNBUFFERED": "1"})
    try:
        again.wait_for("serving")
    finally:
        again.proc.send_signal(signal.SIGTERM)
        assert again.finish() == 0


def test_the_lock_is_per_sqlite_file_and_none_for_postgres(tmp_path: Path) -> None:
    one, two = (f"sqlite+aiosqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
    with single_instance(one), single_instance(two):
        with single_instance("postgresql+psycopg://u@h/db"), single_instance("sqlite://"):
            pass
        # flock locks belong to the open file: a second open, even in-process, is refused
        with pytest.raises(AlreadyRunning, match=r"a\.db"), single_instance(one):
            pass
    with single_instance(one):  # released on exit
        pass
