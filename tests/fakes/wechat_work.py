"""Fake WeCom (企业微信) API: gettoken, application messages and group-robot webhooks.

Modelled rules (limits live in WecomConfig):
- gettoken returns the same token until it expires (WeCom does not rotate on refetch);
  an unknown token answers 40014, an expired one 42001.
- message/send: at most 1000 `touser` ids (more -> 40058, our choice of wording); unknown
  ids come back in `invaliduser` while the rest are delivered; none valid -> 81013.
  Per application and member: 30 messages/minute and 1000/hour. Like the real service the
  excess is dropped silently (the answer is still ok); drops are listed in `dropped`.
- Duplicate check (`enable_duplicate_check: 1`): a message identical (msgtype + content)
  to one the same application delivered to the same member within
  `duplicate_check_interval` seconds (default 1800, at most 14400; outside 1..14400 ->
  40058, our choice) is accepted (errcode 0) but not delivered to that member again;
  such repeats are listed in `duplicates`. Repeats count against no rate limit.
- webhook/send: unknown key -> 93000; 20 calls/minute per robot -> 45009 (every call with
  a valid key counts); markdown over 4096 bytes / text over 2048 bytes -> 40058.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.wechat_core import (
    ApiError,
    FakeClock,
    SlidingWindow,
    TokenBook,
    TokenErrors,
    utf8_len,
)
from tests.fakes.wechat_http import ApiCall, FakeApi, Handler

DEFAULT_CORPID = "ww0fake0corpid01"
DEFAULT_CORPSECRET = "fake0wecom0agent0secret00000000000000000001"
DEFAULT_AGENTID = 1000002
DEFAULT_ROBOT_KEY = "00000000-fake-robo-t000-000000000001"


@dataclass
class WecomConfig:
    # corpid -> {application secret -> agentid}
    corps: dict[str, dict[str, int]] = field(
        default_factory=lambda: {DEFAULT_CORPID: {DEFAULT_CORPSECRET: DEFAULT_AGENTID}}
    )
    robot_keys: set[str] = field(default_factory=lambda: {DEFAULT_ROBOT_KEY})
    token_ttl: int = 7200
    max_touser: int = 1000
    content_max_bytes: dict[str, int] = field(
        default_factory=lambda: {"text": 2048, "markdown": 2048}
    )
    member_per_minute: int = 30
    member_per_hour: int = 1000
    robot_max_bytes: dict[str, int] = field(
        default_factory=lambda: {"text": 2048, "markdown": 4096, "markdown_v2": 4096}
    )
    robot_per_minute: int = 20
    duplicate_interval_default: int = 1800
    duplicate_interval_max: int = 14400


@dataclass(frozen=True)
class DroppedDelivery:
    """A member the service silently skipped because of the per-member rate limit."""

    userid: str
    agent_id: int
    content: str
    at: float
    limit: str  # "minute" | "hour"


@dataclass(frozen=True)
class DuplicateDelivery:
    """A member the duplicate check spared an identical message delivered `since` ago."""

    userid: str
    agent_id: int
    content: str
    at: float
    since: float


class WeComFake(FakeApi):
    def __init__(self, clock: FakeClock, config: WecomConfig | None = None) -> None:
        super().__init__(clock)
        self.config = config or WecomConfig()
        errors = TokenErrors(invalid=(40014, "invalid access_token"))
        self.tokens = TokenBook(clock, self.config.token_ttl, errors, rotate=False)
        self.members: dict[str, set[str]] = {corp: set() for corp in self.config.corps}
        self.dropped: list[DroppedDelivery] = []
        self.duplicates: list[DuplicateDelivery] = []
        # (agent, userid, msgtype, content) -> when it was last delivered
        self._delivered_at: dict[tuple[int, str, str, str], float] = {}
        self._per_minute = SlidingWindow(clock, 60)
        self._per_hour = SlidingWindow(clock, 3600)
        self._robot_minute = SlidingWindow(clock, 60)
        self._next_msgid = 0

    # ---- test-facing setup -------------------------------------------------------

    def add_members(self, *userids: str, corp_id: str = DEFAULT_CORPID) -> None:
        with self.lock:
            self.members.setdefault(corp_id, set()).update(userids)

    def add_app(self, corp_id: str, secret: str, agent_id: int) -> None:
        with self.lock:
            self.config.corps.setdefault(corp_id, {})[secret] = agent_id
            self.members.setdefault(corp_id, set())

    def add_robot(self, key: str) -> None:
        with self.lock:
            self.config.robot_keys.add(key)

    def inbox(self, userid: str) -> list[str]:
        """Application-message contents delivered to `userid`, oldest first."""
        return [m.content for m in self.sent("app") if userid in m.targets]

    def robot_messages(self, key: str = DEFAULT_ROBOT_KEY) -> list[str]:
        return [m.content for m in self.sent("robot") if m.targets == (key,)]

    def dropped_for(self, userid: str) -> list[DroppedDelivery]:
        with self.lock:
            return [d for d in self.dropped if d.userid == userid]

    def word_error(self, errcode: int, errmsg: str) -> str:
        hint = f"{int(self.clock.now())}_{secrets.randbelow(100)}_{secrets.token_hex(16)}"
        return (
            f"{errmsg}, hint: [{hint}], from ip: 127.0.0.1, "
            f"more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}"
        )

    # ---- routes -------------------------------------------------------------------

    def routes(self) -> dict[tuple[str, str], Handler]:
        return {
            ("GET", "/cgi-bin/gettoken"): self._gettoken,
            ("POST", "/cgi-bin/message/send"): self._message_send,
            ("POST", "/cgi-bin/webhook/send"): self._webhook_send,
        }

    def _gettoken(self, call: ApiCall) -> dict[str, Any]:
        apps = self.config.corps.get(call.query.get("corpid", ""))
        if apps is None:
            raise ApiError(40013, "invalid corpid")
        secret = call.query.get("corpsecret", "")
        if secret not in apps:
            raise ApiError(40001, "invalid credential")
        token, expires_in = self.tokens.issue(f"{call.query['corpid']}|{apps[secret]}")
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires_in}

    def _message_send(self, call: ApiCall) -> dict[str, Any]:
        corp_id, agent_id = self._auth(call)
        body = call.json_object()
        if str(body.get("agentid")) != str(agent_id):
            raise ApiError(40056, "invalid agentid")
        msgtype, content = _content(body, self.config.content_max_bytes)
        if utf8_len(content) > self.config.content_max_bytes[msgtype]:
            raise ApiError(45002, "content size out of limit")
        window = self._duplicate_window(body)
        valid, invalid = self._recipients(corp_id, body.get("touser"))
        invalid_party, invalid_tag = _ids(body.get("toparty")), _ids(body.get("totag"))
        if not valid:
            raise ApiError(81013, "user & party & tag all invalid")
        fresh = self._spare_repeats(agent_id, valid, msgtype, content, window)
        delivered = self._deliver(agent_id, fresh, msgtype, content)
        self._next_msgid += 1
        msgid = f"fake-msgid-{self._next_msgid}"
        repeats = tuple(u for u in valid if u not in fresh)
        self.record(
            "app", msgtype, content, delivered, agent_id=agent_id, msgid=msgid, duplicates=repeats
        )
        return {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(invalid),
            "invalidparty": "|".join(invalid_party),
            "invalidtag": "|".join(invalid_tag),
            "unlicenseduser": "",
            "msgid": msgid,
        }

    def _auth(self, call: ApiCall) -> tuple[str, int]:
        corp_id, agent_id = self.tokens.check(call.query.get("access_token")).split("|")
        return corp_id, int(agent_id)

    def _recipients(self, corp_id: str, touser: Any) -> tuple[list[str], list[str]]:
        members = self.members.get(corp_id, set())
        userids = _ids(touser)
        if userids == ["@all"]:
            return sorted(members), []
        if len(userids) > self.config.max_touser:
            raise ApiError(
                40058, f"invalid parameter, touser exceed max count {self.config.max_touser}"
            )
        return [u for u in userids if u in members], [u for u in userids if u not in members]

    def _duplicate_window(self, body: dict[str, Any]) -> float | None:
        """Seconds of the duplicate check this call asks for; None when it asks for none."""
        enabled = body.get("enable_duplicate_check", 0)
        if enabled not in (0, 1):
            raise ApiError(40058, "invalid parameter enable_duplicate_check")
        if not enabled:
            return None
        seconds = body.get("duplicate_check_interval", self.config.duplicate_interval_default)
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise ApiError(40058, "invalid parameter duplicate_check_interval")
        if not 0 < seconds <= self.config.duplicate_interval_max:
            raise ApiError(40058, "invalid parameter duplicate_check_interval")
        return float(seconds)

    def _spare_repeats(
        self, agent_id: int, userids: list[str], msgtype: str, content: str, window: float | None
    ) -> list[str]:
        """The members who have not had this very message within `window` seconds."""
        if window is None:
            return userids
        now = self.clock.now()
        fresh = []
        for userid in userids:
            last = self._delivered_at.get((agent_id, userid, msgtype, content))
            if last is not None and now - last < window:
                repeat = DuplicateDelivery(userid, agent_id, content, now, now - last)
                self.duplicates.append(repeat)
            else:
                fresh.append(userid)
        return fresh

    def _deliver(
        self, agent_id: int, userids: list[str], msgtype: str, content: str
    ) -> tuple[str, ...]:
        delivered = []
        for userid in userids:
            key = f"{agent_id}|{userid}"
            limit = self._exceeded(key)
            if limit is None:
                self._per_minute.add(key)
                self._per_hour.add(key)
                self._delivered_at[(agent_id, userid, msgtype, content)] = self.clock.now()
                delivered.append(userid)
            else:
                self.dropped.append(
                    DroppedDelivery(userid, agent_id, content, self.clock.now(), limit)
                )
        return tuple(delivered)

    def _exceeded(self, key: str) -> str | None:
        if self._per_minute.count(key) >= self.config.member_per_minute:
            return "minute"
        if self._per_hour.count(key) >= self.config.member_per_hour:
            return "hour"
        return None

    def _webhook_send(self, call: ApiCall) -> dict[str, Any]:
        key = call.query.get("key", "")
        if key not in self.config.robot_keys:
            raise ApiError(93000, "invalid webhook url")
        if self._robot_minute.count(key) >= self.config.robot_per_minute:
            raise ApiError(45009, "api freq out of limit")
        self._robot_minute.add(key)
        body = call.json_object()
        msgtype, content = _content(body, self.config.robot_max_bytes)
        limit = self.config.robot_max_bytes[msgtype]
        if utf8_len(content) > limit:
            raise ApiError(40058, f"{msgtype}.content exceed max length {limit}")
        mentioned = body[msgtype].get("mentioned_list") or []
        self.record("robot", msgtype, content, (key,), mentioned_list=mentioned)
        return {"errcode": 0, "errmsg": "ok"}


def _ids(value: Any) -> list[str]:
    """`a|b|c` (or a list) -> unique ids in order."""
    parts = value if isinstance(value, list) else str(value or "").split("|")
    return list(dict.fromkeys(str(p).strip() for p in parts if str(p).strip()))


def _content(body: dict[str, Any], known: dict[str, int]) -> tuple[str, str]:
    msgtype = body.get("msgtype")
    if msgtype not in known:
        raise ApiError(40008, "invalid message type")
    section = body.get(msgtype)
    content = section.get("content") if isinstance(section, dict) else None
    if not isinstance(content, str) or not content:
        raise ApiError(44004, "empty content")
    return msgtype, content
