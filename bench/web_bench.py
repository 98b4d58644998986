"""Render time of the public pages on SQLite: p50 and p95 per page kind.

    .venv/bin/python bench/web_bench.py [--runs N] [--corpus DIR]

Builds a temporary SQLite archive from the real corpus (../shared/corpus/embedded-ai-report,
read in place) or, when it is absent, from samples/*.md, and requests each page through
the ASGI app in-process (httpx.ASGITransport): routing, queries, Jinja rendering and the
response, without a socket. Target: an issue page p50 < 20 ms. The issue measured is the
largest of the archive (most entries). A feed is built once per archive change and then
served from the site's feed cache; "built" defeats the cache with a new address per run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus" / "embedded-ai-report"


async def measure(runs: int, corpus: Path) -> list[tuple[str, float, float]]:
    import httpx

    from bot.config import Settings
    from bot.ingest import ingest_documents
    from bot.runtime import open_runtime
    from bot.web.pages import Site
    from bot.web.server import create_app
    from storage.web_queries import issue_lines

    folder = corpus if corpus.is_dir() else ROOT / "samples"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(storage={"url": f"sqlite+aiosqlite:///{tmp}/bench.db"})
        async with open_runtime(settings) as runtime:
            docs = [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.md"))]
            report = await ingest_documents(runtime, docs)  # type: ignore[arg-type]
            async with runtime.sessions() as session:
                lines = await issue_lines(session, runtime.series.slug)
            biggest = max(lines, key=lambda line: line.entries)
            print(
                f"archive: {folder} ({report.added} issues; "
                f"issue page: {biggest.key}, {biggest.entries} entries)"
            )
            site = Site(runtime.sessions, runtime.series, runtime.taxonomy, settings.web)
            app = create_app(extra_routes=site.routes())
            slug = runtime.series.slug
            pages = {
                "issue page": f"/{slug}/{biggest.key.isoformat()}",
                "issue page (en)": f"/{slug}/{biggest.key.isoformat()}?lang=en",
                "home": "/",
                "section page": f"/{slug}/section/papers",
                "topic page": f"/{slug}/topic/quantization",
                "search 量化": "/search?q=量化",
                "series feed, built": f"/{slug}/feed.atom?run={{}}",  # a new address each time
                "series feed, cached": f"/{slug}/feed.atom",
                "feed, 304": f"/{slug}/feed.atom",
            }
            transport = httpx.ASGITransport(app=app)
            results = []
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                etag = (await client.get(pages["feed, 304"])).headers["etag"]
                for name, path in pages.items():
                    headers = {"if-none-match": etag} if name == "feed, 304" else {}
                    for n in range(3):  # warm: templates compiled, caches filled
                        await client.get(path.format(f"w{n}"), headers=headers)
                    times = []
                    for n in range(runs):
                        start = time.perf_counter()
                        response = await client.get(path.format(n), headers=headers)
                        times.append((time.perf_counter() - start) * 1000)
                        assert response.status_code in (200, 304), (path, response.status_code)
                    times.sort()
                    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                    results.append((name, statistics.median(times), p95))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    for name, p50, p95 in asyncio.run(measure(args.runs, args.corpus)):
        target = "  (target p50 < 20 ms)" if name == "issue page" else ""
        print(f"{name:20s} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
