"""A sender that prints to a stream: local trials and the console chat platform."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO


class ConsoleSender:
    platform = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def chat_kind(self, chat_id: str) -> str:
        return "user"

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> None:
        stream = self._stream or sys.stdout
        stream.write(f"── to console:{chat_id} ──\n{message.get('text', '')}\n")
        stream.flush()
