"""Official Account mass-send parts: who receives which, and each part's one message.

Followers are reached by tag mass sends, one per part: everything (`all`), a section
(`section:<key>`) or a topic (`topic:<key>`). A follower receives `all` alone when
subscribed to everything (one message per issue, not one per section), else one part per
subscribed section and topic; none while paused or inactive (`desired_parts`).

With several series, every series has its own parts: the primary series' are named as
above (so an account's tags and ledger outlive adding a series), another series' carry
its subscription key (its slug) in front: `gadgets/all`, `gadgets/section:<key>`. An
issue's publication stores the parts of its own series only, so a tag of one series
never receives another series' issue.

Every mass send costs quota (a subscription account has one a day), so a part is always
ONE message: the full rendering when it fits, else the digest (titles and links), else
the digest of as many leading entries as fit, followed by a line saying how many were
left out and which command shows them all. Publication renders each part once and stores
it (bot/publish/rendering.py); the campaign sends what was stored.
"""

from __future__ import annotations

from dataclasses import replace

from briefings.model import Issue
from briefings.taxonomy import Taxonomy
from formatters import Limits, WeChatRenderer, select_entries
from storage.subscribers import Subscriber

ALL_PART = "all"
SERIES_MARK = "/"  # between a series' key and its part; slugs and kinds have none


def qualified(part: str, series: str = "") -> str:
    """`part` of the series whose subscription key is `series` ('' : the primary one)."""
    return f"{series}{SERIES_MARK}{part}" if series else part


def split_part(part: str) -> tuple[str, str]:
    """(series key, the part within it): `gadgets/section:news` -> ("gadgets",
    "section:news"). Only what precedes the kind's ':' can name a series, so a section
    or topic key holding a '/' stays whole."""
    head, colon, rest = part.partition(":")
    series, mark, kind = head.rpartition(SERIES_MARK)
    return (series, kind + colon + rest) if mark else ("", part)


def part_names(taxonomy: Taxonomy, series: str = "") -> list[str]:
    """Every part of a series, in push priority order before audience sizes are known."""
    return [
        qualified(part, series)
        for part in (
            ALL_PART,
            *(f"section:{s.key}" for s in taxonomy.sections),
            *(f"topic:{t.key}" for t in taxonomy.topics),
        )
    ]


def desired_parts(subscriber: Subscriber | None, series: str = "") -> set[str]:
    """The parts a follower receives of the series its subscriptions were loaded for
    (`series`: that series' subscription key)."""
    if subscriber is None or not subscriber.active or subscriber.paused:
        return set()
    if any(s.kind == "all" for s in subscriber.subscriptions):
        return {qualified(ALL_PART, series)}
    return {qualified(f"{s.kind}:{s.key}", series) for s in subscriber.subscriptions}


def part_selection(issue: Issue, part: str) -> Issue:
    """The issue reduced to the part's entries (everything for `all`)."""
    part = split_part(part)[1]
    if part == ALL_PART:
        return issue
    kind, _, key = part.partition(":")
    if kind == "section":
        return select_entries(issue, {key}, ())
    return select_entries(issue, (), {key})


def render_part(
    renderer: WeChatRenderer, issue: Issue, part: str, taxonomy: Taxonomy, language: str = "zh"
) -> str | None:
    """The part's single message, or None when the issue has nothing for it. `language`:
    the series' own (its first `languages`), which `renderer` speaks too: a tag's
    followers share no language, the series' issues do."""
    chosen = part_selection(taxonomy.localized(issue, language), part)
    if not chosen.sections:
        return None
    for messages in (renderer.issue(chosen), renderer.digest(chosen)):
        if len(messages) == 1:
            return messages[0].text
    return _trimmed_digest(renderer, chosen, _more_command(part, taxonomy, language), language)


def _more_command(part: str, taxonomy: Taxonomy, language: str) -> str:
    """What a follower replies for the whole part (`最新 SERIES SECTION` in another series;
    English command words work on the Official Account too)."""
    series, part = split_part(part)
    words = ["latest" if language == "en" else "最新", *([series] if series else [])]
    if part != ALL_PART:
        words.append(taxonomy.display_name(part.partition(":")[2], language))
    return " ".join(words)


def _leading(issue: Issue, count: int) -> Issue:
    """The issue with only its first `count` entries (empty sections dropped)."""
    kept = []
    left = count
    for section in issue.sections:
        if left <= 0:
            break
        entries = section.entries[:left]
        left -= len(entries)
        if entries:
            kept.append(replace(section, entries=entries))
    return issue.with_sections(tuple(kept))


def _trimmed_digest(renderer: WeChatRenderer, issue: Issue, more: str, language: str) -> str:
    total = issue.entry_count
    max_size = renderer.limits.max_size or 2048

    def note(shown: int) -> str:
        if language == "en":
            return f"(Only {shown} of {total} entries fit here. Reply “{more}” for all.)"
        return f"（篇幅所限，仅列出 {shown}/{total} 条。回复“{more}”查看全部）"

    budget = max_size - len(note(total).encode()) - 2
    small = renderer.with_limits(Limits(budget, "bytes"))
    low, high = 0, total  # the largest count whose digest fits one message
    while low < high:
        middle = (low + high + 1) // 2
        if len(small.digest(_leading(issue, middle))) == 1:
            low = middle
        else:
            high = middle - 1
    head = small.digest(_leading(issue, low))
    text = head[0].text if head else ""
    return f"{text}\n\n{note(low)}" if text else note(low)
