"""The HTTP side of WeChat / WeCom callbacks: what is checked before a body is read, the
capped read, the replay memo, and the fixed answers of refused requests.

    gate = CallbackGate(codec, sessions)
    decoded = await gate.receive(request)   # raises CallbackRefused
    ...
    except CallbackRefused as exc:
        return refusal("wechat", exc)

Order matters: an unauthenticated request costs a few string checks (the Official
Account's query signature, or the form and freshness of WeCom's); the body is read while
streaming and abandoned past MAX_BODY_BYTES; a callback is recorded in the database only
once its signature over the body holds, so forgeries cannot fill the memo.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from bot.platforms.wechat_common.crypto import (
    MAX_BODY_BYTES,
    MAX_SKEW,
    BadRequest,
    CallbackRefused,
    Decoded,
    EpochSeconds,
    Replayed,
    TooLarge,
)
from storage.replay import first_sighting, forget_signed_before

log = logging.getLogger(__name__)
PURGE_EVERY = 60.0  # seconds between purges of the memo, per process
# Rows are kept for twice the window, so processes whose clocks differ a little agree.
KEEP_FOR = 2 * MAX_SKEW


class CallbackCodec(Protocol):
    platform: str

    def verify(self, query: Mapping[str, str]) -> str: ...
    def precheck(self, query: Mapping[str, str]) -> None: ...
    def decode(self, query: Mapping[str, str], body: bytes) -> Decoded: ...


def refusal(platform: str, exc: CallbackRefused) -> Response:
    """The fixed answer of a refused callback; the cause goes to the log only."""
    log.warning("%s callback refused (%d %s): %s", platform, exc.status, exc.public, exc)
    return PlainTextResponse(exc.public, status_code=exc.status)


def unreadable(platform: str, exc: Exception) -> Response:
    """A signed message wechatpy cannot parse: the same 400 as every other unreadable one."""
    return refusal(platform, BadRequest(f"unparsable message ({type(exc).__name__})"))


async def read_capped(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, read while streaming; TooLarge as soon as it passes `limit` bytes.

    A declared Content-Length over the limit is refused before anything is read; a
    chunked or lying body is abandoned at the first chunk past the limit.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 12 or int(declared) > limit):
        raise TooLarge(f"declared body of {declared[:12]} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"body over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadRequest("client disconnected") from None
    return b"".join(chunks)


class CallbackGate:
    """Admits each authentic callback once: signature, size, freshness, replay memo."""

    def __init__(
        self,
        codec: CallbackCodec,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: EpochSeconds = time.time,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        self._codec = codec
        self._sessions = sessions
        self._clock = clock
        self._max_body = max_body
        self._purged_at = float("-inf")

    def verify(self, request: Request) -> str:
        """GET: the URL check's echo (a replayed check is harmless: it changes nothing)."""
        return self._codec.verify(dict(request.query_params))

    async def receive(self, request: Request) -> Decoded:
        query = dict(request.query_params)
        self._codec.precheck(query)
        decoded = self._codec.decode(query, await read_capped(request, self._max_body))
        await self._first_sighting(decoded)
        return decoded

    async def _first_sighting(self, decoded: Decoded) -> None:
        stamp, platform = decoded.stamp, self._codec.platform
        async with self._sessions.begin() as session:
            first = await first_sighting(
                session, platform, stamp.signed_at, stamp.nonce, stamp.signature
            )
        if not first:
            raise Replayed(f"callback signed at {stamp.signed_at} was accepted before")
        await self._purge()

    async def _purge(self) -> None:
        now = self._clock()
        if now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        async with self._sessions.begin() as session:
            await forget_signed_before(session, int(now - KEEP_FOR))
