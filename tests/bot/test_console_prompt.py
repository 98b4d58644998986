"""The interactive terminal chat: log lines go above the prompt, never after it."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from bot.commands import Core, CoreDeps
from bot.config import Settings, StorageSettings
from bot.platforms.console.adapter import CLEAR_LINE, PROMPT, run_console
from bot.runtime import open_runtime
from tests.bot.commands.conftest import ingest_samples

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


class Terminal(io.StringIO):
    """What a terminal receives; says it is one, so the chat treats it as such."""

    def isatty(self) -> bool:
        return True


class LoggingStdin(io.StringIO):
    """Typed lines; a background job logs while the reader is at the prompt."""

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        logging.getLogger("briefbot.publish").warning("published 2026-11-16 to 3 chats")
        return super().readline()


async def _chat(tmp_path: Path, stdin: io.StringIO, out: Terminal) -> int:
    settings = Settings(storage=StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"))
    async with open_runtime(settings) as runtime:
        await ingest_samples(runtime.sessions, SAMPLES, runtime.taxonomy)
        core = Core(CoreDeps.from_runtime(runtime))
        return await run_console(core, stdin, out, interactive=True)


async def test_a_log_line_is_written_above_the_prompt(tmp_path: Path) -> None:
    out = Terminal()
    root = logging.getLogger()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root.addHandler(handler)
    try:
        assert await _chat(tmp_path, LoggingStdin("/help\n/quit\n"), out) == 0
        assert handler in root.handlers  # the terminal's own handler is back after the chat
        assert not [h for h in root.handlers if type(h).__name__ == "_AboveThePrompt"]
    finally:
        root.removeHandler(handler)
    text = out.getvalue()
    line = "WARNING published 2026-11-16 to 3 chats"
    # the prompt's row is erased, the log line written, the prompt drawn again below it
    assert text.count(f"{PROMPT}{CLEAR_LINE}{line}\n{PROMPT}") == 2
    assert f"{PROMPT}{line}" not in text


async def test_quotes_do_not_look_like_the_prompt(tmp_path: Path) -> None:
    out = Terminal()
    assert await _chat(tmp_path, io.StringIO("/latest\n/quit\n"), out) == 0
    quoted = [line for line in out.getvalue().splitlines() if "导读" in line]
    assert quoted  # the embedded sample's quoted intro is shown
    # with the old "> " prompt, the quote line "> 导读：…" read as a prompt
    assert not any(line.startswith(PROMPT.strip()) for line in quoted), quoted
