"""`briefbot` starts instantly: help never loads the heavy libraries, and the archive
commands never load the chat platforms' (bench/startup_bench.py measures the time).

Each check runs in a fresh interpreter: this test process has imported everything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES_DIR

# Seconds each, when imported: what `--help` must not pay for.
HEAVY = ("sqlalchemy", "alembic", "pydantic", "telegram", "wechatpy", "aiohttp", "httpx")
HEAVY += ("starlette", "uvicorn", "apscheduler", "markdown", "cryptography", "psycopg")
# Only `run`, `tick --deliver` and the chat platforms need these; Alembic only a database
# behind the newest migration (storage.db.HEAD_REVISION).
NOT_FOR_READING = ("telegram", "wechatpy", "aiohttp", "httpx", "starlette", "uvicorn", "alembic")

PROBE = """
import json, sys
from bot.cli import build_parser, main
argv = json.loads(sys.argv[1])
if argv and argv[-1] == "--help":
    try:
        build_parser().parse_args(argv)
    except SystemExit:
        pass
else:
    code = main(argv)
    assert code == 0, code
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""


def loaded_by(argv: list[str], cwd: Path) -> set[str]:
    """The top-level modules a fresh `briefbot ARGV` has imported when it is done."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def sub_commands() -> list[list[str]]:
    """Every sub-command, nested ones (`db upgrade`) included, as argv prefixes."""
    from bot.cli import build_parser

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> list[list[str]]:
        found = [prefix]
        for action in parser._actions:  # argparse has no public walk over sub-commands
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += walk(sub, [*prefix, name])
        return found

    return walk(build_parser(), [])


@pytest.mark.parametrize("prefix", sub_commands(), ids=lambda p: " ".join(p) or "briefbot")
def test_help_loads_no_heavy_library(prefix: list[str], tmp_path: Path) -> None:
    loaded = loaded_by([*prefix, "--help"], tmp_path)
    assert not loaded & set(HEAVY), f"`briefbot {' '.join(prefix)} --help` imports them"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cwd whose default archive (data/briefbot.sqlite3) holds the bundled samples."""
    cwd = tmp_path_factory.mktemp("archive")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    briefbot = Path(sys.executable).parent / "briefbot"
    subprocess.run(
        [str(briefbot), "ingest", str(SAMPLES_DIR)], cwd=cwd, env=env, check=True, timeout=120
    )
    return cwd


@pytest.mark.parametrize(
    "argv", [["issues"], ["show", "latest"], ["search", "量化"], ["search", "MNN", "--json"]]
)
def test_archive_commands_load_no_platform_library(argv: list[str], archive: Path) -> None:
    loaded = loaded_by(argv, archive)
    assert "sqlalchemy" in loaded  # the probe ran the command on the archive
    assert not loaded & set(NOT_FOR_READING), f"`briefbot {' '.join(argv)}` imports them"
