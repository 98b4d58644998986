"""Playing a Telegram user against the running adapter, and reading what the bot did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.platforms.telegram.adapter import TelegramPlatform
from bot.runtime import Runtime
from storage.subscribers import Subscriber, get_subscriber
from tests.fakes.telegram_markup import inline_buttons
from tests.fakes.telegram_messages import StoredMessage
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.telegram_state import ApiCall

ADMIN_ID = 777
ZH_USER = "zh-hans"


@dataclass
class Harness:
    server: FakeTelegramServer
    runtime: Runtime
    platform: TelegramPlatform
    expect_refusals: bool = False  # set by tests that provoke refusals on purpose

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every injected update was fetched and fully answered."""
        server = self.server
        await server.wait_until(lambda: not server.pending_updates, timeout, "updates fetched")
        await self.platform.application.update_queue.join()

    async def say(self, chat_id: int, text: str, **kw: Any) -> list[StoredMessage]:
        """A user writes `text`; the bot's new messages in that chat."""
        kw.setdefault("language_code", ZH_USER)
        before = len(self.server.messages_in(chat_id))
        self.server.inject_message(chat_id, text, **kw)
        await self.settle()
        return self.server.messages_in(chat_id)[before:]

    async def press(
        self, message: StoredMessage, *, text: str | None = None, data: str | None = None,
        **kw: Any,
    ) -> tuple[str, list[StoredMessage]]:  # fmt: skip
        """Press a button of `message`; the query id and the bot's new messages."""
        kw.setdefault("language_code", ZH_USER)
        before = len(self.server.messages_in(message.chat_id))
        query_id = self.server.press_button(
            message.chat_id, message.message_id, text=text, data=data, **kw
        )
        await self.settle()
        return query_id, self.server.messages_in(message.chat_id)[before:]

    def current(self, message: StoredMessage) -> StoredMessage:
        found = self.server.message(message.chat_id, message.message_id)
        assert found is not None
        return found

    def refused(self) -> list[ApiCall]:
        return [c for c in self.server.calls if c.status not in (None, 200)]

    async def subscriber(self, chat_id: int) -> Subscriber | None:
        async with self.runtime.sessions() as session:
            return await get_subscriber(session, "telegram", str(chat_id))


def button_texts(message: StoredMessage) -> list[str]:
    return [b["text"] for b in inline_buttons(message.reply_markup)]


def visible(messages: list[StoredMessage]) -> str:
    return "\n".join(m.visible_text for m in messages)
