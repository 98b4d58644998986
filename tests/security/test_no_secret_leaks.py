"""No configured secret appears in any output, on any failure path the bot can reach.

Every secret setting gets a distinct, recognisable value; the real CLI then fails every way
it can against the local fakes and a closed port: Telegram answering 401 (a token it does
not know), 404 (a wrong base URL), 500 and hanging past the read timeout, no server at all;
WeChat and WeCom refusing the app secrets; a robot key the fake does not know; the WeChat,
WeCom and robot endpoints unreachable (their URLs carry `secret=`, `corpsecret=`, `key=`).
Everything a person or program could read afterwards is collected: every log record of
every logger at DEBUG, stdout and stderr of in-process commands and of `run` subprocesses,
and every column of every table. None may contain a secret, raw or URL-encoded.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import MetaData, select

from bot.cli import main
from storage.db import create_engine
from tests.conftest import SAMPLES_DIR
from tests.fakes.telegram_limits import RateLimits
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.wechat_mp import DEFAULT_APPID, MpConfig
from tests.fakes.wechat_server import FakeWeChatServer
from tests.fakes.wechat_work import DEFAULT_AGENTID, DEFAULT_CORPID, WecomConfig

ROOT = SAMPLES_DIR.parent
# One distinct value per secret setting; '+', '/' and '=' change under URL encoding.
SECRETS = {
    "telegram.token": "424242:LEAKtgTokenQwertyuiopAsdfghjklZxcv",
    "telegram.webhook_secret": "LEAKtgWebhookSecret77",
    "wechat.secret": "LEAKwechatAppSecret+/=0000000077",
    "wechat.token": "LEAKwechatCallbackToken77",
    "wechat.encoding_aes_key": "LEAKwechatAesKey" + "a" * 27,
    "wecom.secret": "LEAKwecomCorpSecret+/=000000000000000000077",
    "wecom.token": "LEAKwecomCallbackToken77",
    "wecom.encoding_aes_key": "LEAKwecomAesKey0" + "b" * 27,
    "wecom.robots.key": "LEAKrobot-key/0000+0000=000000000077",
}
OLDEST, MIDDLE, NEWEST = "2026-11-02", "2026-11-16", "2026-11-30"
NO_WECHAT = {"BRIEFBOT_WECHAT_APP_ID": ""}  # the Official Account push is off (secret kept)
PAST = "2000-01-01T00:00"  # nothing falls due: a tick only polls and delivers
# Loggers of the fakes (the remote services' side of the wire) are not briefbot's output.
FOREIGN_LOGGERS = ("tests.", "aiohttp.access", "aiohttp.server", "aiohttp.web")


def secret_forms() -> dict[str, str]:
    """Every form a secret may take in text -> which setting it belongs to."""
    forms = {}
    for name, value in SECRETS.items():
        for form in (value, quote(value, safe=""), quote(value), quote_plus(value)):
            forms[form] = name
    return forms


def leaks(where: str, texts: Iterable[str]) -> list[str]:
    found = []
    for text in texts:
        for form, name in secret_forms().items():
            if form in text:
                at = text.index(form)
                found.append(f"{name} in {where}: ...{text[max(0, at - 80) : at + 80]!r}...")
    return found


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on exit: connections are refused


def write_briefings(folder: Path) -> Path:
    """The two samples and a third issue (a copy of the newer one, dated two weeks on)."""
    folder.mkdir()
    for sample in SAMPLES_DIR.glob("*.md"):
        (folder / sample.name).write_bytes(sample.read_bytes())
    text = (SAMPLES_DIR / f"{MIDDLE}.md").read_text(encoding="utf-8")
    (folder / f"{NEWEST}.md").write_text(text.replace(MIDDLE, NEWEST), encoding="utf-8")
    return folder


def write_config(path: Path, db_url: str) -> None:
    s = SECRETS
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[[sources]]
kind = "folder"
name = "samples"
path = "{write_briefings(path.parent / "briefings")}"

[publish]
settle_minutes = 0

[telegram]
token = "{s["telegram.token"]}"
webhook_url = "https://briefbot.invalid/telegram"
webhook_secret = "{s["telegram.webhook_secret"]}"
admins = [7]

[delivery]
max_attempts = 1
error_burst = 1

[web]
port = 0

[wechat]
app_id = "{DEFAULT_APPID}"
secret = "{s["wechat.secret"]}"
token = "{s["wechat.token"]}"
encoding_aes_key = "{s["wechat.encoding_aes_key"]}"

[wecom]
corp_id = "{DEFAULT_CORPID}"
secret = "{s["wecom.secret"]}"
agent_id = {DEFAULT_AGENTID}
token = "{s["wecom.token"]}"
encoding_aes_key = "{s["wecom.encoding_aes_key"]}"

[[wecom.robots]]
key = "{s["wecom.robots.key"]}"
""",
        encoding="utf-8",
    )


class Outputs:
    """What the commands printed, with the exit codes, for the checks at the end."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.texts: list[tuple[str, str]] = []
        self.codes: dict[str, int] = {}
        self.stored: set[tuple[str, str]] = set()  # after every command: a later one may
        # overwrite an error column (a retry), so the final state alone would miss it

    async def snapshot(self) -> None:
        self.stored.update(await database_texts(self.db_url))

    def add(self, label: str, code: int, out: str, err: str) -> None:
        self.codes[label] = code
        self.texts += [(f"{label} stdout", out), (f"{label} stderr", err)]


async def cli(
    outputs: Outputs,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    urls: dict[str, str],
    *args: str,
) -> int:
    """`briefbot ARGS` in-process (in a thread: the fakes serve on this loop)."""
    monkeypatch.delenv("BRIEFBOT_WECHAT_APP_ID", raising=False)
    for key, url in urls.items():
        name = key if key.endswith("_APP_ID") else f"BRIEFBOT_{key.upper()}_BASE_URL"
        monkeypatch.setenv(name, url)
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    outputs.add(" ".join(args), code, out, err)
    await outputs.snapshot()
    return code


async def run_subprocess(outputs: Outputs, config: Path, label: str, telegram_url: str) -> None:
    """`briefbot run` as deployed; it must stop at start, with one line and no secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    env["BRIEFBOT_TELEGRAM_BASE_URL"] = telegram_url
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("briefbot")),
        "--config", str(config), "run", "--no-chat",
        cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    outputs.add(f"run ({label})", proc.returncode or 0, out.decode(), err.decode())


async def database_texts(db_url: str) -> list[tuple[str, str]]:
    """Every value of every column of every table, as text: (table.column, value)."""
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            metadata = MetaData()
            await conn.run_sync(metadata.reflect)
            found = []
            for table in metadata.sorted_tables:
                for row in await conn.execute(select(table)):
                    for column, value in zip(table.columns, row, strict=True):
                        if value is not None:
                            found.append((f"{table.name}.{column.name}", str(value)))
            return found
    finally:
        await engine.dispose()


def log_texts(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    texts = []
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        if record.name.startswith(FOREIGN_LOGGERS):
            continue
        texts.append((f"log {record.name}", formatter.format(record)))
    return texts


async def test_no_secret_in_logs_output_or_database(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: httpx, urllib3, aiohttp, ...
    config = tmp_path / "config.toml"
    write_config(config, db_url)
    monkeypatch.chdir(tmp_path)  # ./config.toml is the configuration
    outputs = Outputs(db_url)
    nowhere = f"http://127.0.0.1:{closed_port()}"
    refusing = FakeWeChatServer().start()  # knows none of our secrets: token errors, 93000
    accepting = FakeWeChatServer(
        MpConfig(apps={DEFAULT_APPID: SECRETS["wechat.secret"]}),
        WecomConfig(
            corps={DEFAULT_CORPID: {SECRETS["wecom.secret"]: DEFAULT_AGENTID}},
            robot_keys={SECRETS["wecom.robots.key"]},
        ),
    ).start()
    try:
        async with (
            FakeTelegramServer(
                token=SECRETS["telegram.token"], rate_limits=RateLimits.off()
            ) as telegram,
            FakeTelegramServer() as stranger,  # another bot's server: 401 for our token
        ):
            ok = {"telegram": telegram.base_url}
            wechat_ok = {"wechat": accepting.mp_base_url}
            wecom_ok = {"wecom": accepting.wecom_base_url}
            wechat_refuses = {"wechat": refusing.mp_base_url}
            wecom_refuses = {"wecom": refusing.wecom_base_url}

            async def run(urls: dict[str, str], *args: str) -> int:
                return await cli(outputs, capsys, monkeypatch, urls, *args)

            # Archive the briefings and register the robot.
            await run(ok | wechat_ok | wecom_ok, "tick", "--now", PAST, "--deliver")
            assert "invalid configuration" not in outputs.texts[-1][1], outputs.texts[-1]
            for chat in ("telegram:111", "telegram:222", "wecom:member-1", "wechat:openid-1"):
                assert await run(ok, "subscribers", "add", chat) == 0, outputs.texts[-2:]
            # Telegram: 500 for one chat, a send that outlasts the read timeout for the
            # other. WeCom (application and robot) unreachable. The WeChat push runs before
            # WeCom's and stops the pass when it fails: here it succeeds.
            telegram.inject_fault("sendMessage", "500", times=5, chat_id=111)
            telegram.inject_fault("sendMessage", "hang", chat_id=222, hang_seconds=15)
            await run(ok | wechat_ok | {"wecom": nowhere}, "publish", NEWEST, "--deliver")
            await run(ok, "resume", NEWEST)
            # Telegram does not know the token (401); WeCom refuses the corp secret, the
            # robot key is unknown.
            stranger_tg = {"telegram": stranger.base_url}
            await run(stranger_tg | wechat_ok | wecom_refuses, "publish", MIDDLE, "--deliver")
            # WeChat refuses the app secret, then is unreachable (its token URL has it).
            await run(ok | wechat_refuses | wecom_ok, "publish", OLDEST, "--deliver")
            await run(ok | {"wechat": nowhere} | wecom_ok, "tick", "--now", PAST, "--deliver")
            await run(ok, "status")
            await run(ok, "status", "--json")
            await run(ok, "issues")
            # `run` cannot start: 401, a wrong base URL (404), nothing listening.
            await run_subprocess(outputs, config, "401", stranger.base_url)
            await run_subprocess(outputs, config, "404", f"{telegram.base_url}/nowhere/bot")
            await run_subprocess(outputs, config, "closed port", f"{nowhere}/bot")
    finally:
        refusing.stop()
        accepting.stop()
    await outputs.snapshot()
    stored = sorted(outputs.stored)

    texts = outputs.texts + log_texts(caplog) + stored
    found = [leak for where, text in texts for leak in leaks(where, [text])]
    places = sorted({leak.split(": ...", 1)[0] for leak in found})
    assert not found, "\n".join([*places, "", *found[:10]])

    # The failure paths were really taken (a test that reaches none of them proves nothing).
    for label in ("run (401)", "run (404)", "run (closed port)"):
        assert outputs.codes[label] != 0, outputs.texts
    start_failures = "\n".join(t for w, t in outputs.texts if w.startswith("run ("))
    assert "rejected" in start_failures and "[redacted]" in start_failures, start_failures
    errors = {value for where, value in stored if where == "deliveries.last_error"}
    assert len(errors) >= 4, errors  # 500, 401, timeout, robot / WeCom refusals
    everything = "\n".join(text for _, text in texts)
    for refusal in ("40125", "40001", "93000", "Cannot connect", "Max retries exceeded"):
        assert refusal in everything, refusal
