"""Settings: one TOML file plus BRIEFBOT_<SECTION>_<KEY> environment overrides.

Validated by pydantic-settings at start: an unknown key, a wrong type, a missing
required value, a half-configured platform, a bad AES key, time zone or database URL
stops the program with one line naming the key (never its value: it may be a secret).
Relative paths resolve against the config file's folder; with no config file, against
the briefbot checkout (the folder holding the bundled samples/). Nothing is read at
import time; `load_settings` is called by the entry point only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.exceptions import SettingsError

from briefings.layout import Layout
from storage.db import check_url, redact, with_base_dir
from storage.search.models import MAX_SECTION_ENTRIES, MAX_SECTIONS

DEFAULT_CONFIG_PATH = Path("config.toml")
# The checkout holding the bundled samples/ (found from the package, not the cwd).
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts


def _split_list(value: object) -> object:
    """Lists from the environment: JSON (`[1, 2]`) or comma-separated (`1,2`)."""
    if isinstance(value, int | float):
        return [value]
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("not a JSON list; write [1, 2] or 1,2") from None
    return [part.strip() for part in text.split(",") if part.strip()]


# NoDecode: pydantic-settings would otherwise insist on JSON for list values in env vars.
IntList = Annotated[list[int], NoDecode, BeforeValidator(_split_list)]
StrList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


def _check_aes_key(value: SecretStr | None) -> SecretStr | None:
    """WeChat's EncodingAESKey: 43 base64 characters without '=', i.e. 32 bytes of key."""
    if value is None:
        return None
    key = value.get_secret_value()
    if not _AES_KEY.fullmatch(key):
        raise ValueError(
            f"must be 43 characters of base64 without '=' (got {len(key)} characters"
            + (")" if len(key) != 43 else ", not all of them base64)")
        )
    try:
        base64.b64decode(key + "=", validate=True)
    except binascii.Error:
        raise ValueError("must be 43 characters of base64 without '='") from None
    return value


def _check_base_url(value: str) -> str:
    if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        raise ValueError("must be an http:// or https:// URL")
    return value


def _set(value: object) -> bool:
    """Whether an optional setting is given (a SecretStr counts only when non-empty)."""
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return value is not None and value != ""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TopicSettings(_Section):
    keywords: list[str]
    zh: str = ""
    en: str = ""
    aliases: list[str] = Field(default_factory=list)


class IngestSettings(_Section):
    """Caps on what one briefing file may hold: anything a source can send is bounded."""

    max_file_bytes: int = Field(default=2_000_000, ge=1024)
    # le: what the archive's search ids hold (storage.search.models)
    max_sections: int = Field(default=200, ge=1, le=MAX_SECTIONS)
    max_entries: int = Field(default=5_000, ge=1, le=MAX_SECTIONS * MAX_SECTION_ENTRIES)


class StorageSettings(_Section):
    url: str = "sqlite+aiosqlite:///data/briefbot.sqlite3"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        check_url(value)  # ValueError: malformed or unsupported, password hidden
        return value


class SourceSettings(_Section):
    kind: Literal["folder", "git", "http"] = "folder"
    name: str = ""
    path: str = ""  # folder: directory; git: path glob inside the repository
    url: str = ""  # git: repository URL
    branch: str = "master"
    urls: StrList = Field(default_factory=list)  # http: markdown file URLs
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


def _known_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        shown = value if len(value) <= 60 else value[:60] + "…"
        raise ValueError(
            f"unknown time zone {shown!r}; use an IANA name such as Asia/Shanghai or UTC"
        ) from None
    return value


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    name: short
    for short, full in zip(
        WEEKDAYS,
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        strict=True,
    )
    for name in (short, full)
}


def _known_weekdays(value: list[str] | None) -> list[str] | None:
    """Weekdays as mon..sun (`Friday` and `fri` both accepted), in the order given."""
    if value is None:
        return None
    unknown = [day for day in value if day.strip().lower() not in _DAY_NAMES]
    if unknown:
        shown = unknown[0][:20]
        raise ValueError(f"unknown weekday {shown!r}; use mon, tue, wed, thu, fri, sat or sun")
    return list(dict.fromkeys(_DAY_NAMES[day.strip().lower()] for day in value))


class PublishSettings(_Section):
    time: dt.time = dt.time(9, 0)
    timezone: str = "Asia/Shanghai"
    # Empty: an issue is due on its own date at `time`. Weekdays (e.g. ["fri"]): on the
    # first of them at `time` on or after the date, or for an issue without a
    # date (a numbered series), after the archive first saw it.
    weekdays: StrList = Field(default_factory=list)
    settle_minutes: int = Field(default=30, ge=0)
    backfill_days: int = Field(default=3, ge=0)
    check_interval_seconds: int = Field(default=60, ge=1)
    corrections: bool = True  # edits after publication reach readers (bot/publish/corrections.py)
    corrections_window_hours: float = Field(default=48, ge=0)

    _zone = field_validator("timezone")(_known_zone)
    _days = field_validator("weekdays")(_known_weekdays)


class TelegramSettings(_Section):
    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    admins: IntList = Field(default_factory=list)
    channel: str = ""  # a channel id or @name that receives every push
    default_subscription: Literal["all", "none"] = "all"
    disable_preview: bool = True
    webhook_url: str = ""  # empty: long polling
    webhook_secret: SecretStr | None = None
    connection_pool: int = Field(default=64, ge=1)

    _base_url = field_validator("base_url")(_check_base_url)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_chars(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSettings:
        if self.webhook_url:
            parts = urlsplit(self.webhook_url)
            if parts.scheme != "https" or not parts.netloc or parts.path in ("", "/"):
                raise ValueError(
                    "telegram.webhook_url must be an https:// URL with a path, "
                    "e.g. https://bot.example.com/telegram"
                )
            if not _set(self.token):
                raise ValueError("telegram.webhook_url is set but telegram.token is not")
        elif _set(self.webhook_secret):
            raise ValueError("telegram.webhook_secret is set but telegram.webhook_url is not")
        return self


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
    # Where readers reach the public pages (behind a proxy: the outside address); when set,
    # `run` serves HTTP for the pages even without a webhook platform (docs/web.md).
    public_url: str = ""
    pages: bool = True  # the public archive pages and feeds, whenever HTTP is served
    # The operator page accepts this as a Bearer token or as the basic-auth password; unset,
    # the page does not exist (never open by default).
    admin_token: SecretStr | None = None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return _check_base_url(value).rstrip("/") if value else value

    @field_validator("admin_token")
    @classmethod
    def _admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and 0 < len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (it guards the operator page)")
        return value


class ClusterSettings(_Section):
    """Several `run` instances on one PostgreSQL database (bot/cluster/)."""

    heartbeat_seconds: float = Field(default=2.0, gt=0, le=60)
    # An instance silent this long (on the database's clock) is dead: its claimed
    # deliveries go back to pending. Failover takes about this plus heartbeat_seconds.
    stale_seconds: float = Field(default=10.0, gt=0, le=600)
    leader_retry_seconds: float = Field(default=3.0, gt=0, le=60)  # standbys try this often

    @model_validator(mode="after")
    def _stale_spans_heartbeats(self) -> ClusterSettings:
        if self.stale_seconds < 3 * self.heartbeat_seconds:
            # One late heartbeat (a busy event loop, a slow commit) must not look like death.
            raise ValueError("cluster.stale_seconds must be at least 3 x heartbeat_seconds")
        return self


class WechatSettings(_Section):
    app_id: str = ""
    secret: SecretStr | None = None
    token: SecretStr | None = None
    encoding_aes_key: SecretStr | None = None
    base_url: str = "https://api.weixin.qq.com"
    max_bytes: int = Field(default=2048, ge=64)
    mass_send_daily_quota: int = Field(default=1, ge=0)

    _aes_key = field_validator("encoding_aes_key")(_check_aes_key)
    _base_url = field_validator("base_url")(_check_base_url)

    @model_validator(mode="after")
    def _complete(self) -> WechatSettings:
        given = [k for k in ("secret", "token", "encoding_aes_key") if _set(getattr(self, k))]
        if not self.app_id and given:
            raise ValueError(f"wechat.{given[0]} is set but wechat.app_id is not")
        if self.app_id and not (_set(self.token) or _set(self.secret)):
            raise ValueError(
                "wechat.app_id is set but neither wechat.token (callbacks) "
                "nor wechat.secret (pushes) is"
            )
        if _set(self.encoding_aes_key) and not _set(self.token):
            raise ValueError("wechat.encoding_aes_key is set but wechat.token is not")
        return self


class WecomRobotSettings(_Section):
    key: SecretStr
    sections: StrList = Field(default_factory=list)
    topics: StrList = Field(default_factory=list)
    # Slugs of configured series (checked by _check_robot_series); empty: every series
    # with default_subscription, as a new reader gets.
    series: StrList = Field(default_factory=list)


class WecomSettings(_Section):
    corp_id: str = ""
    secret: SecretStr | None = None
    agent_id: int | None = None
    token: SecretStr | None = None
    encoding_aes_key: SecretStr | None = None
    base_url: str = "https://qyapi.weixin.qq.com"
    robots: list[WecomRobotSettings] = Field(default_factory=list)

    _aes_key = field_validator("encoding_aes_key")(_check_aes_key)
    _base_url = field_validator("base_url")(_check_base_url)

    @model_validator(mode="after")
    def _complete(self) -> WecomSettings:
        keys = ("secret", "agent_id", "token", "encoding_aes_key")
        given = [k for k in keys if _set(getattr(self, k))]
        if not self.corp_id:
            if given:
                raise ValueError(f"wecom.{given[0]} is set but wecom.corp_id is not")
            return self
        # An app both pushes and replies through the API, so it always needs both.
        for key in ("secret", "agent_id"):
            if key not in given:
                raise ValueError(f"wecom.corp_id is set but wecom.{key} is not")
        # WeCom callbacks are always encrypted: the token alone cannot check them.
        pair = {"token", "encoding_aes_key"} & set(given)
        if len(pair) == 1:
            (have,) = pair
            need = "encoding_aes_key" if have == "token" else "token"
            raise ValueError(f"wecom.{have} is set but wecom.{need} is not")
        return self


class ScheduleSettings(_Section):
    """A series' own schedule (`[series.schedule]`); an unset key takes `[publish]`'s."""

    time: dt.time | None = None
    timezone: str | None = None
    weekdays: StrList | None = None
    settle_minutes: int | None = Field(default=None, ge=0)
    backfill_days: int | None = Field(default=None, ge=0)

    _zone = field_validator("timezone")(_known_zone)
    _days = field_validator("weekdays")(_known_weekdays)

    def over(self, publish: PublishSettings) -> PublishSettings:
        return publish.model_copy(update=self.model_dump(exclude_none=True))


# A slug of several series: readers type it (`/latest widgets`) and buttons carry it within
# Telegram's 64 bytes of callback data (bot/commands/buttons.py), hence 32 characters.
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
# Commands read a first word that is an issue date or number as one (`/issue 2026-11-16`).
_KEY_SHAPES = ((re.compile(r"\d{4}-\d{2}-\d{2}"), "a date"), (re.compile(r"\d+"), "a number"))
# The web's fixed first path segments (bot/web: pages, operator, server): `/<slug>` is a
# series' home, which these routes would take (tests/bot/test_config_series_slugs.py
# checks the list against the routes the web service mounts).
WEB_ROUTE_NAMES = frozenset({"search", "static", "operator", "healthz", "wechat", "wecom"})


class SeriesSettings(_Section):
    """One series: `[series]` (with the top-level sources, publish and topics) or one of
    several `[[series]]` tables, each with its own."""

    slug: str = "embedded-ai"
    title: str = "嵌入式AI简报"
    # heading as written -> stable section key; None means the built-in defaults
    sections: dict[str, str] | None = None
    navigation_headings: StrList = Field(default_factory=lambda: ["往期回顾"])
    # A preset name ("this-week-in") or a table (a preset plus overrides, see
    # briefings.layout_config); None: the Embedded AI layout with navigation_headings.
    layout: str | dict[str, Any] | None = None
    languages: list[Literal["zh", "en"]] = Field(default_factory=lambda: ["zh"], min_length=1)
    # Whether a new reader (/start, a new channel) is subscribed to this series.
    default_subscription: bool = True
    # Unset: the top-level [[sources]], [publish] and [topics] (one series only).
    sources: list[SourceSettings] | None = None
    schedule: ScheduleSettings | None = None
    topics: dict[str, TopicSettings] | None = None

    @field_validator("layout")
    @classmethod
    def _layout(cls, value: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        from briefings.layout import LayoutError

        try:
            layout_of(value)
        except LayoutError as exc:
            raise ValueError(str(exc).removeprefix("layout: ").removeprefix("layout.")) from None
        return value


def layout_of(value: str | dict[str, Any] | None) -> Layout | None:
    """The layout a series' `layout` setting names; None: the Embedded AI parse."""
    from briefings.layout_config import layout_from_mapping

    if value is None:
        return None
    return layout_from_mapping({"preset": value} if isinstance(value, str) else value)


def _default_sources() -> list[SourceSettings]:
    return [SourceSettings(kind="folder", name="samples", path="samples")]


def _series_shape(value: object) -> str:
    return "many" if isinstance(value, list) else "one"


# `[series]` (one table: the one series) or `[[series]]` (an array: several series).
SeriesField = Annotated[
    Annotated[SeriesSettings, Tag("one")] | Annotated[list[SeriesSettings], Tag("many")],
    Discriminator(_series_shape),
]


def _source_identity(source: SourceSettings) -> tuple[str, ...]:
    """What a source reads: the same files must not feed two series."""
    if source.kind == "folder":
        return ("folder", str(Path(source.path).expanduser()))
    if source.kind == "git":
        return ("git", source.url, source.branch, source.path)
    return ("http", *sorted(source.urls))


def _check_series(settings: Settings) -> None:
    """Several series: distinct slugs, each with its own sources, no source shared."""
    if isinstance(settings.series, SeriesSettings):
        return
    if not settings.series:
        raise ValueError("series: an empty [[series]] list; configure at least one series")
    seen: dict[str, int] = {}
    for index, one in enumerate(settings.series):
        if not _SLUG.fullmatch(one.slug):
            raise ValueError(
                f"series.{index}.slug: must be 1-32 of a-z, 0-9 and -, starting with a letter "
                "or digit"
            )
        if one.slug in seen:
            raise ValueError(
                f"series.{index}.slug: duplicate slug {one.slug!r} (also series.{seen[one.slug]})"
            )
        _check_slug_meaning(index, one.slug, settings.telegram)
        seen[one.slug] = index
    if len(settings.series) == 1:
        return
    if "sources" in settings.model_fields_set:
        raise ValueError(
            "sources: with several [[series]], each series lists its own ([[series.sources]])"
        )
    owners: dict[tuple[str, ...], str] = {}
    for index, one in enumerate(settings.series):
        if not one.sources:
            raise ValueError(f"series.{index}.sources: series {one.slug!r} has no sources")
        for source in one.sources:
            for identity in (_source_identity(source), ("name", source.name)):
                if identity == ("name", ""):
                    continue
                owner = owners.setdefault(identity, one.slug)
                if owner != one.slug:
                    what = f"name {source.name!r}" if identity[0] == "name" else "files"
                    raise ValueError(
                        f"series.{index}.sources: a source with the same {what} as one of "
                        f"series {owner!r}; a source belongs to one series"
                    )


def _check_slug_meaning(index: int, slug: str, telegram: TelegramSettings) -> None:
    """A slug must not read as something else readers type or visit: an issue key, or a
    fixed web path (the Telegram webhook's first segment included). Command words and
    section or topic names are checked by the entry point (bot.series_slugs)."""
    for shape, what in _KEY_SHAPES:
        if shape.fullmatch(slug):
            raise ValueError(slug_taken(index, slug, f"{what}, read as an issue"))
    webhook = urlsplit(telegram.webhook_url).path.strip("/").partition("/")[0]
    if slug in WEB_ROUTE_NAMES or slug == webhook:
        raise ValueError(slug_taken(index, slug, f"a web path of its own (/{slug})"))


def slug_taken(index: int, slug: str, what: str) -> str:
    """The one-line refusal of series `index`'s slug, which readers would take for `what`."""
    return f"series.{index}.slug: {slug!r} is {what}; choose another slug"


def _check_robot_series(settings: Settings) -> None:
    """Each robot's `series` names configured series (a typo would silently drop one)."""
    several = isinstance(settings.series, list)
    slugs = [s.slug for s in settings.series] if several else [settings.series.slug]
    for index, robot in enumerate(settings.wecom.robots):
        unknown = [slug for slug in robot.series if slug not in slugs]
        if unknown:
            raise ValueError(
                f"wecom.robots.{index}.series: unknown series {unknown[0]!r}; "
                f"configured: {', '.join(slugs)}"
            )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        extra="forbid",
        env_prefix="BRIEFBOT_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        nested_model_default_partial_update=True,
    )

    series: SeriesField = Field(default_factory=SeriesSettings)
    # topic key -> keyword rule; None means the built-in defaults
    topics: dict[str, TopicSettings] | None = None
    storage: StorageSettings = Field(default_factory=StorageSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    sources: list[SourceSettings] = Field(default_factory=_default_sources)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    web: WebSettings = Field(default_factory=WebSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    wechat: WechatSettings = Field(default_factory=WechatSettings)
    wecom: WecomSettings = Field(default_factory=WecomSettings)
    # Where the settings came from, for the start-up line (set by load_settings).
    _origin: str = PrivateAttr(default="built-in defaults")

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

    @property
    def origin(self) -> str:
        return self._origin

    @model_validator(mode="after")
    def _series_apart(self) -> Settings:
        _check_series(self)
        return self

    @model_validator(mode="after")
    def _robots_follow_known_series(self) -> Settings:
        _check_robot_series(self)
        return self

    def series_views(self) -> list[Settings]:
        """One Settings per configured series, first the primary one: its `series` is that
        one table and its `sources`, `publish` and `topics` are the series' own (a series
        without them takes the top-level ones). With `[series]`, just these settings."""
        if isinstance(self.series, SeriesSettings):
            return [self]
        return [self._view(one) for one in self.series]

    def _view(self, one: SeriesSettings) -> Settings:
        return self.model_copy(
            update={
                "series": one,
                "sources": self.sources if one.sources is None else one.sources,
                "publish": one.schedule.over(self.publish) if one.schedule else self.publish,
                "topics": self.topics if one.topics is None else one.topics,
            }
        )

    @property
    def primary_series(self) -> SeriesSettings:
        """The first series: the one a reader gets when a command names none."""
        return self.series if isinstance(self.series, SeriesSettings) else self.series[0]


class ConfigError(Exception):
    """Invalid configuration; the message (one line) names every offending key."""


def load_settings(path: Path | None = None) -> Settings:
    """Load `path` (default config.toml if it exists, else built-in defaults) + env.

    Relative paths (the SQLite file, folder sources) become absolute: against the config
    file's folder, against the cwd when the environment gave them, and for the built-in
    defaults against the briefbot checkout, so the cwd never decides where the archive is.
    """
    if path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    chosen = path or (DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None)

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=chosen)

    where = str(chosen) if chosen else "built-in defaults + environment"
    _check_series_env(chosen)
    try:
        loaded = _FromFile()
    except ValidationError as exc:
        raise ConfigError(_describe(exc, where)) from None
    except SettingsError as exc:  # an env value pydantic-settings could not decode
        raise ConfigError(_describe_env_error(exc, where)) from None
    except ValueError as exc:  # TOML syntax errors surface as ValueError subclasses
        raise ConfigError(f"{where}: {exc}") from None
    loaded._origin = f"config {chosen.resolve()}" if chosen else "built-in defaults"
    return _resolve_paths(loaded, chosen.resolve().parent if chosen else None)


def _check_series_env(chosen: Path | None) -> None:
    """BRIEFBOT_SERIES_* would replace a whole [[series]] list with one table: refused."""
    import tomllib

    names = sorted(k for k in os.environ if k.upper().startswith("BRIEFBOT_SERIES"))
    if not names or chosen is None:
        return
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # loading the file reports it
    if isinstance(data.get("series"), list):
        raise ConfigError(
            f"{names[0]}: environment overrides apply to one [series] table, not to "
            f"[[series]]; set the value in {chosen}"
        )


def _from_env(*names: str) -> bool:
    wanted = {f"BRIEFBOT_{name}".upper() for name in names}
    return any(key.upper() in wanted for key in os.environ)


def _resolve_paths(settings: Settings, config_dir: Path | None) -> Settings:
    url_base = Path.cwd() if _from_env("STORAGE", "STORAGE_URL") else config_dir
    source_base = Path.cwd() if _from_env("SOURCES") else config_dir
    url, sources = settings.storage.url, settings.sources
    several = [] if isinstance(settings.series, SeriesSettings) else settings.series
    everything = [*sources, *(s for one in several for s in one.sources or ())]
    needs_root = with_base_dir(url, Path("/")) != url and url_base is None
    needs_root |= source_base is None and any(
        s.kind == "folder" and not Path(s.path).expanduser().is_absolute() for s in everything
    )
    root = _checkout_root() if needs_root else None
    storage = settings.storage.model_copy(
        update={"url": with_base_dir(url, url_base or root or Path.cwd())}
    )
    base = source_base or root or Path.cwd()
    update: dict[str, Any] = {
        "storage": storage,
        "sources": [_resolve_source(s, base) for s in sources],
    }
    if several:
        update["series"] = [
            one
            if one.sources is None
            else one.model_copy(update={"sources": [_resolve_source(s, base) for s in one.sources]})
            for one in several
        ]
    return settings.model_copy(update=update)


def _resolve_source(source: SourceSettings, base: Path) -> SourceSettings:
    if source.kind != "folder":
        return source  # a git source's path is a glob inside the repository
    path = Path(source.path).expanduser()
    return source.model_copy(update={"path": str(path if path.is_absolute() else base / path)})


def _checkout_root() -> Path:
    """Where the built-in defaults live: the checkout holding samples/ (or the cwd if it does)."""
    for candidate in (PACKAGE_ROOT, Path.cwd()):
        if (candidate / "samples").is_dir():
            return candidate.resolve()
    raise ConfigError(
        "no config file and no briefbot checkout with samples/ to use the built-in defaults: "
        "pass --config FILE or create ./config.toml (see config.example.toml)"
    )


def describe_setup(settings: Settings) -> str:
    """One line for the start of run/ingest/tick: which archive and which sources."""
    views = settings.series_views()
    if len(views) == 1:
        sources = "; ".join(_describe_source(s) for s in settings.sources) or "none"
    else:
        sources = "; ".join(
            f"{view.primary_series.slug}: "
            + (", ".join(_describe_source(s) for s in view.sources) or "none")
            for view in views
        )
    return f"archive: {redact(settings.storage.url)} ({settings.origin}); sources: {sources}"


def _describe_source(source: SourceSettings) -> str:
    if source.kind == "folder":
        return f"folder {source.path}"
    if source.kind == "git":
        return f"git {redact_url(source.url)} {source.branch}:{source.path}"
    return f"http {len(source.urls)} URL(s)"


def redact_url(url: str) -> str:
    """A URL without its user info (a git URL may carry a token)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def _describe(exc: ValidationError, where: str) -> str:
    """One line: every error with its dotted key; never the input value (it may be secret)."""
    problems = []
    for err in exc.errors():
        loc = _untagged(err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if not loc:  # checks across sections name their keys themselves
            problems.append(msg)
            continue
        env = _env_name(err["loc"])
        label = f"{key} ({env})" if env else key
        # Section checks name their keys in full ("wechat.app_id is set but ...").
        problems.append(msg if msg.startswith(f"{key}.") else f"{label}: {msg}")
    return f"invalid configuration ({where}): " + "; ".join(problems)


def _untagged(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The key without the union's tag: `series.many.1.slug` is `series.1.slug`."""
    if len(loc) > 1 and loc[0] == "series" and loc[1] in ("one", "many"):
        return (loc[0], *loc[2:])
    return loc


def _env_name(loc: tuple[int | str, ...]) -> str | None:
    """The environment variable that set this key, if one did (operators look there)."""
    if len(loc) < 2:
        return None
    name = f"BRIEFBOT_{loc[0]}_{loc[1]}".upper()
    return name if any(k.upper() == name for k in os.environ) else None


def _describe_env_error(exc: SettingsError, where: str) -> str:
    match = re.search(r'field "([^"]+)"', str(exc))
    field = match.group(1) if match else "a setting"
    return (
        f"invalid configuration ({where}): {field} (environment BRIEFBOT_{field.upper()}_*): "
        "a value is not valid JSON (tables and lists of tables take JSON; plain lists also "
        "take 1,2)"
    )
