"""Builders shared by the publication and source tests: briefings, settings, runtimes, queries."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.runtime import Runtime, build_taxonomy
from briefings.model import Series
from storage import subscribers as subs
from storage.db import session_factory
from storage.issues import IssueSummary, find_issue_id, get_summary
from storage.models import DeliveryRow, IssueRow, RenderingRow, SubscriberRow

BR = "  "  # a markdown hard line break, kept out of the source's trailing whitespace
KEY = date(2026, 11, 2)  # due 2026-11-02 09:00 Asia/Shanghai = 01:00 UTC


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def briefing(key: date = KEY, version: str = "v1", *, unfinished: bool = False) -> str:
    """A small briefing; `version` appears in entries of every section (to see what went out).

    Topics: news 1 and project 1 are `chips`; papers are compression / quantization.
    `unfinished`: an empty 博文 section and an item with an unclosed link.
    """
    blogs = (
        "- [未完成的标题(https://example.com/x)\n"
        if unfinished
        else f"- [博文标题 | 知乎](https://example.com/b1){BR}\n摘要：一篇随笔。\n"
    )
    apps = "\n## 应用\n\n" if unfinished else ""
    return f"""# 嵌入式AI简报 ({key.isoformat()}) 测试

**关注端侧AI**{BR}

> 导读：本期 {version}。

## 业界新闻

- [骁龙新平台发布 {version} | 芯智讯](https://example.com/n1){BR}
摘要：{version} NPU 算力翻倍。
- [某公司完成融资 | 36氪](https://example.com/n2){BR}
摘要：一家公司完成新一轮融资。

## 论文

- [一种新的剪枝方法 | arXiv](https://arxiv.org/abs/2601.00001){BR}
摘要：{version} 剪枝。
- [新的量化方法](https://arxiv.org/abs/2601.00002){BR}
摘要：INT4 量化。

## 开源项目

- [foo/bar: 推理框架 | GitHub](https://github.com/foo/bar){BR}
摘要：{version} 支持 GPU 加速。
- [x/y: 命令行工具 | GitHub](https://github.com/x/y){BR}
摘要：一个小工具。

## 博文

{blogs}{apps}"""


def make_runtime(engine: AsyncEngine, settings: Settings) -> Runtime:
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        series=Series(settings.series.slug, settings.series.title),
        taxonomy=build_taxonomy(settings),
    )


async def add_subscriber(
    runtime: Runtime,
    chat: str,
    *,
    sections: Sequence[str] = (),
    topics: Sequence[str] = (),
    format: str = "full",
    language: str = "zh",
    paused: bool = False,
    active: bool = True,
) -> int:
    platform, _, chat_id = chat.partition(":")
    wanted = [subs.Subscription("section", s) for s in sections]
    wanted += [subs.Subscription("topic", t) for t in topics]
    async with runtime.sessions.begin() as session:
        subscriber, _ = await subs.get_or_create(session, platform, chat_id)
        await subs.update_settings(
            session, subscriber.id, format=format, language=language, paused=paused
        )
        await subs.set_subscriptions(session, subscriber.id, wanted or [subs.ALL])
        if not active:
            await subs.deactivate(session, subscriber.id, "test")
    return subscriber.id


@dataclass(frozen=True)
class Sent:
    rendering_key: str
    messages: list[dict[str, Any]]
    created_at: datetime

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.messages)


async def deliveries(runtime: Runtime, key: date = KEY) -> dict[str, list[Sent]]:
    """Deliveries of the issue by "platform:chat_id", with their stored messages."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(
                SubscriberRow.platform,
                SubscriberRow.chat_id,
                RenderingRow.cache_key,
                RenderingRow.messages,
                DeliveryRow.created_at,
            )
            .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
            .join(RenderingRow, RenderingRow.id == DeliveryRow.rendering_id)
            .join(IssueRow, IssueRow.id == DeliveryRow.issue_id)
            .where(IssueRow.key == key)
            .order_by(DeliveryRow.id)
        )
    found: dict[str, list[Sent]] = {}
    for platform, chat_id, cache_key, messages, created in rows:
        found.setdefault(f"{platform}:{chat_id}", []).append(Sent(cache_key, messages, created))
    return found


async def summary_of(runtime: Runtime, key: date = KEY) -> IssueSummary:
    async with runtime.sessions() as session:
        issue_id = await find_issue_id(session, runtime.series.slug, key)
        assert issue_id is not None, f"issue {key} is not in the archive"
        summary = await get_summary(session, issue_id)
    assert summary is not None
    return summary


def git(*args: str, cwd: Path | None = None) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd or Path.cwd()),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


class GitRemote:
    """A local bare repository and a work tree that commits and pushes to it."""

    def __init__(self, root: Path, branch: str = "master") -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        self.branch = branch
        git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(self.bare), cwd=root)
        git("init", "--quiet", f"--initial-branch={branch}", str(self.work), cwd=root)
        git("remote", "add", "origin", str(self.bare), cwd=self.work)

    @property
    def url(self) -> str:
        return str(self.bare)

    def commit(self, files: dict[str, str | None], message: str = "edit") -> None:
        """Write (or delete, for None) the files, commit and push."""
        for path, text in files.items():
            target = self.work / path
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "-m", message, cwd=self.work)
        git("push", "--quiet", "--force", "origin", f"HEAD:{self.branch}", cwd=self.work)
