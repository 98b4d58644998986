"""The one renderer registry: which formatter renders for a platform, profile and language.

Chat replies (`bot.commands`), publications (`bot.publish.rendering`) and the Official
Account's mass sends all come here, so a setting that shapes messages
(`telegram.disable_preview`, `wechat.max_bytes`) applies to every message of a platform.

A profile is a variant of a platform's rendering: WeCom group robots ("wecom-robot")
take larger messages than WeCom application messages; every other platform has one
profile, named like it.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from bot.config import Settings
from formatters import (
    EN,
    WECOM_ROBOT_LIMITS,
    ZH,
    ConsoleRenderer,
    Limits,
    Renderer,
    TelegramRenderer,
    WeChatRenderer,
    WeComRenderer,
)

PROFILES: Final = {
    "telegram": ("telegram",),
    "wechat": ("wechat",),
    "wecom": ("wecom", "wecom-robot"),
    "console": ("console",),
}


def renderer_for(platform: str, profile: str | None, language: str, settings: Settings) -> Renderer:
    """The renderer of `platform` (its `profile`, default: the platform's own) in
    `language` ("en": English labels; anything else: Chinese), shaped by `settings`."""
    profile = profile or platform
    if profile not in PROFILES.get(platform, ()):
        raise ValueError(f"no renderer for platform {platform!r} profile {profile!r}")
    return _build(
        profile,
        "en" if language == "en" else "zh",
        previews=not settings.telegram.disable_preview,
        wechat_bytes=settings.wechat.max_bytes,
        public_url=settings.web.public_url,
    )


def platform_of(profile: str) -> str:
    """The platform a profile belongs to ("wecom-robot" → "wecom")."""
    return next((name for name, profiles in PROFILES.items() if profile in profiles), profile)


def series_language(settings: Settings) -> str:
    """The language the series of `settings` is written in: its first `languages`."""
    return settings.primary_series.languages[0]


def mass_send_renderer(settings: Settings) -> WeChatRenderer:
    """Official Account mass sends: in the series' language (a tag's followers share no
    language of their own; a series' issues do)."""
    renderer = renderer_for("wechat", None, series_language(settings), settings)
    assert isinstance(renderer, WeChatRenderer)
    return renderer


@cache  # keyed by the few values that shape a renderer; renderers are immutable
def _build(
    profile: str, language: str, *, previews: bool, wechat_bytes: int, public_url: str
) -> Renderer:
    labels = EN if language == "en" else ZH
    renderer: Renderer
    if profile == "telegram":
        renderer = TelegramRenderer(labels, issue_link_previews=previews)
    elif profile == "wechat":
        renderer = WeChatRenderer(labels, Limits(wechat_bytes, "bytes"))
    elif profile == "wecom":
        renderer = WeComRenderer(labels)
    elif profile == "wecom-robot":
        renderer = WeComRenderer(labels, WECOM_ROBOT_LIMITS)
    else:
        renderer = ConsoleRenderer(labels)
    # Every issue shown (pushes, /latest, /issue) links its web page when the site is public.
    return renderer.with_web(public_url) if public_url else renderer
