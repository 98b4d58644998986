"""A terminal chat with the command core: lines in, plain-text replies out.

Buttons are shown as numbered choices (`[1] 论文 (3)`); typing the number presses
it, and a number no button has gets a one-line answer (the choices stay). Works
interactively (prompt) and from a pipe (replies printed, exit at EOF).
The terminal is the operator's, so the chat is an admin.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Final, TextIO

from bot import i18n
from bot.commands import Button, Chat, Core, Incoming, Reply
from bot.commands.bounds import number_or_none

CONSOLE_CHAT: Final = Chat("console", "console:local", "private")
# Not "> ": the renderings quote the 导读 with "> ", which then looked like a prompt.
PROMPT: Final = "briefbot› "
CLEAR_LINE: Final = "\r\x1b[2K"  # carriage return, erase the line: the prompt's row
QUIT: Final = frozenset({"/quit", "/exit", "quit", "exit"})


class ConsoleChat:
    def __init__(
        self, core: Core, out: TextIO, *, language_code: str | None = None, user_id: str = "local"
    ) -> None:
        self._core = core
        self._out = out
        self._language_code = language_code
        self._user_id = user_id
        self._choices: list[Button] = []

    @property
    def choices(self) -> list[Button]:
        return list(self._choices)

    async def feed(self, line: str) -> None:
        """Handle one typed line: a choice number presses a button, anything else is text."""
        text = line.strip()
        if not text:
            return
        incoming = Incoming(CONSOLE_CHAT, self._user_id, text, self._language_code, is_admin=True)
        if not (text.isascii() and text.isdigit()):
            self.show(await self._core.handle_text(incoming))
            return
        number = number_or_none(text, 1, len(self._choices))
        if number is not None:
            pressed = replace(incoming, text=self._choices[number - 1].data)
            self.show(await self._core.handle_button(pressed))
        elif self._choices:
            shown = i18n.clip(text, 20)
            notice = await self._core.notice(
                incoming, "no_such_choice", number=shown, count=len(self._choices)
            )
            self.show(notice, keep_choices=True)
        else:
            self.show(await self._core.notice(incoming, "no_choices"), keep_choices=True)

    def show(self, replies: list[Reply], *, keep_choices: bool = False) -> None:
        """Print the replies; their buttons become the new numbered choices (unless
        `keep_choices`: a notice about a mistyped number leaves them as they were)."""
        if not replies:
            return
        if not keep_choices:
            self._choices = []
        for reply in replies:
            for message in reply.messages:
                self._out.write(message.text.rstrip("\n") + "\n\n")
            if keep_choices:
                continue
            for row in reply.buttons:
                cells = []
                for button in row:
                    self._choices.append(button)
                    cells.append(f"[{len(self._choices)}] {button.text}")
                self._out.write("  ".join(cells) + "\n")
            if reply.buttons:
                self._out.write("\n")
        self._out.flush()


async def run_console(
    core: Core,
    stdin: TextIO,
    stdout: TextIO,
    *,
    interactive: bool | None = None,
    language_code: str | None = None,
) -> int:
    """Serve `stdin` until EOF (or /quit); prompt only when it is a terminal."""
    if interactive is None:
        interactive = stdin.isatty()
    chat = ConsoleChat(core, stdout, language_code=language_code)
    if not interactive:
        await _serve_lines(chat, stdin)
        return 0
    stdout.write("briefbot chat — /help for commands, a number presses a button, /quit ends\n")
    prompt = PromptLine(stdout)
    with logs_above(prompt):
        await _serve_lines(chat, stdin, prompt)
    stdout.write("\n")
    return 0


async def _serve_lines(chat: ConsoleChat, stdin: TextIO, prompt: PromptLine | None = None) -> None:
    while True:
        if prompt is not None:
            prompt.show()
        line = await read_line(stdin)
        if prompt is not None:
            prompt.shown = False  # Enter moved the cursor to a fresh line
        if not line or line.strip() in QUIT:
            return
        await chat.feed(line)


class PromptLine:
    """The prompt on the terminal's last line, and whether it is there now."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.shown = False

    def show(self) -> None:
        self.out.write(PROMPT)
        self.out.flush()
        self.shown = True


class _AboveThePrompt(logging.Handler):
    """Writes log lines above the prompt: erase the prompt's row, write the line, draw the
    prompt again. Without it, a publication's log line landed after the prompt and the reader
    typed after it (what they had typed so far is kept by the terminal's line buffer)."""

    def __init__(self, inner: logging.StreamHandler[TextIO], prompt: PromptLine) -> None:
        super().__init__(inner.level)
        self.setFormatter(inner.formatter)
        self._stream = inner.stream
        self._prompt = prompt

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            if self._prompt.shown:
                self._stream.write(f"{CLEAR_LINE}{line}\n")
                self._stream.flush()
                self._prompt.show()
            else:
                self._stream.write(line + "\n")
                self._stream.flush()
        except Exception:  # logging must never break the chat
            self.handleError(record)


@contextlib.contextmanager
def logs_above(prompt: PromptLine) -> Iterator[None]:
    """While the chat runs, the root logger's terminal handlers write above the prompt."""
    root = logging.getLogger()
    swapped = []
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler and _is_terminal(handler.stream):
            replacement = _AboveThePrompt(handler, prompt)
            root.removeHandler(handler)
            root.addHandler(replacement)
            swapped.append((handler, replacement))
    try:
        yield
    finally:
        for handler, replacement in swapped:
            root.removeHandler(replacement)
            root.addHandler(handler)


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


async def read_line(stream: TextIO) -> str:
    """One line of `stream` ("" at EOF) without ever keeping the process from exiting.

    A terminal read blocks until Enter. In the executor, such a read would make
    `asyncio.run` wait at exit (after Ctrl-C, or when `run` stops); so a daemon thread
    reads, from the raw descriptor: a buffered stream's lock held by a daemon thread
    is fatal at interpreter shutdown.
    """
    try:
        fd = stream.fileno()
    except (OSError, io.UnsupportedOperation):  # StringIO and friends never block
        return stream.readline()
    return await _in_daemon_thread(lambda: _readline_fd(fd))


def _readline_fd(fd: int) -> str:
    """Bytes up to and including a newline (one `os.read` per line on a terminal)."""
    chunks: list[bytes] = []
    while True:
        byte = os.read(fd, 1)  # byte-wise: nothing read past the line is lost to a buffer
        if not byte:
            break
        chunks.append(byte)
        if byte == b"\n":
            break
    return b"".join(chunks).decode("utf-8", errors="replace")


async def _in_daemon_thread(work: Callable[[], str]) -> str:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def settle(result: str | None, error: BaseException | None) -> None:
        if future.done():  # cancelled: the caller stopped waiting
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result or "")

    def target() -> None:
        result, error = None, None
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting task
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=target, name="console-input", daemon=True).start()
    return await future
