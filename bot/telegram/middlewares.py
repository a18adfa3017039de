"""Dispatcher middlewares: repeated updates, interface language, in-flight tracking, per-user throttling."""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from bot.shared import PREFIX, SharedState
from bot.texts import lang_of, t

if TYPE_CHECKING:
    from redis.asyncio import Redis

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
Verdict = Literal["allow", "notify", "drop"]
UPDATE_TTL = 86_400
"""Seconds an update id is remembered in Redis: Telegram gives up redelivering within a day."""
TURN_HOLD = 60.0
TURN_WAIT = 30.0
INLINE_TTL = 60


class OnceOnly(BaseMiddleware):
    """Handle each update once: Telegram delivers an update again when a webhook reply timed out.

    The ids of the last `size` updates are kept in memory, and with Redis in a key per
    update that expires after a day, so that an update delivered to two instances is
    handled by one (ids only: no user data).
    """

    def __init__(self, shared: SharedState, size: int = 10_000) -> None:
        self.shared = shared
        self.size = size
        self._seen: dict[int, None] = {}
        self.repeated = 0

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Handle the update unless its id was seen."""
        update_id = event.update_id if isinstance(event, Update) else None
        if update_id is None:
            return await handler(event, data)
        if not await self._first(update_id):
            self.repeated += 1
            return None
        try:
            return await handler(event, data)
        except asyncio.CancelledError:
            # Cut by a stop: not answered, so the next start (or instance) must be free to.
            await self._release(update_id)
            raise

    async def _release(self, update_id: int) -> None:
        self._seen.pop(update_id, None)

        async def forget(redis: Redis) -> None:
            await redis.delete(f"{PREFIX}update:{update_id}")

        await self.shared.run(forget, _nothing)

    async def _first(self, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        if len(self._seen) > self.size:
            del self._seen[next(iter(self._seen))]

        async def claim(redis: Redis) -> bool:
            return bool(await redis.set(f"{PREFIX}update:{update_id}", 1, nx=True, ex=UPDATE_TTL))

        return await self.shared.run(claim, _true)


async def _incr_expire(redis: Redis, key: str, seconds: int) -> list[Any]:
    """Count one more under `key`, which expires `seconds` from now; return [count, True]."""
    pipe = redis.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, seconds)
    return await pipe.execute()


async def _true() -> bool:
    return True


async def _nothing() -> None:
    return None


class LanguageMiddleware(BaseMiddleware):
    """Put `lang` ('en' or 'uk', from the user's Telegram language) into the handler data."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Handle the event."""
        user: User | None = data.get("event_from_user")
        data["lang"] = lang_of(user.language_code if user else None)
        return await handler(event, data)


class InFlight(BaseMiddleware):
    """Count updates being handled, so that shutdown can let them finish."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Handle the event."""
        self.count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if self.count == 0:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no update is being handled; return False if `timeout` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


@dataclass(slots=True)
class _Window:
    times: deque[float]
    notified: bool = False


@dataclass
class RateLimiter:
    """Allow `limit` events per `period` seconds per user; count refused attempts too.

    Users are known only by a keyed hash of their id, kept in memory; the key is
    random per process, so nothing here can be matched to a user later.
    """

    limit: int
    period: float
    clock: Callable[[], float] = time.monotonic
    max_users: int = 10_000
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(16), repr=False)
    _windows: dict[bytes, _Window] = field(default_factory=dict, repr=False)

    def _user(self, user_id: int) -> bytes:
        return hashlib.blake2b(str(user_id).encode(), key=self._key, digest_size=8).digest()

    def check(self, user_id: int) -> Verdict:
        """Record an attempt; say whether to serve it, refuse it with a notice, or drop it silently."""
        now = self.clock()
        key = self._user(user_id)
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= self.max_users:
                self._forget_idle(now)
            window = self._windows[key] = _Window(deque(maxlen=self.limit))
        full = len(window.times) == self.limit and now - window.times[0] < self.period
        # A refused attempt counts too: whoever keeps flooding stays throttled.
        window.times.append(now)
        if not full:
            window.notified = False
            return "allow"
        if window.notified:
            return "drop"
        window.notified = True
        return "notify"

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, w in self._windows.items() if now - w.times[-1] >= self.period]
        for key in idle:
            del self._windows[key]


class ThrottleMiddleware(BaseMiddleware):
    """Refuse messages and button presses from a user who sends too many, with one notice.

    With Redis, attempts are counted per user across instances in a window that opens at
    the user's first attempt and lasts the limiter's period (a refused attempt counts too);
    without it, or while it does not answer, by this process's sliding window.
    """

    def __init__(self, limiter: RateLimiter, shared: SharedState) -> None:
        self.limiter = limiter
        self.shared = shared

    async def check(self, user_id: int) -> Verdict:
        """Record an attempt; say whether to serve it, refuse it with a notice, or drop it silently."""
        limit, period = self.limiter.limit, self.limiter.period

        async def shared(redis: Redis) -> Verdict:
            # A window opens at the user's first attempt and lasts `period`; attempts in it count.
            key = f"{PREFIX}rate:{self.shared.user(user_id)}"
            pipe = redis.pipeline(transaction=True)
            pipe.set(key, 0, ex=math.ceil(period), nx=True)
            pipe.incr(key)
            _, count = await pipe.execute()
            return "allow" if count <= limit else "notify" if count == limit + 1 else "drop"

        async def local() -> Verdict:
            return self.limiter.check(user_id)

        return await self.shared.run(shared, local)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Handle the event."""
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        verdict = await self.check(user.id)
        if verdict == "allow":
            return await handler(event, data)
        notice = t(data.get("lang", "en"), "slow_down")
        if isinstance(event, CallbackQuery):
            # A button press must be answered either way, or the client keeps spinning.
            await event.answer(notice)
        elif isinstance(event, Message) and verdict == "notify":
            # In a group, a reply: the notice is for the one sender, not the whole group.
            await (event.answer(notice) if event.chat.type == ChatType.PRIVATE else event.reply(notice))
        return None


class OnePerUser(BaseMiddleware):
    """Handle one update of each user at a time, in the order they came.

    An outer middleware of the dispatcher's updates: the turn is taken before any router's
    filters run, which may wait (a command's filter asks for the bot's name), so a command
    sent after a question cannot overtake it. A user sending many messages at once waits
    for their own answers one by one instead of taking every worker thread, so the others
    are served meanwhile. Users are known by a keyed hash of their id, in memory, forgotten
    when idle. Updates of other kinds (`kinds`: inline queries have their own) pass through.
    With Redis, the turn is also a lock shared by the instances (held `TURN_HOLD` s at most,
    waited for `TURN_WAIT` s at most): two messages of one user that reach two instances
    are answered one after the other.
    """

    def __init__(self, kinds: frozenset[str], shared: SharedState) -> None:
        self.kinds = kinds
        self.shared = shared
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Wait for this user's earlier updates, then handle this one."""
        user: User | None = data.get("event_from_user")
        if user is None or not isinstance(event, Update) or event.event_type not in self.kinds:
            return await handler(event, data)
        key = self.shared.user(user.id)
        lock, waiting = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        waiting[0] += 1
        try:
            async with lock, self.shared.lock(f"turn:{key}", hold=TURN_HOLD, wait=TURN_WAIT):
                return await handler(event, data)
        finally:
            waiting[0] -= 1
            if not waiting[0]:
                del self._locks[key]


class LatestInlineOnly(BaseMiddleware):
    """Answer one inline query per user at a time, and only the latest one typed.

    Telegram sends an inline query for each keystroke. Queries of one user are served one
    after another; a query that a newer one from the same user has superseded while it
    waited is dropped unanswered (Telegram shows the newest results anyway), so a user
    sending thousands of queries costs the others one query's work at a time. Users are
    known by a keyed hash of their id, in memory, forgotten when they are idle; with Redis
    the latest query's number is shared, so a query superseded on another instance is
    dropped too.
    """

    def __init__(self, shared: SharedState) -> None:
        self.shared = shared
        self._latest: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._counter = 0

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Serve the query if it is still its user's latest when its turn comes."""
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        key = self.shared.user(user.id)
        self._counter += 1
        mine = self._latest[key] = self._counter
        name = f"{PREFIX}inline:{key}"

        async def number(redis: Redis) -> int | None:
            count, _ = await _incr_expire(redis, name, INLINE_TTL)
            return int(count)

        shared_mine = await self.shared.run(number, _none)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            try:
                if self._latest.get(key) != mine or not await self._still_latest(name, shared_mine):
                    return None  # superseded by a newer query of this user
                return await handler(event, data)
            finally:
                if self._latest.get(key) == mine:
                    # Nothing newer is waiting here: forget the user.
                    del self._latest[key]
                    del self._locks[key]

    async def _still_latest(self, name: str, mine: int | None) -> bool:
        """Return whether no instance has had a newer query of this user (True if Redis did not count)."""
        if mine is None:
            return True

        async def latest(redis: Redis) -> bool:
            current = await redis.get(name)
            return current is None or int(current) == mine

        return await self.shared.run(latest, _true)


async def _none() -> None:
    return None
