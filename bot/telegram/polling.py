"""Long polling that confirms an update to Telegram only once it has been handled.

aiogram's own polling confirms a batch (asks for the next offset) as soon as it has
fetched it, so a stop while Telegram is slow lost the updates still being handled, and
one update it could not parse failed the whole batch again and again. Here:

- each update is read on its own; one that cannot be read is skipped (and confirmed)
  with a line naming only the error type;
- the offset sent to Telegram never passes an update still being handled;
- on stop, fetching stops first, updates in progress get `grace` seconds to finish,
  the rest stay unconfirmed so that the next start handles them, and the ids of those
  handled beyond the first unfinished one are kept in a small state file (ids only,
  no user data) so that they are not handled twice;
- getUpdates gives at most `limit` updates from the offset: when a whole batch is in hand
  and unfinished (one user's flood waiting its turn behind a slow reply), the offset moves
  past them so that the others' messages are fetched; those are then confirmed while still
  in progress. If the bot stops before they finish, Telegram will not give them again: they
  are written to a journal in DATA_DIR (readable by this user only; the one place an update
  is stored) and answered, once, by the next start, which deletes the journal as it reads it;
- everything on the way out (handlers, replies on their way, the last confirmation) fits in
  `grace` seconds, so that `docker stop` (10 s) does not kill the process first;
- a request already on its way to Telegram when the grace period ends is let finish
  (`ReplyTracker`), and an update that got its reply out counts as handled: cut there,
  the next start would have answered it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramConflictError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from pydantic import ValidationError

logger = logging.getLogger(__name__)

STATE_FILE = "polling-state.json"
JOURNAL_FILE = "polling-journal.json"
CONFIRM_TIME = 1.0
"""Seconds of the grace period kept for the last confirmation to Telegram."""
IDLE_WAIT = 1.0
"""Seconds to wait for a handler to finish when a fetch brought nothing new."""


@dataclass(slots=True)
class Progress:
    """What one update's handler has sent so far."""

    replied: bool = False
    sending: set[asyncio.Future[Any]] = field(default_factory=set)


_PROGRESS: ContextVar[Progress | None] = ContextVar("update_progress", default=None)
_NOT_REPLIES = frozenset({"getUpdates", "sendChatAction", "getMe"})


class ReplyTracker(BaseRequestMiddleware):
    """Let a request under way finish even if its handler is cancelled, and note that a reply went out."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Make the request, shielded from the cancellation of the handler that made it."""
        progress = _PROGRESS.get()
        if progress is None or method.__api_method__ in _NOT_REPLIES:
            return await make_request(bot, method)
        request = asyncio.ensure_future(make_request(bot, method))
        progress.sending.add(request)

        def sent(future: asyncio.Future[Any]) -> None:
            progress.sending.discard(future)
            if not future.cancelled() and future.exception() is None:
                progress.replied = True

        request.add_done_callback(sent)
        return await asyncio.shield(request)


class FetchUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates, returning raw updates so that each is read on its own."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class Poller:
    """Fetch updates, hand each to the dispatcher as a task, confirm only finished ones."""

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        *,
        grace: float,
        state_dir: Path | None = None,
        timeout: int = 30,
        limit: int = 100,
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.grace = grace
        self.state = state_dir / STATE_FILE if state_dir is not None else None
        self.journal = state_dir / JOURNAL_FILE if state_dir is not None else None
        self.timeout = timeout
        self.limit = limit
        self._next = 0
        """All updates below this id have been fetched (0: none yet)."""
        self._running: dict[int, asyncio.Task[None]] = {}
        self._raw: dict[int, dict[str, Any]] = {}
        """The updates in progress as Telegram sent them: the journal's lines if the bot stops."""
        self._replaying: dict[int, asyncio.Task[None]] = {}
        """Updates from the last run's journal: confirmed already, answered now."""
        self._progress: dict[int, Progress] = {}
        self._done: set[int] = set()
        """Handled ids at or above the confirmation point."""
        self._floor = 0
        """Updates below this id are confirmed even if still in progress (a full batch was in hand)."""
        self._told = 0
        """The offset of the last getUpdates that got an answer: Telegram has confirmed all below it."""
        self._finished = asyncio.Event()
        self.skipped = 0
        """Updates that could not be read."""

    @property
    def confirm_offset(self) -> int:
        """Return the offset to send: every update below it has been handled."""
        return max(min(self._running, default=self._next), self._floor)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set, then finish or leave unconfirmed what is in progress."""
        self._load_state()
        self._replay_journal()
        allowed = self.dispatcher.resolve_used_update_types()
        failures, conflict = 0, False
        while not stop.is_set():
            offset = self.confirm_offset
            # Handled ids are kept until Telegram has them confirmed: a fetch that fails confirms nothing.
            self._done = {i for i in self._done if i >= self._told}
            method = FetchUpdates(
                offset=offset or None, limit=self.limit, timeout=self.timeout, allowed_updates=allowed
            )
            fetch = asyncio.ensure_future(self.bot(method, request_timeout=self.timeout + 10))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramAPIError, ClientDecodeError):
                    await fetch
                break
            try:
                raw = fetch.result()
            except (TelegramAPIError, ClientDecodeError) as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6)) * random.uniform(0.8, 1.2)
                if not isinstance(exc, TelegramConflictError):
                    logger.warning("getUpdates failed (%s); retrying in %.1f s", type(exc).__name__, delay)
                elif not conflict:  # 409: another process polls with this token; said once
                    conflict = True
                    logger.error(
                        "another instance is polling with this bot token (Telegram answered 409 Conflict): "
                        "stop it, or run several instances in webhook mode (WEBHOOK_URL); waiting for it"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            if conflict:
                logger.info("polling again: the other instance stopped")
            failures, conflict = 0, False
            self._told = max(self._told, offset)
            new = self._start_all(raw)
            if not new and len(raw) >= self.limit:
                # A whole batch in hand: nothing beyond it can be fetched until the offset moves.
                self._floor = self._next
                logger.warning("%d updates in progress fill a batch; fetching past them", len(self._running))
            elif not new and raw:
                # Only updates already in hand: Telegram answers at once, so wait for one to finish.
                self._finished.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finished.wait(), IDLE_WAIT)
        await self._finish()

    def _start_all(self, raw: list[dict[str, Any]]) -> bool:
        """Start a task for each update not yet in hand; return whether there was one."""
        new = False
        for item in raw:
            update_id = item.get("update_id")
            if not isinstance(update_id, int):
                continue
            self._next = max(self._next, update_id + 1)
            if update_id in self._running or update_id in self._done:
                continue  # fetched again because an earlier one is still being handled
            new = True
            try:
                update = Update.model_validate(item, context={"bot": self.bot})
            except ValidationError as exc:
                self.skipped += 1
                self._done.add(update_id)
                logger.warning("skipped an update that could not be read (%s)", type(exc).__name__)
                continue
            self._raw[update_id] = item
            self._running[update_id] = asyncio.create_task(self._handle(update))
        return new

    async def _handle(self, update: Update) -> None:
        handled = False
        progress = self._progress[update.update_id] = Progress()
        _PROGRESS.set(progress)  # this task's own context
        try:
            await self.dispatcher.feed_update(self.bot, update)
            handled = True
        except Exception as exc:  # a handler's failure must not stop polling
            # The type only: aiogram's exception messages can quote chat ids.
            logger.error("an update failed: %s", type(exc).__name__)
            handled = True
        finally:
            # A cancelled one (stopped past the grace period) stays unconfirmed.
            if handled:
                self._done.add(update.update_id)
                self._progress.pop(update.update_id, None)
                self._raw.pop(update.update_id, None)
            self._running.pop(update.update_id, None)
            self._replaying.pop(update.update_id, None)
            self._finished.set()

    async def _finish(self) -> None:
        """Give updates in progress the grace period, then confirm what is done and keep the rest."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace
        tasks = {**self._running, **self._replaying}
        replaying = set(self._replaying)  # taken now: a finished or cancelled task leaves the dict
        if tasks:
            logger.info("stopping: %d updates in progress get %.1f s to finish", len(tasks), self.grace)
            # The handlers' share of the grace period; then replies on their way; then the confirmation.
            confirm = min(CONFIRM_TIME, self.grace / 4)
            room = (self.grace - confirm) * 0.7
            _, pending = await asyncio.wait(set(tasks.values()), timeout=room)
            unfinished = [i for i, task in tasks.items() if task in pending]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            # Requests already on their way finish; an update whose reply went out is handled.
            sending = {f for i in unfinished for f in self._progress[i].sending}
            if sending:
                await asyncio.wait(sending, timeout=max(0.05, deadline - confirm - loop.time()))
            # A reply still on its way at the deadline has reached Telegram as far as anyone can
            # tell: counted as sent, since answering it again would send it twice.
            unfinished = [
                i for i in unfinished if not self._progress[i].replied and not self._progress[i].sending
            ]
            self._done |= {i for i, p in self._progress.items() if p.replied or p.sending}
            # Confirmed to Telegram already (past the floor, or replayed from the journal): kept here.
            kept = [i for i in unfinished if i < self._floor or i in replaying]
            unfinished = [i for i in unfinished if i not in kept]
            self._write_journal([self._raw[i] for i in kept])
            if unfinished:
                # Left unconfirmed: Telegram gives them again to the next start.
                logger.warning("stopping: %d updates left for the next start", len(unfinished))
            offset = min(unfinished, default=self._next)
        else:
            offset = self._next
        if offset and offset > self._told:
            try:
                timeout = max(0.1, deadline - loop.time())
                await asyncio.wait_for(
                    self.bot(
                        FetchUpdates(offset=offset, limit=1, timeout=0), request_timeout=int(timeout) + 1
                    ),
                    timeout,
                )
                self._told = max(self._told, offset)
            except (TelegramAPIError, ClientDecodeError, TimeoutError) as exc:
                # Telegram gives the next start everything from the last offset it did confirm:
                # the state file lists what was handled since, so that none is answered twice.
                logger.warning("stopping: the last updates could not be confirmed (%s)", type(exc).__name__)
        self._save_state(self._told)

    def _replay_journal(self) -> None:
        """Start the updates the last run confirmed but did not answer; delete the journal."""
        if self.journal is None or not self.journal.exists():
            return
        try:
            items = json.loads(self.journal.read_text(encoding="utf-8"))
            self.journal.unlink()
        except (OSError, ValueError) as exc:
            logger.warning("ignoring %s: %s", self.journal, type(exc).__name__)
            return
        replayed = 0
        for item in items if isinstance(items, list) else []:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int) or update_id in self._replaying:
                continue
            try:
                update = Update.model_validate(item, context={"bot": self.bot})
            except ValidationError:
                continue
            self._raw[update_id] = item
            self._replaying[update_id] = asyncio.create_task(self._handle(update))
            replayed += 1
        logger.info("answering %d updates the last run had confirmed but not answered", replayed)

    def _write_journal(self, items: list[dict[str, Any]]) -> None:
        """Keep updates Telegram will not give again for the next start (mode 600), or say they are lost."""
        if not items:
            return
        if self.journal is not None:
            try:
                self.journal.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.journal.with_suffix(".tmp")
                fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(items, handle)
                os.replace(tmp, self.journal)
                logger.warning(
                    "stopping: %d confirmed updates not answered yet are kept for the next start", len(items)
                )
                return
            except OSError as exc:
                logger.warning("cannot write %s (%s)", self.journal, type(exc).__name__)
        logger.warning("stopping: %d updates confirmed while in progress did not finish", len(items))

    def _load_state(self) -> None:
        if self.state is None or not self.state.exists():
            return
        try:
            data = json.loads(self.state.read_text(encoding="utf-8"))
            done = {int(i) for i in data["done"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("ignoring %s: %s", self.state, type(exc).__name__)
            return
        self._done = done

    def _save_state(self, offset: int) -> None:
        if self.state is None:
            return
        done = sorted(i for i in self._done if i >= offset)
        try:
            self.state.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state.with_suffix(".tmp")
            tmp.write_text(json.dumps({"offset": offset, "done": done}), encoding="utf-8")
            os.replace(tmp, self.state)
        except OSError as exc:
            logger.warning(
                "cannot write %s (%s): updates handled after an unfinished one may repeat",
                self.state,
                type(exc).__name__,
            )
