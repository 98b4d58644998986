"""WeChat Official Account (公众号): the signed-XML callback, tag-based mass-send campaigns
and the customer-service message sender.

`configured(settings)` is the one answer to "is the Official Account on"; it is the
union of two independent halves, callbacks (served over HTTP) and pushes (API calls).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.platforms.wechat_common import secret_text

if TYPE_CHECKING:
    from bot.config import Settings


def callbacks_configured(settings: Settings) -> bool:
    """Callbacks need the token; API calls (pushes, late replies) need the secret too."""
    return bool(settings.wechat.app_id and settings.wechat.token)


def pushes_configured(settings: Settings) -> bool:
    """The app id and secret: tag-based mass sends and customer-service messages."""
    return bool(settings.wechat.app_id and secret_text(settings.wechat.secret))


def configured(settings: Settings) -> bool:
    return callbacks_configured(settings) or pushes_configured(settings)
