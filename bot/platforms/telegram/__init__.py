"""Telegram: the Bot API adapter (commands, buttons, polling or webhook), its delivery
sender and the aiohttp transport both use.

`configured(settings)` is the one answer to "is Telegram on"; this module stays free of
heavy imports so the CLI can ask it cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def configured(settings: Settings) -> bool:
    """A bot token: the adapter answers chats and the engine delivers to Telegram."""
    return settings.telegram.token is not None


def webhook_configured(settings: Settings) -> bool:
    """Updates arrive over HTTP (served by the web endpoint) instead of long polling."""
    return bool(settings.telegram.token and settings.telegram.webhook_url)
