"""Usage statistics for staff, in SQLite: what was asked about, never who asked or what they wrote.

(PostgreSQL, for several instances, is `bot.stats_postgres`, with the same rows and rules.)

No Telegram ids, names or usernames are ever passed in, and no question text is kept:
for each question, whether it was answered, why not, the passage it came nearest to,
its language and the hour. Scrubbing contact details from texts was tried before and
could not catch a name or an address typed in a question, so texts are not stored at
all. Every row older than the retention period is deleted.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.service import Answer

logger = logging.getLogger(__name__)

DB_NAME = "stats.sqlite3"
_HOUR = 3600
_DAY = 86400
_PURGE_EVERY = _HOUR
BUSY_TIMEOUT_S = 0.05
"""How long a write waits for a lock another process holds (a backup, a staff query) before it is
dropped: writes run between answers, so SQLite's default 5 s would hold every user up that long."""
OPEN_TIMEOUT_S = 5.0
"""How long opening waits for such a lock: once, at start, where a few seconds hold up no one."""
PAUSE_AFTER_LOCK_S = 5.0
"""After a write found the file locked, writes are dropped at once for this long: a lock held for
minutes would otherwise cost every answer the wait."""


@dataclass(frozen=True, slots=True)
class Votes:
    """Feedback on one passage."""

    passage_id: str
    up: int
    down: int


@dataclass(frozen=True, slots=True)
class Unanswered:
    """Questions not answered for one reason, near one passage (None: no passage near)."""

    reason: str
    passage_id: str | None
    count: int


@dataclass(frozen=True, slots=True)
class Summary:
    """What staff see in /stats."""

    days: int
    questions: int
    answered: int
    unanswered: tuple[Unanswered, ...]
    """Unanswered questions by reason and nearest passage, most frequent first."""
    votes: tuple[Votes, ...]

    @property
    def answered_share(self) -> float:
        """Return the share of questions answered, 0 to 1."""
        return self.answered / self.questions if self.questions else 0.0


class StatsError(Exception):
    """Statistics cannot be read now (off, or the database does not answer)."""


class StatsStore(Protocol):
    """What the bot asks of a statistics store (SQLite here, or PostgreSQL)."""

    available: bool
    failures: int
    retention_days: int

    def record_answer(self, answer: Answer) -> None:
        """Store that a question was asked; never raise."""

    def record_vote(self, passage_id: str, up: bool, voter: str | None = None) -> bool:
        """Store a vote (a voter's second vote on a passage replaces the first); never raise."""

    def purge(self) -> int:
        """Delete rows past the retention period; raise StatsError if the database fails."""

    def summary(self, limit: int = 10) -> Summary:
        """Summarise what is stored; raise StatsError if it cannot be read."""

    def ready(self) -> bool:
        """Return whether the database answers (True when statistics are off: nothing to wait for)."""

    def close(self) -> None:
        """Close the database."""


VOTES_BY_VOTER = (
    "INSERT INTO votes (voted_hour, passage_id, up, voter) VALUES ({p}, {p}, {p}, {p}) "
    "ON CONFLICT (voter) DO UPDATE SET up = excluded.up, voted_hour = excluded.voted_hour"
)
"""One vote per person per passage: `voter` is a keyed hash of the person and the passage."""
TOTALS = "SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM questions"
UNANSWERED = (
    "SELECT reason, passage_id, COUNT(*) AS n FROM questions WHERE answered = 0 "
    "GROUP BY reason, passage_id ORDER BY n DESC, MIN(id) LIMIT {p}"
)
VOTE_COUNTS = (
    "SELECT passage_id, SUM(up), SUM(1 - up) FROM votes "
    "GROUP BY passage_id ORDER BY COUNT(*) DESC, passage_id LIMIT {p}"
)
INSERT_QUESTION = (
    "INSERT INTO questions (asked_hour, answered, reason, passage_id, language) "
    "VALUES ({p}, {p}, {p}, {p}, {p})"
)
INSERT_VOTE = "INSERT INTO votes (voted_hour, passage_id, up) VALUES ({p}, {p}, {p})"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    asked_hour INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    reason TEXT NOT NULL,
    passage_id TEXT,
    language TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_hour ON questions (asked_hour);
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY,
    voted_hour INTEGER NOT NULL,
    passage_id TEXT NOT NULL,
    up INTEGER NOT NULL,
    voter TEXT
);
CREATE INDEX IF NOT EXISTS votes_hour ON votes (voted_hour);
"""
_VOTER_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS votes_voter ON votes (voter)"


class Stats:
    """Record questions and votes; summarise them; forget them after `retention_days`."""

    def __init__(
        self, path: Path | None, retention_days: int = 30, clock: Callable[[], float] = time.time
    ) -> None:
        """Open (or create) the database at `path`; None keeps nothing: statistics are off."""
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.path = path
        self.available = path is not None
        self.retention_days = retention_days
        self._clock = clock
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Readable by this user only (SQLite gives its WAL the same mode).
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(path, 0o600)
        # Used from the event loop (writes) and from a worker thread (/stats, the hourly purge):
        # one lock around every use.
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            path if path is not None else ":memory:",
            isolation_level=None,
            timeout=OPEN_TIMEOUT_S,
            check_same_thread=False,
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._upgrade()
        self._texts_on_disk = False
        """Texts of an earlier version deleted, but still in the file until a checkpoint succeeds."""
        self._forget_texts()
        self._last_purge = 0.0
        self._paused_until = 0.0
        self.failures = 0
        """Statistics writes that failed since start (a full disk, a damaged or locked file)."""
        self._purge()
        self._db.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")

    @classmethod
    def open(cls, data_dir: Path, retention_days: int = 30) -> Stats:
        """Open (or create) the statistics database in a data folder."""
        return cls(data_dir / DB_NAME, retention_days)

    @classmethod
    def open_or_off(cls, data_dir: Path, retention_days: int = 30) -> Stats:
        """Open the database; if DATA_DIR or the file cannot be used, answer on without statistics."""
        try:
            return cls.open(data_dir, retention_days)
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            logger.warning(
                "statistics are off: cannot use %s in DATA_DIR=%s (%s); answering without them",
                DB_NAME,
                data_dir,
                reason,
            )
            return cls(None, retention_days)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _hour(self) -> int:
        return int(self._clock()) // _HOUR * _HOUR

    def _forget_texts(self) -> None:
        """Remove the question texts that versions before this one stored, from the file too."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(questions)")}
        if "question" in columns:
            self._db.execute("ALTER TABLE questions DROP COLUMN question")
            self._db.execute("VACUUM")  # rewrites the file: the freed pages held the texts
            self._texts_on_disk = True
            self._checkpoint()
            logger.info("statistics: question texts stored by an earlier version deleted")

    def _upgrade(self) -> None:
        """Bring a file of an earlier version up to this schema."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(votes)")}
        if "voter" not in columns:
            self._db.execute("ALTER TABLE votes ADD COLUMN voter TEXT")
        self._db.execute(_VOTER_INDEX)

    def _checkpoint(self) -> None:
        """Copy the write-ahead log into the file and empty it, if no other reader holds it back."""
        # Until this succeeds, the old texts' pages are still in the file and the log: it is
        # tried again after each write (another process reading the file blocks it, silently).
        busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        self._texts_on_disk = self._texts_on_disk and busy != 0

    def record_answer(self, answer: Answer) -> None:
        """Store that a question was asked: answered or why not, the nearest passage, language, hour."""
        row = question_row(answer, self._hour())
        if row is not None:
            self._write(INSERT_QUESTION.format(p="?"), row)

    def record_vote(self, passage_id: str, up: bool, voter: str | None = None) -> bool:
        """Store a 👍 or 👎 on a passage; the same `voter` again replaces their vote; return if stored."""
        if voter is None:
            return self._write(INSERT_VOTE.format(p="?"), (self._hour(), passage_id, int(up))) is not None
        values = (self._hour(), passage_id, int(up), voter)
        return self._write(VOTES_BY_VOTER.format(p="?"), values) is not None

    def ready(self) -> bool:
        """Return True: a local file needs no server to answer."""
        return True

    def _write(self, sql: str, values: tuple[object, ...]) -> int | None:
        """Run one write and return the row it made; a failure is logged and counted, never raised."""
        if not self.available:
            return None
        if 0 <= self._paused_until - self._clock() <= PAUSE_AFTER_LOCK_S:  # a clock set back ends it too
            self.failures += 1
            return None
        try:
            with self._lock:
                row = self._db.execute(sql, values).lastrowid
                if self._clock() - self._last_purge >= _PURGE_EVERY:
                    self._purge()
                if self._texts_on_disk:
                    self._checkpoint()
            return row
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                self._paused_until = self._clock() + PAUSE_AFTER_LOCK_S
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                # The exception's type only: its message could quote the statement's values.
                logger.warning("statistics write failed (%s), %d so far", type(exc).__name__, self.failures)
            return None

    def purge(self) -> int:
        """Delete every row older than the retention period; return how many were deleted."""
        try:
            with self._lock:
                return self._purge()
        except sqlite3.Error as exc:
            raise StatsError(type(exc).__name__) from None

    def _purge(self) -> int:
        now = self._clock()
        self._last_purge = now
        cutoff = int(now) - self.retention_days * _DAY
        deleted = self._db.execute("DELETE FROM questions WHERE asked_hour < ?", (cutoff,)).rowcount
        deleted += self._db.execute("DELETE FROM votes WHERE voted_hour < ?", (cutoff,)).rowcount
        return deleted

    def summary(self, limit: int = 10) -> Summary:
        """Summarise what is stored: counts, unanswered questions by reason and passage, votes."""
        if not self.available:
            raise StatsError("statistics are off")
        try:
            with self._lock:
                self._purge()
                return self._summary(limit)
        except sqlite3.Error as exc:
            raise StatsError(type(exc).__name__) from None

    def _summary(self, limit: int) -> Summary:
        totals = self._db.execute(TOTALS).fetchone()
        unanswered = self._db.execute(UNANSWERED.format(p="?"), (limit,)).fetchall()
        votes = self._db.execute(VOTE_COUNTS.format(p="?"), (limit,)).fetchall()
        return summarise(self.retention_days, totals, unanswered, votes)


def question_row(answer: Answer, hour: int) -> tuple[object, ...] | None:
    """Return the row stored for a question, or None for what is not a question."""
    if answer.reason in ("empty", "small_talk"):
        # Greetings and thanks are not questions: nothing for staff to learn, nothing to keep.
        return None
    # The answer's passage, or for a question not answered the nearest one: where staff might
    # add or reword a text. None for a consular question: it was sent to the consular service.
    nearest = answer.hits and answer.reason != "consular"
    passage_id = answer.hits[0].passage.id if nearest else None
    return (hour, int(answer.answered), answer.reason, passage_id, answer.language)


def open_stats(data_dir: Path, retention_days: int, database_url: str | None) -> StatsStore:
    """Return the PostgreSQL store if DATABASE_URL is set, else SQLite in DATA_DIR (or statistics off)."""
    if database_url is None:
        return Stats.open_or_off(data_dir, retention_days)
    from bot.stats_postgres import PostgresStats  # psycopg is loaded only when it is used

    return PostgresStats(database_url, retention_days)


def summarise(days: int, totals: Sequence[Any], unanswered: list[Any], votes: list[Any]) -> Summary:
    """Return the Summary of the rows that TOTALS, UNANSWERED and VOTE_COUNTS selected."""
    questions, answered = totals
    return Summary(
        days=days,
        questions=int(questions),
        answered=int(answered),
        unanswered=tuple(Unanswered(str(r), p, int(n)) for r, p, n in unanswered),
        votes=tuple(Votes(str(p), int(u), int(d)) for p, u, d in votes),
    )
