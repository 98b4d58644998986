"""Rendering speed: the whole corpus on every platform.

    .venv/bin/python bench/render_bench.py              # 3 rounds
    .venv/bin/python bench/render_bench.py --rounds 10

Parses ../shared/corpus/embedded-ai-report once, then for each platform renders
every issue whole and every section on its own. Reports the first round on a fresh
renderer ("cold": every markdown field converted) and the best later round ("warm":
conversions cached, as when one issue goes to many subscribers), the messages
produced, and the worst message count against the ceil(total/limit)+1 bound.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

from briefings.model import Issue, Series
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from formatters import (
    WECOM_ROBOT_LIMITS,
    ConsoleRenderer,
    Limits,
    TelegramRenderer,
    WeChatRenderer,
    WeComRenderer,
)
from formatters.renderer import BlockRenderer

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "embedded-ai-report"
SERIES = Series("embedded-ai", "嵌入式AI简报")


def load_corpus() -> list[Issue]:
    taxonomy = Taxonomy.default()
    paths = sorted(CORPUS.glob("*.md"))
    return [
        parse_issue(decode_briefing(p.read_bytes(), p.name), p.name, SERIES, taxonomy)
        for p in paths
    ]


def platforms() -> dict[str, Callable[[], BlockRenderer]]:
    return {
        "telegram": TelegramRenderer,
        "wechat": WeChatRenderer,
        "wecom-app": WeComRenderer,
        "wecom-robot": lambda: WeComRenderer(limits=WECOM_ROBOT_LIMITS),
        "console": ConsoleRenderer,
    }


def render_all(renderer: BlockRenderer, issues: list[Issue]) -> int:
    count = 0
    for issue in issues:
        count += len(renderer.issue(issue))
        for section in issue.sections:
            count += len(renderer.sections(issue, [section.key]))
    return count


def worst_slack(renderer: BlockRenderer, issues: list[Issue]) -> int:
    """Max over issues of (messages - bound); <= 0 means the bound holds everywhere."""
    limit = renderer.limits.max_size
    if limit is None:
        return 0
    unlimited = renderer.with_limits(Limits(None, renderer.limits.unit))
    worst = -(10**9)
    for issue in issues:
        [whole] = unlimited.issue(issue)
        worst = max(worst, len(renderer.issue(issue)) - (math.ceil(whole.size / limit) + 1))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    issues = load_corpus()
    print(f"parsed {len(issues)} issues in {time.perf_counter() - started:.2f}s")
    renders = sum(1 + len(i.sections) for i in issues)
    totals = [0.0, 0.0]
    for name, factory in platforms().items():
        renderer = factory()
        timings = []
        messages = 0
        for _ in range(max(2, args.rounds)):
            started = time.perf_counter()
            messages = render_all(renderer, issues)
            timings.append(time.perf_counter() - started)
        cold, warm = timings[0], min(timings[1:])
        totals[0] += cold
        totals[1] += warm
        print(
            f"{name:12} cold {cold * 1000:7.1f} ms  warm {warm * 1000:7.1f} ms  "
            f"{renders} renders ({cold / renders * 1000:.2f} / {warm / renders * 1000:.2f} ms each)"
            f"  {messages} messages  bound slack {worst_slack(renderer, issues)}"
        )
    print(f"{'all':12} cold {totals[0] * 1000:7.1f} ms  warm {totals[1] * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
