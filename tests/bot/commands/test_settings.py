"""/settings: format, language and pause by text arguments and by buttons."""

from __future__ import annotations

import pytest

from bot.commands import Core
from bot.commands.settings import Change, parse_settings
from storage.subscribers import Subscriber, get_subscriber
from tests.bot.commands.conftest import PRIVATE, Client, buttons, text_of


async def stored(core: Core) -> Subscriber:
    async with core.deps.sessions() as session:
        found = await get_subscriber(session, PRIVATE.platform, PRIVATE.chat_id)
    assert found is not None
    return found


async def test_settings_shows_the_current_values_and_buttons(client: Client) -> None:
    replies = await client.send("/settings")
    text = text_of(replies)
    assert "推送格式：完整" in text and "语言：中文" in text and "推送：开启" in text
    assert "/settings lang zh|en" in text
    assert [b.data for b in buttons(replies)] == [
        "g:f:full",
        "g:f:digest",
        "g:l:zh",
        "g:l:en",
        "g:p:1",
    ]


async def test_language_switch_changes_the_reply_language(client: Client) -> None:
    await client.send("/start")
    text = text_of(await client.send("/settings lang en"))
    assert "Saved." in text and "Language: English" in text
    assert (await stored(client.core)).language == "en"
    # The stored language now wins over the client's zh language_code.
    assert "Commands with examples:" in text_of(await client.send("/help"))
    assert "Contents" in text_of(await client.send("/latest"))
    back = text_of(await client.send("/settings 语言 中文"))
    assert "已保存" in back and "语言：中文" in back
    assert "命令与示例" in text_of(await client.send("/help"))


async def test_format_and_pause_by_text(client: Client) -> None:
    text = text_of(await client.send("/settings format digest pause"))
    assert "推送格式：摘要" in text and "推送：已暂停" in text
    found = await stored(client.core)
    assert (found.format, found.paused) == ("digest", True)
    await client.send("/settings resume")
    assert (await stored(client.core)).paused is False
    await client.send("/pause")
    assert (await stored(client.core)).paused is True


async def test_paused_chats_are_told_on_start(client: Client) -> None:
    await client.send("/settings pause")
    assert "推送已暂停，发送 /settings resume 恢复" in text_of(await client.send("/start"))


async def test_buttons_change_settings_and_edit_the_message(client: Client) -> None:
    await client.send("/settings")
    replies = await client.press(client.button("English"))
    assert replies[0].edit
    assert "Language: English" in text_of(replies)
    replies = await client.press(client.button("Digest format"))
    assert "Push format: digest" in text_of(replies)
    replies = await client.press(client.button("Pause pushes"))
    assert "Pushes: paused" in text_of(replies)
    assert client.button("Resume").data == "g:p:0"
    found = await stored(client.core)
    assert (found.language, found.format, found.paused) == ("en", "digest", True)


async def test_digest_format_is_used_for_the_whole_issue(client: Client) -> None:
    await client.send("/settings format digest")
    await client.send("/latest")
    text = text_of(await client.press(client.button("全文")))
    assert "BiViT-Edge" in text
    assert "查表近似" not in text  # summaries are left out of the digest


async def test_unknown_setting_is_named(client: Client) -> None:
    text = text_of(await client.send("/settings colour blue"))
    assert "不认识的设置：“colour”、“blue”" in text
    async with client.core.deps.sessions() as session:
        assert await get_subscriber(session, PRIVATE.platform, PRIVATE.chat_id) is None


async def test_forged_setting_buttons(client: Client) -> None:
    for data in ("g:l:fr", "g:f:html", "g:p:2", "g"):
        assert "按钮已失效" in text_of(await client.press(data)), data


@pytest.mark.parametrize(
    ("args", "change"),
    [
        (("lang", "en"), Change(language="en")),
        (("language", "English"), Change(language="en")),
        (("语言", "英文"), Change(language="en")),
        (("zh",), Change(language="zh")),
        (("format", "digest"), Change(format="digest")),
        (("格式", "完整"), Change(format="full")),
        (("digest", "en", "pause"), Change(format="digest", language="en", paused=True)),
        (("resume",), Change(paused=False)),
        (("恢复",), Change(paused=False)),
    ],
)
def test_parse_settings(args: tuple[str, ...], change: Change) -> None:
    assert parse_settings(args) == (change, [])


def test_parse_settings_reports_unknown_words() -> None:
    assert parse_settings(("lang", "fr")) == (Change(), ["fr"])
