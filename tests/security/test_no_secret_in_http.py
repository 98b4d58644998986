"""No configured secret in what the bot serves over HTTP, nor in what it logs meanwhile.

`briefbot run` is started as deployed (a subprocess; Telegram in webhook mode, WeChat and
WeCom callbacks in safe mode) with a distinct value for every secret setting, then sent
what an attacker or a broken peer would send: forged and absurd signatures, plaintext where
safe mode is required, ciphertext under another key, garbage XML and JSON, oversized
bodies, replays, unknown paths and methods, and valid requests. Every status line, header
and body it answered, everything it printed, and every database column are then searched
for every form of every secret.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from wechatpy.crypto import WeChatCrypto

from tests.fakes.telegram_limits import RateLimits
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.wechat_mp import DEFAULT_APPID, MpConfig
from tests.fakes.wechat_server import FakeWeChatServer
from tests.fakes.wechat_work import DEFAULT_AGENTID, DEFAULT_CORPID, WecomConfig
from tests.security.test_no_secret_leaks import (
    ROOT,
    SECRETS,
    database_texts,
    leaks,
    write_config,
)

WEBHOOK_PATH = "/telegram"  # the path of write_config's webhook_url
OTHER_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")  # 43 characters, not ours


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def message_xml(sender: str, text: str, to: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
        f"<FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{secrets.randbelow(10**12)}</MsgId>"
        "</xml>"
    )


class Callbacks:
    """Requests for one WeChat-family callback path, signed with `token`."""

    def __init__(self, path: str, token: str, aes_key: str, app_id: str, safe_query: bool):
        self.path, self.token, self.aes_key, self.app_id = path, token, aes_key, app_id
        self.safe_query = safe_query  # Official Account: encrypt_type=aes + both signatures

    def query(self, timestamp: str, nonce: str, encrypted: str | None) -> dict[str, str]:
        query = {"timestamp": timestamp, "nonce": nonce}
        if encrypted is not None:
            query["msg_signature"] = sign(self.token, timestamp, nonce, encrypted)
        if self.safe_query:
            query |= {"signature": sign(self.token, timestamp, nonce), "encrypt_type": "aes"}
        return query

    def encrypted(self, xml: str, key: str | None = None) -> tuple[dict[str, str], bytes]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        crypto = WeChatCrypto(self.token, key or self.aes_key, self.app_id)
        envelope = crypto.encrypt_message(xml, nonce, timestamp)
        encrypt = envelope.split("<Encrypt><![CDATA[", 1)[1].split("]]>", 1)[0]
        body = (
            "<xml><ToUserName><![CDATA[x]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        )
        return self.query(timestamp, nonce, encrypt), body.encode()

    def garbage(self, encrypt: str) -> tuple[dict[str, str], bytes]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
        return self.query(timestamp, nonce, encrypt), body


class Answers:
    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.statuses: dict[str, int] = {}

    def add(self, label: str, response: aiohttp.ClientResponse, body: bytes) -> None:
        self.statuses[label] = response.status
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        text = f"{response.status} {response.reason}\n{headers}\n\n"
        self.texts.append((f"HTTP {label}", text + body.decode("utf-8", "replace")))


@contextlib.asynccontextmanager
async def running_bot(
    config: Path, env: dict[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("briefbot")),
        "--config", str(config), "run", "--no-chat",
        cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()


async def wait_until_serving(http: aiohttp.ClientSession, base: str, proc: object) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if getattr(proc, "returncode", None) is not None:
            raise AssertionError("briefbot run exited before serving")
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.3)
    raise AssertionError("briefbot run did not serve /healthz within 60 s")


async def hostile_requests(http: aiohttp.ClientSession, base: str, answers: Answers) -> None:
    async def ask(label: str, method: str, path: str, **kwargs: object) -> None:
        async with http.request(method, f"{base}{path}", **kwargs) as response:  # type: ignore[arg-type]
            answers.add(label, response, await response.read())

    tg_ok = {"X-Telegram-Bot-Api-Secret-Token": SECRETS["telegram.webhook_secret"]}
    update = json.dumps(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "a"},
                "text": "/help",
            },
        }
    ).encode()
    await ask("healthz", "GET", "/healthz")
    await ask("unknown path", "GET", "/admin?token=x")
    await ask("wrong method", "DELETE", "/wechat/callback")
    await ask("telegram forged secret", "POST", WEBHOOK_PATH, data=update,
              headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})  # fmt: skip
    await ask("telegram no secret", "POST", WEBHOOK_PATH, data=update)
    await ask("telegram garbage", "POST", WEBHOOK_PATH, data=b"{not json", headers=tg_ok)
    await ask("telegram huge", "POST", WEBHOOK_PATH, data=b"[" * 3_000_000, headers=tg_ok)
    await ask("telegram update", "POST", WEBHOOK_PATH, data=update, headers=tg_ok)

    family = {
        "wechat": Callbacks(
            "/wechat/callback", SECRETS["wechat.token"], SECRETS["wechat.encoding_aes_key"],
            DEFAULT_APPID, safe_query=True,
        ),
        "wecom": Callbacks(
            "/wecom/callback", SECRETS["wecom.token"], SECRETS["wecom.encoding_aes_key"],
            DEFAULT_CORPID, safe_query=False,
        ),
    }  # fmt: skip
    for name, cb in family.items():
        now, nonce = str(int(time.time())), secrets.token_hex(5)
        valid_query, valid_body = cb.encrypted(message_xml("reader-1", "帮助", "bot"))
        await ask(f"{name} valid", "POST", cb.path, params=valid_query, data=valid_body)
        await ask(f"{name} replay", "POST", cb.path, params=valid_query, data=valid_body)
        other_query, other_body = cb.encrypted(message_xml("r", "帮助", "bot"), OTHER_KEY)
        await ask(f"{name} other key", "POST", cb.path, params=other_query, data=other_body)
        for what, encrypt in (("bad base64", "%%%"), ("short", "QUJD"), ("blocks", "A" * 64)):
            query, body = cb.garbage(encrypt)
            await ask(f"{name} {what}", "POST", cb.path, params=query, data=body)
        plain = message_xml("reader-2", "帮助", "bot").encode()
        plain_query = {"timestamp": now, "nonce": nonce, "signature": sign(cb.token, now, nonce)}
        await ask(f"{name} plaintext", "POST", cb.path, params=plain_query, data=plain)
        forged = cb.query(now, nonce, "x") | {"msg_signature": "0" * 40, "signature": "0" * 40}
        await ask(f"{name} forged", "POST", cb.path, params=forged, data=valid_body)
        absurd = cb.query("9" * 400, nonce, "x")
        await ask(f"{name} absurd time", "POST", cb.path, params=absurd, data=valid_body)
        huge_query, _ = cb.garbage("A" * 64)
        await ask(f"{name} huge", "POST", cb.path, params=huge_query, data=b"<" * 3_000_000)
        verify = {"timestamp": now, "nonce": nonce, "echostr": "<script>", "msg_signature": "1"}
        await ask(f"{name} verify", "GET", f"{cb.path}?{urlencode(verify)}")


async def test_no_secret_in_http_answers_logs_or_database(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    write_config(config, db_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    wechat = FakeWeChatServer(
        MpConfig(apps={DEFAULT_APPID: SECRETS["wechat.secret"]}),
        WecomConfig(
            corps={DEFAULT_CORPID: {SECRETS["wecom.secret"]: DEFAULT_AGENTID}},
            robot_keys={SECRETS["wecom.robots.key"]},
        ),
    ).start()
    answers = Answers()
    try:
        async with FakeTelegramServer(
            token=SECRETS["telegram.token"], rate_limits=RateLimits.off()
        ) as telegram:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
            env |= {
                "BRIEFBOT_TELEGRAM_BASE_URL": telegram.base_url,
                "BRIEFBOT_WECHAT_BASE_URL": wechat.mp_base_url,
                "BRIEFBOT_WECOM_BASE_URL": wechat.wecom_base_url,
                "BRIEFBOT_WEB_PORT": str(port),
            }
            async with (
                running_bot(config, env) as proc,
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
            ):
                await wait_until_serving(http, base, proc)
                await hostile_requests(http, base, answers)
            out, err = await proc.communicate()
    finally:
        wechat.stop()

    printed = [("run stdout", out.decode()), ("run stderr", err.decode())]
    stored = await database_texts(db_url)
    texts = answers.texts + printed + stored
    found = [leak for where, text in texts for leak in leaks(where, [text])]
    assert not found, "\n".join(found[:10])

    # The paths were really taken: each hostile request got its refusal, valid ones passed.
    s = answers.statuses
    assert s["healthz"] == 200 and s["unknown path"] == 404
    assert s["telegram forged secret"] == 403 and s["telegram no secret"] == 403, s
    assert s["telegram update"] == 200, s
    for name in ("wechat", "wecom"):
        assert s[f"{name} valid"] == 200, s
        assert s[f"{name} replay"] == 403, s
        assert s[f"{name} plaintext"] == 403, s
        assert s[f"{name} forged"] == 403 and s[f"{name} absurd time"] == 403, s
        assert s[f"{name} huge"] == 413, s
        for what in ("other key", "bad base64", "short", "blocks"):
            assert s[f"{name} {what}"] == 400, (name, what, s)
    bodies = {label[5:]: text.rsplit("\n\n", 1)[1] for label, text in answers.texts}
    refusals = {bodies[f"{n} {w}"] for n in ("wechat", "wecom") for w in ("other key", "short")}
    assert len(refusals) == 1, refusals  # every decryption failure: the same short body
    assert all(len(bodies[label]) < 100 for label in s if s[label] >= 400), bodies
