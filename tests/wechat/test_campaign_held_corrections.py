"""Official Account correction campaigns queued before an admin's `/corrections off` are
held by the delivery engine (bot/delivery/correction_terms.py): no mass send while off;
switched back on within the window, one mass send per tag; past it, dropped. On the
local WeChat server, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.platforms.wechat.tags import tag_name
from bot.runtime import Runtime
from storage.switches import switch_corrections
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.test_campaign import (
    EXPECTED,
    add_followers,
    campaign,
    publish,
    push,
    server,
    stored_parts,
    wechat_server,
)
from tests.wechat.test_campaign_corrections import correction_states, first_title
from tests.wechat.test_wecom_corrections import LATER, edit_and_correct

__all__ = ["server", "wechat_server"]
PUBLISHED = datetime(2026, 11, 17, 1, 0, tzinfo=LATER.tzinfo)


async def switch(runtime: Runtime, on: bool, at: datetime) -> None:
    async with runtime.sessions.begin() as session:
        await switch_corrections(session, on, "wechat:admin", at)


async def queued_then_off(
    runtime: Runtime, server: FakeWeChatServer
) -> tuple[int, int, int, set[str]]:
    """Published and pushed; a title edited and its correction campaign queued; then
    switched off. (issue id, chats planned, mass sends so far, parts that showed it)"""
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    assert (report := await push(runtime, campaign(runtime, server))) and report.finished
    stored = await stored_parts(runtime, issue_id)
    old = await first_title(runtime, issue_id)
    showed = {part for part in EXPECTED if old in stored[part]}
    planned = await edit_and_correct(runtime, issue_id, title="更正后的标题")
    assert planned > 0
    await switch(runtime, False, LATER + timedelta(minutes=1))
    return issue_id, planned, len(server.mp.sent("mass")), showed


async def test_a_held_correction_campaign_goes_out_when_switched_on_within_the_window(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    issue_id, planned, pushes, showed = await queued_then_off(runtime, server)
    assert await push(runtime, campaign(runtime, server)) is None  # not claimed
    assert len(server.mp.sent("mass")) == pushes
    assert await correction_states(runtime, issue_id) == [("pending", 0)] * planned

    await switch(runtime, True, PUBLISHED + timedelta(hours=47))
    fixed = await push(runtime, campaign(runtime, server))
    assert fixed is not None and fixed.finished
    sent = server.mp.sent("mass")[pushes:]
    tags = {server.mp.tags[m.meta["tag_id"]] for m in sent}
    assert {tag_name(part) for part in showed} == tags and len(sent) == len(tags)
    assert all(m.content.startswith("更正：") and "更正后的标题" in m.content for m in sent)
    assert await correction_states(runtime, issue_id) == [("sent", 1)] * planned


async def test_a_held_correction_campaign_past_the_window_is_dropped(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    issue_id, planned, pushes, _ = await queued_then_off(runtime, server)
    await switch(runtime, True, PUBLISHED + timedelta(hours=49))
    assert await push(runtime, campaign(runtime, server)) is None
    assert len(server.mp.sent("mass")) == pushes
    assert await correction_states(runtime, issue_id) == [("dropped", 0)] * planned
