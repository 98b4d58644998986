"""Settings: one TOML file plus BRIEFBOT_<SECTION>_<KEY> environment overrides.

Validated by pydantic-settings at start: an unknown key, a wrong type or a missing
required value stops the program with a message naming the key. Nothing is read at
import time; `load_settings` is called by the entry point only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_PATH = Path("config.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TopicSettings(_Section):
    keywords: list[str]
    zh: str = ""
    en: str = ""
    aliases: list[str] = Field(default_factory=list)


class SeriesSettings(_Section):
    slug: str = "embedded-ai"
    title: str = "嵌入式AI简报"
    # heading as written -> stable section key; None means the built-in defaults
    sections: dict[str, str] | None = None
    navigation_headings: list[str] = Field(default_factory=lambda: ["往期回顾"])


class IngestSettings(_Section):
    """Caps on what one briefing file may hold: anything a source can send is bounded."""

    max_file_bytes: int = Field(default=2_000_000, ge=1024)
    max_sections: int = Field(default=200, ge=1)
    max_entries: int = Field(default=5_000, ge=1)


class StorageSettings(_Section):
    url: str = "sqlite+aiosqlite:///data/briefbot.sqlite3"


class SourceSettings(_Section):
    kind: Literal["folder", "git", "http"] = "folder"
    name: str = ""
    path: str = ""  # folder: directory; git: path glob inside the repository
    url: str = ""  # git: repository URL
    branch: str = "master"
    urls: list[str] = Field(default_factory=list)  # http: markdown file URLs
    interval_seconds: int = Field(default=300, ge=1)

    @model_validator(mode="after")
    def _check_kind(self) -> SourceSettings:
        missing = {
            "folder": not self.path,
            "git": not self.url,
            "http": not self.urls,
        }[self.kind]
        if missing:
            need = {"folder": "path", "git": "url", "http": "urls"}[self.kind]
            raise ValueError(f"a {self.kind} source needs '{need}'")
        return self


class PublishSettings(_Section):
    time: dt.time = dt.time(9, 0)
    timezone: str = "Asia/Shanghai"
    settle_minutes: int = Field(default=30, ge=0)
    backfill_days: int = Field(default=3, ge=0)
    check_interval_seconds: int = Field(default=60, ge=1)


class TelegramSettings(_Section):
    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    admins: list[int] = Field(default_factory=list)
    channel: str = ""  # a channel id or @name that receives every push
    default_subscription: Literal["all", "none"] = "all"
    disable_preview: bool = True
    webhook_url: str = ""  # empty: long polling
    webhook_secret: SecretStr | None = None
    connection_pool: int = Field(default=64, ge=1)


class DeliverySettings(_Section):
    global_per_second: float = Field(default=30.0, gt=0)
    private_per_second: float = Field(default=1.0, gt=0)
    private_burst: int = Field(default=3, ge=1)
    group_per_minute: float = Field(default=20.0, gt=0)
    group_burst: int = Field(default=5, ge=1)
    global_burst: int | None = Field(default=None, ge=1)  # None: one second's worth
    headroom: float = Field(default=0.02, ge=0, lt=1)  # stay this fraction below each rate
    workers: int = Field(default=16, ge=1)
    batch_size: int = Field(default=500, ge=1)
    max_attempts: int = Field(default=5, ge=1)
    retry_margin_seconds: float = Field(default=1.0, ge=0)
    error_burst: int = Field(default=50, ge=1)


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class WechatSettings(_Section):
    app_id: str = ""
    secret: SecretStr | None = None
    token: SecretStr | None = None
    encoding_aes_key: SecretStr | None = None
    base_url: str = "https://api.weixin.qq.com"
    max_bytes: int = Field(default=2048, ge=64)
    mass_send_daily_quota: int = Field(default=1, ge=0)


class WecomRobotSettings(_Section):
    key: SecretStr
    sections: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)


class WecomSettings(_Section):
    corp_id: str = ""
    secret: SecretStr | None = None
    agent_id: int | None = None
    token: SecretStr | None = None
    encoding_aes_key: SecretStr | None = None
    base_url: str = "https://qyapi.weixin.qq.com"
    robots: list[WecomRobotSettings] = Field(default_factory=list)


def _default_sources() -> list[SourceSettings]:
    return [SourceSettings(kind="folder", name="samples", path="samples")]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        extra="forbid",
        env_prefix="BRIEFBOT_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        nested_model_default_partial_update=True,
    )

    series: SeriesSettings = Field(default_factory=SeriesSettings)
    # topic key -> keyword rule; None means the built-in defaults
    topics: dict[str, TopicSettings] | None = None
    storage: StorageSettings = Field(default_factory=StorageSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    sources: list[SourceSettings] = Field(default_factory=_default_sources)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    web: WebSettings = Field(default_factory=WebSettings)
    wechat: WechatSettings = Field(default_factory=WechatSettings)
    wecom: WecomSettings = Field(default_factory=WecomSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_file, deep_merge=True)
        return (init_settings, env_settings, toml)


class ConfigError(Exception):
    """Invalid configuration; the message names every offending key."""


def load_settings(path: Path | None = None) -> Settings:
    """Load `path` (default config.toml if it exists, else built-in defaults) + env."""
    if path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    chosen = path or (DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None)

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=chosen)

    try:
        return _FromFile()
    except ValidationError as exc:
        raise ConfigError(_describe(exc, chosen)) from None
    except ValueError as exc:  # TOML syntax errors surface as ValueError subclasses
        raise ConfigError(f"{chosen}: {exc}") from None


def _describe(exc: ValidationError, path: Path | None) -> str:
    where = str(path) if path else "built-in defaults + environment"
    lines = [f"invalid configuration ({where}):"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {key}: {err['msg']}")
    return "\n".join(lines)
