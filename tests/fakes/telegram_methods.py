"""Bot API methods about messages and chats: send, edit, delete, actions, buttons, getChat."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.telegram_chats import ChatInfo
from tests.fakes.telegram_errors import bad_request, message_not_modified, query_too_old
from tests.fakes.telegram_markup import read_link_preview, read_reply_markup
from tests.fakes.telegram_messages import StoredMessage, render_text
from tests.fakes.telegram_params import Params
from tests.fakes.telegram_state import BotApiState, ChatAction, SentPhoto

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip


async def send_message(state: BotApiState, params: Params) -> dict[str, Any]:
    raw_chat_id = params.chat_id()
    parse_mode = params.text("parse_mode")
    rendered = render_text(params.text("text"), parse_mode, state.html_validator)
    markup = read_reply_markup(params)
    preview = read_link_preview(params)
    chat = state.chats.writable(raw_chat_id)
    state.limiter.check("sendMessage", chat)
    message = StoredMessage(
        chat_id=chat.id,
        message_id=chat.next_message_id(),
        text=params.text("text") or "",
        parse_mode=parse_mode,
        reply_markup=markup,
        visible_text=rendered.text,
        entities=rendered.entities,
        link_preview_options=preview,
        message_thread_id=params.integer("message_thread_id"),
    )
    body = state.outgoing_json(chat, message)
    state.log.add(message)
    state.notify()
    return body


def _message_to_edit(state: BotApiState, params: Params) -> tuple[ChatInfo, StoredMessage]:
    if "inline_message_id" in params:
        raise bad_request("MESSAGE_ID_INVALID")  # inline messages are not modelled
    raw_chat_id = params.chat_id()
    message_id = params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    chat = state.chats.writable(raw_chat_id)
    message = state.log.get(chat.id, message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if not message.outgoing:
        raise bad_request("message can't be edited")
    return chat, message


async def edit_message_text(state: BotApiState, params: Params) -> dict[str, Any]:
    parse_mode = params.text("parse_mode")
    rendered = render_text(params.text("text"), parse_mode, state.html_validator)
    markup = read_reply_markup(params)
    chat, message = _message_to_edit(state, params)
    if (rendered.text, rendered.entities, markup) == message.content_key():
        raise message_not_modified()
    state.limiter.check("editMessageText", chat)
    message.edits.append(message.snapshot())
    message.text, message.parse_mode = params.text("text") or "", parse_mode
    message.visible_text, message.entities = rendered.text, rendered.entities
    message.reply_markup = markup
    message.link_preview_options = read_link_preview(params)
    body = state.outgoing_json(chat, message)
    state.notify()
    return body


async def edit_message_reply_markup(state: BotApiState, params: Params) -> dict[str, Any]:
    markup = read_reply_markup(params)
    chat, message = _message_to_edit(state, params)
    if markup == message.reply_markup:
        raise message_not_modified()
    state.limiter.check("editMessageReplyMarkup", chat)
    message.edits.append(message.snapshot())
    message.reply_markup = markup
    body = state.outgoing_json(chat, message)
    state.notify()
    return body


async def delete_message(state: BotApiState, params: Params) -> bool:
    raw_chat_id = params.chat_id()
    message_id = params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    chat = state.chats.writable(raw_chat_id)
    message = state.log.get(chat.id, message_id)
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    state.notify()
    return True


async def send_chat_action(state: BotApiState, params: Params) -> bool:
    raw_chat_id = params.chat_id()
    action = (params.text("action") or "").strip().lower()
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat = state.chats.writable(raw_chat_id)
    state.chat_actions.append(ChatAction(chat.id, action))
    state.notify()
    return True


async def get_chat(state: BotApiState, params: Params) -> dict[str, Any]:
    chat = state.chats.lookup(params.chat_id())
    info = chat.to_json()
    info.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    )
    if chat.migrate_to_chat_id is not None:
        info["migrate_to_chat_id"] = chat.migrate_to_chat_id
    return info


async def answer_callback_query(state: BotApiState, params: Params) -> bool:
    record = state.callback_queries.get(params.text("callback_query_id") or "")
    if record is None or record.answer is not None:
        raise query_too_old()
    record.answer = {
        "text": params.text("text"),
        "show_alert": params.boolean("show_alert"),
        "url": params.text("url"),
        "cache_time": params.integer("cache_time") or 0,
    }
    state.notify()
    return True


ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


async def get_chat_member(state: BotApiState, params: Params) -> dict[str, Any]:
    """Telegram's ChatMember shapes: creator and administrator carry their rights (the
    client refuses an administrator without them), others only the user."""
    chat = state.chats.lookup(params.chat_id())
    user_id = params.integer("user_id")
    if user_id is None:
        raise bad_request("user_id is empty")
    if user_id <= 0:
        raise bad_request("PARTICIPANT_ID_INVALID")
    user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
    status = chat.members.get(user_id, "member")
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(can_be_edited=False, is_anonymous=False)
        member.update(dict.fromkeys(ADMIN_RIGHTS, True))
    elif status == "kicked":
        member["until_date"] = 0
    return member


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def send_photo(state: BotApiState, params: Params) -> dict[str, Any]:
    """An uploaded photo (briefbot sends PNG charts): refused unless it is an image."""
    chat = state.chats.writable(params.chat_id())
    data = params.values.get("photo")
    if not isinstance(data, bytes):
        raise bad_request("there is no photo in the request")
    if not data.startswith(PNG_SIGNATURE) and not data.startswith(b"\xff\xd8"):
        raise bad_request("IMAGE_PROCESS_FAILED")
    state.limiter.check("sendPhoto", chat)
    message_id = chat.next_message_id()
    caption = params.text("caption")
    state.photos.append(SentPhoto(chat.id, message_id, data, caption))
    state.notify()
    size = {"file_id": f"photo-{chat.id}-{message_id}", "file_unique_id": f"u{message_id}"}
    body: dict[str, Any] = {
        "message_id": message_id,
        "from": state.bot.to_json(),
        "chat": chat.to_json(),
        "date": int(time.time()),
        "photo": [{**size, "width": 640, "height": 480, "file_size": len(data)}],
    }
    if caption:
        body["caption"] = caption
    return body
