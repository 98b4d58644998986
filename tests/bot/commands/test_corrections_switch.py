"""/corrections [on|off] (更正 [开|关]) on the command core, in Chinese and English:
admins switch corrections off and on from the chat, the switch is stored (every
instance's corrector reads it), everyone else is refused, and the configuration's
`publish.corrections = false` stays a hard off the chat cannot override."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.commands import Chat, Core, CoreDeps
from storage.switches import corrections_switch
from tests.bot.commands.conftest import T0, Client, text_of

WECHAT = Chat("wechat", "openid-admin", "user")
AT = "2026-11-20T16:00+08:00"  # T0 in the publication's time zone (Asia/Shanghai)


async def switched_on(deps: CoreDeps) -> bool:
    async with deps.sessions() as session:
        return (await corrections_switch(session)).on


async def say(core: Core, text: str, language: str = "zh-hans", chat: Chat | None = None) -> str:
    client = Client(core, chat=chat or Chat("telegram", "1", "private"), user_id="1")
    client.language_code, client.is_admin = language, True
    return text_of(await client.send(text))


async def test_admins_switch_corrections_off_and_on_in_chinese(core: Core, deps: CoreDeps) -> None:
    assert await say(core, "/corrections") == (
        "更正已开启：已推送的一期在推送后 48 小时内被修改时，读者收到的消息会被更正。"
        "关闭：/corrections 关"
    )
    assert await say(core, "/corrections 关") == (
        "已关闭更正：之后的修改只更新存档，已在排队的更正也暂不发出。发送 /corrections 开 "
        "重新开启，那时推送后 48 小时内的修改会被更正，排队的更正也会发出（已超过 48 小时的作废）。"
    )
    assert not await switched_on(deps)
    async with deps.sessions() as session:
        switch = await corrections_switch(session)
    assert (switch.by, switch.at) == ("telegram:1", T0)  # who and when, for the state
    assert await say(core, "/corrections off") == (
        f"更正本来就是关闭的（{AT} 关闭）。开启：/corrections 开"
    )
    assert await say(core, "/corrections") == (
        f"更正已被管理员在聊天中关闭（{AT}）：修改只更新存档。开启：/corrections 开"
    )
    # /help says the effective state and how to switch
    help_text = await say(core, "/help")
    assert "现在已关闭。关闭：发送 /corrections 关（/corrections 开 重新开启）" in help_text
    assert "/corrections [开|关] — 查看、开启或关闭更正" in help_text
    assert await say(core, "/corrections 开") == (
        "已开启更正：推送后 48 小时内的修改会更正读者收到的消息。关闭：/corrections 关"
    )
    assert await switched_on(deps)
    assert await say(core, "/corrections on") == "更正本来就是开启的。关闭：/corrections 关"
    assert "现在已开启。" in await say(core, "/help")


async def test_admins_switch_corrections_off_and_on_in_english(core: Core, deps: CoreDeps) -> None:
    assert await say(core, "/corrections off", "en") == (
        "Corrections switched off: later edits only update the archive, and corrections "
        "already queued are held. Send /corrections on to switch them back on; edits within "
        "48 hours of publication are corrected then, and held corrections go out (those past "
        "the 48 hours are dropped)."
    )
    assert await say(core, "/corrections", "en") == (
        f"Corrections were switched off in the chat by an admin ({AT}): edits only update "
        "the archive. To switch them on: /corrections on"
    )
    assert "Now off. To switch them off, send /corrections off" in await say(core, "/help", "en")
    assert await say(core, "/corrections on", "en") == (
        "Corrections switched on: edits within 48 hours of publication correct what readers "
        "got. To switch them off: /corrections off"
    )
    assert await switched_on(deps)
    assert await say(core, "/corrections", "en") == (
        "Corrections are on: when a published issue is edited within 48 hours of its "
        "publication, what readers got is corrected. To switch them off: /corrections off"
    )
    assert await say(core, "/corrections maybe", "en") == (
        "Usage: /corrections shows whether corrections are on; /corrections on and "
        "/corrections off switch them."
    )
    assert await switched_on(deps)


async def test_plain_chinese_words_switch_them_on_wechat(core: Core, deps: CoreDeps) -> None:
    """On WeChat a Chinese admin types words, and replies spell the command that way."""
    assert await say(core, "关闭更正", chat=WECHAT) == (
        "已关闭更正：之后的修改只更新存档，已在排队的更正也暂不发出。发送 更正 开 "
        "重新开启，那时推送后 48 小时内的修改会被更正，排队的更正也会发出（已超过 48 小时的作废）。"
    )
    assert not await switched_on(deps)
    assert (await say(core, "更正", chat=WECHAT)).endswith("开启：更正 开")
    assert (await say(core, "更正 开", chat=WECHAT)).startswith("已开启更正")
    assert await switched_on(deps)
    assert (await say(core, "更正 关闭", chat=WECHAT)).startswith("已关闭更正")
    assert (await say(core, "开启更正", chat=WECHAT)).startswith("已开启更正")
    assert await say(core, "更正 也许", chat=WECHAT) == (
        "用法：更正 查看更正是否开启；更正 开 开启，更正 关 关闭。"
    )
    assert await switched_on(deps)


@pytest.mark.parametrize(
    ("text", "language", "chat"),
    [
        ("/corrections off", "zh-hans", Chat("telegram", "7", "private")),
        ("/corrections", "en", Chat("telegram", "7", "private")),
        ("关闭更正", "zh-hans", Chat("wechat", "openid-reader", "user")),
    ],
)
async def test_everyone_else_is_refused_and_nothing_changes(
    core: Core, deps: CoreDeps, text: str, language: str, chat: Chat
) -> None:
    replies = await Client(core, chat=chat, user_id="7", language_code=language).send(text)
    refused = "抱歉，这个命令仅限管理员使用。"
    if language == "en":
        refused = "Sorry, this command is for administrators only."
    assert text_of(replies) == refused
    assert await switched_on(deps)


async def test_the_configuration_is_a_hard_off(deps: CoreDeps) -> None:
    settings = deps.settings.model_copy(deep=True)
    settings.publish.corrections = False
    core = Core(replace(deps, settings=settings))
    zh = "更正已在配置中关闭（publish.corrections = false）：修改只更新存档，聊天里无法开启。"
    for text in ("/corrections", "/corrections on", "/corrections off"):
        assert await say(core, text) == zh
    assert await say(core, "/corrections on", "en") == (
        "Corrections are off in the configuration (publish.corrections = false): edits only "
        "update the archive, and the chat cannot switch them on."
    )
    assert await switched_on(deps)  # nothing stored: the configuration decides
    assert "现在已关闭" in await say(core, "/help")
