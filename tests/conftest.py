"""Shared fixtures: the real service on the real content, the fake Bot API, the running bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.service import AnswerService
from bot.settings import Settings
from bot.wiring import build_service
from index.semantic.model import Embedder, load_embedder
from tests.fake_telegram import PEOPLE, FakeTelegram

ADMIN_ID = 424242
ROOT = Path(__file__).resolve().parents[1]


def make_settings(**values: Any) -> Settings:
    """Return settings from keyword values only: no .env file."""
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


INTERVIEW_FILES = ("pavlenko-2024-05-18.md", "pavlenko-2024-05-18.uk.md", "embeddings.npz")
"""The interview and its translation, as shipped: the fixed content most tests answer from, so that a
document staff add to content/ changes no test's answer (the quality tests load content/ as it is)."""


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep every cache of the run in a temporary folder; answer from the interview alone by default.

    Both reach subprocesses through the environment (the command-line tests' `run` answers from
    content/ as the README's commands do).
    """
    interview = tmp_path_factory.mktemp("interview")
    for name in INTERVIEW_FILES:
        shutil.copy(ROOT / "content" / name, interview / name)
    saved = {name: os.environ.get(name) for name in ("INDEX_CACHE_DIR", "CONTENT_DIR")}
    os.environ["INDEX_CACHE_DIR"] = str(tmp_path_factory.mktemp("index-cache"))
    os.environ["CONTENT_DIR"] = str(interview)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """Return the real embedding model, loaded once."""
    return load_embedder()


@pytest.fixture(scope="session")
def service(_private_cache: None) -> AnswerService:
    """Return the answering service on the real content, as the README's commands build it."""
    return build_service(make_settings())


@pytest.fixture(scope="session")
def several(_private_cache: None, tmp_path_factory: pytest.TempPathFactory) -> AnswerService:
    """Return the service on the interview beside every document written for the evaluation."""
    from tests import multidoc

    folder = multidoc.assemble(tmp_path_factory.mktemp("multidoc") / "content", "heldout")
    return build_service(make_settings(content_dir=folder))


@pytest.fixture(autouse=True)
def _no_personal_data_in_logs(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """After every test that talks to the fake Telegram, check every log line it produced."""
    yield
    if "fake" not in request.fixturenames:
        return
    formatter = logging.Formatter("%(name)s %(message)s")
    for when in ("setup", "call", "teardown"):
        for record in caplog.get_records(when):
            line = formatter.format(record)
            leaked = [item for item in PEOPLE if re.search(rf"(?<!\w){re.escape(item)}(?!\w)", line)]
            assert not leaked, f"personal data {leaked} in a log line: {line[:300]}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """Run the fake Telegram Bot API server on 127.0.0.1."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@dataclass
class RunningBot:
    """The real Bot and Dispatcher serving updates from the fake server."""

    fake: FakeTelegram
    settings: Settings
    dispatcher: Any
    stats: Any
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait until every queued update was fetched and every handler has finished."""
        in_flight = self.dispatcher["in_flight"]
        async with asyncio.timeout(timeout):
            while True:
                await self.fake.wait_for(self.fake.confirmed, timeout)
                await in_flight.wait_idle(timeout)
                # Handlers start a moment after their update is confirmed: look twice.
                await asyncio.sleep(0.05)
                if self.fake.confirmed() and in_flight.count == 0:
                    return


StartBot = Callable[..., Awaitable[RunningBot]]


@pytest.fixture
async def start_bot(fake: FakeTelegram, service: AnswerService, tmp_path: Path) -> AsyncIterator[StartBot]:
    """Return a function that starts the bot (polling unless WEBHOOK_URL is given) with settings."""
    from bot.stats import Stats
    from bot.telegram.app import build_bot, serve
    from bot.telegram.dispatcher import build_dispatcher
    from bot.telegram.logs import redact_secrets

    running: list[RunningBot] = []

    async def start(answer_service: AnswerService | None = None, **values: Any) -> RunningBot:
        defaults: dict[str, Any] = {
            "bot_token": fake.token,
            "telegram_api_url": fake.url,
            "data_dir": tmp_path / "data",
            "admin_ids": frozenset({ADMIN_ID}),
            "rate_limit_messages": 50,
            "rate_limit_seconds": 60,
        }
        settings = make_settings(**{**defaults, **values})
        redact_secrets(settings)  # the filters the real process installs on every log handler
        stats = Stats.open(settings.data_dir, settings.retention_days)
        dispatcher = build_dispatcher(settings, answer_service or service, stats)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(build_bot(settings), dispatcher, settings, stop))
        bot = RunningBot(fake, settings, dispatcher, stats, stop, task)
        running.append(bot)
        # Startup is over once the bot polls (or, in webhook mode, has set its webhook).
        ready = (lambda: fake.webhook) if settings.webhook_url else (lambda: fake.polls)
        waiter = asyncio.create_task(fake.wait_for(ready, timeout=30))
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task.done():
            task.result()  # raises what stopped the bot from starting
        return bot

    yield start
    for bot in running:
        bot.stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(bot.task, 10)
        bot.stats.close()


@pytest.fixture
async def tg(start_bot: StartBot) -> RunningBot:
    """Run the bot with the default test settings."""
    return await start_bot()
