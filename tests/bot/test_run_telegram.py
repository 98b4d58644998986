"""`briefbot run` with a Telegram token, against the strict local Bot API server.

The real entry point runs in a subprocess and long-polls the fake server: it answers a
user's /start and publishes the due sample to a subscriber of `papers` — only papers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.platforms.telegram.adapter import SECRET_HEADER
from briefings.model import Issue, Series
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from tests.conftest import SAMPLES_DIR
from tests.fakes.telegram_server import FakeTelegramServer

ROOT = SAMPLES_DIR.parent
ADMIN = 7
READER = 42  # subscribed to papers before the bot starts
NEWCOMER = 43  # sends /start while the bot runs


def _briefbot() -> Path:
    path = Path(sys.executable).with_name("briefbot")
    if not path.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    return path


def _newest_sample() -> Issue:
    path = sorted(SAMPLES_DIR.glob("*.md"))[-1]
    text = decode_briefing(path.read_bytes(), path.name)
    return parse_issue(text, path.name, Series("embedded-ai", "嵌入式AI简报"), Taxonomy.default())


def _env(tmp_path: Path, server: FakeTelegramServer) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    return clean | {
        "BRIEFBOT_STORAGE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tg.sqlite3'}",
        "BRIEFBOT_PUBLISH_SETTLE_MINUTES": "0",
        "BRIEFBOT_PUBLISH_CHECK_INTERVAL_SECONDS": "1",
        "BRIEFBOT_TELEGRAM_TOKEN": server.token,
        "BRIEFBOT_TELEGRAM_BASE_URL": server.base_url,
        "BRIEFBOT_TELEGRAM_ADMINS": f"[{ADMIN}]",
    }


def _visible(server: FakeTelegramServer, chat_id: int) -> str:
    return "\n".join(m.visible_text for m in server.messages_in(chat_id))


async def test_run_answers_and_publishes_on_telegram(tmp_path: Path) -> None:
    briefbot, issue = _briefbot(), _newest_sample()
    papers = next(s for s in issue.sections if s.key == "papers")
    others = [e.title for s in issue.sections if s.key != "papers" for e in s.entries]
    async with FakeTelegramServer() as server:
        env = _env(tmp_path, server)
        add = [str(briefbot), "subscribers", "add", f"telegram:{READER}", "--sections", "papers"]
        subprocess.run(add, cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
        log = (tmp_path / "run.log").open("w")
        proc = await asyncio.create_subprocess_exec(
            str(briefbot), "run", "--start", f"{issue.key}T08:59:57",
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            await server.wait_for_calls("getUpdates", 1, timeout=60)  # long polling is on
            server.inject_command(NEWCOMER, "start")
            [welcome, *_] = await server.wait_for_messages(NEWCOMER, 1, timeout=30)
            assert "嵌入式AI简报" in welcome.visible_text and "/subscribe" in welcome.visible_text

            titles = [entry.title for entry in papers.entries]
            got_all = lambda: all(t in _visible(server, READER) for t in titles)  # noqa: E731
            await server.wait_until(got_all, timeout=60, what="the papers of the due issue")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 60)
            log.close()
    output = (tmp_path / "run.log").read_text()
    assert code == 0 and "Traceback" not in output, output[-3000:]
    pushed = _visible(server, READER)
    assert issue.title in pushed
    assert not any(title in pushed for title in others)  # only the subscribed section
    default, chinese = server.commands(), server.commands(language_code="zh")
    assert [c["command"] for c in default] == [c["command"] for c in chinese]
    assert {"start", "help", "latest", "search", "subscribe"} <= {c["command"] for c in default}
    assert default != chinese  # the same menu, described in each language


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_run_in_webhook_mode_serves_the_webhook_path(tmp_path: Path) -> None:
    briefbot, port = _briefbot(), _free_port()
    async with FakeTelegramServer() as server:
        env = _env(tmp_path, server) | {
            "BRIEFBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.com/tg/hook",
            "BRIEFBOT_WEB_PORT": str(port),
        }
        log = (tmp_path / "run.log").open("w")
        proc = await asyncio.create_subprocess_exec(
            str(briefbot), "run", cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            await server.wait_until(lambda: server.webhook is not None, 60, "setWebhook")
            assert server.webhook is not None
            secret = server.webhook["secret_token"]
            assert server.webhook["url"] == "https://bot.example.com/tg/hook" and secret
            update = server.inject_command(NEWCOMER, "help")
            url = f"http://127.0.0.1:{port}/tg/hook"
            async with httpx.AsyncClient() as client:
                await _wait_listening(client, port)
                forged = await client.post(url, json=update, headers={SECRET_HEADER: "nope"})
                real = await client.post(url, json=update, headers={SECRET_HEADER: secret})
            assert (forged.status_code, real.status_code) == (403, 200)
            [reply, *_] = await server.wait_for_messages(NEWCOMER, 1, timeout=30)
            assert "/search" in reply.visible_text  # the help text
            assert not server.calls_to("getUpdates")  # no polling beside the webhook
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 60)
            log.close()
    output = (tmp_path / "run.log").read_text()
    assert code == 0 and "Traceback" not in output, output[-3000:]


async def _wait_listening(client: httpx.AsyncClient, port: int) -> None:
    for _ in range(200):
        try:
            if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    pytest.fail("the web service never answered /healthz")


async def test_run_with_a_token_the_api_refuses_exits_with_a_message(tmp_path: Path) -> None:
    briefbot = _briefbot()
    async with FakeTelegramServer() as server:
        env = _env(tmp_path, server) | {"BRIEFBOT_TELEGRAM_TOKEN": "1:NotTheServersToken"}
        proc = await asyncio.create_subprocess_exec(
            str(briefbot), "run", cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    text = err.decode()
    assert proc.returncode == 1 and "briefbot: telegram:" in text
    assert "Traceback" not in text
