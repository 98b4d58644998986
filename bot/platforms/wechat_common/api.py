"""Async use of the synchronous wechatpy clients, with the access token cached in the database.

wechatpy keeps tokens per client object and, with `auto_retry`, refetches on 40001 / 42001
without limit. Here the token lives in app_state (so every instance shares one), is
refreshed a margin before it expires, and a call that fails with a token error is retried
once after a refresh. The client only ever reads the token we feed it: its session is a
`FedTokenStorage` and its `expires_at` stays None, so wechatpy never fetches on its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy.client.base import BaseWeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from storage.wechat import CachedToken, get_token, save_token

log = logging.getLogger(__name__)
T = TypeVar("T")
C = TypeVar("C", bound=BaseWeChatClient)

# 40001 invalid credential (公众号), 40014 invalid access_token, 42001 expired.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
REFRESH_MARGIN = 300.0  # seconds before expiry at which a token counts as stale


class FedTokenStorage(SessionStorage):  # type: ignore[misc]
    """The client's token store: holds only the token the async side fed it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None

    @property
    def token(self) -> str | None:
        with self._lock:
            return self._token

    def get(self, key: str, default: Any = None) -> Any:
        if key.endswith("_access_token"):
            return self.token or default
        return default

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        if key.endswith("_access_token") and value:
            with self._lock:
                self._token = str(value)

    def delete(self, key: str) -> None:
        if key.endswith("_access_token"):
            with self._lock:
                self._token = None


class TokenCache:
    """One access token per (app) `name`, shared through app_state."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        name: str,
        fetch: Callable[[], dict[str, Any]],
        *,
        clock: Callable[[], float] = time.time,
        margin: float = REFRESH_MARGIN,
    ) -> None:
        self._sessions = sessions
        self._name = name
        self._fetch = fetch  # blocking: runs in a thread
        self._clock = clock
        self._margin = margin
        self._current: CachedToken | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _fresh(self, token: CachedToken | None) -> bool:
        return token is not None and token.expires_at - self._clock() > self._margin

    async def get(self) -> str:
        """A token valid for at least `margin` more seconds."""
        if self._fresh(self._current):
            assert self._current is not None
            return self._current.token
        async with self._lock:
            if not self._fresh(self._current):
                self._current = await self._load_or_fetch(stale=None)
            return self._current.token

    async def refresh(self, rejected: str) -> str:
        """The API rejected `rejected`: use a newer shared token, or fetch one."""
        async with self._lock:
            if self._current is None or self._current.token == rejected:
                self._current = await self._load_or_fetch(stale=rejected)
            return self._current.token

    async def _load_or_fetch(self, stale: str | None) -> CachedToken:
        async with self._sessions() as session:
            shared = await get_token(session, self._name)
        if self._fresh(shared) and shared is not None and shared.token != stale:
            return shared
        result = await asyncio.to_thread(self._fetch)
        self.fetches += 1
        token = CachedToken(
            str(result["access_token"]), self._clock() + float(result.get("expires_in", 7200))
        )
        async with self._sessions.begin() as session:
            await save_token(session, self._name, token)
        log.info("fetched a new access token for %s", self._name)
        return token


class WechatApi(Generic[C]):
    """Runs blocking client calls in a thread with a fresh shared token."""

    def __init__(
        self,
        client: C,
        sessions: async_sessionmaker[AsyncSession],
        name: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._storage = FedTokenStorage()
        client.session = self._storage
        client.auto_retry = False
        self.tokens = TokenCache(sessions, name, self._fetch_token, clock=clock)

    def _fetch_token(self) -> dict[str, Any]:
        result: dict[str, Any] = self.client.fetch_access_token()
        self.client.expires_at = None  # keep wechatpy from judging (and refetching) itself
        return result

    async def call(self, fn: Callable[[C], T]) -> T:
        """`fn(client)` in a thread; one retry after a token error."""
        token = await self.tokens.get()
        try:
            return await self._run(fn, token)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("access token rejected (%s); refreshing", exc.errcode)
            token = await self.tokens.refresh(token)
        return await self._run(fn, token)

    async def _run(self, fn: Callable[[C], T], token: str) -> T:
        self._storage.set("_access_token", token)
        self.client.expires_at = None
        return await asyncio.to_thread(fn, self.client)
