"""An admin's push of a numbered series' undated issue by its number, through the
primary series' publisher (the command core's): it reaches that series' readers only;
a number the series lacks, or one asked of the dated series, is refused. Both databases."""

from __future__ import annotations

from pathlib import Path

from bot.clock import FixedClock
from bot.publish.cycle import build_cycle
from bot.publish.publisher import hold_alert
from bot.publish.results import Defect, Preview, Publication, Refusal
from bot.runtime import open_runtime
from storage.issues import get_numbered_issue
from tests.publish.test_series_cycle import TUESDAY, delivered, reader, settings


async def test_an_undated_issue_is_pushed_by_number_to_its_series_readers(
    db_url: str, tmp_path: Path
) -> None:
    async with open_runtime(settings(db_url, tmp_path)) as runtime:
        await reader(runtime, "1", "embedded-ai")
        await reader(runtime, "2", "gadgets")
        cycle = build_cycle(runtime, FixedClock(TUESDAY))
        await cycle.poll_all(force=True)  # ingests; the weekly is not due before Friday
        publisher = cycle.publisher  # the primary series', as the command core has it

        preview = await publisher.publish(50, dry_run=True, series="gadgets")
        assert isinstance(preview, Preview)
        assert (preview.key, preview.number, preview.label) == (None, 50, "#50")
        assert (preview.recipients, [r.chat_id for r in preview.listed]) == (1, ["2"])

        published = await publisher.publish(51, series="gadgets")
        assert isinstance(published, Publication)
        assert (published.label, published.deliveries) == ("#51", 1)
        assert await delivered(runtime) == {"gadgets #51": {"2"}}

        again = await publisher.publish(51, series="gadgets")
        assert isinstance(again, Refusal) and again.reason == "already_published"
        assert again.published_at is not None and again.label == "#51"
        for key, series in ((99, "gadgets"), (51, ""), (51, "embedded-ai")):
            refused = await publisher.publish(key, series=series)
            assert isinstance(refused, Refusal) and refused.reason == "unknown", (key, series)
        assert await delivered(runtime) == {"gadgets #51": {"2"}}


async def test_the_held_alert_of_another_series_names_its_series_and_number(
    db_url: str, tmp_path: Path
) -> None:
    async with open_runtime(settings(db_url, tmp_path)) as runtime:
        cycle = build_cycle(runtime, FixedClock(TUESDAY))
        await cycle.poll_all(force=True)
        async with runtime.sessions() as session:
            issue = await get_numbered_issue(session, "gadgets", 51)
        assert issue is not None and issue.key is None
        alert = hold_alert(issue, (Defect("no_entries"),), runtime.taxonomy, "gadgets")
        assert "/publish gadgets 51（/preview gadgets 51 预演" in alert.text
        assert "briefbot --series gadgets publish 51 [--dry-run]" in alert.text
        assert "Publish it by hand when ready: /publish gadgets 51 (/preview gadgets 51 " in (
            alert.english
        )
        assert "None" not in alert.text + alert.english
        primary = hold_alert(issue, (), runtime.taxonomy)
        assert "/publish 51（" in primary.text and "briefbot publish 51 [" in primary.text
