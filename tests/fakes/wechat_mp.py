"""Fake WeChat Official Account (公众号) API: token, customer-service and mass messages, tags.

Modelled rules (all limits live in MpConfig):
- /cgi-bin/token rotates: each fetch issues a new token, the previous one stays valid for
  `token_grace` seconds, then answers 40001; past `token_ttl` a token answers 42001.
- Customer-service (客服) messages need a recent user interaction. The 2023 rule: a user
  message opens 5 sends for 48 h; a menu click, subscribe or QR scan opens 3 for 1 minute.
  No open window -> 45015; window open but used up -> 45047.
- Mass send by tag: the documented filter is {is_to_all, tag_id}. The legacy `group_id`
  field (still sent by wechatpy 1.8.18) is rejected with 40050 "invalid group id", the
  global code for a bad group id, since groups were replaced by tags. Quota per China
  calendar day -> 45028. `clientmsgid` dedups for 24 h -> 45065 with the earlier msg_id.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.wechat_core import (
    ApiError,
    FakeClock,
    TokenBook,
    TokenErrors,
    utf8_len,
)
from tests.fakes.wechat_http import ApiCall, FakeApi, Handler

DEFAULT_APPID = "wx0fake0appid0001"
DEFAULT_SECRET = "fake0official0account0secret0001"
CHINA = dt.timezone(dt.timedelta(hours=8))
SYSTEM_TAGS = {2: "星标组"}
HOUR = 3600.0


@dataclass(frozen=True)
class WindowRule:
    quota: int
    seconds: float


def _default_rules() -> dict[str, WindowRule]:
    return {
        "message": WindowRule(5, 48 * HOUR),
        "menu_click": WindowRule(3, 60),
        "subscribe": WindowRule(3, 60),
        "scan": WindowRule(3, 60),
    }


@dataclass
class MpConfig:
    apps: dict[str, str] = field(default_factory=lambda: {DEFAULT_APPID: DEFAULT_SECRET})
    token_ttl: int = 7200
    token_grace: float = 300
    custom_rules: dict[str, WindowRule] = field(default_factory=_default_rules)
    custom_max_bytes: int = 2048
    mass_max_bytes: int = 2048
    mass_daily_quota: int = 1
    clientmsgid_max_bytes: int = 64
    max_tags: int = 100
    tag_name_max_bytes: int = 30
    tag_batch_max: int = 50
    tags_per_user: int = 20
    tag_delete_max_followers: int = 100_000  # a larger tag must be emptied first (45057)
    user_tag_page: int = 10000


@dataclass
class _Grant:
    quota: int
    expires_at: float
    used: int = 0


@dataclass
class Follower:
    openid: str
    subscribed: bool = True
    tags: set[int] = field(default_factory=set)
    grants: dict[str, _Grant] = field(default_factory=dict)


class OfficialAccountFake(FakeApi):
    def __init__(self, clock: FakeClock, config: MpConfig | None = None) -> None:
        super().__init__(clock)
        self.config = config or MpConfig()
        errors = TokenErrors(invalid=(40001, _ERR[40001]))
        self.tokens = TokenBook(clock, self.config.token_ttl, errors, True, self.config.token_grace)
        self.followers: dict[str, Follower] = {}
        self.tags: dict[int, str] = dict(SYSTEM_TAGS)
        self._next_tag_id = 100
        self._next_msg_id = 1000000001
        self._mass_per_day: dict[str, int] = {}
        self._clientmsgids: dict[str, tuple[int, float]] = {}

    # ---- test-facing setup -------------------------------------------------------

    def add_follower(self, openid: str, *, interacted: str | None = "message") -> Follower:
        """Register a follower; `interacted` opens that kind of 客服 window now (None: none)."""
        with self.lock:
            follower = self.followers.setdefault(openid, Follower(openid))
            follower.subscribed = True
        if interacted:
            self.user_interacted(openid, interacted)
        return follower

    def user_interacted(self, openid: str, kind: str = "message") -> None:
        """The user messaged / clicked / subscribed / scanned now: (re)open that window."""
        rule = self.config.custom_rules[kind]
        with self.lock:
            follower = self.followers.setdefault(openid, Follower(openid))
            follower.grants[kind] = _Grant(rule.quota, self.clock.now() + rule.seconds)

    def unsubscribe(self, openid: str) -> None:
        with self.lock:
            self.followers[openid].subscribed = False

    def add_app(self, appid: str, secret: str) -> None:
        with self.lock:
            self.config.apps[appid] = secret

    def inbox(self, openid: str) -> list[str]:
        """Contents delivered to `openid` by any channel, oldest first."""
        return [m.content for m in self.sent() if openid in m.targets]

    def tag_id(self, name: str) -> int | None:
        return next((i for i, n in self.tags.items() if n == name), None)

    def word_error(self, errcode: int, errmsg: str) -> str:
        return f"{errmsg} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"

    # ---- routes -------------------------------------------------------------------

    def routes(self) -> dict[tuple[str, str], Handler]:
        return {
            ("GET", "/cgi-bin/token"): self._token,
            ("POST", "/cgi-bin/message/custom/send"): self._custom_send,
            ("POST", "/cgi-bin/message/mass/sendall"): self._mass_sendall,
            ("POST", "/cgi-bin/tags/create"): self._tags_create,
            ("GET", "/cgi-bin/tags/get"): self._tags_get,
            ("POST", "/cgi-bin/tags/delete"): self._tags_delete,
            ("POST", "/cgi-bin/tags/members/batchtagging"): self._batch_tagging,
            ("POST", "/cgi-bin/tags/members/batchuntagging"): self._batch_untagging,
            ("POST", "/cgi-bin/tags/getidlist"): self._tags_of_user,
            ("POST", "/cgi-bin/user/tag/get"): self._users_of_tag,
        }

    def _token(self, call: ApiCall) -> dict[str, Any]:
        if call.query.get("grant_type") != "client_credential":
            raise ApiError(40002, "invalid grant_type")
        appid = call.query.get("appid", "")
        if appid not in self.config.apps:
            raise ApiError(40013, "invalid appid")
        if call.query.get("secret") != self.config.apps[appid]:
            raise ApiError(40125, "invalid appsecret")
        token, expires_in = self.tokens.issue(appid)
        return {"access_token": token, "expires_in": expires_in}

    def _auth(self, call: ApiCall) -> str:
        return self.tokens.check(call.query.get("access_token"))

    def _custom_send(self, call: ApiCall) -> dict[str, Any]:
        self._auth(call)
        body = call.json_object()
        follower = self._follower(body.get("touser"))
        content = _text_content(body, self.config.custom_max_bytes)
        if not follower.subscribed:
            raise ApiError(45015, _ERR[45015])
        self._consume_grant(follower)
        self.record("custom", "text", content, (follower.openid,))
        return {"errcode": 0, "errmsg": "ok"}

    def _follower(self, openid: Any) -> Follower:
        follower = self.followers.get(openid) if isinstance(openid, str) else None
        if follower is None:
            raise ApiError(40003, "invalid openid")
        return follower

    def _consume_grant(self, follower: Follower) -> None:
        now = self.clock.now()
        open_grants = [g for g in follower.grants.values() if g.expires_at > now]
        if not open_grants:
            raise ApiError(45015, _ERR[45015])
        usable = sorted((g for g in open_grants if g.used < g.quota), key=lambda g: g.expires_at)
        if not usable:
            raise ApiError(45047, "out of response count limit")
        usable[0].used += 1

    def _mass_sendall(self, call: ApiCall) -> dict[str, Any]:
        appid = self._auth(call)
        body = call.json_object()
        recipients, tag_id = self._mass_recipients(body.get("filter"))
        content = _text_content(body, self.config.mass_max_bytes)
        client_msg_id = self._check_clientmsgid(body.get("clientmsgid"))
        day = self._day_key(appid)
        if self._mass_per_day.get(day, 0) >= self.config.mass_daily_quota:
            raise ApiError(45028, _ERR[45028])
        self._mass_per_day[day] = self._mass_per_day.get(day, 0) + 1
        msg_id = self._new_msg_id()
        if client_msg_id:
            self._clientmsgids[client_msg_id] = (msg_id, self.clock.now())
        self.record("mass", "text", content, recipients, tag_id=tag_id, msg_id=msg_id)
        return {
            "errcode": 0,
            "errmsg": "send job submission success",
            "msg_id": msg_id,
            "msg_data_id": msg_id * 10 + 1,
        }

    def _mass_recipients(self, flt: Any) -> tuple[tuple[str, ...], int | None]:
        if not isinstance(flt, dict) or not isinstance(flt.get("is_to_all"), bool):
            raise ApiError(40035, "invalid args")
        if "group_id" in flt:
            raise ApiError(40050, "invalid group id")
        live = [f for f in self.followers.values() if f.subscribed]
        if flt["is_to_all"]:
            return tuple(f.openid for f in live), None
        tag_id = flt.get("tag_id")
        if isinstance(tag_id, bool) or not isinstance(tag_id, int) or tag_id not in self.tags:
            raise ApiError(45159, "invalid tag id")
        return tuple(f.openid for f in live if tag_id in f.tags), tag_id

    def _check_clientmsgid(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or utf8_len(value) > self.config.clientmsgid_max_bytes:
            raise ApiError(45067, "clientmsgid size out of limit")
        seen = self._clientmsgids.get(value)
        if seen is not None and self.clock.now() - seen[1] < 86400:
            raise ApiError(45065, "clientmsgid exist", msg_id=seen[0])
        return value

    def _day_key(self, appid: str) -> str:
        day = dt.datetime.fromtimestamp(self.clock.now(), CHINA).date()
        return f"{appid}:{day.isoformat()}"

    def _new_msg_id(self) -> int:
        self._next_msg_id += 1
        return self._next_msg_id

    def _tags_create(self, call: ApiCall) -> dict[str, Any]:
        self._auth(call)
        tag = call.json_object().get("tag")
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str) or not name:
            raise ApiError(40035, "invalid args")
        if utf8_len(name) > self.config.tag_name_max_bytes:
            raise ApiError(45158, "tag name too long")
        if name in self.tags.values():
            raise ApiError(45157, "invalid tag name")
        if len(self.tags) - len(SYSTEM_TAGS) >= self.config.max_tags:
            raise ApiError(45056, "too many tags now, no more than 100")
        self._next_tag_id += 1
        self.tags[self._next_tag_id] = name
        return {"tag": {"id": self._next_tag_id, "name": name}}

    def _tags_get(self, call: ApiCall) -> dict[str, Any]:
        self._auth(call)
        return {
            "tags": [
                {"id": i, "name": n, "count": self._tag_count(i)} for i, n in self.tags.items()
            ]
        }

    def _tag_count(self, tag_id: int) -> int:
        return sum(1 for f in self.followers.values() if tag_id in f.tags)

    def _tags_delete(self, call: ApiCall) -> dict[str, Any]:
        self._auth(call)
        tag = call.json_object().get("tag")
        tag_id = tag.get("id") if isinstance(tag, dict) else None
        if tag_id in (0, 1, 2):
            raise ApiError(45058, "can't modify sys tag")
        self._known_tag(tag_id)
        if self._tag_count(tag_id) > self.config.tag_delete_max_followers:
            raise ApiError(45057, "can't delete the tag that has too many fans")
        del self.tags[tag_id]
        for follower in self.followers.values():
            follower.tags.discard(tag_id)
        return {"errcode": 0, "errmsg": "ok"}

    def _known_tag(self, tag_id: Any) -> int:
        if isinstance(tag_id, bool) or not isinstance(tag_id, int) or tag_id not in self.tags:
            raise ApiError(45159, "invalid tag id")
        return tag_id

    def _batch_targets(self, call: ApiCall) -> tuple[int, list[Follower]]:
        self._auth(call)
        body = call.json_object()
        openids = body.get("openid_list")
        if not isinstance(openids, list) or not 0 < len(openids) <= self.config.tag_batch_max:
            raise ApiError(40032, "invalid openid list size")
        tag_id = self._known_tag(body.get("tagid"))
        return tag_id, [self._follower(openid) for openid in openids]

    def _batch_tagging(self, call: ApiCall) -> dict[str, Any]:
        tag_id, followers = self._batch_targets(call)
        limit = self.config.tags_per_user
        if any(len(f.tags | {tag_id}) > limit for f in followers):
            raise ApiError(45059, "fans tag number exceeds limit")
        for follower in followers:
            follower.tags.add(tag_id)
        return {"errcode": 0, "errmsg": "ok"}

    def _batch_untagging(self, call: ApiCall) -> dict[str, Any]:
        tag_id, followers = self._batch_targets(call)
        for follower in followers:
            follower.tags.discard(tag_id)
        return {"errcode": 0, "errmsg": "ok"}

    def _tags_of_user(self, call: ApiCall) -> dict[str, Any]:
        self._auth(call)
        follower = self._follower(call.json_object().get("openid"))
        return {"tagid_list": sorted(follower.tags)}

    def _users_of_tag(self, call: ApiCall) -> dict[str, Any]:
        self._auth(call)
        body = call.json_object()
        tag_id = self._known_tag(body.get("tagid"))
        openids = sorted(f.openid for f in self.followers.values() if tag_id in f.tags)
        start = body.get("next_openid") or ""
        page = [o for o in openids if o > start][: self.config.user_tag_page]
        if not page:
            return {"count": 0}
        more = len(page) == self.config.user_tag_page and page[-1] != openids[-1]
        return {
            "count": len(page),
            "data": {"openid": page},
            "next_openid": page[-1] if more else "",
        }


def _text_content(body: dict[str, Any], max_bytes: int) -> str:
    if body.get("msgtype") != "text":
        raise ApiError(40008, "invalid message type")
    text = body.get("text")
    content = text.get("content") if isinstance(text, dict) else None
    if not isinstance(content, str) or not content:
        raise ApiError(44004, "empty content")
    if utf8_len(content) > max_bytes:
        raise ApiError(45002, "content size out of limit")
    return content


_ERR = {
    40001: "invalid credential, access_token is invalid or not latest",
    45015: "response out of time limit or subscription is canceled",
    45028: "has no masssend quota",
}
