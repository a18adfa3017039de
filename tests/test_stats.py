"""Staff statistics in SQLite: counts, reasons, votes, retention; nothing about who asked or what."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bot.service import AnswerService
from bot.stats import DB_NAME, PAUSE_AFTER_LOCK_S, Stats

DAY = 86400


class Clock:
    def __init__(self, now: float = 1_717_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_summary_counts_and_groups_unanswered_questions_without_keeping_their_text(
    tmp_path: Path, service: AnswerService
) -> None:
    stats = Stats(tmp_path / "stats.sqlite3", clock=Clock())
    asked = (
        "What about ambulances?",
        "How do I get a visa? Call +7 701 123 45 67",
        "I am Olena Petrenko, Abay street 12, where do I renew my passport?",
        "Who won the football world cup in 2022?",
        "who won the football world cup in 2022",
        "",
        "x" * 2000,
    )
    answers = [service.ask(question) for question in asked]
    for answer in answers:
        stats.record_answer(answer)
    stats.record_vote("pb9fcfd595c1c", up=True)
    stats.record_vote("pb9fcfd595c1c", up=False)
    stats.record_vote("pb9fcfd595c1c", up=True)
    summary = stats.summary()
    assert (summary.questions, summary.answered) == (6, 1)  # the empty one is not a question
    assert summary.answered_share == pytest.approx(1 / 6)
    groups = {(u.reason, u.passage_id): u.count for u in summary.unanswered}
    football = answers[3].hits[0].passage.id
    assert answers[4].hits[0].passage.id == football  # so they are counted together
    assert groups == {("consular", None): 2, ("low_confidence", football): 2, ("too_long", None): 1}
    assert [(v.passage_id, v.up, v.down) for v in summary.votes] == [("pb9fcfd595c1c", 2, 1)]
    stats.close()
    # Nothing the users wrote is in the file, the write-ahead log or anything else in the folder.
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    for word in (b"Olena", b"Abay", b"701", b"football", b"visa", b"xxxxxxxx"):
        assert word not in stored


def _old_database(path: Path) -> None:
    """Write a statistics database of the earlier schema, with texts in it."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")  # as that version kept it
        db.execute(
            "CREATE TABLE questions (id INTEGER PRIMARY KEY, asked_hour INTEGER NOT NULL, "
            "question TEXT NOT NULL, answered INTEGER NOT NULL, reason TEXT NOT NULL, passage_id TEXT, "
            "language TEXT NOT NULL)"
        )
        db.executemany(
            "INSERT INTO questions (asked_hour, question, answered, reason, passage_id, language) "
            "VALUES (?, ?, 0, 'low_confidence', NULL, 'en')",
            [(1_717_000_000, f"I am Olena Petrenko from Abay street {n}") for n in range(200)],
        )
    assert b"Olena" in b"".join(p.read_bytes() for p in path.parent.iterdir())


def test_question_texts_stored_by_an_earlier_version_are_deleted_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    _old_database(path)
    stats = Stats(path, clock=Clock(1_717_000_000.0))
    summary = stats.summary()
    stats.close()
    assert summary.questions == 200 and summary.unanswered[0].count == 200  # the counts are kept
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"Olena" not in stored and b"Abay" not in stored


def test_rows_older_than_the_retention_period_are_deleted(tmp_path: Path, service: AnswerService) -> None:
    clock = Clock()
    stats = Stats(tmp_path / "stats.sqlite3", retention_days=30, clock=clock)
    stats.record_answer(service.ask("Where is the consulate?"))
    stats.record_vote("pb9fcfd595c1c", up=True)
    clock.now += 29 * DAY
    stats.record_answer(service.ask("What about ambulances?"))
    assert stats.summary().questions == 2
    clock.now += 2 * DAY
    summary = stats.summary()
    assert (summary.questions, summary.unanswered, summary.votes) == (1, (), ())
    stats.close()
    # Opening the database purges too.
    clock.now += 31 * DAY
    reopened = Stats(tmp_path / "stats.sqlite3", retention_days=30, clock=clock)
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM questions").fetchone() == (0,)
    reopened.close()


def test_schema_has_no_place_for_who_asked(tmp_path: Path) -> None:
    stats = Stats(tmp_path / "data" / "stats.sqlite3")
    with sqlite3.connect(tmp_path / "data" / DB_NAME) as db:
        columns = {
            row[1] for table in ("questions", "votes") for row in db.execute(f"PRAGMA table_info({table})")
        }
    # `voter`: a keyed hash of a person and a passage (one vote each), never an id.
    assert columns == {"id", "asked_hour", "answered", "reason", "passage_id", "language",
                       "voted_hour", "up", "voter"}  # fmt: skip
    stats.close()


def test_one_vote_per_person_per_passage_the_last_one_counts(tmp_path: Path) -> None:
    stats = Stats(tmp_path / DB_NAME, clock=Clock())
    assert stats.record_vote("p1", True, voter="a" * 32)
    assert stats.record_vote("p1", True, voter="a" * 32)  # the same answer asked again, voted again
    assert stats.record_vote("p1", False, voter="a" * 32)  # changed their mind
    assert stats.record_vote("p1", True, voter="b" * 32)
    assert stats.record_vote("p2", True, voter="c" * 32)
    votes = {v.passage_id: (v.up, v.down) for v in stats.summary().votes}
    assert votes == {"p1": (1, 1), "p2": (1, 0)}
    stats.close()


def test_a_file_of_the_earlier_schema_gets_the_voter_column(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("CREATE TABLE votes (id INTEGER PRIMARY KEY, voted_hour INTEGER NOT NULL, "
                   "passage_id TEXT NOT NULL, up INTEGER NOT NULL)")  # fmt: skip
        db.execute("INSERT INTO votes (voted_hour, passage_id, up) VALUES (1717000000, 'p1', 1)")
    db.close()
    stats = Stats(tmp_path / DB_NAME, clock=Clock(1_717_000_000.0))
    assert stats.record_vote("p1", False, voter="a" * 32) and stats.record_vote("p1", True, voter="a" * 32)
    assert [(v.up, v.down) for v in stats.summary().votes] == [(2, 0)]
    stats.close()


def test_times_are_kept_to_the_hour(tmp_path: Path, service: AnswerService) -> None:
    stats = Stats(tmp_path / "stats.sqlite3", clock=Clock(1_717_001_234.5))
    stats.record_answer(service.ask("What about ambulances?"))
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert db.execute("SELECT asked_hour FROM questions").fetchone() == (1_717_001_234 // 3600 * 3600,)
    stats.close()


def _count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM questions").fetchone()[0])


async def test_the_bot_purges_old_rows_while_idle(tmp_path: Path, service: AnswerService) -> None:
    import asyncio

    from bot.telegram.dispatcher import Retention

    clock = Clock()
    stats = Stats(tmp_path / "stats.sqlite3", retention_days=1, clock=clock)
    stats.record_answer(service.ask("Where is the consulate?"))
    clock.now += 2 * DAY  # nothing is written meanwhile
    retention = Retention(stats, every=0.01)
    await retention.start()
    try:
        async with asyncio.timeout(10):
            while _count(tmp_path / DB_NAME):
                await asyncio.sleep(0.01)
    finally:
        await retention.stop()
    stats.close()


def test_small_talk_is_not_stored(tmp_path: Path, service: AnswerService) -> None:
    stats = Stats.open(tmp_path, retention_days=30)
    stats.record_answer(service.ask("hello"))
    stats.record_answer(service.ask("Who won the football world cup in 2022?"))
    summary = stats.summary()
    stats.close()
    assert summary.questions == 1
    assert [u.reason for u in summary.unanswered] == ["low_confidence"]


def test_the_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    stats = Stats.open(tmp_path, retention_days=30)
    stats.record_vote("p1", True)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    stats.close()
    assert modes["stats.sqlite3"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes


def test_a_write_while_another_process_holds_the_lock_is_dropped_not_waited_for(tmp_path: Path) -> None:
    clock = Clock()
    stats = Stats(tmp_path / DB_NAME, retention_days=30, clock=clock)
    # A backup or a staff query in another process keeps a write transaction open.
    holder = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert stats.record_vote("p1", True) is False  # dropped, counted, not raised
        assert stats.failures == 1
        # Writes run between answers: they give up after milliseconds, not SQLite's default 5 s,
        # and for a few seconds after that they do not even try.
        (busy_ms,) = stats._db.execute("PRAGMA busy_timeout").fetchone()
        assert 0 < busy_ms <= 100
        clock.now += PAUSE_AFTER_LOCK_S / 2
        assert stats.record_vote("p1", True) is False and stats.failures == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    clock.now += PAUSE_AFTER_LOCK_S
    assert stats.record_vote("p1", True) is True  # the lock gone, writes go through again
    stats.close()


def test_a_lock_held_while_the_bot_opens_the_database_is_waited_out(tmp_path: Path) -> None:
    Stats(tmp_path / DB_NAME).close()
    holder = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        holder.execute("ROLLBACK")
        holder.close()

    threading.Timer(0.5, release).start()
    stats = Stats.open_or_off(tmp_path)  # at start a few seconds are waited, not 50 ms
    assert stats.available and stats.record_vote("p1", True) is True
    stats.close()


def test_texts_of_an_earlier_version_leave_the_file_once_another_reader_lets_go(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    _old_database(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM questions").fetchone()  # holds a snapshot: blocks the checkpoint
    stats = Stats(path, clock=Clock(1_717_000_000.0))
    reader.execute("COMMIT")
    reader.close()
    stats.record_vote("p1", True)  # the next write checkpoints again
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    stats.close()
    assert b"Olena" not in stored
