"""Publication rules against a real database: held, backfill, selections, manual pushes."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.config import PublishSettings, Settings, SourceSettings, TelegramSettings
from bot.publish.alerts import Alert, RecordingNotifier
from bot.publish.cycle import CheckReport, Cycle, build_cycle
from bot.publish.publisher import IssuePublisher
from bot.publish.results import Preview, Publication, Refusal
from bot.publish.rule import issue_state
from bot.runtime import Runtime
from storage import subscribers as subs
from tests.publish.helpers import (
    KEY,
    add_subscriber,
    briefing,
    deliveries,
    make_runtime,
    summary_of,
    utc,
)


def _setup(
    engine: AsyncEngine, tmp_path: Path, **settings: object
) -> tuple[Runtime, Path, FixedClock, RecordingNotifier, Cycle]:
    folder = tmp_path / "issues"
    folder.mkdir()
    config = Settings(sources=[SourceSettings(kind="folder", path=str(folder))], **settings)  # type: ignore[arg-type]
    runtime = make_runtime(engine, config)
    clock = FixedClock(utc(10, 30))
    notifier = RecordingNotifier()
    return runtime, folder, clock, notifier, build_cycle(runtime, clock, notifier)


def _write(folder: Path, text: str, key: date = KEY) -> None:
    (folder / f"{key.isoformat()}.md").write_text(text, encoding="utf-8")


async def test_unfinished_issue_is_held_with_one_alert_until_an_admin_publishes(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    runtime, folder, clock, notifier, cycle = _setup(engine, tmp_path)
    await add_subscriber(runtime, "telegram:1001")
    _write(folder, briefing(unfinished=True))
    await cycle.run_once()  # first seen as a draft
    clock.set(utc(11, 2, 2))
    report = await cycle.run_once()
    assert report.check.held == [KEY] and report.check.published == []
    assert await deliveries(runtime) == {}
    summary = await summary_of(runtime)
    assert issue_state(summary, clock.now(), runtime.settings) == "held"
    assert summary.hold_reason and "unclosed '['" in summary.hold_reason
    assert "'应用' has no entries" in summary.hold_reason

    (alert,) = notifier.alerts
    assert alert.issue is not None and alert.issue.key == KEY
    assert "/publish 2026-11-02" in alert.text and "条目里的“[”没有闭合" in alert.text
    assert isinstance(alert, Alert) and "unclosed '['" in alert.english  # logs, the CLI
    assert "unclosed" not in alert.text
    assert "/preview 2026-11-02" in alert.text  # the chat's dry run

    clock.set(utc(11, 2, 5))
    await cycle.run_once()  # held stays held: no push, no second alert
    assert await deliveries(runtime) == {} and len(notifier.alerts) == 1

    reply = await cycle.publisher.publish(KEY)
    assert isinstance(reply, Publication) and (reply.key, reply.deliveries) == (KEY, 1)
    assert list(await deliveries(runtime)) == ["telegram:1001"]
    summary = await summary_of(runtime)
    assert issue_state(summary, clock.now(), runtime.settings) == "published"
    assert summary.held_at is None and summary.hold_reason is None
    again = await cycle.publisher.publish(KEY)
    assert isinstance(again, Refusal) and again.reason == "already_published"
    assert again.published_at == utc(11, 2, 5)
    assert len((await deliveries(runtime))["telegram:1001"]) == 1


async def test_issue_first_seen_after_the_backfill_window_is_archived_not_pushed(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    runtime, folder, clock, _, cycle = _setup(
        engine, tmp_path, publish=PublishSettings(backfill_days=3)
    )
    await add_subscriber(runtime, "telegram:1001")
    late, recent = date(2026, 10, 20), date(2026, 11, 4)
    _write(folder, briefing(late, "old"), late)
    _write(folder, briefing(recent, "recent"), recent)
    clock.set(utc(11, 6, 3))  # 17 and 2 days after their dates
    report = await cycle.run_once()
    assert report.check.archived == [late]  # at once: archiving needs no settling
    assert report.check.published == []  # the recent one is new: it settles first
    clock.advance(minutes=31)
    report = await cycle.run_once()
    assert report.check.archived == []
    assert [p.key for p in report.check.published] == [recent]
    assert await deliveries(runtime, late) == {}
    assert list(await deliveries(runtime, recent)) == ["telegram:1001"]

    old = await summary_of(runtime, late)
    assert issue_state(old, clock.now(), runtime.settings) == "archived"
    assert old.published_at == utc(11, 6, 3)
    assert old.published_hash == f"archived:{old.content_hash}"

    clock.advance(days=1)
    assert (await cycle.run_once()).check == CheckReport()  # done once, stays done
    # An admin may still push an archived issue by hand, once.
    pushed = await cycle.publisher.publish(late)
    assert isinstance(pushed, Publication) and pushed.key == late
    assert list(await deliveries(runtime, late)) == ["telegram:1001"]
    again = await cycle.publisher.publish(late)
    assert isinstance(again, Refusal) and again.reason == "already_published"


async def test_backfill_boundary_counts_local_calendar_days(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    _, folder, clock, _, cycle = _setup(engine, tmp_path, publish=PublishSettings(backfill_days=1))
    later = KEY + timedelta(days=1)
    _write(folder, briefing())
    clock.set(utc(11, 3, 15, 59))  # 23:59 on Nov 3 in Shanghai: first seen one day after
    assert [p.key for p in (await cycle.run_once()).check.published] == []  # not settled
    _write(folder, briefing(later), later)
    clock.advance(minutes=31)  # 00:30 on Nov 4 local: the second issue is first seen now
    check = (await cycle.run_once()).check
    assert [p.key for p in check.published] == [KEY]  # settled; seen within the window
    assert check.archived == []  # `later` (Nov 3) is seen one local day late: within too
    _write(folder, briefing(KEY - timedelta(days=1)), KEY - timedelta(days=1))
    assert (await cycle.run_once()).check.archived == [KEY - timedelta(days=1)]  # 3 days late


async def test_subscriber_of_papers_and_chips_gets_exactly_those_entries(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    runtime, folder, clock, _, cycle = _setup(engine, tmp_path)
    await add_subscriber(runtime, "telegram:1002", sections=["papers"], topics=["chips"])
    await add_subscriber(runtime, "telegram:1003", topics=["tinyml"])  # nothing matches
    await add_subscriber(runtime, "telegram:1004", sections=["papers"], format="digest")
    _write(folder, briefing(version="v1"))
    await cycle.run_once()
    clock.set(utc(11, 2, 2))
    (publication,) = (await cycle.run_once()).check.published
    assert (publication.deliveries, publication.empty) == (2, 1)

    sent = await deliveries(runtime)
    assert sorted(sent) == ["telegram:1002", "telegram:1004"]
    (chosen,) = sent["telegram:1002"]
    assert chosen.rendering_key == "telegram;sections=papers;topics=chips;format=full;lang=zh"
    for wanted in ("一种新的剪枝方法", "新的量化方法", "骁龙新平台发布", "foo/bar: 推理框架"):
        assert wanted in chosen.text
    for unwanted in ("某公司完成融资", "x/y: 命令行工具", "博文标题"):
        assert unwanted not in chosen.text
    (digest,) = sent["telegram:1004"]
    assert "一种新的剪枝方法" in digest.text and "骁龙新平台发布" not in digest.text
    assert "摘要" not in digest.text and "INT4" not in digest.text


async def test_dry_run_lists_who_gets_what_and_writes_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    runtime, folder, _, _, cycle = _setup(
        engine, tmp_path, telegram=TelegramSettings(channel="-1001234")
    )
    await add_subscriber(runtime, "telegram:1002", sections=["papers"], topics=["chips"])
    await add_subscriber(runtime, "telegram:1003", topics=["tinyml"])
    await add_subscriber(runtime, "telegram:1005", paused=True)
    _write(folder, briefing())
    await cycle.run_once()
    preview = await cycle.publisher.publish(KEY, dry_run=True)
    assert isinstance(preview, Preview)
    assert (preview.recipients, preview.renderings, preview.empty) == (2, 2, 1)
    assert {(r.platform, r.chat_id, r.kind, r.rendering_key) for r in preview.listed} == {
        ("telegram", "-1001234", "channel", "telegram;all;format=full;lang=zh"),
        (
            "telegram",
            "1002",
            "private",
            "telegram;sections=papers;topics=chips;format=full;lang=zh",
        ),
    }
    assert all(r.messages >= 1 for r in preview.listed)
    assert preview.held_at is None and preview.unfinished == ()
    assert await deliveries(runtime) == {}
    assert (await summary_of(runtime)).published_at is None
    missing = await cycle.publisher.publish(date(2030, 1, 1), dry_run=True)
    assert missing == Refusal(date(2030, 1, 1), "unknown")


async def test_a_held_issue_previews_why_in_structured_defects(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    _, folder, clock, notifier, cycle = _setup(engine, tmp_path)
    _write(folder, briefing(unfinished=True))
    await cycle.run_once()
    clock.set(utc(11, 2, 2))
    await cycle.run_once()
    preview = await cycle.publisher.publish(KEY, dry_run=True)
    assert isinstance(preview, Preview) and preview.held_at == utc(11, 2, 2)
    kinds = {(d.kind, d.text, d.section) for d in preview.unfinished}
    # the parser's own empty-section warning becomes a defect admins read in their language
    assert ("empty_section", "应用", "apps") in kinds
    assert any(d.kind == "warning" and "unclosed" in d.text for d in preview.unfinished)
    (alert,) = notifier.alerts
    assert "已暂扣" in alert.text and "栏目“应用”没有条目" in alert.text


async def test_configured_channel_is_ensured_and_gets_every_push(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    runtime, folder, clock, _, cycle = _setup(
        engine, tmp_path, telegram=TelegramSettings(channel="@briefs")
    )
    async with runtime.sessions.begin() as session:  # exists, but narrowed and mis-kinded
        channel, _ = await subs.get_or_create(session, "telegram", "@briefs")
        await subs.set_subscriptions(session, channel.id, [subs.Subscription("topic", "nas")])
    _write(folder, briefing())
    await cycle.run_once()
    clock.set(utc(11, 2, 2))
    await cycle.run_once()
    assert list(await deliveries(runtime)) == ["telegram:@briefs"]
    assert (await deliveries(runtime))["telegram:@briefs"][0].rendering_key.endswith(
        "all;format=full;lang=zh"
    )
    async with runtime.sessions() as session:
        stored = await subs.get_subscriber(session, "telegram", "@briefs")
    assert stored is not None and stored.kind == "channel"
    assert subs.ALL in stored.subscriptions


async def test_concurrent_publications_create_one_set_of_deliveries(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    runtime, folder, clock, _, cycle = _setup(engine, tmp_path)
    for n in range(30):
        await add_subscriber(runtime, f"telegram:{3000 + n}")
    _write(folder, briefing())
    await cycle.run_once()
    clock.set(utc(11, 2, 2))
    publishers = [IssuePublisher(runtime, clock, batch_size=7) for _ in range(3)]
    summary = await summary_of(runtime)
    outcomes = await asyncio.gather(*(p.publish_issue(summary.id) for p in publishers))
    assert sorted(o.status for o in outcomes) == ["published", "skipped", "skipped"]
    sent = await deliveries(runtime)
    assert len(sent) == 30 and all(len(s) == 1 for s in sent.values())


async def test_content_changed_since_the_check_is_not_published(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    runtime, folder, clock, _, cycle = _setup(engine, tmp_path)
    await add_subscriber(runtime, "telegram:1001")
    _write(folder, briefing())
    await cycle.run_once()
    clock.set(utc(11, 2, 2))
    stale = await summary_of(runtime)
    _write(folder, briefing(version="v2"))
    await cycle.poll_all()
    outcome = await cycle.publisher.publish_issue(stale.id, expected_hash=stale.content_hash)
    assert outcome.status == "skipped" and await deliveries(runtime) == {}
    clock.advance(timedelta(minutes=31))
    (publication,) = (await cycle.check()).published
    assert publication.content_hash != stale.content_hash
    assert "v2" in (await deliveries(runtime))["telegram:1001"][0].text


async def test_english_readers_get_english_section_names_chinese_readers_the_headings(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    runtime, folder, clock, _, cycle = _setup(engine, tmp_path)
    await add_subscriber(runtime, "telegram:2001", language="en")
    await add_subscriber(runtime, "telegram:2002", language="en", format="digest")
    await add_subscriber(runtime, "wecom:u1", language="en", sections=["papers"])
    await add_subscriber(runtime, "telegram:2003")
    _write(folder, briefing())
    await cycle.run_once()
    clock.set(utc(11, 2, 2))
    await cycle.run_once()
    sent = {chat: found.text for chat, (found,) in (await deliveries(runtime)).items()}
    written = ("业界新闻", "论文", "开源项目", "博文")
    english = ("Industry news", "Papers", "Open-source projects", "Blog posts")
    for chat in ("telegram:2001", "telegram:2002"):
        assert all(f"<b>{name}</b>" in sent[chat] for name in english), sent[chat]
        assert not any(f"<b>{name}</b>" in sent[chat] for name in written), sent[chat]
        assert "一种新的剪枝方法" in sent[chat]  # the briefing's own words stay as written
    assert "Papers" in sent["wecom:u1"] and "论文" not in sent["wecom:u1"]
    # Chinese readers keep the headings as the curators wrote them.
    assert all(f"<b>{name}</b>" in sent["telegram:2003"] for name in written)
    assert not any(name in sent["telegram:2003"] for name in english)
