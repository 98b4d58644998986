"""Pure resolution of user-typed section/topic names into subscriptions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from briefings.taxonomy import Taxonomy, normalize_name
from storage.subscribers import ALL, Subscription

ALL_NAMES: Final = frozenset({"all", "全部", "所有", "everything", "全部栏目", "*"})
_SEPARATORS = re.compile(r"[\s,，、;；]+")
# "industry news", "TensorFlow Lite Micro"; a free heading is a section name as written:
# "Updates from the community" (longer ones answer to their key, tool-of-the-week)
MAX_WORDS_PER_NAME: Final = 6


@dataclass(frozen=True, slots=True)
class Resolved:
    subscriptions: tuple[Subscription, ...]  # in the order typed, without duplicates
    unknown: tuple[str, ...]

    @property
    def everything(self) -> bool:
        return ALL in self.subscriptions


def words(text: str) -> list[str]:
    return [w for w in _SEPARATORS.split(text) if w]


def resolve_one(taxonomy: Taxonomy, name: str) -> Subscription | None:
    if normalize_name(name) in ALL_NAMES:
        return ALL
    hit = taxonomy.resolve(name)
    return None if hit is None else Subscription(hit[0], hit[1])


def resolve_names(taxonomy: Taxonomy, text: str) -> Resolved:
    """`论文, chips open source foo` -> papers, chips, projects; unknown: foo.

    Multi-word names are matched greedily, longest first.
    """
    tokens = words(text)
    found: list[Subscription] = []
    unknown: list[str] = []
    i = 0
    while i < len(tokens):
        for j in range(min(len(tokens), i + MAX_WORDS_PER_NAME), i, -1):
            hit = resolve_one(taxonomy, " ".join(tokens[i:j]))
            if hit is not None:
                if hit not in found:
                    found.append(hit)
                i = j
                break
        else:
            unknown.append(tokens[i])
            i += 1
    return Resolved(tuple(found), tuple(dict.fromkeys(unknown)))
