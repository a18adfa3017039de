"""Staff commands for users listed in ADMIN_IDS, in private chats: /stats and /reload.

For anyone else these commands do not exist: they fall through to "unknown command".
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, Filter
from aiogram.types import Message

from bot.reloads import Reloads
from bot.replies import Reply, Span
from bot.service import AnswerService
from bot.stats import StatsError, StatsStore, Summary
from bot.telegram.common import send, text_reply
from bot.texts import Lang, t
from index.content.loader import ContentError

logger = logging.getLogger(__name__)


class IsAdmin(Filter):
    """Pass messages from users listed in ADMIN_IDS."""

    async def __call__(self, message: Message, admin_ids: frozenset[int]) -> bool:
        """Check the message."""
        return message.from_user is not None and message.from_user.id in admin_ids


def stats_reply(summary: Summary, service: AnswerService, lang: Lang) -> Reply:
    """Show the statistics: counts, unanswered questions by reason and nearest passage, votes."""
    share = round(summary.answered_share * 100)
    spans = [
        Span(t(lang, "stats_title", days=summary.days), "bold"),
        Span("\n" + t(lang, "stats_questions", n=summary.questions)),
        Span("\n" + t(lang, "stats_answered", n=summary.answered, share=share)),
        Span("\n\n" + t(lang, "stats_unanswered"), "bold"),
    ]
    if not summary.unanswered:
        spans.append(Span("\n" + t(lang, "stats_none")))
    for group in summary.unanswered:
        spans.append(Span(f"\n{group.count} × {_reason(lang, group.reason)}"))
        if group.passage_id is not None:
            spans.append(Span(f"  {group.passage_id} "))
            spans.append(Span(_section(service, group.passage_id), "italic"))
    spans.append(Span("\n\n" + t(lang, "stats_votes"), "bold"))
    if not summary.votes:
        spans.append(Span("\n" + t(lang, "stats_none")))
    for votes in summary.votes:
        spans.append(Span(f"\n👍 {votes.up} / 👎 {votes.down}  {votes.passage_id} "))
        spans.append(Span(_section(service, votes.passage_id), "italic"))
    return Reply(tuple(spans))


def _reason(lang: Lang, reason: str) -> str:
    """Return why a question was not answered, in words (the stored name if unknown to this version)."""
    try:
        return t(lang, "stats_reason_" + reason)
    except KeyError:
        return reason


def _section(service: AnswerService, passage_id: str) -> str:
    """Return the title of the passage's section, shortened ("?" if the passage is gone)."""
    passage = service.passage(passage_id)
    where = passage.section if passage is not None else "?"
    return where if len(where) <= 60 else where[:59].rstrip() + "…"


async def stats_command(
    message: Message, stats: StatsStore, answer_service: AnswerService, lang: Lang
) -> None:
    """Show usage statistics to staff, or say that they are unavailable."""
    try:
        # In a thread: PostgreSQL may take a moment (the summary waits for queued rows).
        summary = await asyncio.to_thread(stats.summary)
    except StatsError as exc:
        logger.warning("statistics unavailable (%s)", type(exc).__name__)
        await send(message, text_reply(lang, "stats_unavailable"))
        return
    await send(message, stats_reply(summary, answer_service, lang))


async def reload_command(
    message: Message, answer_service: AnswerService, reloads: Reloads, lang: Lang
) -> None:
    """Re-read the content folder, and have the other instances do so; on an error keep the current texts."""
    try:
        corpus = await asyncio.to_thread(answer_service.reload)
    except (ContentError, OSError) as exc:
        logger.warning("content reload failed, keeping the previous index: %s", exc)
        await send(message, text_reply(lang, "reload_failed", error=str(exc)))
        return
    counts = {
        "documents": len(corpus.documents),
        "sections": len(corpus.sections),
        "passages": len(corpus.passages),
    }
    await send(message, text_reply(lang, "reload_ok", **counts))
    if reloads.shared.configured:
        told = await reloads.announce()
        await send(
            message,
            text_reply(lang, "reload_not_told") if told is None else text_reply(lang, "reload_told", n=told),
        )


def build_router() -> Router:
    """Return a fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(stats_command, Command("stats"), F.chat.type == ChatType.PRIVATE, IsAdmin())
    router.message.register(reload_command, Command("reload"), F.chat.type == ChatType.PRIVATE, IsAdmin())
    return router
