"""Telegram updates as the command core sees them: `Incoming`, and where to answer."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from telegram import CallbackQuery, MaybeInaccessibleMessage, User
from telegram import Chat as TgChat
from telegram import Message as TgMessage

from bot.commands import Chat, Incoming
from bot.commands.types import ChatKind

PLATFORM = "telegram"
_KINDS: dict[str, ChatKind] = {
    TgChat.PRIVATE: "private",
    TgChat.GROUP: "group",
    TgChat.SUPERGROUP: "group",
    TgChat.CHANNEL: "channel",
}


@dataclass(frozen=True, slots=True)
class Where:
    """Where replies go: the chat, a forum topic in it, and the pressed message (if any)."""

    chat_id: int
    thread_id: int | None = None
    pressed_message_id: int | None = None


def core_chat(chat: TgChat) -> Chat:
    return Chat(PLATFORM, str(chat.id), _KINDS.get(chat.type, "private"))


def incoming(chat: TgChat, user: User | None, text: str, admins: Collection[int]) -> Incoming:
    return Incoming(
        chat=core_chat(chat),
        user_id=str(user.id) if user else "",
        text=text,
        language_code=user.language_code if user else None,
        is_admin=user is not None and user.id in admins,
    )


def _thread(message: MaybeInaccessibleMessage) -> int | None:
    # Replies to a message in a forum topic must name the topic or land in "General".
    if isinstance(message, TgMessage) and message.is_topic_message:
        return message.message_thread_id
    return None


def text_target(message: TgMessage) -> Where:
    return Where(message.chat.id, _thread(message))


def button_target(query: CallbackQuery) -> Where | None:
    """None for presses on inline-mode messages, which have no chat to answer in."""
    message = query.message
    if message is None:
        return None
    # An inaccessible (too old) message cannot be edited: answer with a new one.
    pressed = message.message_id if isinstance(message, TgMessage) else None
    return Where(message.chat.id, _thread(message), pressed)
