"""/subscribe, /unsubscribe and the /sections toggles, checked against the database."""

from __future__ import annotations

import pytest

from bot.commands import Chat, Core
from bot.commands.subscription_names import resolve_names
from briefings.taxonomy import Taxonomy
from storage.subscribers import ALL, Subscription, get_or_create, get_subscriber, set_subscriptions
from tests.bot.commands.conftest import PRIVATE, Client, buttons, text_of

PAPERS = Subscription("section", "papers")
NEWS = Subscription("section", "news")
CHIPS = Subscription("topic", "chips")


async def subs(core: Core, chat: Chat = PRIVATE) -> tuple[Subscription, ...]:
    async with core.deps.sessions() as session:
        found = await get_subscriber(session, chat.platform, chat.chat_id)
    return () if found is None else found.subscriptions


@pytest.mark.parametrize("name", ["papers", "论文", "paper", "Papers", "论文速递", "PAPERS"])
async def test_subscribe_to_a_section_by_key_chinese_or_alias(client: Client, name: str) -> None:
    text = text_of(await client.send(f"/subscribe {name}"))
    assert "已订阅：论文" in text
    assert await subs(client.core) == (PAPERS,)


async def test_subscribe_to_several_sections_and_topics(client: Client) -> None:
    text = text_of(await client.send("/subscribe 论文, chips 新闻"))
    assert "已订阅：论文、芯片、业界新闻" in text
    assert set(await subs(client.core)) == {PAPERS, CHIPS, NEWS}
    again = text_of(await client.send("/subscribe papers"))
    assert "本来就已订阅：论文" in again


async def test_multi_word_aliases(client: Client) -> None:
    await client.send("/subscribe open source industry news")
    assert set(await subs(client.core)) == {Subscription("section", "projects"), NEWS}


@pytest.mark.parametrize("word", ["all", "全部", "ALL"])
async def test_subscribe_all_is_a_state_of_its_own(client: Client, word: str) -> None:
    await client.send("/subscribe papers chips")
    text = text_of(await client.send(f"/subscribe {word}"))
    assert "已订阅：全部栏目和标签" in text and "当前订阅：全部栏目和标签" in text
    assert await subs(client.core) == (ALL,)


async def test_unknown_names_list_the_valid_ones(client: Client) -> None:
    text = text_of(await client.send("/subscribe papers 天气 sports"))
    assert "已订阅：论文" in text
    assert "不认识：“天气”、“sports”。可用的有：" in text
    assert "papers（论文）" in text and "chips（芯片）" in text and "all / 全部" in text
    assert await subs(client.core) == (PAPERS,)


async def test_only_unknown_names_change_nothing(client: Client) -> None:
    text = text_of(await client.send("/subscribe 天气"))
    assert "不认识" in text and "已订阅" not in text
    assert await subs(client.core) == ()


async def test_unknown_names_in_english(core: Core) -> None:
    text = text_of(await Client(core, language_code="en").send("/subscribe weather"))
    assert "Unknown: “weather”. Valid names are:" in text and "papers (Papers)" in text


async def test_usage_without_arguments(client: Client) -> None:
    text = text_of(await client.send("/subscribe"))
    assert "用法：/subscribe" in text and "/subscribe 论文" in text and "papers（论文）" in text
    assert "用法：/unsubscribe" in text_of(await client.send("/unsubscribe"))


async def test_unsubscribe(client: Client) -> None:
    await client.send("/subscribe papers chips")
    text = text_of(await client.send("/unsubscribe 芯片"))
    assert "已退订：芯片" in text
    assert await subs(client.core) == (PAPERS,)
    text = text_of(await client.send("/unsubscribe chips"))
    assert "本来就没有订阅：芯片" in text


async def test_unsubscribe_a_section_while_subscribed_to_everything(client: Client) -> None:
    await client.send("/start")
    text = text_of(await client.send("/unsubscribe 论文"))
    assert "已退订：论文" in text
    assert (
        "当前订阅：业界新闻、开源项目、博文、应用、芯片、量化、模型压缩、推理框架、编译器、"
        "网络结构搜索、目标检测、轻量网络、微控制器"
    ) in text
    assert "注意：论文中与你订阅的标签相关的条目仍会推送" in text
    remaining = await subs(client.core)
    assert PAPERS not in remaining and ALL not in remaining
    assert {s.key for s in remaining if s.kind == "section"} == {
        "news",
        "projects",
        "blogs",
        "apps",
    }
    assert len([s for s in remaining if s.kind == "topic"]) == 9
    # subscribing again to what was taken away makes it everything again
    assert "当前订阅：全部栏目和标签" in text_of(await client.send("/subscribe papers"))
    assert await subs(client.core) == (ALL,)


async def test_unsubscribe_a_topic_while_on_everything_says_its_entries_still_come(
    client: Client,
) -> None:
    await client.send("/start")
    text = text_of(await client.send("/unsubscribe chips"))
    assert "已退订：芯片" in text and "芯片" not in text.split("当前订阅：")[1].split("\n")[0]
    assert "与芯片相关的条目仍会随你订阅的栏目一起推送" in text
    assert CHIPS not in await subs(client.core)


async def test_subscribe_an_item_on_everything_says_it_is_included(client: Client) -> None:
    await client.send("/start")
    text = text_of(await client.send("/subscribe chips"))
    assert "已包含在内：芯片（你订阅的是全部栏目和标签）" in text
    assert "当前订阅：全部栏目和标签" in text and "本来就已订阅" not in text
    assert await subs(client.core) == (ALL,)
    en = text_of(await Client(client.core, language_code="en").send("/subscribe chips"))
    assert "Already included: Chips (you get everything)" in en


async def test_unsubscribe_all_removes_sections_and_topics_and_says_so(client: Client) -> None:
    await client.send("/subscribe papers chips")
    text = text_of(await client.send("/unsubscribe 全部"))
    assert "已退订全部栏目和标签。" in text and "当前没有订阅任何内容。" in text
    assert await subs(client.core) == ()
    assert "本来就没有订阅任何内容。" in text_of(await client.send("/unsubscribe all"))


async def test_unsubscribe_all_in_english(core: Core) -> None:
    english = Client(core, language_code="en")
    await english.send("/start")
    text = text_of(await english.send("/unsubscribe all"))
    assert "Unsubscribed from everything: every section and topic." in text
    assert "Currently subscribed to nothing." in text


async def test_the_subscription_is_listed_sections_first_in_taxonomy_order(
    client: Client,
) -> None:
    text = text_of(await client.send("/subscribe 微控制器 应用 chips 论文"))
    assert "已订阅：微控制器、应用、芯片、论文" in text  # as typed
    assert "当前订阅：论文、应用、芯片、微控制器" in text  # sections, then topics
    en = text_of(await Client(client.core, language_code="en").send("/sections"))
    assert "Currently subscribed to: Papers, Applications, Chips, TinyML & microcontrollers" in en


async def test_unsubscribe_without_a_subscriber_creates_nothing(client: Client) -> None:
    assert "本来就没有订阅：论文" in text_of(await client.send("/unsubscribe papers"))
    async with client.core.deps.sessions() as session:
        assert await get_subscriber(session, PRIVATE.platform, PRIVATE.chat_id) is None


async def test_sections_shows_the_state_and_toggles_edit_the_message(client: Client) -> None:
    await client.send("/subscribe papers")
    replies = await client.send("/sections")
    text = text_of(replies)
    assert "当前订阅：论文" in text and "✅ 论文" in text and "⬜ 业界新闻" in text
    labels = [b.text for b in buttons(replies)]
    assert labels[0] == "⬜ 全部"
    assert "✅ 论文" in labels and "⬜ 芯片" in labels and len(labels) == 1 + 5 + 9

    toggled = await client.press(client.button("⬜ 芯片"))
    assert toggled[0].edit
    assert "✅ 芯片" in [b.text for b in buttons(toggled)]
    assert "当前订阅：论文、芯片" in text_of(toggled)
    assert set(await subs(client.core)) == {PAPERS, CHIPS}

    toggled = await client.press(client.button("✅ 论文"))
    assert "⬜ 论文" in [b.text for b in buttons(toggled)]
    assert await subs(client.core) == (CHIPS,)


async def test_everything_ticks_every_section_and_topic(client: Client) -> None:
    await client.send("/start")
    replies = await client.send("/sections")
    labels = [b.text for b in buttons(replies)]
    assert labels[0] == "✅ 全部" and all(label.startswith("✅") for label in labels)
    assert "⬜" not in text_of(replies)
    toggled = await client.press(client.button("✅ 芯片"))
    labels = [b.text for b in buttons(toggled)]
    assert labels[0] == "⬜ 全部" and "⬜ 芯片" in labels
    assert [label for label in labels if label.startswith("⬜")] == ["⬜ 全部", "⬜ 芯片"]
    assert CHIPS not in await subs(client.core) and len(await subs(client.core)) == 13
    again = await client.press(client.button("⬜ 芯片"))
    assert buttons(again)[0].text == "✅ 全部"
    assert await subs(client.core) == (ALL,)


async def test_toggling_every_item_on_collapses_into_all(client: Client) -> None:
    await client.send("/sections")
    taxonomy = client.core.deps.taxonomy
    for item in (*taxonomy.sections, *taxonomy.topics):
        await client.press(client.button(f"⬜ {item.zh}"))
    assert await subs(client.core) == (ALL,)
    assert client.button("全部").text == "✅ 全部"


async def test_toggle_all_on_and_off(client: Client) -> None:
    await client.send("/subscribe papers chips")
    await client.send("/sections")
    await client.press(client.button("⬜ 全部"))
    assert await subs(client.core) == (ALL,)
    off = await client.press(client.button("✅ 全部"))
    assert await subs(client.core) == ()
    assert "当前没有订阅任何内容" in text_of(off)


async def test_legacy_all_with_topics_reads_as_everything(client: Client) -> None:
    async with client.core.deps.sessions.begin() as session:
        subscriber, _ = await get_or_create(session, PRIVATE.platform, PRIVATE.chat_id)
        await set_subscriptions(session, subscriber.id, [ALL, CHIPS])
    text = text_of(await client.send("/sections"))
    assert "当前订阅：全部栏目和标签" in text and "⬜" not in text
    await client.send("/unsubscribe papers")
    assert ALL not in await subs(client.core) and CHIPS in await subs(client.core)


async def test_forged_toggles_are_refused(client: Client) -> None:
    for data in ("t:s:nosuch", "t:x:papers", "t:s#:99", "t", "t:s"):
        assert "按钮已失效" in text_of(await client.press(data)), data
    assert await subs(client.core) == ()


async def test_group_subscription_belongs_to_the_group(core: Core) -> None:
    group = Chat("telegram", "-500", "group")
    alice = Client(core, chat=group, user_id="1")
    bob = Client(core, chat=group, user_id="2")
    await alice.send("/subscribe@briefbot papers")
    text = text_of(await bob.send("/sections@briefbot"))
    assert "当前订阅：论文" in text
    await bob.press(bob.button("⬜ 芯片"))
    assert set(await subs(core, group)) == {PAPERS, CHIPS}
    assert await subs(core) == ()  # nobody's private chat changed
    async with core.deps.sessions() as session:
        found = await get_subscriber(session, "telegram", "-500")
    assert found is not None and found.kind == "group"


async def test_wechat_subscribe_by_chinese_text(core: Core) -> None:
    chat = Chat("wechat", "openid-9", "user")
    wechat = Client(core, chat=chat)
    assert "已订阅：论文" in text_of(await wechat.send("订阅 论文"))
    assert "已退订：论文" in text_of(await wechat.send("退订论文"))
    text = text_of(await wechat.send("栏目"))
    assert "订阅 论文" in text  # text platforms are told how to subscribe


def test_resolve_names_is_greedy_and_deduplicates() -> None:
    resolved = resolve_names(Taxonomy.default(), "papers 论文 open source x chips、芯片")
    assert resolved.subscriptions == (PAPERS, Subscription("section", "projects"), CHIPS)
    assert resolved.unknown == ("x",)


async def test_notes_only_when_an_overlap_keeps_delivering(client: Client) -> None:
    await client.send("/subscribe papers")
    alone = text_of(await client.send("/unsubscribe papers"))
    assert "注意" not in alone and "当前没有订阅任何内容" in alone
    await client.send("/subscribe papers chips")
    both = text_of(await client.send("/unsubscribe papers"))
    assert "注意：论文中与你订阅的标签相关的条目仍会推送" in both
    english = Client(client.core, language_code="en")
    await english.send("/subscribe papers")
    text = text_of(await english.send("/unsubscribe chips"))
    assert "Note: entries on Chips still come with the sections you get." in text
