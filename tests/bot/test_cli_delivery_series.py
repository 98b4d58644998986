"""`briefbot --series SLUG status|resume|render NUMBER`: a numbered series' issue named by
its number (`51`, `#51`, `latest`) as `publish` names it, with one-line errors for an
unknown number; without `--series` the first series' dated issues work as before. Both
databases."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bot.conftest import Cli
from tests.bot.test_cli_publish_series import _widgets


def _published(cli: Cli, tmp_path: Path) -> tuple[str, ...]:
    """The two-series example, widgets #51 pushed (queued) to one widgets reader."""
    series = _widgets(cli, tmp_path)
    code, out, _ = cli(*series, "publish", "51")
    assert code == 0 and out.startswith("Published issue #51 (content ")
    return series


def test_status_names_a_numbered_issue_by_its_number(cli: Cli, tmp_path: Path) -> None:
    series = _published(cli, tmp_path)
    for asked in ("51", "#51"):
        code, out, _ = cli(*series, "status", asked)
        assert code == 0 and out.startswith("#51  delivering\n  telegram ")
        assert "pending 1" in out
    code, out, _ = cli(*series, "status")  # every unfinished issue: #51 only
    assert code == 0 and out.startswith("#51  delivering") and "#50" not in out
    code, out, _ = cli(*series, "status", "latest", "--json")
    [issue] = json.loads(out)["issues"]
    assert (code, issue["key"], issue["number"], issue["done"]) == (0, None, 51, False)


def test_status_and_resume_say_an_unknown_number_in_one_line(cli: Cli, tmp_path: Path) -> None:
    series = _published(cli, tmp_path)
    for command in ("status", "resume"):
        code, out, err = cli(*series, command, "99")
        assert (code, out) == (1, "")
        assert err.strip() == "briefbot: no issue #99 in the archive of widgets"
    config = series[1]
    code, _, err = cli("--config", config, "status", "51")  # the first series is dated
    assert code == 1 and err.strip() == "briefbot: no issue #51 in the archive of embedded-ai"


def test_resume_takes_a_number_or_latest_of_the_chosen_series(cli: Cli, tmp_path: Path) -> None:
    series = _published(cli, tmp_path)
    code, out, _ = cli(*series, "resume", "#51")
    assert (code, out.strip()) == (0, "#51: delivery was not paused")
    code, out, _ = cli(*series, "resume", "latest")
    assert (code, out.strip()) == (0, "#51: delivery was not paused")
    config = series[1]
    code, _, err = cli("--config", config, "resume", "latest")  # no deliveries in the first
    assert code == 1 and "no issue with deliveries in the archive of embedded-ai" in err


def test_resume_resumes_a_paused_numbered_issue(cli: Cli, tmp_path: Path, db_url: str) -> None:
    import asyncio

    from bot.delivery.pauses import pause_issue
    from storage.db import create_engine, session_factory
    from storage.issues import find_numbered_id
    from tests.storage.factories import at

    series = _published(cli, tmp_path)

    async def pause() -> None:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine).begin() as session:
                issue_id = await find_numbered_id(session, "widgets", 51)
                assert issue_id is not None
                await pause_issue(session, issue_id, "burst", at(0))
        finally:
            await engine.dispose()

    asyncio.run(pause())
    code, out, _ = cli(*series, "status", "51")
    assert code == 0 and out.startswith("#51  PAUSED\n  burst\n")
    code, out, _ = cli(*series, "resume", "51")
    assert (code, out.strip()) == (0, "#51: delivery resumed")


def test_render_takes_a_number_and_the_series_taxonomy(cli: Cli, tmp_path: Path) -> None:
    series = _widgets(cli, tmp_path)
    code, out, _ = cli(*series, "render", "#50", "--platform", "console")
    assert code == 0 and "───── message 1/" in out and "This Week in Widgets #50" in out
    code, out, _ = cli(*series, "render", "51", "--platform", "console", "--topics", "releases")
    assert code == 0 and "Widget runtime 3.2 released" in out
    assert "Profiling widgets in production" not in out
    code, out, err = cli(*series, "render", "99", "--platform", "console")
    assert (code, out) == (1, "")
    assert err.strip() == "briefbot: no issue #99 in the archive of widgets"


def test_render_of_the_first_series_is_unchanged(cli: Cli, tmp_path: Path) -> None:
    series = _widgets(cli, tmp_path)
    config = series[1]
    folder = str(tmp_path / "two-series" / "embedded-ai")
    assert cli("--config", config, "ingest", folder)[0] == 0
    code, out, _ = cli("--config", config, "render", "2026-11-16", "--platform", "console")
    assert code == 0 and "───── message 1/" in out
    code, _, err = cli("--config", config, "render", "50", "--platform", "console")
    assert code == 1 and "no issue #50 in the archive of embedded-ai" in err
    code, out, _ = cli(*series, "render", "latest", "--platform", "console")
    assert code == 0 and "This Week in Widgets #51" in out
