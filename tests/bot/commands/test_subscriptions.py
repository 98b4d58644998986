"""/subscribe, /unsubscribe and the /sections toggles, checked against the database."""

from __future__ import annotations

import pytest

from bot.commands import Chat, Core
from bot.commands.subscription_names import resolve_names
from briefings.taxonomy import Taxonomy
from storage.subscribers import ALL, Subscription, get_subscriber
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
async def test_subscribe_all_replaces_sections_keeps_topics(client: Client, word: str) -> None:
    await client.send("/subscribe papers chips")
    text = text_of(await client.send(f"/subscribe {word}"))
    assert "已订阅：全部栏目" in text
    assert set(await subs(client.core)) == {ALL, CHIPS}


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
    remaining = await subs(client.core)
    assert PAPERS not in remaining and ALL not in remaining
    assert {s.key for s in remaining} == {"news", "projects", "blogs", "apps"}


async def test_unsubscribe_all(client: Client) -> None:
    await client.send("/subscribe papers chips")
    assert "已退订：全部栏目" in text_of(await client.send("/unsubscribe 全部"))
    assert await subs(client.core) == ()


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
    assert labels[0] == "⬜ 全部栏目"
    assert "✅ 论文" in labels and "⬜ 芯片" in labels and len(labels) == 1 + 5 + 9

    toggled = await client.press(client.button("⬜ 芯片"))
    assert toggled[0].edit
    assert "✅ 芯片" in [b.text for b in buttons(toggled)]
    assert set(await subs(client.core)) == {PAPERS, CHIPS}

    toggled = await client.press(client.button("✅ 论文"))
    assert "⬜ 论文" in [b.text for b in buttons(toggled)]
    assert await subs(client.core) == (CHIPS,)


async def test_toggling_every_section_on_collapses_into_all(client: Client) -> None:
    await client.send("/sections")
    for name in ("业界新闻", "论文", "开源项目", "博文", "应用"):
        await client.press(client.button(f"⬜ {name}"))
    assert await subs(client.core) == (ALL,)
    assert client.button("全部栏目").text == "✅ 全部栏目"
    await client.press(client.button("✅ 应用"))
    assert {s.key for s in await subs(client.core)} == {"news", "papers", "projects", "blogs"}


async def test_toggle_all_on_and_off(client: Client) -> None:
    await client.send("/subscribe papers chips")
    await client.send("/sections")
    await client.press(client.button("⬜ 全部栏目"))
    assert set(await subs(client.core)) == {ALL, CHIPS}
    await client.press(client.button("✅ 全部栏目"))
    assert await subs(client.core) == (CHIPS,)


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
