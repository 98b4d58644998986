"""The Official Account carries several series: each series has its own tags (`bb:all`
for the primary one, `bb:gadgets/all`, ... for another), a follower carries the tags of
every series it follows, and an issue's mass sends go to its own series' tags only.
Against the fake WeChat API (100 tags an account, 20 a follower), both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.commands import Core, CoreDeps
from bot.delivery.engine import DeliveryEngine
from bot.platforms.wechat.campaign import WechatCampaign, china_day
from bot.platforms.wechat.tags import (
    TAGS_PER_FOLLOWER,
    TagBudgetError,
    TagSync,
    fit_follower,
    mass_series,
    tag_name,
    within_budget,
)
from bot.publish.cycle import build_cycle
from bot.publish.mass import part_names, qualified, render_part, split_part
from bot.publish.results import Publication
from bot.runtime import Runtime, open_runtime
from bot.web.service import official_api, open_web_service
from briefings.taxonomy import SectionSpec, Taxonomy, TopicRule
from formatters import EN, WeChatRenderer
from storage.issues import find_numbered_id
from storage.subscribers import ALL, Subscription, get_or_create, set_subscriptions
from tests.fakes.wechat_mp import MpConfig
from tests.fakes.wechat_server import FakeWeChatServer
from tests.publish.helpers import KEY
from tests.publish.test_series_cycle import TUESDAY
from tests.wechat.helpers import (
    WECHAT_MAX,
    event_fields,
    official_callback,
    settings_for,
    text_fields,
    utf8_len,
)
from tests.wechat.test_campaign import campaign, mass_by_tag, push, stored_parts
from tests.wechat.test_official_account import exchange
from tests.wechat.test_robot_series import two_series
from tests.wechat.test_units import big_issue

PAPERS = Subscription("section", "papers")
RELEASES = Subscription("topic", "releases")
FOLLOWERS: dict[str, dict[str, tuple[Subscription, ...]]] = {  # openid -> series -> subs
    "o-eai": {"": (ALL,)},
    "o-gadgets": {"gadgets": (ALL,)},
    "o-both": {"": (PAPERS,), "gadgets": (RELEASES,)},
}


# --- names and limits -----------------------------------------------------------------


def test_another_series_parts_carry_its_key_and_the_primary_ones_do_not() -> None:
    taxonomy = Taxonomy.default()
    assert part_names(taxonomy)[:2] == ["all", "section:news"]
    assert part_names(taxonomy, "gadgets")[:2] == ["gadgets/all", "gadgets/section:news"]
    assert split_part("gadgets/section:news") == ("gadgets", "section:news")
    assert split_part("gadgets/all") == ("gadgets", "all")
    assert split_part("all") == ("", "all")
    assert split_part("topic:a/b") == ("", "topic:a/b")  # a key's '/' names no series
    assert split_part(qualified("topic:a/b", "g")) == ("g", "topic:a/b")
    assert len(tag_name("a-thirty-two-character-long-slug/topic:quantization").encode()) <= 30


def test_a_follower_over_twenty_tags_gets_whole_series_instead() -> None:
    primary = {f"topic:t{i}" for i in range(12)}
    gadgets = {qualified(f"topic:g{i}", "gadgets") for i in range(15)}
    small = {qualified("section:news", "tools"), qualified("topic:x", "tools")}
    fitted = fit_follower(primary | gadgets | small)
    # the series with the most parts first becomes its `all`; then the limit holds
    assert fitted == primary | {"gadgets/all"} | small
    assert fit_follower(primary | small) == primary | small  # within the limit: unchanged
    many = {qualified(ALL.kind, f"s{i:02}") for i in range(25)}
    assert len(fit_follower(many)) == TAGS_PER_FOLLOWER  # more series than tags


def test_series_needing_more_tags_than_an_account_has_are_refused() -> None:
    default = Taxonomy.default()
    rules = tuple(TopicRule(f"t{i}", f"话题{i}", f"topic {i}", (f"k{i}",)) for i in range(60))
    topics = Taxonomy(default.sections, rules)
    with pytest.raises(TagBudgetError, match=r"need 1\d\d tags .* at most 100"):
        TagSync(None, None, [("", topics), ("gadgets", topics)])  # type: ignore[arg-type]


def test_sections_beyond_the_account_tags_go_without_and_nothing_stops() -> None:
    default = Taxonomy.default()
    rules = tuple(TopicRule(f"t{i}", f"话题{i}", f"topic {i}", (f"k{i}",)) for i in range(60))
    sections = tuple(SectionSpec(f"s{i}", f"栏目{i}", f"Section {i}") for i in range(30))
    many = Taxonomy(sections, rules)
    parts = within_budget([("", default), ("gadgets", many)])
    assert len(parts) == 100
    assert set(part_names(default)) <= set(parts)  # the first series whole
    assert {qualified(f"topic:t{i}", "gadgets") for i in range(60)} <= set(parts)
    fixed = 2 + len(default.topics) + 60  # each series' all and topics
    last = 100 - fixed - len(default.sections) - 1  # the last section with a tag
    assert "gadgets/all" in parts and f"gadgets/section:s{last}" in parts
    assert f"gadgets/section:s{last + 1}" not in parts
    # a follower of a section without a tag carries its series' `all`
    tags = TagSync(None, None, [("", default), ("gadgets", many)])  # type: ignore[arg-type]
    assert tags.parts == parts


def test_a_trimmed_part_of_another_series_names_the_series_in_its_reply_command() -> None:
    taxonomy = Taxonomy.default()
    text = render_part(WeChatRenderer(), big_issue(40), "gadgets/section:papers", taxonomy)
    assert text is not None and "回复“最新 gadgets 论文”查看全部" in text
    text = render_part(WeChatRenderer(), big_issue(40), "gadgets/all", taxonomy)
    assert text is not None and "回复“最新 gadgets”查看全部" in text


def test_an_english_series_parts_are_english() -> None:
    taxonomy = Taxonomy.default()
    issue = big_issue(40)
    renderer = WeChatRenderer(EN)
    text = render_part(renderer, issue, "gadgets/section:papers", taxonomy, "en")
    assert text is not None and utf8_len(text) <= WECHAT_MAX
    assert "(Only " in text and "of 40 entries fit here. Reply “latest gadgets Papers”" in text
    assert "篇幅" not in text and "论文" not in text  # the section is named in English
    small = render_part(renderer, big_issue(2), "gadgets/all", taxonomy, "en")
    assert small is not None and "【Papers】" in small and "【论文】" not in small


# --- two series on the fake account -----------------------------------------------------


@pytest.fixture
def wechat_server(make_wechat_server: Callable[..., FakeWeChatServer]) -> FakeWeChatServer:
    return make_wechat_server(mp_config=MpConfig(mass_daily_quota=10))


@pytest.fixture
async def runtime(
    db_url: str, tmp_path: Path, wechat_server: FakeWeChatServer
) -> AsyncIterator[Runtime]:
    settings = two_series(db_url, tmp_path, robots=[])
    wechat = settings_for(wechat_server).wechat
    async with open_runtime(settings.model_copy(update={"wechat": wechat})) as runtime:
        yield runtime


async def follow(runtime: Runtime, server: FakeWeChatServer) -> None:
    async with runtime.sessions.begin() as session:
        for openid, per_series in FOLLOWERS.items():
            subscriber, _ = await get_or_create(session, "wechat", openid, kind="user")
            for series in ("", "gadgets"):
                chosen = per_series.get(series, ())
                await set_subscriptions(session, subscriber.id, chosen, series=series)
            server.mp.add_follower(openid, interacted=None)  # no 客服 window: mass only


async def publish_both(runtime: Runtime) -> None:
    cycle = build_cycle(runtime, FixedClock(TUESDAY))
    await cycle.poll_all(force=True)
    assert isinstance(await cycle.publisher.publish(KEY), Publication)
    assert isinstance(await cycle.publisher.publish(51, series="gadgets"), Publication)


async def test_each_series_issue_goes_to_its_own_tags(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    await follow(runtime, wechat_server)
    await publish_both(runtime)
    assert [key for key, _ in mass_series(runtime)] == ["", "gadgets"]
    engine = DeliveryEngine(
        runtime.sessions, {"wechat": campaign(runtime, wechat_server)}, runtime.settings.delivery
    )
    reports = (await engine.run_until_idle()).campaigns
    # one campaign per issue: a series' issue never supersedes another series' issue
    assert len(reports) == 2 and all(r.finished for r in reports), reports
    assert mass_by_tag(wechat_server) == {
        tag_name("all"): [{"o-eai"}],
        tag_name("section:papers"): [{"o-both"}],
        tag_name("gadgets/all"): [{"o-gadgets"}],
        tag_name("gadgets/topic:releases"): [{"o-both"}],
    }
    mp = wechat_server.mp
    texts = {mp.tags[m.meta["tag_id"]]: m.content for m in mp.sent("mass")}
    assert "Gadget" in texts[tag_name("gadgets/all")] and "gadget-lint" in texts["bb:gadgets/all"]
    assert "release 51" in texts[tag_name("gadgets/topic:releases")]
    assert "Overview: Hello" in texts[tag_name("gadgets/all")]  # the weekly is English
    assert "导读：本期" in texts[tag_name("all")]  # the briefing Chinese
    assert "gadget-lint" not in texts[tag_name("gadgets/topic:releases")]
    for name in (tag_name("all"), tag_name("section:papers")):
        assert "Gadget" not in texts[name] and "gadget" not in texts[name]
    # every follower carries the tags of the series it follows, and nothing else
    carried = {f.openid: {mp.tags[t] for t in f.tags} for f in mp.followers.values()}
    assert carried == {
        "o-eai": {"bb:all"},
        "o-gadgets": {"bb:gadgets/all"},
        "o-both": {"bb:section:papers", "bb:gadgets/topic:releases"},
    }
    # what went out is what each issue's publication stored, under its series' part names
    async with runtime.sessions() as session:
        weekly = await find_numbered_id(session, "gadgets", 51)
    assert weekly is not None
    assert set(await stored_parts(runtime, weekly)) == {"gadgets/all", "gadgets/topic:releases"}
    assert await push(runtime, campaign(runtime, wechat_server)) is None  # nothing twice


async def test_a_section_without_a_tag_yet_reaches_its_followers_whole(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    """A free-heading series' section first seen after the tags were built has no tag:
    its followers carry the series' `all` meanwhile and get the whole issue, once."""
    tags = TagSync.for_runtime(official_api(runtime), runtime)  # before any issue
    assert "gadgets/section:tool-of-the-week" not in tags.parts
    async with runtime.sessions.begin() as session:
        subscriber, _ = await get_or_create(session, "wechat", "o-new", kind="user")
        new = (Subscription("section", "tool-of-the-week"),)
        await set_subscriptions(session, subscriber.id, new, series="gadgets")
    wechat_server.mp.add_follower("o-new", interacted=None)
    await publish_both(runtime)
    engine = DeliveryEngine(
        runtime.sessions,
        {
            "wechat": WechatCampaign(
                official_api(runtime),
                tags,
                runtime.sessions,
                runtime.settings.wechat,
                today=lambda: china_day(wechat_server.clock.now()),
            )
        },
        runtime.settings.delivery,
    )
    await engine.run_until_idle()
    assert mass_by_tag(wechat_server) == {tag_name("gadgets/all"): [{"o-new"}]}
    (sent,) = wechat_server.mp.sent("mass")
    assert "gadget-lint" in sent.content and "Tool of the week" in sent.content


async def test_choosing_a_series_in_the_chat_retags_the_follower(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    openid = "o-chooser"
    wechat_server.mp.add_follower(openid, interacted="message")
    async with open_web_service(runtime, Core(CoreDeps.from_runtime(runtime))) as web:
        assert web.wechat is not None
        await exchange(web, official_callback(event_fields(openid, "subscribe")), "safe")
        chosen = official_callback(text_fields(openid, "系列 gadgets"))
        reply = await exchange(web, chosen, "safe")
        assert reply is not None and "已订阅「This Week in Gadgets」" in str(reply["Content"])
        assert "按钮" not in str(reply["Content"])  # no buttons here: the commands say it
        helped = await exchange(web, official_callback(text_fields(openid, "帮助")), "safe")
        assert helped is not None and "例：系列 gadgets" in str(helped["Content"])
        await web.wechat.drain()
        mp = wechat_server.mp
        assert {mp.tags[t] for t in mp.followers[openid].tags} == {"bb:all", "bb:gadgets/all"}
        wechat_server.mp.user_interacted(openid, "message")
        await exchange(web, official_callback(text_fields(openid, "系列 gadgets")), "safe")
        await web.wechat.drain()
        assert {mp.tags[t] for t in mp.followers[openid].tags} == {"bb:all"}


# --- the account's limits on the fake account ---------------------------------------


def topics(count: int) -> Taxonomy:
    rules = tuple(TopicRule(f"g{i}", f"话题{i}", f"topic {i}", (f"k{i}",)) for i in range(count))
    return Taxonomy(Taxonomy.default().sections, rules)


async def subscribe(runtime: Runtime, openid: str, series: str, subs: list[Subscription]) -> None:
    async with runtime.sessions.begin() as session:
        subscriber, _ = await get_or_create(session, "wechat", openid, kind="user")
        await set_subscriptions(session, subscriber.id, subs, series=series)


def carried(server: FakeWeChatServer, openid: str) -> set[str]:
    mp = server.mp
    return {mp.tags[t] for t in mp.followers[openid].tags}


async def test_a_follower_at_twenty_tags_trades_a_series_parts_for_its_all(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    api = official_api(runtime)
    assert api is not None
    tags = TagSync(api, runtime.sessions, [("", Taxonomy.default()), ("gadgets", topics(16))])
    wechat_server.mp.add_follower("o-many", interacted=None)
    sections = [Subscription("section", s.key) for s in Taxonomy.default().sections]
    await subscribe(runtime, "o-many", "", [*sections, CHIPS := Subscription("topic", "chips")])
    gadgets = [Subscription("topic", f"g{i}") for i in range(16)]
    at_limit = 20 - len(sections) - 1
    await subscribe(runtime, "o-many", "gadgets", gadgets[:at_limit])
    await tags.sync_user("o-many")
    assert len(carried(wechat_server, "o-many")) == 20  # WeChat's limit, reached
    await subscribe(runtime, "o-many", "gadgets", gadgets[: at_limit + 1])  # one more
    await tags.sync_user("o-many")
    own = {tag_name(s.kind + ":" + s.key) for s in [*sections, CHIPS]}
    assert carried(wechat_server, "o-many") == own | {"bb:gadgets/all"}
    # the full reconciliation reaches the same, without a refused call
    await subscribe(runtime, "o-many", "gadgets", gadgets[:at_limit])
    await tags.sync_user("o-many")
    await subscribe(runtime, "o-many", "gadgets", gadgets[: at_limit + 1])
    await tags.sync_all()
    assert carried(wechat_server, "o-many") == own | {"bb:gadgets/all"}
    assert [r for r in wechat_server.mp.requests if r.errcode == 45059] == []


async def test_a_series_with_an_untagged_section_is_its_all_alone(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    """A known section beside one without a tag would send that section twice (in its
    own part and in `all`): the whole series goes by `all` alone."""
    api = official_api(runtime)
    assert api is not None
    tags = TagSync.for_runtime(api, runtime)
    wechat_server.mp.add_follower("o-mixed", interacted=None)
    releases, new = Subscription("topic", "releases"), Subscription("section", "brand-new")
    await subscribe(runtime, "o-mixed", "gadgets", [releases, new])
    await tags.sync_user("o-mixed")
    assert carried(wechat_server, "o-mixed") == {"bb:gadgets/all"}


async def test_stale_tags_are_deleted_and_a_full_account_does_not_stop_the_sync(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    api = official_api(runtime)
    assert api is not None
    mp = wechat_server.mp
    for name in ("bb:gadgets/section:gone", "bb:old-series/all", "VIP"):  # the last: not ours
        mp.tags[len(mp.tags) + 500] = name
    tags = TagSync.for_runtime(api, runtime)
    parts = len(tags.parts)
    mp.config.max_tags = parts  # with "VIP", one part finds no tag left
    wechat_server.mp.add_follower("o-news", interacted=None)
    await subscribe(runtime, "o-news", "gadgets", [Subscription("topic", "releases")])
    members = await tags.sync_all()
    names = set(mp.tags.values())
    assert "VIP" in names and not names & {"bb:gadgets/section:gone", "bb:old-series/all"}
    assert len(members) == parts - 1  # the last part (a topic of gadgets) has no tag
    assert carried(wechat_server, "o-news") == {"bb:gadgets/all"}  # its series' all instead


async def test_a_stale_tag_wechat_refuses_to_delete_does_not_stop_the_sync(
    runtime: Runtime, wechat_server: FakeWeChatServer
) -> None:
    """WeChat refuses to delete a tag with over 100,000 followers (45057): the tag stays
    (and is untagged like any stale one later), the sync goes on."""
    api = official_api(runtime)
    assert api is not None
    mp = wechat_server.mp
    stale = len(mp.tags) + 900
    mp.tags[stale] = "bb:gadgets/section:gone"
    mp.add_follower("o-old", interacted=None).tags.add(stale)
    mp.config.tag_delete_max_followers = 0  # as a tag of 100,001 followers would be
    await subscribe(runtime, "o-old", "gadgets", [Subscription("topic", "releases")])
    tags = TagSync.for_runtime(api, runtime)
    members = await tags.sync_all()
    assert members[qualified("topic:releases", "gadgets")] == 1
    assert mp.tags[stale] == "bb:gadgets/section:gone"
    assert [r.errcode for r in mp.requests if r.errcode == 45057] == [45057]
