"""An archive for the web tests: the samples plus an issue written to attack the pages.

`site_app` is the Starlette app `run` would serve (create_app + the public routes) on a
temporary SQLite archive; `hostile` names the titles that must come out as text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.ingest import ingest_documents
from bot.runtime import Runtime, open_runtime
from bot.web.pages import Site
from bot.web.server import create_app
from tests.conftest import SAMPLES_DIR
from tests.dbfixtures import db_url, postgres_database  # noqa: F401  (fixtures)

SCRIPT_TITLE = "<script>alert('t')</script> 标题攻击"
ATTR_TITLE = '"onmouseover=alert(1) x="'
HOSTILE = f"""# 嵌入式AI简报 (2026-10-05) {SCRIPT_TITLE}

**<img src=x onerror=alert(2)> 副标题**

## 业界新闻

- [{ATTR_TITLE} 芯片发布](javascript:alert(3))
摘要：<script>alert(4)</script> 量化 摘要里的脚本。
- [正常的一条 NPU 新闻](https://example.com/ok)
摘要：一切正常，INT4 量化。

## 论文

- [2610.00001] [A paper about quantization](https://arxiv.org/abs/2610.00001)
摘要：量化方法。
"""


def web_settings(tmp_path: Path, **web: object) -> Settings:
    return Settings(storage={"url": f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"}, web=web)


async def fill(runtime: Runtime, *, hostile: bool = True) -> None:
    docs: list[tuple[str, bytes | OSError]] = [
        (p.name, p.read_bytes()) for p in sorted(SAMPLES_DIR.glob("*.md"))
    ]
    if hostile:
        docs.append(("2026-10-05.md", HOSTILE.encode()))
    report = await ingest_documents(runtime, docs)
    assert not report.failed, report


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with open_runtime(web_settings(tmp_path, admin_token="a" * 20)) as rt:
        await fill(rt)
        yield rt


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    site = Site(runtime.sessions, runtime.series, runtime.taxonomy, runtime.settings.web)
    app = create_app(extra_routes=site.routes())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
