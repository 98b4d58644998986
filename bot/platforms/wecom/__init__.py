"""WeCom (企业微信): the application callback, the batched application-message pusher,
group robots and the sender with its per-member limits.

`configured(settings)` is the one answer to "is WeCom on": callbacks (served over HTTP),
application pushes, or group robots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.platforms.wechat_common import secret_text

if TYPE_CHECKING:
    from bot.config import Settings


def callbacks_configured(settings: Settings) -> bool:
    w = settings.wecom
    return bool(w.corp_id and w.token and w.encoding_aes_key)


def app_configured(settings: Settings) -> bool:
    """Corp id, secret and agent id: application messages to members."""
    w = settings.wecom
    return bool(w.corp_id and secret_text(w.secret) and w.agent_id is not None)


def pushes_configured(settings: Settings) -> bool:
    """Application messages or group robots."""
    return app_configured(settings) or bool(settings.wecom.robots)


def configured(settings: Settings) -> bool:
    return callbacks_configured(settings) or pushes_configured(settings)
