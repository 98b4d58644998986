"""Corrections on the local WeCom server in each member's language, and at most one a
day per issue (issue 14): a Chinese member gets "更正：…", an English one "Correction: …";
a second title change the same day sends nothing, the next day's sends one more."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import aiohttp

from bot.clock import FixedClock
from bot.publish.corrections import Corrector
from bot.runtime import Runtime
from storage.corrections import ChangedIssue
from storage.issues import get_summary, load_issue, save_issue
from storage.subscribers import ALL, get_subscriber, update_settings
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.test_wecom import NEWER, VirtualTime, add_members, http, publish, push, sender_for

__all__ = ["http"]

LATER = datetime(2026, 11, 17, 3, 0, tzinfo=UTC)  # two hours after the push
MEMBERS = {"zhangsan": (ALL,), "emma": (ALL,)}


async def retitle(runtime: Runtime, issue_id: int, title: str, at: datetime) -> int:
    """The curators rename the first entry at `at`; the correction runs then. Chats that
    get a correction message."""
    async with runtime.sessions.begin() as session:
        issue = await load_issue(session, issue_id)
        assert issue is not None
        first, *rest = issue.sections
        entry = dataclasses.replace(first.entries[0], title=title)
        section = dataclasses.replace(first, entries=(entry, *first.entries[1:]))
        edited = dataclasses.replace(issue, sections=(section, *rest), content_hash=title)
        await save_issue(session, edited, at)
        summary = await get_summary(session, issue_id)
    assert summary is not None and summary.published_hash is not None
    changed = ChangedIssue(issue_id, NEWER, summary.published_hash, summary.content_hash)
    plan = await Corrector(runtime, FixedClock(at)).correct(changed, at)
    assert plan is not None
    return plan.messages


async def test_each_member_gets_the_correction_in_their_language_at_most_once_a_day(
    runtime: Runtime, wechat_server: FakeWeChatServer, http: aiohttp.ClientSession
) -> None:
    await add_members(runtime, wechat_server, MEMBERS)
    async with runtime.sessions.begin() as session:
        emma = await get_subscriber(session, "wecom", "emma")
        assert emma is not None
        await update_settings(session, emma.id, language="en")
    issue_id = await publish(runtime)
    sender = sender_for(runtime, http, VirtualTime(wechat_server))
    await push(runtime, sender)
    inbox = wechat_server.wecom.inbox
    seen = {userid: len(inbox(userid)) for userid in MEMBERS}

    def new(userid: str) -> list[str]:
        got = inbox(userid)[seen[userid] :]
        seen[userid] = len(inbox(userid))
        return got

    assert await retitle(runtime, issue_id, "更正后的标题", LATER) == 2
    await push(runtime, sender, wall=lambda: LATER)  # sent then: the day that counts
    [chinese], [english] = new("zhangsan"), new("emma")
    assert chinese.startswith("更正：") and "更正后的标题" in chinese
    assert chinese.endswith("以上条目已更新。") and "Correction" not in chinese
    assert english.startswith("Correction: ") and "更正后的标题" in english
    assert english.endswith("The entries above were updated.") and "更正：" not in english

    # Another title change the same day: a message that cannot be unsent, not twice a day.
    assert await retitle(runtime, issue_id, "再次更正的标题", LATER + timedelta(hours=3)) == 0
    await push(runtime, sender, wall=lambda: LATER + timedelta(hours=3))
    assert new("zhangsan") == new("emma") == []

    # The next day (still within 48 h of publication): one more, naming the new title.
    assert await retitle(runtime, issue_id, "次日更正的标题", LATER + timedelta(days=1)) == 2
    await push(runtime, sender, wall=lambda: LATER + timedelta(days=1))
    [chinese], [english] = new("zhangsan"), new("emma")
    assert "次日更正的标题" in chinese and chinese.startswith("更正：")
    assert "次日更正的标题" in english and english.startswith("Correction: ")
