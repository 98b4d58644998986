"""Corrections on the Official Account with several series: an edit of one series' issue
after publication goes out as one correction mass send per tag of that series that got
the issue and showed the entry, in that series' language (an English weekly's in
English), never to another series' tags; once. Against the fake WeChat API, both
databases, driven as the service does: the folder changes, the cycle ingests it through
the series' lane and that lane's corrector plans the correction."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import FixedClock
from bot.delivery.engine import DeliveryEngine
from bot.platforms.wechat.campaign import CampaignReport, client_msg_id, correction_key
from bot.platforms.wechat.tags import tag_name
from bot.publish.cycle import Cycle, build_cycle
from bot.publish.results import Publication
from bot.runtime import Runtime
from storage.issues import find_issue_id, find_numbered_id
from tests.fakes.wechat_server import FakeWeChatServer
from tests.publish.helpers import KEY, briefing
from tests.publish.test_series_cycle import TUESDAY, weekly
from tests.wechat.test_campaign import campaign, stored_parts
from tests.wechat.test_campaign_series import follow, runtime, wechat_server

__all__ = ["runtime", "wechat_server"]
MASS = "/cgi-bin/message/mass/sendall"
LATER = TUESDAY + timedelta(hours=2)  # well within the corrections window
PRIMARY_TAGS = {tag_name("all"), tag_name("section:papers")}
GADGETS_TAGS = {tag_name("gadgets/all"), tag_name("gadgets/topic:releases")}


async def published_and_sent(
    runtime: Runtime, server: FakeWeChatServer
) -> tuple[Cycle, FixedClock, int]:
    """Both series' issues published and mass-sent; the cycle, its clock, sends so far."""
    await follow(runtime, server)
    clock = FixedClock(TUESDAY)
    cycle = build_cycle(runtime, clock)
    await cycle.poll_all(force=True)
    assert isinstance(await cycle.publisher.publish(KEY), Publication)
    assert isinstance(await cycle.publisher.publish(51, series="gadgets"), Publication)
    reports = await send(runtime, server)
    assert len(reports) == 2 and all(r.finished for r in reports), reports
    sent = server.mp.sent("mass")
    assert {server.mp.tags[m.meta["tag_id"]] for m in sent} == PRIMARY_TAGS | GADGETS_TAGS
    return cycle, clock, len(sent)


async def send(runtime: Runtime, server: FakeWeChatServer) -> list[CampaignReport]:
    engine = DeliveryEngine(
        runtime.sessions, {"wechat": campaign(runtime, server)}, runtime.settings.delivery
    )
    return (await engine.run_until_idle()).campaigns


async def edit(cycle: Cycle, clock: FixedClock, path: Path, text: str) -> int:
    """Rewrite a source file as a curator would, ingest it, and run the check (settle
    is 0 minutes here) later the same day; the follower chats the correction planned."""
    path.write_text(text, encoding="utf-8")
    clock.set(LATER)
    polls = await cycle.poll_all(force=True)
    assert all(p.ok for p in polls), polls
    report = await cycle.check()
    return sum(plan.messages for plan in report.corrected)


def corrections_by_tag(server: FakeWeChatServer, before: int) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in server.mp.sent("mass")[before:]:
        found.setdefault(server.mp.tags[message.meta["tag_id"]], []).append(message.content)
    return found


async def test_an_edited_weekly_is_corrected_on_its_own_tags_in_english(
    runtime: Runtime, wechat_server: FakeWeChatServer, tmp_path: Path
) -> None:
    cycle, clock, before = await published_and_sent(runtime, wechat_server)
    async with runtime.sessions() as session:
        weekly_id = await find_numbered_id(session, "gadgets", 51)
    assert weekly_id is not None
    stored = await stored_parts(runtime, weekly_id)
    # the changed entry (the news "X", "release 51") shows in both gadgets parts
    assert all("release 51" in stored[p] for p in ("gadgets/all", "gadgets/topic:releases"))

    text = weekly(51, "X").replace("[X]", "[Gadget 5.1 is out]")
    planned = await edit(cycle, clock, tmp_path / "gadgets" / "issue-51.md", text)
    assert planned == 2  # o-gadgets (gadgets/all) and o-both (gadgets/topic:releases)
    [report] = await send(runtime, wechat_server)
    assert report.finished and sorted(report.sent) == ["gadgets/all", "gadgets/topic:releases"]

    corrections = corrections_by_tag(wechat_server, before)
    assert set(corrections) == GADGETS_TAGS  # nothing to the primary series' tags
    for texts in corrections.values():
        [text] = texts  # one mass send per tag
        assert text.startswith("Correction: This Week in Gadgets #51"), text
        assert "Gadget 5.1 is out https://example.com/gadgets/51/news" in text
        assert text.endswith("The entries above were updated.")
        assert "更正" not in text and "以上条目已更新" not in text
    targets = {
        wechat_server.mp.tags[m.meta["tag_id"]]: set(m.targets)
        for m in wechat_server.mp.sent("mass")[before:]
    }
    assert targets == {
        tag_name("gadgets/all"): {"o-gadgets"},
        "bb:gadgets/topic:releases": {"o-both"},
    }
    day = LATER.date().isoformat()
    ids = {c.body["clientmsgid"] for c in wechat_server.mp.calls(MASS)[before:]}
    assert ids == {
        client_msg_id(weekly_id, correction_key(p, day))
        for p in ("gadgets/all", "gadgets/topic:releases")
    }

    assert await send(runtime, wechat_server) == []  # a second run sends nothing
    assert (await cycle.check()).corrected == []  # nor does a second check plan any
    assert await send(runtime, wechat_server) == []
    assert len(wechat_server.mp.sent("mass")) == before + 2


async def test_an_entry_only_in_the_weeklys_all_part_corrects_that_tag_only(
    runtime: Runtime, wechat_server: FakeWeChatServer, tmp_path: Path
) -> None:
    cycle, clock, before = await published_and_sent(runtime, wechat_server)
    text = weekly(51, "X").replace("[gadget-lint]", "[gadget-lint 2]")
    assert await edit(cycle, clock, tmp_path / "gadgets" / "issue-51.md", text) == 1
    [report] = await send(runtime, wechat_server)
    assert report.finished and report.sent == ["gadgets/all"]
    corrections = corrections_by_tag(wechat_server, before)
    assert list(corrections) == [tag_name("gadgets/all")]
    [text] = corrections[tag_name("gadgets/all")]
    assert text.startswith("Correction: ") and "gadget-lint 2" in text


async def test_an_edited_primary_issue_is_corrected_on_its_tags_in_chinese(
    runtime: Runtime, wechat_server: FakeWeChatServer, tmp_path: Path
) -> None:
    cycle, clock, before = await published_and_sent(runtime, wechat_server)
    text = briefing().replace("一种新的剪枝方法", "一种更好的剪枝方法")
    assert await edit(cycle, clock, tmp_path / "eai" / f"{KEY}.md", text) == 2
    [report] = await send(runtime, wechat_server)
    assert report.finished and sorted(report.sent) == ["all", "section:papers"]

    corrections = corrections_by_tag(wechat_server, before)
    assert set(corrections) == PRIMARY_TAGS  # nothing to the weekly's tags
    for texts in corrections.values():
        [text] = texts
        assert text.startswith("更正：嵌入式AI简报") and "一种更好的剪枝方法" in text
        assert text.endswith("以上条目已更新。") and "Correction" not in text
    async with runtime.sessions() as session:
        issue_id = await find_issue_id(session, runtime.series.slug, KEY)
    assert issue_id is not None
    day = LATER.date().isoformat()
    ids = {c.body["clientmsgid"] for c in wechat_server.mp.calls(MASS)[before:]}
    assert ids == {
        client_msg_id(issue_id, correction_key(p, day)) for p in ("all", "section:papers")
    }
    assert await send(runtime, wechat_server) == []
    assert len(wechat_server.mp.sent("mass")) == before + 2
