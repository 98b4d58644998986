"""An aiohttp transport for python-telegram-bot: `AiohttpRequest`, a drop-in `BaseRequest`.

PTB's default HTTPXRequest spends several milliseconds of CPU per call; aiohttp does the
same exchange for a fraction of that (see bench/transport_bench.py). Wire it in with

    ApplicationBuilder().token(token)
        .request(AiohttpRequest(connection_pool_size=64))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))

Requests are encoded exactly as HTTPXRequest encodes them: parameters from
`RequestData.json_parameters` (strings as-is, everything else JSON-encoded) sent as
`application/x-www-form-urlencoded`, or as `multipart/form-data` when files are attached.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* "
    "sent to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


def _total(*parts: float | None) -> float | None:
    """aiohttp has no write timeout: bound the whole exchange by the sum of the phases."""
    total = 0.0
    for part in parts:
        if part is None:
            return None
        total += part
    return total


class AiohttpRequest(BaseRequest):
    """`telegram.request.BaseRequest` on an aiohttp `ClientSession`.

    Args mirror HTTPXRequest: `connection_pool_size` caps concurrent connections (a call
    waits at most `pool_timeout` for one, then fails with TimedOut without being sent);
    `read_timeout`, `write_timeout`, `connect_timeout` are the defaults that per-call values
    override (`None` waits forever, as getUpdates long polling needs);
    `media_write_timeout` replaces `write_timeout` for uploads. `proxy` is an HTTP proxy URL.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_slots",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        # Built in initialize(): an aiohttp session belongs to the running event loop.
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        return self._pool_size

    async def initialize(self) -> None:
        if self._session is not None and not self._session.closed:
            return
        connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets no cookies
            timeout=aiohttp.ClientTimeout(total=None),
        )
        self._slots = asyncio.Semaphore(self._pool_size)

    async def shutdown(self) -> None:
        if self._session is None or self._session.closed:
            return
        await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session, slots = self._session, self._slots
        if session is None or session.closed or slots is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        has_files = bool(request_data and request_data.contains_files)
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, has_files)
        pool_wait = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        body, headers = _encode(request_data)
        await _acquire(slots, pool_wait)
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=self._proxy
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's connect/read timeouts subclass it too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        finally:
            slots.release()

    def _timeout(
        self,
        read: ODVInput[float],
        write: ODVInput[float],
        connect: ODVInput[float],
        has_files: bool,
    ) -> aiohttp.ClientTimeout:
        read_s = self._read_timeout if isinstance(read, DefaultValue) else read
        connect_s = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        default_write = self._media_write_timeout if has_files else self._write_timeout
        write_s = default_write if isinstance(write, DefaultValue) else write
        return aiohttp.ClientTimeout(
            total=_total(connect_s, write_s, read_s),
            connect=connect_s,
            sock_connect=connect_s,
            sock_read=read_s,
        )


async def _acquire(slots: asyncio.Semaphore, timeout: float | None) -> None:
    if not slots.locked() or timeout is None:
        await slots.acquire()
        return
    try:
        await asyncio.wait_for(slots.acquire(), timeout)
    except TimeoutError:
        raise TimedOut(POOL_TIMEOUT_MESSAGE) from None


def _encode(request_data: RequestData | None) -> tuple[Any, dict[str, str] | None]:
    """The body as HTTPXRequest would send it: form-urlencoded, or multipart with files."""
    if request_data is None:
        return None, None
    if not request_data.contains_files:
        fields = request_data.url_encoded_parameters()
        return (fields.encode(), FORM_HEADERS) if fields else (None, None)
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form, None
