"""Staff commands: /stats from SQLite, /reload that keeps the old index on broken content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.wiring import build_service
from tests.conftest import ADMIN_ID, StartBot, make_settings
from tests.fake_telegram import user

STAFF = user(ADMIN_ID, "Staff", "Member", "staff_member")
OLENA = user(501234567, "Olena", "Petrenko", "olena_p")
ROOT = Path(__file__).resolve().parents[1]


async def test_stats_show_counts_reasons_nearest_passages_and_votes_but_no_question_text(
    start_bot: StartBot,
) -> None:
    tg = await start_bot()
    fake = tg.fake
    for text in (
        "What about ambulances?",
        "How do I renew my passport? Call +7 701 123 45 67 or olena@example.com",
        "how do I renew my passport? call +7 701 765 43 21 or o.p@mail.kz",
        "Who won the football world cup in 2022?",
    ):
        fake.send(OLENA, text)
    replies = await fake.replies(OLENA["id"], 4)
    await fake.answered(fake.press(OLENA, fake.message(replies[0]), replies[0].data("👎")))
    await tg.settle()

    fake.send(STAFF, "/stats")
    (stats,) = await fake.replies(STAFF["id"])
    text = stats.plain
    assert "Questions asked: 4" in text and "Answered: 1 (25%)" in text
    assert "2 × consular (sent to the consular service)" in text
    assert "1 × not sure enough  p" in text  # the nearest passage's id and section follow
    assert "👍 0 / 👎 1  pb9fcfd595c1c" in text
    for written in ("passport", "701", "@", "football"):
        assert written not in text


async def test_reload_rereads_content_and_keeps_the_old_index_when_broken(
    start_bot: StartBot, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    service = build_service(make_settings(content_dir=content))
    tg = await start_bot(answer_service=service)
    fake = tg.fake

    fake.send(STAFF, "/reload")
    (ok,) = await fake.replies(STAFF["id"])
    corpus = service.corpus
    counts = (
        f"{len(corpus.documents)} documents, {len(corpus.sections)} sections, {len(corpus.passages)} passages"
    )
    assert ok.plain == f"Content reloaded: {counts}."

    (content / "broken.md").write_text("no header here\n", encoding="utf-8")
    fake.send(STAFF, "/reload")
    fake.send(OLENA, "How does the Nazovni platform help Ukrainian exporters?")
    failed = (await fake.replies(STAFF["id"], 2))[1]
    assert failed.plain.startswith("Content NOT reloaded")
    assert "broken.md:1: no metadata header" in failed.plain
    assert "<b>Nazovni</b>" in (await fake.replies(OLENA["id"]))[0].html

    (content / "broken.md").unlink()
    fake.send(STAFF, "/reload")
    assert f"{len(corpus.passages)} passages" in (await fake.replies(STAFF["id"], 3))[2].plain


async def test_a_failing_statistics_database_never_stands_between_a_user_and_an_answer(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    tg = await start_bot()
    fake = tg.fake
    # A damaged database: its tables are gone, every write and read fails.
    tg.stats._db.execute("DROP TABLE questions")
    tg.stats._db.execute("DROP TABLE votes")
    for n in range(3):
        fake.send(OLENA, f"How many generators did Kusto Group deliver? {n}")
    replies = await fake.replies(OLENA["id"], 3)
    assert all("41 high-power generators" in reply.plain for reply in replies)
    await fake.answered(fake.press(OLENA, fake.message(replies[0]), replies[0].data("👍")))
    await tg.settle()
    assert tg.stats.failures == 4  # three questions, one vote
    warnings = [r.getMessage() for r in caplog.records if "statistics write failed" in r.getMessage()]
    assert warnings == ["statistics write failed (OperationalError), 1 so far"]  # logged once, no payload
    fake.send(STAFF, "/stats")
    (stats,) = await fake.replies(STAFF["id"])
    assert stats.plain.startswith("Statistics are unavailable right now")
