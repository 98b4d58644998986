"""Telegram's answer to "is this user an admin of this group?" for the command core.

Implements `bot.commands.group_admins.ChatAdmins` with getChatMember; the core caches
the answers briefly, so a burst of toggle presses costs one call.
"""

from __future__ import annotations

from typing import Final

from telegram import Bot
from telegram.constants import ChatID, ChatMemberStatus

from bot.commands import Chat

ADMIN_STATUSES: Final = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})


class TelegramChatAdmins:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def is_admin(self, chat: Chat, user_id: str) -> bool:
        if not user_id.lstrip("-").isdigit():
            return False  # no user (a channel post): nobody to ask about
        if int(user_id) == ChatID.ANONYMOUS_ADMIN:
            # An admin posting as the group: only admins can, and getChatMember does not
            # know this placeholder user.
            return True
        member = await self._bot.get_chat_member(chat_id=int(chat.chat_id), user_id=int(user_id))
        return member.status in ADMIN_STATUSES
