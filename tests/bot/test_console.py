"""`briefbot chat`: the console adapter over the real CLI, config and database."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot.cli as cli
from bot.cli import chat as chat_command
from bot.commands import Core, CoreDeps
from bot.config import Settings, StorageSettings
from bot.platforms.console.adapter import CONSOLE_CHAT, PROMPT, ConsoleChat, run_console
from bot.runtime import open_runtime
from storage.subscribers import get_subscriber


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("BRIEFBOT_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "db.sqlite3"}"\n')
    # The chat sub-command is wired into the CLI by its owner; make sure it is here.
    if chat_command not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, chat_command))
    return path


def run_cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str = "",
) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def test_piped_chat_prints_replies_and_exits_at_eof(
    config: Path,
    samples_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _ = run_cli(monkeypatch, capsys, "--config", str(config), "ingest", str(samples_dir))
    assert code == 0
    code, out = run_cli(
        monkeypatch,
        capsys,
        "--config",
        str(config),
        "chat",
        stdin="/latest\n3\n/search 量化\n",
    )
    assert code == 0
    assert "【嵌入式AI简报 (2026-11-16)】" in out and "【目录】" in out
    assert "[1] 业界新闻 (3)  [2] 应用 (1)" in out and "[3] 论文 (3)" in out
    # "3" pressed the 论文 button: that section, and no other.
    section = out.split("[6] 全文", 1)[1].split("【搜索", 1)[0]
    assert "【论文】" in section and "BiViT-Edge" in section and "Paddle-Lite" not in section
    assert "【搜索“量化”】" in out and "[量化]" in out and "[1] 下一页 »" in out
    assert not any(line.startswith("> ") and "导读" not in line for line in out.splitlines())


def test_chat_starts_and_stores_the_console_subscriber(
    config: Path,
    samples_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run_cli(
        monkeypatch, capsys, "--config", str(config), "chat", "--lang", "en",
        stdin="/start\n/stats\n/publish latest\n/latest\n",
    )  # fmt: skip
    assert code == 0
    assert "Welcome to the “嵌入式AI简报” bot!" in out
    assert "By platform: terminal 1" in out  # the operator's terminal is an admin
    assert "Publishing is not configured" in out
    assert "There are no issues yet." in out  # chat ingests nothing itself

    async def stored() -> tuple[str, tuple[str, ...]] | None:
        settings = Settings(storage=StorageSettings(url=_url(config)))
        async with open_runtime(settings) as runtime, runtime.sessions() as session:
            found = await get_subscriber(session, "console", "console:local")
        return (
            None if found is None else (found.language, tuple(s.kind for s in found.subscriptions))
        )

    assert asyncio.run(stored()) == ("en", ("all",))


def _url(config: Path) -> str:
    return config.read_text().split('"')[1]


async def _core(tmp_path: Path) -> tuple[Core, object]:
    settings = Settings(storage=StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"))
    manager = open_runtime(settings)
    runtime = await manager.__aenter__()
    return Core(CoreDeps.from_runtime(runtime)), manager


async def test_interactive_session_prompts_and_quits(tmp_path: Path) -> None:
    core, manager = await _core(tmp_path)
    try:
        out = io.StringIO()
        code = await run_console(
            core, io.StringIO("/help\n/quit\n/latest\n"), out, interactive=True
        )
    finally:
        await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]
    assert code == 0
    text = out.getvalue()
    assert text.startswith("briefbot chat")
    assert text.count(PROMPT) >= 2 and "命令与示例" in text
    assert "还没有任何一期简报" not in text  # /quit ended the session before /latest


async def test_numbers_press_only_the_current_choices(tmp_path: Path) -> None:
    core, manager = await _core(tmp_path)
    try:
        out = io.StringIO()
        console = ConsoleChat(core, out)
        await console.feed("/settings")
        assert [b.data for b in console.choices][:2] == ["g:f:full", "g:f:digest"]
        await console.feed("4")  # English
        assert "Language: English" in out.getvalue()
        await console.feed("/help")  # no buttons: the choices are gone
        assert console.choices == []
        out.truncate(0)
        await console.feed("4")
        assert "The last reply has no buttons to press" in out.getvalue()
    finally:
        await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]
    assert CONSOLE_CHAT.chat_id == "console:local"


def test_briefbot_chat_in_a_pipe_subprocess(config: Path, samples_dir: Path) -> None:
    briefbot = Path(sys.executable).with_name("briefbot")
    if not briefbot.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    base = [str(briefbot), "--config", str(config)]
    subprocess.run([*base, "ingest", str(samples_dir)], check=True, env=env, capture_output=True)
    done = subprocess.run(
        [*base, "chat"],
        input="/latest\n/search 量化\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "【目录】" in done.stdout and "[3] 论文 (3)" in done.stdout
    assert "【搜索“量化”】" in done.stdout


@pytest.mark.parametrize(
    "typed", ["0", "6", "99", "9" * 19, "9" * 20, str(2**63), "9" * 5000, "0" * 100 + "7"]
)
async def test_a_number_no_button_has_is_answered_and_keeps_the_choices(
    tmp_path: Path, typed: str
) -> None:
    """Typed numbers are range-checked once: no int() of 5000 digits, no IndexError."""
    core, manager = await _core(tmp_path)
    try:
        out = io.StringIO()
        console = ConsoleChat(core, out, language_code="en")
        await console.feed("/settings")
        before = console.choices
        assert len(before) == 5
        out.truncate(0)
        out.seek(0)
        await console.feed(typed)
        text = out.getvalue()
        assert "There is no choice" in text and "from 1 to 5" in text
        assert len(text) < 200  # a 5000-digit number is not printed back
        assert console.choices == before
        await console.feed("4")  # the buttons still work after the mistake
        assert "Language: English" in out.getvalue()
    finally:
        await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]


async def test_a_number_with_no_buttons_shown_says_so_in_chinese(tmp_path: Path) -> None:
    core, manager = await _core(tmp_path)
    try:
        out = io.StringIO()
        console = ConsoleChat(core, out)
        await console.feed("9" * 5000)
        assert "上一条回复没有可按的按钮" in out.getvalue()
    finally:
        await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]
