"""Small text helpers: measuring, cleaning, URL checks and cut positions."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SENTENCE = re.compile(r"(?:[。！？；…]|[.!?;](?=\s))[”’」』）)\]\"']*")
_SPACE = re.compile(r"\s")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def clean(text: str) -> str:
    """Drop control characters (keeping newlines); \\r and \\t become spaces."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))


def one_line(text: str) -> str:
    return " ".join(clean(text).split())


def is_web_url(url: str | None) -> bool:
    if not url or _SPACE.search(url) or _CONTROL.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def newline_cuts(text: str) -> list[int]:
    return [m.start() for m in re.finditer("\n", text)]


def sentence_cuts(text: str) -> list[int]:
    return [m.end() for m in _SENTENCE.finditer(text) if m.end() < len(text)]


def space_cuts(text: str) -> list[int]:
    return [m.start() for m in _SPACE.finditer(text) if m.start() > 0]


def safe_cut(text: str, pos: int) -> int:
    """Move a hard cut left so it does not split a character from its combining marks,
    a ZWJ sequence or a variation selector (Python strings never split surrogates)."""
    while 0 < pos < len(text) and _joins(text[pos - 1], text[pos]):
        pos -= 1
    return pos if pos > 0 else 1


def _joins(before: str, after: str) -> bool:
    if before == "\u200d" or after == "\u200d":
        return True
    if "\ufe00" <= after <= "\ufe0f" or "\U0001f3fb" <= after <= "\U0001f3ff":
        return True
    return unicodedata.combining(after) != 0
