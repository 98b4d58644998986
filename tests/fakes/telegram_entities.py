"""Telegram's parse_mode=HTML, modelled on TDLib's parser: visible text plus entities.

The fake server refuses what this parser refuses and returns the text and `entities` it
produces. Errors carry TDLib's wording ("Unsupported start tag "x" at byte offset N"),
which the server prefixes with "can't parse entities: ".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre",
        "span", "tg-spoiler", "tg-emoji", "blockquote",
    }
)  # fmt: skip
ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "code": "code", "pre": "pre", "span": "spoiler",
    "tg-spoiler": "spoiler", "tg-emoji": "custom_emoji", "a": "text_link",
    "blockquote": "blockquote",
}  # fmt: skip
NAMED_CHARACTER_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# TDLib's is_space(); NUL counts because its parser walks a NUL-terminated buffer.
SPACES = " \t\r\n\v\0"
MARKUP = re.compile("[<&]")


class HtmlParseError(ValueError):
    """Telegram would answer "can't parse entities: <message>"."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the visible text
    argument: str = ""
    expandable: bool = False


@dataclass
class _Parser:
    source: str
    pos: int = 0
    out: list[str] = field(default_factory=list)
    out_len: int = 0  # UTF-16 units written so far
    stack: list[_OpenTag] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        while self.pos < len(self.source):
            special = MARKUP.search(self.source, self.pos)
            end = special.start() if special else len(self.source)
            if end > self.pos:  # plain text up to the next "<" or "&", in one piece
                self._emit(self.source[self.pos : end])
                self.pos = end
            elif self.source[self.pos] == "<":
                self._tag()
            elif not self._character_reference():
                self._emit("&")
                self.pos += 1
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.out_len += utf16_len(text)

    def _byte_offset(self, pos: int) -> int:
        return len(self.source[:pos].encode("utf-8"))

    def _char(self) -> str:
        return self.source[self.pos] if self.pos < len(self.source) else "\0"

    def _character_reference(self) -> bool:
        decoded, length = decode_character_reference(self.source, self.pos)
        if not length:
            return False
        self._emit(decoded)
        self.pos += length
        return True

    def _tag(self) -> None:
        begin = self.pos
        self.pos += 1
        if self._char() == "/":
            self._end_tag(begin)
        else:
            self._start_tag(begin)

    def _start_tag(self, begin: int) -> None:
        name_start = self.pos
        while self._char() not in SPACES and self._char() != ">":
            self.pos += 1
        if self.pos >= len(self.source):
            raise HtmlParseError(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
        name = self.source[name_start : self.pos].lower()
        if name not in SUPPORTED_TAGS:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {self._byte_offset(begin)}'
            )
        tag = _OpenTag(name, self.out_len)
        self._attributes(tag, begin)
        self.pos += 1  # the ">"
        if name == "span" and tag.argument != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_offset(begin)}'
            )
        self.stack.append(tag)

    def _attributes(self, tag: _OpenTag, begin: int) -> None:
        while True:
            while self.pos < len(self.source) and self._char() in SPACES:
                self.pos += 1
            if self.pos >= len(self.source):
                raise HtmlParseError(
                    f'Unclosed start tag "{tag.name}" at byte offset {self._byte_offset(begin)}'
                )
            if self._char() == ">":
                return
            self._attribute(tag, begin)

    def _attribute(self, tag: _OpenTag, begin: int) -> None:
        name_start = self.pos
        while self._char() not in SPACES and self._char() not in "=>":
            self.pos += 1
        name = self.source[name_start : self.pos].lower()
        if not name:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{tag.name}" at byte offset '
                f"{self._byte_offset(begin)}"
            )
        while self.pos < len(self.source) and self._char() in SPACES:
            self.pos += 1
        if self._char() != "=":
            if tag.name == "blockquote" and name == "expandable":
                tag.expandable = True
                return
            raise HtmlParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag.name}" '
                f"at byte offset {self._byte_offset(begin)}"
            )
        self.pos += 1
        while self.pos < len(self.source) and self._char() in SPACES:
            self.pos += 1
        value = self._attribute_value(begin)
        _apply_attribute(tag, name, value)

    def _attribute_value(self, begin: int) -> str:
        quote = self._char()
        if quote not in "'\"":
            start = self.pos
            while self._char().isalnum() or self._char() in ".-":
                self.pos += 1
            if self._char() not in SPACES and self._char() != ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {self._byte_offset(start)}"
                )
            return self.source[start : self.pos].lower()
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.source) and self._char() != quote:
            decoded, length = decode_character_reference(self.source, self.pos)
            chars.append(decoded if length else self._char())
            self.pos += length or 1
        if self.pos >= len(self.source):
            raise HtmlParseError(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
        self.pos += 1
        return "".join(chars)

    def _end_tag(self, begin: int) -> None:
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self._byte_offset(begin)}")
        name_start = self.pos + 1
        while self._char() not in SPACES and self._char() != ">":
            self.pos += 1
        name = self.source[name_start : self.pos].lower()
        while self.pos < len(self.source) and self._char() in SPACES:
            self.pos += 1
        if self._char() != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {self._byte_offset(begin)}")
        self.pos += 1
        tag = self.stack.pop()
        if name and name != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self._byte_offset(begin)}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self._close(tag)

    def _close(self, tag: _OpenTag) -> None:
        length = self.out_len - tag.start
        parent = self.stack[-1] if self.stack else None
        if tag.name == "code" and parent is not None and parent.name == "pre":
            parent.argument = parent.argument or tag.argument
            return  # <pre><code class="language-x"> is one pre entity
        if length <= 0 or (tag.name == "a" and not tag.argument):
            return
        self.entities.append(_entity(tag, length))


def _apply_attribute(tag: _OpenTag, name: str, value: str) -> None:
    if tag.name == "a" and name == "href":
        tag.argument = value
    elif tag.name == "code" and name == "class" and value.startswith("language-"):
        tag.argument = value.removeprefix("language-")
    elif (tag.name, name) == ("tg-emoji", "emoji-id") or (
        tag.name == "span" and name == "class" and value.startswith("tg-")
    ):
        tag.argument = value


def _entity(tag: _OpenTag, length: int) -> dict[str, Any]:
    kind = ENTITY_TYPES[tag.name]
    if tag.name == "blockquote" and tag.expandable:
        kind = "expandable_blockquote"
    entity: dict[str, Any] = {"type": kind, "offset": tag.start, "length": length}
    if kind == "text_link":
        entity["url"] = tag.argument
    elif kind == "pre" and tag.argument:
        entity["language"] = tag.argument
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.argument
    return entity


def decode_character_reference(text: str, pos: int) -> tuple[str, int]:
    """`&lt;`, `&#60;`, `&#x3C;` → ("<", length consumed); (“”, 0) when not a reference."""
    end = text.find(";", pos + 1, pos + 12)
    if end < 0:
        return "", 0
    body = text[pos + 1 : end]
    if body in NAMED_CHARACTER_REFERENCES:
        return NAMED_CHARACTER_REFERENCES[body], end - pos + 1
    code = _numeric_reference(body)
    if code is None or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or code == 0:
        return "", 0
    return chr(code), end - pos + 1


def _numeric_reference(body: str) -> int | None:
    if body[:2].lower() == "#x" and len(body) > 2:
        digits, base = body[2:], 16
    elif body[:1] == "#" and len(body) > 1:
        digits, base = body[1:], 10
    else:
        return None
    try:
        return int(digits, base)
    except ValueError:
        return None


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Visible text and entities (UTF-16 offsets); raises HtmlParseError like Telegram."""
    return _Parser(source).run()


def strip_formatted(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace after parsing; entities move with the text."""
    stripped = text.strip()
    if not stripped:
        return "", []
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept
