"""/start, /help, /about and /topics."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.replies import Replies, Reply, Span
from bot.telegram.common import on_message, send
from bot.texts import Lang, t

TOPICS_PAYLOAD = "topics"
"""The /start deep-link payload that opens the topics (used by the inline mode's button)."""


async def start(message: Message, command: CommandObject, replies: Replies, lang: Lang) -> None:
    """Say what the bot knows and how to ask; with the topics payload, list the sections."""
    if command.args == TOPICS_PAYLOAD:
        await send(message, replies.topics(lang))
        return
    await send(message, replies.start(lang))


async def help_(message: Message, bot: Bot, replies: Replies, lang: Lang) -> None:
    """Explain how to ask, in private chats, groups and inline."""
    me = await bot.me()
    extra = Span("\n\n" + t(lang, "help_telegram", bot=me.username or ""))
    await send(message, Reply((*replies.help(lang).spans, extra)))


async def about(message: Message, replies: Replies, lang: Lang) -> None:
    """Name the source of the answers."""
    await send(message, replies.about(lang))


async def topics(message: Message, replies: Replies, lang: Lang) -> None:
    """List the sections as buttons."""
    await send(message, replies.topics(lang))


def build_router() -> Router:
    """Return a fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    on_message(router, start, CommandStart())
    on_message(router, help_, Command("help"))
    on_message(router, about, Command("about"))
    on_message(router, topics, Command("topics"))
    return router
