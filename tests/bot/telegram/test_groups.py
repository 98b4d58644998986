"""Groups, supergroups, forum topics and channels: who is answered, and where."""

from __future__ import annotations

import json

from storage.subscribers import ALL, Subscription
from tests.bot.telegram.harness import ADMIN_ID, Harness, button_texts, visible

GROUP = -4001
SUPERGROUP = -1004002
CHANNEL = -1009003
MEMBER = 5150
GROUP_ADMIN = 5151
OWNER = 5152
BOT = "briefbot_test_bot"


async def test_group_commands_addressed_to_us_are_answered(harness: Harness) -> None:
    [overview] = await harness.say(SUPERGROUP, f"/latest@{BOT}", user_id=MEMBER)
    assert overview.visible_text.startswith("嵌入式AI简报 (2026-11-16)")
    [help_] = await harness.say(GROUP, "/help", user_id=MEMBER)  # no mention: still ours
    assert help_.visible_text.startswith("命令与示例：")
    [unknown] = await harness.say(GROUP, f"/frobnicate@{BOT}", user_id=MEMBER)
    assert "不认识的命令 /frobnicate" in unknown.visible_text

    [started] = await harness.say(SUPERGROUP, f"/start@{BOT}", user_id=MEMBER)
    assert "欢迎" in started.visible_text
    subscriber = await harness.subscriber(SUPERGROUP)
    assert subscriber is not None and subscriber.kind == "group"  # supergroup -> group


async def test_other_bots_commands_and_chatter_are_ignored(harness: Harness) -> None:
    assert await harness.say(GROUP, "/latest@some_other_bot", user_id=MEMBER) == []
    assert await harness.say(GROUP, "/frobnicate", user_id=MEMBER) == []  # another bot's
    assert await harness.say(GROUP, "今天的简报写得不错", user_id=MEMBER) == []
    assert await harness.subscriber(GROUP) is None


async def test_only_a_groups_admins_change_its_subscription(harness: Harness) -> None:
    """Asked of Telegram (getChatMember) through the real client, answered per chat."""
    harness.server.set_member(GROUP, GROUP_ADMIN, "administrator")
    harness.server.set_member(GROUP, OWNER, "creator")
    [refusal] = await harness.say(GROUP, f"/subscribe@{BOT} papers", user_id=MEMBER)
    assert "只有本群的管理员" in refusal.visible_text
    assert await harness.subscriber(GROUP) is None  # nothing changed

    [view] = await harness.say(GROUP, f"/sections@{BOT}", user_id=MEMBER)  # reading is free
    _, new = await harness.press(view, text="⬜ 论文", user_id=MEMBER)
    assert "只有本群的管理员" in visible(new)
    assert len(harness.current(view).edits) == 0

    [done] = await harness.say(GROUP, f"/subscribe@{BOT} papers", user_id=GROUP_ADMIN)
    assert "只有本群的管理员" not in done.visible_text
    subscriber = await harness.subscriber(GROUP)
    assert subscriber is not None
    assert subscriber.subscriptions == (Subscription("section", "papers"),)
    [done] = await harness.say(GROUP, f"/unsubscribe@{BOT} papers", user_id=OWNER)
    assert "只有本群的管理员" not in done.visible_text
    asked = [c for c in harness.server.calls if c.method == "getChatMember"]
    assert {int(c.params["user_id"]) for c in asked} >= {MEMBER, GROUP_ADMIN, OWNER}


async def test_group_button_presses_edit_the_toggles(harness: Harness) -> None:
    harness.server.set_member(GROUP, MEMBER, "administrator")
    [view] = await harness.say(GROUP, f"/sections@{BOT}", user_id=MEMBER)
    assert "⬜ 论文" in button_texts(view)

    _, new = await harness.press(view, text="⬜ 论文", user_id=MEMBER)
    assert new == []  # edited in place, nothing new in the group
    edited = harness.current(view)
    assert len(edited.edits) == 1
    assert "✅ 论文" in button_texts(edited) and "⬜ 博文" in button_texts(edited)
    subscriber = await harness.subscriber(GROUP)
    assert subscriber is not None
    assert subscriber.subscriptions == (Subscription("section", "papers"),)

    _, new = await harness.press(edited, text="⬜ 全部", user_id=ADMIN_ID)
    assert new == []
    edited = harness.current(view)
    assert len(edited.edits) == 2 and "✅ 全部" in button_texts(edited)
    subscriber = await harness.subscriber(GROUP)
    assert subscriber is not None and ALL in subscriber.subscriptions


async def test_forum_topic_replies_stay_in_the_topic(harness: Harness) -> None:
    harness.server.add_chat(SUPERGROUP, "supergroup", title="Forum")
    update = harness.server.inject_message(SUPERGROUP, "/help", user_id=MEMBER)
    # Make the queued update (not fetched yet: nothing awaited) a post in forum topic 7.
    update["message"].update(message_thread_id=7, is_topic_message=True)
    update["message"]["chat"]["is_forum"] = True
    await harness.settle()
    [reply] = harness.server.messages_in(SUPERGROUP)
    assert reply.message_thread_id == 7 and "Commands with examples" in reply.visible_text


async def test_channel_posts_are_not_answered(harness: Harness) -> None:
    harness.server.inject_channel_post(CHANNEL, "/latest", title="简报频道")
    harness.server.inject_channel_post(CHANNEL, f"/start@{BOT}")
    await harness.settle()
    assert harness.server.messages_in(CHANNEL) == []
    assert await harness.subscriber(CHANNEL) is None
    # Channel posts are not even requested from Telegram.
    for call in harness.server.calls_to("getUpdates"):
        assert json.loads(call.params["allowed_updates"]) == ["message", "callback_query"]
    # Private chats go on being served after the channel traffic.
    reply = await harness.say(99, "/help")
    assert "命令与示例" in visible(reply)
