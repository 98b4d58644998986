"""`briefbot check-layout PATH...`: parse briefing files with a layout, touch nothing.

For a curator tuning a layout before a series goes live: per file, the issue key, the
entries per section, the parser's warnings, the lines that matched no rule (kept only as
notes) and the boilerplate left out. Exit 0 when every file parses, 1 when one does not,
2 when the layout itself is wrong.

The layout is a preset (`--layout numbered-weekly`), a TOML file with a `[layout]` table
(`--layout-file`, see samples/layouts/README.md), or a configured series' (`--series
SLUG`, a `[[series]]` table's slug; default: the first series), parsed with that
series' taxonomy too.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.base import Subparsers, fail, print_json

if TYPE_CHECKING:  # handlers import what they run: `briefbot --help` stays instant
    from bot.runtime import Runtime
    from briefings.layout import Layout
    from briefings.parser import Parsed

SHOWN_CHARS = 100  # of an unmatched line: enough to recognise it, not a wall of text


def register(commands: Subparsers) -> None:
    check = commands.add_parser(
        "check-layout",
        help="parse briefing files with a layout: keys, entries per section, warnings and "
        "the lines no rule matched (nothing is archived)",
    )
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    how = check.add_mutually_exclusive_group()
    how.add_argument(
        "--layout", metavar="PRESET", help="a preset: embedded-ai, numbered-weekly, this-week-in"
    )
    how.add_argument(
        "--layout-file", type=Path, metavar="FILE.toml", help="a TOML file with a [layout] table"
    )
    how.add_argument(
        "--series",
        metavar="NAME",
        help="a configured series' layout and topics, by slug (default: the first series)",
    )
    check.add_argument("--json", action="store_true", help="one JSON object per file")
    check.set_defaults(handler=_check, migrate=False)  # reads files only, never the archive


class _LayoutProblem(Exception):
    pass


def _series(args: argparse.Namespace, runtime: Runtime) -> Runtime:
    """The runtime view of the series `--series` names (default: the primary one)."""
    if args.series is None:
        return runtime
    found = runtime.for_series(args.series)
    if found is None:
        known = ", ".join(r.series.slug for r in runtime.each_series())
        raise _LayoutProblem(f"--series: no series {args.series!r}; configured: {known}")
    return found


def _resolve(args: argparse.Namespace, runtime: Runtime) -> Layout:
    import tomllib
    from dataclasses import replace

    from briefings.layout import LayoutError
    from briefings.layout_config import layout_from_mapping
    from briefings.presets import EMBEDDED_AI, preset

    try:
        if args.layout is not None:
            return preset(args.layout)
        if args.layout_file is not None:
            try:
                data = tomllib.loads(args.layout_file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise _LayoutProblem(f"{args.layout_file}: {exc}") from None
            if "layout" not in data:
                raise _LayoutProblem(f"{args.layout_file}: no [layout] table")
            return layout_from_mapping(data["layout"])
    except LayoutError as exc:
        where = args.layout_file or "--layout"
        raise _LayoutProblem(f"{where}: {exc}") from None
    if runtime.layout is not None:
        return runtime.layout
    # A series without a layout is the Embedded AI layout with its navigation headings;
    # its section names are already in the runtime's taxonomy.
    headings = runtime.settings.primary_series.navigation_headings
    return replace(EMBEDDED_AI, navigation_headings=tuple(headings))


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:  # a folder's *.md files, as a folder source reads them
        found.extend(sorted(path.glob("*.md")) if path.is_dir() else [path])
    return found


def _report(parsed: Parsed) -> dict[str, Any]:
    issue = parsed.issue
    return {
        "ok": True,
        "number": parsed.key.number,
        "date": parsed.key.day.isoformat() if parsed.key.day else None,
        "title": issue.title,
        "entries": issue.entry_count,
        "sections": [
            {"key": s.key, "heading": s.heading, "entries": len(s.entries)} for s in issue.sections
        ],
        "warnings": [
            {"line": w.line, "message": w.message, "unfinished": w.unfinished}
            for w in issue.warnings
        ],
        "unmatched": [{"line": n, "text": text} for n, text in parsed.unmatched],
        "left_out": [{"line": n, "text": text} for n, text in parsed.left_out],
    }


def _check_one(path: Path, layout: Layout, runtime: Runtime) -> dict[str, Any]:
    from bot.ingest import parse_limits
    from bot.sources.files import read_document
    from briefings.errors import BriefingParseError
    from briefings.parser import decode_briefing, parse_with_layout

    name, data = read_document(path, runtime.settings.ingest.max_file_bytes)
    if isinstance(data, OSError):
        return {"file": name, "ok": False, "line": 0, "error": str(data)}
    try:
        text = decode_briefing(data, name)
        parsed = parse_with_layout(
            text, name, runtime.series, runtime.taxonomy, layout, limits=parse_limits(runtime)
        )
    except BriefingParseError as exc:
        return {"file": name, "ok": False, "line": exc.line, "error": exc.message}
    return {"file": name, **_report(parsed)}


def _shown(text: str) -> str:
    from bot.i18n import clip

    return clip(text, SHOWN_CHARS)


def _print(report: dict[str, Any]) -> None:
    if not report["ok"]:
        where = f" line {report['line']}" if report["line"] else ""
        print(f"{report['file']}: FAILED{where}: {report['error']}")
        return
    key = [f"#{report['number']}"] if report["number"] is not None else []
    key += [report["date"]] if report["date"] else []
    print(f"{report['file']}: {' '.join(key)}, {report['entries']} entries")
    for section in report["sections"]:
        heading = section["heading"] or "(no heading)"
        print(f"  {section['entries']:>4}  {section['key']}  {_shown(heading)}")
    for item in report["warnings"]:
        mark = " (unfinished)" if item["unfinished"] else ""
        print(f"  warning line {item['line']}{mark}: {item['message']}")
    for label, name in (("unmatched", "unmatched"), ("left out", "left_out")):
        for item in report[name]:
            print(f"  {label} line {item['line']}: {_shown(item['text'])}")


async def _check(args: argparse.Namespace, runtime: Runtime) -> int:
    try:
        runtime = _series(args, runtime)
        layout = _resolve(args, runtime)
    except _LayoutProblem as exc:
        return fail(str(exc), 2)
    files = _files(args.paths)
    if not files:
        return fail("no *.md files under " + ", ".join(map(str, args.paths)), 1)
    reports = [_check_one(path, layout, runtime) for path in files]
    failed = sum(1 for r in reports if not r["ok"])
    if args.json:
        print_json({"layout": layout.name, "files": reports, "failed": failed})
    else:
        for report in reports:
            _print(report)
        files_word = "file" if len(reports) == 1 else "files"
        print(f"layout {layout.name}: {len(reports)} {files_word}, {failed} failed")
    return 1 if failed else 0
