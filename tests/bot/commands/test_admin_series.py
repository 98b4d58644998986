"""Admin commands with two series: /stats counts per series (each series' subscribers,
sections and topics in its own taxonomy's names, its last pushes) or for the one named,
and `/preview correction SERIES [KEY|NUMBER]` asks about that series' issue; in zh and
en. With one series both answer as before (tests/bot/commands/test_admin.py). Both
databases."""

from __future__ import annotations

from bot.commands import Chat, Core
from storage.deliveries.writes import DeliveryItem, create_deliveries
from storage.issues import find_numbered_id
from storage.publication import claim_publication
from storage.subscribers import get_subscriber
from tests.bot.commands.conftest import T0, Client, FakeCorrections, FakePublisher, text_of
from tests.bot.commands.test_series_commands import two  # noqa: F401  (the fixture)


async def _readers(core: Core) -> None:
    """One reader of the first series, one of widgets' releases, one of both; widgets
    #51 pushed to the second (one pending delivery)."""
    await Client(core, chat=Chat("telegram", "1", "private"), user_id="1").send("/start")
    await Client(core, chat=Chat("telegram", "2", "private"), user_id="2").send(
        "/subscribe widgets releases"
    )
    both = Client(core, chat=Chat("wechat", "o-3", "user"), user_id="o-3")
    await both.send("订阅 论文")
    await Client(core, chat=Chat("telegram", "3", "private"), user_id="3").send(
        "/subscribe widgets releases"
    )
    await Client(core, chat=Chat("telegram", "3", "private"), user_id="3").send("/subscribe 芯片")
    async with core.deps.sessions.begin() as session:
        issue_id = await find_numbered_id(session, "widgets", 51)
        reader = await get_subscriber(session, "telegram", "2")
        assert issue_id is not None and reader is not None
        messages = [{"text": "x", "format": "text", "size": 1, "unit": "chars"}]
        item = DeliveryItem(reader.id, "k", "telegram", messages)
        await create_deliveries(session, issue_id, [item], T0)
        assert await claim_publication(session, issue_id, T0)


async def test_stats_counts_each_series_in_its_own_names(two: Core) -> None:  # noqa: F811
    await _readers(two)
    zh = text_of(await Client(two, is_admin=True).send("/stats")).splitlines()
    head, first, widgets = zh[:4], zh[4:12], zh[12:]
    assert head == ["订阅统计", "按平台：Telegram 3、微信公众号 1", "已暂停：0；已失效：0", ""]
    assert first == [
        "【嵌入式AI简报】（embedded-ai）",
        "订阅者：3",
        "订阅全部：1",
        "按栏目：论文 1",
        "按标签：芯片 1",
        "最近推送：",
        "还没有推送过。",
        "",
    ]
    assert widgets == [
        "【This Week in Widgets】（widgets）",
        "订阅者：2",
        "订阅全部：0",
        "按栏目：无",
        "按标签：发布 2",
        "最近推送：",
        "#51 于 2026-11-20 08:00 UTC：Telegram 待发送 1",
    ]
    en = text_of(await Client(two, is_admin=True, language_code="en").send("/stats"))
    assert "\nThis Week in Widgets (widgets)\nSubscribers: 2\n" in en
    pushes = "Last pushes:\n#51 at 2026-11-20 08:00 UTC: Telegram pending 1"
    assert "By topic: Releases 2\n" + pushes in en
    assert "嵌入式AI简报 (embedded-ai)\nSubscribers: 3\nSubscribed to everything: 1\n" in en


async def test_stats_of_one_named_series(two: Core) -> None:  # noqa: F811
    await _readers(two)
    en = Client(two, is_admin=True, language_code="en")
    for typed in ("/stats widgets", "/stats This Week in Widgets"):
        text = text_of(await en.send(typed))
        assert text.startswith("Subscriber statistics\nBy platform: Telegram 3, WeChat 1\n")
        assert "\nThis Week in Widgets (widgets)\nSubscribers: 2\n" in text
        assert "embedded-ai" not in text
    zh = text_of(await Client(two, is_admin=True).send("/stats embedded-ai"))
    assert "【嵌入式AI简报】（embedded-ai）\n订阅者：3" in zh and "widgets" not in zh
    assert text_of(await en.send("/stats gadgets")) == (
        "No series “gadgets”; series: embedded-ai, widgets"
    )
    assert text_of(await Client(two, is_admin=True).send("/stats gadgets")).startswith(
        "没有叫「gadgets」的系列；"
    )


async def test_preview_correction_of_another_series_by_number(
    two: Core,  # noqa: F811
    corrections: FakeCorrections,
    publisher: FakePublisher,
) -> None:
    zh, en = Client(two, is_admin=True), Client(two, is_admin=True, language_code="en")
    assert text_of(await zh.send("/preview 更正 widgets 50")) == (
        "#50 这一期没有推送过：修改它不需要更正。"
    )
    assert text_of(await en.send("/preview correction widgets #50")) == (
        "Issue #50 was never pushed: an edit needs no correction."
    )
    assert text_of(await zh.send("/preview correction widgets 第99期")) == (
        "This Week in Widgets没有第 99 期。"
    )
    assert text_of(await en.send("/preview correction WIDGETS 99")) == (
        "This Week in Widgets has no issue #99."
    )
    assert "更正预演（不发送）" in text_of(await zh.send("/preview correction widgets latest"))
    assert "更正预演（不发送）" in text_of(await zh.send("/preview correction widgets"))
    assert corrections.calls == [50, 50, 99, 99, None, None]
    assert corrections.series == ["widgets"] * 6
    assert publisher.calls == []


async def test_preview_correction_of_the_first_series_and_errors(
    two: Core,  # noqa: F811
    corrections: FakeCorrections,
) -> None:
    zh, en = Client(two, is_admin=True), Client(two, is_admin=True, language_code="en")
    assert "更正预演（不发送）" in text_of(await zh.send("/preview correction 2026-11-16"))
    assert text_of(await en.send("/preview correction 51")) == "嵌入式AI简报 has no issue #51."
    assert corrections.series == ["embedded-ai"] * 2
    assert text_of(await en.send("/preview correction gadgets 51")) == (
        "No series “gadgets”; series: embedded-ai, widgets"
    )
    usage = text_of(await en.send("/preview correction widgets soon"))
    assert "/preview correction [YYYY-MM-DD|NUMBER]" in usage
    assert "the series first: /preview correction SERIES 51)" in usage
    assert "有多个系列时先写系列：/preview 更正 系列 51）" in text_of(
        await zh.send("/preview 更正 widgets 50 51")
    )
    assert len(corrections.calls) == 2  # nothing asked for the errors


async def test_one_series_stats_and_correction_take_no_series(
    two: Core,  # noqa: F811
    corrections: FakeCorrections,
) -> None:
    from dataclasses import replace

    one = Core(replace(two.deps, catalog=two.deps.catalog[:1]))
    admin = Client(one, is_admin=True)
    text = text_of(await admin.send("/stats widgets"))  # no series: the word is ignored
    assert "订阅者" not in text and "【" not in text and "订阅全部：0" in text
    assert "用法：/preview" in text_of(await admin.send("/preview correction widgets 50"))
    assert text_of(await admin.send("/preview correction 51")) == "嵌入式AI简报没有第 51 期。"
    assert corrections.series == ["embedded-ai"]
