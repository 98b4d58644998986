"""`briefbot tick --deliver` also pushes to WeCom robots (no web service, no engine sender)."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from bot.cli import publishing
from bot.config import PublishSettings
from bot.runtime import Runtime
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.helpers import ROBOT_KEY, settings_for


async def test_tick_deliver_pushes_the_published_issue_to_a_robot(
    runtime: Runtime, wechat_server: FakeWeChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(wechat_server, robots=[{"key": ROBOT_KEY, "sections": ["论文"]}])
    # The samples were first seen on 2026-11-20: the 11-16 issue is within backfill then.
    settings = settings.model_copy(
        update={"sources": [], "publish": PublishSettings(backfill_days=5)}
    )
    runtime = dataclasses.replace(runtime, settings=settings)
    parser = argparse.ArgumentParser(prog="briefbot")
    publishing.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["tick", "--now", "2026-11-20T18:00", "--deliver"])

    assert await args.handler(args, runtime) == 0

    out = capsys.readouterr().out
    assert "published: 2026-11-16" in out and "archived: 2026-11-02" in out
    pushed = wechat_server.wecom.robot_messages(ROBOT_KEY)
    assert pushed, "the robot subscriber existed before the publication and got the issue"
    joined = "\n".join(pushed)
    assert "二值化" in joined  # a paper of the 11-16 sample
    assert "融资" not in joined  # news is not among the robot's sections
    assert all(len(text.encode()) <= 4096 for text in pushed)
