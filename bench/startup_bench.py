"""Start-up time of the command line: how long `briefbot ...` takes before and while working.

    .venv/bin/python bench/startup_bench.py            # 7 runs of each command
    .venv/bin/python bench/startup_bench.py --runs 15 --top 20

Runs each command in a fresh process on a temporary copy of the embedded default
archive (data/briefbot.sqlite3 when `make run` has made it, else the bundled samples
ingested into a new one) and prints the median wall time against its target. Then,
so anyone sees where the time goes, the slowest imports (cumulative microseconds from
`python -X importtime`) of `--help` and of `issues`.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_ARCHIVE = ROOT / "data" / "briefbot.sqlite3"
# (argv, target seconds): the targets of issue 12.
COMMANDS: list[tuple[list[str], float]] = [
    (["--help"], 0.3),
    (["issues", "--help"], 0.3),
    (["issues"], 1.0),
    (["search", "量化"], 1.0),
    (["show", "latest"], 1.0),
]
PROFILED = (["--help"], ["issues"])


def prepare(folder: Path) -> dict[str, str]:
    """The environment of every run: a copy of the archive, no other BRIEFBOT_ setting."""
    archive = folder / "briefbot.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    env["BRIEFBOT_STORAGE_URL"] = f"sqlite+aiosqlite:///{archive}"
    if DEFAULT_ARCHIVE.exists():
        # The backup API copies a consistent state even while `briefbot run` writes to it.
        with sqlite3.connect(DEFAULT_ARCHIVE) as source, sqlite3.connect(archive) as target:
            source.backup(target)
        print(f"archive: a copy of {DEFAULT_ARCHIVE}")
    else:
        ingest = [str(BIN / "briefbot"), "ingest", str(ROOT / "samples")]
        subprocess.run(ingest, env=env, cwd=folder, check=True, capture_output=True)
        print(f"archive: {ROOT / 'samples'} ingested into a new database")
    # The first command migrates (and the samples are tiny): warm it up once.
    subprocess.run([str(BIN / "briefbot"), "issues"], env=env, cwd=folder, capture_output=True)
    return env


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_runs(
    argv: list[str], env: dict[str, str], cwd: Path, runs: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each run (CPU time varies less on a busy machine)."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = child_cpu(), time.perf_counter()
        command = [str(BIN / "briefbot"), *argv]
        result = subprocess.run(command, env=env, cwd=cwd, capture_output=True)
        walls.append(time.perf_counter() - start)
        cpus.append(child_cpu() - cpu)
        if result.returncode != 0:
            sys.exit(f"briefbot {' '.join(argv)} failed:\n{result.stderr.decode()}")
    return walls, cpus


def import_profile(argv: list[str], env: dict[str, str], cwd: Path) -> list[tuple[int, int, str]]:
    """(cumulative us, self us, module) of every import, slowest first."""
    command = [sys.executable, "-X", "importtime", "-m", "bot.cli", *argv]
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, total, name = line.removeprefix("import time:").split("|")
        rows.append((int(total), int(own), name.rstrip()))
    return sorted(rows, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (median)")
    parser.add_argument("--top", type=int, default=15, help="imports shown per profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="briefbot-startup-") as name:
        folder = Path(name)
        env = prepare(folder)
        print(f"\nmedians of {args.runs} runs, each in a new process (seconds)")
        print(f"  {'command':24s} {'wall':>6s} {'min':>6s} {'cpu':>6s}  target")
        for argv, target in COMMANDS:
            walls, cpus = timed_runs(argv, env, folder, args.runs)
            median = statistics.median(walls)
            verdict = "ok" if median <= target else "OVER"
            shown = " ".join(argv).ljust(24 - sum(ord(c) > 0x2E80 for c in " ".join(argv)))
            cpu = statistics.median(cpus)
            print(f"  {shown} {median:6.3f} {min(walls):6.3f} {cpu:6.3f}  {target} {verdict}")
        for argv in PROFILED:
            rows = import_profile(argv, env, folder)
            print(f"\nslowest imports of `briefbot {' '.join(argv)}` (cumulative / self, ms)")
            for total, own, module in rows[: args.top]:
                print(f"  {total / 1000:8.1f} {own / 1000:7.1f}  {module}")


if __name__ == "__main__":
    main()
