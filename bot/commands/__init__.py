"""Platform-neutral command core: parsed commands in, rendered replies out.

Adapters (bot/platforms/*) turn a platform update into an `Incoming`, call
`Core.handle_text` / `Core.handle_button`, and send the returned `Reply`s.
Nothing here knows about Telegram or WeChat.

Map: `table.py` declares every command and button kind once (shapes in `spec.py`);
`parsing.py` turns text into an `Invocation`, `buttons.py` callback data into a typed
payload; `router.py` picks the handler and wraps it in `filters.py` (admin, groups);
`core.py` adds the flood guard and the per-request `Ctx` (`context.py`). Handlers:
`meta` (/start /help /stop), `browse`, `search`, `subscriptions`, `settings`, `admin`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.commands.core import Core
    from bot.commands.deps import CoreDeps, Publisher
    from bot.commands.flood import FloodGuard, FloodPolicy, Verdict
    from bot.commands.parsing import parse_command
    from bot.commands.types import (
        CALLBACK_DATA_MAX_BYTES,
        Button,
        Chat,
        Incoming,
        Invocation,
        Reply,
    )

# Loaded on first use: `import bot.commands.bounds` (the CLI's number checks) must not
# pay for the core, SQLAlchemy and every handler.
_HOMES = {
    "Core": "core",
    "CoreDeps": "deps",
    "Publisher": "deps",
    "FloodGuard": "flood",
    "FloodPolicy": "flood",
    "Verdict": "flood",
    "parse_command": "parsing",
    "CALLBACK_DATA_MAX_BYTES": "types",
    "Button": "types",
    "Chat": "types",
    "Incoming": "types",
    "Invocation": "types",
    "Reply": "types",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


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
]
