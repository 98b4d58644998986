from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.runtime import build_taxonomy
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("BRIEFBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray ./config.toml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_documents_exactly_the_defaults() -> None:
    example = load_settings(ROOT / "config.example.toml")
    assert example.model_dump() == load_settings(None).model_dump()
    assert example.storage.url.startswith("sqlite+aiosqlite:///")
    assert example.sources[0].kind == "folder"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[telegram]\nbase_url = "http://file/bot"\nadmins = [7]\n')
    monkeypatch.setenv("BRIEFBOT_TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")
    monkeypatch.setenv("BRIEFBOT_TELEGRAM_TOKEN", "1:tok-XYZ")
    monkeypatch.setenv("BRIEFBOT_STORAGE_URL", "sqlite+aiosqlite:///x.db")
    monkeypatch.setenv("BRIEFBOT_WEB_PORT", "9001")
    settings = load_settings(path)
    assert settings.telegram.base_url == "http://127.0.0.1:9/bot"
    assert settings.telegram.admins == [7]  # untouched keys of the file survive
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "1:tok-XYZ"
    assert "tok-XYZ" not in repr(settings)
    assert settings.storage.url == "sqlite+aiosqlite:///x.db"
    assert settings.web.port == 9001


def test_unknown_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"telegram\.tokn"):
        load_settings(write(tmp_path, '[telegram]\ntokn = "x"\n'))
    with pytest.raises(ConfigError, match=r"bogus"):
        load_settings(write(tmp_path, "[bogus]\na = 1\n"))


def test_wrong_type_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"publish\.settle_minutes"):
        load_settings(write(tmp_path, '[publish]\nsettle_minutes = "soon"\n'))
    monkeypatch.setenv("BRIEFBOT_WEB_PORT", "eighty")
    with pytest.raises(ConfigError, match=r"web\.port"):
        load_settings(None)


def test_missing_required_value_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\.0.*needs 'url'"):
        load_settings(write(tmp_path, '[[sources]]\nkind = "git"\n'))
    with pytest.raises(ConfigError, match=r"wecom\.robots\.0\.key"):
        load_settings(write(tmp_path, "[[wecom.robots]]\nsections = []\n"))


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(ConfigError):
        load_settings(write(tmp_path, "[telegram\n"))


def test_config_toml_in_cwd_is_picked_up(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[series]\ntitle = "Other"\n', encoding="utf-8")
    assert load_settings(None).series.title == "Other"


def test_taxonomy_from_config() -> None:
    default = build_taxonomy(Settings())
    assert default.resolve("论文") == ("section", "papers")
    assert default.resolve("chips") == ("topic", "chips")
    custom = Settings.model_validate(
        {
            "topics": {"robots": {"keywords": ["机器人", "robot"], "zh": "机器人"}},
            "series": {"sections": {"工具": "tools"}},
        }
    )
    taxonomy = build_taxonomy(custom)
    assert taxonomy.resolve("chips") is None  # replaced, not merged
    assert taxonomy.topics_for("波士顿动力机器人") == ("robots",)
    assert taxonomy.section_key("工具") == "tools"
    assert taxonomy.section_key("论文") == "papers"
