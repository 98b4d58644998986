"""Small builders of domain objects for storage tests (no parser involved)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from briefings.model import Entry, Issue, Link, ParseWarning, Section, Series

SERIES = Series(slug="embedded-ai", title="嵌入式AI简报")
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def make_entry(position: int, *, topics: tuple[str, ...] = ("llm",), **fields: object) -> Entry:
    entry = Entry(
        position=position,
        title=f"条目 {position}：端侧大模型推理",
        source="机器之心",
        url=f"https://example.com/{position}",
        summary=f"摘要 {position}，含 **粗体** 与换行  \n第二行",
        links=(
            Link("论文", f"https://arxiv.org/abs/2501.{position:05d}"),
            Link("代码", "https://github.com/x/y"),
        ),
        arxiv_id=f"2501.{position:05d}",
        topics=topics,
        line=10 + position,
    )
    return replace(entry, **fields)  # type: ignore[arg-type]


def make_issue(
    key: date = date(2025, 3, 1),
    *,
    content_hash: str = "h1",
    sections: tuple[Section, ...] | None = None,
    **fields: object,
) -> Issue:
    if sections is None:
        sections = (
            Section(
                key="news",
                heading="业界新闻",
                position=0,
                entries=(make_entry(0, topics=("llm", "npu")), make_entry(1, topics=())),
            ),
            Section(
                key="papers",
                heading="论文",
                position=1,
                entries=(make_entry(0, topics=("quantization",)), make_entry(1), make_entry(2)),
                notes=("注：论文按发布时间排序",),
            ),
            Section(key="empty", heading="空栏目", position=2),
        )
    issue = Issue(
        series=SERIES,
        key=key,
        title=f"嵌入式AI简报 {key.isoformat()}",
        subtitle="第 1 期",
        tagline="关注端侧 AI",
        intro="导读：**本期** 重点",
        quick_news=("快讯一", "快讯二 [链接](https://example.com)"),
        notes=("注：仅供参考",),
        sections=sections,
        source_path=f"reports/{key.isoformat()}.md",
        content_hash=content_hash,
        warnings=(ParseWarning(f"{key.isoformat()}.md", 3, "缺少摘要"),),
        front_matter="layout: post\ntags: [ai]",
        footer="编辑：张三  \n许可：CC BY 4.0",
    )
    return replace(issue, **fields)  # type: ignore[arg-type]


def edit_summary(issue: Issue, section_key: str, index: int, summary: str) -> Issue:
    """A copy of `issue` with one entry's summary changed (and a new content hash)."""
    sections = tuple(
        replace(
            s,
            entries=tuple(
                replace(e, summary=summary) if s.key == section_key and i == index else e
                for i, e in enumerate(s.entries)
            ),
        )
        for s in issue.sections
    )
    return replace(issue, sections=sections, content_hash=issue.content_hash + "-edited")
