"""Button presses: another answer, paging, topics, examples, votes, original or translation.

Anything else has expired.
"""

from __future__ import annotations

import contextlib

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.replies import Replies
from bot.service import AnswerService
from bot.stats import StatsStore
from bot.telegram.common import answer_reply, show
from bot.telegram.render import (
    ExampleData,
    MoreData,
    PageData,
    TopicData,
    TopicsData,
    VersionData,
    VoteData,
)
from bot.telegram.votes import Votes
from bot.texts import Lang, t


async def more(
    query: CallbackQuery,
    *,
    callback_data: MoreData,
    replies: Replies,
    votes: Votes,
    lang: Lang,
) -> None:
    """Show the next offered passage in place of the pressed one, from the button's own data."""
    ids = ["p" + part for part in callback_data.ids.split(".")]
    reply = replies.more(ids, callback_data.rank, callback_data.q.strip("-"), lang)
    if reply is None:
        await expired(query, lang)
        return
    await query.answer()
    await show(query, reply, edit=True, votes=votes)


async def page(
    query: CallbackQuery, callback_data: PageData, answer_service: AnswerService, replies: Replies, lang: Lang
) -> None:
    """Turn to another passage of the section being read."""
    passage = answer_service.passage(callback_data.pid)
    if passage is None:
        await expired(query, lang)
        return
    await query.answer()
    await show(query, replies.passage(passage, lang), edit=True)


async def version(
    query: CallbackQuery,
    *,
    callback_data: VersionData,
    answer_service: AnswerService,
    replies: Replies,
    votes: Votes,
    lang: Lang,
) -> None:
    """Show the published original of a translated passage, or its translation, in place.

    The message keeps its other buttons as they were (another answer, paging; no vote
    buttons back after a vote): only the language button changes.
    """
    passage = answer_service.passage(callback_data.pid)
    if passage is None:
        await expired(query, lang)
        return
    await query.answer()
    reply = replies.in_language(passage, callback_data.lang, callback_data.ui)
    message = query.message
    old = message.reply_markup if isinstance(message, Message) else None
    await show(query, reply, edit=True, votes=votes, keep=old)


async def topic(
    query: CallbackQuery,
    *,
    callback_data: TopicData,
    answer_service: AnswerService,
    replies: Replies,
    lang: Lang,
) -> None:
    """Open a section at its first passage, as a new message under the list."""
    section = next((s for s in answer_service.sections if s.id == callback_data.sid), None)
    if section is None:
        await expired(query, lang)
        return
    await query.answer()
    await show(query, replies.section_first(section, lang), edit=False)


async def topics(query: CallbackQuery, replies: Replies, lang: Lang) -> None:
    """List the sections."""
    await query.answer()
    await show(query, replies.topics(lang), edit=False)


async def example(
    query: CallbackQuery,
    *,
    callback_data: ExampleData,
    answer_service: AnswerService,
    replies: Replies,
    stats: StatsStore,
    votes: Votes,
    lang: Lang,
) -> None:
    """Ask one of the example questions offered by /start."""
    examples = replies.examples()
    if callback_data.n >= len(examples):
        await expired(query, lang)
        return
    await query.answer()
    reply = await answer_reply(
        examples[callback_data.n],
        answer_service=answer_service,
        replies=replies,
        stats=stats,
        lang=lang,
    )
    await show(query, reply, edit=False, votes=votes)


async def vote(
    query: CallbackQuery,
    *,
    callback_data: VoteData,
    answer_service: AnswerService,
    stats: StatsStore,
    votes: Votes,
    lang: Lang,
) -> None:
    """Record 👍/👎, one per person per passage (a second vote replaces it); take the vote buttons off."""
    message = query.message
    pid = callback_data.pid
    if (
        message is None
        or answer_service.passage(pid) is None
        or not votes.check(message.chat.id, pid, callback_data.mac)
    ):
        # Forged, copied from another chat, or for a passage that no longer exists.
        await expired(query, lang)
        return
    stats.record_vote(pid, callback_data.up, votes.voter(query.from_user.id, pid))
    await query.answer(t(lang, "thanks"))
    if isinstance(message, Message) and message.reply_markup is not None:
        rows = [
            row
            for row in message.reply_markup.inline_keyboard
            if not any(_is_vote(button.callback_data) for button in row)
        ]
        if len(rows) == len(message.reply_markup.inline_keyboard):
            return  # the vote buttons are already gone: editing would be "message is not modified"
        markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
        # The vote counts even if the message can no longer be edited.
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=markup)


def _is_vote(data: str | None) -> bool:
    return data is not None and data.startswith(VoteData.__prefix__ + VoteData.__separator__)


async def expired(query: CallbackQuery, lang: Lang) -> None:
    """Answer a stale or forged button: it has expired, nothing else happens."""
    await query.answer(t(lang, "expired"))


def build_router() -> Router:
    """Return a fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(more, MoreData.filter())
    router.callback_query.register(page, PageData.filter())
    router.callback_query.register(topic, TopicData.filter())
    router.callback_query.register(topics, TopicsData.filter())
    router.callback_query.register(example, ExampleData.filter())
    router.callback_query.register(vote, VoteData.filter())
    router.callback_query.register(version, VersionData.filter())
    router.callback_query.register(expired)
    return router
