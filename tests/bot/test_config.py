from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, describe_setup, load_settings
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
    # A relative path from the environment is the operator's cwd (here tmp_path).
    assert settings.storage.url == f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
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


# --- Operator errors: one line naming the key, never a secret value -------------------

SECRET = "S3cr3t-Value-Never-Shown"
GOOD_AES = "a" * 43
WEBHOOK = "https://bot.example.com/telegram/hook"


def refused(tmp_path: Path, text: str | None = None) -> str:
    """The ConfigError message for this config (or the environment alone): one line."""
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text) if text is not None else None)
    message = str(info.value)
    assert "\n" not in message, message
    assert SECRET not in message, message
    return message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,2", [1, 2]), ("[1, 2]", [1, 2]), (" 3 , 4 ", [3, 4]), ("7", [7]), ("", [])],
)
def test_list_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[int]
) -> None:
    monkeypatch.setenv("BRIEFBOT_TELEGRAM_ADMINS", raw)
    assert load_settings(None).telegram.admins == expected


def test_string_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_SERIES_NAVIGATION_HEADINGS", "往期回顾,Archive")
    assert load_settings(None).series.navigation_headings == ["往期回顾", "Archive"]
    monkeypatch.setenv("BRIEFBOT_SERIES_NAVIGATION_HEADINGS", '["a,b", "c"]')
    assert load_settings(None).series.navigation_headings == ["a,b", "c"]


@pytest.mark.parametrize("raw", ["1,x", "[1,", "[[1]]", "{}"])
def test_a_bad_list_in_the_environment_names_key_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("BRIEFBOT_TELEGRAM_ADMINS", raw)
    message = refused(tmp_path)
    assert "telegram.admins" in message and "BRIEFBOT_TELEGRAM_ADMINS" in message


def test_undecodable_json_table_in_the_environment_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_SOURCES", '[{"kind": "folder", ' + SECRET)
    message = refused(tmp_path)
    assert "sources" in message and "JSON" in message and "None" not in message


@pytest.mark.parametrize("platform", ["wechat", "wecom"])
@pytest.mark.parametrize(
    "key",
    [
        "a" * 42,  # one short
        "a" * 43 + "=",  # padded
        "a" * 44,
        "a" * 42 + "!",  # 43 characters, one not base64
        "",
        SECRET,
    ],
)
def test_a_wrong_aes_key_is_named_and_not_shown(tmp_path: Path, platform: str, key: str) -> None:
    complete = {
        "wechat": f'app_id = "wx1"\ntoken = "{SECRET}"\n',
        "wecom": f'corp_id = "ww1"\nsecret = "{SECRET}"\nagent_id = 1\ntoken = "{SECRET}"\n',
    }[platform]
    message = refused(tmp_path, f'[{platform}]\n{complete}encoding_aes_key = "{key}"\n')
    assert f"{platform}.encoding_aes_key" in message and "43 characters" in message
    if key:
        assert key not in message


def test_a_valid_aes_key_loads(tmp_path: Path) -> None:
    text = f'[wechat]\napp_id = "wx1"\ntoken = "t"\nencoding_aes_key = "{GOOD_AES}"\n'
    settings = load_settings(write(tmp_path, text))
    assert settings.wechat.encoding_aes_key is not None


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "Asia", "", "x" * 500])
def test_an_unknown_time_zone_is_named(tmp_path: Path, zone: str) -> None:
    message = refused(tmp_path, f'[publish]\ntimezone = "{zone}"\n')
    assert message.count("publish.timezone") == 1 and "Asia/Shanghai" in message
    assert len(message) < 300  # an absurd value is not echoed in full


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://root:{SECRET}@127.0.0.1/briefbot",
        f"postgresql+asyncpg://postgres:{SECRET}@127.0.0.1/briefbot",
        f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:5432",  # no database name
        f"::{SECRET}::",  # not a URL at all
        f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:port/db",
    ],
)
def test_an_unsupported_database_url_names_the_forms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    message = refused(tmp_path, f'[storage]\nurl = "{url}"\n')
    assert "storage.url" in message
    assert "sqlite+aiosqlite:///" in message and "postgresql+psycopg://" in message
    monkeypatch.setenv("BRIEFBOT_STORAGE_URL", url)
    assert "BRIEFBOT_STORAGE_URL" in refused(tmp_path)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[wechat]\napp_id = "wx1"\n', "wechat.app_id is set but neither wechat.token"),
        (f'[wechat]\ntoken = "{SECRET}"\n', "wechat.token is set but wechat.app_id"),
        (f'[wechat]\nsecret = "{SECRET}"\n', "wechat.secret is set but wechat.app_id"),
        (
            f'[wechat]\napp_id = "wx1"\nsecret = "{SECRET}"\nencoding_aes_key = "{GOOD_AES}"\n',
            "wechat.encoding_aes_key is set but wechat.token",
        ),
        ('[wecom]\ncorp_id = "ww1"\n', "wecom.corp_id is set but wecom.secret"),
        (f'[wecom]\ncorp_id = "ww1"\nsecret = "{SECRET}"\n', "wecom.agent_id"),
        ("[wecom]\nagent_id = 1000002\n", "wecom.agent_id is set but wecom.corp_id"),
        (
            f'[wecom]\ncorp_id = "ww1"\nsecret = "{SECRET}"\nagent_id = 1\ntoken = "{SECRET}"\n',
            "wecom.token is set but wecom.encoding_aes_key",
        ),
        (f'[telegram]\nwebhook_url = "{WEBHOOK}"\n', "telegram.webhook_url is set but"),
        (
            f'[telegram]\ntoken = "{SECRET}"\nwebhook_url = "http://bot.example.com/hook"\n',
            "telegram.webhook_url must be an https:// URL with a path",
        ),
        (
            f'[telegram]\ntoken = "{SECRET}"\nwebhook_url = "https://bot.example.com"\n',
            "telegram.webhook_url must be an https:// URL with a path",
        ),
        (
            f'[telegram]\ntoken = "{SECRET}"\nwebhook_secret = "{SECRET}"\n',
            "telegram.webhook_secret is set but telegram.webhook_url",
        ),
        (
            f'[telegram]\ntoken = "t"\nwebhook_url = "{WEBHOOK}"\n'
            f'webhook_secret = "a b {SECRET}"\n',
            "telegram.webhook_secret",
        ),
        ('[telegram]\nbase_url = "api.telegram.org/bot"\n', "telegram.base_url"),
        (f"[telegram]\ntoken = {len(SECRET)}\n", "telegram.token"),  # wrong type
    ],
)
def test_a_half_configured_platform_is_named(tmp_path: Path, text: str, named: str) -> None:
    message = refused(tmp_path, text)
    assert named in message
    assert message.startswith(f"invalid configuration ({tmp_path / 'c.toml'}): ")


@pytest.mark.parametrize(
    "text",
    [
        '[wechat]\napp_id = "wx1"\ntoken = "t"\n',  # passive replies only
        '[wechat]\napp_id = "wx1"\nsecret = "s"\n',  # pushes only
        '[wecom]\ncorp_id = "ww1"\nsecret = "s"\nagent_id = 2\n',  # pushes only
        f'[wecom]\ncorp_id = "ww1"\nsecret = "s"\nagent_id = 2\ntoken = "t"\n'
        f'encoding_aes_key = "{GOOD_AES}"\n',
        '[[wecom.robots]]\nkey = "k"\n',  # robots need no app
        f'[telegram]\ntoken = "t"\nwebhook_url = "{WEBHOOK}"\nwebhook_secret = "A-z_09"\n',
    ],
)
def test_complete_platform_configurations_load(tmp_path: Path, text: str) -> None:
    load_settings(write(tmp_path, text))


def test_secrets_from_the_environment_never_appear_in_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_WECHAT_TOKEN", SECRET)
    monkeypatch.setenv("BRIEFBOT_WECHAT_ENCODING_AES_KEY", SECRET)
    monkeypatch.setenv("BRIEFBOT_WECOM_SECRET", SECRET)
    monkeypatch.setenv("BRIEFBOT_TELEGRAM_WEBHOOK_SECRET", SECRET + " !")
    message = refused(tmp_path)
    for key in ("wechat", "wecom.secret", "telegram.webhook_secret"):
        assert key in message


# --- Paths: the cwd never decides where the archive is --------------------------------


def test_relative_paths_in_a_config_file_resolve_against_its_folder(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    path = conf / "briefbot.toml"
    path.write_text(
        '[storage]\nurl = "sqlite+aiosqlite:///data/b.sqlite3"\n'
        '[[sources]]\nkind = "folder"\npath = "briefs"\n'
        '[[sources]]\nkind = "folder"\npath = "/srv/abs"\n'
        '[[sources]]\nkind = "git"\nurl = "https://example.com/r.git"\npath = "r/*.md"\n',
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.storage.url == f"sqlite+aiosqlite:///{conf / 'data' / 'b.sqlite3'}"
    assert [s.path for s in settings.sources] == [str(conf / "briefs"), "/srv/abs", "r/*.md"]
    assert settings.origin == f"config {path}"


def test_built_in_defaults_resolve_against_the_checkout_not_the_cwd(tmp_path: Path) -> None:
    settings = load_settings(None)  # the cwd is tmp_path, which has no samples/
    assert settings.storage.url == f"sqlite+aiosqlite:///{ROOT / 'data' / 'briefbot.sqlite3'}"
    assert settings.sources[0].path == str(ROOT / "samples")
    assert describe_setup(settings) == (
        f"archive: {settings.storage.url} (built-in defaults); sources: folder {ROOT / 'samples'}"
    )


def test_without_a_checkout_the_defaults_are_refused_unless_the_cwd_has_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.config

    monkeypatch.setattr(bot.config, "PACKAGE_ROOT", tmp_path / "site-packages")
    message = refused(tmp_path)
    assert "--config" in message and "config.example.toml" in message
    monkeypatch.setenv("BRIEFBOT_STORAGE_URL", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("BRIEFBOT_SOURCES", "[]")
    assert load_settings(None).sources == []  # nothing relative left: no checkout needed
    monkeypatch.delenv("BRIEFBOT_SOURCES")
    (tmp_path / "samples").mkdir()
    assert load_settings(None).sources[0].path == str(tmp_path / "samples")


def test_the_start_up_line_hides_passwords_and_url_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BRIEFBOT_STORAGE_URL", f"postgresql+psycopg://bot:{SECRET}@db:5432/b")
    monkeypatch.setenv(
        "BRIEFBOT_SOURCES",
        f'[{{"kind": "git", "url": "https://x:{SECRET}@git.example.com/r.git", "path": "*.md"}}]',
    )
    line = describe_setup(load_settings(None))
    assert SECRET not in line
    assert "postgresql+psycopg://bot:***@db:5432/b" in line and "git.example.com" in line
