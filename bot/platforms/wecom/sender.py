"""WeCom sender: application markdown messages to members, and group-robot webhooks.

Chat ids: a member's userid, or `robot:<id>` for a configured group robot (see
bot/platforms/wecom/robots.py). WeCom drops messages beyond 30 a minute / 1000 an hour per
member silently, and answers a robot's 21st message in a minute with 45009, so every send
takes those windows first (`windows`, shared by replies and pushes). `send` is the per-chat
contract (command replies); `send_batch` sends one message to up to 1000 members in one
call. The delivery engine drives pushes through `bot.platforms.wecom.push.WecomPush`,
taking `windows` itself before each call (`admitted=True`).

WeCom's duplicate check (`enable_duplicate_check`) makes WeCom accept but not deliver a
message identical to one the member got within the interval. Scheduled pushes ask for it
(`send_batch(..., duplicate_check=True)`), so a batch resent after a crash reaches nobody
twice; replies never do, because a member who asks the same thing twice must get two
answers. Robots have no such check: a robot call that left without an answer coming back
raises `MaybeSent`, which callers must not retry blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.delivery.types import BatchResult, ChatGone, MaybeSent, Permanent, Transient
from bot.platforms.wechat_common.api import WechatApi
from bot.platforms.wechat_common.clients import WeComAppClient
from bot.platforms.wechat_common.errors import classify, classify_exception
from bot.platforms.wecom.limits import Seconds, Sleep, SlidingLimiter

log = logging.getLogger(__name__)

ROBOT_PREFIX = "robot:"
MAX_TOUSER = 1000
APP_MAX_BYTES = 2048
ROBOT_MAX_BYTES = 4096
# WeCom silently drops an identical app message to a member within this many seconds;
# pushes use the maximum (4 h) so that a pusher restarted hours after a crash repeats nothing.
DUPLICATE_CHECK_SECONDS = 14400


@dataclass(frozen=True, slots=True)
class WecomLimits:
    member_per_minute: int = 30
    member_per_hour: int = 1000
    robot_per_minute: int = 20


__all__ = ["BatchResult", "MaybeSent", "WecomLimits", "WecomSender", "is_robot"]


class WecomWindows:
    """Members' and robots' send windows: `acquire` takes each chat's from its own."""

    def __init__(self, members: SlidingLimiter, robots: SlidingLimiter) -> None:
        self.members = members
        self.robots = robots

    async def acquire(self, keys: Sequence[str]) -> float:
        robots = [k for k in keys if is_robot(k)]
        members = [k for k in keys if not is_robot(k)]
        waited = await self.members.acquire(members) if members else 0.0
        return waited + (await self.robots.acquire(robots) if robots else 0.0)


def is_robot(chat_id: str) -> bool:
    return chat_id.startswith(ROBOT_PREFIX)


class WecomSender:
    platform = "wecom"

    def __init__(
        self,
        api: WechatApi[WeComAppClient] | None,
        agent_id: int | None,
        robots: Mapping[str, str],
        base_url: str,
        http: aiohttp.ClientSession,
        *,
        limits: WecomLimits | None = None,
        clock: Seconds | None = None,
        sleep: Sleep | None = None,
        timeout: float = 10.0,
    ) -> None:
        """`robots`: robot chat id -> webhook key."""
        self._api = api
        self._agent_id = agent_id
        self._robots = dict(robots)
        self._base_url = base_url.rstrip("/")
        self._http = http
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        limits = limits or WecomLimits()
        timing: dict[str, Any] = {}
        if clock is not None:
            timing["clock"] = clock
        if sleep is not None:
            timing["sleep"] = sleep
        self.members = SlidingLimiter(
            [(limits.member_per_minute, 60), (limits.member_per_hour, 3600)], **timing
        )
        self.robots = SlidingLimiter([(limits.robot_per_minute, 60)], **timing)
        self.windows = WecomWindows(self.members, self.robots)

    def chat_kind(self, chat_id: str) -> str:
        return "group" if is_robot(chat_id) else "user"

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> None:
        if is_robot(chat_id):
            await self.send_robot(chat_id, str(message["text"]))
            return
        result = await self.send_batch([chat_id], message)
        if chat_id in result.gone:
            raise ChatGone(f"{chat_id} is not reachable by the app")

    # --- application messages ---------------------------------------------------------

    async def send_batch(
        self,
        userids: Sequence[str],
        message: Mapping[str, Any],
        *,
        duplicate_check: bool = False,
        admitted: bool = False,
    ) -> BatchResult:
        """One markdown message to up to 1000 members, within every member's limits.

        duplicate_check: WeCom skips members who got this very message within
        DUPLICATE_CHECK_SECONDS (for pushes that may be resent after a crash).
        admitted: the caller took the members' windows already (the delivery engine).
        """
        if self._api is None or self._agent_id is None:
            raise Permanent("WeCom application not configured")
        if not 0 < len(userids) <= MAX_TOUSER:
            raise ValueError(f"{len(userids)} recipients; WeCom takes 1 to {MAX_TOUSER}")
        text = str(message["text"])
        if len(text.encode("utf-8")) > APP_MAX_BYTES:
            raise Permanent(f"markdown over {APP_MAX_BYTES} bytes")
        if not admitted:
            await self.members.acquire(list(userids))
        body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": text}}
        if duplicate_check:
            body |= {
                "enable_duplicate_check": 1,
                "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
            }
        agent_id = self._agent_id
        try:
            answer = await self._api.call(
                lambda client: client.message.send(agent_id, list(userids), msg=body)
            )
        except Exception as exc:
            raise classify_exception(exc) from exc
        invalid = tuple(u for u in str(answer.get("invaliduser") or "").split("|") if u)
        delivered = tuple(u for u in userids if u not in set(invalid))
        return BatchResult(delivered, invalid)  # invalid: not (or no longer) reachable

    # --- group robots -----------------------------------------------------------------

    async def send_robot(self, chat_id: str, text: str, *, admitted: bool = False) -> None:
        """One markdown message to a group robot (`admitted`: its window already taken)."""
        key = self._robots.get(chat_id)
        if key is None:
            raise ChatGone(f"{chat_id} is no longer configured")
        if len(text.encode("utf-8")) > ROBOT_MAX_BYTES:
            raise Permanent(f"markdown over {ROBOT_MAX_BYTES} bytes")
        if not admitted:
            await self.robots.acquire([chat_id])
        url = f"{self._base_url}/cgi-bin/webhook/send"
        body = {"msgtype": "markdown", "markdown": {"content": text}}
        try:
            async with self._http.post(
                url, params={"key": key}, json=body, timeout=self._timeout
            ) as response:
                if response.status >= 500:
                    raise Transient(f"HTTP {response.status}")
                if response.status >= 400:
                    raise Permanent(f"HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from exc  # never left
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MaybeSent(f"{type(exc).__name__}: {exc}") from exc
        errcode = int(answer.get("errcode", 0)) if isinstance(answer, dict) else -1
        if errcode != 0:
            raise classify(errcode, str(answer.get("errmsg", "")))
