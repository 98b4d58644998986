"""Callbacks built the way WeChat / WeCom build them, with wechatpy's own signer and crypto."""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import xmltodict
from starlette.applications import Starlette
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WecomCrypto
from wechatpy.utils import WeChatSigner

from bot.config import Settings, WechatSettings, WecomRobotSettings, WecomSettings
from tests.fakes.wechat_mp import DEFAULT_APPID, DEFAULT_SECRET
from tests.fakes.wechat_server import FakeWeChatServer
from tests.fakes.wechat_work import (
    DEFAULT_AGENTID,
    DEFAULT_CORPID,
    DEFAULT_CORPSECRET,
    DEFAULT_ROBOT_KEY,
)

TOKEN = "briefbotCallbackToken"
AES_KEY = base64.b64encode(hashlib.sha256(b"briefbot test key").digest()).decode().rstrip("=")
ACCOUNT = "gh_0fakeaccount"
WECHAT_MAX = 2048
WECOM_APP_MAX = 2048
WECOM_ROBOT_MAX = 4096
Mode = Literal["plain", "compatible", "safe"]
_msg_ids = itertools.count(24000000000000001)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def settings_for(
    server: FakeWeChatServer, *, quota: int = 10, robots: list[dict[str, Any]] | None = None
) -> Settings:
    return Settings(
        wechat=WechatSettings(
            app_id=DEFAULT_APPID,
            secret=DEFAULT_SECRET,
            token=TOKEN,
            encoding_aes_key=AES_KEY,
            base_url=server.mp_base_url,
            mass_send_daily_quota=quota,
        ),
        wecom=WecomSettings(
            corp_id=DEFAULT_CORPID,
            secret=DEFAULT_CORPSECRET,
            agent_id=DEFAULT_AGENTID,
            token=TOKEN,
            encoding_aes_key=AES_KEY,
            base_url=server.wecom_base_url,
            robots=[WecomRobotSettings(**r) for r in (robots or [])],
        ),
    )


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def _xml(fields: dict[str, Any]) -> str:
    body = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>"
        for k, v in fields.items()
    )
    return f"<xml>{body}</xml>"


def text_fields(openid: str, text: str, *, msg_id: int | None = None) -> dict[str, Any]:
    return {
        "ToUserName": ACCOUNT,
        "FromUserName": openid,
        "CreateTime": int(time.time()),
        "MsgType": "text",
        "Content": text,
        "MsgId": msg_id if msg_id is not None else next(_msg_ids),
    }


def event_fields(openid: str, event: str, key: str = "") -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ToUserName": ACCOUNT,
        "FromUserName": openid,
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": event,
    }
    if key:
        fields["EventKey"] = key
    return fields


@dataclass(frozen=True)
class Callback:
    params: dict[str, str]
    body: str


def _stamp(timestamp: float | None) -> str:
    return str(int(time.time() if timestamp is None else timestamp))


def official_callback(
    fields: dict[str, Any], mode: Mode = "safe", *, timestamp: float | None = None
) -> Callback:
    """A POST as the Official Account platform sends it in `mode`, signed at `timestamp`."""
    timestamp, nonce = _stamp(timestamp), secrets.token_hex(5)
    params = {
        "signature": sign(TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": str(fields["FromUserName"]),
    }
    plain = _xml(fields)
    if mode == "plain":
        return Callback(params, plain)
    crypto = WeChatCrypto(TOKEN, AES_KEY, DEFAULT_APPID)
    sealed = xmltodict.parse(crypto.encrypt_message(plain, nonce, timestamp))["xml"]
    params |= {"encrypt_type": "aes", "msg_signature": sealed["MsgSignature"]}
    outer = {"ToUserName": ACCOUNT, "Encrypt": sealed["Encrypt"]}
    if mode == "compatible":
        outer = {**fields, "Encrypt": sealed["Encrypt"]}
    return Callback(params, _xml(outer))


def official_verification(
    echostr: str = "echo-4711", *, forged: bool = False, timestamp: float | None = None
) -> dict[str, str]:
    timestamp, nonce = _stamp(timestamp), secrets.token_hex(5)
    signature = sign("not-our-token" if forged else TOKEN, timestamp, nonce)
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": echostr}


def read_official_reply(body: str, mode: Mode) -> dict[str, Any] | None:
    """The reply message's fields (decrypted when encrypted); None for `success`."""
    if body == "success":
        return None
    if mode == "plain":
        return dict(xmltodict.parse(body)["xml"])
    sealed = xmltodict.parse(body)["xml"]
    crypto = WeChatCrypto(TOKEN, AES_KEY, DEFAULT_APPID)
    plain = crypto.decrypt_message(
        body, sealed["MsgSignature"], sealed["TimeStamp"], sealed["Nonce"]
    )
    return dict(xmltodict.parse(plain)["xml"])


def wecom_callback(fields: dict[str, Any], *, timestamp: float | None = None) -> Callback:
    timestamp, nonce = _stamp(timestamp), secrets.token_hex(5)
    crypto = WecomCrypto(TOKEN, AES_KEY, DEFAULT_CORPID)
    sealed = xmltodict.parse(crypto.encrypt_message(_xml(fields), nonce, timestamp))["xml"]
    params = {"msg_signature": sealed["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
    body = _xml(
        {"ToUserName": DEFAULT_CORPID, "AgentID": DEFAULT_AGENTID, "Encrypt": sealed["Encrypt"]}
    )
    return Callback(params, body)


def wecom_verification(echostr: str = "wecom-echo-42") -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    crypto = WecomCrypto(TOKEN, AES_KEY, DEFAULT_CORPID)
    sealed = xmltodict.parse(crypto.encrypt_message(echostr, nonce, timestamp))["xml"]
    return {
        "msg_signature": sealed["MsgSignature"],
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": sealed["Encrypt"],
    }


def wecom_fields(userid: str, text: str) -> dict[str, Any]:
    return {
        "ToUserName": DEFAULT_CORPID,
        "FromUserName": userid,
        "CreateTime": int(time.time()),
        "MsgType": "text",
        "Content": text,
        "MsgId": next(_msg_ids),
        "AgentID": DEFAULT_AGENTID,
    }


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://briefbot")


async def post(client: httpx.AsyncClient, path: str, callback: Callback) -> httpx.Response:
    return await client.post(
        path,
        params=callback.params,
        content=callback.body.encode(),
        headers={"Content-Type": "text/xml"},
    )


ROBOT_KEY = DEFAULT_ROBOT_KEY
