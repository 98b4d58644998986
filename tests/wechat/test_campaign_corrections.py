"""Official Account corrections (issue 14) on the local WeChat server: a title or link
changed after publication goes out as a campaign correction, one mass send per tag that
got the issue and shows the entry, under the daily quota, with its own clientmsgid per
(issue, part, day); once per issue per day; a summary typo sends nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.platforms.wechat.campaign import china_day, client_msg_id, correction_key
from bot.platforms.wechat.tags import tag_name
from bot.runtime import Runtime
from bot.web.service import official_api
from storage.issues import load_issue
from storage.models import CorrectionRow
from storage.wechat import mass_sends_on
from tests.fakes.wechat_mp import DEFAULT_APPID
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.test_campaign import (
    EXPECTED,
    FOLLOWERS,
    Crash,
    CrashAfterMassSends,
    add_followers,
    campaign,
    publish,
    push,
    server,
    stored_parts,
    wechat_server,
)
from tests.wechat.test_wecom_corrections import LATER, edit_and_correct

__all__ = ["server", "wechat_server"]
MASS = "/cgi-bin/message/mass/sendall"
DAY = LATER.date().isoformat()


async def first_title(runtime: Runtime, issue_id: int) -> str:
    async with runtime.sessions() as session:
        issue = await load_issue(session, issue_id)
    assert issue is not None
    return issue.sections[0].entries[0].title


async def correction_states(runtime: Runtime, issue_id: int) -> list[tuple[str, int]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(CorrectionRow.status, CorrectionRow.corrections_sent).where(
                CorrectionRow.issue_id == issue_id, CorrectionRow.platform == "wechat"
            )
        )
    return sorted((status, sent) for status, sent in rows)


async def test_a_changed_title_goes_out_once_per_tag_that_showed_it(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    assert (report := await push(runtime, campaign(runtime, server))) and report.finished
    stored = await stored_parts(runtime, issue_id)
    old = await first_title(runtime, issue_id)
    showed = {part for part in EXPECTED if old in stored[part]}
    assert "all" in showed and showed != set(EXPECTED)  # some tags never showed the entry
    pushes = len(server.mp.sent("mass"))
    async with runtime.sessions() as session:
        quota_before = await mass_sends_on(session, DEFAULT_APPID, report_day(server))

    planned = await edit_and_correct(runtime, issue_id, title="更正后的标题")
    audience = set().union(*(EXPECTED[part] for part in showed))
    assert planned == len(audience) < len(FOLLOWERS)
    fixed = await push(runtime, campaign(runtime, server))
    assert fixed is not None and fixed.finished
    assert sorted(fixed.sent) == sorted(showed)
    corrections = server.mp.sent("mass")[pushes:]
    by_tag = {server.mp.tags[m.meta["tag_id"]]: m for m in corrections}
    assert set(by_tag) == {tag_name(part) for part in showed}  # one mass send per tag
    for part in showed:
        message = by_tag[tag_name(part)]
        assert message.content.startswith("更正：") and "更正后的标题" in message.content
        assert set(message.targets) == EXPECTED[part]
    ids = {c.body["clientmsgid"] for c in server.mp.calls(MASS)[pushes:]}
    assert ids == {client_msg_id(issue_id, correction_key(p, DAY)) for p in showed}
    async with runtime.sessions() as session:  # under the same daily quota
        used = await mass_sends_on(session, DEFAULT_APPID, report_day(server))
    assert used == quota_before + len(showed)
    assert await correction_states(runtime, issue_id) == [("sent", 1)] * planned

    assert await push(runtime, campaign(runtime, server)) is None  # nothing twice
    # A second edit the same day: at most one correction per issue per day.
    assert await edit_and_correct(runtime, issue_id, title="又改了一次") == 0
    assert await push(runtime, campaign(runtime, server)) is None
    assert len(server.mp.sent("mass")) == pushes + len(showed)
    refused = [r for r in server.mp.calls(MASS) if r.errcode not in (None, 0)]
    assert refused == []


async def test_a_summary_typo_sends_no_mass_send(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    await push(runtime, campaign(runtime, server))
    pushes = len(server.mp.sent("mass"))
    assert await edit_and_correct(runtime, issue_id, summary="摘要里的错别字已改正。") == 0
    assert await push(runtime, campaign(runtime, server)) is None
    assert len(server.mp.sent("mass")) == pushes


async def test_a_correction_killed_mid_campaign_is_resumed_without_a_second_send(
    runtime: Runtime, server: FakeWeChatServer
) -> None:
    await add_followers(runtime, server)
    issue_id = await publish(runtime)
    await push(runtime, campaign(runtime, server))
    pushes = len(server.mp.sent("mass"))
    stored = await stored_parts(runtime, issue_id)
    old = await first_title(runtime, issue_id)
    showed = {part for part in EXPECTED if old in stored[part]}
    assert len(showed) >= 2  # so the kill can come between two corrections
    planned = await edit_and_correct(runtime, issue_id, title="更正后的标题")
    api = official_api(runtime)
    assert api is not None
    dying = campaign(runtime, server, CrashAfterMassSends(api, server, pushes + 1))
    with pytest.raises(Crash):  # killed right after WeChat took the first correction
        await push(runtime, dying)
    assert len(server.mp.sent("mass")) == pushes + 1

    later = datetime.now(UTC) + timedelta(minutes=5)  # the dead process's claim has lapsed
    resumed = await push(runtime, campaign(runtime, server), wall=lambda: later)
    assert resumed is not None and resumed.finished and len(resumed.already) == 1
    corrections = server.mp.sent("mass")[pushes:]
    tags = sorted(server.mp.tags[m.meta["tag_id"]] for m in corrections)
    assert tags == sorted(tag_name(part) for part in showed)  # each tag's correction once
    errcodes = [r.errcode for r in server.mp.calls(MASS)]
    assert errcodes.count(45065) == 1  # the unrecorded one, resent under its clientmsgid
    assert await correction_states(runtime, issue_id) == [("sent", 1)] * planned


def report_day(server: FakeWeChatServer) -> str:
    """The quota day the campaign counts sends against (the server's clock)."""
    return china_day(server.clock.now())
