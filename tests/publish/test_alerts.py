"""Admin alerts through a platform Sender, a stream, or several notifiers."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from bot.delivery.types import ChatGone
from bot.publish.alerts import Alert, FanoutNotifier, SenderNotifier, StreamNotifier
from bot.publish.publisher import hold_alert
from bot.publish.rule import unfinished_defects
from briefings.model import Series
from briefings.parser import parse_issue
from briefings.taxonomy import Taxonomy
from formatters import EN, ConsoleRenderer, TelegramRenderer
from tests.publish.helpers import briefing

ISSUE = parse_issue(
    briefing(unfinished=True), "x.md", Series("embedded-ai", "嵌入式AI简报"), Taxonomy.default()
)
ALERT = hold_alert(ISSUE, tuple(unfinished_defects(ISSUE)), Taxonomy.default())


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
    assert "已暂扣 嵌入式AI简报 (2026-11-02) 测试 [2026-11-02]" in text
    assert "【嵌入式AI简报 (2026-11-02) 测试】" in text


async def test_a_notifier_speaks_its_renderers_language() -> None:
    """Admins have no language of their own: a notifier built with English labels (the
    CLI's) gets the English text and an English preview, Chinese ones the Chinese."""
    english, chinese = io.StringIO(), io.StringIO()
    await StreamNotifier(english, ConsoleRenderer(EN)).alert(ALERT)
    await StreamNotifier(chinese).alert(ALERT)
    en, zh = english.getvalue(), chinese.getvalue()
    assert "Held 嵌入式AI简报 (2026-11-02) 测试 [2026-11-02]: it looks unfinished." in en
    assert "- line" in en and "section “Applications” has no entries" in en
    assert "• Papers — 2 entries" in en and "• Blog posts — 1 entry\n" in en
    assert "• Applications — 0 entries" in en and "7 entries in total" in en
    assert "论文" not in en and "已暂扣" not in en
    assert "栏目“应用”没有条目" in zh and "• 论文 — 2 条" in zh and "• 应用 — 0 条" in zh
    assert "Held" not in zh and "Papers" not in zh
