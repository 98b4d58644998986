"""What a publication, a dry run or a refused request came to, as data.

The publisher returns these and says nothing itself: the command core renders them in
the admin's language (`bot.commands.admin.answer_text`), the CLI in English through the
same texts. Only `Defect.stored` is fixed English: it is the hold reason kept in the
archive and logged, and it matches the parser's own warning for an empty section.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from bot import i18n
from briefings.taxonomy import Taxonomy
from storage.issues import issue_label

DefectKind = Literal["warning", "empty_section", "no_entries"]


@dataclass(frozen=True, slots=True)
class Defect:
    """Why an issue looks unfinished, or what the parser repaired in it."""

    kind: DefectKind
    line: int = 0  # the source line the parser warned about; 0: none
    text: str = ""  # "warning": the parser's message (English); "empty_section": its heading
    section: str = ""  # "empty_section": the section's key

    @property
    def stored(self) -> str:
        if self.kind == "warning":
            said = self.text
        elif self.kind == "empty_section":
            said = f"section {self.text!r} has no entries"
        else:
            said = "the issue has no entries"
        return f"line {self.line}: {said}" if self.line else said

    def said(self, lang: str, taxonomy: Taxonomy | None = None) -> str:
        """For admins in `lang`, a section named as `Taxonomy.localized` heads it (the
        heading as written in Chinese); a parser warning by its code (bot.i18n)."""
        if self.kind == "warning":
            said = i18n.parser_warning(lang, self.text)
        elif self.kind == "empty_section":
            heading = self.text
            known = taxonomy is not None and any(s.key == self.section for s in taxonomy.sections)
            if known and not lang.startswith("zh"):
                assert taxonomy is not None
                heading = taxonomy.display_name(self.section, lang)
            said = i18n.t(lang, "defect_empty_section", heading=heading)
        else:
            said = i18n.t(lang, "defect_no_entries")
        return i18n.t(lang, "defect_at_line", line=self.line, defect=said) if self.line else said


@dataclass(frozen=True, slots=True)
class Publication:
    key: date | None  # None: an undated issue of a numbered series (`number` names it)
    issue_id: int
    content_hash: str
    deliveries: int
    renderings: int
    empty: int  # active subscribers whose subscriptions matched no entry
    repaired: tuple[Defect, ...] = ()  # defects the parser repaired: published, admins told
    number: int | None = None

    @property
    def label(self) -> str:
        return issue_label(self.key, self.number)


@dataclass(frozen=True, slots=True)
class Recipient:
    """One chat of a dry run and what it would get."""

    platform: str
    chat_id: str
    kind: str
    rendering_key: str
    messages: int


@dataclass(frozen=True, slots=True)
class Preview:
    """Who would get what if the issue were published now (nothing was written)."""

    key: date | None  # None: an undated issue of a numbered series (`number` names it)
    title: str
    content_hash: str
    recipients: int
    renderings: int
    empty: int  # active subscribers who would get nothing (no matching entries)
    listed: tuple[Recipient, ...]  # the first recipients, one by one
    held_at: datetime | None = None  # held as unfinished by the automatic publication
    unfinished: tuple[Defect, ...] = ()  # why it would be held (a manual push is not)
    number: int | None = None

    @property
    def label(self) -> str:
        return issue_label(self.key, self.number)

    @property
    def unlisted(self) -> int:
        return self.recipients - len(self.listed)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Nothing was published (or planned), and why."""

    key: date | int  # as asked: a date, or a numbered series' issue number
    reason: Literal["unknown", "already_published"]
    published_at: datetime | None = None  # "already_published": when, if known
    published_hash: str = ""

    @property
    def label(self) -> str:
        return f"#{self.key}" if isinstance(self.key, int) else self.key.isoformat()


PublishResult = Publication | Preview | Refusal
