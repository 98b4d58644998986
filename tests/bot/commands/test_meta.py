"""/start (default and deep-link subscriptions), /help and /stop."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.commands import Chat, Core, CoreDeps
from bot.config import Settings, TelegramSettings
from storage.subscribers import ALL, Subscription, get_subscriber
from tests.bot.commands.conftest import PRIVATE, Client, text_of


async def subscriptions_of(core: Core, chat: Chat = PRIVATE) -> tuple[Subscription, ...] | None:
    async with core.deps.sessions() as session:
        found = await get_subscriber(session, chat.platform, chat.chat_id)
    return None if found is None else found.subscriptions


async def test_start_welcomes_lists_commands_and_subscribes_everything(client: Client) -> None:
    text = text_of(await client.send("/start"))
    assert "欢迎使用「嵌入式AI简报」机器人" in text
    assert "当前订阅：全部栏目" in text
    for command in ("/latest", "/search", "/subscribe", "/sections", "/settings", "/stop"):
        assert command in text
    assert "/publish" not in text  # admin commands are not advertised
    assert await subscriptions_of(client.core) == (ALL,)


async def test_start_again_keeps_the_choice_and_says_welcome_back(client: Client) -> None:
    await client.send("/start papers")
    text = text_of(await client.send("/start"))
    assert "欢迎回来" in text
    assert "当前订阅：论文" in text
    assert await subscriptions_of(client.core) == (Subscription("section", "papers"),)


async def test_start_deep_link_subscribes_to_the_payload_only(client: Client) -> None:
    await client.send("/start chips")
    assert await subscriptions_of(client.core) == (Subscription("topic", "chips"),)


async def test_start_deep_link_with_several_names(client: Client) -> None:
    await client.send("/start papers-chips")
    assert await subscriptions_of(client.core) == (
        Subscription("section", "papers"),
        Subscription("topic", "chips"),
    )


async def test_start_with_unknown_payload_falls_back_to_default(client: Client) -> None:
    text = text_of(await client.send("/start nonsense"))
    assert "“nonsense”" in text
    assert await subscriptions_of(client.core) == (ALL,)


async def test_start_without_default_subscription(deps: CoreDeps) -> None:
    settings = Settings(telegram=TelegramSettings(default_subscription="none"))
    core = Core(replace(deps, settings=settings))
    text = text_of(await Client(core).send("/start"))
    assert "当前没有订阅任何内容" in text and "/sections" in text
    assert await subscriptions_of(core) == ()


async def test_start_in_english_for_an_english_client(core: Core) -> None:
    text = text_of(await Client(core, language_code="en-US").send("/start"))
    assert "Welcome to the “嵌入式AI简报” bot!" in text
    assert "Currently subscribed to: everything" in text


async def test_help_lists_every_public_command_with_an_example(client: Client) -> None:
    text = text_of(await client.send("/help"))
    for line in (
        "/latest [栏目|标签]",
        "例：/latest 论文",
        "例：/search 量化 芯片",
        "例：/issue 2026-11-02",
    ):
        assert line in text
    assert "/subscribe 栏目|标签…" in text and "例：/subscribe 论文 芯片" in text
    assert "管理员" not in text and "/stats" not in text


async def test_help_for_admins_adds_admin_commands(core: Core) -> None:
    text = text_of(await Client(core, is_admin=True).send("/help"))
    assert "管理员命令" in text and "/stats" in text and "/publish YYYY-MM-DD|latest" in text


async def test_help_on_wechat_shows_the_chinese_forms(core: Core) -> None:
    wechat = Client(core, chat=Chat("wechat", "openid-1", "user"))
    text = text_of(await wechat.send("帮助"))
    assert "例：最新 论文" in text and "例：搜索 量化 芯片" in text and "订阅 栏目|标签…" in text


async def test_stop_deletes_everything_about_the_chat(client: Client) -> None:
    await client.send("/start")
    await client.send("/settings lang en")
    text = text_of(await client.send("/stop"))
    assert "everything stored about this chat deleted" in text  # still in the chat's language
    assert await subscriptions_of(client.core) is None
    again = text_of(await client.send("/stop"))
    assert "本聊天没有订阅" in again  # nothing stored, so the client's language again


async def test_command_menu_in_both_languages(core: Core) -> None:
    zh = dict(core.command_menu("zh"))
    en = dict(core.command_menu("en"))
    assert list(zh) == list(en)
    assert list(zh)[:3] == ["start", "help", "latest"]
    assert "stats" not in zh and "publish" not in zh
    assert zh["search"] == "搜索往期内容" and en["search"] == "Search the archive"
    assert all(1 <= len(desc) <= 256 for desc in (*zh.values(), *en.values()))


@pytest.mark.parametrize(
    ("language", "first", "again"),
    [
        ("zh-hans", "欢迎使用「嵌入式AI简报」机器人", "欢迎回来！发送 /help 查看全部命令"),
        ("en", "Welcome to the “嵌入式AI简报” bot!", "Welcome back! Send /help for the commands"),
    ],
)
async def test_start_greets_once_then_reminds(
    core: Core, language: str, first: str, again: str
) -> None:
    client = Client(core, language_code=language)
    greeting = text_of(await client.send("/start"))
    assert first in greeting and "/unsubscribe" in greeting
    reminder = text_of(await client.send("/start"))
    assert again in reminder and first not in reminder
    assert "/unsubscribe" not in reminder  # no second command list
    assert ("当前订阅" if language == "zh-hans" else "Currently subscribed to") in reminder


@pytest.mark.parametrize(
    ("chat", "language", "expected"),
    [
        (PRIVATE, "zh-hans", "没有编号为 9 的按钮：请直接点按消息下方的按钮，或发送 /help"),
        (PRIVATE, "en", "No button is numbered 9: tap the buttons under a message"),
        (Chat("wechat", "openid-n", "user"), "zh-hans", "9 不是命令：发送 帮助 查看全部命令。"),
        (Chat("wechat", "openid-n", "user"), "en", "9 is not a command: send /help"),
    ],
)
async def test_a_number_that_matches_no_button_says_so(
    core: Core, chat: Chat, language: str, expected: str
) -> None:
    client = Client(core, chat=chat, language_code=language)
    await client.send("/latest")
    for typed in ("9", "９", " 9 "):
        assert expected in text_of(await client.send(typed)).replace("９", "9"), typed


async def test_a_number_in_a_group_is_chatter(core: Core) -> None:
    assert await Client(core, chat=Chat("telegram", "-77", "group")).send("9") == []
