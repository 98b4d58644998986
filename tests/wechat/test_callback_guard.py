"""WeChat / WeCom callbacks an attacker sends: replays, absurd timestamps, undecryptable or
oversized bodies. Each is refused with a fixed answer and changes nothing; every request
is built with real signatures (sha1 over the token) and real AES, as WeChat builds them."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator

import pytest
import xmltodict
from sqlalchemy import select
from wechatpy.crypto.base import WeChatCipher

from bot.commands import Core, Incoming, Invocation, Reply
from bot.runtime import Runtime
from bot.web.service import WebService, open_web_service
from storage.db import create_engine, session_factory
from storage.models import CallbackSeenRow
from storage.replay import first_sighting
from tests.fakes.wechat_mp import DEFAULT_APPID
from tests.fakes.wechat_server import FakeWeChatServer
from tests.fakes.wechat_work import DEFAULT_CORPID
from tests.wechat.helpers import (
    AES_KEY,
    TOKEN,
    Callback,
    client_for,
    official_callback,
    official_verification,
    post,
    sign,
    text_fields,
    wecom_callback,
    wecom_fields,
    wecom_verification,
)

OA, WECOM = "/wechat/callback", "/wecom/callback"
OPENID = "o6_guard_follower"
MARKER = "DECRYPTED-MARKER-5f1c"  # inside plaintexts that must never be echoed or logged


class CountingCore:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.texts: list[str] = []

    def parse(self, text: str, platform: str) -> Invocation | None:
        return self.core.parse(text, platform)

    async def handle_text(self, incoming: Incoming) -> list[Reply]:
        self.texts.append(incoming.text)
        return await self.core.handle_text(incoming)


@pytest.fixture
def counting(core: Core) -> CountingCore:
    return CountingCore(core)


@pytest.fixture
async def web(runtime: Runtime, counting: CountingCore) -> AsyncIterator[WebService]:
    async with open_web_service(runtime, counting) as service:
        yield service


# --- building requests -----------------------------------------------------------------


def seal(
    plain: bytes,
    receiver: bytes = DEFAULT_APPID.encode(),
    *,
    key: str = AES_KEY,
    padding: str = "pkcs7",
    declared: int | None = None,
) -> str:
    """WeChat's AES layout, every field choosable: random(16) len(4) msg receiver pad."""
    size = len(plain) if declared is None else declared
    body = os.urandom(16) + size.to_bytes(4, "big") + plain + receiver
    count = 32 - len(body) % 32  # 1..32: PKCS#7 to WeChat's 32-byte blocks
    if padding == "pkcs7":
        body += bytes([count]) * count
    else:
        count += 32 if count < 2 else 0  # room for a wrong byte before the last one
        body += {
            "zero": bytes(count),  # a padding length of 0
            "over 32": bytes([33]) * count,
            "mixed": bytes([1]) * (count - 1) + bytes([count]),  # only the last byte is right
        }[padding]
    cipher = WeChatCipher(base64.b64decode(key + "="))
    return base64.b64encode(cipher.encrypt(body)).decode()


def official_sealed(encrypted: str, body: str | None = None) -> Callback:
    """A safe-mode POST signed correctly over `encrypted` (the body may be anything)."""
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    params = {
        "signature": sign(TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": sign(TOKEN, timestamp, nonce, encrypted),
    }
    envelope = f"<xml><ToUserName>gh_x</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"
    return Callback(params, envelope if body is None else body)


def wecom_sealed(encrypted: str, body: str | None = None) -> Callback:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    params = {
        "msg_signature": sign(TOKEN, timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    envelope = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return Callback(params, envelope if body is None else body)


def message_xml(text: str) -> bytes:
    fields = text_fields(OPENID, text)
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>".encode()


def resigned(callback: Callback, timestamp: str) -> Callback:
    """`callback` with another timestamp, every signature recomputed over it."""
    params = dict(callback.params)
    params["timestamp"] = timestamp
    nonce = params["nonce"]
    if "signature" in params:
        params["signature"] = sign(TOKEN, timestamp, nonce)
    if "msg_signature" in params:
        encrypted = xmltodict.parse(callback.body)["xml"]["Encrypt"]
        params["msg_signature"] = sign(TOKEN, timestamp, nonce, encrypted)
    return Callback(params, callback.body)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)


# --- replays -------------------------------------------------------------------------


async def test_the_same_signed_callback_is_accepted_once(
    web: WebService, counting: CountingCore, wechat_server: FakeWeChatServer
) -> None:
    wechat_server.mp.add_follower(OPENID)
    oa = official_callback(text_fields(OPENID, "订阅 论文"))
    wecom = wecom_callback(wecom_fields("zhangsan", "帮助"))
    async with client_for(web.app) as client:
        first, again = await post(client, OA, oa), await post(client, OA, oa)
        wecom_first = await post(client, WECOM, wecom)
        wecom_again = await post(client, WECOM, wecom)
    assert first.status_code == 200
    assert (again.status_code, again.text) == (403, "bad signature")
    assert wecom_first.status_code == 200
    assert (wecom_again.status_code, wecom_again.text) == (403, "bad signature")
    assert web.wecom is not None
    await web.wecom.drain()
    assert counting.texts == ["订阅 论文", "帮助"]


@pytest.fixture
async def other_web(
    runtime: Runtime, db_url: str, counting: CountingCore
) -> AsyncIterator[WebService]:
    """Another `briefbot run` on the same database: its own engine and connection pool."""
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    other = Runtime(runtime.settings, engine, sessions, runtime.series, runtime.taxonomy)
    try:
        async with open_web_service(other, counting) as service:
            yield service
    finally:
        await engine.dispose()


async def test_a_replay_to_another_process_is_refused(
    web: WebService, other_web: WebService, counting: CountingCore
) -> None:
    callback = official_callback(text_fields(OPENID, "帮助"))
    async with client_for(web.app) as one, client_for(other_web.app) as two:
        first = await post(client=one, path=OA, callback=callback)
        replayed = await post(client=two, path=OA, callback=callback)
    assert first.status_code == 200 and replayed.status_code == 403
    assert counting.texts == ["帮助"]


@pytest.mark.parametrize("path", [OA, WECOM])
async def test_of_concurrent_identical_callbacks_exactly_one_is_accepted(
    web: WebService, other_web: WebService, counting: CountingCore, path: str
) -> None:
    if path == OA:
        callback = official_callback(text_fields(OPENID, "帮助"))
    else:
        callback = wecom_callback(wecom_fields("lisi", "帮助"))
    async with client_for(web.app) as one, client_for(other_web.app) as two:
        answers = await asyncio.gather(
            *(post(client, path, callback) for client in (one, two, one, two))
        )
    assert sorted(a.status_code for a in answers) == [200, 403, 403, 403]
    for service in (web, other_web):
        assert service.wecom is not None
        await service.wecom.drain()
    assert counting.texts == ["帮助"]


# --- absurd timestamps ---------------------------------------------------------------

# Test ids are the keys, not the values: the values built from the clock differ between
# pytest-xdist workers, and workers must collect identical test ids.
ABSURD = {
    "300-digits": "9" * 300,
    "5000-digits": "1" * 5000,  # past int()'s digit limit: no ValueError trace, no 500
    "minus-one": "-1",
    "negative-now": str(-int(time.time())),
    "zero": "0",
    "exponent": "1.7e9",
    "fraction-now": f"{time.time():.3f}",
    "letters": "abc",
    "arabic-indic-digits": "١٧٠٠٠٠٠٠٠٠",  # int() would accept them
    "leading-space": " 1700000000",
    "empty": "",
}


@pytest.mark.parametrize("timestamp", list(ABSURD.values()), ids=list(ABSURD))
async def test_absurd_timestamps_get_403_everywhere(
    web: WebService, counting: CountingCore, timestamp: str
) -> None:
    """Signed correctly over the absurd value, so only the timestamp is wrong."""
    oa = resigned(official_callback(text_fields(OPENID, "帮助")), timestamp)
    wecom = resigned(wecom_callback(wecom_fields("zhangsan", "帮助")), timestamp)
    oa_get = official_verification()
    oa_get |= {"timestamp": timestamp, "signature": sign(TOKEN, timestamp, oa_get["nonce"])}
    wecom_get = wecom_verification()
    wecom_get |= {
        "timestamp": timestamp,
        "msg_signature": sign(TOKEN, timestamp, wecom_get["nonce"], wecom_get["echostr"]),
    }
    async with client_for(web.app) as client:
        answers = [
            await post(client, OA, oa),
            await post(client, WECOM, wecom),
            await client.get(OA, params=oa_get),
            await client.get(WECOM, params=wecom_get),
        ]
    assert [(a.status_code, a.text) for a in answers] == [(403, "bad signature")] * 4
    assert counting.texts == []


# --- undecryptable bodies --------------------------------------------------------------

OTHER_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")


def oa_failures() -> dict[str, Callback]:
    marked = message_xml(MARKER)
    return {
        "wrong key": official_sealed(seal(marked, key=OTHER_KEY)),
        "wrong app id": official_sealed(seal(marked, b"wx0000000000000000")),
        "bad padding": official_sealed(seal(marked, padding="zero")),
        "inconsistent padding": official_sealed(seal(marked, padding="mixed")),
        "length past the end": official_sealed(seal(marked, declared=10**6)),
        "bad base64": official_sealed("@@not*base64@@"),
        "not whole blocks": official_sealed(base64.b64encode(b"x" * 20).decode()),
        "truncated envelope": official_sealed("abc", "<xml><Encrypt><![CDATA[abc"),
        "not XML": official_sealed("abc", "hello, " + MARKER),
        "no Encrypt": official_sealed("abc", "<xml><Content>hi</Content></xml>"),
        "entity bomb": official_sealed(
            "abc",
            '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            "<xml><Encrypt>&b;</Encrypt></xml>",
        ),
        "decrypted not XML": official_sealed(seal(f"plain {MARKER}".encode())),
        "decrypted not UTF-8": official_sealed(seal(b"\xff\xfe" + MARKER.encode())),
    }


def wecom_failures() -> dict[str, Callback]:
    corp = DEFAULT_CORPID.encode()
    marked = message_xml(MARKER)
    return {
        "wrong key": wecom_sealed(seal(marked, corp, key=OTHER_KEY)),
        "wrong corp id": wecom_sealed(seal(marked, b"ww_not_ours")),
        "bad padding": wecom_sealed(seal(marked, corp, padding="over 32")),
        "bad base64": wecom_sealed("%%%"),
        "truncated envelope": wecom_sealed("abc", "<xml><Encrypt>abc"),
        "not XML": wecom_sealed("abc", MARKER),
        "decrypted not XML": wecom_sealed(seal(MARKER.encode(), corp)),
    }


async def test_every_decryption_failure_is_the_same_400(
    web: WebService, counting: CountingCore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cases = [(OA, name, cb) for name, cb in oa_failures().items()]
    cases += [(WECOM, name, cb) for name, cb in wecom_failures().items()]
    async with client_for(web.app) as client:
        answers = {(path, name): await post(client, path, cb) for path, name, cb in cases}
    summary = {k: (a.status_code, a.text, a.headers["content-length"]) for k, a in answers.items()}
    assert set(summary.values()) == {(400, "bad request", "11")}, summary
    assert MARKER not in logged(caplog)
    assert counting.texts == []


async def test_a_wrong_echostr_is_a_400_without_detail(web: WebService) -> None:
    wrong = wecom_verification()
    echostr = seal(b"echo " + MARKER.encode(), b"ww_not_ours")
    signature = sign(TOKEN, wrong["timestamp"], wrong["nonce"], echostr)
    wrong |= {"echostr": echostr, "msg_signature": signature}
    reflected = official_verification("<script>alert(1)</script>")
    async with client_for(web.app) as client:
        answers = [await client.get(WECOM, params=wrong), await client.get(OA, params=reflected)]
    assert [(a.status_code, a.text) for a in answers] == [(400, "bad request")] * 2


async def test_accepting_callbacks_purges_sightings_older_than_the_window(
    web: WebService, runtime: Runtime
) -> None:
    now = int(time.time())
    async with runtime.sessions.begin() as session:
        assert await first_sighting(session, "wechat", now - 3600, "old", "c" * 40)
        assert await first_sighting(session, "wechat", now - 30, "recent", "d" * 40)
    async with client_for(web.app) as client:
        accepted = await post(client, OA, official_callback(text_fields(OPENID, "帮助")))
    assert accepted.status_code == 200
    async with runtime.sessions() as session:
        nonces = set(await session.scalars(select(CallbackSeenRow.nonce)))
    assert "old" not in nonces and "recent" in nonces and len(nonces) == 2
