"""In groups, only the group's admins change the group's subscription and settings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from types import SimpleNamespace

import pytest
from telegram import Bot
from telegram.constants import ChatID
from telegram.request import BaseRequest, RequestData

from bot.commands import Chat, Core, CoreDeps
from bot.commands.group_admins import AdminCache
from bot.platforms.telegram.chat_admins import TelegramChatAdmins
from storage.subscribers import ALL, Subscription, get_subscriber
from tests.bot.commands.conftest import GROUP, Client, FakeClock, buttons, text_of

OWNER, MEMBER = "7", "8"
PAPERS = Subscription("section", "papers")


@dataclass
class FakeAdmins:
    admins: set[str] = field(default_factory=lambda: {OWNER})
    calls: list[tuple[str, str]] = field(default_factory=list)
    broken: bool = False

    async def is_admin(self, chat: Chat, user_id: str) -> bool:
        self.calls.append((chat.chat_id, user_id))
        if self.broken:
            raise TimeoutError("telegram did not answer")
        return user_id in self.admins


@pytest.fixture
def port() -> FakeAdmins:
    return FakeAdmins()


@pytest.fixture
def guarded(deps: CoreDeps, port: FakeAdmins) -> Core:
    return Core(replace(deps, chat_admins={"telegram": port}))


async def group_subs(core: Core, chat: Chat = GROUP) -> tuple[Subscription, ...] | None:
    async with core.deps.sessions() as session:
        found = await get_subscriber(session, chat.platform, chat.chat_id)
    return None if found is None else found.subscriptions


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("zh-hans", "抱歉，只有本群的管理员可以修改群的订阅和设置。"),
        ("en", "Sorry, only this group's admins can change the group's subscription"),
    ],
)
async def test_members_are_refused_politely_in_their_language(
    guarded: Core, language: str, refusal: str
) -> None:
    owner = Client(guarded, chat=GROUP, user_id=OWNER, language_code=language)
    member = Client(guarded, chat=GROUP, user_id=MEMBER, language_code=language)
    await owner.send("/subscribe@briefbot papers")
    assert await group_subs(guarded) == (PAPERS,)
    for command in (
        "/subscribe@briefbot chips",
        "/unsubscribe@briefbot papers",
        "/unsubscribe@briefbot all",
        "/settings@briefbot pause",
        "/start@briefbot chips",
        "/stop@briefbot",
    ):
        text = text_of(await member.send(command))
        assert refusal in text, command
    assert await group_subs(guarded) == (PAPERS,)


async def test_members_may_look_but_not_press(guarded: Core) -> None:
    member = Client(guarded, chat=GROUP, user_id=MEMBER)
    owner = Client(guarded, chat=GROUP, user_id=OWNER)
    await owner.send("/start@briefbot")
    view = text_of(await member.send("/sections@briefbot"))
    assert "当前订阅：全部栏目和标签" in view
    assert "用法" in text_of(await member.send("/subscribe@briefbot"))  # usage changes nothing
    assert "本聊天的设置" in text_of(await member.send("/settings@briefbot"))
    await member.send("/sections@briefbot")
    refused = await member.press(member.button("✅ 芯片"))
    assert "只有本群的管理员" in text_of(refused) and not buttons(refused)
    assert await group_subs(guarded) == (ALL,)
    await member.send("/settings@briefbot")
    assert "只有本群的管理员" in text_of(await member.press(member.button("English")))
    await owner.send("/sections@briefbot")
    toggled = await owner.press(owner.button("✅ 芯片"))
    assert "⬜ 芯片" in [b.text for b in buttons(toggled)]
    assert Subscription("topic", "chips") not in (await group_subs(guarded) or ())


async def test_admins_answers_are_cached_briefly(guarded: Core, port: FakeAdmins) -> None:
    clock = guarded.deps.clock
    assert isinstance(clock, FakeClock)
    owner = Client(guarded, chat=GROUP, user_id=OWNER)
    await owner.send("/subscribe@briefbot papers")
    await owner.send("/subscribe@briefbot chips")
    assert port.calls == [(GROUP.chat_id, OWNER)]
    port.admins.discard(OWNER)  # demoted: takes effect once the cached answer expires
    clock.advance(61)
    assert "只有本群的管理员" in text_of(await owner.send("/unsubscribe@briefbot chips"))
    assert len(port.calls) == 2


async def test_a_failed_check_refuses_and_is_not_cached(guarded: Core, port: FakeAdmins) -> None:
    owner = Client(guarded, chat=GROUP, user_id=OWNER, language_code="en")
    port.broken = True
    text = text_of(await owner.send("/subscribe@briefbot papers"))
    assert "could not check whether you are an admin" in text
    port.broken = False
    assert "Subscribed: Papers" in text_of(await owner.send("/subscribe@briefbot papers"))


async def test_private_chats_operators_and_other_platforms_are_not_asked(
    guarded: Core, port: FakeAdmins
) -> None:
    await Client(guarded, user_id=MEMBER).send("/subscribe papers")
    await Client(guarded, chat=GROUP, user_id=MEMBER, is_admin=True).send(
        "/subscribe@briefbot papers"
    )
    wecom_group = Chat("wecom", "room-1", "group")
    await Client(guarded, chat=wecom_group, user_id=MEMBER).send("订阅 论文")
    channel = Chat("telegram", "-1009", "channel")
    await Client(guarded, chat=channel, user_id="").send("/subscribe@briefbot papers")
    assert port.calls == []
    assert await group_subs(guarded, wecom_group) == (PAPERS,)
    assert await group_subs(guarded, channel) == (PAPERS,)


async def test_without_a_port_anyone_in_the_group_may_change_it(core: Core) -> None:
    member = Client(core, chat=GROUP, user_id=MEMBER)
    assert "已订阅：论文" in text_of(await member.send("/subscribe@briefbot papers"))


async def test_the_cache_stays_bounded(port: FakeAdmins) -> None:
    cache = AdminCache(ttl=60, max_entries=3)
    for user in range(10):
        await cache.is_admin(port, GROUP, str(user), now=0)
    assert len(cache._answers) == 3
    await cache.is_admin(port, GROUP, "9", now=1)
    assert len(port.calls) == 10  # the newest answers are the ones kept


class _Bot:
    def __init__(self, statuses: dict[int, str]) -> None:
        self.statuses = statuses
        self.asked: list[tuple[int, int]] = []

    async def get_chat_member(self, chat_id: int, user_id: int) -> SimpleNamespace:
        self.asked.append((chat_id, user_id))
        return SimpleNamespace(status=self.statuses.get(user_id, "left"))


async def test_telegram_port_reads_get_chat_member() -> None:
    bot = _Bot({7: "creator", 8: "administrator", 9: "member", 10: "restricted"})
    admins = TelegramChatAdmins(bot)  # type: ignore[arg-type]
    chat = Chat("telegram", "-2002", "group")
    assert await admins.is_admin(chat, "7") and await admins.is_admin(chat, "8")
    assert not await admins.is_admin(chat, "9") and not await admins.is_admin(chat, "10")
    assert not await admins.is_admin(chat, "11") and not await admins.is_admin(chat, "")
    assert await admins.is_admin(chat, str(int(ChatID.ANONYMOUS_ADMIN)))
    assert bot.asked == [(-2002, 7), (-2002, 8), (-2002, 9), (-2002, 10), (-2002, 11)]


class _BotApi(BaseRequest):
    """Telegram's getChatMember answers, for a real PTB Bot (statuses as the API spells
    them: "creator" for the owner)."""

    def __init__(self, statuses: dict[int, str]) -> None:
        self.statuses = statuses
        self.methods: list[str] = []

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(  # type: ignore[override]
        self, url: str, method: str, request_data: RequestData | None = None, **_: object
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[1]
        self.methods.append(name)
        params = request_data.parameters if request_data is not None else {}
        if name == "getMe":
            me = {"id": 1, "is_bot": True, "first_name": "b", "username": "briefbot"}
            return 200, json.dumps({"ok": True, "result": me}).encode()
        user_id = int(params["user_id"])
        status = self.statuses.get(user_id, "left")
        member: dict[str, object] = {
            "status": status,
            "user": {"id": user_id, "is_bot": False, "first_name": "u"},
        }
        if status == "administrator":
            member.update(dict.fromkeys(ADMIN_RIGHTS, False), can_be_edited=False)
        if status in ("creator", "administrator"):
            member["is_anonymous"] = False
        return 200, json.dumps({"ok": True, "result": member}).encode()


ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories",
)  # fmt: skip


async def test_telegram_port_through_a_real_ptb_bot() -> None:
    api = _BotApi({7: "creator", 8: "administrator", 9: "member"})
    bot = Bot("123:abc", request=api, get_updates_request=api)
    chat = Chat("telegram", "-2002", "group")
    admins = TelegramChatAdmins(bot)
    assert await admins.is_admin(chat, "7") and await admins.is_admin(chat, "8")
    assert not await admins.is_admin(chat, "9") and not await admins.is_admin(chat, "10")
    assert api.methods.count("getChatMember") == 4
