"""The operator page: absent without a token, 401 without credentials, charts as PNG for
admins; and the chart functions Telegram `/stats` can call."""

from __future__ import annotations

import base64
import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from bot.runtime import Runtime, open_runtime
from bot.web.charts import (
    CHART_NAMES,
    active_counts,
    chart_pngs,
    deliveries_png,
    per_minute,
    send_rate_png,
    subscribers_png,
)
from bot.web.operator import operator_routes
from bot.web.server import create_app
from storage.deliveries.writes import create_deliveries
from storage.issues import find_issue_id
from storage.models import DeliveryRow
from storage.subscribers import deactivate, get_or_create
from storage.web_queries import IssueDeliveryCounts, SubscriberSpan
from tests.web.conftest import web_settings

TOKEN = "a" * 20
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {raw}"}


def operator_client(runtime: Runtime) -> httpx.AsyncClient:
    app = create_app(extra_routes=operator_routes(runtime.sessions, runtime.settings.web))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def seed_deliveries(runtime: Runtime) -> None:
    """Three telegram chats and one wecom user; one leaves; an issue half delivered."""
    async with runtime.sessions() as session, session.begin():
        ids = []
        for n, platform in enumerate(("telegram", "telegram", "telegram", "wecom")):
            sub, _ = await get_or_create(
                session,
                platform,
                f"c{n}",
                kind="private" if platform == "telegram" else "user",
                now=T0 + timedelta(days=n),
            )
            ids.append((sub.id, platform))
        await deactivate(session, ids[1][0], "blocked", now=T0 + timedelta(days=5))
        issue = await find_issue_id(session, "embedded-ai", date(2026, 11, 2))
        assert issue is not None
        await create_deliveries(
            session, issue, [(i, p, "k", [{"text": "x"}]) for i, p in ids], now=T0
        )
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.subscriber_id.in_([ids[0][0], ids[2][0]]))
            .values(status="sent", sent_at=T0 + timedelta(minutes=3))
        )
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.subscriber_id == ids[1][0])
            .values(status="failed")
        )


async def test_no_token_no_operator_page(tmp_path: Path) -> None:
    async with open_runtime(web_settings(tmp_path)) as runtime:
        assert operator_routes(runtime.sessions, runtime.settings.web) == []
        async with operator_client(runtime) as client:
            assert (await client.get("/operator")).status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("admin", "wrong-password-123456"),
        basic("admin", ""),
        {"authorization": "Bearer "},
        {"authorization": f"Bearer {TOKEN}x"},
        {"authorization": "Basic !!notbase64"},
        {"authorization": TOKEN},
    ],
)
async def test_the_operator_page_refuses_without_credentials(
    runtime: Runtime, headers: dict[str, str]
) -> None:
    async with operator_client(runtime) as client:
        for path in ("/operator", "/operator/chart/subscribers.png"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["www-authenticate"].startswith('Basic realm="briefbot')
            assert "PNG" not in response.text and "Subscribers" not in response.text


async def test_admins_see_numbers_and_chart_images(runtime: Runtime) -> None:
    await seed_deliveries(runtime)
    async with operator_client(runtime) as client:
        page = await client.get("/operator", headers=basic("admin", TOKEN))
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in page.headers["content-security-policy"]
        for name in CHART_NAMES:
            assert f'src="/operator/chart/{name}.png"' in page.text
        assert "<td>2026-11-02</td><td>2</td><td>1</td><td>1</td>" in page.text
        assert "<td>telegram</td><td>2</td>" in page.text  # one of three left
        for name in CHART_NAMES:
            png = await client.get(
                f"/operator/chart/{name}.png", headers={"authorization": f"Bearer {TOKEN}"}
            )
            assert png.headers["content-type"] == "image/png"
            assert png_size(png.content) == (800, 400)
        missing = await client.get("/operator/chart/x.png", headers=basic("a", TOKEN))
        assert missing.status_code == 404


async def test_chart_pngs_for_telegram_stats(runtime: Runtime) -> None:
    await seed_deliveries(runtime)
    async with runtime.sessions() as session:
        pngs = await chart_pngs(session)
    assert set(pngs) == set(CHART_NAMES)
    assert all(png_size(p) == (800, 400) for p in pngs.values())


def test_active_counts_follow_joins_and_leaves() -> None:
    spans = [
        SubscriberSpan("telegram", T0, None),
        SubscriberSpan("telegram", T0 + timedelta(hours=1), T0 + timedelta(hours=3)),
        SubscriberSpan("wechat", T0 + timedelta(hours=2), None),
    ]
    steps = active_counts(spans)
    assert [n for _, n in steps["telegram"]] == [1, 2, 1]
    assert [n for _, n in steps["wechat"]] == [1]


def test_per_minute_fills_gaps() -> None:
    times = [T0, T0 + timedelta(seconds=30), T0 + timedelta(minutes=2, seconds=5)]
    assert [n for _, n in per_minute(times)] == [2, 0, 1]
    assert per_minute([]) == []


def test_charts_draw_with_and_without_data() -> None:
    counts = [IssueDeliveryCounts(date(2026, 11, 2), 10, 1, 3)]
    for png in (
        subscribers_png([]),
        subscribers_png([SubscriberSpan("telegram", T0, None)], now=T0 + timedelta(days=1)),
        deliveries_png([]),
        deliveries_png(counts),
        send_rate_png(None, []),
        send_rate_png(date(2026, 11, 2), [T0, T0 + timedelta(minutes=1)]),
    ):
        assert png_size(png) == (800, 400)
    # more data draws more pixels: the chart is not a blank canvas
    assert len(deliveries_png(counts)) != len(deliveries_png([]))


def test_matplotlib_is_not_loaded_by_importing_the_charts() -> None:
    import subprocess
    import sys

    probe = "import sys, bot.web.charts, bot.web.operator; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
