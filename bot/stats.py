"""Usage statistics for staff, in SQLite: questions without who asked them, and votes.

Nothing here identifies a user: no Telegram ids, names or usernames are ever
passed in. Question texts are scrubbed of phone numbers, e-mail addresses,
@usernames and long digit runs before they are stored, times are kept to the
hour, and every row older than the retention period is deleted.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.service import Answer

logger = logging.getLogger(__name__)

DB_NAME = "stats.sqlite3"
MAX_STORED_CHARS = 300
TOO_LONG_PLACEHOLDER = "(too long, not stored)"
_HOUR = 3600
_DAY = 86400
_PURGE_EVERY = _HOUR
BUSY_TIMEOUT_S = 0.05
"""How long a write waits for a lock another process holds (a backup, a staff query) before it is
dropped: writes run between answers, so SQLite's default 5 s would hold every user up that long."""

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.|t\.me/)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w{3,}")
# A phone number: an optional +, then digits broken by spaces, dots, dashes or brackets.
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
_DIGITS = re.compile(r"\d{5,}")
_MIN_PHONE_DIGITS = 7
_SPACES = re.compile(r"\s+")


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    return "[phone]" if sum(c.isdigit() for c in text) >= _MIN_PHONE_DIGITS else text


def scrub(text: str) -> str:
    """Return the text without e-mail addresses, links, @usernames, phone numbers and long numbers."""
    text = _EMAIL.sub("[email]", text)
    text = _URL.sub("[link]", text)
    text = _MENTION.sub("[user]", text)
    text = _PHONE.sub(_phone, text)
    text = _DIGITS.sub("[number]", text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Votes:
    """Feedback on one passage."""

    passage_id: str
    up: int
    down: int


@dataclass(frozen=True, slots=True)
class Summary:
    """What staff see in /stats."""

    days: int
    questions: int
    answered: int
    unanswered: tuple[tuple[str, int], ...]
    """Most frequent unanswered questions (scrubbed text, count), most frequent first."""
    votes: tuple[Votes, ...]

    @property
    def answered_share(self) -> float:
        """Return the share of questions answered, 0 to 1."""
        return self.answered / self.questions if self.questions else 0.0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    asked_hour INTEGER NOT NULL,
    question TEXT NOT NULL,
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
    up INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS votes_hour ON votes (voted_hour);
"""


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
            # It holds question texts: readable by this user only (SQLite gives its WAL the same mode).
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(path, 0o600)
        self._db = sqlite3.connect(
            path if path is not None else ":memory:", isolation_level=None, timeout=BUSY_TIMEOUT_S
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._last_purge = 0.0
        self.failures = 0
        """Statistics writes that failed since start (a full disk, a damaged or locked file)."""
        self.purge()

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
        self._db.close()

    def _hour(self) -> int:
        return int(self._clock()) // _HOUR * _HOUR

    def record_answer(self, answer: Answer) -> None:
        """Store a question the service was asked, scrubbed, with whether it was answered."""
        if answer.reason in ("empty", "small_talk"):
            # Greetings and thanks are not questions: nothing for staff to learn, nothing to keep.
            return
        if answer.reason == "too_long":
            text = TOO_LONG_PLACEHOLDER
        else:
            text = scrub(answer.question)[:MAX_STORED_CHARS]
        passage_id = answer.best.passage.id if answer.best is not None else None
        self._write(
            "INSERT INTO questions (asked_hour, question, answered, reason, passage_id, language) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (self._hour(), text, int(answer.answered), answer.reason, passage_id, answer.language),
        )

    def record_vote(self, passage_id: str, up: bool) -> int | None:
        """Store a 👍 or 👎 on a passage; return its row, or None if it could not be stored."""
        return self._write(
            "INSERT INTO votes (voted_hour, passage_id, up) VALUES (?, ?, ?)",
            (self._hour(), passage_id, int(up)),
        )

    def change_vote(self, row: int, up: bool) -> None:
        """Replace the 👍 or 👎 stored in a row (a second press on the same answer)."""
        self._write("UPDATE votes SET up = ? WHERE id = ?", (int(up), row))

    def _write(self, sql: str, values: tuple[object, ...]) -> int | None:
        """Run one write and return the row it made; a failure is logged and counted, never raised."""
        if not self.available:
            return None
        try:
            row = self._db.execute(sql, values).lastrowid
            self._purge_now_and_then()
            return row
        except sqlite3.Error as exc:
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                # The exception's type only: its message could quote the statement's values.
                logger.warning("statistics write failed (%s), %d so far", type(exc).__name__, self.failures)
            return None

    def _purge_now_and_then(self) -> None:
        if self._clock() - self._last_purge >= _PURGE_EVERY:
            self.purge()

    def purge(self) -> int:
        """Delete every row older than the retention period; return how many were deleted."""
        now = self._clock()
        self._last_purge = now
        cutoff = int(now) - self.retention_days * _DAY
        deleted = self._db.execute("DELETE FROM questions WHERE asked_hour < ?", (cutoff,)).rowcount
        deleted += self._db.execute("DELETE FROM votes WHERE voted_hour < ?", (cutoff,)).rowcount
        return deleted

    def summary(self, limit: int = 10) -> Summary:
        """Summarise what is stored: counts, frequent unanswered questions, votes per passage."""
        self.purge()
        questions, answered = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM questions"
        ).fetchone()
        unanswered = self._db.execute(
            "SELECT MIN(question), COUNT(*) AS n FROM questions "
            "WHERE answered = 0 AND question != ? "
            "GROUP BY LOWER(TRIM(question, ' ?!.')) ORDER BY n DESC, MIN(id) LIMIT ?",
            (TOO_LONG_PLACEHOLDER, limit),
        ).fetchall()
        votes = self._db.execute(
            "SELECT passage_id, SUM(up), SUM(1 - up) FROM votes "
            "GROUP BY passage_id ORDER BY COUNT(*) DESC, passage_id LIMIT ?",
            (limit,),
        ).fetchall()
        return Summary(
            days=self.retention_days,
            questions=int(questions),
            answered=int(answered),
            unanswered=tuple((str(q), int(n)) for q, n in unanswered),
            votes=tuple(Votes(str(p), int(u), int(d)) for p, u, d in votes),
        )
