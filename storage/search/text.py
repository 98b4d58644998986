"""Pure text handling for search: folding, index tokens and the `/search` query language.

Chinese has no spaces, so CJK runs are indexed as overlapping character bigrams plus
the run's last character ("华为芯片" -> 华为 为芯 芯片 片). Any substring of two or
more characters is then a phrase of adjacent bigrams, and a single character is the
prefix `芯*` (a bigram starting with it, or the unigram ending a run). Other letters and
digits form lower-cased words (`INT8` -> int8, `RISC-V` -> risc v). The same tokens feed
SQLite FTS5 (`unicode61`, space separated) and PostgreSQL tsvectors built in Python,
so both databases match exactly the same documents.

Query language (never a syntax error; anything else is plain text):
  words          all must match (`手机 推理`); a CJK word matches as a substring,
                 a Latin word of 4+ letters also matches as a prefix (yolo -> YOLOv3)
  "a phrase"     the words in this order, Latin words exactly
  section:NAME   section key, heading or alias (section:papers, section:论文); repeat = any
  topic:NAME     topic key or display name (topic:chips, topic:芯片); repeat = any
  year:2020      issues dated in 2020
  date:RANGE     2020, 2020-03, 2020-03-02, or START..END with either end optional
                 (date:2020-01..2020-06 = 2020-01-01 through 2020-06-30)
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

MAX_QUERY_CHARS = 200
MAX_TERMS = 8

# Scripts written without spaces between words: Han, kana, Hangul (and their extensions).
CJK_CHARS = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_RUN = re.compile(rf"([{CJK_CHARS}]+)")
_WORD = re.compile(r"[^\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_FILTER = re.compile(r"^(section|topic|year|date)[:：](.*)$", re.IGNORECASE)
_QUOTED = re.compile(r'"([^"]*)"?')
_WORD_SEPARATORS = re.compile(r"[\s、，,；;]+")
PREFIX_MIN_LETTERS = 4
MAX_TOKEN_CHARS = 64  # longer "words" (hashes, base64) are cut, the same way on both sides


class QueryError(ValueError):
    """A query that cannot be searched.

    The message is readable English (CLI, logs); `code` and `params` let a chat front end
    say the same in the user's language.
    """

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def fold(text: str) -> str:
    """Compatibility-normalise (full-width -> ASCII), case-fold and drop diacritics."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():
        return folded
    stripped = _COMBINING.sub("", unicodedata.normalize("NFD", folded))
    return unicodedata.normalize("NFC", stripped)


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    cjk: bool


def segments(folded: str) -> list[Segment]:
    """Maximal CJK runs and words (letters/digits) of an already folded string, in order."""
    found: list[Segment] = []
    for i, part in enumerate(_CJK_RUN.split(folded)):
        if i % 2:
            found.append(Segment(part, True))
        elif part:
            found.extend(Segment(w[:MAX_TOKEN_CHARS], False) for w in _WORD.findall(part))
    return found


def cjk_tokens(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [a + b for a, b in pairwise(run)] + [run[-1]]


def index_tokens(text: str) -> list[str]:
    """Tokens of `text` in order, as stored in the index (hot path of indexing)."""
    tokens: list[str] = []
    for i, part in enumerate(_CJK_RUN.split(fold(text))):
        if i % 2:
            tokens.extend(cjk_tokens(part))
        elif part:
            tokens.extend(w[:MAX_TOKEN_CHARS] for w in _WORD.findall(part))
    return tokens


def tag_token(kind: str, value: str) -> str | None:
    """A filter token such as `s_papers`; `_` never occurs in text tokens, so no clash."""
    words = [seg.text for seg in segments(fold(value))]
    return f"{kind}_{'_'.join(words)}" if words else None


# --- query parsing -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Term:
    """One thing that must match: a phrase of adjacent tokens."""

    raw: str
    tokens: tuple[Token, ...]
    exact: bool = False  # quoted: Latin words match whole words only


@dataclass(frozen=True, slots=True)
class DateRange:
    start: date | None
    end: date | None


@dataclass(frozen=True, slots=True)
class Query:
    terms: tuple[Term, ...] = ()
    sections: tuple[str, ...] = ()  # section names as typed, any of them
    topics: tuple[str, ...] = ()  # topic names as typed, any of them
    dates: DateRange | None = None

    @property
    def has_filters(self) -> bool:
        return bool(self.sections or self.topics or self.dates)


def term_tokens(raw: str, *, exact: bool = False) -> tuple[Token, ...]:
    """Tokens a document must contain adjacently for `raw` to match.

    A CJK run followed by more text must end where the document's run ends, so it
    keeps its closing unigram; a trailing single CJK character is a prefix (any bigram
    starting with it); a trailing Latin word of 4+ letters is a prefix unless `exact`.
    """
    segs = segments(fold(raw))
    tokens: list[Token] = []
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg.cjk:
            toks = cjk_tokens(seg.text)
            if last and len(seg.text) > 1:
                toks = toks[:-1]
            tokens.extend(Token(t) for t in toks)
            if last and len(seg.text) == 1:
                tokens[-1] = Token(seg.text, prefix=True)
        else:
            prefix = last and not exact and len(seg.text) >= PREFIX_MIN_LETTERS
            tokens.append(Token(seg.text, prefix=prefix and seg.text.isalpha()))
    return tuple(tokens)


def parse_query(text: str) -> Query:
    """Parse a user query; raise QueryError with a readable message if nothing to search."""
    text = text.replace("\x00", " ").strip()
    if not text:
        raise QueryError("empty", "Type some words to search for, e.g. 量化 or MNN.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            "too_long",
            f"The query is too long (at most {MAX_QUERY_CHARS} characters).",
            limit=MAX_QUERY_CHARS,
        )
    terms: list[Term] = []
    sections: list[str] = []
    topics: list[str] = []
    dates: DateRange | None = None
    for raw, quoted in _split(text):
        m = None if quoted else _FILTER.match(raw)
        if m is None:
            tokens = term_tokens(raw, exact=quoted)
            if tokens and all(t.tokens != tokens for t in terms):
                terms.append(Term(raw, tokens, quoted))
            continue
        kind, value = m.group(1).lower(), m.group(2)
        if kind in ("year", "date"):
            dates = _parse_dates(kind, value)
        else:
            if tag_token(kind[0], value) is None:
                example = f"{kind}:{_EXAMPLES[kind]}"
                raise QueryError(
                    "filter_value",
                    f"{kind}: needs a value, e.g. {example}",
                    kind=kind,
                    example=example,
                )
            (sections if kind == "section" else topics).append(value.strip())
    if len(terms) > MAX_TERMS:
        raise QueryError("too_many", f"Too many words: use at most {MAX_TERMS}.", limit=MAX_TERMS)
    query = Query(tuple(terms), tuple(dict.fromkeys(sections)), tuple(dict.fromkeys(topics)), dates)
    if not query.terms and not query.has_filters:
        raise QueryError(
            "no_words", "The query has no searchable words (letters, digits or Chinese)."
        )
    return query


_EXAMPLES = {"section": "papers", "topic": "chips", "year": "2020", "date": "2020-01..2020-06"}


def _split(text: str) -> list[tuple[str, bool]]:
    """Words and "quoted phrases" (an unclosed quote runs to the end).

    Words are separated by whitespace and by the marks that list words in Chinese and
    English (、，,；;): "量化、剪枝" is two words, not the phrase 量化剪枝.
    """
    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in _QUOTED.finditer(text):
        parts.extend((w, False) for w in _words(text[pos : m.start()]))
        if m.group(1).strip():
            parts.append((m.group(1).strip(), True))
        pos = m.end()
    parts.extend((w, False) for w in _words(text[pos:]))
    return parts


def _words(text: str) -> list[str]:
    return [w for w in _WORD_SEPARATORS.split(text) if w]


def _parse_dates(kind: str, value: str) -> DateRange:
    value = fold(value).strip()
    try:
        if kind == "year":
            if not re.fullmatch(r"\d{4}", value):
                raise ValueError
            return DateRange(date(int(value), 1, 1), date(int(value), 12, 31))
        start, sep, end = value.partition("..")
        if not sep:
            return DateRange(_date_bound(value, first=True), _date_bound(value, first=False))
        low = _date_bound(start, first=True) if start else None
        high = _date_bound(end, first=False) if end else None
    except ValueError:
        raise QueryError(
            "bad_date",
            f"Could not read {kind}:{value} — use e.g. year:2020, date:2020-03 "
            "or date:2020-01..2020-06.",
            filter=f"{kind}:{value}",
        ) from None
    if low is None and high is None:
        raise QueryError("date_open", "date: needs at least one end, e.g. date:2020-01..2020-06")
    if low and high and low > high:
        raise QueryError(
            "date_order", f"date:{value} ends before it starts.", filter=f"date:{value}"
        )
    return DateRange(low, high)


def _date_bound(value: str, *, first: bool) -> date:
    """`2020`, `2020-03` or `2020-03-02` (also with / or .) as its first or last day."""
    m = re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?", value)
    if m is None:
        raise ValueError(value)
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else (1 if first else 12)
    if m.group(3):
        return date(year, month, int(m.group(3)))
    if not 1 <= month <= 12:
        raise ValueError(value)
    return date(year, month, 1 if first else calendar.monthrange(year, month)[1])


# --- plain text of markdown fields ---------------------------------------------------

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_URL = re.compile(r"<?https?://[^\s<>)\]]+>?")
_HTML = re.compile(r"<[^>\n]{1,200}>")
_EMPHASIS = re.compile(r"(\*\*|__|~~|`)")
_SPACES = re.compile(r"[ \t\u3000]+")


def plain_text(markdown: str) -> str:
    """Readable text of inline markdown: link labels kept, URLs, tags and emphasis dropped."""
    text = _IMAGE.sub(r"\1", markdown)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _HTML.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
