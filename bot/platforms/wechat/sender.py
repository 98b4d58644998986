"""Official Account sender: one customer-service text to one follower.

Customer-service messages only reach a follower within 48 hours of their last message (5
sends) or a minute of an event (3), so scheduled issue pushes do not come through here:
they go out as tag mass sends (bot/platforms/wechat/campaign.py). This sender carries the
replies the callback could not give passively and anything else addressed to one follower.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.platforms.wechat_common.api import WechatApi
from bot.platforms.wechat_common.clients import OfficialAccountClient
from bot.platforms.wechat_common.errors import classify_exception


class WechatSender:
    platform = "wechat"

    def __init__(self, api: WechatApi[OfficialAccountClient]) -> None:
        self._api = api

    def chat_kind(self, chat_id: str) -> str:
        return "user"

    async def send(self, chat_id: str, message: Mapping[str, Any]) -> None:
        text = str(message["text"])
        try:
            await self._api.call(lambda client: client.message.send_text(chat_id, text))
        except Exception as exc:
            raise classify_exception(exc) from exc

    async def send_text(self, openid: str, text: str) -> None:
        await self.send(openid, {"text": text, "format": "text"})
