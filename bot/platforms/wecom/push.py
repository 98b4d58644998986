"""WeCom issue pushes: WeCom as the delivery engine's batch sender.

The engine (bot/delivery/engine.py) claims pending wecom deliveries, checkpoints, retries,
requeues and pauses them as it does every platform's; this module only states WeCom's
shape and limits (bot/delivery/types.py `BatchSender`):

* members whose deliveries share a rendering and a checkpoint get each message in ONE
  application call (up to `MAX_TOUSER` = 1000 userids), sent with WeCom's duplicate check,
  so the call in flight at a crash, repeated by the next run, reaches nobody twice;
* group robots are sent one webhook call at a time and at most once (`at_most_once`): a
  webhook has no duplicate check, so the engine records each robot message as sent (with
  an "in flight" note) before the call, and a message whose answer never came is not sent
  again; a crash or a timeout can cost a robot that one message, never show it twice;
* the per-member and per-robot windows (`windows`, shared with command replies) are taken
  by the engine for every chat of a call before the call;
* one application call in flight at a time (`batch_concurrency`; robots' webhooks go
  beside it): the per-member windows pace a push anyway, and a kill then repeats at most
  that one call;
* retries exhausted hand the deliveries back to pending (`exhausted = "release"`) rather
  than failing a thousand members for an outage; the engine rests the platform a while.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.delivery.types import BatchResult, ChatGone, StoredMessage
from bot.platforms.wecom.sender import MAX_TOUSER, WecomSender, WecomWindows, is_robot


class WecomPush:
    """The engine's "batch" sender for WeCom, over the process's `WecomSender`."""

    platform = "wecom"
    shape = "batch"
    batch_size = MAX_TOUSER
    batch_concurrency = 1
    exhausted = "release"

    def __init__(self, sender: WecomSender) -> None:
        self._sender = sender
        self.windows: WecomWindows = sender.windows

    def chat_kind(self, chat_id: str) -> str:
        return self._sender.chat_kind(chat_id)

    def batchable(self, chat_id: str) -> bool:
        return not is_robot(chat_id)

    def at_most_once(self, chat_id: str) -> bool:
        return is_robot(chat_id)

    async def send_batch(self, chat_ids: Sequence[str], message: StoredMessage) -> BatchResult:
        return await self._sender.send_batch(chat_ids, message, duplicate_check=True, admitted=True)

    async def send(self, chat_id: str, message: StoredMessage) -> None:
        """A robot's message, or one member's (a correction), windows already taken."""
        if is_robot(chat_id):
            await self._sender.send_robot(chat_id, str(message["text"]), admitted=True)
            return
        result = await self.send_batch([chat_id], message)
        if chat_id in result.gone:
            raise ChatGone(f"{chat_id} is not reachable by the app")
