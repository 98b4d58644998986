"""Admin alerts end to end on the local Bot API server (issue 14): an issue held as
unfinished and one published with defects the parser repaired reach the admins' chats,
each parser warning said in the notifier's language: Chinese for the bot's admins (no
English warning sentence), English where the notifier speaks English."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.config import Settings, SourceSettings
from bot.platforms.telegram.sender import TelegramSender
from bot.publish.alerts import FanoutNotifier, SenderNotifier
from bot.publish.cycle import build_cycle
from formatters import EN, TelegramRenderer
from tests.fakes.telegram_fixtures import ServerFactory, telegram_server_factory_fixture
from tests.publish.helpers import KEY, add_subscriber, briefing, deliveries, make_runtime, utc
from tests.publish.test_late_issues import with_repaired_defect

__all__ = ["telegram_server_factory_fixture"]

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
ZH_ADMIN, EN_ADMIN = 777, 888
UNFINISHED = date(2026, 11, 9)


async def test_hold_and_repair_alerts_reach_admins_in_their_language(
    engine: AsyncEngine, tmp_path: Path, telegram_server_factory: ServerFactory
) -> None:
    server = await telegram_server_factory()
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / f"{KEY}.md").write_text(with_repaired_defect(), encoding="utf-8")
    unfinished = briefing(UNFINISHED, unfinished=True)
    (folder / f"{UNFINISHED}.md").write_text(unfinished, encoding="utf-8")
    settings = Settings(sources=[SourceSettings(kind="folder", path=str(folder))])
    runtime = make_runtime(engine, settings)
    await add_subscriber(runtime, "telegram:1001")
    clock = FixedClock(utc(11, 1, 2))
    async with TelegramSender.open(server.token, server.base_url, read_timeout=2) as sender:
        notifier = FanoutNotifier(
            [
                SenderNotifier(sender, [ZH_ADMIN], TelegramRenderer()),
                SenderNotifier(sender, [EN_ADMIN], TelegramRenderer(EN)),
            ]
        )
        cycle = build_cycle(runtime, clock, notifier, cache_dir=tmp_path / "cache")
        await cycle.run_once()  # both seen before their dates
        clock.set(utc(11, 2, 2))
        await cycle.run_once()  # KEY: published, its repaired defect reported
        clock.set(utc(11, 9, 2))
        await cycle.run_once()  # UNFINISHED: held

    assert list(await deliveries(runtime)) == ["telegram:1001"]  # KEY went out
    assert await deliveries(runtime, UNFINISHED) == {}  # the unfinished one did not
    zh = "\n".join(m.visible_text for m in server.messages_in(ZH_ADMIN))
    en = "\n".join(m.visible_text for m in server.messages_in(EN_ADMIN))
    assert f"已推送 {KEY} 这一期，其中有解析器修复过的问题" in zh
    assert "条目链接后多出的文字已放进摘要：'https://example.com/n2 重复链接'" in zh
    assert "已暂扣" in zh and "条目里的“[”没有闭合" in zh
    for english in ("text after the item's links", "unclosed '['", "has no entries"):
        assert english not in zh
    assert "text after the item's links kept in the summary" in en
    assert "Held " in en and "unclosed '[' in item" in en
    assert "已暂扣" not in en and "条目" not in en
