"""wechatpy clients that talk to a configurable API root instead of the hard-coded hosts.

wechatpy 1.8.18 bakes `https://api.weixin.qq.com` / `https://qyapi.weixin.qq.com` into the
client's API_BASE_URL, into several endpoint classes' own API_BASE_URL and into
fetch_access_token; the subclasses below rebase all three so a test server (or a proxy)
sees every call. The clients are synchronous (requests): call them via asyncio.to_thread.

On errcode 40001 / 40014 / 42001 wechatpy (auto_retry=True) fetches a new token and
repeats the request with no retry limit; other errcodes raise WeChatClientException
(45009 raises its subclass APILimitedException); HTTP errors raise WeChatClientException
with errcode None; timeouts raise requests' own exceptions.
"""

from __future__ import annotations

from typing import Any

from wechatpy.client import WeChatClient
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.enterprise.client import WeChatClient as WeComClient
from wechatpy.session import SessionStorage

OFFICIAL_API_ROOT = "https://api.weixin.qq.com"
WECOM_API_ROOT = "https://qyapi.weixin.qq.com"
DEFAULT_TIMEOUT = 10.0


class OfficialAccountClient(WeChatClient):
    """公众号 client whose every URL starts with `api_root`."""

    def __init__(self, appid: str, secret: str, api_root: str, **kwargs: Any) -> None:
        super().__init__(appid, secret, **kwargs)
        self.api_root = api_root
        self.API_BASE_URL = f"{api_root}/cgi-bin/"
        _rebase_endpoints(self, OFFICIAL_API_ROOT, api_root)

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=f"{self.api_root}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class WeComAppClient(WeComClient):
    """企业微信 application client whose every URL starts with `api_root`."""

    def __init__(self, corp_id: str, secret: str, api_root: str, **kwargs: Any) -> None:
        super().__init__(corp_id, secret, **kwargs)
        self.api_root = api_root
        self.API_BASE_URL = f"{api_root}/cgi-bin/"
        _rebase_endpoints(self, WECOM_API_ROOT, api_root)

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=f"{self.api_root}/cgi-bin/gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
        )


def make_official_client(
    app_id: str,
    secret: str,
    base_url: str = OFFICIAL_API_ROOT,
    session: SessionStorage | None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    auto_retry: bool = True,
) -> OfficialAccountClient:
    """`base_url` is the API root (e.g. https://api.weixin.qq.com); `/cgi-bin/...` is appended."""
    return OfficialAccountClient(
        app_id,
        secret,
        _root(base_url),
        session=session,
        timeout=timeout,
        auto_retry=auto_retry,
    )


def make_wecom_client(
    corp_id: str,
    secret: str,
    base_url: str = WECOM_API_ROOT,
    session: SessionStorage | None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    auto_retry: bool = True,
) -> WeComAppClient:
    """`base_url` is the API root (e.g. https://qyapi.weixin.qq.com)."""
    return WeComAppClient(
        corp_id,
        secret,
        _root(base_url),
        session=session,
        timeout=timeout,
        auto_retry=auto_retry,
    )


def send_mass_text_by_tag(
    client: WeChatClient, tag_id: int, content: str, *, client_msg_id: str | None = None
) -> dict[str, Any]:
    """Mass-send text to followers carrying `tag_id`, with the documented filter body.

    wechatpy's message.send_mass_text still sends the pre-2016 `filter.group_id` field.
    `client_msg_id` (≤ 64 bytes) makes a retry within 24 h answer 45065 instead of
    sending twice.
    """
    data: dict[str, Any] = {
        "filter": {"is_to_all": False, "tag_id": tag_id},
        "text": {"content": content},
        "msgtype": "text",
    }
    if client_msg_id is not None:
        data["clientmsgid"] = client_msg_id
    return client.post("message/mass/sendall", data=data)


def _root(base_url: str) -> str:
    root = base_url.rstrip("/")
    if root.endswith("/cgi-bin"):
        root = root[: -len("/cgi-bin")]
    if not root.startswith(("http://", "https://")):
        raise ValueError(f"WeChat API base URL must start with http:// or https://: {base_url!r}")
    return root


def _rebase_endpoints(client: Any, real_root: str, api_root: str) -> None:
    """Point endpoint objects that carry their own absolute API_BASE_URL at `api_root`."""
    seen: set[int] = set()
    pending = [v for v in vars(client).values() if isinstance(v, BaseWeChatAPI)]
    while pending:
        api = pending.pop()
        if id(api) in seen:
            continue
        seen.add(id(api))
        base = getattr(api, "API_BASE_URL", "")
        if base.startswith(real_root):
            api.API_BASE_URL = api_root + base[len(real_root) :]
        pending.extend(v for v in vars(api).values() if isinstance(v, BaseWeChatAPI))
