"""An English reader on the Official Account, end to end on the local WeChat server
(issue 14): the subscription model under "all" (replies and tags follow it), English
section names and plurals, the help for a text that is no command, word-aware search."""

from __future__ import annotations

from bot.platforms.wechat.tags import tag_name
from bot.runtime import Runtime
from storage.subscribers import get_subscriber
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.helpers import event_fields, official_callback
from tests.wechat.test_official_account import (
    OPENID,
    WebService,
    counting,
    exchange,
    say,
    settle,
    web,
)

__all__ = ["counting", "web"]


async def tags(web: WebService, server: FakeWeChatServer) -> set[str]:
    await settle(web)
    return {server.mp.tags[t] for t in server.mp.followers[OPENID].tags}


async def test_an_english_follower_session(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime
) -> None:
    wechat_server.mp.add_follower(OPENID, interacted="subscribe")
    await exchange(web, official_callback(event_fields(OPENID, "subscribe")), "safe")
    chosen = await say(web, wechat_server, "/settings lang en")
    assert "Language: English" in chosen

    latest = await say(web, wechat_server, "/latest")
    assert "• Applications — 1 entry" in latest and "• Papers — 3 entries" in latest
    assert "业界新闻" not in latest and "— 1 entries" not in latest

    included = await say(web, wechat_server, "/subscribe chips")
    assert "Already included: Chips (you get everything)" in included
    assert await tags(web, wechat_server) == {tag_name("all")}

    left = await say(web, wechat_server, "/unsubscribe chips")
    current = left.split("Currently subscribed to: ")[1].split("\n")[0]
    assert current.startswith("Industry news, Papers, ") and "Chips" not in current
    now = await tags(web, wechat_server)
    assert tag_name("all") not in now and tag_name("topic:chips") not in now
    assert {tag_name("section:papers"), tag_name("topic:quantization")} <= now

    # No buttons here: the adapter answers a text that is no command with the help.
    assert (await say(web, wechat_server, "9")).startswith("Commands with examples:")

    found = await say(web, wechat_server, "/search 量化")
    assert found.startswith("【Search “量化”】\n11 results · page 1 of 3")
    assert '1. <a href="https://example.com/juejin/qat-mobilenet">量化感知训练实践' in found
    assert "向量化" not in found  # page 1: real 量化 entries, none about 向量化

    gone = await say(web, wechat_server, "/unsubscribe all")
    assert "Unsubscribed from everything: every section and topic." in gone
    assert await tags(web, wechat_server) == set()
    async with runtime.sessions() as session:
        subscriber = await get_subscriber(session, "wechat", OPENID)
    assert subscriber is not None and subscriber.language == "en"
    assert subscriber.subscriptions == ()
