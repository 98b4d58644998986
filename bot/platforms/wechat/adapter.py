"""Official Account (公众号) callback: signed XML in, the command core's answer out.

- GET with a valid signature answers `echostr` (the URL check in the admin console);
  any bad signature gets 403 and nothing else happens.
- POST: plaintext mode, or with an AES key configured compatible or safe mode only (a
  plaintext POST is then refused); the answer is encrypted when the message was. What
  is checked before the body is read, the size cap and the replay memo: wechat_common/gate.py.
  Each message is handled once (retries are deduplicated) and answered within `budget`
  seconds (WeChat gives up at 5 and retries): in time, the first text is
  the passive reply and the rest go out as customer-service messages; too slow, the
  answer is `success` and everything goes out as customer-service messages.
- Text (and recognised voice, and menu clicks) are commands; a text that is no command
  gets the help. Following subscribes to the whole briefing and greets; unfollowing
  deactivates. After anything that can change subscriptions the follower's tags are
  synced in the background (mass sends go by tag).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.replies import TextReply

from bot.commands import Chat, Incoming
from bot.delivery.types import SendError
from bot.platforms.wechat.sender import WechatSender
from bot.platforms.wechat.tags import TagSync
from bot.platforms.wechat_common.crypto import CallbackRefused, OfficialCodec
from bot.platforms.wechat_common.gate import CallbackGate, refusal, unreadable
from bot.platforms.wechat_common.inbound import HELP, START, TextCore, dedup_key
from bot.platforms.wechat_common.replies import SUCCESS, AnswerBook, ServiceBudget, pack_texts
from storage.subscribers import deactivate, get_subscriber

log = logging.getLogger(__name__)

PLATFORM: Final = "wechat"
ANSWER_BUDGET: Final = 4.0  # seconds; WeChat waits 5
# Commands after which the follower's tags may no longer match its subscriptions.
RETAG: Final = frozenset({"start", "stop", "subscribe", "unsubscribe", "settings", "series"})


class WechatAdapter:
    def __init__(
        self,
        core: TextCore,
        codec: OfficialCodec,
        sessions: async_sessionmaker[AsyncSession],
        *,
        sender: WechatSender | None = None,
        tags: TagSync | None = None,
        max_bytes: int = 2048,
        budget: float = ANSWER_BUDGET,
        book: AnswerBook | None = None,
        service: ServiceBudget | None = None,
    ) -> None:
        self._core = core
        self._codec = codec
        self._gate = CallbackGate(codec, sessions)
        self._sessions = sessions
        self._sender = sender
        self._tags = tags
        self._max_bytes = max_bytes
        self._budget = budget
        self._book = book or AnswerBook()
        self._service = service or ServiceBudget()
        self._background: set[asyncio.Task[None]] = set()

    # --- HTTP -------------------------------------------------------------------------

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
        if msg is None:
            return PlainTextResponse(SUCCESS)
        text = await self._book.answer(
            dedup_key(msg),
            lambda: self._handle(msg),
            self._budget,
            lambda texts: self._send_service(msg.source, texts),
        )
        if text == SUCCESS:
            return PlainTextResponse(SUCCESS)
        reply = TextReply(source=msg.target, target=msg.source, content=text).render()
        body = self._codec.encode(reply, decoded, decoded.stamp.nonce)
        return Response(body, media_type="application/xml")

    # --- messages ---------------------------------------------------------------------

    async def _handle(self, msg: Any) -> list[str]:
        openid = str(msg.source)
        kind = msg.type
        if kind == "text":
            return await self._command(openid, str(msg.content or ""))
        if kind == "voice" and getattr(msg, "recognition", None):
            return await self._command(openid, str(msg.recognition))
        if kind != "event":
            return await self._command(openid, HELP)  # images, links, ...: say what works
        event = msg.event
        if event in ("subscribe", "subscribe_scan"):
            return await self._follow(openid, str(getattr(msg, "scene_id", "") or ""))
        if event == "unsubscribe":
            await self._unfollow(openid)
            return []
        if event == "click" and getattr(msg, "key", ""):
            self._service.opened(openid, "event")
            return await self._run(openid, str(msg.key))
        return []

    async def _command(self, openid: str, text: str) -> list[str]:
        self._service.opened(openid, "message")
        if self._core.parse(text, PLATFORM) is None:
            text = HELP  # anything that is no command gets the help
        return await self._run(openid, text)

    async def _follow(self, openid: str, payload: str) -> list[str]:
        self._service.opened(openid, "event")
        return await self._run(openid, f"{START} {payload}".strip())

    async def _unfollow(self, openid: str) -> None:
        async with self._sessions.begin() as session:
            subscriber = await get_subscriber(session, PLATFORM, openid)
            if subscriber is not None and subscriber.active:
                await deactivate(session, subscriber.id, "unfollowed the account")
        log.info("wechat follower %s unfollowed", openid)

    async def _run(self, openid: str, text: str) -> list[str]:
        chat = Chat(PLATFORM, openid, "user")
        replies = await self._core.handle_text(Incoming(chat, openid, text))
        invocation = self._core.parse(text, PLATFORM)
        if invocation is not None and invocation.name in RETAG:
            self._spawn(self._retag(openid))
        return pack_texts(replies, self._max_bytes)

    # --- side effects -----------------------------------------------------------------

    async def _retag(self, openid: str) -> None:
        if self._tags is None:
            return
        try:
            await self._tags.sync_user(openid)
        except Exception:
            log.exception("syncing the tags of %s failed (the next campaign reconciles)", openid)

    async def _send_service(self, openid: str, texts: list[str]) -> None:
        """Texts the passive reply could not carry, as customer-service messages."""
        if self._sender is None:
            log.warning("no WeChat API credentials: %d text(s) to %s not sent", len(texts), openid)
            return
        for sent, text in enumerate(texts):
            if not self._service.take(openid):
                log.warning(
                    "customer-service allowance of %s used up: %d text(s) dropped",
                    openid,
                    len(texts) - sent,
                )
                return
            try:
                await self._sender.send_text(openid, text)
            except SendError as exc:
                log.warning("customer-service message to %s failed: %s", openid, exc)
                return

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for answers still being worked on and every background send (shutdown)."""
        await self._book.drain()
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
