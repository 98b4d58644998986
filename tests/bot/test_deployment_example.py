"""The multi-instance example of docs/deployment.md is a valid configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from storage.db import check_url

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "multi-instance.toml"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_example_loads_with_its_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BRIEFBOT_TELEGRAM_TOKEN", "123:example-token")
    monkeypatch.setenv("BRIEFBOT_TELEGRAM_WEBHOOK_SECRET", "shared-by-every-instance")
    settings = load_settings(EXAMPLE)
    assert check_url(settings.storage.url).get_backend_name() == "postgresql"
    assert settings.telegram.webhook_url.startswith("https://")  # webhook mode
    assert settings.telegram.webhook_secret is not None
    assert (settings.web.host, settings.web.port) == ("0.0.0.0", 8080)
    cluster = settings.cluster
    assert (cluster.heartbeat_seconds, cluster.stale_seconds) == (2.0, 10.0)
    assert cluster.leader_retry_seconds == 3.0
    assert settings.delivery.global_per_second == 30  # the token's: instances split it


def test_without_the_token_the_example_names_what_is_missing() -> None:
    with pytest.raises(ConfigError, match=r"telegram\.token"):
        load_settings(EXAMPLE)


def test_cluster_timings_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[cluster]\nheartbeat_seconds = 5\nstale_seconds = 6\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"stale_seconds"):
        load_settings(path)


def test_the_deployment_guide_links_the_example() -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert "examples/multi-instance.toml" in guide
    for key in ("heartbeat_seconds", "stale_seconds", "leader_retry_seconds", "webhook_secret"):
        assert key in guide and key in EXAMPLE.read_text(encoding="utf-8").lower()
