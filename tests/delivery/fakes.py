"""In-memory senders and a virtual clock for engine tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

Outcome = BaseException | None
Hook = Callable[[str, Mapping[str, Any]], Awaitable[None]]


class FakeClock:
    """Monotonic time that only `sleep` advances (sleeps still yield to the loop)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class ScriptedSender:
    """Succeeds unless the chat's script says otherwise (one outcome per attempt)."""

    def __init__(
        self,
        platform: str = "telegram",
        script: Mapping[str, list[Outcome]] | None = None,
        before_send: Hook | None = None,
        delay: float = 0.0,
    ) -> None:
        self.platform = platform
        self.script = {chat: list(outcomes) for chat, outcomes in (script or {}).items()}
        self.before_send = before_send
        self.delay = delay
        self.sent: list[tuple[str, str]] = []  # (chat id, text) accepted
        self.attempts: list[str] = []  # chat ids, every attempt

    def chat_kind(self, chat_id: str) -> str:
        return "group" if chat_id.startswith("-") else "private"

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> None:
        self.attempts.append(chat_id)
        if self.before_send is not None:
            await self.before_send(chat_id, message)
        if self.delay:
            await asyncio.sleep(self.delay)
        outcomes = self.script.get(chat_id)
        if outcomes:
            outcome = outcomes.pop(0)
            if outcome is not None:
                raise outcome
        self.sent.append((chat_id, message["text"]))

    def texts_to(self, chat_id: int | str) -> list[str]:
        return [text for chat, text in self.sent if chat == str(chat_id)]
