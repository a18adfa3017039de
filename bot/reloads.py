"""`/reload` on every instance: the one that got the command tells the others through Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import TYPE_CHECKING

from bot.service import AnswerService
from bot.shared import RELOAD_CHANNEL, RETRY_AFTER, SharedState
from index.content.loader import ContentError

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

LISTEN_WAIT = 0.4
"""Seconds one wait for a message lasts: below the Redis client's socket timeout."""


class Reloads:
    """Announce a reload to the other instances, and reload when another one announces."""

    def __init__(self, shared: SharedState, service: AnswerService) -> None:
        self.shared = shared
        self.service = service
        self.instance = secrets.token_hex(8).encode()
        """This process's name on the channel, so that it does not reload twice."""
        self._task: asyncio.Task[None] | None = None

    async def announce(self) -> int | None:
        """Tell the other instances to reload; return how many heard it (None: Redis not set or down)."""
        if not self.shared.configured:
            return None

        async def publish(redis: Redis) -> int | None:
            heard = await redis.publish(RELOAD_CHANNEL, self.instance)
            return max(int(heard) - 1, 0)  # this instance listens too

        async def unknown() -> None:
            return None

        return await self.shared.run(publish, unknown)

    async def start(self) -> None:
        """Listen for other instances' reloads in the background (with Redis only)."""
        if self.shared.configured:
            self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        assert self.shared.client is not None
        while True:
            try:
                async with self.shared.client.pubsub() as pubsub:
                    await pubsub.subscribe(RELOAD_CHANNEL)
                    self.shared.answered()
                    while True:
                        message = await pubsub.get_message(True, timeout=LISTEN_WAIT)  # no subscribe notes
                        if message is not None and message.get("data") != self.instance:
                            await self._reload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: listen again when it is back
                self.shared.failed(exc)
                await asyncio.sleep(RETRY_AFTER)

    async def _reload(self) -> None:
        try:
            corpus = await asyncio.to_thread(self.service.reload)
        except (ContentError, OSError, ValueError) as exc:
            logger.warning("reload asked by another instance failed, keeping the previous index: %s", exc)
            return
        logger.info("content reloaded as another instance asked: %d passages", len(corpus.passages))
