"""Every finished issue reaches readers, end to end on the local WeCom server (issue 14):
the replayed history of tests/publish/test_late_issues.py, committed to a git source as
the curators committed it (a skeleton on its date, filled four days later; the next
issue finished with a defect the parser repairs), through `briefbot tick --now
--deliver`. A Chinese and an English WeCom member each get exactly one push of the late
issue and of the repaired one, in their language."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import publishing
from bot.config import Settings
from bot.runtime import Runtime
from storage.subscribers import ALL, get_subscriber, update_settings
from tests.fakes.wechat_server import FakeWeChatServer
from tests.publish.helpers import KEY, briefing, make_runtime, summary_of, utc
from tests.publish.test_late_issues import skeleton, with_repaired_defect
from tests.publish.test_lifecycle import Desk
from tests.wechat.helpers import settings_for
from tests.wechat.test_wecom import add_members

REPAIRED = date(2026, 11, 9)
ZH, EN = "zhangsan", "emma"
TITLES = [f"嵌入式AI简报 ({KEY}) 测试", f"嵌入式AI简报 ({REPAIRED}) 测试"]


async def tick(runtime: Runtime, capsys: pytest.CaptureFixture[str], at: str) -> str:
    parser = argparse.ArgumentParser(prog="briefbot")
    publishing.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["tick", "--now", at, "--deliver"])
    assert await args.handler(args, runtime) == 0
    out, err = capsys.readouterr()
    return out + err


def pushes(server: FakeWeChatServer, userid: str) -> list[str]:
    """The issues a member got: the title heading that opens each push's first message
    (`## title` in WeCom markdown)."""
    heads = [text.split("\n", 1)[0] for text in server.wecom.inbox(userid)]
    return [head.removeprefix("## ") for head in heads if head.removeprefix("## ") in TITLES]


async def test_a_late_issue_and_a_repaired_one_reach_each_wecom_member_once(
    engine: AsyncEngine,
    tmp_path: Path,
    wechat_server: FakeWeChatServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    desk = Desk("git", tmp_path)
    wecom = settings_for(wechat_server).wecom
    runtime = make_runtime(engine, Settings(sources=[desk.source], wecom=wecom))
    await add_members(runtime, wechat_server, {ZH: (ALL,), EN: (ALL,)})
    async with runtime.sessions.begin() as session:
        english = await get_subscriber(session, "wecom", EN)
        assert english is not None
        await update_settings(session, english.id, language="en")

    desk.write(skeleton())  # committed on its date, still empty
    await tick(runtime, capsys, utc(11, 2, 0, 30).isoformat())
    said = await tick(runtime, capsys, utc(11, 2, 1, 40).isoformat())  # due: held
    assert "looks unfinished" in said
    assert (await summary_of(runtime)).held_at is not None
    assert wechat_server.wecom.inbox(ZH) == wechat_server.wecom.inbox(EN) == []

    desk.write(briefing())  # filled four days later: a late issue, not a stale one
    desk.write(with_repaired_defect(REPAIRED), REPAIRED)  # the next one, repaired
    await tick(runtime, capsys, utc(11, 6, 2, 0).isoformat())  # settling: nothing yet
    assert wechat_server.wecom.inbox(ZH) == wechat_server.wecom.inbox(EN) == []
    await tick(runtime, capsys, utc(11, 6, 2, 40).isoformat())  # settled: pushed
    assert pushes(wechat_server, ZH) == pushes(wechat_server, EN) == TITLES[:1]
    await tick(runtime, capsys, utc(11, 9, 2, 0).isoformat())  # the repaired one, on its date
    await tick(runtime, capsys, utc(11, 9, 4, 0).isoformat())  # nothing twice
    await tick(runtime, capsys, utc(11, 10, 4, 0).isoformat())

    assert pushes(wechat_server, ZH) == pushes(wechat_server, EN) == TITLES
    chinese = "\n".join(wechat_server.wecom.inbox(ZH))
    english_text = "\n".join(wechat_server.wecom.inbox(EN))
    assert "业界新闻" in chinese and "Industry news" not in chinese
    assert "Industry news" in english_text and "业界新闻" not in english_text
    # the repaired defect's text reached them as the parser kept it, in the summary
    assert chinese.count("重复链接") == english_text.count("重复链接") == 1
    # every message once: a push repeated in part would show a text twice
    for userid in (ZH, EN):
        inbox = wechat_server.wecom.inbox(userid)
        assert len(inbox) == len(set(inbox)), userid
