"""The HTTP session to the Bot API: a custom server URL and bounded retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.telegram.polling import ReplyTracker

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]


class RetryMiddleware(BaseRequestMiddleware):
    """Retry a request on flood control (after `retry_after`) and on 5xx or network errors (backoff).

    Bounded: at most `attempts` retries, and a flood wait longer than `max_wait`
    seconds is not waited out but raised, so a handler never hangs for minutes.
    getUpdates is left alone: the dispatcher's polling loop has its own backoff.
    """

    def __init__(
        self,
        attempts: int = 3,
        max_wait: float = 30.0,
        base_delay: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.base_delay = base_delay
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Make the request, retrying it when that may help."""
        if method.__api_method__ == GetUpdates.__api_method__:
            return await make_request(bot, method)
        retry = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if retry >= self.attempts or exc.retry_after > self.max_wait:
                    raise
                delay = float(exc.retry_after)
                problem = "flood control"
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as exc:
                if retry >= self.attempts:
                    raise
                delay = self.base_delay * 2**retry
                problem = type(exc).__name__
            retry += 1
            # Only the method name: the URL holds the token, the parameters hold chat ids.
            logger.warning(
                "%s on %s; retry %d of %d in %.1f s",
                problem,
                method.__api_method__,
                retry,
                self.attempts,
                delay,
            )
            await self._sleep(delay)


def build_session(api_url: str | None, retry: RetryMiddleware | None = None) -> AiohttpSession:
    """Return an aiohttp session to Telegram, or to a self-hosted Bot API server at `api_url`."""
    api = TelegramAPIServer.from_base(api_url) if api_url else PRODUCTION
    session = AiohttpSession(api=api)
    # Outermost, so that a reply under way (retries included) finishes when the bot stops.
    session.middleware(ReplyTracker())
    session.middleware(retry or RetryMiddleware())
    return session
