"""Secrets never leave the process: one `Redactor` for logs, CLI output, stored error text.

Failures carry secrets in places nobody chose to print them: python-telegram-bot puts the
token in every URL and in `InvalidToken`'s message, aiohttp and requests put the request
URL (a robot's `?key=`, WeChat's `?secret=` / `?access_token=`) into exception text, httpx
logs whole URLs at INFO. So redaction happens at the sinks, not at the raise sites:

- `Redactor.redact` masks every configured secret (and its URL-encoded forms) plus
  secret-shaped text (Telegram bot tokens, `access_token=`, `key=`, `secret=` ... values);
  used for error text that is logged, stored or sent to admins;
- `Redactor.scrub` masks only the configured secrets: for channels that also carry user
  content (CLI stdout, database parameters), where a `key=` in a briefing's URL is data;
- `installed(redactor)` wires both into the process for a CLI command: every log record
  (any library's logger, message, args, traceback), sys.stdout / sys.stderr, uncaught
  exception hooks; `scrub_database(engine)` into every statement's parameters.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings

MASK = "[redacted]"
# Shorter values are too weak to mask blindly: "abc" would mangle ordinary text.
MIN_SECRET_LENGTH = 6
# Telegram bot tokens (<bot id>:<35 chars>), bare or inside /bot<token>/ URLs.
_BOT_TOKEN = re.compile(r"(?<!\d)\d{3,}:[A-Za-z0-9_-]{20,}")  # also glued to /bot
# Secret-bearing parameters in URLs, form bodies, JSON and repr() of dicts.
_NAMES = r"access_token|corpsecret|appsecret|secret|key|token|encoding_aes_key|aes_key"
_QUERY = re.compile(rf"(?i)(?<![A-Za-z0-9_])({_NAMES})=([^&\s'\"<>;,)\]}}]+)")
_QUOTED = re.compile(rf"(?i)(['\"](?:{_NAMES})['\"]\s*:\s*['\"])([^'\"]+)")


def _secret_values(settings: Settings) -> list[str]:
    values: list[SecretStr | None] = [
        settings.telegram.token,
        settings.telegram.webhook_secret,
        settings.wechat.secret,
        settings.wechat.token,
        settings.wechat.encoding_aes_key,
        settings.wecom.secret,
        settings.wecom.token,
        settings.wecom.encoding_aes_key,
        *(robot.key for robot in settings.wecom.robots),
        settings.web.admin_token,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def _forms(secret: str) -> set[str]:
    """The secret as it may appear: raw, percent-encoded (URLs), plus-encoded (forms)."""
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms = {f for s in secrets if len(s) >= MIN_SECRET_LENGTH for f in _forms(s)}
        # Longest first, so a secret containing another is masked whole.
        self._secrets = tuple(sorted(forms, key=len, reverse=True))
        self._literal = (
            re.compile("|".join(re.escape(s) for s in self._secrets)) if self._secrets else None
        )

    @property
    def has_secrets(self) -> bool:
        return bool(self._secrets)

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        return cls(_secret_values(settings))

    def scrub(self, text: str) -> str:
        """`text` without any configured secret (user content stays as it is)."""
        # `in` is a fast substring scan; the regex runs only when there is a hit.
        if self._literal is None or not any(s in text for s in self._secrets):
            return text
        return self._literal.sub(MASK, text)

    def redact(self, text: str) -> str:
        """`text` without configured secrets or secret-shaped values (for error text)."""
        text = self.scrub(text)
        text = _BOT_TOKEN.sub(MASK, text)
        text = _QUERY.sub(lambda m: f"{m.group(1)}={MASK}", text)
        return _QUOTED.sub(lambda m: f"{m.group(1)}{MASK}", text)


_PATTERNS_ONLY = Redactor()  # before settings are known: secret-shaped text only
_active: Redactor | None = None


def active() -> Redactor:
    """The redactor the running command installed (patterns only outside a command)."""
    return _active or _PATTERNS_ONLY


def redact(text: str) -> str:
    """Error text as it may be logged, stored or shown to an admin."""
    return active().redact(text)


def describe(error: BaseException) -> str:
    """An exception as one redacted line: its message, or its type when it has none."""
    return redact(str(error) or type(error).__name__)


# --- logging ----------------------------------------------------------------------------

_base_factory: Any = None
_TRACEBACKS = logging.Formatter()


def _redact_value(value: Any, redactor: Redactor) -> Any:
    """A log argument, redacted; left as it is (type kept for %d) when it has no secret."""
    text = value if isinstance(value, str) else str(value)
    clean = redactor.redact(text)
    return value if clean == text else clean


def redact_record(record: logging.LogRecord, redactor: Redactor | None = None) -> None:
    """Mask secrets in a record's message, args, traceback and stack, in place."""
    redactor = redactor or active()
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: logging itself reports it when emitting
        return
    if redactor.redact(message) != message:
        record.msg = _redact_value(record.msg, redactor)
        if isinstance(record.args, Mapping):
            record.args = {k: _redact_value(v, redactor) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_value(v, redactor) for v in record.args)
        with contextlib.suppress(Exception):
            if redactor.redact(record.getMessage()) != record.getMessage():
                record.msg, record.args = redactor.redact(record.getMessage()), ()
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Handlers use a preset exc_text instead of formatting exc_info themselves.
        record.exc_text = redactor.redact(_TRACEBACKS.formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redactor.redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redactor.redact(record.stack_info)


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _base_factory(*args, **kwargs)
    redact_record(record)
    return record


def install_logging() -> None:
    """Every record of every logger (httpx, telegram, aiohttp, uvicorn, ...) is redacted
    when created, before any handler or formatter sees it. Idempotent."""
    global _base_factory
    if _base_factory is None:
        _base_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_factory)


# --- streams and uncaught exceptions ----------------------------------------------------


class RedactingStream:
    """A text stream that masks secrets in everything written through it."""

    def __init__(self, stream: TextIO, clean: Any) -> None:
        self._stream = stream
        self._clean = clean

    def write(self, text: str) -> int:
        self._stream.write(self._clean(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, ...
        return getattr(self._stream, name)


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    stream = sys.__stderr__  # the real stderr: a wrapper may already be gone at exit
    if stream is not None:
        stream.write(redact(_TRACEBACKS.formatException((kind, value, tb))) + "\n")


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is not SystemExit:
        _excepthook(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)


@contextlib.contextmanager
def installed(redactor: Redactor) -> Iterator[Redactor]:
    """For one CLI command: logging, stdout (configured secrets), stderr (also secret-shaped
    text: it carries errors) and uncaught exceptions are redacted; restored afterwards."""
    global _active
    install_logging()
    saved = (_active, sys.stdout, sys.stderr, sys.excepthook, threading.excepthook)
    _active = redactor
    sys.stdout = RedactingStream(sys.stdout, redactor.scrub)  # type: ignore[assignment]
    sys.stderr = RedactingStream(sys.stderr, redactor.redact)  # type: ignore[assignment]
    sys.excepthook, threading.excepthook = _excepthook, _thread_excepthook
    try:
        yield redactor
    finally:
        _active, sys.stdout, sys.stderr, sys.excepthook, threading.excepthook = saved


# --- database ---------------------------------------------------------------------------


def _scrub_parameters(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_parameters(v, redactor) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_parameters(v, redactor) for v in value)
    return value


def scrub_database(engine: AsyncEngine, redactor: Redactor) -> None:
    """No configured secret is written to any column, whatever path the text took."""

    def before_execute(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> tuple[str, Any]:
        return statement, _scrub_parameters(parameters, redactor)

    if redactor.has_secrets:
        event.listen(engine.sync_engine, "before_cursor_execute", before_execute, retval=True)
