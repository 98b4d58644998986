"""Building the updates a test injects: messages, commands, channel posts, button presses."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.telegram_chats import ChatInfo
from tests.fakes.telegram_entities import utf16_len

# Telegram marks "/cmd" and "/cmd@some_bot" as bot_command wherever a word starts with "/".
COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![^\s])")


@dataclass(frozen=True)
class FakeUser:
    id: int
    first_name: str = "Test"
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_json(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


def command_entities(text: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in COMMAND.finditer(text)
    ]


def incoming_message(
    chat: ChatInfo, message_id: int, text: str, sender: FakeUser | None
) -> dict[str, Any]:
    """A message written by a user (or, without sender, posted in a channel)."""
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat.to_json(),
        "text": text,
    }
    if sender is None:
        message["sender_chat"] = chat.to_json()
    else:
        message["from"] = sender.to_json()
    entities = command_entities(text)
    if entities:
        message["entities"] = entities
    return message


def callback_query(
    query_id: str, sender: FakeUser, message: dict[str, Any], data: str
) -> dict[str, Any]:
    return {
        "id": query_id,
        "from": sender.to_json(),
        "message": message,
        "chat_instance": f"instance-{message['chat']['id']}",
        "data": data,
    }
