"""The terminal: a chat on stdin/stdout serving the bot's commands, and its sender.

`configured(settings)`: the console sender always exists (deliveries to the terminal
subscriber are printed by any process); whether the terminal is also the chat is the
composition root's choice (`bot.app`: when no other chat platform is configured).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def configured(settings: Settings) -> bool:
    return True
