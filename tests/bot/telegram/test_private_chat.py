"""A user's whole conversation with the bot in a private chat, over the fake Bot API."""

from __future__ import annotations

from storage.subscribers import Subscription
from tests.bot.telegram.harness import Harness, button_texts, visible

USER = 4242


async def test_a_user_subscribes_browses_searches_switches_language_and_stops(
    harness: Harness,
) -> None:
    [welcome] = await harness.say(USER, "/start")
    assert "欢迎使用「嵌入式AI简报」机器人！" in welcome.visible_text
    assert "/latest — 最新一期" in welcome.visible_text
    assert welcome.parse_mode == "HTML"
    subscriber = await harness.subscriber(USER)
    assert subscriber is not None and subscriber.kind == "private"
    assert subscriber.subscriptions == ()  # default_subscription = "none" in these tests

    [subscribed] = await harness.say(USER, "/subscribe papers")
    assert "已订阅：论文" in subscribed.visible_text
    subscriber = await harness.subscriber(USER)
    assert subscriber is not None
    assert subscriber.subscriptions == (Subscription("section", "papers"),)

    [overview] = await harness.say(USER, "/latest")
    assert overview.visible_text.startswith("嵌入式AI简报 (2026-11-16)")
    assert "• 论文 — 3 条" in overview.visible_text
    assert button_texts(overview) == [
        "业界新闻 (3)", "应用 (1)", "论文 (3)", "开源项目 (2)", "博文 (2)", "全文",
    ]  # fmt: skip
    assert overview.link_preview_options == {"is_disabled": True}

    query_id, section = await harness.press(overview, text="论文 (3)")
    assert harness.server.callback_answer(query_id) is not None  # the spinner stops
    text = visible(section)
    for title in (
        "BiViT-Edge: Binary Vision Transformers for Microcontrollers",
        "HW-NAS-Mobile: Hardware-Aware Neural Architecture Search with Latency Predictors",
        "Distilling Detectors into 1MB Models",
    ):
        assert title in text
    assert "Paddle-Lite" not in text and "MLIR" not in text  # only that section
    assert harness.current(overview).edits == []  # the overview stays as it was

    [page1] = await harness.say(USER, "/search 量化")
    assert "搜索“量化”" in page1.visible_text and "第 1/3 页" in page1.visible_text
    assert "量化感知训练实践：让MobileNet在INT8下不掉点" in page1.visible_text
    assert button_texts(page1) == ["下一页 »"]
    _, [page2] = await harness.press(page1, text="下一页 »")
    assert "第 2/3 页" in page2.visible_text
    assert "CalibFree-Q: Data-Free INT4 Weight Quantization" in page2.visible_text
    assert "量化感知训练实践" not in page2.visible_text  # page 1's hits are not repeated

    [mnn] = await harness.say(USER, "/search MNN")
    assert "alibaba/MNN: MNN 3.2 发布" in mnn.visible_text
    assert "1/1" in mnn.visible_text and button_texts(mnn) == []

    [settings] = await harness.say(USER, "/settings lang en")
    assert "Saved." in settings.visible_text and "Language: English" in settings.visible_text
    [help_] = await harness.say(USER, "/help")  # the user's client is still Chinese
    assert help_.visible_text.startswith("Commands with examples:")
    [overview_en] = await harness.say(USER, "/latest")
    assert "Papers (3)" in button_texts(overview_en)

    [stopped] = await harness.say(USER, "/stop")
    assert stopped.visible_text.startswith("Pushes stopped and everything stored about")
    assert await harness.subscriber(USER) is None


async def test_language_follows_the_client_until_a_setting_is_stored(harness: Harness) -> None:
    [english] = await harness.say(USER, "/help", language_code="en-GB")
    assert english.visible_text.startswith("Commands with examples:")
    [chinese] = await harness.say(USER + 1, "/help", language_code="zh-hans")
    assert chinese.visible_text.startswith("命令与示例：")
    [hint] = await harness.say(USER, "hello there", language_code="en")
    assert "/help" in hint.visible_text  # chatter in private: a hint, not silence


async def test_a_stored_chat_follows_its_client_until_settings_choose(harness: Harness) -> None:
    await harness.say(USER, "/start", language_code="zh-hans")
    [english] = await harness.say(USER, "/help", language_code="en")  # the client changed
    assert english.visible_text.startswith("Commands with examples:")
    subscriber = await harness.subscriber(USER)
    assert subscriber is not None and subscriber.language == "en"  # pushes follow too
    [chosen] = await harness.say(USER, "/settings lang zh", language_code="en")
    assert "语言：中文" in chosen.visible_text
    [chinese] = await harness.say(USER, "/help", language_code="en")
    assert chinese.visible_text.startswith("命令与示例：")  # the choice outlives the client
    subscriber = await harness.subscriber(USER)
    assert subscriber is not None and (subscriber.language, subscriber.language_chosen) == (
        "zh",
        True,
    )


async def test_whole_issue_and_settings_toggles(harness: Harness) -> None:
    [overview] = await harness.say(USER, "/latest")
    _, whole = await harness.press(overview, text="全文")
    text = visible(whole)
    assert "端侧AI芯片创企完成5亿元融资" in text and "MLIR方言入门" in text
    assert all(m.parse_mode == "HTML" for m in whole)

    [view] = await harness.say(USER, "/settings")
    assert "• 完整格式" in button_texts(view)
    _, new = await harness.press(view, data="g:f:digest")
    assert new == []  # the settings message was edited in place
    edited = harness.current(view)
    assert len(edited.edits) == 1 and "推送格式：摘要" in edited.visible_text
    assert "• 摘要格式" in button_texts(edited)
    subscriber = await harness.subscriber(USER)
    assert subscriber is not None and subscriber.format == "digest"

    _, again = await harness.press(edited, data="g:f:digest")  # a double press
    assert again == [] and len(harness.current(view).edits) == 1
    # Telegram refuses the identical edit; the adapter takes that as done, sends nothing.
    harness.expect_refusals = True
    assert [c.description for c in harness.refused()] == [
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message"
    ]
