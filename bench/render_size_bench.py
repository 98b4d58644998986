"""Render cost against input size: one huge entry, and an issue of 5,000 entries.

    .venv/bin/python bench/render_size_bench.py                    # every platform, field, size
    .venv/bin/python bench/render_size_bench.py --platforms telegram --fields title
    .venv/bin/python bench/render_size_bench.py --sizes 10000,100000 --tracemalloc

Each measurement runs in a fresh subprocess: it builds an issue whose one entry has a
title, summary or source of N bytes of mixed Chinese/English text with inline markup
(bold, code, links, `<`/`&`), renders it whole with the platform's renderer and
chunker, and reports wall time, time per KB of input, the peak RSS growth over the
process's RSS just before rendering (ru_maxrss) and, with --tracemalloc, the peak of
Python allocations (tracemalloc slows rendering, so time is then not comparable).
A flat time/KB and RSS/KB column across sizes means linear work.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from briefings.model import Entry, Issue, Section, Series  # noqa: E402
from formatters import (  # noqa: E402
    WECOM_ROBOT_LIMITS,
    ConsoleRenderer,
    Limits,
    TelegramRenderer,
    WeChatRenderer,
    WeComRenderer,
)
from formatters.renderer import BlockRenderer  # noqa: E402

SERIES = Series("embedded-ai", "嵌入式AI简报")
SIZES = (10_000, 100_000, 1_000_000, 5_000_000)
FIELDS = ("title", "summary", "source")
PLATFORMS = ("telegram", "wechat", "wecom-app", "wecom-robot", "console")
# one paragraph's worth of what briefings contain; a blank line now and then
UNIT = (
    "端侧**量化**推理框架 MNN 支持 ARM NPU 与 `int8` 模型压缩，速度提升 3 倍 "
    "[详情](https://example.com/a?b=1&c=2) <tag> & more. 模型剪枝与蒸馏。 "
)


def renderer(platform: str) -> BlockRenderer:
    if platform == "telegram":
        return TelegramRenderer()
    if platform == "wechat":
        return WeChatRenderer()
    if platform == "wecom-app":
        return WeComRenderer()
    if platform == "wecom-robot":
        return WeComRenderer(limits=WECOM_ROBOT_LIMITS)
    # the terminal has no limit; a console of 4096 characters exercises its chunking too
    return ConsoleRenderer(limits=Limits(4096, "chars"))


def text_of(size: int, field: str) -> str:
    """`size` UTF-8 bytes of text; the summary has a paragraph break every ~2 KB."""
    unit = UNIT + ("\n\n" if field == "summary" else "")
    repeated = unit * (size // len(unit.encode()) + 1)
    return repeated.encode()[:size].decode(errors="ignore")


def entry_issue(field: str, size: int) -> Issue:
    values = {"title": "标题", "summary": "摘要", "source": "来源", field: text_of(size, field)}
    entry = Entry(position=0, url="https://example.com/x", **values)
    return Issue(
        SERIES, date(2024, 5, 6), "嵌入式AI简报", sections=(Section("papers", "论文", 0, (entry,)),)
    )


def many_entries_issue(count: int) -> Issue:
    entries = tuple(
        Entry(
            position=n,
            title=f"**第{n}篇** 端侧推理框架",
            source="来源",
            url=f"https://example.com/{n}",
            summary=UNIT,
        )
        for n in range(count)
    )
    keys = ("news", "papers", "code", "blogs")
    per = -(-count // len(keys))
    sections = tuple(
        Section(key, key, i, entries[i * per : (i + 1) * per]) for i, key in enumerate(keys)
    )
    return Issue(SERIES, date(2024, 5, 6), "嵌入式AI简报", sections=sections)


def measure(platform: str, field: str, size: int, trace: bool) -> dict[str, float]:
    """Runs in the child: one render, measured."""
    issue = many_entries_issue(size) if field == "entries" else entry_issue(field, size)
    target = renderer(platform)
    input_bytes = sum(
        len((e.title + e.summary + (e.source or "")).encode())
        for s in issue.sections
        for e in s.entries
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        import tracemalloc

        tracemalloc.start()
    start = time.perf_counter()
    messages = target.issue(issue)
    seconds = time.perf_counter() - start
    traced = 0
    if trace:
        import tracemalloc

        traced = tracemalloc.get_traced_memory()[1]
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "bytes": input_bytes,
        "seconds": seconds,
        "messages": len(messages),
        "rss_kb": rss_after - rss_before,
        "traced": traced,
    }


def run_child(platform: str, field: str, size: int, trace: bool) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", platform, field, str(size)]
    if trace:
        args.append("--tracemalloc")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--platforms", default=",".join(PLATFORMS))
    parser.add_argument("--fields", default=",".join(FIELDS))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--entries", type=int, default=5_000, help="0 to skip")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("PLATFORM", "FIELD", "SIZE"))
    args = parser.parse_args()
    if args.child:
        platform, field, size = args.child
        print(json.dumps(measure(platform, field, int(size), args.tracemalloc)))
        return
    cases = [(f, int(s)) for f in args.fields.split(",") for s in args.sizes.split(",")]
    if args.entries:
        cases.append(("entries", args.entries))
    print(
        "| platform | input | bytes | time | time / KB | messages | peak RSS growth | RSS / input |"
        + (" tracemalloc peak |" if args.tracemalloc else "")
    )
    print(
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        + (" ---: |" if args.tracemalloc else "")
    )
    for platform in args.platforms.split(","):
        for field, size in cases:
            r = run_child(platform, field, size, args.tracemalloc)
            kb = r["bytes"] / 1024
            label = f"{size:,} entries" if field == "entries" else field
            row = (
                f"| {platform} | {label} | {r['bytes']:,} | {r['seconds']:.3f} s "
                f"| {1000 * r['seconds'] / kb:.2f} ms | {r['messages']:,} "
                f"| {r['rss_kb'] / 1024:.1f} MB | {r['rss_kb'] / kb:.1f}x |"
            )
            if args.tracemalloc:
                row += f" {r['traced'] / 2**20:.1f} MB |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
