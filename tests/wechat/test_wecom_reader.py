"""A WeCom member's side of issue 14, end to end on the local WeCom server, in Chinese
and English: "all" is a state every reply follows, the rest is listed in the issue's
order, /latest in English names sections in English with correct plurals, and a search
for 量化 leads with real 量化 entries."""

from __future__ import annotations

from bot.runtime import Runtime
from storage.subscribers import ALL, get_subscriber
from tests.fakes.wechat_server import FakeWeChatServer
from tests.wechat.helpers import WECOM_APP_MAX, client_for, post, utf8_len, wecom_callback
from tests.wechat.helpers import wecom_fields as fields
from tests.wechat.test_wecom import PATH, WebService, web

__all__ = ["web"]


async def conversation(web: WebService, server: FakeWeChatServer, *texts: str) -> list[str]:
    """A member follows the app and writes `texts`; every answer, one per text."""
    server.wecom.add_members("lisi")
    follow = {**fields("lisi", ""), "MsgType": "event", "Event": "subscribe"}
    del follow["MsgId"], follow["Content"]
    answers: list[str] = []
    async with client_for(web.app) as client:
        for payload in (follow, *(fields("lisi", text) for text in texts)):
            before = len(server.wecom.inbox("lisi"))
            response = await post(client, PATH, wecom_callback(payload))
            assert (response.status_code, response.text) == (200, "")
            assert web.wecom is not None
            await web.wecom.drain()
            answers.append("\n".join(server.wecom.inbox("lisi")[before:]))
    assert all(utf8_len(text) <= WECOM_APP_MAX for text in server.wecom.inbox("lisi"))
    return answers[1:]


async def test_a_member_on_everything_in_chinese(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime
) -> None:
    included, left, found, gone = await conversation(
        web, wechat_server, "订阅 芯片", "退订 论文", "搜索 量化", "退订 全部"
    )
    assert "已包含在内：芯片（你订阅的是全部栏目和标签）" in included
    assert (
        "当前订阅：业界新闻、开源项目、博文、应用、芯片、量化、模型压缩、推理框架、编译器、"
        "网络结构搜索、目标检测、轻量网络、微控制器"
    ) in left
    assert "量化感知训练实践" in found and "向量化" not in found  # page 1
    assert "已退订全部栏目和标签。" in gone
    async with runtime.sessions() as session:
        subscriber = await get_subscriber(session, "wecom", "lisi")
    assert subscriber is not None and subscriber.subscriptions == ()


async def test_a_member_on_everything_in_english(
    web: WebService, wechat_server: FakeWeChatServer, runtime: Runtime
) -> None:
    chosen, latest, included, left = await conversation(
        web, wechat_server, "/settings lang en", "/latest", "/subscribe chips", "/unsubscribe chips"
    )
    assert "Language: English" in chosen
    assert "**Applications** — 1 entry\n" in latest and "**Papers** — 3 entries" in latest
    assert "业界新闻" not in latest and "— 1 entries" not in latest
    assert "Already included: Chips (you get everything)" in included
    current = left.split("Currently subscribed to: ")[1].split("\n")[0]
    assert current.startswith("Industry news, Papers, ") and "Chips" not in current
    async with runtime.sessions() as session:
        subscriber = await get_subscriber(session, "wecom", "lisi")
    assert subscriber is not None and ALL not in subscriber.subscriptions
    assert subscriber.language == "en"
