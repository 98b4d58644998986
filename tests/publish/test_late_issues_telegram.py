"""Every finished issue reaches readers, end to end on the local Bot API server: the
replayed history of tests/publish/test_late_issues.py through `briefbot tick --now
--deliver`, a Chinese and an English reader each getting exactly one push of the late
issue and of the issue with a repaired defect, in their language."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import publishing
from bot.config import Settings, TelegramSettings
from bot.runtime import Runtime
from tests.fakes.telegram_fixtures import ServerFactory, telegram_server_factory_fixture
from tests.fakes.telegram_server import FakeTelegramServer
from tests.publish.helpers import KEY, add_subscriber, briefing, make_runtime, utc
from tests.publish.test_late_issues import skeleton, with_repaired_defect
from tests.publish.test_lifecycle import Desk

__all__ = ["telegram_server_factory_fixture"]

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
REPAIRED = date(2026, 11, 9)
ZH, EN = 1001, 1002


async def tick(runtime: Runtime, now: str) -> None:
    parser = argparse.ArgumentParser(prog="briefbot")
    publishing.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["tick", "--now", now, "--deliver"])
    assert await args.handler(args, runtime) == 0


def issues_in(server: FakeTelegramServer, chat: int) -> list[str]:
    """The first message of each push the chat got (the issue's header)."""
    return [
        m.visible_text.split("\n", 1)[0]
        for m in server.messages_in(chat)
        if m.visible_text.startswith("嵌入式AI简报 (")
    ]


async def test_a_late_issue_and_a_repaired_one_reach_each_reader_once(
    engine: AsyncEngine,
    tmp_path: Path,
    telegram_server_factory: ServerFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = await telegram_server_factory()
    desk = Desk("folder", tmp_path)
    telegram = TelegramSettings(token=server.token, base_url=server.base_url)
    runtime = make_runtime(engine, Settings(sources=[desk.source], telegram=telegram))
    await add_subscriber(runtime, f"telegram:{ZH}")
    await add_subscriber(runtime, f"telegram:{EN}", language="en")

    desk.write(skeleton())  # the day's file, still empty, on its date
    await tick(runtime, utc(11, 2, 0, 30).isoformat())
    await tick(runtime, utc(11, 2, 1, 40).isoformat())  # due: held, nothing sent
    assert issues_in(server, ZH) == issues_in(server, EN) == []

    desk.write(briefing())  # filled four days later: a late issue
    desk.write(with_repaired_defect(REPAIRED), REPAIRED)  # and the next one, repaired
    await tick(runtime, utc(11, 6, 2, 0).isoformat())
    await tick(runtime, utc(11, 6, 2, 40).isoformat())  # the late one settled: sent
    await tick(runtime, utc(11, 9, 2, 0).isoformat())  # the repaired one, on its date
    await tick(runtime, utc(11, 9, 4, 0).isoformat())  # nothing twice
    capsys.readouterr()

    expected = [f"嵌入式AI简报 ({KEY}) 测试", f"嵌入式AI简报 ({REPAIRED}) 测试"]
    assert issues_in(server, ZH) == issues_in(server, EN) == expected
    chinese = "\n".join(m.visible_text for m in server.messages_in(ZH))
    english = "\n".join(m.visible_text for m in server.messages_in(EN))
    assert "业界新闻" in chinese and "Industry news" not in chinese
    assert "Industry news" in english and "业界新闻" not in english
