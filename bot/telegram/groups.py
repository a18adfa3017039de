"""Groups: answer a mention of the bot or a reply to one of its messages; ignore other chatter.

/ask works in groups too (see questions.py); commands for other bots are ignored
by aiogram's Command filter.
"""

from __future__ import annotations

import re
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType, MessageEntityType
from aiogram.filters import Filter
from aiogram.types import Message

from bot.telegram.common import on_message
from bot.telegram.questions import question


class AddressedToBot(Filter):
    """Pass a group message that mentions the bot or replies to it; give the question without the mention."""

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        """Check the message."""
        text = message.text or ""
        me = await bot.me()
        replied = message.reply_to_message
        addressed = replied is not None and replied.from_user is not None and replied.from_user.id == me.id
        mention = f"@{me.username}".lower() if me.username else None
        for entity in message.entities or ():
            if entity.type == MessageEntityType.MENTION and mention is not None:
                addressed = addressed or entity.extract_from(text).lower() == mention
            elif entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None:
                addressed = addressed or entity.user.id == me.id
        if not addressed:
            return False
        if me.username:
            text = re.sub(rf"@{re.escape(me.username)}\b", " ", text, flags=re.IGNORECASE)
        return {"text": " ".join(text.split())}


def build_router() -> Router:
    """Return a fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    in_group = F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})
    # The same handler as a private question; AddressedToBot gives it the text without the mention.
    on_message(router, question, in_group, F.text, AddressedToBot())
    return router
