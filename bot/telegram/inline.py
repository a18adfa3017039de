"""Inline mode: `@bot question` lists the best passages; an empty query lists the topics."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from aiogram import Router
from aiogram.types import (
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InlineQueryResultUnion,
    InputTextMessageContent,
)

from bot.replies import Replies
from bot.service import AnswerService
from bot.telegram.commands import TOPICS_PAYLOAD
from bot.telegram.render import html
from bot.texts import Lang, t

INLINE_TOP = 5
MAX_RESULTS = 50
"""Telegram's limit on results per inline answer."""
CACHE_SECONDS = 60
TITLE_CHARS = 120
DESCRIPTION_CHARS = 160


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def inline(query: InlineQuery, answer_service: AnswerService, replies: Replies, lang: Lang) -> None:
    """Answer an inline query with passages, the topics, or a button to browse the topics."""
    text = query.query.strip()
    results: list[InlineQueryResultUnion] = []
    if not text:
        for section in answer_service.sections[:MAX_RESULTS]:
            message = html(replies.section_first(section, lang))
            first = replies.version(section.passages[0], lang)  # in the interface language if translated
            results.append(
                InlineQueryResultArticle(
                    id=section.id,
                    title=_short(first.section, TITLE_CHARS),
                    description=_short(first.text, DESCRIPTION_CHARS),
                    input_message_content=InputTextMessageContent(message_text=message),
                )
            )
        await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)
        return
    answer = await asyncio.to_thread(answer_service.ask, text, INLINE_TOP)
    if not answer.answered:
        button = InlineQueryResultsButton(text=t(lang, "inline_none"), start_parameter=TOPICS_PAYLOAD)
        await query.answer([], cache_time=CACHE_SECONDS, is_personal=True, button=button)
        return
    for hit in answer.answers[:MAX_RESULTS]:
        # The reply for this one passage alone: its section, matched words in bold, its source.
        alone = replace(answer, hits=(hit,), offered=1, corrections=())
        single = html(replies.answer(alone, lang))
        shown = replies.shown(alone) or hit.passage  # the translation for a Ukrainian or Russian query
        results.append(
            InlineQueryResultArticle(
                id=hit.passage.id,
                title=_short(shown.section, TITLE_CHARS),
                description=_short(shown.text, DESCRIPTION_CHARS),
                input_message_content=InputTextMessageContent(message_text=single),
            )
        )
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)


def build_router() -> Router:
    """Return a fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.inline_query.register(inline)
    return router
