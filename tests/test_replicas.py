"""Two bot processes in webhook mode, sharing real Redis and PostgreSQL servers, behave as one bot."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import ADMIN_ID
from tests.fake_telegram import Call, FakeTelegram, user
from tests.servers import PostgresServer, RedisServer, free_port, postgres_server, redis_server
from tests.test_telegram_process import environment

OLENA = user(511111111, "Olena", "Petrenko", "olena_replica")
PETRO = user(522222222, "Petro", "Bondar", "petro_replica")
TARAS = user(533333333, "Taras", "Hrytsenko", "taras_replica")
ADMIN = user(ADMIN_ID, "Staff", "Member", "staff_member")
SEVERAL = "What medical cooperation is there between Ukraine and Kazakhstan?"
AMBULANCES = "What about ambulances?"
WEBHOOK_SECRET = "replica-webhook-secret"
VOTE_SECRET = "replica-vote-secret-shared-by-every-instance"
LIMIT = 6


@dataclass
class Instance:
    """One bot process in webhook mode."""

    process: asyncio.subprocess.Process
    log: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/webhook"

    async def ready(self) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.port}/readyz") as response,
        ):
            return response.status, await response.json()

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 20)


@dataclass
class Cluster:
    """Two instances, the servers they share, and the fake Telegram in front."""

    fake: FakeTelegram
    redis: RedisServer
    postgres: PostgresServer
    folder: Path
    a: Instance | None = None
    b: Instance | None = None

    async def launch(self, name: str, port: int | None = None) -> Instance:
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        port = port or free_port()
        env = environment(
            folder,
            BOT_TOKEN=self.fake.token,
            TELEGRAM_API_URL=self.fake.url,
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
            WEBHOOK_HOST="127.0.0.1",
            WEBHOOK_PORT=str(port),
            WEBHOOK_SECRET=WEBHOOK_SECRET,
            VOTE_SECRET=VOTE_SECRET,
            REDIS_URL=self.redis.url,
            DATABASE_URL=self.postgres.url,
            ADMIN_IDS=str(ADMIN_ID),
            RATE_LIMIT_MESSAGES=str(LIMIT),
            RATE_LIMIT_SECONDS="600",
        )
        log = folder / "bot.log"
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "telegram", cwd=folder, env=env, stdout=out, stderr=out
            )
        instance = Instance(process, log, port)
        async with asyncio.timeout(120):
            while True:
                assert process.returncode is None, log.read_text()
                try:
                    if (await instance.ready())[0] == 200:
                        return instance
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)

    async def start(self) -> None:
        self.a, self.b = await asyncio.gather(self.launch("a"), self.launch("b"))

    def both(self) -> tuple[Instance, Instance]:
        assert self.a is not None and self.b is not None
        return self.a, self.b

    async def ask(self, at: Instance, who: dict[str, Any], text: str, expect: int = 1) -> Call:
        """Have `who` send `text`, delivered to one instance; return the bot's new message."""
        before = len(self.fake.sent(who["id"]))
        self.fake.send(who, text)
        assert await self.fake.post(at.url, self.fake.last_update) == 200
        return (await self.fake.replies(who["id"], before + expect))[-1]

    async def press(self, at: Instance, who: dict[str, Any], reply: Call, label: str) -> Call:
        """Have `who` press a button of a message, delivered to one instance; return the answer to it."""
        query = self.fake.press(who, self.fake.message(reply), reply.data(label))
        assert await self.fake.post(at.url, self.fake.last_update) == 200
        return await self.fake.answered(query)

    def logs(self) -> str:
        return "".join(path.read_text(encoding="utf-8") for path in sorted(self.folder.glob("*/bot.log")))


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[RedisServer, PostgresServer]]:
    with redis_server(tmp_path / "redis") as redis, postgres_server() as postgres:
        yield redis, postgres


@pytest.fixture
async def cluster(
    fake: FakeTelegram, servers: tuple[RedisServer, PostgresServer], tmp_path: Path
) -> AsyncIterator[Cluster]:
    redis, postgres = servers
    running = Cluster(fake, redis, postgres, tmp_path)
    await running.start()
    yield running
    for instance in (running.a, running.b):
        if instance is not None and instance.process.returncode is None:
            await instance.stop()


async def stats_text(cluster: Cluster, at: Instance, *needles: str) -> str:
    """Send /stats to one instance until the reply holds every needle (the other instance's writer
    may still have the last rows queued); return the last reply."""
    async with asyncio.timeout(20):
        while True:
            text = (await cluster.ask(at, ADMIN, "/stats")).plain
            if all(needle in text for needle in needles):
                return text
            await asyncio.sleep(0.3)


async def test_two_instances_behave_as_one_bot_also_after_both_restart(cluster: Cluster) -> None:
    fake = cluster.fake
    a, b = cluster.both()
    # Each instance set the webhook to itself (behind a proxy they would share one public URL).
    assert fake.webhook is not None and fake.webhook["secret_token"] == WEBHOOK_SECRET

    # "Another answer" pressed on the other instance.
    several = await cluster.ask(a, OLENA, SEVERAL)
    assert (await cluster.press(b, OLENA, several, "Another answer")).ok
    (edit,) = await fake.replies(OLENA["id"], 1, "editMessageText")
    assert "Answer 2 of" in edit.plain

    # An update delivered to both instances is answered once.
    fake.send(PETRO, AMBULANCES)
    update = fake.last_update
    assert list(await asyncio.gather(fake.post(a.url, update), fake.post(b.url, update))) == [200, 200]
    (ambulances,) = await fake.replies(PETRO["id"])
    await asyncio.sleep(1.5)
    assert len(fake.sent(PETRO["id"])) == 1

    # One vote per person per passage across instances: the same answer asked again elsewhere.
    await cluster.press(a, PETRO, ambulances, "👍")
    again = await cluster.ask(b, PETRO, AMBULANCES)
    await cluster.press(b, PETRO, again, "👍")

    # The rate limit counts a user's messages on both instances.
    for n in range(LIMIT):
        reply = await cluster.ask(a if n % 2 else b, TARAS, AMBULANCES)
        assert "<b>ambulance" in reply.html
    refused = await cluster.ask(a, TARAS, AMBULANCES)
    assert "too fast" in refused.plain

    # /stats on either instance counts both: 1 + 2 + 6 questions; one vote.
    for at in (a, b):
        await stats_text(cluster, at, "Questions asked: 9", "👍 1 / 👎 0")

    # Nothing identifying in Redis or PostgreSQL.
    stored = cluster.redis.dump() + repr(cluster.postgres.query("SELECT * FROM questions")).encode()
    stored += repr(cluster.postgres.query("SELECT * FROM votes")).encode()
    assert stored.count(b"embassy-bot:") >= 2  # the keys are there, and hold nothing of these:
    for who in (OLENA, PETRO, TARAS):
        for private in (str(who["id"]), who["first_name"], who["username"]):
            assert private.encode() not in stored, private
    for asked in (b"ambulances", b"medical"):
        assert asked not in stored

    # /reload on one instance reloads the other too.
    staff_had = len(fake.sent(ADMIN["id"]))
    fake.send(ADMIN, "/reload")
    assert await fake.post(a.url, fake.last_update) == 200
    told = (await fake.replies(ADMIN["id"], staff_had + 2))[-1]
    assert told.plain == "Told 1 other instances to reload.", told.plain
    async with asyncio.timeout(30):
        while "content reloaded as another instance asked" not in b.log.read_text(encoding="utf-8"):
            await asyncio.sleep(0.1)
    assert "content reloaded as another instance asked" not in a.log.read_text(encoding="utf-8")

    # Both restart (a deploy): buttons sent before still work, statistics are intact.
    before = await cluster.ask(a, OLENA, SEVERAL)
    assert await a.stop() == 0 and await b.stop() == 0
    cluster.a, cluster.b = await asyncio.gather(cluster.launch("a", a.port), cluster.launch("b", b.port))
    a, b = cluster.both()
    assert (await cluster.press(b, OLENA, before, "Another answer")).ok
    edits = await fake.replies(OLENA["id"], 2, "editMessageText")
    assert "Answer 2 of" in edits[-1].plain
    assert (await cluster.press(a, PETRO, ambulances, "👎")).params["text"] == "Thank you for the feedback!"
    await stats_text(cluster, b, "Questions asked: 10", "👍 0 / 👎 1")
    logs = cluster.logs()
    assert "Traceback" not in logs and "Redis does not answer" not in logs


async def test_answers_go_on_while_redis_or_postgres_is_down_and_sharing_resumes(cluster: Cluster) -> None:
    a, b = cluster.both()
    cluster.redis.stop()
    for at in (a, b):
        assert "<b>ambulance" in (await cluster.ask(at, OLENA, AMBULANCES)).html
    status, body = await a.ready()
    assert status == 503 and body["redis"] == "down" and body["database"] == "ok"

    cluster.postgres.stop()
    assert "<b>ambulance" in (await cluster.ask(b, PETRO, AMBULANCES)).html
    status, body = await b.ready()
    assert status == 503 and body["database"] == "down"
    assert "statistics" in (await stats_text(cluster, a)).lower()  # "unavailable", said in one line

    cluster.redis.start()
    cluster.postgres.start()
    await asyncio.sleep(5.5)  # past the pause after a failure
    assert "<b>ambulance" in (await cluster.ask(a, TARAS, AMBULANCES)).html
    assert "<b>ambulance" in (await cluster.ask(b, TARAS, AMBULANCES)).html
    for at in (a, b):
        status, body = await at.ready()
        assert status == 200, body
    await stats_text(cluster, a, "Questions asked:")
    logs = cluster.logs()
    assert "Traceback" not in logs
    assert "Redis does not answer (" in logs and "Redis answers again" in logs
    assert "statistics database does not answer" in logs
