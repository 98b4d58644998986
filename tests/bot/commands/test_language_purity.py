"""Every reply in one language: a walk through every command and button, zh and en.

An English reply may hold Chinese only where the briefing itself speaks (titles,
summaries, sources, the 导读) or where it quotes the reader; a Chinese reply may hold no
English interface phrase (those of bot.i18n, the renderer's labels and the taxonomy's
English names). Briefing text is excepted by construction: a run of Chinese characters
in an English reply must occur in the sample briefings' own text (headings left out,
since the interface renames them) or in what the reader typed.
"""

from __future__ import annotations

import io
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path

import pytest

from bot import i18n
from bot.commands import Chat, Core, CoreDeps, Reply
from bot.commands.table import COMMAND_TABLE
from bot.publish.alerts import Alert, StreamNotifier
from bot.publish.publisher import hold_alert, repaired_alert
from bot.publish.results import Publication
from bot.publish.rule import repaired, unfinished_defects
from briefings.errors import WARNINGS
from briefings.model import Issue
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from formatters import EN, ConsoleRenderer
from tests.bot.commands.conftest import SERIES, Client, FakePublisher, buttons, text_of
from tests.briefings.test_warning_codes import defective_issue

LATIN = re.compile(r"[A-Za-z]{2,}")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Language names are written in their own language on both sides of /settings.
ENDONYMS = ("中文", "English")

# Typical and bad arguments of every command, in the order a reader might try them.
# A new command must be added here (the first test checks it), so it is walked too.
WALK: dict[str, tuple[str, ...]] = {
    "start": ("", "papers-chips", "nonsense"),
    "help": ("",),
    "latest": ("", "papers", "chips", "weather", "2026-11-02"),
    "issue": ("", "2026-11-16", "2026-11-16 papers", "2026-11-16 x", "2020-01-01", "soon"),
    "issues": ("",),
    "search": ("", "量化", "MNN", "zzzqqq", "section:", "date:2020-13", "x" * 600, "年"),
    "sections": ("",),
    "subscribe": ("", "papers chips", "chips", "all", "chips", "weather"),
    "unsubscribe": ("", "chips", "papers", "all", "all", "weather"),
    "settings": ("", "format digest", "pause", "resume", "bogus", "format full"),
    "stats": ("",),
    "preview": (
        *("", "latest", "2026-11-16", "2020-01-01", "bad", "第51期"),  # no issue 51 here
        # a correction: planned (a message; edits in place), then each reason for none
        *("correction", "更正 2026-11-16", "correction 2026-11-02", "更正 2026-11-09"),
        *("correction 2026-10-26", "correction 2026-11-23", "correction 2020-01-01"),
        "correction 2026-10-19",  # switched off by an admin's /corrections off
        *("correction bad", "correction 2026-11-16 x"),
    ),
    # latest publishes, again is refused with the time, 2026-11-02 loses a race; no #51
    "publish": ("", "latest", "latest", "2026-11-02", "bad", "#51"),
    # shown on, switched off (twice: already), shown off, back on (twice), Chinese words,
    # then bad arguments
    "corrections": ("", "off", "off", "", "on", "on", "关", "开", "bogus", "on off"),
    "stop": ("", ""),
}
EXTRA_TEXTS = ("/frobnicate", "hello there", "9", "２")
FORGED_BUTTONS = ("t:s:nosuch", "o:20200101", "q:0123456789ab:2", "zz")


def _sample_issues(samples: Path) -> list[Issue]:
    taxonomy = Taxonomy.default()
    return [
        parse_issue(decode_briefing(p.read_bytes(), p.name), p.name, SERIES, taxonomy)
        for p in sorted(samples.glob("*.md"))
    ]


def _briefing_text(issues: list[Issue]) -> str:
    """What the briefings say themselves; section headings are left out (the interface
    renames them, so a Chinese heading in an English reply is a leak)."""
    parts: list[str] = [SERIES.title]
    for issue in issues:
        parts += [issue.title, issue.subtitle, issue.tagline, issue.intro, issue.footer]
        parts += [*issue.quick_news, *issue.notes]
        for section in issue.sections:
            parts += section.notes
            for entry in section.entries:
                parts += [entry.title, entry.summary, entry.source or "", entry.url or ""]
                parts += [link.label for link in entry.links]
    return "\n".join(parts)


def _phrases(text: str) -> Iterator[str]:
    """The fixed parts of a text with `{fields}`, one line at a time."""
    for literal, *_ in string.Formatter().parse(text):
        for line in literal.split("\n"):
            yield line.strip(" :;,.!?()“”\"'—-")


def english_denylist(taxonomy: Taxonomy) -> set[str]:
    """English interface phrases of two or more words (single words also occur in the
    briefings' English titles), minus any that Chinese texts use too (syntax such as
    `format full|digest`)."""
    english: list[str] = []
    for _, en in i18n.TEXTS.values():
        english += _phrases(en)
    for _, en_command in i18n.COMMAND_TEXTS.values():
        english += _phrases(en_command.description)
    for label in fields(EN):
        english += _phrases(getattr(EN, label.name))
    english += [item.en for item in (*taxonomy.sections, *taxonomy.topics)]
    chinese = "\n".join(zh for zh, _ in i18n.TEXTS.values())
    return {
        p
        for p in english
        if len(p.split()) >= 2 and re.search("[A-Za-z]{2}", p) and p not in chinese
    }


@dataclass
class Walk:
    """Every reply text of a walk, with what the reader typed to get it."""

    seen: list[tuple[str, str]] = field(default_factory=list)  # (typed, reply text)
    labels: list[tuple[str, str]] = field(default_factory=list)  # (typed, button label)

    def add(self, typed: str, replies: list[Reply]) -> None:
        labels = [b.text for b in buttons(replies)]
        self.seen.append((typed, "\n".join([text_of(replies), *labels])))
        self.labels += [(typed, label) for label in labels]


async def walk(core: Core, chat: Chat, language: str) -> Walk:
    result = Walk()
    client = Client(core, chat=chat, language_code=language, is_admin=True)
    member = Client(core, chat=chat, user_id="99", language_code=language)

    async def press_all(typed: str, replies: list[Reply]) -> None:
        for button in buttons(replies):
            if any(endonym in button.text for endonym in ENDONYMS):
                continue  # switches the language: the walk stays in one
            result.add(f"{typed} -> {button.text}", await client.press(button))

    for name, variants in WALK.items():
        for args in variants:
            typed = f"/{name} {args}".strip()
            replies = await client.send(typed)
            result.add(typed, replies)
            if name not in ("stop", "publish"):
                await press_all(typed, replies)
        if COMMAND_TABLE.by_name[name].admin:
            result.add(f"/{name} (not admin)", await member.send(f"/{name}"))
        if name == "stop":
            await client.send("/start")
    for typed in EXTRA_TEXTS:
        result.add(typed, await client.send(typed))
    for data in FORGED_BUTTONS:
        result.add(f"button {data}", await client.press(data))
    return result


def test_every_command_is_walked() -> None:
    assert set(WALK) == set(COMMAND_TABLE.by_name)


@pytest.mark.parametrize("key", sorted(i18n.TEXTS))
def test_english_texts_have_no_chinese(key: str) -> None:
    _, en = i18n.TEXTS[key]
    for endonym in ENDONYMS:
        en = en.replace(endonym, "")
    assert not HAN.search(en), en


def test_english_command_texts_have_no_chinese() -> None:
    for name, (_, en) in i18n.COMMAND_TEXTS.items():
        assert not HAN.search(" ".join(en)), name


CHATS = {
    "telegram": Chat("telegram", "3003", "private"),
    "wechat": Chat("wechat", "openid-walk", "user"),
}


@pytest.mark.parametrize("platform", sorted(CHATS))
async def test_english_replies_hold_chinese_only_where_the_briefing_speaks(
    deps: CoreDeps, publisher: FakePublisher, samples_dir: Path, platform: str
) -> None:
    publisher.raced.add(date(2026, 11, 2))
    core = Core(replace(deps))
    briefing = _briefing_text(_sample_issues(samples_dir))
    leaks = []
    for typed, text in (await walk(core, CHATS[platform], "en")).seen:
        for endonym in ENDONYMS:
            text = text.replace(endonym, "")
        for run in HAN.findall(text):
            if run not in briefing and run not in typed:
                leaks.append((typed, run, text[:300]))
    assert not leaks, "\n".join(f"{t!r}: {r!r}" for t, r, _ in leaks[:40]) + leaks[0][2]


@pytest.mark.parametrize("platform", sorted(CHATS))
async def test_chinese_replies_hold_no_english_interface_words(
    deps: CoreDeps, publisher: FakePublisher, samples_dir: Path, platform: str
) -> None:
    publisher.raced.add(date(2026, 11, 2))
    core = Core(replace(deps))
    briefing = _briefing_text(_sample_issues(samples_dir))
    denied = english_denylist(deps.taxonomy)
    assert {"Currently subscribed to", "Industry news", "entries in total"} <= denied
    leaks = []
    walked = await walk(core, CHATS[platform], "zh-hans")
    for typed, text in walked.seen:
        for endonym in ENDONYMS:
            text = text.replace(endonym, "")
        for phrase in denied:
            if phrase in text and phrase not in briefing:
                leaks.append((typed, phrase, text[:300]))
    assert not leaks, "\n".join(f"{t!r}: {p!r}" for t, p, _ in leaks[:40]) + leaks[0][2]
    # Button labels are short interface words: not one English word on a Chinese button.
    english = [(t, label) for t, label in walked.labels if LATIN.search(label)]
    assert english == [(t, "English") for t, label in english if label.endswith("English")]


def test_the_checks_catch_a_leak() -> None:
    """The detectors themselves: a Chinese heading in English, an English phrase in
    Chinese."""
    assert HAN.findall("• 业界新闻 — 3 entries") == ["业界新闻"]
    denied = english_denylist(Taxonomy.default())
    assert any(p in "当前订阅：Currently subscribed to: 论文" for p in denied)
    assert not any(p in "当前订阅：论文、芯片" for p in denied)


def _alerts() -> list[Alert]:
    """A hold and a repaired-defect alert carrying every parser warning there is."""
    issue = defective_issue()
    taxonomy = Taxonomy.default()
    fixed = Publication(issue.key, 1, "c0ffee", 1, 1, 0, repaired=tuple(repaired(issue)))
    return [hold_alert(issue, tuple(unfinished_defects(issue)), taxonomy), repaired_alert(fixed)]


async def _said(alert: Alert, renderer: ConsoleRenderer) -> str:
    stream = io.StringIO()
    await StreamNotifier(stream, renderer).alert(alert)
    return stream.getvalue()


async def test_chinese_alerts_say_every_parser_warning_in_chinese() -> None:
    """An English warning sentence (the parser's message, logged as is) must not slip
    into a Chinese alert; the English alert says the parser's own words."""
    denied = english_denylist(Taxonomy.default())
    issue = defective_issue()
    assert {w.code for w in issue.warnings} == set(WARNINGS)
    zh = "".join([await _said(alert, ConsoleRenderer()) for alert in _alerts()])
    en = "".join([await _said(alert, ConsoleRenderer(EN)) for alert in _alerts()])
    leaks = [p for p in denied if p in zh]
    assert not leaks, leaks
    assert "条目里的“[”没有闭合" in zh and "条目的链接目标 '../docs/a.md' 不是 http(s) 网址" in zh
    for warning in issue.warnings:
        assert warning.message in en or warning.code == "empty_section", warning
    # the detector: the English sentence of a warning is caught in a Chinese text
    assert any(p in "第 3 行：item has no title" for p in denied)
