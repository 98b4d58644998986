"""Admin alerts through a platform Sender, a stream, or several notifiers."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from bot.delivery.types import ChatGone
from bot.publish.alerts import Alert, FanoutNotifier, SenderNotifier, StreamNotifier
from bot.publish.publisher import hold_text
from briefings.model import Series
from briefings.parser import parse_issue
from briefings.taxonomy import Taxonomy
from formatters import TelegramRenderer
from tests.publish.helpers import briefing

ISSUE = parse_issue(
    briefing(unfinished=True), "x.md", Series("embedded-ai", "嵌入式AI简报"), Taxonomy.default()
)
ALERT = Alert(hold_text(ISSUE, ("section '应用' has no entries",)), ISSUE)


class FakeSender:
    platform = "telegram"

    def __init__(self, gone: set[str]) -> None:
        self.gone = gone
        self.sent: list[tuple[str, Mapping[str, Any]]] = []

    def chat_kind(self, chat_id: str) -> str:
        return "private"

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> None:
        if chat_id in self.gone:
            raise ChatGone("blocked")
        self.sent.append((chat_id, message))


async def test_sender_notifier_reaches_every_admin_it_can() -> None:
    sender = FakeSender(gone={"111"})
    await SenderNotifier(sender, [111, 222], TelegramRenderer()).alert(ALERT)
    chats = {chat for chat, _ in sender.sent}
    assert chats == {"222"}
    texts = [m["text"] for _, m in sender.sent]
    assert "/publish 2026-11-02" in texts[0]
    assert any("论文" in t for t in texts[1:])  # the preview: header and contents
    assert all(m["format"] == "html" for _, m in sender.sent)


async def test_stream_and_fanout() -> None:
    stream = io.StringIO()

    class Broken:
        async def alert(self, alert: Alert) -> None:
            raise RuntimeError("down")

    await FanoutNotifier([Broken(), StreamNotifier(stream)]).alert(ALERT)
    text = stream.getvalue()
    assert "Held 嵌入式AI简报 (2026-11-02) 测试 [2026-11-02]" in text
    assert "【嵌入式AI简报 (2026-11-02) 测试】" in text
