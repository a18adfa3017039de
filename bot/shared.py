"""State that several instances share through Redis (REDIS_URL), with this process as the fallback.

Each user is known only by a keyed hash of their id (the key is VOTE_SECRET, which every
instance shares and Redis never sees); update ids are Telegram's counters, not user data;
every key expires. When Redis does not answer, callers fall back to their in-process
state: one warning is logged, Redis is tried again a few seconds later, and one line says
when it answers again. A failing Redis never stands between a user and an answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

T = TypeVar("T")
PREFIX = "embassy-bot:"
RETRY_AFTER = 5.0
"""Seconds the in-process fallback is used after Redis failed, before Redis is tried again."""
TIMEOUT = 0.5
"""Seconds a Redis call may take: past this the user is served from this process's state."""
RELOAD_CHANNEL = PREFIX + "reload"


class SharedState:
    """A Redis connection that callers use while it answers, and the switch to their fallback."""

    def __init__(self, url: str | None, secret: bytes, clock: Callable[[], float] = time.monotonic) -> None:
        """Connect lazily to Redis at `url` (None: this process's state only); hash users with `secret`."""
        self._secret = secret
        self._clock = clock
        self._down_until = 0.0
        self._down = False
        self.client: Redis | None = None
        if url is not None:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            # No retries inside redis-py: a retry is a user waiting; the fallback answers now.
            self.client = Redis.from_url(
                url,
                socket_timeout=TIMEOUT,
                socket_connect_timeout=TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )

    @property
    def configured(self) -> bool:
        """Return whether REDIS_URL is set."""
        return self.client is not None

    def user(self, user_id: int) -> str:
        """Return the key part naming a user: a keyed hash, never the id."""
        return hashlib.blake2b(str(user_id).encode(), key=self._secret[:64], digest_size=12).hexdigest()

    def usable(self) -> Redis | None:
        """Return the client if Redis is set and not known to be down, else None (use the fallback)."""
        if self.client is None or (self._down and self._clock() < self._down_until):
            return None
        return self.client

    async def run(self, call: Callable[[Redis], Awaitable[T]], fallback: Callable[[], Awaitable[T]]) -> T:
        """Return `call(redis)`, or `fallback()` when Redis is not set or does not answer."""
        client = self.usable()
        if client is None:
            return await fallback()
        try:
            result = await call(client)
        except Exception as exc:  # redis-py's errors and OSError alike; a timeout too
            self.failed(exc)
            return await fallback()
        self.answered()
        return result

    def failed(self, exc: BaseException) -> None:
        """Note that Redis did not answer: use the fallback for a while; say so once."""
        self._down_until = self._clock() + RETRY_AFTER
        if not self._down:
            self._down = True
            # The type only: a connection error's text can hold the URL with its password.
            logger.warning(
                "Redis does not answer (%s): using this instance's own state until it does",
                type(exc).__name__,
            )

    def answered(self) -> None:
        """Note that Redis answered; say so once if it had not."""
        if self._down:
            self._down = False
            logger.info("Redis answers again: state is shared again")

    @contextlib.asynccontextmanager
    async def lock(self, name: str, hold: float, wait: float) -> AsyncIterator[None]:
        """Hold a lock shared by the instances (at most `hold` s); go on without it if Redis fails."""
        client = self.usable()
        if client is None:
            yield
            return
        lock = client.lock(PREFIX + name, timeout=hold, blocking_timeout=wait, sleep=0.05)
        try:
            acquired = await lock.acquire()
        except Exception as exc:
            self.failed(exc)
            acquired = False
        else:
            self.answered()
        try:
            yield
        finally:
            if acquired:
                with contextlib.suppress(Exception):  # expired meanwhile, or Redis went away
                    await lock.release()

    async def ping(self) -> bool:
        """Return whether Redis answers (True when it is not set)."""
        if self.client is None:
            return True
        try:
            await self.client.ping()
        except Exception as exc:
            self.failed(exc)
            return False
        self.answered()
        return True

    async def close(self) -> None:
        """Close the connection."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.aclose()
