"""Refuse a curator's regular expression whose backtracking can take exponential time.

Layout patterns run on lines of files fetched from anywhere, and `re` cannot be stopped
once it starts: `^(a|aa)+$` on forty `a`s and a `b` tries every way of splitting the `a`s,
and the parser hangs. The shapes that do this are nested repetition: a repeat that can
run twice or more (`*`, `+`, `{n,}`, `{2}`, lazy or greedy: nested counts multiply) whose body

- can match nothing, for a loop (`*`, `+`, `{n,}`, a count of `LOOP_COUNT` or more):
  `(a*)*`, `(a?)+`,
- holds a variable repeat whose next character may be one it can match itself, the
  round's next one or the next round's (`(a+)+`, `(\\d+\\s*)+`, `(.*?,){9}`): the
  rounds can split one run of characters every way, or
- holds a choice whose ways can start with the same character: alternatives
  (`(x|x)*`; `re` parses `a|aa` as `a(?:|a)`, whose empty branch starts with what
  follows it, the next round's `a`), or an optional part and what follows it (`(aa?)+`).

The check reads the parse tree `re` builds (`re._parser`, private: without it nothing is
refused and the line caps are the only bound). First characters are over-approximated
(when unsure: any character), so it refuses some safe patterns and never a shape
above. It does not refuse polynomial shapes: `a*a*a*b` searched on a line of 1000 `a`s
takes seconds, so a curator should not chain overlapping repeats (documented in
samples/layouts/README.md). A possessive repeat (`a++`, `(?:a|aa)++`), an atomic group
(`(?>...)`) and a lookaround are never re-entered once matched, so the choices inside one
are not counted against the loop around it (a loop inside one is checked as any loop).
"""

from __future__ import annotations

import array
import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Final, NamedTuple

try:
    from re import _constants as ops
    from re import _parser as sre
except ImportError:  # pragma: no cover - another Python: nothing is refused
    ops = sre = None

# A bounded loop counts when it can run this many times: `(a|aa){1,100}` is as slow as
# `(a|aa)+`, while `(\d{1,2}[./-]){3}` tries a handful of splits at most.
LOOP_COUNT: Final = 10
_ENUMERABLE: Final = 4096  # characters listed for a cheap overlap test
_CATEGORIES: Final = {
    getattr(ops, name): escape
    for name, escape in (
        ("CATEGORY_DIGIT", r"\d"), ("CATEGORY_NOT_DIGIT", r"\D"), ("CATEGORY_SPACE", r"\s"),
        ("CATEGORY_NOT_SPACE", r"\S"), ("CATEGORY_WORD", r"\w"), ("CATEGORY_NOT_WORD", r"\W"),
    )
    if ops is not None
}  # fmt: skip

EMPTY_BODY: Final = "a repeated part that can match nothing; make it match a character at least"
SPLIT_RUN: Final = (
    "a repeat inside a repeat can split one run of characters every way; make the inner "
    r"one possessive (\d++) or start each round with a character the inner repeat cannot match"
)
OPTIONAL: Final = (
    "an optional part inside a repeat can start like what follows it ((aa?)+); make them "
    "start differently or the repeat possessive ((?:aa?)++)"
)
SAME_START: Final = (
    "alternatives inside a repeat start with the same character; make them start "
    "differently ((a|aa)+ -> a+) or the repeat possessive ((?:a|aa)++)"
)


class Atom(NamedTuple):
    """One character class the way `re` reads it: its source with flags, and its
    characters when there are few and case does not matter."""

    source: str
    chars: str | None


class First(NamedTuple):
    atoms: frozenset[Atom]
    nullable: bool


_ANYTHING: Final = First(frozenset({Atom("(?s:.)", None)}), True)


def exponential_risk(pattern: str) -> str | None:
    """Why `pattern` can backtrack exponentially (a message for the curator), or None.

    `pattern` compiles (the caller checked); the reason names the first shape found.
    """
    if sre is None:  # pragma: no cover
        return None
    tree = sre.parse(pattern)
    return _scan(list(tree), tree.state.flags)


def _scan(seq: list[Any], flags: int) -> str | None:
    for op, av in seq:
        if op in (ops.MAX_REPEAT, ops.MIN_REPEAT) and av[1] >= 2:
            reason = _loop_risk(list(av[2]), flags, long=_is_loop(av[1]))
            if reason:
                return reason
        for child, child_flags in _children(op, av, flags):
            reason = _scan(child, child_flags)
            if reason:
                return reason
    return None


def _is_loop(high: int) -> bool:
    return high == ops.MAXREPEAT or high >= LOOP_COUNT


def _children(op: Any, av: Any, flags: int) -> Iterator[tuple[list[Any], int]]:
    if op is ops.SUBPATTERN:
        yield list(av[3]), (flags | av[1]) & ~av[2]
    elif op in (ops.MAX_REPEAT, ops.MIN_REPEAT, ops.POSSESSIVE_REPEAT):
        yield list(av[2]), flags
    elif op is ops.BRANCH:
        for branch in av[1]:
            yield list(branch), flags
    elif op in (ops.ASSERT, ops.ASSERT_NOT):
        yield list(av[1]), flags
    elif op is ops.ATOMIC_GROUP:
        yield list(av), flags
    elif op is ops.GROUPREF_EXISTS:
        for branch in av[1:]:
            if branch is not None:
                yield list(branch), flags


def _loop_risk(body: list[Any], flags: int, *, long: bool) -> str | None:
    """Any repeat that can run twice or more: nested bounded counts multiply
    (`^(?:a+){1,9}$`), so a count of 2 already lets rounds split a run."""
    first = _first(body, flags)
    if first.nullable and long:
        return EMPTY_BODY
    # at the end of a round comes the next one: the body's first characters follow it
    return _choices(body, flags, first.atoms)


def _choices(seq: list[Any], flags: int, follow: frozenset[Atom]) -> str | None:
    """The first choice in `seq` (a loop's body or part of it) that a round can make two
    ways on the same characters; `follow`: what can come after `seq` in the round.

    Not inside a possessive repeat, an atomic group or a lookaround: `re` never goes
    back into one once it has matched, so its choices are not made again per round."""
    for index, (op, av) in enumerate(seq):
        rest = _first(seq[index + 1 :], flags)
        after = rest.atoms | follow if rest.nullable else rest.atoms
        if op is ops.BRANCH:
            # `a|aa` is parsed as `a(?:|a)`: an empty branch starts with what follows
            starts = []
            for branch in av[1]:
                found = _first(list(branch), flags)
                starts.append(found.atoms | after if found.nullable else found.atoms)
            if any(_overlap(a, frozenset().union(*starts[i + 1 :])) for i, a in enumerate(starts)):
                return SAME_START
        elif op in (ops.MAX_REPEAT, ops.MIN_REPEAT):
            low, high, body = av
            inner = _first(list(body), flags).atoms
            # a variable repeat whose next character may as well be its own: the split
            # between it and what follows (the rest of the round, or the next round) is free
            if high > low and _overlap(inner, after):
                return OPTIONAL if high == 1 else SPLIT_RUN
        if op in (ops.POSSESSIVE_REPEAT, ops.ATOMIC_GROUP, ops.ASSERT, ops.ASSERT_NOT):
            continue
        if op in (ops.MAX_REPEAT, ops.MIN_REPEAT) and av[1] > 1:
            after = after | _first(list(av[2]), flags).atoms  # a round of its own may follow
        for child, child_flags in _children(op, av, flags):
            reason = _choices(child, child_flags, after)
            if reason:
                return reason
    return None


def _first(seq: list[Any], flags: int) -> First:
    """The classes of the characters `seq` can start with (more, never fewer), and
    whether it can match the empty string."""
    atoms: set[Atom] = set()
    for op, av in seq:
        found = _first_of(op, av, flags)
        atoms |= found.atoms
        if not found.nullable:
            return First(frozenset(atoms), False)
    return First(frozenset(atoms), True)


def _first_of(op: Any, av: Any, flags: int) -> First:
    if op is ops.LITERAL:
        return First(frozenset({_atom(re.escape(chr(av)), chr(av), flags)}), False)
    if op is ops.NOT_LITERAL:
        return First(frozenset({_atom(f"[^{re.escape(chr(av))}]", None, flags)}), False)
    if op is ops.ANY:
        return First(_ANYTHING.atoms, False)
    if op is ops.IN:
        atom = _class(av, flags)
        return First(_ANYTHING.atoms if atom is None else frozenset({atom}), False)
    if op in (ops.AT, ops.ASSERT, ops.ASSERT_NOT):
        return First(frozenset(), True)  # zero width; a lookahead only narrows what follows
    if op is ops.SUBPATTERN:
        return _first(list(av[3]), (flags | av[1]) & ~av[2])
    if op is ops.ATOMIC_GROUP:
        return _first(list(av), flags)
    if op in (ops.MAX_REPEAT, ops.MIN_REPEAT, ops.POSSESSIVE_REPEAT):
        if av[1] == 0:
            return First(frozenset(), True)
        body = _first(list(av[2]), flags)
        return First(body.atoms, body.nullable or av[0] == 0)
    if op is ops.BRANCH:
        branches = [_first(list(branch), flags) for branch in av[1]]
        atoms = frozenset().union(*(branch.atoms for branch in branches))
        return First(atoms, any(branch.nullable for branch in branches))
    if op is ops.GROUPREF_EXISTS:
        yes = _first(list(av[1]), flags)
        no = First(frozenset(), True) if av[2] is None else _first(list(av[2]), flags)
        return First(yes.atoms | no.atoms, yes.nullable or no.nullable)
    return _ANYTHING  # a back reference, or an opcode this check does not know


def _class(items: list[tuple[Any, Any]], flags: int) -> Atom | None:
    """`[...]` as an Atom; None when an item is not one this check knows."""
    parts: list[str] = []
    chars: list[str] | None = []
    for op, av in items:
        if op is ops.NEGATE:
            parts.insert(0, "^")
            chars = None
        elif op is ops.LITERAL:
            parts.append(re.escape(chr(av)))
            if chars is not None:
                chars.append(chr(av))
        elif op is ops.RANGE:
            low, high = av
            parts.append(f"{re.escape(chr(low))}-{re.escape(chr(high))}")
            if chars is not None and high - low < _ENUMERABLE:
                chars.extend(map(chr, range(low, high + 1)))
            else:
                chars = None
        elif op is ops.CATEGORY and av in _CATEGORIES:
            parts.append(_CATEGORIES[av])
            chars = None
        else:
            return None
    return _atom(f"[{''.join(parts)}]", None if chars is None else "".join(chars), flags)


def _atom(source: str, chars: str | None, flags: int) -> Atom:
    letters = ("i" if flags & re.IGNORECASE else "") + ("a" if flags & re.ASCII else "")
    if letters:
        source = f"(?{letters}:{source})"
    # under IGNORECASE a class matches more than its listed characters (`k` matches the
    # Kelvin sign): only the full scan is exact
    return Atom(source, None if flags & re.IGNORECASE else chars)


@lru_cache(maxsize=1024)
def _overlap(first: frozenset[Atom], second: frozenset[Atom]) -> bool:
    """Whether some character can start both: exact, by asking `re` itself."""
    if not first or not second:
        return False
    try:
        return _overlap_of(first, second)
    except re.error:  # pragma: no cover - a class rebuilt wrongly: assume the worst
        return True


def _overlap_of(first: frozenset[Atom], second: frozenset[Atom]) -> bool:
    for listed, other in ((first, second), (second, first)):
        chars = [atom.chars for atom in listed]
        if all(c is not None for c in chars):
            return _either(other).search("".join(c for c in chars if c)) is not None
    both = re.compile(f"(?={_either(first).pattern})(?:{_either(second).pattern})")
    return both.search(_every_character()) is not None


def _either(atoms: frozenset[Atom]) -> re.Pattern[str]:
    return re.compile("|".join(sorted(atom.source for atom in atoms)))


@lru_cache(maxsize=1)
def _every_character() -> str:
    """Every code point once (surrogates included: `re` matches them in a str)."""
    codes = array.array("I", range(0x110000))
    if codes.itemsize != 4:  # pragma: no cover - a platform with 16-bit ints
        return "".join(map(chr, range(0x110000)))
    return codes.tobytes().decode(f"utf-32-{sys.byteorder[0]}e", "surrogatepass")
