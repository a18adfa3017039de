"""Build the Dispatcher: routers, middlewares, injected services, startup and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.reloads import Reloads
from bot.replies import Replies
from bot.service import AnswerService
from bot.settings import Settings
from bot.shared import SharedState
from bot.stats import StatsError, StatsStore
from bot.telegram import admin, callbacks, commands, errors, groups, inline, media, questions
from bot.telegram.middlewares import (
    InFlight,
    LanguageMiddleware,
    LatestInlineOnly,
    OnceOnly,
    OnePerUser,
    RateLimiter,
    ThrottleMiddleware,
)
from bot.telegram.votes import Votes, vote_secret
from bot.texts import Lang, t

logger = logging.getLogger(__name__)

PUBLIC_COMMANDS = ("start", "help", "topics", "about", "ask")
SERIAL_KINDS = ("message", "edited_message", "callback_query")
"""Updates handled one at a time per user, in order, and throttled."""
STAFF_COMMANDS = ("stats", "reload")
LANGUAGES: tuple[tuple[Lang, str | None], ...] = (("en", None), ("uk", "uk"), ("uk", "ru"))
"""Command menus: English for everyone (no language code), Ukrainian for `uk` and `ru` users."""


class Retention:
    """Delete statistics past the retention period every hour, even while nobody asks anything."""

    def __init__(self, stats: StatsStore, every: float = 3600.0) -> None:
        self.stats = stats
        self.every = every
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start purging in the background."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop purging."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                deleted = await asyncio.to_thread(self.stats.purge)
            except StatsError as exc:
                logger.warning("statistics purge failed (%s)", type(exc).__name__)
                continue
            if deleted:
                logger.info("deleted %d statistics rows past the retention period", deleted)


def build_dispatcher(settings: Settings, answer_service: AnswerService, stats: StatsStore) -> Dispatcher:
    """Return the dispatcher used by both polling and webhook mode (and by the tests)."""
    in_flight = InFlight()
    configured = settings.vote_secret.get_secret_value() if settings.vote_secret else None
    secret = vote_secret(configured, settings.data_dir)
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    shared = SharedState(redis_url, secret)
    reloads = Reloads(shared, answer_service)
    dispatcher = Dispatcher(
        # No conversation state is kept, so no per-user storage either.
        disable_fsm=True,
        answer_service=answer_service,
        replies=Replies(answer_service, settings.consular_url),
        stats=stats,
        votes=Votes(secret),
        shared=shared,
        reloads=reloads,
        admin_ids=settings.admin_ids,
        in_flight=in_flight,
        shutdown_grace=settings.shutdown_grace,
    )
    dispatcher.update.outer_middleware(OnceOnly(shared))
    dispatcher.update.outer_middleware(in_flight)
    dispatcher.update.outer_middleware(LanguageMiddleware())
    # Each user's messages and button presses in turn, in order; the throttle counts only
    # those a handler takes (not group chatter), so it runs inside, after the routers' filters.
    dispatcher.update.outer_middleware(OnePerUser(frozenset(SERIAL_KINDS), shared))
    limiter = RateLimiter(settings.rate_limit_messages, settings.rate_limit_seconds)
    throttle = ThrottleMiddleware(limiter, shared)
    for kind in SERIAL_KINDS:
        dispatcher.observers[kind].middleware(throttle)
    dispatcher.inline_query.middleware(LatestInlineOnly(shared))
    dispatcher.include_routers(
        *(
            module.build_router()
            for module in (errors, admin, commands, questions, groups, media, callbacks, inline)
        )
    )
    retention = Retention(stats)
    dispatcher.startup.register(set_commands)
    dispatcher.startup.register(retention.start)
    dispatcher.startup.register(reloads.start)
    dispatcher.shutdown.register(finish_updates)
    dispatcher.shutdown.register(retention.stop)
    dispatcher.shutdown.register(reloads.stop)
    dispatcher.shutdown.register(shared.close)
    return dispatcher


def _commands(names: tuple[str, ...], lang: Lang) -> list[BotCommand]:
    return [BotCommand(command=name, description=t(lang, f"cmd_{name}")) for name in names]


async def set_commands(bot: Bot, admin_ids: frozenset[int]) -> None:
    """Register the command menu in English (the default) and Ukrainian; staff also see theirs."""
    for lang, code in LANGUAGES:
        await bot.set_my_commands(_commands(PUBLIC_COMMANDS, lang), BotCommandScopeDefault(), code)
    staff = PUBLIC_COMMANDS + STAFF_COMMANDS
    failed = 0
    for admin_id in admin_ids:
        try:
            for lang, code in LANGUAGES:
                await bot.set_my_commands(_commands(staff, lang), BotCommandScopeChat(chat_id=admin_id), code)
        except TelegramAPIError:
            # Typically the staff member has not opened a chat with the bot yet.
            failed += 1
    if failed:
        logger.warning("staff command menu not set for %d of %d staff members", failed, len(admin_ids))


async def finish_updates(in_flight: InFlight, shutdown_grace: float) -> None:
    """Let updates being handled finish (webhook mode) before the session closes.

    Most of the grace period: closing the server and the statistics come after, within it.
    """
    if not await in_flight.wait_idle(shutdown_grace * 0.7):
        logger.warning("stopped with %d updates still being handled", in_flight.count)
