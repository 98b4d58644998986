"""The real wechatpy clients (bot.platforms.wechat_common.clients) against the fake servers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import aiohttp
import pytest
import requests
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.exceptions import WeChatClientException

from bot.platforms.wechat_common.clients import (
    OFFICIAL_API_ROOT,
    OfficialAccountClient,
    WeComAppClient,
    make_official_client,
    make_wecom_client,
    send_mass_text_by_tag,
)
from tests.fakes import wechat_fixtures
from tests.fakes.wechat_mp import CHINA, DEFAULT_APPID, DEFAULT_SECRET, MpConfig
from tests.fakes.wechat_server import FakeWeChatServer
from tests.fakes.wechat_work import (
    DEFAULT_AGENTID,
    DEFAULT_CORPID,
    DEFAULT_CORPSECRET,
    DEFAULT_ROBOT_KEY,
    WecomConfig,
)

make_wechat_server = wechat_fixtures.make_wechat_server
wechat_server = wechat_fixtures.wechat_server
mp_client = wechat_fixtures.mp_client
wecom_client = wechat_fixtures.wecom_client

SEND = "/cgi-bin/message/custom/send"
TOKEN = "/cgi-bin/token"
HOUR = 3600


def errcode_of(call: Any, *args: Any, **kwargs: Any) -> int | None:
    with pytest.raises(WeChatClientException) as caught:
        call(*args, **kwargs)
    return caught.value.errcode


def paths(server_api: Any) -> list[tuple[str, int | None]]:
    return [(r.path, r.errcode) for r in server_api.requests]


# ---- Official Account: tokens ------------------------------------------------------


def test_token_is_fetched_once_and_sent_on_every_call(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    wechat_server.mp.add_follower("o1")
    mp_client.message.send_text("o1", "一")
    mp_client.message.send_text("o1", "二")
    assert len(wechat_server.mp.calls(TOKEN)) == 1
    sends = wechat_server.mp.calls(SEND)
    assert {r.query["access_token"] for r in sends} == {
        wechat_server.mp.tokens.latest(DEFAULT_APPID)
    }
    assert wechat_server.mp.inbox("o1") == ["一", "二"]


def test_bad_credentials_are_worded_like_the_real_api(wechat_server: FakeWeChatServer) -> None:
    wrong_secret = make_official_client(DEFAULT_APPID, "nope", wechat_server.mp_base_url)
    with pytest.raises(WeChatClientException) as caught:
        wrong_secret.fetch_access_token()
    assert caught.value.errcode == 40125
    assert caught.value.errmsg.startswith("invalid appsecret rid: ")
    unknown_app = make_official_client("wxunknown", DEFAULT_SECRET, wechat_server.mp_base_url)
    assert errcode_of(unknown_app.fetch_access_token) == 40013


def test_wechatpy_refetches_token_and_retries_after_40001(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    wechat_server.mp.add_follower("o1")
    wechat_server.mp.faults.inject(SEND, errcode=40001)
    assert mp_client.message.send_text("o1", "hi")["errcode"] == 0
    assert paths(wechat_server.mp) == [(TOKEN, None), (SEND, 40001), (TOKEN, None), (SEND, 0)]
    assert wechat_server.mp.inbox("o1") == ["hi"]


def test_server_side_expiry_answers_42001_and_wechatpy_recovers(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    wechat_server.mp.add_follower("o1")
    mp_client.message.send_text("o1", "before")
    wechat_server.clock.advance(7201)  # the client's own clock still thinks its token is fresh
    wechat_server.mp.user_interacted("o1")
    mp_client.message.send_text("o1", "after")
    assert paths(wechat_server.mp)[2:] == [(SEND, 42001), (TOKEN, None), (SEND, 0)]


def test_superseded_token_dies_after_grace_period(wechat_server: FakeWeChatServer) -> None:
    root = wechat_server.mp_base_url
    first = make_official_client(DEFAULT_APPID, DEFAULT_SECRET, root, auto_retry=False)
    second = make_official_client(DEFAULT_APPID, DEFAULT_SECRET, root)  # another process
    wechat_server.mp.add_follower("o1")
    first.message.send_text("o1", "a")
    second.message.send_text("o1", "b")  # rotates the token; first's is valid 300 s more
    first.message.send_text("o1", "c")
    wechat_server.clock.advance(301)
    with pytest.raises(WeChatClientException) as caught:
        first.message.send_text("o1", "d")
    assert caught.value.errcode == 40001
    assert caught.value.errmsg.startswith(
        "invalid credential, access_token is invalid or not latest"
    )
    assert wechat_server.mp.inbox("o1") == ["a", "b", "c"]


def test_wechatpy_retry_has_no_limit(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    wechat_server.mp.add_follower("o1")
    wechat_server.mp.faults.inject(SEND, errcode=42001, times=3)
    mp_client.message.send_text("o1", "hi")
    assert len(wechat_server.mp.calls(TOKEN)) == 4  # first fetch + one per rejected call
    assert [r.errcode for r in wechat_server.mp.calls(SEND)] == [42001, 42001, 42001, 0]


def test_missing_or_bogus_token_without_retry(wechat_server: FakeWeChatServer) -> None:
    raw = requests.post(f"{wechat_server.mp_base_url}/cgi-bin{SEND[8:]}", json={}, timeout=5).json()
    assert raw["errcode"] == 41001
    client = make_official_client(
        DEFAULT_APPID, DEFAULT_SECRET, wechat_server.mp_base_url, auto_retry=False
    )
    client.session.set(client.access_token_key, "FAKE_made_up")
    assert errcode_of(client.message.send_text, "o1", "x") == 40001


# ---- Official Account: customer-service messages --------------------------------------


def test_custom_message_needs_user_message_within_48h(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    wechat_server.mp.add_follower("o1")
    wechat_server.mp.add_follower("silent", interacted=None)
    wechat_server.clock.advance(48 * HOUR - 5)
    mp_client.message.send_text("o1", "just in time")
    wechat_server.clock.advance(10)
    with pytest.raises(WeChatClientException) as caught:
        mp_client.message.send_text("o1", "too late")
    assert caught.value.errcode == 45015
    assert caught.value.errmsg.startswith("response out of time limit or subscription is canceled")
    assert errcode_of(mp_client.message.send_text, "silent", "x") == 45015
    assert wechat_server.mp.inbox("o1") == ["just in time"]


def test_five_sends_per_user_message_then_45047_until_user_writes_again(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    wechat_server.mp.add_follower("o1")
    for i in range(5):
        mp_client.message.send_text("o1", f"m{i}")
    assert errcode_of(mp_client.message.send_text, "o1", "m5") == 45047
    wechat_server.mp.user_interacted("o1")
    mp_client.message.send_text("o1", "m6")
    assert wechat_server.mp.inbox("o1") == ["m0", "m1", "m2", "m3", "m4", "m6"]


def test_subscribe_opens_three_sends_for_one_minute(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    wechat_server.mp.add_follower("o1", interacted="subscribe")
    for i in range(3):
        mp_client.message.send_text("o1", f"w{i}")
    assert errcode_of(mp_client.message.send_text, "o1", "w3") == 45047
    wechat_server.mp.add_follower("o2", interacted="subscribe")
    wechat_server.clock.advance(61)
    assert errcode_of(mp_client.message.send_text, "o2", "late") == 45015


def test_custom_content_limit_counts_utf8_bytes(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    wechat_server.mp.add_follower("o1")
    mp_client.message.send_text("o1", "简" * 682)  # 2046 bytes
    assert errcode_of(mp_client.message.send_text, "o1", "简" * 683) == 45002  # 2049 bytes
    link = '详见 <a href="https://example.com/a?b=1">原文</a>'
    mp_client.message.send_text("o1", link)
    assert wechat_server.mp.inbox("o1") == ["简" * 682, link]


def test_custom_message_to_strangers_and_unsubscribed(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    assert errcode_of(mp_client.message.send_text, "nobody", "x") == 40003
    wechat_server.mp.add_follower("o1")
    wechat_server.mp.unsubscribe("o1")
    assert errcode_of(mp_client.message.send_text, "o1", "x") == 45015


# ---- Official Account: tags and mass send ---------------------------------------------


def test_tag_create_get_and_limits(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    tag = mp_client.tag.create("嵌入式AI")
    assert tag["name"] == "嵌入式AI" and tag["id"] >= 100
    assert errcode_of(mp_client.tag.create, "嵌入式AI") == 45157
    assert errcode_of(mp_client.tag.create, "标" * 11) == 45158  # 33 bytes
    mp_client.tag.create("标" * 10)  # exactly 30 bytes
    names = {t["name"]: t["count"] for t in mp_client.tag.get()}
    assert names == {"星标组": 0, "嵌入式AI": 0, "标" * 10: 0}


def test_batch_tagging_limits(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    openids = [f"o{i:02d}" for i in range(51)]
    for openid in openids:
        wechat_server.mp.add_follower(openid, interacted=None)
    tag_id = mp_client.tag.create("daily")["id"]
    assert errcode_of(mp_client.tag.tag_user, tag_id, openids) == 40032
    assert errcode_of(mp_client.tag.tag_user, 999, openids[:2]) == 45159
    assert errcode_of(mp_client.tag.tag_user, tag_id, ["o00", "stranger"]) == 40003
    mp_client.tag.tag_user(tag_id, openids[:50])
    assert {t["id"]: t["count"] for t in mp_client.tag.get()}[tag_id] == 50
    mp_client.tag.untag_user(tag_id, openids[:10])
    assert list(mp_client.tag.iter_tag_users(tag_id)) == openids[10:50]
    assert mp_client.tag.get_user_tag("o10") == [tag_id]
    mp_client.tag.delete(tag_id)
    assert mp_client.tag.get_user_tag("o10") == []


def _tagged_audience(server: FakeWeChatServer, client: OfficialAccountClient) -> int:
    for openid in ("a", "b", "c"):
        server.mp.add_follower(openid, interacted=None)
    tag_id = client.tag.create("早报")["id"]
    client.tag.tag_user(tag_id, ["a", "b"])
    return tag_id


def test_mass_send_by_tag_reaches_only_tagged_followers_with_daily_quota(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    tag_id = _tagged_audience(wechat_server, mp_client)
    result = send_mass_text_by_tag(mp_client, tag_id, "今日简报")
    assert result["errmsg"] == "send job submission success"
    assert isinstance(result["msg_id"], int) and "msg_data_id" in result
    body = wechat_server.mp.calls("/cgi-bin/message/mass/sendall")[0].body
    assert body == {
        "filter": {"is_to_all": False, "tag_id": tag_id},
        "text": {"content": "今日简报"},
        "msgtype": "text",
    }
    [sent] = wechat_server.mp.sent("mass")
    assert sent.targets == ("a", "b") and sent.meta["tag_id"] == tag_id
    assert errcode_of(send_mass_text_by_tag, mp_client, tag_id, "again") == 45028
    _advance_to_next_china_day(wechat_server)
    send_mass_text_by_tag(mp_client, tag_id, "明日简报")
    assert wechat_server.mp.inbox("a") == ["今日简报", "明日简报"]


def _advance_to_next_china_day(server: FakeWeChatServer) -> None:
    now = server.clock.now()
    local = time.gmtime(now + CHINA.utcoffset(None).total_seconds())
    seconds_into_day = local.tm_hour * HOUR + local.tm_min * 60 + local.tm_sec
    server.clock.advance(86400 - seconds_into_day + 1)


def test_mass_send_rejects_legacy_group_id_that_wechatpy_sends(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    tag_id = _tagged_audience(wechat_server, mp_client)
    with pytest.raises(WeChatClientException) as caught:
        mp_client.message.send_mass_text(tag_id, "旧接口")
    assert caught.value.errcode == 40050
    assert "group_id" in wechat_server.mp.calls("/cgi-bin/message/mass/sendall")[0].body["filter"]
    assert wechat_server.mp.sent("mass") == []


def test_mass_send_validation(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    tag_id = _tagged_audience(wechat_server, mp_client)
    assert errcode_of(send_mass_text_by_tag, mp_client, 12345, "x") == 45159
    assert errcode_of(send_mass_text_by_tag, mp_client, tag_id, "x" * 2049) == 45002
    assert (
        errcode_of(send_mass_text_by_tag, mp_client, tag_id, "x", client_msg_id="k" * 65) == 45067
    )
    send_mass_text_by_tag(mp_client, tag_id, "x", client_msg_id="issue-42")
    with pytest.raises(WeChatClientException) as caught:
        send_mass_text_by_tag(mp_client, tag_id, "x", client_msg_id="issue-42")
    assert caught.value.errcode == 45065
    assert caught.value.response.json()["msg_id"] == wechat_server.mp.sent("mass")[0].meta["msg_id"]


def test_mass_quota_is_configurable(make_wechat_server: Any) -> None:
    server = make_wechat_server(mp_config=MpConfig(mass_daily_quota=3, token_ttl=600))
    client = make_official_client(DEFAULT_APPID, DEFAULT_SECRET, server.mp_base_url)
    tag_id = _tagged_audience(server, client)
    for i in range(3):
        send_mass_text_by_tag(client, tag_id, f"m{i}")
    assert errcode_of(send_mass_text_by_tag, client, tag_id, "m3") == 45028
    assert server.mp.calls(TOKEN)[0].status == 200


# ---- faults, plumbing ---------------------------------------------------------------


def test_http_500_fault_surfaces_as_errcode_none(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    wechat_server.mp.add_follower("o1")
    wechat_server.mp.faults.inject(SEND, http_status=500, times=2)
    for _ in range(2):
        with pytest.raises(WeChatClientException) as caught:
            mp_client.message.send_text("o1", "x")
        assert caught.value.errcode is None and caught.value.response.status_code == 500
    mp_client.message.send_text("o1", "ok")
    assert wechat_server.mp.inbox("o1") == ["ok"]


def test_hang_fault_times_out_client_but_server_still_delivers(
    wechat_server: FakeWeChatServer,
) -> None:
    client = make_official_client(DEFAULT_APPID, DEFAULT_SECRET, wechat_server.mp_base_url)
    # The token first, at the default timeout: at 0.3 s a loaded machine's token fetch
    # could time out instead of the hung send, which then never happened.
    assert client.access_token
    client.timeout = 0.3
    wechat_server.mp.add_follower("o1")
    wechat_server.mp.faults.inject(SEND, hang=30)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.message.send_text("o1", "maybe")
    wechat_server.release_hangs()
    deadline = time.monotonic() + 5
    while not wechat_server.mp.inbox("o1") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert wechat_server.mp.inbox("o1") == ["maybe"]  # the ambiguous "did it send?" case


def test_wrong_method_and_unknown_path(wechat_server: FakeWeChatServer) -> None:
    root = wechat_server.mp_base_url
    assert requests.get(f"{root}{SEND}", timeout=5).json()["errcode"] == 43002
    assert requests.post(f"{root}/cgi-bin/token", timeout=5).json()["errcode"] == 43001
    assert requests.get(f"{root}/cgi-bin/nope", timeout=5).status_code == 404


def test_factories_leave_no_endpoint_on_the_real_hosts(wechat_server: FakeWeChatServer) -> None:
    root = wechat_server.mp_base_url
    client = make_official_client(DEFAULT_APPID, DEFAULT_SECRET, root + "/")
    bases = _endpoint_bases(client)
    assert bases[0] == root + "/cgi-bin/"
    assert len(bases) > 10
    assert not [b for b in bases if b.startswith(OFFICIAL_API_ROOT)]
    assert root + "/datacube/" in bases
    untouched = _endpoint_bases(make_official_client(DEFAULT_APPID, DEFAULT_SECRET))
    assert OFFICIAL_API_ROOT + "/datacube/" in untouched
    with pytest.raises(ValueError):
        make_wecom_client(DEFAULT_CORPID, DEFAULT_CORPSECRET, "qyapi.weixin.qq.com")


def _endpoint_bases(client: Any) -> list[str]:
    found = [client.API_BASE_URL]
    pending = [v for v in vars(client).values() if isinstance(v, BaseWeChatAPI)]
    while pending:
        api = pending.pop()
        found.append(getattr(api, "API_BASE_URL", None) or client.API_BASE_URL)
        pending.extend(v for v in vars(api).values() if isinstance(v, BaseWeChatAPI))
    return found


async def test_clients_work_from_asyncio_to_thread(
    wechat_server: FakeWeChatServer, mp_client: OfficialAccountClient
) -> None:
    for i in range(8):
        wechat_server.mp.add_follower(f"o{i}")
    sends = [asyncio.to_thread(mp_client.message.send_text, f"o{i}", f"hi {i}") for i in range(8)]
    results = await asyncio.gather(*sends)
    assert all(r["errcode"] == 0 for r in results)
    assert sorted(m.targets[0] for m in wechat_server.mp.sent("custom")) == [
        f"o{i}" for i in range(8)
    ]


def test_standalone_entry_point_prints_base_urls() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.wechat_server", "--port", "0", "--follower", "o1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
        mp_root = lines[0].split()[4]
        client = make_official_client(DEFAULT_APPID, DEFAULT_SECRET, mp_root)
        assert client.message.send_text("o1", "hello")["errcode"] == 0
        assert lines[1].startswith("wecom base URL: http://127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(10)


def test_standalone_server_takes_limits_runs_on_the_wall_clock_and_shows_its_log() -> None:
    args = ["--port", "0", "--member", "u1", "--robot", "extra-key", "--robot-per-minute", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.wechat_server", *args, "--latency", "0.2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
        wecom_root = lines[1].split()[3]
        client = make_wecom_client(DEFAULT_CORPID, DEFAULT_CORPSECRET, wecom_root)
        started = time.monotonic()
        client.message.send(DEFAULT_AGENTID, ["u1"], msg=_markdown("a", enable_duplicate_check=1))
        assert time.monotonic() - started >= 0.4  # token fetch and send, 0.2 s each
        robot = f"{wecom_root}/cgi-bin/webhook/send?key=extra-key"
        body = _markdown("r")
        assert requests.post(robot, json=body, timeout=5).json()["errcode"] == 0
        assert requests.post(robot, json=body, timeout=5).json()["errcode"] == 45009
        messages = requests.get(f"{wecom_root}/_fake/messages", timeout=5).json()
        assert [(m["channel"], m["content"], m["targets"]) for m in messages] == [
            ("app", "a", ["u1"]),
            ("robot", "r", ["extra-key"]),
        ]
        assert abs(messages[0]["at"] - time.time()) < 10  # the wall clock, not a frozen one
        paths = [r["path"] for r in requests.get(f"{wecom_root}/_fake/requests", timeout=5).json()]
        assert (
            paths == ["/cgi-bin/gettoken", "/cgi-bin/message/send"] + ["/cgi-bin/webhook/send"] * 2
        )
    finally:
        proc.terminate()
        proc.wait(10)


# ---- WeCom application messages ---------------------------------------------------------


def test_wecom_gettoken_errors_and_stable_token(wechat_server: FakeWeChatServer) -> None:
    root = wechat_server.wecom_base_url
    bad_secret = make_wecom_client(DEFAULT_CORPID, "wrong", root)
    assert errcode_of(bad_secret.fetch_access_token) == 40001
    bad_corp = make_wecom_client("wwnobody", DEFAULT_CORPSECRET, root)
    with pytest.raises(WeChatClientException) as caught:
        bad_corp.fetch_access_token()
    assert caught.value.errcode == 40013
    assert (
        "more info at https://open.work.weixin.qq.com/devtool/query?e=40013" in caught.value.errmsg
    )
    client = make_wecom_client(DEFAULT_CORPID, DEFAULT_CORPSECRET, root)
    first = client.fetch_access_token()["access_token"]
    assert client.fetch_access_token()["access_token"] == first  # WeCom reuses until expiry


def test_wecom_markdown_to_a_batch_reports_invalid_users(
    wechat_server: FakeWeChatServer, wecom_client: WeComAppClient
) -> None:
    wechat_server.wecom.add_members("zhangsan", "lisi", "wangwu")
    result = wecom_client.message.send_markdown(
        DEFAULT_AGENTID, ["zhangsan", "ghost", "lisi"], "# 简报\n**要点**"
    )
    assert result["errcode"] == 0 and result["invaliduser"] == "ghost"
    [sent] = wechat_server.wecom.sent("app")
    assert sent.targets == ("zhangsan", "lisi") and sent.msgtype == "markdown"
    assert (
        wechat_server.wecom.calls("/cgi-bin/message/send")[0].body["touser"]
        == "zhangsan|ghost|lisi"
    )
    assert wechat_server.wecom.inbox("wangwu") == []
    wecom_client.message.send_text(DEFAULT_AGENTID, "@all", "全员")
    assert wechat_server.wecom.inbox("wangwu") == ["全员"]


def test_wecom_send_validation(
    wechat_server: FakeWeChatServer, wecom_client: WeComAppClient
) -> None:
    wechat_server.wecom.add_members("u1")
    send = wecom_client.message.send_markdown
    assert errcode_of(send, DEFAULT_AGENTID, ["u1"], "简" * 683) == 45002
    assert errcode_of(send, DEFAULT_AGENTID, [f"u{i}" for i in range(1001)], "x") == 40058
    assert errcode_of(send, DEFAULT_AGENTID, ["ghost"], "x") == 81013
    assert errcode_of(send, 42, ["u1"], "x") == 40056
    send(DEFAULT_AGENTID, [f"u{i}" for i in range(1000)], "简" * 682)
    assert wechat_server.wecom.inbox("u1") == ["简" * 682]


def test_wecom_per_member_minute_limit_drops_silently(
    wechat_server: FakeWeChatServer, wecom_client: WeComAppClient
) -> None:
    wechat_server.wecom.add_members("busy", "calm")
    for i in range(30):
        wecom_client.message.send_text(DEFAULT_AGENTID, ["busy"], f"n{i}")
    result = wecom_client.message.send_text(DEFAULT_AGENTID, ["busy", "calm"], "n30")
    assert result["errcode"] == 0 and result["invaliduser"] == ""
    assert [(d.userid, d.content, d.limit) for d in wechat_server.wecom.dropped] == [
        ("busy", "n30", "minute")
    ]
    assert wechat_server.wecom.inbox("calm") == ["n30"]
    assert len(wechat_server.wecom.inbox("busy")) == 30
    wechat_server.clock.advance(60)
    wecom_client.message.send_text(DEFAULT_AGENTID, ["busy"], "later")
    assert wechat_server.wecom.inbox("busy")[-1] == "later"


def test_wecom_per_member_hour_limit(make_wechat_server: Any) -> None:
    server = make_wechat_server(wecom_config=WecomConfig(member_per_hour=4))
    server.wecom.add_members("u1")
    client = make_wecom_client(DEFAULT_CORPID, DEFAULT_CORPSECRET, server.wecom_base_url)
    for i in range(6):
        client.message.send_text(DEFAULT_AGENTID, ["u1"], f"h{i}")
        server.clock.advance(61)
    assert server.wecom.inbox("u1") == ["h0", "h1", "h2", "h3"]
    assert [d.limit for d in server.wecom.dropped_for("u1")] == ["hour", "hour"]


def _markdown(content: str, **check: int) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": content}, **check}


def test_wecom_duplicate_check_accepts_a_repeat_but_delivers_it_to_nobody_twice(
    wechat_server: FakeWeChatServer, wecom_client: WeComAppClient
) -> None:
    wechat_server.wecom.add_members("u1", "u2")
    send = wecom_client.message.send
    checked = _markdown("简报", enable_duplicate_check=1)
    assert send(DEFAULT_AGENTID, ["u1"], msg=checked)["errcode"] == 0
    wechat_server.clock.advance(1799)
    repeat = send(DEFAULT_AGENTID, ["u1", "u2"], msg=checked)
    assert repeat["errcode"] == 0 and repeat["invaliduser"] == ""
    assert wechat_server.wecom.inbox("u1") == ["简报"] and wechat_server.wecom.inbox("u2") == [
        "简报"
    ]
    assert [(d.userid, d.since) for d in wechat_server.wecom.duplicates] == [("u1", 1799)]
    send(DEFAULT_AGENTID, ["u1"], msg=_markdown("简报"))  # no check asked: delivered again
    assert wechat_server.wecom.inbox("u1") == ["简报"] * 2
    send(
        DEFAULT_AGENTID,
        ["u1"],
        msg={"msgtype": "text", "text": {"content": "简报"}, "enable_duplicate_check": 1},
    )
    assert len(wechat_server.wecom.inbox("u1")) == 3  # another msgtype is another message
    wechat_server.clock.advance(1800)
    send(DEFAULT_AGENTID, ["u2"], msg=checked)  # u2's copy is 1800 s old: past the interval
    assert wechat_server.wecom.inbox("u2") == ["简报"] * 2


def test_wecom_duplicate_check_interval(
    wechat_server: FakeWeChatServer, wecom_client: WeComAppClient
) -> None:
    wechat_server.wecom.add_members("u1")
    send = wecom_client.message.send
    short = _markdown("m", enable_duplicate_check=1, duplicate_check_interval=60)
    send(DEFAULT_AGENTID, ["u1"], msg=short)
    wechat_server.clock.advance(59)
    send(DEFAULT_AGENTID, ["u1"], msg=short)
    wechat_server.clock.advance(1)
    send(DEFAULT_AGENTID, ["u1"], msg=short)
    assert wechat_server.wecom.inbox("u1") == ["m", "m"]
    longest = _markdown("m", enable_duplicate_check=1, duplicate_check_interval=14400)
    assert send(DEFAULT_AGENTID, ["u1"], msg=longest)["errcode"] == 0
    for bad in (14401, 0, "1800"):
        too_long = _markdown("m", enable_duplicate_check=1, duplicate_check_interval=bad)
        assert errcode_of(send, DEFAULT_AGENTID, ["u1"], msg=too_long) == 40058
    assert wechat_server.wecom.inbox("u1") == ["m", "m"]


def test_wecom_repeats_spared_by_the_duplicate_check_use_no_rate_limit(
    make_wechat_server: Any,
) -> None:
    server = make_wechat_server(wecom_config=WecomConfig(member_per_minute=2))
    server.wecom.add_members("u1")
    client = make_wecom_client(DEFAULT_CORPID, DEFAULT_CORPSECRET, server.wecom_base_url)
    for _ in range(3):
        client.message.send(DEFAULT_AGENTID, ["u1"], msg=_markdown("a", enable_duplicate_check=1))
    client.message.send(DEFAULT_AGENTID, ["u1"], msg=_markdown("b"))
    assert server.wecom.inbox("u1") == ["a", "b"] and server.wecom.dropped == []


def test_wecom_token_expiry_and_bogus_token_are_retried(
    wechat_server: FakeWeChatServer, wecom_client: WeComAppClient
) -> None:
    wechat_server.wecom.add_members("u1")
    wecom_client.message.send_text(DEFAULT_AGENTID, ["u1"], "a")
    wechat_server.clock.advance(7200)
    wecom_client.message.send_text(DEFAULT_AGENTID, ["u1"], "b")
    given = make_wecom_client(DEFAULT_CORPID, DEFAULT_CORPSECRET, wechat_server.wecom_base_url)
    given.session.set(given.access_token_key, "stale-from-cache")
    given.message.send_text(DEFAULT_AGENTID, ["u1"], "c")
    codes = [e for p, e in paths(wechat_server.wecom) if p == "/cgi-bin/message/send"]
    assert codes == [0, 42001, 0, 40014, 0]
    assert wechat_server.wecom.inbox("u1") == ["a", "b", "c"]


# ---- WeCom group robot ------------------------------------------------------------------


async def _robot(
    session: aiohttp.ClientSession, url: str, msgtype: str, content: str
) -> dict[str, Any]:
    async with session.post(url, json={"msgtype": msgtype, msgtype: {"content": content}}) as resp:
        return await resp.json()


async def test_robot_markdown_size_and_key(wechat_server: FakeWeChatServer) -> None:
    url = wechat_server.robot_url()
    async with aiohttp.ClientSession() as session:
        assert (await _robot(session, url, "markdown", "a" * 4096))["errcode"] == 0
        too_long = await _robot(session, url, "markdown", "简" * 1366)  # 4098 bytes
        assert too_long["errcode"] == 40058
        assert too_long["errmsg"].startswith("markdown.content exceed max length 4096")
        assert (await _robot(session, url, "text", "a" * 2049))["errcode"] == 40058
        unknown = await _robot(session, wechat_server.robot_url("no-such-key"), "text", "x")
        assert unknown["errcode"] == 93000
    assert wechat_server.wecom.robot_messages(DEFAULT_ROBOT_KEY) == ["a" * 4096]


async def test_robot_twenty_per_minute_then_45009(wechat_server: FakeWeChatServer) -> None:
    url = wechat_server.robot_url()
    async with aiohttp.ClientSession() as session:
        codes = [(await _robot(session, url, "markdown", f"r{i}"))["errcode"] for i in range(21)]
        assert codes == [0] * 20 + [45009]
        wechat_server.clock.advance(60)
        assert (await _robot(session, url, "markdown", "next minute"))["errcode"] == 0
    assert len(wechat_server.wecom.robot_messages()) == 21
