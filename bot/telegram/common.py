"""Helpers the handlers share: deliver a Reply, answer a question, register for edits too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.replies import Replies, Reply, Span, with_switch
from bot.service import AnswerService
from bot.stats import StatsStore
from bot.telegram.render import Signer, VersionData, html, keyboard
from bot.telegram.votes import Votes
from bot.texts import Lang, t


def on_message(router: Router, handler: Callable[..., Any], *filters: Any) -> None:
    """Register a handler for new and for edited messages alike.

    An edited message is handled as if it were sent anew: a question gets a
    fresh answer to its new text, under the same rules as a new message.
    """
    router.message.register(handler, *filters)
    router.edited_message.register(handler, *filters)


def text_reply(lang: Lang, key: str, **values: object) -> Reply:
    """Return a reply of one interface text."""
    return Reply((Span(t(lang, key, **values)),))


def signer(votes: Votes | None, chat_id: int) -> Signer | None:
    """Return the vote-button signer for a chat."""
    return (lambda passage_id: votes.mac(chat_id, passage_id)) if votes is not None else None


async def send(message: Message, reply: Reply, votes: Votes | None = None) -> None:
    """Send a reply to the chat of a message; in groups, as a reply to that message."""
    text, markup = html(reply), keyboard(reply, signer(votes, message.chat.id))
    if message.chat.type == ChatType.PRIVATE:
        await message.answer(text, reply_markup=markup)
    else:
        await message.reply(text, reply_markup=markup)


async def show(
    query: CallbackQuery,
    reply: Reply,
    edit: bool,
    votes: Votes | None = None,
    keep: InlineKeyboardMarkup | None = None,
) -> None:
    """Show a reply to a button press: in place of the pressed message, or as a new message.

    With `keep` (the pressed message's keyboard), its buttons stay but for the language one,
    which the reply's replaces.
    """
    message = query.message
    text = html(reply)
    markup = keyboard(reply, signer(votes, message.chat.id) if message is not None else None)
    if keep is not None:
        switch = [row for row in (markup.inline_keyboard if markup else []) if any(map(_is_switch, row))]
        rows = with_switch(keep.inline_keyboard, switch, _is_switch)
        markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    if edit and isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                # A second press on the same button: it already shows this.
                return
            # Otherwise the message can no longer be edited (too old, deleted): send a new one.
    if message is not None and query.bot is not None:
        await query.bot.send_message(message.chat.id, text, reply_markup=markup)


def _is_switch(button: InlineKeyboardButton) -> bool:
    data = button.callback_data or ""
    return data.startswith(VersionData.__prefix__ + VersionData.__separator__)


async def answer_reply(
    question: str,
    *,
    answer_service: AnswerService,
    replies: Replies,
    stats: StatsStore,
    lang: Lang,
) -> Reply:
    """Ask the service, record the question for staff statistics, and return the reply."""
    # Embedding a question takes tens of milliseconds: keep the event loop free meanwhile.
    answer = await asyncio.to_thread(answer_service.ask, question)
    stats.record_answer(answer)
    return replies.answer(answer, lang)
