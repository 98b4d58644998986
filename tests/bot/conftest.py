"""Bot tests run against real databases through the shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from tests.dbfixtures import db_url, engine, postgres_database, session_factory

__all__ = ["cli", "db_url", "engine", "postgres_database", "session_factory"]

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """`briefbot ARGS...` in-process on the test database: (exit code, stdout, stderr)."""
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_") and name != "BRIEFBOT_REQUIRE_POSTGRES":
            monkeypatch.delenv(name)
    monkeypatch.setenv("BRIEFBOT_STORAGE_URL", db_url)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
