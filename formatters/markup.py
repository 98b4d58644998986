"""Serialising styled runs with properly nested, closed-at-the-end markup."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .blocks import Run, Style

# (opening, closing) markup for a style, or None when the platform ignores it.
Tags = Callable[[Style], tuple[str, str] | None]


def dedupe(styles: Iterable[Style]) -> tuple[Style, ...]:
    """Keep each style kind once (outermost wins): nesting a link in a link means nothing."""
    seen: set[str] = set()
    kept: list[Style] = []
    for style in styles:
        if style.kind not in seen:
            seen.add(style.kind)
            kept.append(style)
    return tuple(kept)


def serialize(
    runs: Iterable[Run],
    tags: Tags,
    escape: Callable[[str], str],
    normalize: Callable[[tuple[Style, ...]], tuple[Style, ...]] = dedupe,
) -> tuple[str, int]:
    """Markup for the runs and the number of styled spans opened.

    Adjacent runs share their common outer styles, so `**a *b***` stays one bold span.
    """
    out: list[str] = []
    stack: list[tuple[Style, str]] = []
    opened = 0
    for run in runs:
        if not run.text:
            continue
        wanted = [(s, t) for s in normalize(run.styles) if (t := tags(s)) is not None]
        keep = 0
        while keep < min(len(stack), len(wanted)) and stack[keep][0] == wanted[keep][0]:
            keep += 1
        while len(stack) > keep:
            out.append(stack.pop()[1])
        for style, (start, end) in wanted[keep:]:
            out.append(start)
            stack.append((style, end))
            opened += 1
        out.append(escape(run.text))
    while stack:
        out.append(stack.pop()[1])
    return "".join(out), opened
