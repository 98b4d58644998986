"""ChatOrderedProcessor: chats concurrently, each chat in order, floods dropped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update

from bot.platforms.telegram.processor import ChatOrderedProcessor


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(id=chat_id, type="private")
    return Update(update_id, message=Message(update_id, datetime.now(UTC), chat))


async def test_one_chat_waits_its_turn_others_do_not_and_floods_are_dropped() -> None:
    processor = ChatOrderedProcessor(8, max_queued_per_chat=2)
    gate = asyncio.Event()
    log: list[str] = []

    async def work(name: str) -> None:
        log.append(f"{name} start")
        await gate.wait()
        log.append(f"{name} end")

    async def quick(name: str) -> None:
        log.append(name)

    first = asyncio.create_task(processor.process_update(update(1, 5), work("a1")))
    second = asyncio.create_task(processor.process_update(update(2, 5), quick("a2")))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    dropped = quick("a3")
    await processor.process_update(update(3, 5), dropped)  # two already queued: dropped
    await processor.process_update(update(4, 6), quick("b1"))  # another chat goes ahead
    assert log == ["a1 start", "b1"]
    gate.set()
    await asyncio.gather(first, second)
    assert log == ["a1 start", "b1", "a1 end", "a2"]
    assert dropped.cr_frame is None  # closed, never run (no "never awaited" warning)
    await processor.process_update(update(5, 5), quick("a4"))  # the chat's turn is free again
    assert log[-1] == "a4"
