"""Platform-neutral command core: parsed commands in, rendered replies out.

Adapters (bot/platforms/*) turn a platform update into an `Incoming`, call
`Core.handle_text` / `Core.handle_button`, and send the returned `Reply`s.
Nothing here knows about Telegram or WeChat.
"""

from bot.commands.core import Core
from bot.commands.deps import CoreDeps, Publisher
from bot.commands.flood import FloodGuard, FloodPolicy, Verdict
from bot.commands.parsing import parse_command
from bot.commands.rendering import renderer_for
from bot.commands.types import (
    CALLBACK_DATA_MAX_BYTES,
    Button,
    Chat,
    Incoming,
    Invocation,
    Reply,
)

__all__ = [
    "CALLBACK_DATA_MAX_BYTES",
    "Button",
    "Chat",
    "Core",
    "CoreDeps",
    "FloodGuard",
    "FloodPolicy",
    "Incoming",
    "Invocation",
    "Publisher",
    "Reply",
    "Verdict",
    "parse_command",
    "renderer_for",
]
