"""The Redactor alone: configured secrets in every encoding, secret-shaped text, log records."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from bot.config import Settings, TelegramSettings, WebSettings, WecomRobotSettings, WecomSettings
from bot.redaction import MASK, Redactor, installed, redact_record

TOKEN = "123456789:AAHsecretTokenValue_0123456789abcdef"
ROBOT = "robot/key+with=odd-chars-0001"


def redactor() -> Redactor:
    return Redactor.from_settings(
        Settings(
            telegram=TelegramSettings(token=TOKEN),
            wecom=WecomSettings(robots=[WecomRobotSettings(key=ROBOT)]),
        )
    )


@pytest.mark.parametrize("form", [ROBOT, quote(ROBOT, safe=""), quote(ROBOT)])
def test_configured_secret_masked_in_every_url_form(form: str) -> None:
    text = f"POST http://host/cgi-bin/webhook/send?k={form} failed"
    assert form not in redactor().scrub(text) and MASK in redactor().scrub(text)


def test_the_operator_pages_token_is_masked() -> None:
    token = "operator-token-0123456789abcdef"
    settings = Settings(web=WebSettings(admin_token=token))
    text = f"GET /operator Authorization: Bearer {token}"
    assert token not in Redactor.from_settings(settings).scrub(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET https://api.telegram.org/bot987:ABCdefGHIjklMNOpqrSTUvwx/getMe", "987:ABC"),
        ("/cgi-bin/token?grant_type=x&appid=wx1&secret=s3cr3t%2B", "s3cr3t"),
        ("/cgi-bin/gettoken?corpid=ww&corpsecret=abcdef", "abcdef"),
        ("/cgi-bin/message/send?access_token=TOKEN123", "TOKEN123"),
        ("webhook/send?key=693a91f6-7xxx", "693a91f6"),
        ("{'access_token': 'TOKEN456', 'expires_in': 7200}", "TOKEN456"),
    ],
)
def test_secret_shaped_text_is_masked_even_when_not_configured(text: str, secret: str) -> None:
    assert secret not in Redactor().redact(text)


def test_user_content_is_left_alone_by_scrub() -> None:
    text = "see https://example.com/?key=value and 12:30"
    assert redactor().scrub(text) == text
    assert Redactor().redact("12:30, 2026-11-16 09:00:00") == "12:30, 2026-11-16 09:00:00"


def test_short_values_are_not_masked_blindly() -> None:
    assert Redactor(["abc"]).scrub("abcdef abc") == "abcdef abc"


def test_log_record_message_args_and_traceback_are_redacted() -> None:
    try:
        raise ConnectionError(f"cannot reach https://host/bot{TOKEN}/getMe")
    except ConnectionError:
        record = logging.LogRecord(
            "httpx", logging.INFO, __file__, 1, "HTTP Request: %s %d", (f"/bot{TOKEN}/x", 200),
            exc_info=__import__("sys").exc_info(),
        )  # fmt: skip
    redact_record(record, redactor())
    formatted = logging.Formatter().format(record)
    assert TOKEN not in formatted and formatted.count(MASK) >= 2
    assert record.args is not None and record.args[1] == 200  # %d still formats


def test_installed_redacts_every_logger_and_streams(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with installed(redactor()):
        logging.getLogger("some.library").debug("url %s", f"https://x/bot{TOKEN}/getMe")
        print(f"stdout {TOKEN}")
        print(f"stderr {ROBOT}", file=__import__("sys").stderr)
    out, err = capsys.readouterr()
    assert TOKEN not in caplog.text and TOKEN not in out and ROBOT not in err
    assert MASK in caplog.text and MASK in out and MASK in err
