"""What the Official Account and WeCom callbacks share about incoming messages."""

from __future__ import annotations

from typing import Any, Final, Protocol

from bot.commands import Incoming, Invocation, Reply

HELP: Final = "帮助"
START: Final = "开始"


class TextCore(Protocol):
    """The command core as both callbacks see it: text in, replies out."""

    async def handle_text(self, incoming: Incoming) -> list[Reply]: ...

    def parse(self, text: str, platform: str) -> Invocation | None: ...


def dedup_key(msg: Any) -> str:
    """MsgId for messages; sender + CreateTime (+ event) for events, which have none."""
    if getattr(msg, "id", 0):
        return f"msg:{msg.id}"
    return f"event:{msg.source}:{msg.time}:{getattr(msg, 'event', '')}"
