"""WeCom (企业微信) application callback: the same commands as the Official Account.

WeCom callbacks are always AES-encrypted (`wechatpy.enterprise.crypto`). Passive replies
cannot carry markdown, so every callback is answered at once with an empty body and the
core's replies go out as application markdown messages (through the sender, within each
member's limits). Retries are deduplicated like the Official Account's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from wechatpy.enterprise import parse_message

from bot.commands import Chat, Incoming
from bot.delivery.types import SendError
from bot.platforms.wechat_common.crypto import CallbackRefused, WecomCodec
from bot.platforms.wechat_common.gate import CallbackGate, refusal, unreadable
from bot.platforms.wechat_common.inbound import HELP, START, TextCore, dedup_key
from bot.platforms.wechat_common.replies import AnswerBook, pack_texts
from bot.platforms.wecom.sender import WecomSender
from storage.subscribers import deactivate, get_subscriber

log = logging.getLogger(__name__)

PLATFORM: Final = "wecom"
APP_MAX_BYTES: Final = 2048


class WecomAdapter:
    def __init__(
        self,
        core: TextCore,
        codec: WecomCodec,
        sessions: async_sessionmaker[AsyncSession],
        *,
        sender: WecomSender | None = None,
        book: AnswerBook | None = None,
    ) -> None:
        self._core = core
        self._codec = codec
        self._gate = CallbackGate(codec, sessions)
        self._sessions = sessions
        self._sender = sender
        self._book = book or AnswerBook()
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # per member: lock, its users

    async def endpoint(self, request: Request) -> Response:
        try:
            if request.method == "GET":
                return PlainTextResponse(self._gate.verify(request))
            decoded = await self._gate.receive(request)
        except CallbackRefused as exc:
            return refusal(PLATFORM, exc)
        try:
            msg = parse_message(decoded.xml)
        except Exception as exc:  # signed but not a message we can read
            return unreadable(PLATFORM, exc)
        if msg is not None:
            # budget 0: never a passive answer; the work sends its own replies, in order
            await self._book.answer(dedup_key(msg), lambda: self._serve(msg), 0, _nothing)
        return PlainTextResponse("")

    async def _serve(self, msg: Any) -> list[str]:
        """Handle and answer one message; one member's messages are served in order."""
        userid = str(msg.source)
        lock, users = self._locks.get(userid, (asyncio.Lock(), 0))
        self._locks[userid] = (lock, users + 1)
        try:
            async with lock:
                await self._send(userid, await self._handle(msg))
        finally:
            lock, users = self._locks[userid]
            if users == 1:
                del self._locks[userid]
            else:
                self._locks[userid] = (lock, users - 1)
        return []

    async def _handle(self, msg: Any) -> list[str]:
        userid = str(msg.source)
        if msg.type == "text":
            text = str(msg.content or "")
            return await self._run(userid, text if self._core.parse(text, PLATFORM) else HELP)
        if msg.type != "event":
            return await self._run(userid, HELP)
        if msg.event == "subscribe":
            return await self._run(userid, START)
        if msg.event == "unsubscribe":
            async with self._sessions.begin() as session:
                subscriber = await get_subscriber(session, PLATFORM, userid)
                if subscriber is not None and subscriber.active:
                    await deactivate(session, subscriber.id, "left the WeCom app")
            return []
        if msg.event == "click" and getattr(msg, "key", ""):
            return await self._run(userid, str(msg.key))
        return []

    async def _run(self, userid: str, text: str) -> list[str]:
        chat = Chat(PLATFORM, userid, "user")
        replies = await self._core.handle_text(Incoming(chat, userid, text))
        return pack_texts(replies, APP_MAX_BYTES)

    async def _send(self, userid: str, texts: list[str]) -> None:
        if self._sender is None:
            log.warning("no WeCom app credentials: %d text(s) to %s not sent", len(texts), userid)
            return
        for text in texts:
            try:
                await self._sender.send(userid, {"text": text, "format": "markdown"})
            except SendError as exc:
                log.warning("wecom reply to %s failed: %s", userid, exc)
                return

    async def drain(self) -> None:
        await self._book.drain()


async def _nothing(texts: list[str]) -> None:
    return None
