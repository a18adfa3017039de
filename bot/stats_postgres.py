"""Usage statistics in PostgreSQL (DATABASE_URL): the rows and rules of `bot.stats`, shared by instances.

Writes go into a bounded queue that one thread empties into the database, so that a slow
or unreachable server never holds up an answer: while it does not answer, rows are
dropped and counted, as with SQLite, and the connection is tried again every few
seconds. The schema is created, or brought up to date, when a connection is made, under
an advisory lock so that instances starting together do not race. `/stats` reads with
its own short connection, so any instance shows every instance's rows.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable

import psycopg

from bot.service import Answer
from bot.stats import (
    INSERT_QUESTION,
    INSERT_VOTE,
    TOTALS,
    UNANSWERED,
    VOTE_COUNTS,
    VOTES_BY_VOTER,
    StatsError,
    Summary,
    question_row,
    summarise,
)

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3
LOCK_TIMEOUT_MS = 2000
STATEMENT_TIMEOUT_MS = 10_000
RETRY_AFTER_S = 5.0
"""After a failed write or connection, rows are dropped at once for this long, then it is tried again."""
QUEUE_SIZE = 10_000
FLUSH_WAIT_S = 5.0
"""How long /stats waits for rows still queued, so that it shows the questions just asked."""
CLOSE_WAIT_S = 1.0
"""How long closing waits for queued rows: a stop must fit in SHUTDOWN_GRACE and docker stop's 10 s."""
_HOUR = 3600
_DAY = 86400
_SCHEMA_LOCK = 7_310_502_024
"""Any constant: the advisory lock that instances take while creating the schema."""
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS questions (id BIGSERIAL PRIMARY KEY, asked_hour BIGINT NOT NULL, "
    "answered INTEGER NOT NULL, reason TEXT NOT NULL, passage_id TEXT, language TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS questions_hour ON questions (asked_hour)",
    "CREATE TABLE IF NOT EXISTS votes (id BIGSERIAL PRIMARY KEY, voted_hour BIGINT NOT NULL, "
    "passage_id TEXT NOT NULL, up INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS votes_hour ON votes (voted_hour)",
    # Added after the first version: one vote per person per passage.
    "ALTER TABLE votes ADD COLUMN IF NOT EXISTS voter TEXT",
    "CREATE UNIQUE INDEX IF NOT EXISTS votes_voter ON votes (voter)",
)

_Row = tuple[str, tuple[object, ...]]


class PostgresStats:
    """Record questions and votes in PostgreSQL from a writer thread; summarise them; forget old ones."""

    def __init__(self, url: str, retention_days: int = 30, clock: Callable[[], float] = time.time) -> None:
        """Start the writer, which connects and creates the schema at once."""
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.available = True
        self.retention_days = retention_days
        self.failures = 0
        """Rows dropped since start (the server did not answer, or the queue was full)."""
        self._url = url
        self._clock = clock
        self._queue: queue.Queue[_Row | None] = queue.Queue(QUEUE_SIZE)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._retry_at = 0.0
        self._down = False
        self._last_purge = 0.0
        self._schema_ready = False
        self._thread = threading.Thread(target=self._drain, name="stats-writer", daemon=True)
        self._thread.start()

    def _hour(self) -> int:
        return int(self._clock()) // _HOUR * _HOUR

    def record_answer(self, answer: Answer) -> None:
        """Queue the row of a question (see `bot.stats.question_row`)."""
        row = question_row(answer, self._hour())
        if row is not None:
            self._put((INSERT_QUESTION.format(p="%s"), row))

    def record_vote(self, passage_id: str, up: bool, voter: str | None = None) -> bool:
        """Queue a vote; the same `voter` again replaces their vote; return whether it was queued."""
        if voter is None:
            return self._put((INSERT_VOTE.format(p="%s"), (self._hour(), passage_id, int(up))))
        return self._put((VOTES_BY_VOTER.format(p="%s"), (self._hour(), passage_id, int(up), voter)))

    def _put(self, row: _Row) -> bool:
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._dropped("queue full")
            return False
        return True

    def _dropped(self, why: str) -> None:
        self.failures += 1
        if self.failures == 1 or self.failures % 100 == 0:
            logger.warning("statistics write dropped (%s), %d so far", why, self.failures)

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """Open a connection with the schema in place."""
        connection = psycopg.connect(
            self._url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="embassy-bot",
            # A statement waiting on another session's lock (a dump, a staff query) gives up.
            options=f"-c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS}",
        )
        if self._schema_ready:
            return connection
        try:
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in SCHEMA:
                    connection.execute(statement)
        except psycopg.Error:
            connection.close()
            raise
        self._schema_ready = True  # once per process: ALTER TABLE locks the table even when it is a no-op
        return connection

    def _drain(self) -> None:
        """Write queued rows until `close()`; drop them while the server does not answer."""
        while True:
            if self._connection is None and self._clock() >= self._retry_at:
                self._reconnect()
            row = self._queue.get()
            try:
                if row is None:
                    return
                self._write(row)
            finally:
                self._queue.task_done()

    def _reconnect(self) -> None:
        try:
            self._connection = self._connect()
        except psycopg.Error as exc:
            self._failed(exc)
            return
        if self._down:
            self._down = False
            logger.info("statistics database answers again")

    def _write(self, row: _Row) -> None:
        if self._connection is None and self._clock() >= self._retry_at:
            self._reconnect()
        if self._connection is None:
            self._dropped("database unreachable")
            return
        sql, values = row
        try:
            self._connection.execute(sql, values)
            if self._clock() - self._last_purge >= _HOUR:
                self._purge_with(self._connection)
        except psycopg.Error as exc:
            self._failed(exc)
            self._dropped(type(exc).__name__)

    def _failed(self, exc: psycopg.Error) -> None:
        self._retry_at = self._clock() + RETRY_AFTER_S
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if not self._down:
            self._down = True
            # The type only: its message can name the server, the user or a statement's values.
            logger.warning("statistics database does not answer (%s); answering on", type(exc).__name__)

    def _purge_with(self, connection: psycopg.Connection[tuple[object, ...]]) -> int:
        self._last_purge = self._clock()
        cutoff = int(self._last_purge) - self.retention_days * _DAY
        deleted = connection.execute("DELETE FROM questions WHERE asked_hour < %s", (cutoff,)).rowcount
        deleted += connection.execute("DELETE FROM votes WHERE voted_hour < %s", (cutoff,)).rowcount
        return deleted

    def _reader(self) -> psycopg.Connection[tuple[object, ...]]:
        try:
            return self._connect()
        except psycopg.Error as exc:
            raise StatsError(type(exc).__name__) from None

    def purge(self) -> int:
        """Delete every row older than the retention period; return how many were deleted."""
        try:
            with self._reader() as connection:
                return self._purge_with(connection)
        except psycopg.Error as exc:
            raise StatsError(type(exc).__name__) from None

    def flush(self, timeout: float = FLUSH_WAIT_S) -> bool:
        """Wait until the rows queued so far are written or dropped; return whether they were."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def summary(self, limit: int = 10) -> Summary:
        """Summarise every instance's rows: counts, unanswered questions by reason and passage, votes."""
        self.flush()
        try:
            with self._reader() as connection:
                self._purge_with(connection)
                totals = connection.execute(TOTALS).fetchone()
                unanswered = connection.execute(UNANSWERED.format(p="%s"), (limit,)).fetchall()
                votes = connection.execute(VOTE_COUNTS.format(p="%s"), (limit,)).fetchall()
        except psycopg.Error as exc:
            raise StatsError(type(exc).__name__) from None
        if totals is None:
            raise StatsError("no totals")
        return summarise(self.retention_days, totals, unanswered, votes)

    def ready(self) -> bool:
        """Return whether the database answers now."""
        try:
            with psycopg.connect(self._url, connect_timeout=CONNECT_TIMEOUT_S) as connection:
                connection.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def close(self) -> None:
        """Write what is queued (CLOSE_WAIT_S at most), then close the connection."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=1)
        self._thread.join(CLOSE_WAIT_S)
        connection = self._connection
        if connection is not None and not self._thread.is_alive():  # else it is the writer's still
            connection.close()
