"""Each platform package answers `configured(settings)`; the process is composed from those."""

from __future__ import annotations

from typing import Any

import pytest

import bot.app  # noqa: F401  (loads every platform submodule: none may shadow a predicate)
from bot.config import Settings
from bot.platforms import console, telegram, wechat, wecom
from bot.web.service import needs_web, pushes_wanted, web_service_wanted

OA_CALLBACKS: dict[str, Any] = {"app_id": "wx1", "token": "t"}
OA_PUSHES: dict[str, Any] = {"app_id": "wx1", "secret": "s"}
WECOM_CALLBACKS: dict[str, Any] = {
    "corp_id": "ww1",
    "token": "t",
    "encoding_aes_key": "a" * 43,
}
WECOM_APP: dict[str, Any] = {"corp_id": "ww1", "secret": "s", "agent_id": 1000002}
WECOM_ROBOTS: dict[str, Any] = {"robots": [{"key": "k"}]}


def test_the_embedded_default_has_only_the_console() -> None:
    settings = Settings()
    assert console.configured(settings)
    assert not telegram.configured(settings) and not telegram.webhook_configured(settings)
    assert not wechat.configured(settings) and not wecom.configured(settings)
    assert not needs_web(settings) and not web_service_wanted(settings)


def test_telegram_polling_and_webhook() -> None:
    polling = Settings(telegram={"token": "1:x"})
    assert telegram.configured(polling) and not telegram.webhook_configured(polling)
    assert not needs_web(polling)
    hooked = Settings(telegram={"token": "1:x", "webhook_url": "https://h/telegram"})
    assert telegram.webhook_configured(hooked) and needs_web(hooked)
    assert not wechat.configured(hooked) and not wecom.configured(hooked)


@pytest.mark.parametrize(
    ("wechat_keys", "callbacks", "pushes"),
    [
        (OA_CALLBACKS, True, False),
        (OA_PUSHES, False, True),
        ({**OA_CALLBACKS, **OA_PUSHES}, True, True),
    ],
)
def test_official_account_halves(
    wechat_keys: dict[str, Any], callbacks: bool, pushes: bool
) -> None:
    settings = Settings(wechat=wechat_keys)
    assert wechat.callbacks_configured(settings) is callbacks
    assert wechat.pushes_configured(settings) is pushes
    assert wechat.configured(settings) and not wecom.configured(settings)
    assert needs_web(settings) is callbacks and pushes_wanted(settings) is pushes
    assert web_service_wanted(settings)


@pytest.mark.parametrize(
    ("wecom_keys", "callbacks", "app"),
    [
        (WECOM_APP, False, True),
        (WECOM_ROBOTS, False, False),
        ({**WECOM_CALLBACKS, **WECOM_APP}, True, True),
        ({**WECOM_CALLBACKS, **WECOM_APP, **WECOM_ROBOTS}, True, True),
    ],
)
def test_wecom_parts(wecom_keys: dict[str, Any], callbacks: bool, app: bool) -> None:
    settings = Settings(wecom=wecom_keys)
    assert wecom.callbacks_configured(settings) is callbacks
    assert wecom.app_configured(settings) is app
    assert wecom.pushes_configured(settings) is (app or "robots" in wecom_keys)
    assert wecom.configured(settings) and not wechat.configured(settings)
    assert needs_web(settings) is callbacks and web_service_wanted(settings)


def test_unset_secrets_turn_nothing_on() -> None:
    """The predicates read secrets' text, so an empty secret counts as unset."""
    settings = Settings().model_copy(
        update={
            "wechat": Settings().wechat.model_copy(update={"app_id": "wx1", "secret": None}),
            "wecom": Settings().wecom.model_copy(update={"corp_id": "ww1", "agent_id": 1}),
        }
    )
    assert not wechat.pushes_configured(settings) and not wecom.app_configured(settings)
    assert not web_service_wanted(settings)
