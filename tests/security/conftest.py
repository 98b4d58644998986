"""Security tests run on SQLite and PostgreSQL through the shared fixtures."""

from __future__ import annotations

import os

import pytest

from tests.dbfixtures import db_url, engine, postgres_database, session_factory

__all__ = ["clean_env", "db_url", "engine", "postgres_database", "session_factory"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read BRIEFBOT_* variables: keep the developer's out of the tests."""
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_") and name != "BRIEFBOT_REQUIRE_POSTGRES":
            monkeypatch.delenv(name)
