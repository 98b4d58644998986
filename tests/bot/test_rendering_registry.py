"""One renderer registry: chat replies, publications and mass sends render alike.

Chat replies used to pick their renderer on their own and ignored `wechat.max_bytes`
and `telegram.disable_preview`; these tests pin that every path goes through
`bot.rendering.renderer_for` with the process's settings.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.commands.context import Ctx
from bot.commands.types import Chat, Incoming
from bot.config import Settings
from bot.publish.rendering import RendererSet
from bot.rendering import PROFILES, mass_send_renderer, platform_of, renderer_for
from briefings.model import Issue, Series
from briefings.parser import decode_briefing, parse_issue
from briefings.taxonomy import Taxonomy
from formatters import ConsoleRenderer, TelegramRenderer, WeChatRenderer, WeComRenderer
from tests.conftest import SAMPLES_DIR


def sample_issue() -> Issue:
    path = sorted(SAMPLES_DIR.glob("*.md"))[-1]
    text = decode_briefing(path.read_bytes(), path.name)
    return parse_issue(text, path.name, Series("embedded-ai", "t"), Taxonomy.default())


def chat_ctx(platform: str, settings: Settings, lang: str = "zh") -> Ctx:
    incoming = Incoming(Chat(platform, "1"), "1")
    deps: Any = SimpleNamespace(settings=settings)  # Ctx.renderer reads only the settings
    return Ctx(deps, incoming, None, lang, commands=None)  # type: ignore[arg-type]


def test_every_profile_has_its_renderer_class() -> None:
    settings = Settings()
    expected = {
        "telegram": TelegramRenderer,
        "wechat": WeChatRenderer,
        "wecom": WeComRenderer,
        "wecom-robot": WeComRenderer,
        "console": ConsoleRenderer,
    }
    for platform, profiles in PROFILES.items():
        for profile in profiles:
            assert platform_of(profile) == platform
            renderer = renderer_for(platform, profile, "en", settings)
            assert type(renderer) is expected[profile]
    robot = renderer_for("wecom", "wecom-robot", "zh", settings)
    assert robot.limits.max_size > renderer_for("wecom", None, "zh", settings).limits.max_size


def test_unknown_platforms_and_foreign_profiles_are_refused() -> None:
    with pytest.raises(ValueError):
        renderer_for("signal", None, "zh", Settings())
    with pytest.raises(ValueError):
        renderer_for("telegram", "wecom-robot", "zh", Settings())


def test_chat_replies_honour_wechat_max_bytes() -> None:
    settings = Settings(wechat={"app_id": "wx1", "token": "t", "max_bytes": 300})
    reply_renderer = chat_ctx("wechat", settings).renderer
    assert reply_renderer.limits.max_size == 300
    assert reply_renderer is RendererSet(settings).get("wechat", "zh")
    assert reply_renderer is mass_send_renderer(settings)
    messages = reply_renderer.issue(sample_issue())
    assert len(messages) > 1
    assert all(len(m.text.encode("utf-8")) <= 300 for m in messages)


@pytest.mark.parametrize("disable_preview", [True, False])
def test_chat_replies_honour_disable_preview(disable_preview: bool) -> None:
    settings = Settings(telegram={"disable_preview": disable_preview})
    renderer = chat_ctx("telegram", settings, lang="en").renderer
    assert renderer is RendererSet(settings).get("telegram", "en")
    assert all(m.disable_preview is disable_preview for m in renderer.issue(sample_issue()))


@pytest.mark.parametrize(("platform", "profile"), [(p, q) for p in PROFILES for q in PROFILES[p]])
def test_issues_link_their_web_page_when_the_site_is_public(platform: str, profile: str) -> None:
    """`[web] public_url` puts "read on the web" under every issue header, in pushes
    (RendererSet, publication's renderers) and in chat replies (Ctx) alike."""
    issue = sample_issue()
    page = f"https://briefs.example.org/embedded-ai/{issue.key.isoformat()}"
    public = Settings.model_validate({"web": {"public_url": "https://briefs.example.org/"}})
    for lang, words in (("zh", "在网页上阅读"), ("en", "Read on the web")):
        first = renderer_for(platform, profile, lang, public).issue(issue)[0].text
        assert words in first and page in first, (profile, lang, first[:400])
        plain = renderer_for(platform, profile, lang, Settings()).issue(issue)[0].text
        assert words not in plain and "briefs.example.org" not in plain
    reply = chat_ctx(platform, public).renderer.issue(issue)[0].text
    assert page in reply
    pushed = RendererSet(public).get(profile, "en").issue(issue)[0].text
    assert "Read on the web" in pushed and page in pushed
