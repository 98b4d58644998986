"""Several series in one cycle: each series' sources are parsed with its layout, each is
published on its own schedule to its own subscribers, and one series' broken sources
(unreachable, unparseable) never stop another. Both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.publish.cycle import build_cycle
from bot.runtime import Runtime, open_runtime
from storage import subscribers as subs
from storage.models import DeliveryRow, IssueRow, RenderingRow, SeriesRow, SubscriberRow
from storage.web_queries import deliveries_per_issue, last_publication_sends
from tests.publish.helpers import KEY, briefing, utc

TUESDAY = utc(11, 3, 12)  # 2026-11-06 is a Friday
FRIDAY_SLOT = utc(11, 6, 8)


def weekly(number: int, news: str) -> str:
    """A numbered English weekly in the "This Week in X" shape, written for the tests."""
    return f"""# This Week in Gadgets #{number}

Hello and welcome to issue {number}.

_This issue is sponsored by Example Cloud._

---

## News

- [{news}](https://example.com/gadgets/{number}/news)
  Summary: what changed in release {number}.

## Tool of the week

- [gadget-lint](https://example.com/gadgets/{number}/lint)

## Previous issues

- [#{number - 1}](https://example.com/gadgets/{number - 1})
"""


def folder(root: Path, name: str, files: dict[str, str]) -> str:
    path = root / name
    path.mkdir()
    for file, text in files.items():
        (path / file).write_text(text, encoding="utf-8")
    return str(path)


def settings(db_url: str, root: Path) -> Settings:
    eai = folder(root, "eai", {f"{KEY}.md": briefing()})
    gadgets = folder(
        root, "gadgets", {"issue-50.md": weekly(50, "Gadget 5.0"), "issue-51.md": weekly(51, "X")}
    )
    garbage = folder(root, "garbage", {"issue-1.md": "\x00\x01 not a briefing", "b.md": "# x\n"})
    source = {"kind": "folder", "interval_seconds": 60}
    return Settings.model_validate(
        {
            "storage": {"url": db_url},
            "publish": {"settle_minutes": 0},
            "series": [
                {"slug": "embedded-ai", "sources": [{**source, "name": "eai", "path": eai}]},
                {
                    "slug": "broken",
                    "title": "Broken Weekly",
                    "layout": "this-week-in",
                    "sources": [
                        {**source, "name": "gone", "path": str(root / "missing")},
                        {**source, "name": "garbage", "path": garbage},
                    ],
                },
                {
                    "slug": "gadgets",
                    "title": "This Week in Gadgets",
                    "languages": ["en"],
                    "layout": "this-week-in",
                    "schedule": {"time": "08:00", "weekdays": ["fri"], "timezone": "UTC"},
                    "sources": [{**source, "name": "gadgets", "path": gadgets}],
                },
            ],
        }
    )


async def reader(runtime: Runtime, chat: str, *series: str, platform: str = "telegram") -> None:
    async with runtime.sessions.begin() as session:
        kind = "user" if platform == "wechat" else "private"
        subscriber, _ = await subs.get_or_create(session, platform, chat, kind=kind)
        for slug in series:
            key = subs.series_key(slug, runtime.primary_slug)
            await subs.set_subscriptions(session, subscriber.id, [subs.ALL], series=key)


async def delivered(runtime: Runtime) -> dict[str, set[str]]:
    """Chats per issue (`slug date-or-#number`) that deliveries were created for."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(SeriesRow.slug, IssueRow.key, IssueRow.number, SubscriberRow.chat_id)
            .select_from(DeliveryRow)
            .join(IssueRow, IssueRow.id == DeliveryRow.issue_id)
            .join(SeriesRow, SeriesRow.id == IssueRow.series_id)
            .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
        )
    found: dict[str, set[str]] = {}
    for slug, key, number, chat in rows:
        found.setdefault(f"{slug} {key if number is None else f'#{number}'}", set()).add(chat)
    return found


async def test_each_series_on_its_schedule_to_its_readers_despite_a_broken_one(
    db_url: str, tmp_path: Path
) -> None:
    async with open_runtime(settings(db_url, tmp_path)) as runtime:
        await reader(runtime, "1", "embedded-ai")
        await reader(runtime, "2", "gadgets")
        await reader(runtime, "3", "embedded-ai", "gadgets")
        await reader(runtime, "4", "broken")
        await reader(runtime, "o-5", "embedded-ai", "gadgets", platform="wechat")
        clock = FixedClock(TUESDAY)
        cycle = build_cycle(runtime, clock, batch_size=2)
        assert [lane.runtime.series.slug for lane in cycle.lanes] == [
            "embedded-ai",
            "broken",
            "gadgets",
        ]

        report = await cycle.run_once()
        polls = {p.source: p for p in report.polls}
        assert not polls["gone"].ok and not polls["garbage"].ok  # broken, reported
        assert polls["eai"].ok and polls["gadgets"].ok
        assert polls["gadgets"].report is not None and polls["gadgets"].report.added == 2
        # the dated series is due (its date has come); the weekly waits for Friday
        assert await delivered(runtime) == {"embedded-ai 2026-11-02": {"1", "3", "o-5"}}

        clock.set(FRIDAY_SLOT)
        check = await cycle.check()
        assert [p.issue_id for p in check.published] and check.archived == ["#50"]
        assert await delivered(runtime) == {
            "embedded-ai 2026-11-02": {"1", "3", "o-5"},
            "gadgets #51": {"2", "3", "o-5"},  # only the newest number; #50 archived
        }
        async with runtime.sessions() as session:
            parts = await session.scalars(
                select(RenderingRow.cache_key)
                .join(IssueRow, IssueRow.id == RenderingRow.issue_id)
                .where(IssueRow.number == 51, RenderingRow.cache_key.like("mass;%"))
            )
            # the Official Account's parts of another series carry its slug: its own tags
            assert set(parts) >= {"mass;part=gadgets/all", "mass;parts=gadgets/all"}
        async with runtime.sessions() as session:
            texts = await session.scalars(
                select(RenderingRow.messages)
                .join(IssueRow, IssueRow.id == RenderingRow.issue_id)
                .where(IssueRow.number == 51)
            )
            text = "\n".join(m["text"] for messages in texts for m in messages)
        assert "This Week in Gadgets #51" in text and "None" not in text
        assert "sponsored" not in text  # the layout's boilerplate is left out
        # nothing goes out twice
        assert (await cycle.run_once()).check.published == []
        # the operator page's charts count the undated issue on its publication day
        async with runtime.sessions() as session:
            per_issue = await deliveries_per_issue(session)
            _, sends = await last_publication_sends(session)
        assert [(c.key, c.pending) for c in per_issue] == [(KEY, 3), (FRIDAY_SLOT.date(), 3)]
        assert sends == []  # nothing delivered in this test, only queued


async def test_a_failing_series_check_does_not_stop_the_next(
    db_url: str, tmp_path: Path, caplog: object
) -> None:
    async with open_runtime(settings(db_url, tmp_path)) as runtime:
        await reader(runtime, "2", "gadgets")
        clock = FixedClock(TUESDAY)
        cycle = build_cycle(runtime, clock)
        await cycle.run_once()

        async def boom(*_: object, **__: object) -> None:
            raise RuntimeError("series check failed")

        cycle.lanes[0].corrector.run = boom  # type: ignore[method-assign]
        clock.set(FRIDAY_SLOT)
        check = await cycle.check()
        assert check.archived == ["#50"]
        assert await delivered(runtime) == {"gadgets #51": {"2"}}
