"""Operating safely: Telegram flood control and errors, throttling, the error handler, menus, logs."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from tests.conftest import StartBot
from tests.fake_telegram import user

OLENA = user(501234567, "Olena", "Petrenko", "olena_p")
PETRO = user(503456789, "Petro", "Kovalenko", "petro_k")
NAZOVNI = "How does the Nazovni platform help Ukrainian exporters?"
# Answered also with a number after it.
DUAL_USE = "Did Kazakhstan ban the export of dual-use goods?"


async def test_flood_control_429_is_waited_out_and_retried(start_bot: StartBot) -> None:
    fake = (await start_bot()).fake
    fake.fail("sendMessage", 429, retry_after=1)
    fake.send(OLENA, NAZOVNI)
    (reply,) = await fake.replies(OLENA["id"])
    assert "<b>Nazovni</b>" in reply.html
    (refused,) = fake.failures("sendMessage")
    assert refused.status == 429 and refused.params["text"] == reply.params["text"]


@pytest.mark.parametrize(("status", "disconnect"), [(500, False), (502, False), (0, True)])
async def test_server_and_network_errors_are_retried_with_backoff(
    start_bot: StartBot, status: int, disconnect: bool
) -> None:
    fake = (await start_bot()).fake
    fake.fail("sendMessage", status, times=2, disconnect=disconnect)
    fake.send(OLENA, NAZOVNI)
    (reply,) = await fake.replies(OLENA["id"])
    assert "<b>Nazovni</b>" in reply.html and len(fake.failures("sendMessage")) == 2


async def test_retries_are_bounded_and_the_error_handler_keeps_the_bot_running(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    tg = await start_bot()
    fake = tg.fake
    # A flood wait of an hour is not waited out inside a handler.
    fake.fail("sendMessage", 429, retry_after=3600)
    fake.send(OLENA, NAZOVNI)
    (sorry,) = await fake.replies(OLENA["id"])
    assert sorry.plain == "Sorry, something went wrong on my side. Please try again in a moment."
    # Errors keep coming: four attempts, then the error handler.
    fake.fail("sendMessage", 502, times=4)
    fake.send(OLENA, NAZOVNI)
    await fake.replies(OLENA["id"], 2)
    assert len(fake.failures("sendMessage")) == 5
    fake.send(OLENA, NAZOVNI)
    assert "<b>Nazovni</b>" in (await fake.replies(OLENA["id"], 3))[2].html
    failed = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.errors"]
    assert len(failed) == 2
    assert "TelegramRetryAfter on sendMessage" in failed[0]
    assert "TelegramServerError on sendMessage" in failed[1]
    # aiogram's message names the chat, and a private chat's id is the user's: never logged.
    assert all(str(OLENA["id"]) not in r.getMessage() for r in caplog.records)


async def test_a_flooding_user_gets_one_notice_while_others_are_served(start_bot: StartBot) -> None:
    tg = await start_bot(rate_limit_messages=3, rate_limit_seconds=600)
    fake = tg.fake
    for n in range(12):
        fake.send(OLENA, f"{DUAL_USE} {n}")
        if n == 6:
            fake.send(PETRO, "What about ambulances?")
    await tg.settle()
    olena = fake.sent(OLENA["id"])
    notices = [r for r in olena if "too fast" in r.plain]
    # Updates are handled concurrently: the notice may arrive before the answers.
    served = [r for r in olena if r not in notices]
    assert len(olena) == 4 and len(notices) == 1
    assert all("<b>dual</b>-<b>use</b>" in r.html and "Source:" in r.plain for r in served)
    (petro,) = fake.sent(PETRO["id"])
    assert "<b>ambulance" in petro.html
    # Button presses of the flooding user are answered with the notice, not acted on.
    query = fake.press(OLENA, fake.message(served[0]), served[0].data("👍"))
    assert "too fast" in (await fake.answered(query)).params["text"]
    await tg.settle()
    assert tg.stats.summary().votes == () and not fake.sent(method="editMessageReplyMarkup")


async def test_commands_are_registered_in_english_and_ukrainian(start_bot: StartBot) -> None:
    fake = (await start_bot()).fake
    default = json.dumps({"type": "default"})
    english, ukrainian = fake.commands[(default, "")], fake.commands[(default, "uk")]
    assert [c["command"] for c in english] == ["start", "help", "topics", "about", "ask"]
    assert [c["command"] for c in ukrainian] == [c["command"] for c in english]
    assert english[0]["description"] != ukrainian[0]["description"]
    assert fake.commands[(default, "ru")] == ukrainian  # Russian-language users get the Ukrainian menu
    staff = fake.commands[(json.dumps({"chat_id": 424242, "type": "chat"}), "")]
    assert [c["command"] for c in staff][-2:] == ["stats", "reload"]
    assert fake.sent(method="deleteWebhook")


async def test_logs_hold_no_user_data_or_token_even_at_debug(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tg = await start_bot()
    fake = tg.fake
    fake.fail("sendMessage", 500)
    fake.send(OLENA, NAZOVNI)
    fake.send(OLENA, "/start")
    await fake.answered(fake.inline(OLENA, NAZOVNI))
    fake.fail("sendMessage", 400)
    fake.send(OLENA, "What about ambulances?")
    await fake.replies(OLENA["id"], 3)
    await tg.settle()
    text = caplog.text
    assert "is handled" in text and "retry 1 of 3" in text  # aiogram's and our own lines were captured
    for secret in (str(OLENA["id"]), "Olena", "Petrenko", "olena_p", fake.token, fake.token.split(":")[1]):
        assert secret not in text


def test_the_log_filter_redacts_the_token_in_messages_and_tracebacks() -> None:
    from bot.telegram.logs import RedactSecrets

    token = "7000000001:AAFakeTokenSecretPart-0123456789abcdef"
    redact = RedactSecrets([token, "webhook-secret"])
    try:
        raise ValueError(f"bad URL https://api.telegram.org/bot{token}/getMe")
    except ValueError as exc:
        record = logging.LogRecord(
            "aiohttp", logging.DEBUG, __file__, 1, "GET %s", (str(exc),), (type(exc), exc, None)
        )
    assert redact.filter(record)
    formatted = logging.Formatter().format(record)
    assert token not in formatted and formatted.count("[redacted]") == 2 and "getMe" in formatted


def test_library_records_lose_exception_details_that_may_quote_an_update() -> None:
    from bot.telegram.logs import ScrubLibraryRecords

    payload = "ValidationError: input_value={'first_name': 'Olena', 'username': 'olena_p', 'text': 'secret'}"
    scrub = ScrubLibraryRecords()
    fetch = logging.LogRecord(
        "aiogram.dispatcher", logging.ERROR, "x", 1, "Failed to fetch updates - %s: %s",
        ("ValidationError", ValueError(payload)), None,
    )  # fmt: skip
    try:
        raise ValueError(payload)
    except ValueError:
        task = logging.LogRecord(
            "asyncio", logging.ERROR, "x", 1, "Task exception was never retrieved\nfuture: <Task %s>",
            (payload,), sys.exc_info(),
        )  # fmt: skip
    own = logging.LogRecord("bot.telegram.errors", logging.ERROR, "x", 1, "update %d failed", (7,), None)
    for record in (fetch, task, own):
        assert scrub.filter(record)
    assert fetch.getMessage() == "Failed to fetch updates - ValidationError: ValueError"
    assert task.getMessage() == "Task exception was never retrieved [ValueError, details not logged]"
    assert task.exc_info is None and task.exc_text is None
    assert own.getMessage() == "update 7 failed"
    text = logging.Formatter().format(task) + logging.Formatter().format(fetch)
    assert "Olena" not in text and "secret" not in text
