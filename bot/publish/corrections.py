"""Corrections: an issue edited after its publication updates what readers already have.

Within `publish.corrections_window_hours` of publication (and unless corrections are
off: `publish.corrections = false`, or an admin's `/corrections off`, kept by
storage/switches.py), a published issue whose content settled on a new hash is
corrected once per settled edit, in one transaction (`Corrector.correct`):

* `advance_published` moves `published_hash` to the new content (a conditional UPDATE:
  one process wins, and the next check sees nothing left to correct);
* every chat that got the issue (sent deliveries of active subscribers) is re-rendered
  with the publication's renderer and rendering key (profile, selection, format,
  language: parsed back from the stored key), and compared with what it shows now;
* Telegram, same number of messages, every message id known: the changed messages are
  edited in place (`editMessageText`); unchanged ones are not touched;
* otherwise (more or fewer messages, WeChat/WeCom which cannot edit): one short
  "更正 / Correction" message listing the changed entries, in the chat's language. On
  WeChat/WeCom only when an entry's title or link changed (never for summary typos or
  whitespace), and at most once per issue per day;
* the Official Account (tag mass sends under a daily quota) gets a campaign correction:
  per follower one correction message for each of its parts (tags) whose mass send
  changed, on the same title-or-link and once-a-day terms; the delivery engine sends one
  mass send per tag that got the issue (bot/platforms/wechat/campaign.py), not one per
  follower;
* the work is written as the chat's `corrections` row (storage/corrections.py: why that
  shape, how a later edit supersedes a pending one, and the crash bound), which the
  delivery engine sends like a delivery.

An edit after the window, or with corrections off, only updates the archive.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.delivery.types import StoredMessage
from bot.publish.mass import render_part
from bot.publish.rendering import MASS_PART_PREFIX, MASS_PLATFORM, RendererSet, render_for, stored
from bot.runtime import Runtime
from briefings.model import Issue
from storage import corrections as store
from storage.corrections import ChangedIssue, Delivered, Work
from storage.issues import load_issue
from storage.subscribers import Subscriber, Subscription
from storage.switches import corrections_switch

log = logging.getLogger(__name__)

EDITABLE = frozenset({"telegram"})  # platforms whose sent messages can be edited
# Platforms with a sender for corrections (the engine: Telegram, console, WeCom, and the
# Official Account's campaign: one mass send per tag, under the daily quota).
CORRECTED = frozenset({"telegram", "console", "wecom", MASS_PLATFORM})
BATCH = 500
LISTED = 10  # entries named in one correction message

# (heading, heading when the title already names the date, removed, footer)
HEADINGS = {
    "zh": ("更正：{title}（{date}）", "更正：{title}", "已删除：", "以上条目已更新。"),
    "en": (
        "Correction: {title} ({date})",
        "Correction: {title}",
        "Removed: ",
        "The entries above were updated.",
    ),
}


@dataclass(frozen=True, slots=True)
class EntryChange:
    title: str
    url: str
    removed: bool
    link_or_title: bool  # not only the summary


@dataclass(slots=True)
class CorrectionPlan:
    """One issue's correction: how many chats get edits, how many a message."""

    key: date
    issue_id: int
    edits: int = 0  # chats whose messages are edited in place
    messages: int = 0  # chats that get a correction message
    operations: int = 0  # API calls in all
    changes: list[EntryChange] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.key}: {len(self.changes)} entry(ies) changed; "
            f"{self.edits} chat(s) edited in place, {self.messages} sent a correction "
            f"({self.operations} message(s))"
        )


class Corrector:
    def __init__(self, runtime: Runtime, clock: Clock, *, batch: int = BATCH) -> None:
        self._runtime = runtime
        self._clock = clock
        self._batch = batch
        self._renderers = RendererSet(runtime.settings)

    async def run(self) -> list[CorrectionPlan]:
        """Correct every published issue whose edit settled within the window."""
        settings = self._runtime.settings.publish
        if not settings.corrections:
            return []
        now = self._clock.now()
        async with self._runtime.sessions() as session:
            if not (await corrections_switch(session)).on:
                return []  # an edit waits, in the window, for corrections to be on again
            changed = await store.changed_published(
                session,
                self._runtime.series.slug,
                now - timedelta(hours=settings.corrections_window_hours),
                now - timedelta(minutes=settings.settle_minutes),
            )
        plans = []
        for issue in changed:
            try:
                plan = await self.correct(issue, now)
            except Exception:  # one issue's failure must not block the others
                log.exception("correction of %s failed", issue.key)
                continue
            if plan is not None:
                log.info("correction %s", plan.summary())
                plans.append(plan)
        return plans

    async def correct(
        self, changed: ChangedIssue, now: datetime, *, dry_run: bool = False
    ) -> CorrectionPlan | None:
        """Write (or, `dry_run`, only count) the corrections of one changed issue."""
        sessions = self._runtime.sessions
        # A dry run writes nothing, so a plain session; otherwise one transaction.
        async with sessions() if dry_run else sessions.begin() as session:
            if not dry_run and not await self._may_write(session, changed):
                return None
            issue = await load_issue(session, changed.id)
            if issue is None:
                return None
            before = await store.sent_entries(session, changed.id)
            after = store.entries_digest(issue.sections)
            plan = CorrectionPlan(issue.key, changed.id, changes=entry_changes(before, after))
            rendered: dict[str, list[StoredMessage]] = {}
            last = 0
            while batch := await store.delivered(session, changed.id, last, self._batch):
                last = batch[-1].delivery_id
                for chat in batch:
                    work = self._work(chat, issue, changed, plan, rendered, now)
                    if work is None:
                        continue
                    if not dry_run:
                        await store.supersede(session, work, chat.correction, now)
            if not dry_run:
                await store.set_sent_entries(session, changed.id, after, now)
        return plan

    async def _may_write(self, session: AsyncSession, changed: ChangedIssue) -> bool:
        """Corrections are on (read in the writing transaction: an admin's `/corrections
        off` since `run` looked is honoured) and this process moves the hash first."""
        if not self._runtime.settings.publish.corrections:
            return False
        if not (await corrections_switch(session)).on:
            return False
        # False: another process corrected it first.
        return await store.advance_published(
            session, changed.id, changed.published_hash, changed.content_hash
        )

    def _work(
        self,
        chat: Delivered,
        issue: Issue,
        changed: ChangedIssue,
        plan: CorrectionPlan,
        rendered: dict[str, list[StoredMessage]],
        now: datetime,
    ) -> Work | None:
        if chat.platform == MASS_PLATFORM:
            return self._mass_work(chat, issue, changed, plan, rendered, now)
        reader = reader_of(chat.rendering_key)
        if reader is None or chat.platform not in CORRECTED:
            return None  # a hashed key cannot be re-rendered as published
        if chat.rendering_key not in rendered:
            renderer = self._renderers.get(_profile(chat.rendering_key), reader.language)
            messages = render_for(renderer, issue, reader, self._runtime.taxonomy)
            rendered[chat.rendering_key] = stored(messages)
        new = [dict(m) for m in rendered[chat.rendering_key]]
        shown = chat.shown
        pending = chat.correction is not None and chat.correction.status in ("pending", "sending")
        operations: list[dict[str, Any]] = []
        kind, target = "edit", shown
        if [m["text"] for m in new] == [m["text"] for m in shown]:
            pass
        elif (
            chat.platform in EDITABLE
            and len(new) == len(shown)
            and all(i in chat.message_ids for i in range(len(new)))
        ):
            operations = [
                {**message, "edit_message_id": chat.message_ids[i]}
                for i, message in enumerate(new)
                if message["text"] != shown[i]["text"]
            ]
            target = new
        elif self._worth_a_message(chat, plan.changes, now):
            kind = "message"
            operations = [correction_message(chat.platform, reader.language, issue, plan.changes)]
        if not operations and not pending:
            return None
        if operations:
            plan.operations += len(operations)
            if kind == "edit":
                plan.edits += 1
            else:
                plan.messages += 1
        return Work(
            chat.delivery_id,
            changed.id,
            chat.subscriber_id,
            chat.platform,
            changed.content_hash,
            kind,
            operations,
            shown,
            target,
        )

    def _mass_work(
        self,
        chat: Delivered,
        issue: Issue,
        changed: ChangedIssue,
        plan: CorrectionPlan,
        rendered: dict[str, list[StoredMessage]],
        now: datetime,
    ) -> Work | None:
        """An Official Account follower: for each of its parts (a stored message naming its
        `part`) whose mass send now reads otherwise because an entry's title or link
        changed, one correction message for that part (the same for every follower of
        the part: the campaign sends it once per tag). Once per issue per day."""
        pending = chat.correction is not None and chat.correction.status in ("pending", "sending")
        operations: list[dict[str, Any]] = []
        if self._worth_a_message(chat, plan.changes, now):
            for message in chat.shown:
                part = message.get("part")
                if part is None:
                    continue
                new = self._part_text(issue, str(part), rendered)
                old = str(message["text"])
                changes = [
                    c
                    for c in plan.changes
                    if c.link_or_title and (c.title in new or c.title in old)
                ]
                if new != old and changes:
                    language = self._renderers.mass_language  # as the part was
                    fix = correction_message(MASS_PLATFORM, language, issue, changes)
                    operations.append({**fix, "part": part, "day": now.date().isoformat()})
        if not operations and not pending:
            return None
        if operations:
            plan.operations += len(operations)
            plan.messages += 1
        shown = chat.shown
        return Work(
            chat.delivery_id,
            changed.id,
            chat.subscriber_id,
            chat.platform,
            changed.content_hash,
            "message",
            operations,
            shown,
            shown,
        )

    def _part_text(self, issue: Issue, part: str, rendered: dict[str, list[StoredMessage]]) -> str:
        """The part's mass-send text as publication would render the edited issue."""
        key = MASS_PART_PREFIX + part
        if key not in rendered:
            text = render_part(
                self._renderers.mass(),
                issue,
                part,
                self._runtime.taxonomy,
                self._renderers.mass_language,
            )
            rendered[key] = [{"text": text or ""}]
        return str(rendered[key][0]["text"])

    @staticmethod
    def _worth_a_message(chat: Delivered, changes: Sequence[EntryChange], now: datetime) -> bool:
        if chat.platform in EDITABLE:
            return bool(changes)
        if not any(c.link_or_title for c in changes):
            return False  # a summary typo is not worth a message that cannot be unsent
        last = chat.correction.sent_at if chat.correction is not None else None
        return last is None or last.date() != now.date()


def entry_changes(
    before: list[dict[str, str]] | None, after: list[dict[str, str]]
) -> list[EntryChange]:
    """Entries added or changed (and removed) between what readers got and the edit."""
    if before is None:  # published before snapshots were kept: no entry-level view
        return []
    old = {(e["section"], e["title"], e["url"], e["summary"]) for e in before}
    old_links = {(e["title"], e["url"]) for e in before}
    new_links = {(e["title"], e["url"]) for e in after}
    new_titles = {e["title"] for e in after}
    new_urls = {e["url"] for e in after if e["url"]}
    changes = [
        EntryChange(e["title"], e["url"], False, (e["title"], e["url"]) not in old_links)
        for e in after
        if (e["section"], e["title"], e["url"], e["summary"]) not in old
    ]
    changes += [
        EntryChange(e["title"], e["url"], True, True)
        for e in before
        # Gone, not renamed: neither its title nor its link is in the edit.
        if (e["title"], e["url"]) not in new_links
        and e["title"] not in new_titles
        and e["url"] not in new_urls
    ]
    return changes


def correction_message(
    platform: str, language: str, issue: Issue, changes: Sequence[EntryChange]
) -> dict[str, Any]:
    """The short "更正 / Correction" message: the issue, then the changed entries."""
    heading, dated_title, removed, footer = HEADINGS.get(language, HEADINGS["zh"])
    rich = platform in EDITABLE
    # an undated issue of a numbered series is named by its number
    day = issue.key.isoformat() if issue.key is not None else f"#{issue.number}"
    # The series' titles often carry the date already: then the title is said as it is
    # (never cut: the date may stand inside it), without the date a second time.
    template = dated_title if day in issue.title else heading
    lines = [template.format(title=issue.title, date=day)]
    for change in changes[:LISTED]:
        prefix = removed if change.removed else ""
        if rich:
            title = html.escape(change.title, quote=False)
            if change.url and not change.removed:
                title = f'<a href="{html.escape(change.url)}">{title}</a>'
            lines.append(f"• {prefix}{title}")
        else:
            link = f" {change.url}" if change.url and not change.removed else ""
            lines.append(f"• {prefix}{change.title}{link}")
    if len(changes) > LISTED:
        lines.append(f"• … (+{len(changes) - LISTED})")
    lines.append(footer)
    if rich:
        lines[0] = f"<b>{html.escape(lines[0], quote=False)}</b>"
    text = "\n".join(lines)
    return {
        "text": text,
        "format": "html" if rich else "text",
        "size": len(text),
        "unit": "chars",
        "disable_preview": True,
    }


def _profile(key: str) -> str:
    return key.split(";", 1)[0]


def reader_of(key: str) -> Subscriber | None:
    """A subscriber as the publication's rendering key describes it (bot.publish.rendering
    .rendering_key), so the re-rendering is the published one whatever changed since."""
    parts = key.split(";")
    profile, fields = parts[0], dict(p.split("=", 1) for p in parts[1:] if "=" in p)
    if "sha256" in fields or "lang" not in fields or "format" not in fields:
        return None
    subscriptions: list[Subscription] = []
    if "all" in parts[1:]:
        subscriptions.append(Subscription("all"))
    subscriptions += [Subscription("section", k) for k in _listed(fields.get("sections"))]
    subscriptions += [Subscription("topic", k) for k in _listed(fields.get("topics"))]
    platform = "wecom" if profile == "wecom-robot" else profile
    kind = "group" if profile == "wecom-robot" else "private"
    return Subscriber(
        0,
        platform,
        "",
        kind,
        fields["lang"],
        fields["format"],
        False,
        True,
        datetime.min,
        subscriptions=tuple(subscriptions),
    )


def _listed(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]
