"""The renderer of a chat: its platform's markup in the subscriber's language."""

from __future__ import annotations

from functools import cache

from formatters import (
    EN,
    ZH,
    ConsoleRenderer,
    Renderer,
    TelegramRenderer,
    WeChatRenderer,
    WeComRenderer,
)

_RENDERERS = {
    "telegram": TelegramRenderer,
    "wechat": WeChatRenderer,
    "wecom": WeComRenderer,
    "console": ConsoleRenderer,
}


@cache
def renderer_for(platform: str, language: str) -> Renderer:
    """telegram → TelegramRenderer, wechat → WeChatRenderer, wecom → WeComRenderer,
    console → ConsoleRenderer; English labels for "en", Chinese otherwise."""
    try:
        cls = _RENDERERS[platform]
    except KeyError:
        raise ValueError(f"no renderer for platform {platform!r}") from None
    return cls(EN if language == "en" else ZH)
