"""The reader's side of issue 14 end to end on the local Bot API server, in Chinese and
in English: "all" is a state every reply and keyboard follows, the subscription is
listed in a fixed order, /start greets once, a number no button has says so, and
/latest in English names sections in English with correct plurals."""

from __future__ import annotations

import pytest

from storage.subscribers import ALL, Subscription
from tests.bot.telegram.conftest import HarnessFactory
from tests.bot.telegram.harness import ADMIN_ID, Harness, button_texts

ZH, EN = 6101, 6202


@pytest.fixture
async def everything(harness_factory: HarnessFactory) -> Harness:
    """Readers start on everything, as `telegram.default_subscription = "all"` says."""
    return await harness_factory(telegram={"default_subscription": "all"})


async def subscriptions(harness: Harness, chat: int) -> tuple[Subscription, ...]:
    subscriber = await harness.subscriber(chat)
    assert subscriber is not None
    return subscriber.subscriptions


async def test_all_is_a_state_every_reply_and_keyboard_follows_in_chinese(
    everything: Harness,
) -> None:
    h = everything
    [welcome] = await h.say(ZH, "/start")
    assert "欢迎使用「嵌入式AI简报」机器人！" in welcome.visible_text
    assert "当前订阅：全部栏目和标签" in welcome.visible_text
    [again] = await h.say(ZH, "/start")  # greets once
    assert "欢迎回来" in again.visible_text and "欢迎使用" not in again.visible_text

    [included] = await h.say(ZH, "/subscribe chips")
    assert "已包含在内：芯片（你订阅的是全部栏目和标签）" in included.visible_text
    assert "本来就已订阅" not in included.visible_text
    [sections] = await h.say(ZH, "/sections")
    labels = button_texts(sections)
    assert labels[0] == "✅ 全部" and all(label.startswith("✅") for label in labels)
    assert "✅ 芯片" in labels and "⬜" not in sections.visible_text

    [left] = await h.say(ZH, "/unsubscribe 论文")
    assert "已退订：论文" in left.visible_text
    assert (
        "当前订阅：业界新闻、开源项目、博文、应用、芯片、量化、模型压缩、推理框架、编译器、"
        "网络结构搜索、目标检测、轻量网络、微控制器"
    ) in left.visible_text  # the explicit rest, sections in the order, then topics
    rest = await subscriptions(h, ZH)
    assert ALL not in rest and Subscription("section", "papers") not in rest and len(rest) == 13

    [keyboard] = await h.say(ZH, "/sections")
    unticked = [label for label in button_texts(keyboard) if label.startswith("⬜")]
    assert unticked == ["⬜ 全部", "⬜ 论文"]
    _, new = await h.press(keyboard, text="⬜ 论文")  # ticking it back: everything again
    assert new == [] and button_texts(h.current(keyboard))[0] == "✅ 全部"
    assert await subscriptions(h, ZH) == (ALL,)

    [gone] = await h.say(ZH, "/unsubscribe all")
    assert "已退订全部栏目和标签。" in gone.visible_text
    assert "当前没有订阅任何内容。" in gone.visible_text
    assert await subscriptions(h, ZH) == ()  # topics too

    await h.say(ZH, "/latest")
    [nine] = await h.say(ZH, "9")
    assert "没有编号为 9 的按钮" in nine.visible_text


async def test_all_is_a_state_every_reply_and_keyboard_follows_in_english(
    everything: Harness,
) -> None:
    h = everything
    [welcome] = await h.say(EN, "/start", language_code="en")
    assert "Welcome to the “嵌入式AI简报” bot!" in welcome.visible_text
    [again] = await h.say(EN, "/start", language_code="en")
    assert again.visible_text.startswith("Welcome back!")

    [included] = await h.say(EN, "/subscribe chips", language_code="en")
    assert "Already included: Chips (you get everything)" in included.visible_text
    [left] = await h.say(EN, "/unsubscribe chips", language_code="en")
    current = left.visible_text.split("Currently subscribed to: ")[1].split("\n")[0]
    assert current.startswith("Industry news, Papers, ") and "Chips" not in current
    [keyboard] = await h.say(EN, "/sections", language_code="en")
    unticked = [label for label in button_texts(keyboard) if label.startswith("⬜")]
    assert unticked == ["⬜ Everything", "⬜ Chips"]

    [overview] = await h.say(EN, "/latest", language_code="en")
    text = overview.visible_text
    assert "• Applications — 1 entry" in text and "• Papers — 3 entries" in text
    assert "业界新闻" not in text and "— 1 entries" not in text
    assert "Papers (3)" in button_texts(overview)

    [nine] = await h.say(EN, "9", language_code="en")
    assert "No button is numbered 9" in nine.visible_text
    [gone] = await h.say(EN, "/unsubscribe all", language_code="en")
    assert "Unsubscribed from everything: every section and topic." in gone.visible_text
    assert await subscriptions(h, EN) == ()


async def test_a_groups_subscription_is_for_its_admins_in_english_too(harness: Harness) -> None:
    group, member, admin, bot = -4101, 5250, 5251, "briefbot_test_bot"
    harness.server.set_member(group, admin, "administrator")
    [refusal] = await harness.say(
        group, f"/subscribe@{bot} papers", user_id=member, language_code="en"
    )
    assert refusal.visible_text.startswith("Sorry, only this group's admins can change")
    assert await harness.subscriber(group) is None
    [done] = await harness.say(group, f"/subscribe@{bot} papers", user_id=admin, language_code="en")
    assert "Subscribed: Papers" in done.visible_text
    await harness.say(group, f"/unsubscribe@{bot} papers", user_id=admin, language_code="en")
    asked = [c for c in harness.server.calls if c.method == "getChatMember"]
    # each user asked once: the answer is cached briefly
    assert sorted(int(c.params["user_id"]) for c in asked) == [member, admin]


async def test_an_english_admin_gets_stats_and_help_in_english(harness: Harness) -> None:
    [stats] = await harness.say(ADMIN_ID, "/stats", language_code="en")
    assert "By platform" in stats.visible_text and "按平台" not in stats.visible_text
    [help_] = await harness.say(ADMIN_ID, "/help", language_code="en")
    text = help_.visible_text
    assert "Admin commands:" in text and "管理员" not in text
    assert "/preview YYYY-MM-DD|latest|correction [YYYY-MM-DD]" in text
    assert "Corrections: when a published issue is edited within 48 hours" in text
    assert "set publish.corrections = false in the configuration" in text
    assert "To switch them off, send /corrections off (/corrections on switches" in text
    [chinese] = await harness.say(ADMIN_ID, "/help")
    assert "/preview YYYY-MM-DD|latest|更正 [YYYY-MM-DD]" in chinese.visible_text
    assert "关闭：发送 /corrections 关（/corrections 开 重新开启）；或在配置里设 " in (
        chinese.visible_text
    )
    assert "publish.corrections = false 并重启" in chinese.visible_text
