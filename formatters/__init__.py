"""Pure renderers from the briefing model to ready-to-send chat messages (no I/O)."""

from .base import (
    CONSOLE_LIMITS,
    EN,
    TELEGRAM_LIMITS,
    WECHAT_LIMITS,
    WECOM_APP_LIMITS,
    WECOM_ROBOT_LIMITS,
    ZH,
    Format,
    Labels,
    Limits,
    Message,
    Renderer,
    SizeUnit,
)
from .console import ConsoleRenderer
from .search import SearchHitLike, SearchPageLike
from .telegram import TelegramRenderer
from .views import select_entries
from .wechat import WeChatRenderer
from .wecom import WeComRenderer

__all__ = [
    "CONSOLE_LIMITS",
    "EN",
    "TELEGRAM_LIMITS",
    "WECHAT_LIMITS",
    "WECOM_APP_LIMITS",
    "WECOM_ROBOT_LIMITS",
    "ZH",
    "ConsoleRenderer",
    "Format",
    "Labels",
    "Limits",
    "Message",
    "Renderer",
    "SearchHitLike",
    "SearchPageLike",
    "SizeUnit",
    "TelegramRenderer",
    "WeChatRenderer",
    "WeComRenderer",
    "select_entries",
]
