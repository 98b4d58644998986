"""A publication renders each distinct (platform, selection, format, language) once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.publish import rendering
from bot.publish.rendering import PublicationRenderings, RendererSet
from briefings.model import Series
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from storage.subscribers import ALL, Subscriber, Subscription
from tests.conftest import SAMPLES_DIR

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _subscriber(n: int, platform: str = "telegram", **fields: object) -> Subscriber:
    values: dict[str, object] = {
        "id": n,
        "platform": platform,
        "chat_id": str(n),
        "kind": "private",
        "language": "zh",
        "format": "full",
        "paused": False,
        "active": True,
        "created_at": T0,
        "subscriptions": (ALL,),
    }
    values.update(fields)
    return Subscriber(**values)  # type: ignore[arg-type]


def test_identical_renderings_are_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    path = sorted(SAMPLES_DIR.glob("*.md"))[-1]
    text = decode_briefing(path.read_bytes(), path.name)
    issue = parse_issue(text, path.name, Series("embedded-ai", "t"), Taxonomy.default())
    calls: list[str] = []
    real = rendering.render_for

    def counting(renderer, issue, subscriber, taxonomy):  # type: ignore[no-untyped-def]
        calls.append(f"{subscriber.platform}:{subscriber.chat_id}")
        return real(renderer, issue, subscriber, taxonomy)

    monkeypatch.setattr(rendering, "render_for", counting)
    real_part = rendering.render_part

    def counting_parts(renderer, issue, part, taxonomy, language):  # type: ignore[no-untyped-def]
        calls.append(f"part:{part}")  # an Official Account tag part, rendered once
        return real_part(renderer, issue, part, taxonomy, language)

    monkeypatch.setattr(rendering, "render_part", counting_parts)
    cache = PublicationRenderings(issue, RendererSet(Settings()), Taxonomy.default())
    same = [cache.messages(_subscriber(n)) for n in range(1, 6)]
    papers = (Subscription("section", "papers"),)
    other = [
        cache.messages(_subscriber(6, language="en")),
        cache.messages(_subscriber(7, subscriptions=papers)),
        cache.messages(_subscriber(8, "wechat")),
        cache.messages(_subscriber(9, subscriptions=papers)),
    ]
    assert calls == ["telegram:1", "telegram:6", "telegram:7", "part:all"]
    assert all(found is same[0] or found == same[0] for found in same)
    assert same[0] is not None and other[1] == other[3] != same[0]
    assert len(cache) == 4
