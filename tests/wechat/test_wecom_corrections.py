"""Corrections on WeCom (issue 14), on the local WeCom server: WeCom cannot edit what it
sent, so a title or link changed after publication arrives as one short correction
message, once; a summary typo sends nothing."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import aiohttp

from bot.clock import FixedClock
from bot.publish.corrections import Corrector
from bot.runtime import Runtime
from storage.corrections import ChangedIssue
from storage.issues import get_summary, load_issue, save_issue
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.test_wecom import (
    MEMBERS,
    NEWER,
    VirtualTime,
    add_members,
    http,
    publish,
    push,
    sender_for,
)

__all__ = ["http"]

LATER = datetime(2026, 11, 17, 3, 0, tzinfo=UTC)  # two hours after the push


async def edit_and_correct(runtime: Runtime, issue_id: int, **changes: str) -> int:
    """Change the first entry as a curator would, then run the correction; chats planned."""
    async with runtime.sessions.begin() as session:
        issue = await load_issue(session, issue_id)
        assert issue is not None
        first, *rest = issue.sections
        entry = dataclasses.replace(first.entries[0], **changes)
        section = dataclasses.replace(first, entries=(entry, *first.entries[1:]))
        edited = dataclasses.replace(issue, sections=(section, *rest), content_hash="edited")
        await save_issue(session, edited, LATER)
        summary = await get_summary(session, issue_id)
    assert summary is not None and summary.published_hash is not None
    changed = ChangedIssue(issue_id, NEWER, summary.published_hash, summary.content_hash)
    plan = await Corrector(runtime, FixedClock(LATER)).correct(changed, LATER)
    assert plan is not None
    return plan.messages


async def test_a_changed_title_arrives_once_as_a_correction_message(
    runtime: Runtime, wechat_server: FakeWeChatServer, http: aiohttp.ClientSession
) -> None:
    await add_members(runtime, wechat_server, MEMBERS)
    issue_id = await publish(runtime)
    time = VirtualTime(wechat_server)
    sender = sender_for(runtime, http, time)
    await push(runtime, sender)
    before = {userid: len(wechat_server.wecom.inbox(userid)) for userid in MEMBERS}

    planned = await edit_and_correct(runtime, issue_id, title="更正后的标题")
    await push(runtime, sender)
    await push(runtime, sender)  # nothing left: nothing twice

    # A member whose selection leaves the first entry out was shown nothing that changed.
    extra = {u: wechat_server.wecom.inbox(u)[before[u] :] for u in MEMBERS}
    corrected = {u for u, got in extra.items() if got}
    assert {"zhangsan", "lisi"} <= corrected and len(corrected) == planned < len(MEMBERS)
    for userid in corrected:
        [correction] = extra[userid]  # once, however many runs
        assert correction.startswith("更正：") and "更正后的标题" in correction


async def test_a_summary_typo_sends_nothing_on_wecom(
    runtime: Runtime, wechat_server: FakeWeChatServer, http: aiohttp.ClientSession
) -> None:
    await add_members(runtime, wechat_server, MEMBERS)
    issue_id = await publish(runtime)
    time = VirtualTime(wechat_server)
    sender = sender_for(runtime, http, time)
    await push(runtime, sender)
    sent = len(wechat_server.wecom.sent("app"))

    planned = await edit_and_correct(runtime, issue_id, summary="改了一个错别字。")
    await push(runtime, sender)

    assert planned == 0
    assert len(wechat_server.wecom.sent("app")) == sent
