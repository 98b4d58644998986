"""Who may change a group's subscription: the port to the platform, and a short cache.

The command core cannot ask Telegram who a group's admins are, so the entry point
injects a `ChatAdmins` per platform (`CoreDeps.chat_admins`). A platform without one
(the terminal, WeChat, WeCom) keeps the old rule: anyone in the chat may change it.
Answers are cached briefly: a reader toggling ten buttons costs one lookup, and a
member who was just made admin waits at most `TTL_SECONDS`.
"""

from __future__ import annotations

import logging
from typing import Final, Protocol

from bot.commands.types import Chat

log = logging.getLogger(__name__)

TTL_SECONDS: Final = 60.0
MAX_ENTRIES: Final = 4096  # one per (chat, user) seen within a minute; bounded anyway


class ChatAdmins(Protocol):
    async def is_admin(self, chat: Chat, user_id: str) -> bool:
        """Whether `user_id` administers `chat` (its owner included). May raise when the
        platform cannot tell (network, rights); the caller refuses without caching."""
        ...


class AdminCache:
    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._answers: dict[tuple[str, str, str], tuple[float, bool]] = {}

    async def is_admin(self, port: ChatAdmins, chat: Chat, user_id: str, now: float) -> bool:
        key = (chat.platform, chat.chat_id, user_id)
        cached = self._answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        answer = await port.is_admin(chat, user_id)
        self._remember(key, answer, now)
        return answer

    def _remember(self, key: tuple[str, str, str], answer: bool, now: float) -> None:
        self._answers.pop(key, None)
        if len(self._answers) >= self._max:
            self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
        while len(self._answers) >= self._max:  # all fresh: drop the oldest
            del self._answers[next(iter(self._answers))]
        self._answers[key] = (now + self._ttl, answer)
