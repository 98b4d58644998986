"""WeCom robots follow series: `[[wecom.robots]] series` is checked at config load, the
sync sets a robot's subscriptions in every configured series (and clears the ones it no
longer follows), and a two-series publication reaches each robot only with the issues of
its series, through the fake WeCom robot webhook. Both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.clock import FixedClock
from bot.config import ConfigError, Settings, load_settings
from bot.delivery.engine import DeliveryEngine
from bot.platforms.wecom.push import WecomPush
from bot.platforms.wecom.robots import robot_chat_id, robot_keys, sync_robots
from bot.platforms.wecom.sender import WecomSender
from bot.publish.cycle import build_cycle
from bot.publish.results import Publication
from bot.runtime import Runtime, open_runtime
from storage.subscribers import ALL, Subscription, get_subscriber, series_key
from tests.fakes.wechat_server import FakeWeChatServer
from tests.publish.helpers import KEY, briefing
from tests.publish.test_series_cycle import TUESDAY, delivered, weekly
from tests.wechat.helpers import ROBOT_KEY

GADGETS_ONLY, DEFAULT, BOTH = ROBOT_KEY, "fake-robot-default", "fake-robot-both"
CHIPS, RELEASES = Subscription("topic", "chips"), Subscription("topic", "releases")
NOTHING: tuple[Subscription, ...] = ()


def two_series(
    db_url: str,
    root: Path,
    robots: list[dict[str, Any]],
    *,
    gadgets_default: bool = False,
    wecom_url: str = "http://127.0.0.1:9",  # nothing listens: the sync sends nothing
) -> Settings:
    """The Embedded AI briefing (primary) and an English weekly with its own topics."""
    files = {"eai": {f"{KEY}.md": briefing()}, "gadgets": {"issue-51.md": weekly(51, "X")}}
    for name, texts in files.items():
        (root / name).mkdir(exist_ok=True)
        for file, text in texts.items():
            (root / name / file).write_text(text, encoding="utf-8")
    source = {"kind": "folder", "interval_seconds": 60}
    releases = {"en": "Releases", "zh": "发布", "keywords": ["release", "released"]}
    return Settings.model_validate(
        {
            "storage": {"url": db_url},
            "publish": {"settle_minutes": 0},
            "series": [
                {
                    "slug": "embedded-ai",
                    "sources": [{**source, "name": "eai", "path": str(root / "eai")}],
                },
                {
                    "slug": "gadgets",
                    "title": "This Week in Gadgets",
                    "languages": ["en"],
                    "layout": "this-week-in",
                    "default_subscription": gadgets_default,
                    "topics": {"releases": releases},
                    "sources": [{**source, "name": "gadgets", "path": str(root / "gadgets")}],
                },
            ],
            "wecom": {"base_url": wecom_url, "robots": robots},
        }
    )


async def following(runtime: Runtime, key: str) -> dict[str, tuple[Subscription, ...]]:
    """Series slug -> the robot's subscriptions there (empty: not following it)."""
    found = {}
    async with runtime.sessions() as session:
        for view in runtime.each_series():
            slug = view.series.slug
            subscriber = await get_subscriber(
                session, "wecom", robot_chat_id(key), series=series_key(slug, runtime.primary_slug)
            )
            assert subscriber is not None
            found[slug] = subscriber.subscriptions
    return found


# --- config ---------------------------------------------------------------------------

TWO_TOML = """
[[series]]
slug = "embedded-ai"
[[series.sources]]
kind = "folder"
name = "eai"
path = "eai"

[[series]]
slug = "gadgets"
[[series.sources]]
kind = "folder"
name = "gadgets"
path = "gadgets"
"""


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_a_robot_names_configured_series(tmp_path: Path) -> None:
    robots = (
        '[[wecom.robots]]\nkey = "first-secret-key"\n'
        '[[wecom.robots]]\nkey = "second-secret-key"\nseries = ["gadgets", "embedded-ai"]\n'
    )
    settings = load(tmp_path, TWO_TOML + robots)
    assert [r.series for r in settings.wecom.robots] == [[], ["gadgets", "embedded-ai"]]
    one = load(tmp_path, '[[wecom.robots]]\nkey = "k"\nseries = ["embedded-ai"]\n')
    assert one.wecom.robots[0].series == ["embedded-ai"]


def test_an_unknown_series_is_one_line_naming_the_robot_and_the_series(tmp_path: Path) -> None:
    robots = (
        '[[wecom.robots]]\nkey = "first-secret-key"\nseries = ["gadgets"]\n'
        '[[wecom.robots]]\nkey = "second-secret-key"\nseries = ["embedded-ai", "gadgtes"]\n'
    )
    with pytest.raises(ConfigError) as info:
        load(tmp_path, TWO_TOML + robots)
    message = str(info.value)
    assert "\n" not in message and "secret-key" not in message
    assert "wecom.robots.1.series: unknown series 'gadgtes'; configured: embedded-ai, gadgets" in (
        message
    )
    # One [series] table: its slug is the only one.
    with pytest.raises(ConfigError, match=r"wecom\.robots\.0\.series: .*configured: embedded-ai$"):
        load(tmp_path, '[[wecom.robots]]\nkey = "k"\nseries = ["gadgets"]\n')


# --- the sync -------------------------------------------------------------------------


async def test_each_robot_gets_its_series_and_loses_the_ones_it_left(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    robots = [
        {"key": GADGETS_ONLY, "series": ["gadgets"]},
        {"key": DEFAULT},  # the series of default_subscription: the primary only here
        {"key": BOTH, "topics": ["chips", "releases"], "series": ["embedded-ai", "gadgets"]},
        # gadgets knows no `chips`, but the robot asked for gadgets by name: all of it
        {"key": "fake-robot-chips", "topics": ["chips"], "series": ["gadgets"]},
        {"key": "fake-robot-chips-default", "topics": ["chips"]},
        {"key": "fake-robot-typo", "topics": ["chipz"]},  # no series knows it: nothing
    ]
    async with open_runtime(two_series(db_url, tmp_path, robots)) as runtime:
        assert await sync_robots(runtime) == 6
        [warning] = [r.getMessage() for r in caplog.records if "no series knows" in r.getMessage()]
        assert warning == "wecom.robots.5: no series knows chipz"
        assert await following(runtime, "fake-robot-typo") == {"embedded-ai": (), "gadgets": ()}
        assert await following(runtime, GADGETS_ONLY) == {"embedded-ai": (), "gadgets": (ALL,)}
        assert await following(runtime, DEFAULT) == {"embedded-ai": (ALL,), "gadgets": ()}
        assert await following(runtime, BOTH) == {
            "embedded-ai": (CHIPS,),
            "gadgets": (RELEASES,),
        }
        assert await following(runtime, "fake-robot-chips") == {
            "embedded-ai": (),
            "gadgets": (ALL,),
        }

    # Edited config: the gadgets robot moves to the primary series, the weekly becomes a
    # default one (so the default robot follows it too; the chips one does not: gadgets
    # knows none of its topics and it did not name gadgets).
    robots = [
        {"key": GADGETS_ONLY, "series": ["embedded-ai"]},
        {"key": DEFAULT},
        {"key": "fake-robot-chips-default", "topics": ["chips"]},
    ]
    settings = two_series(db_url, tmp_path, robots, gadgets_default=True)
    async with open_runtime(settings) as runtime:
        await sync_robots(runtime)
        assert await following(runtime, GADGETS_ONLY) == {"embedded-ai": (ALL,), "gadgets": ()}
        assert await following(runtime, DEFAULT) == {"embedded-ai": (ALL,), "gadgets": (ALL,)}
        assert await following(runtime, "fake-robot-chips-default") == {
            "embedded-ai": (CHIPS,),
            "gadgets": (),
        }
        async with runtime.sessions() as session:
            removed = await get_subscriber(session, "wecom", robot_chat_id(BOTH))
        assert removed is not None and not removed.active

    # The weekly is no longer configured at all: no robot keeps subscriptions to it.
    one = settings.model_copy(update={"series": [settings.primary_series]})
    async with open_runtime(one) as runtime:
        await sync_robots(runtime)
        assert await following(runtime, DEFAULT) == {"embedded-ai": (ALL,)}
        async with runtime.sessions() as session:
            left = await get_subscriber(session, "wecom", robot_chat_id(DEFAULT), series="gadgets")
        assert left is not None and left.subscriptions == NOTHING


# --- end to end -----------------------------------------------------------------------


async def test_a_two_series_publication_reaches_each_robot_with_its_series(
    db_url: str, tmp_path: Path, wechat_server: FakeWeChatServer
) -> None:
    for key in (DEFAULT, BOTH):
        wechat_server.wecom.add_robot(key)
    robots = [
        {"key": GADGETS_ONLY, "series": ["gadgets"]},
        {"key": DEFAULT},
        {"key": BOTH, "topics": ["chips", "releases"], "series": ["embedded-ai", "gadgets"]},
    ]
    settings = two_series(db_url, tmp_path, robots, wecom_url=wechat_server.wecom_base_url)
    async with open_runtime(settings) as runtime:
        await sync_robots(runtime)  # as every start does, before anything is published
        cycle = build_cycle(runtime, FixedClock(TUESDAY))
        await cycle.poll_all(force=True)
        assert isinstance(await cycle.publisher.publish(KEY), Publication)
        assert isinstance(await cycle.publisher.publish(51, series="gadgets"), Publication)
        chats = {key: robot_chat_id(key) for key in (GADGETS_ONLY, DEFAULT, BOTH)}
        assert await delivered(runtime) == {
            f"embedded-ai {KEY}": {chats[DEFAULT], chats[BOTH]},
            "gadgets #51": {chats[GADGETS_ONLY], chats[BOTH]},
        }
        w = runtime.settings.wecom
        async with aiohttp.ClientSession() as http:
            sender = WecomSender(None, None, robot_keys(w), w.base_url, http)
            engine = DeliveryEngine(
                runtime.sessions, {"wecom": WecomPush(sender)}, runtime.settings.delivery
            )
            report = await engine.run_until_idle()
    assert report.deliveries_sent == 4
    got = {key: "\n".join(wechat_server.wecom.robot_messages(key)) for key in chats}
    # The weekly's robot: its news and tool, nothing of the briefing.
    assert "Gadget" in got[GADGETS_ONLY] and "gadget-lint" in got[GADGETS_ONLY]
    assert "骁龙" not in got[GADGETS_ONLY] and "嵌入式AI简报" not in got[GADGETS_ONLY]
    # The default robot: all of the briefing, nothing of the weekly.
    assert "骁龙" in got[DEFAULT] and "融资" in got[DEFAULT] and "剪枝" in got[DEFAULT]
    assert "gadget" not in got[DEFAULT].lower()
    # Topics per series: the briefing's chips news, the weekly's release news only.
    assert "骁龙" in got[BOTH] and "融资" not in got[BOTH] and "剪枝" not in got[BOTH]
    assert "release 51" in got[BOTH] and "gadget-lint" not in got[BOTH]
