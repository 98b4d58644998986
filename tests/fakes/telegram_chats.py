"""The chats the fake server knows, and how each one refuses the bot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tests.fakes.telegram_errors import ApiError, chat_migrated, chat_not_found, forbidden

CHAT_TYPES = ("private", "group", "supergroup", "channel")
INTEGER = re.compile(r"-?\d{1,20}")


class ChatStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # the user blocked the bot
    DEACTIVATED = "deactivated"  # the user deleted their account
    KICKED = "kicked"  # the bot was removed from the group
    UNKNOWN = "unknown"  # Telegram has never heard of it
    MIGRATED = "migrated"  # a group upgraded to a supergroup


def infer_chat_type(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


@dataclass
class ChatInfo:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    status: ChatStatus = ChatStatus.ACTIVE
    migrate_to_chat_id: int | None = None
    last_message_id: int = 0
    # getChatMember: user id -> "creator" | "administrator" | "member" | "left" | "kicked";
    # a user not listed is an ordinary member (they wrote in the chat).
    members: dict[int, str] = field(default_factory=dict)

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def to_json(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or f"User {self.id}"
            if self.last_name:
                chat["last_name"] = self.last_name
        else:
            chat["title"] = self.title or f"Chat {self.id}"
        if self.username:
            chat["username"] = self.username
        return chat

    def refusal(self) -> ApiError | None:
        """What Telegram says when the bot writes here, or None if it may."""
        match self.status:
            case ChatStatus.BLOCKED:
                return forbidden("bot was blocked by the user")
            case ChatStatus.DEACTIVATED:
                return forbidden("user is deactivated")
            case ChatStatus.KICKED:
                kind = "supergroup chat" if self.type == "supergroup" else "group chat"
                return forbidden(f"bot was kicked from the {kind}")
            case ChatStatus.UNKNOWN:
                return chat_not_found()
            case ChatStatus.MIGRATED:
                return chat_migrated(self.migrate_to_chat_id or 0)
        return None


class ChatRegistry:
    """Chats by id. Unregistered ids are created on first use unless `strict`."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self._chats: dict[int, ChatInfo] = {}

    def __iter__(self) -> Iterator[ChatInfo]:
        return iter(self._chats.values())

    def get(self, chat_id: int) -> ChatInfo | None:
        return self._chats.get(chat_id)

    def ensure(self, chat_id: int, chat_type: str | None = None, **fields: Any) -> ChatInfo:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat_type = chat_type or infer_chat_type(chat_id)
            if chat_type not in CHAT_TYPES:
                raise ValueError(f"unknown chat type {chat_type!r}")
            chat = self._chats[chat_id] = ChatInfo(chat_id, chat_type)
        for name, value in fields.items():
            if value is not None:
                setattr(chat, name, value)
        return chat

    def lookup(self, raw_chat_id: str) -> ChatInfo:
        """The chat a request names, or Telegram's "chat not found"."""
        if raw_chat_id.startswith("@"):
            return self._by_username(raw_chat_id[1:])
        if not INTEGER.fullmatch(raw_chat_id):
            raise chat_not_found()
        chat_id = int(raw_chat_id)
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict or chat_id == 0:
                raise chat_not_found()
            chat = self.ensure(chat_id)
        if chat.status is ChatStatus.UNKNOWN:
            raise chat_not_found()
        return chat

    def writable(self, raw_chat_id: str) -> ChatInfo:
        """The chat, provided the bot may act in it (blocked, kicked, migrated… refuse)."""
        chat = self.lookup(raw_chat_id)
        refusal = chat.refusal()
        if refusal is not None:
            raise refusal
        return chat

    def _by_username(self, username: str) -> ChatInfo:
        for chat in self._chats.values():
            public = chat.type in ("channel", "supergroup")
            if public and (chat.username or "").lower() == username.lower():
                if chat.status is ChatStatus.UNKNOWN:
                    break
                return chat
        raise chat_not_found()
