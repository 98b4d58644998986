"""The core's routing: groups and channels, other bots, unknown commands, flooding, errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.commands import CALLBACK_DATA_MAX_BYTES, Chat, Core, CoreDeps, FloodPolicy
from tests.bot.commands.conftest import (
    CHANNEL,
    GROUP,
    Client,
    FakeClock,
    buttons,
    text_of,
)


async def test_group_commands_with_our_name(core: Core) -> None:
    group = Client(core, chat=GROUP)
    assert "目录" in text_of(await group.send("/latest@briefbot"))
    assert "目录" in text_of(await group.send("/latest"))


async def test_command_for_another_bot_is_ignored(core: Core) -> None:
    assert await Client(core, chat=GROUP).send("/latest@otherbot") == []
    assert await Client(core).send("/help@otherbot") == []


async def test_group_chatter_and_unknown_commands_are_ignored(core: Core) -> None:
    group = Client(core, chat=GROUP)
    assert await group.send("大家好，今天的简报看了吗？") == []
    assert await group.send("/weather") == []  # probably meant for another bot
    text = text_of(await group.send("/weather@briefbot"))
    assert "不认识的命令 /weather" in text and "/help" in text


async def test_unknown_command_in_private_gets_a_hint(client: Client) -> None:
    assert text_of(await client.send("/weather")) == (
        "不认识的命令 /weather。发送 /help 查看全部命令。"
    )


async def test_plain_text_in_private_gets_a_hint(client: Client, core: Core) -> None:
    assert "发送 /help 查看我能做什么" in text_of(await client.send("hello"))
    wechat = Client(core, chat=Chat("wechat", "o-1", "user"))
    assert "发送 帮助 查看我能做什么" in text_of(await wechat.send("你好"))
    assert await client.send("   ") == []


async def test_channel_posts(core: Core) -> None:
    channel = Client(core, chat=CHANNEL, user_id="")
    assert "当前订阅：全部栏目" in text_of(await channel.send("/start"))
    assert await channel.send("今天发布了新一期") == []


async def test_flooding_user_is_slowed_down_politely_and_alone(deps: CoreDeps) -> None:
    clock = FakeClock()
    core = Core(replace(deps, clock=clock, flood=FloodPolicy(per_minute=20, burst=5)))
    flooder = Client(core, user_id="flooder")
    calm = Client(core, chat=Chat("telegram", "2", "private"), user_id="calm")
    for _ in range(5):
        assert "命令与示例" in text_of(await flooder.send("/help"))
    assert text_of(await flooder.send("/help")) == "操作太频繁了，请稍等片刻再试。"
    assert await flooder.send("/help") == []  # silence after the one warning
    assert await flooder.press("x:20261116:papers") == []  # buttons count too
    assert "命令与示例" in text_of(await calm.send("/help"))  # others are not slowed
    clock.advance(3)  # 20/min: one token back
    assert "命令与示例" in text_of(await flooder.send("/help"))
    assert text_of(await flooder.send("/help")) == "操作太频繁了，请稍等片刻再试。"


async def test_admins_are_not_flood_limited(deps: CoreDeps) -> None:
    core = Core(replace(deps, flood=FloodPolicy(per_minute=1, burst=1)))
    admin = Client(core, is_admin=True)
    for _ in range(5):
        assert "命令与示例" in text_of(await admin.send("/help"))


async def test_a_failing_handler_gets_an_apology(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    original = core.deps.sessions
    object.__setattr__(core.deps, "sessions", _Exploding(original))
    try:
        text = text_of(await Client(core).send("/latest"))
    finally:
        object.__setattr__(core.deps, "sessions", original)
    assert text == "抱歉，处理时出了点问题，请稍后再试。"
    assert "database exploded" not in text
    assert "command failed" in caplog.text


class _Exploding:
    """A session factory whose sessions work for the first use only (loading the chat)."""

    def __init__(self, real: object) -> None:
        self._real = real
        self._calls = 0

    def __call__(self) -> object:
        self._calls += 1
        if self._calls > 1:
            raise RuntimeError("database exploded")
        return self._real()  # type: ignore[operator]

    def begin(self) -> object:
        raise RuntimeError("database exploded")


async def test_every_button_fits_in_callback_data(core: Core) -> None:
    admin = Client(core, is_admin=True)
    english = Client(core, chat=Chat("telegram", "9", "private"), language_code="en")
    produced = []
    for client in (admin, english):
        for text in (
            "/start", "/latest", "/issues", "/issue 2026-11-05", "/search 量化",
            "/search 芯片 section:papers section:news", "/sections", "/settings",
        ):  # fmt: skip
            produced += buttons(await client.send(text))
        await client.send("/sections")
        produced += buttons(await client.press(buttons(client.last)[1]))
    assert len(produced) > 60
    assert all(len(b.data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES for b in produced)
    # Each produced button is understood by the core (no "expired" answers).
    for button in {b.data: b for b in produced}.values():
        text = text_of(await admin.press(button))
        assert "按钮已失效" not in text, button


async def test_wechat_text_commands_reach_the_same_handlers(core: Core) -> None:
    wechat = Client(core, chat=Chat("wechat", "o-2", "user"))
    assert "目录" in text_of(await wechat.send("最新"))
    assert "命令与示例" in text_of(await wechat.send("?"))
    assert "本聊天的设置" in text_of(await wechat.send("设置"))
    assert "推送：已暂停" in text_of(await wechat.send("暂停"))
    telegram = Client(core)
    assert "发送 /help" in text_of(await telegram.send("最新"))  # telegram: slash commands only
