"""Admin commands: refusal for everyone else, /stats content, /preview and /publish."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.commands import Chat, Core, CoreDeps
from storage.deliveries.writes import DeliveryItem, create_deliveries
from storage.issues import find_issue_id
from storage.publication import claim_publication
from storage.subscribers import get_subscriber
from tests.bot.commands.conftest import (
    SERIES,
    T0,
    Client,
    FakeCorrections,
    FakePublisher,
    text_of,
)


@pytest.mark.parametrize(
    "command", ["/stats", "/preview latest", "/publish 2026-11-16", "/preview 更正"]
)
async def test_non_admins_get_a_polite_refusal_and_nothing_else(
    core: Core, publisher: FakePublisher, corrections: FakeCorrections, command: str
) -> None:
    await Client(core, chat=Chat("telegram", "7", "private"), user_id="7").send("/start")
    replies = await Client(core, is_admin=False).send(command)
    text = text_of(replies)
    assert text == "抱歉，这个命令仅限管理员使用。"
    assert publisher.calls == [] and corrections.calls == []


async def test_stats_counts_subscribers_and_last_pushes(core: Core) -> None:
    await Client(core, chat=Chat("telegram", "1", "private"), user_id="1").send("/start")
    await Client(core, chat=Chat("telegram", "2", "private"), user_id="2").send(
        "/subscribe papers chips"
    )
    await Client(core, chat=Chat("wechat", "o-3", "user"), user_id="o-3").send("订阅 论文")
    await Client(core, chat=Chat("telegram", "4", "private"), user_id="4").send("/pause")
    async with core.deps.sessions.begin() as session:
        issue_id = await find_issue_id(session, SERIES.slug, date(2026, 11, 16))
        assert issue_id is not None
        first = await get_subscriber(session, "telegram", "1")
        assert first is not None
        messages = [{"text": "x", "format": "text", "size": 1, "unit": "chars"}]
        item = DeliveryItem(first.id, "k", "telegram", messages)
        await create_deliveries(session, issue_id, [item], T0)
        assert await claim_publication(session, issue_id, T0)
    text = text_of(await Client(core, is_admin=True).send("/stats"))
    assert "按平台：Telegram 3、微信公众号 1" in text
    assert "已暂停：1；已失效：0" in text
    assert "订阅全部：1" in text
    assert "按栏目：论文 2" in text
    assert "按标签：芯片 1" in text
    assert "2026-11-16 于 2026-11-20 08:00 UTC：Telegram 待发送 1" in text


async def test_stats_without_pushes(core: Core) -> None:
    text = text_of(await Client(core, is_admin=True).send("/stats"))
    assert "还没有推送过" in text and "按平台：无" in text


async def test_preview_and_publish_go_through_the_publisher(
    core: Core, publisher: FakePublisher
) -> None:
    admin = Client(core, is_admin=True)
    assert "预演（不发送）" in text_of(await admin.send("/preview latest"))
    assert "已推送 2026-11-02 这一期" in text_of(await admin.send("/publish 2026-11-02"))
    assert publisher.calls == [(date(2026, 11, 16), True), (date(2026, 11, 2), False)]


async def test_a_dry_run_is_said_in_the_admins_language(core: Core) -> None:
    zh = text_of(await Client(core, is_admin=True).send("/preview 2026-11-16"))
    assert "预演（不发送）：嵌入式AI简报 (2026-11-16) [2026-11-16]，内容 c0ffee" in zh
    assert "将推送给 53 个聊天，共 1 种版本；1 个聊天没有匹配的条目，不会收到。" in zh
    # when the scheduler held it, in the publication's timezone (T0 is 08:00 UTC)
    assert "自动推送自 2026-11-20T16:00+08:00 起暂扣了这一期" in zh
    assert "- 第 40 行：栏目“论文”没有条目" in zh
    assert "- 第 12 行：条目里的“[”没有闭合" in zh  # the parser's warning, by its code
    assert "- 这一期没有任何条目" in zh
    assert "  telegram:1000（private）← telegram;all;format=full;lang=zh：1 条消息\n" in zh
    assert "  wechat:o-2（user）← wechat;sections=papers;format=digest;lang=en：2 条消息" in zh
    assert zh.endswith("  ……还有 1 个聊天")

    english = Client(core, is_admin=True, language_code="en")
    en = text_of(await english.send("/preview 2026-11-16"))
    assert "Dry run (nothing sent): 嵌入式AI简报 (2026-11-16) [2026-11-16], content c0ffee" in en
    assert (
        "53 chats would get it in 1 rendering; 1 chat would get nothing (no matching entries)."
        in en
    )
    assert "Held by the automatic publication since 2026-11-20T16:00+08:00" in en
    assert "- line 40: section “Papers” has no entries" in en  # named as English issues name it
    assert "- the issue has no entries" in en
    assert "- line 12: unclosed '[' in item" in en
    assert "  telegram:1000 (private) <- telegram;all;format=full;lang=zh: 1 message\n" in en
    assert "  wechat:o-2 (user) <- wechat;sections=papers;format=digest;lang=en: 2 messages" in en
    assert en.endswith("  ... and 1 more")


async def test_publish_answers_in_the_admins_language(core: Core, publisher: FakePublisher) -> None:
    zh, en = Client(core, is_admin=True), Client(core, is_admin=True, language_code="en")
    assert text_of(await zh.send("/publish 2026-11-02")) == (
        "已推送 2026-11-02 这一期（内容 c0ffee）：1 份推送，共 2 种版本；0 个聊天没有匹配的条目。"
    )
    assert text_of(await en.send("/publish 2026-11-02")) == (
        "Issue 2026-11-02 was already published at 2026-11-20T16:00+08:00 (content c0ffee); "
        "later edits only update the archive."
    )
    assert "2026-11-02 这一期已于 2026-11-20T16:00+08:00 推送" in text_of(
        await zh.send("/publish 2026-11-02")
    )
    publisher.raced.add(date(2026, 11, 16))
    assert text_of(await zh.send("/publish 2026-11-16")) == "2026-11-16 这一期已经推送过了。"
    assert (
        text_of(await en.send("/publish 2026-11-16")) == "Issue 2026-11-16 was already published."
    )
    publisher.raced.clear()
    assert text_of(await en.send("/publish 2026-11-16")) == (
        "Published issue 2026-11-16 (content c0ffee): 1 delivery in 2 renderings; "
        "0 chats matched nothing."
    )


async def test_an_issue_not_in_the_archive_is_answered_in_the_readers_language(
    core: Core, publisher: FakePublisher
) -> None:
    assert "没有 2020-01-01 这一期。" in text_of(
        await Client(core, is_admin=True).send("/preview 2020-01-01")
    )
    english = Client(core, is_admin=True, language_code="en")
    assert "There is no issue dated 2020-01-01." in text_of(
        await english.send("/publish 2020-01-01")
    )
    assert publisher.calls == []


async def test_publish_usage_and_errors(core: Core, publisher: FakePublisher) -> None:
    admin = Client(core, is_admin=True)
    assert "用法：/publish YYYY-MM-DD" in text_of(await admin.send("/publish"))
    assert "用法：/preview YYYY-MM-DD" in text_of(await admin.send("/preview soon"))

    async def broken(key: date, dry_run: bool, series: str = "") -> str:
        raise RuntimeError("no such issue in the archive")

    publisher.publish = broken  # type: ignore[method-assign]
    text = text_of(await admin.send("/publish 2026-11-16"))
    assert "/publish 失败：no such issue in the archive" in text


async def test_publish_errors_reach_the_admin_redacted_and_clipped(
    core: Core, publisher: FakePublisher
) -> None:
    token = "123456789:AAE" + "x" * 32

    async def leaky(key: date, dry_run: bool, series: str = "") -> str:
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/sendMessage failed\n" * 500)

    publisher.publish = leaky  # type: ignore[method-assign]
    text = text_of(await Client(core, is_admin=True).send("/publish 2026-11-16"))
    assert "/publish 失败：" in text
    assert token not in text and "AAE" not in text
    assert len(text) < 400 and text.count("\n") == 0


async def test_publishing_not_configured(deps: CoreDeps) -> None:
    admin = Client(Core(replace(deps, publisher=None)), is_admin=True)
    assert "没有配置推送，无法 /publish" in text_of(await admin.send("/publish latest"))
    assert "没有配置推送，无法 /preview" in text_of(await admin.send("/preview latest"))


async def test_preview_correction_names_the_issue_or_the_newest_published(
    core: Core, publisher: FakePublisher, corrections: FakeCorrections
) -> None:
    admin = Client(core, is_admin=True)
    for typed in ("/preview 更正", "/preview correction latest", "/preview Corrections"):
        assert "更正预演（不发送）" in text_of(await admin.send(typed))
    await admin.send("/preview 更正 2026-11-16")
    assert corrections.calls == [None, None, None, date(2026, 11, 16)]
    assert publisher.calls == []  # a correction is not a push
    zh = text_of(await admin.send("/preview 更正 2026-11-16"))
    assert "1 个聊天的消息会被原地编辑，0 个聊天会收到一条更正消息（共 1 次编辑或发送）。" in zh
    assert "修改还没稳定：如果没有新的修改，2026-11-20T16:20+08:00 之后发出。" in zh
    assert "• 已删除：alibaba/MNN: MNN 3.2 发布" in zh and zh.endswith("……还有 2 条")
    en = text_of(await Client(core, is_admin=True, language_code="en").send("/preview 更正"))
    assert "0 chats would have their messages edited in place, 3 chats would get a " in en
    assert "The correction message (each chat gets it in its own language):" in en
    assert "• removed" not in en and "Removed: alibaba/MNN: MNN 3.2 发布" in en
    assert "用法：/preview YYYY-MM-DD" in text_of(await admin.send("/preview 更正 明天"))
    assert len(corrections.calls) == 6


async def test_preview_correction_without_a_previewer(deps: CoreDeps) -> None:
    admin = Client(Core(replace(deps, corrections=None)), is_admin=True)
    assert "这里无法预演更正" in text_of(await admin.send("/preview correction"))
