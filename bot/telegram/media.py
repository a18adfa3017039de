"""Stickers, photos, voice, locations, documents and the like: ask for a text question.

A photo, video or document with a caption is answered like the caption's text.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType, ContentType
from aiogram.types import Message

from bot.telegram.common import on_message, send, text_reply
from bot.telegram.questions import question
from bot.texts import Lang

# What a person sends instead of text; service messages (pins, timers) get no reply.
NOT_TEXT = {
    ContentType.STICKER,
    ContentType.PHOTO,
    ContentType.VOICE,
    ContentType.VIDEO,
    ContentType.VIDEO_NOTE,
    ContentType.AUDIO,
    ContentType.DOCUMENT,
    ContentType.ANIMATION,
    ContentType.LOCATION,
    ContentType.VENUE,
    ContentType.CONTACT,
    ContentType.POLL,
    ContentType.DICE,
    ContentType.STORY,
}


async def not_text(message: Message, lang: Lang) -> None:
    """Reply with a one-line hint to send the question as text."""
    await send(message, text_reply(lang, "send_text"))


def build_router() -> Router:
    """Return a fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    on_message(router, question, F.chat.type == ChatType.PRIVATE, F.caption.as_("text"))
    on_message(router, not_text, F.chat.type == ChatType.PRIVATE, F.content_type.in_(NOT_TEXT))
    return router
