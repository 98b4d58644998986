"""The pure publication rule: is an issue a draft, due, to be archived, held or done?

- Due: the issue's date has come at `publish.time` in `publish.timezone`; with
  `publish.weekdays` (a weekly series), the first of those weekdays on or after the date.
  An undated issue of a numbered series is due at the first such slot after the archive
  first saw it: a new number goes out at the series' next scheduled time.
- Settled: its content has not changed for `settle_minutes` (drafts are edited up to
  and after their date; we push the first quiet version).
- Stale: the archive first saw the issue more than `backfill_days` (local calendar
  days) after its date — an archive imported long after the fact. A stale issue is
  archived instead of pushed. An issue the bot saw before that (usually as a draft) is
  never stale: after downtime, however long, its missed publication happens on start.
  An undated numbered issue is stale when the series already has a higher number (an
  imported back catalogue, or two issues between two slots): only the newest goes out.
- Unfinished: no entries, a content section with no entries, or a half-written item
  (`unfinished_reasons`); such an issue is held for an admin instead of pushed. A defect
  the parser repaired is reported to admins and does not stop the publication.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import WEEKDAYS, PublishSettings, Settings
from bot.publish.results import Defect
from briefings.model import Issue, Section
from storage.issues import IssueSummary
from storage.publication import is_archived_hash

Decision = Literal["wait", "publish", "archive", "published", "held"]
State = Literal["draft", "due", "held", "published", "archived"]


def _zone(settings: PublishSettings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def due_at(key: date, settings: PublishSettings) -> datetime:
    """The moment an issue dated `key` falls due (aware, in the configured timezone)."""
    return _on_weekday(datetime.combine(key, settings.time, tzinfo=_zone(settings)), settings)


def due_moment(summary: IssueSummary, settings: PublishSettings) -> datetime:
    """When the issue falls due: by its date, or (undated) after it was first seen."""
    if summary.key is not None:
        return due_at(summary.key, settings)
    seen = summary.first_seen_at.astimezone(_zone(settings))
    slot = datetime.combine(seen.date(), settings.time, tzinfo=_zone(settings))
    if slot < seen:
        slot += timedelta(days=1)  # aware arithmetic keeps the wall-clock time across DST
    return _on_weekday(slot, settings)


def _on_weekday(moment: datetime, settings: PublishSettings) -> datetime:
    """`moment`, moved day by day to the first of the configured weekdays (if any)."""
    wanted = {WEEKDAYS.index(day) for day in settings.weekdays}
    for _ in range(7 if wanted else 0):
        if moment.weekday() in wanted:
            break
        moment += timedelta(days=1)
    return moment


def local_date(moment: datetime, settings: PublishSettings) -> date:
    return moment.astimezone(_zone(settings)).date()


def is_stale(key: date, first_seen: datetime, settings: PublishSettings) -> bool:
    return (local_date(first_seen, settings) - key).days > settings.backfill_days


def settled_at(summary: IssueSummary, settings: PublishSettings) -> datetime:
    return summary.content_changed_at + timedelta(minutes=settings.settle_minutes)


def decide(
    summary: IssueSummary,
    now: datetime,
    settings: PublishSettings,
    *,
    newest_number: int | None = None,
) -> Decision:
    """What the scheduler does with the issue at `now` (before looking at its content).

    `newest_number`: the series' highest issue number (numbered series)."""
    if summary.published_at is not None:
        return "published"
    if summary.held_at is not None:
        return "held"
    if now < due_moment(summary, settings):
        return "wait"
    if summary.key is not None and is_stale(summary.key, summary.first_seen_at, settings):
        return "archive"  # not pushed, so no need to wait for it to settle
    if summary.key is None and _superseded(summary, newest_number):
        return "archive"
    if now < settled_at(summary, settings):
        return "wait"
    return "publish"


def issue_state(
    summary: IssueSummary, now: datetime, settings: Settings | PublishSettings
) -> State:
    """The state `briefbot issues` shows: draft, due, held, published or archived.

    `due` means the date has come and the issue waits to settle or for the next check
    (which may archive it instead when it is stale).
    """
    publish = settings.publish if isinstance(settings, Settings) else settings
    if summary.published_at is not None:
        return "archived" if is_archived_hash(summary.published_hash) else "published"
    if summary.held_at is not None:
        return "held"
    return "draft" if now < due_moment(summary, publish) else "due"


def _superseded(summary: IssueSummary, newest_number: int | None) -> bool:
    number = summary.number
    return number is not None and newest_number is not None and newest_number > number


def unfinished_defects(issue: Issue) -> list[Defect]:
    """Why the issue looks unfinished; [] if it doesn't.

    Unfinished: no entries at all, a content section with no entries, or a defect of a
    half-written item (an unclosed link or bracket, a link with no target). Defects the
    parser repaired (`repaired_defects`) never hold an issue: they are only reported.
    """
    # The parser warns about an empty section itself, in English; kept as a kind of
    # its own, the chat can say it in the admin's language.
    empty = {_empty(s).stored: s for s in issue.sections}
    found = [
        Defect("empty_section", w.line, empty[w.message].heading, empty[w.message].key)
        if w.message in empty
        else Defect("warning", w.line, w.message)
        for w in issue.warnings
        if w.unfinished
    ]
    warned = {w.message for w in issue.warnings}
    for section in issue.sections:
        missing = _empty(section)
        if not section.entries and missing.stored not in warned:
            found.append(missing)
    if issue.entry_count == 0 and not issue.sections:
        found.append(Defect("no_entries"))
    return found


def _empty(section: Section) -> Defect:
    return Defect("empty_section", text=section.heading, section=section.key)


def unfinished_reasons(issue: Issue) -> list[str]:
    """`unfinished_defects` as stored with a held issue (English, one line each)."""
    return [d.stored for d in unfinished_defects(issue)]


def repaired(issue: Issue) -> list[Defect]:
    """Defects the parser repaired with a warning: told to admins, never a reason to hold."""
    return [Defect("warning", w.line, w.message) for w in issue.warnings if not w.unfinished]


def repaired_defects(issue: Issue) -> list[str]:
    return [d.stored for d in repaired(issue)]
