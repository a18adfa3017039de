"""Webhook mode: the aiohttp server checks Telegram's secret-token header and has a health endpoint."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from bot.settings import SettingsError
from tests.conftest import StartBot
from tests.fake_telegram import FakeTelegram, user

OLENA = user(501234567, "Olena", "Petrenko", "olena_p")
SECRET = "s3cret-Token_for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def message(text: str) -> dict[str, object]:
    return {
        "message": {
            "message_id": 1,
            "date": 1717000000,
            "chat": {"id": OLENA["id"], "type": "private", "first_name": OLENA["first_name"]},
            "from": OLENA,
            "text": text,
        }
    }


async def test_webhook_checks_the_secret_token_and_answers(start_bot: StartBot) -> None:
    port = free_port()
    tg = await start_bot(
        webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        webhook_secret=SECRET,
        webhook_host="127.0.0.1",
        webhook_port=port,
    )
    fake = tg.fake
    assert fake.webhook == {"url": f"http://127.0.0.1:{port}/telegram/webhook", "secret_token": SECRET}
    fake.send(OLENA, "/start", push=False)  # the chat exists on the Telegram side

    assert await fake.deliver(message("What about ambulances?"), secret="wrong-secret") == 401
    assert await fake.deliver(message("What about ambulances?"), secret="") == 401
    question = message("How does the Nazovni platform help Ukrainian exporters?")
    question["update_id"] = 777001
    assert await fake.deliver(question) == 200
    (reply,) = await fake.replies(OLENA["id"])
    assert "<b>Nazovni</b>" in reply.html
    # Telegram delivers an update again when the reply to its webhook call timed out: answered once.
    assert await fake.deliver(question) == 200
    await asyncio.sleep(1.0)  # the handler runs in the background after the 200: give it time to
    await tg.dispatcher["in_flight"].wait_idle(10)
    assert len(fake.sent(OLENA["id"])) == 1
    assert fake.polls == 0 and not fake.sent(method="deleteWebhook")

    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as health:
        assert health.status == 200 and (await health.json()) == {"status": "ok"}


async def test_webhook_without_a_configured_secret_still_requires_one(start_bot: StartBot) -> None:
    port = free_port()
    tg = await start_bot(webhook_url=f"http://127.0.0.1:{port}", webhook_host="127.0.0.1", webhook_port=port)
    fake = tg.fake
    assert fake.webhook is not None
    assert fake.webhook["url"] == f"http://127.0.0.1:{port}/telegram/webhook"
    assert len(fake.webhook["secret_token"]) >= 32
    fake.send(OLENA, "/start", push=False)
    assert await fake.deliver(message("What about ambulances?"), secret="") == 401
    assert await fake.deliver(message("What about ambulances?")) == 200
    assert "<b>ambulance" in (await fake.replies(OLENA["id"]))[0].html


async def test_a_busy_port_or_a_refused_webhook_is_a_clear_error(
    start_bot: StartBot, fake: FakeTelegram
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        with pytest.raises(SettingsError, match=f"WEBHOOK_PORT: cannot listen on 127.0.0.1:{port}"):
            await start_bot(
                webhook_url="https://bot.example.org", webhook_host="127.0.0.1", webhook_port=port
            )
    fake.fail("setWebhook", 400)
    with pytest.raises(SettingsError, match="WEBHOOK_URL was refused by Telegram: Bad Request"):
        await start_bot(
            webhook_url="http://bot.example.org", webhook_host="127.0.0.1", webhook_port=free_port()
        )


async def test_a_body_that_is_not_an_update_gets_400_and_one_log_line(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    tg = await start_bot(
        webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        webhook_secret=SECRET,
        webhook_host="127.0.0.1",
        webhook_port=port,
    )
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    bodies = [b"{not json", b'{"update_id": "x", "message": {"text": "Olena secret text"}}', b"[]"]
    async with aiohttp.ClientSession() as session:
        for body in bodies:
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 400
        # Without the secret the answer stays 401, whatever the body.
        async with session.post(
            url, data=b"{not json", headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 401
    # The bot still answers real updates.
    tg.fake.send(OLENA, "/start", push=False)
    assert await tg.fake.deliver(message("What about ambulances?")) == 200
    await tg.fake.replies(OLENA["id"])
    refused = [r for r in caplog.records if "not a Telegram update" in r.getMessage()]
    assert len(refused) == 3
    assert all("Olena" not in r.getMessage() and "secret text" not in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)
