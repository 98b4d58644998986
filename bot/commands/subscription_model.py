"""The one subscription model every reply and keyboard derives from (pure, no I/O).

A chat's subscription is either *everything* (stored as the single `all` row) or an
explicit set of sections and topics. The two meet exactly: the explicit set of every
section and every topic *is* everything, and is stored as `all`; taking one item away
from everything leaves the explicit set of all the others. So a keyboard can tick every
item under "all", `/subscribe chips` on "all" can say it is already included, and
`/unsubscribe chips` on "all" does what a reader expects from those ticks.

Rows the taxonomy no longer knows (a section renamed in the config) are kept, so a
configuration change never silently drops a reader's choice; they are listed last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from briefings.taxonomy import Taxonomy
from storage.subscribers import ALL, Subscription


class Outcome(Enum):
    ADDED = "added"
    ALREADY = "already"  # was explicitly subscribed
    INCLUDED = "included"  # part of everything
    REMOVED = "removed"
    ABSENT = "absent"  # was not subscribed


@dataclass(frozen=True, slots=True)
class Plan:
    """What a chat receives: everything, or the explicit `items` (never `ALL`)."""

    everything: bool
    items: frozenset[Subscription] = frozenset()

    # -- construction --------------------------------------------------------------

    @classmethod
    def of(cls, stored: Iterable[Subscription], taxonomy: Taxonomy) -> Plan:
        """The plan of stored rows; legacy `all` + topics rows read as everything."""
        rows = frozenset(stored)
        if ALL in rows:
            return cls(True)
        return cls(False, rows).normalized(taxonomy)

    @classmethod
    def nothing(cls) -> Plan:
        return cls(False)

    def normalized(self, taxonomy: Taxonomy) -> Plan:
        if not self.everything and self.items and universe(taxonomy) <= self.items:
            return Plan(True)
        return self

    # -- queries -------------------------------------------------------------------

    @property
    def empty(self) -> bool:
        return not self.everything and not self.items

    def includes(self, item: Subscription) -> bool:
        return self.everything or item in self.items

    def rows(self) -> list[Subscription]:
        """What storage keeps: `[ALL]` for everything, else the items in a stable order."""
        return [ALL] if self.everything else sorted(self.items)

    def ordered(self, taxonomy: Taxonomy) -> list[Subscription]:
        """The explicit items in reading order: sections, then topics, each in the
        taxonomy's order; unknown keys last. [] for everything."""
        if self.everything:
            return []
        known = [i for i in universe_ordered(taxonomy) if i in self.items]
        return known + sorted(self.items - set(known))

    # -- changes -------------------------------------------------------------------

    def expanded(self, taxonomy: Taxonomy) -> frozenset[Subscription]:
        """The explicit items this plan stands for (everything: every known item)."""
        return universe(taxonomy) if self.everything else self.items

    def add(self, item: Subscription, taxonomy: Taxonomy) -> tuple[Plan, Outcome]:
        if item == ALL:
            return (self, Outcome.ALREADY) if self.everything else (Plan(True), Outcome.ADDED)
        if self.everything:
            return self, Outcome.INCLUDED
        if item in self.items:
            return self, Outcome.ALREADY
        return Plan(False, self.items | {item}).normalized(taxonomy), Outcome.ADDED

    def remove(self, item: Subscription, taxonomy: Taxonomy) -> tuple[Plan, Outcome]:
        if item == ALL:
            return (Plan.nothing(), Outcome.ABSENT if self.empty else Outcome.REMOVED)
        current = self.expanded(taxonomy)
        if item not in current:
            return self, Outcome.ABSENT
        return Plan(False, current - {item}), Outcome.REMOVED

    def toggle(self, item: Subscription, taxonomy: Taxonomy) -> Plan:
        """A keyboard press: a ticked item goes, an unticked one comes; "all" switches
        between everything and nothing."""
        if item == ALL:
            return Plan.nothing() if self.everything else Plan(True)
        if self.includes(item):
            return self.remove(item, taxonomy)[0]
        return self.add(item, taxonomy)[0]

    def still_delivers(self, item: Subscription) -> bool:
        """Whether some entries of `item` still arrive without it: a topic's entries come
        inside the sections the chat gets whole, a section's entries on the topics the
        chat follows."""
        if self.everything:
            return True
        other = {"topic": "section", "section": "topic"}.get(item.kind)
        return any(i.kind == other for i in self.items)


def universe_ordered(taxonomy: Taxonomy) -> list[Subscription]:
    return [Subscription("section", s.key) for s in taxonomy.sections] + [
        Subscription("topic", t.key) for t in taxonomy.topics
    ]


def universe(taxonomy: Taxonomy) -> frozenset[Subscription]:
    return frozenset(universe_ordered(taxonomy))
