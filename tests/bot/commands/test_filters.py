"""Filters around handlers, and the router that attaches them from the table's flags."""

from __future__ import annotations

import pytest

from bot.commands import Chat, Incoming, Invocation
from bot.commands.filters import (
    IGNORE,
    AdminOnly,
    GroupIgnoresChatter,
    GroupNeedsMention,
    NotForUs,
    Refuse,
    Update,
    decide,
)
from bot.commands.router import Router, command_filters
from bot.commands.spec import CommandSpec
from bot.commands.table import COMMAND_TABLE

PRIVATE = Chat("telegram", "1", "private")
GROUP = Chat("telegram", "-2", "group")
CHANNEL = Chat("telegram", "-3", "channel")


def _update(
    chat: Chat = PRIVATE, text: str = "", invocation: Invocation | None = None, admin: bool = False
) -> Update:
    return Update(Incoming(chat, "7", text, is_admin=admin), invocation)


def test_admin_only_refuses_with_a_text_and_lets_admins_through() -> None:
    assert AdminOnly()(_update()) == Refuse("admin_only")
    assert AdminOnly()(_update(admin=True)) is None


@pytest.mark.parametrize("chat", [GROUP, CHANNEL])
def test_groups_need_a_mention_and_ignore_chatter(chat: Chat) -> None:
    bare, addressed = Invocation("frob"), Invocation("frob", mentioned=True)
    assert GroupNeedsMention()(_update(chat, "/frob", bare)) is IGNORE
    assert GroupNeedsMention()(_update(chat, "/frob@briefbot", addressed)) is None
    assert GroupIgnoresChatter()(_update(chat, "hello")) is IGNORE


def test_private_chats_pass_the_group_rules() -> None:
    assert GroupNeedsMention()(_update(PRIVATE, "/frob", Invocation("frob"))) is None
    assert GroupIgnoresChatter()(_update(PRIVATE, "hello")) is None


@pytest.mark.parametrize("text", ["", "  ", "/cmd@otherbot", "／usr/bin"])
def test_blank_text_and_unparsed_slashes_are_not_for_us(text: str) -> None:
    assert NotForUs()(_update(text=text)) is IGNORE


def test_the_first_objection_wins() -> None:
    filters = (GroupNeedsMention(), AdminOnly())
    assert decide(filters, _update(GROUP, "/x", Invocation("x"))) is IGNORE
    assert decide(filters, _update(PRIVATE, "/x", Invocation("x"))) == Refuse("admin_only")
    assert decide(filters, _update(PRIVATE, "/x", Invocation("x"), admin=True)) is None


def test_the_router_attaches_filters_from_the_table_flags() -> None:
    async def handler(ctx: object, inv: Invocation) -> list:  # never run here
        return []

    assert command_filters(CommandSpec("a", handler)) == ()
    admin = command_filters(CommandSpec("a", handler, admin=True))
    assert [type(f) for f in admin] == [AdminOnly]
    mentioned = command_filters(CommandSpec("a", handler, groups="mentioned", admin=True))
    assert [type(f) for f in mentioned] == [GroupNeedsMention, AdminOnly]
    router = Router(COMMAND_TABLE)
    for command in COMMAND_TABLE.commands:
        route = router.for_text(Invocation(command.name))
        assert (AdminOnly in [type(f) for f in route.filters]) is command.admin
    assert [type(f) for f in router.for_text(Invocation("nope")).filters] == [GroupNeedsMention]
    assert [type(f) for f in router.for_text(None).filters] == [NotForUs, GroupIgnoresChatter]
    assert router.for_button(None).filters == ()
