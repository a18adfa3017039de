"""Questions in private chats and /ask anywhere; unknown commands in private chats."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.replies import Replies
from bot.service import AnswerService
from bot.stats import StatsStore
from bot.telegram.common import answer_reply, on_message, send, text_reply
from bot.telegram.votes import Votes
from bot.texts import Lang


async def ask_command(
    message: Message,
    *,
    command: CommandObject,
    answer_service: AnswerService,
    replies: Replies,
    stats: StatsStore,
    votes: Votes,
    lang: Lang,
) -> None:
    """Answer the question written after /ask."""
    if not command.args or not command.args.strip():
        await send(message, text_reply(lang, "ask_usage"))
        return
    reply = await answer_reply(
        command.args, answer_service=answer_service, replies=replies, stats=stats, lang=lang
    )
    await send(message, reply, votes)


async def unknown_command(message: Message, lang: Lang) -> None:
    """Point to /help for a command the bot does not know (or that this user may not use)."""
    await send(message, text_reply(lang, "unknown_command"))


async def question(
    message: Message,
    *,
    text: str,
    answer_service: AnswerService,
    replies: Replies,
    stats: StatsStore,
    votes: Votes,
    lang: Lang,
) -> None:
    """Answer a question: any text in a private chat, or one addressed to the bot in a group."""
    reply = await answer_reply(text, answer_service=answer_service, replies=replies, stats=stats, lang=lang)
    await send(message, reply, votes)


def build_router() -> Router:
    """Return a fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    on_message(router, ask_command, Command("ask"))
    on_message(router, unknown_command, F.chat.type == ChatType.PRIVATE, F.text.startswith("/"))
    on_message(router, question, F.chat.type == ChatType.PRIVATE, F.text.as_("text"))
    return router
