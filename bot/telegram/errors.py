"""The global error handler: log without personal data, tell the user, keep running."""

from __future__ import annotations

import contextlib
import logging
import traceback

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.texts import Lang, t

logger = logging.getLogger(__name__)


async def on_error(event: ErrorEvent, bot: Bot, lang: Lang = "en") -> bool:
    """Log a failed update and say sorry to the user; the bot carries on."""
    exc = event.exception
    # Exception messages may quote a user's text, name or chat id (aiogram's "... in chat
    # 820900001"; a private chat's id is the user's id): only the type, the API method and
    # the stack are logged.
    detail = f" on {exc.method.__api_method__}" if isinstance(exc, TelegramAPIError) else ""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("update %d failed with %s%s\n%s", event.update.update_id, type(exc).__name__, detail, stack)
    sorry = t(lang, "error")
    with contextlib.suppress(TelegramAPIError):
        if event.update.callback_query is not None:
            await event.update.callback_query.answer(sorry)
        elif event.update.message is not None:
            await bot.send_message(event.update.message.chat.id, sorry)
    return True


def build_router() -> Router:
    """Return a fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router
