"""`python -m bot telegram` as a real process: answers, stops cleanly on a signal, keeps no personal data."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram, user

ROOT = Path(__file__).resolve().parents[1]
OLENA = user(509876543, "Olena", "Petrenko", "olena_secret_handle")
TARAS = user(509876544, "Taras", "Hrytsenko", "taras_quiet_handle")
PERSONAL = "How do I renew my passport? My phone is +7 701 123 45 67, mail olena.p@example.com"


def environment(tmp_path: Path, **values: str) -> dict[str, str]:
    """Return the process environment: this checkout importable, no bot settings inherited."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "WEBHOOK_", "ADMIN_"))
    }
    env.update({"PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "DEBUG", **values})
    return env


async def start(fake: FakeTelegram, tmp_path: Path, **values: str) -> tuple[asyncio.subprocess.Process, Path]:
    log = tmp_path / "bot.log"
    env = environment(tmp_path, BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.url, **values)
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "telegram", cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    polling = asyncio.create_task(fake.wait_for(lambda: fake.polls, timeout=60))
    exited = asyncio.create_task(process.wait())
    await asyncio.wait({polling, exited}, return_when=asyncio.FIRST_COMPLETED)
    polling.cancel()
    exited.cancel()
    assert process.returncode is None, log.read_text()
    return process, log


async def test_process_answers_then_exits_cleanly_on_sigterm_without_keeping_personal_data(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    process, log = await start(fake, tmp_path)
    fake.send(OLENA, "/start")
    fake.send(OLENA, "What about ambulances?")
    replies = await fake.replies(OLENA["id"], 2)
    assert "<b>ambulance" in replies[1].html
    fake.send(OLENA, PERSONAL)
    await fake.replies(OLENA["id"], 3)
    await fake.answered(fake.press(OLENA, fake.message(replies[1]), replies[1].data("👍")))
    await fake.wait_for(lambda: fake.confirmed() and fake.polls >= 3)

    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 15) == 0
    logs = log.read_text(encoding="utf-8")
    assert "Traceback" not in logs and "bot @embassy_qa_test_bot starting in polling mode" in logs

    database = tmp_path / "data" / "stats.sqlite3"
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT answered, reason FROM questions ORDER BY id").fetchall()
        assert db.execute("SELECT passage_id, up FROM votes").fetchall() == [("pb9fcfd595c1c", 1)]
    assert stored == [(1, "answered"), (0, "consular")]
    raw = b"".join(p.read_bytes() for p in database.parent.iterdir())
    token_secret = fake.token.split(":")[1]
    written = ("ambulances", "renew my passport")  # what was asked is not kept either
    for private in (
        str(OLENA["id"]),
        "Olena",
        "Petrenko",
        "olena_secret_handle",
        "701 123",
        "example.com",
        *written,
    ):
        assert private not in logs and private.encode() not in raw, private
    assert fake.token not in logs and token_secret not in logs


async def test_sigint_also_stops_it_cleanly(fake: FakeTelegram, tmp_path: Path) -> None:
    process, _ = await start(fake, tmp_path)
    process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.wait(), 15) == 0


@pytest.mark.parametrize(
    ("token", "message"), [("", "BOT_TOKEN is not set"), ("not-a-token", "BOT_TOKEN does not look")]
)
async def test_missing_or_malformed_token_is_one_clear_line(tmp_path: Path, token: str, message: str) -> None:
    env = environment(tmp_path, BOT_TOKEN=token)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "not-a-token" not in lines[0] and stdout == b""


async def test_refused_token_is_one_clear_line(fake: FakeTelegram, tmp_path: Path) -> None:
    wrong = "7000000001:AAWrongTokenWrongTokenWrongToken"
    env = environment(tmp_path, BOT_TOKEN=wrong, TELEGRAM_API_URL=fake.url, LOG_LEVEL="WARNING")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert stderr.decode().strip().splitlines() == [
        "error: BOT_TOKEN was refused by Telegram (401 Unauthorized)"
    ]


@pytest.mark.parametrize("damage", ["data_dir_is_a_file", "corrupt_database"])
async def test_unusable_statistics_at_start_still_answer(
    fake: FakeTelegram, tmp_path: Path, damage: str
) -> None:
    data = tmp_path / "data"
    if damage == "data_dir_is_a_file":
        data.write_text("not a folder")
    else:
        data.mkdir()
        (data / "stats.sqlite3").write_bytes(b"this is not a database " * 100)
    process, log = await start(fake, tmp_path)
    fake.send(OLENA, "What about ambulances?")
    (reply,) = await fake.replies(OLENA["id"])
    assert "<b>ambulance" in reply.html
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 15) == 0
    text = log.read_text()
    assert "statistics are off: cannot use stats.sqlite3 in DATA_DIR=" in text
    assert "Traceback" not in text


async def test_an_update_aiogram_cannot_parse_is_skipped_and_not_logged_with_its_payload(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    process, log = await start(fake, tmp_path)
    # A message without message_id or date: aiogram cannot read it. Before, the whole batch
    # failed on every poll (logged with its payload, 8 times in 15 s) and others waited.
    fake.push({"message": {"from": OLENA, "chat": {"id": OLENA["id"], "type": "private"}, "text": PERSONAL}})
    fake.send(TARAS, "What about ambulances?")
    reply = await asyncio.wait_for(fake.replies(TARAS["id"], 1), 10)
    assert "<b>ambulance" in reply[0].html
    await fake.wait_for(fake.confirmed)
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 15) == 0
    text = log.read_text()
    assert text.count("skipped an update that could not be read (ValidationError)") == 1
    assert "Traceback" not in text
    for private in (
        str(OLENA["id"]),
        OLENA["first_name"],
        OLENA["username"],
        "701 123",
        "olena.p@example.com",
    ):
        assert private not in text, private


async def test_health_command_reads_the_running_bots_heartbeat(fake: FakeTelegram, tmp_path: Path) -> None:
    async def health(data_dir: Path) -> tuple[int, str]:
        env = environment(tmp_path, DATA_DIR=str(data_dir))
        checker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "health", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await checker.communicate()
        return checker.returncode or 0, out.decode()

    code, line = await health(tmp_path / "data")
    assert code == 1 and line.startswith("unhealthy: no heartbeat at")
    process, _ = await start(fake, tmp_path)
    await fake.wait_for((tmp_path / "data" / "heartbeat").exists)
    code, line = await health(tmp_path / "data")
    assert code == 0 and line.startswith("healthy: heartbeat")
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 15) == 0
    os.utime(tmp_path / "data" / "heartbeat", (0, time.time() - 120))
    code, line = await health(tmp_path / "data")
    assert code == 1 and "old" in line
