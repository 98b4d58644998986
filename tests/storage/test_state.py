"""Key/value application state on both databases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import state
from tests.storage.factories import at


async def test_set_get_overwrite_delete(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    token = {"access_token": "abc", "expires_in": 7200, "名字": "公众号"}
    async with session_factory.begin() as session:
        assert await state.get_value(session, "wechat.token", "none") == "none"
        await state.set_value(session, "wechat.token", token, at(0))
        await state.set_value(session, "cursor", [1, 2], at(0))
    async with session_factory.begin() as session:
        assert await state.get_value(session, "wechat.token") == token
        await state.set_value(session, "wechat.token", {"access_token": "new"}, at(5))
    async with session_factory.begin() as session:
        assert await state.get_entry(session, "wechat.token") == ({"access_token": "new"}, at(5))
        assert await state.delete_value(session, "cursor")
        assert not await state.delete_value(session, "cursor")
        assert await state.get_value(session, "cursor") is None
