"""Long polling: an update is confirmed only once handled; a stop keeps the unfinished ones for later."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import Message

from bot.telegram.polling import JOURNAL_FILE, STATE_FILE, Poller
from bot.telegram.session import build_session
from tests.conftest import StartBot
from tests.fake_telegram import FakeTelegram, user
from tests.servers import redis_server
from tests.test_telegram_process import start

HALYNA = user(509876601, "Halyna", "Kovalchuk", "halyna_polling_handle")
STEPAN = user(509876602, "Stepan", "Melnychuk", "stepan_polling_handle")


def recording_dispatcher(handled: list[str], blocked: asyncio.Event | None) -> Dispatcher:
    """Return a real Dispatcher whose handler records texts; "block" waits for `blocked` if given."""
    router = Router(name=__name__)

    @router.message(F.text)
    async def record(message: Message) -> None:
        if message.text == "block" and blocked is not None:
            await blocked.wait()
        handled.append(message.text or "")

    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.include_router(router)
    return dispatcher


async def poll_until(poller: Poller, condition: object, timeout: float = 10) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while not condition():  # type: ignore[operator]
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task


async def test_a_stop_leaves_unfinished_updates_unconfirmed_and_handles_each_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = Bot(fake.token, session=build_session(fake.url))
    ids = [
        fake.send(HALYNA, text)["message_id"] and fake._updates[-1]["update_id"]
        for text in "a block b c".split()
    ]
    handled: list[str] = []
    blocked = asyncio.Event()  # never set: "block" is still being handled when the bot stops
    first = Poller(bot, recording_dispatcher(handled, blocked), grace=0.2, state_dir=tmp_path, timeout=1)
    await poll_until(first, lambda: len(handled) == 3)
    assert handled == ["a", "b", "c"]
    # Everything before "block" is confirmed; "block" and what follows are not.
    assert fake.confirmed_up_to == ids[0]
    state = json.loads((tmp_path / STATE_FILE).read_text())
    assert state == {"offset": ids[1], "done": ids[2:]}

    # The next start gets "block" again, and "b" and "c" with it, which it does not handle twice.
    second = Poller(bot, recording_dispatcher(handled, None), grace=0.2, state_dir=tmp_path, timeout=1)
    await poll_until(second, fake.confirmed)
    assert handled == ["a", "b", "c", "block"]
    await bot.session.close()


async def test_an_unreadable_update_is_skipped_and_the_rest_handled(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = Bot(fake.token, session=build_session(fake.url))
    fake.send(HALYNA, "before")
    fake.push({"message": {"from": HALYNA, "text": "no chat, no date, no id"}})
    fake.send(HALYNA, "after")
    handled: list[str] = []
    poller = Poller(bot, recording_dispatcher(handled, None), grace=0.2, state_dir=tmp_path, timeout=1)
    await poll_until(poller, fake.confirmed)
    assert handled == ["before", "after"]
    assert poller.skipped == 1
    await bot.session.close()


async def test_sigterm_while_telegram_is_slow_loses_and_repeats_nothing(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    # Before: polling confirmed updates as soon as it fetched them, and a stop while Telegram
    # was slow left 51 of 150 never answered. Here each reply takes 0.7 s, each user's
    # messages are answered one at a time, and the bot gets 0.5 s to finish: it stops with
    # replies under way (let finish), messages waiting their turn (left for the next start)
    # and, after the signal, new messages it must not fetch. With Redis: an update cut by the
    # stop must not stay marked as handled there (the next start would drop it).
    with redis_server(tmp_path / "redis") as redis:
        await slow_stop_and_restart(fake, tmp_path, REDIS_URL=redis.url, VOTE_SECRET="x" * 32)


async def slow_stop_and_restart(fake: FakeTelegram, tmp_path: Path, **settings: str) -> None:
    fake.latency["sendmessage"] = 0.7
    process, _ = await start(fake, tmp_path, SHUTDOWN_GRACE="0.5", RATE_LIMIT_MESSAGES="50", **settings)
    people = [user(509877000 + i, f"User{i}", f"Burstova{i}") for i in range(4)]
    for _ in range(4):
        for person in people:
            fake.send(person, "What about ambulances?")
    await fake.wait_for(lambda: len(fake.sent()) >= 4)
    process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.2)
    late = [user(509877100 + i, f"Late{i}", f"Pizdnia{i}") for i in range(3)]
    for person in late:
        fake.send(person, "What about ambulances?")
    assert await asyncio.wait_for(process.wait(), 20) == 0
    assert len(fake.sent()) < 19  # it did stop mid-burst

    fake.latency.clear()
    process, _ = await start(fake, tmp_path, **settings)
    await fake.wait_for(lambda: len(fake.sent()) >= 19 and fake.confirmed(), timeout=30)
    await asyncio.sleep(0.5)  # room for a repeated answer to show up
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 20) == 0
    assert [len(fake.sent(p["id"])) for p in people] == [4] * len(people)
    assert [len(fake.sent(p["id"])) for p in late] == [1] * len(late)


async def test_one_users_burst_does_not_hold_up_another(start_bot: StartBot) -> None:
    # Each user's messages are answered one at a time, in order; before, a burst took every
    # worker and the next user's question waited behind all of it.
    tg = await start_bot(rate_limit_messages=100, rate_limit_seconds=60)
    fake = tg.fake
    fake.latency["sendmessage"] = 0.1
    burst = [f"What about ambulances? {n}" for n in range(20)]
    for text in burst:
        fake.send(HALYNA, text)
    fake.send(STEPAN, "What about ambulances?")
    (other,) = await fake.replies(STEPAN["id"], 1)
    assert len(fake.sent(HALYNA["id"])) <= 5  # without the fix: all 20 came first
    await tg.settle()
    assert len(fake.sent(HALYNA["id"])) == len(burst) and "<b>ambulance" in other.html


async def test_a_users_commands_do_not_overtake_their_questions(start_bot: StartBot) -> None:
    # A command's filter may wait (for the bot's name) before a question's handler would:
    # the user's turn is taken before any filter runs, so replies keep the order of the messages.
    tg = await start_bot(rate_limit_messages=100, rate_limit_seconds=60)
    sent = [
        "How does the Nazovni platform help Ukrainian exporters?",
        "/help",
        "What about ambulances?",
        "/about",
    ]
    for text in sent:
        tg.fake.send(HALYNA, text)
    replies = await tg.fake.replies(HALYNA["id"], len(sent))
    kinds = ["Section:" in r.plain for r in replies]
    assert kinds == [True, False, True, False], [r.plain[:40] for r in replies]
    assert "nazovni" in replies[0].plain.lower() and "ambulance" in replies[2].plain.lower()


def a_batch_behind_slow_ones(
    fake: FakeTelegram, tmp_path: Path, grace: float
) -> tuple[Bot, Poller, list[str], asyncio.Event]:
    """Five updates that wait for an event, then another user's: a poller that fetches 5 at a time."""
    bot = Bot(fake.token, session=build_session(fake.url))
    for _ in range(5):
        fake.send(HALYNA, "block")
    fake.send(STEPAN, "free")
    handled: list[str] = []
    blocked = asyncio.Event()
    poller = Poller(
        bot, recording_dispatcher(handled, blocked), grace=grace, state_dir=tmp_path, timeout=1, limit=5
    )
    return bot, poller, handled, blocked


async def test_a_full_batch_of_unfinished_updates_does_not_keep_the_next_ones_out(
    fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # getUpdates gives `limit` updates from the offset, and the offset waits for the oldest
    # unfinished one: a flood waiting behind a slow reply kept everyone else's messages out.
    bot, poller, handled, blocked = a_batch_behind_slow_ones(fake, tmp_path, grace=5)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    async with asyncio.timeout(10):
        while "free" not in handled:
            await asyncio.sleep(0.02)
    assert handled == ["free"]  # while the five are still in progress
    assert "fill a batch" in caplog.text
    blocked.set()
    async with asyncio.timeout(10):
        while len(handled) < 6:
            await asyncio.sleep(0.02)
    stop.set()
    await task
    assert fake.confirmed()
    await bot.session.close()


async def test_updates_confirmed_while_unfinished_are_kept_and_answered_once_by_the_next_start(
    fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot, poller, handled, _ = a_batch_behind_slow_ones(fake, tmp_path, grace=0.2)  # never let go
    await poll_until(poller, lambda: "free" in handled)
    # Confirmed when the batch was fetched past: Telegram will not give them again, so they are kept.
    assert "5 confirmed updates not answered yet are kept for the next start" in caplog.text
    assert fake.confirmed() and json.loads((tmp_path / STATE_FILE).read_text())["done"] == []
    assert (tmp_path / JOURNAL_FILE).stat().st_mode & 0o777 == 0o600
    second = Poller(bot, recording_dispatcher(handled, None), grace=0.2, state_dir=tmp_path, timeout=1)
    await poll_until(second, lambda: len(handled) == 6)
    await asyncio.sleep(0.3)
    assert handled == ["free"] + ["block"] * 5 and not (tmp_path / JOURNAL_FILE).exists()
    third = Poller(bot, recording_dispatcher(handled, None), grace=0.2, state_dir=tmp_path, timeout=1)
    await poll_until(third, fake.confirmed)
    assert len(handled) == 6  # answered once
    await bot.session.close()


async def test_sigterm_in_a_burst_of_users_loses_none_answers_none_twice_and_stops_in_time(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    # Before: with over 100 updates in progress, polling confirmed them before they were answered
    # and a SIGTERM lost them for good (804 of 1,000), and stopping took past docker stop's 10 s.
    # Each person asks several questions: one person's answers go one after another, so with
    # a second per reply no machine is fast enough to answer them all within the grace period.
    people_count, asked, grace = 30, 5, 3.0  # 150 updates: over the 100 one getUpdates gives
    count = people_count * asked
    fake.latency["sendmessage"] = 1.0
    process, _ = await start(fake, tmp_path, SHUTDOWN_GRACE=str(grace))
    people = [user(509880000 + i, f"Burst{i}", f"Userova{i}") for i in range(people_count)]
    for round_ in range(asked):  # in turns, as a crowd writes: the first getUpdates takes some of each
        for i, person in enumerate(people):  # each its own question: none answered from another's work
            fake.send(person, f"What about ambulances in region number {round_ * people_count + i}?")
    await fake.wait_for(lambda: len(fake.sent()) >= 20, timeout=60)
    loop = asyncio.get_running_loop()
    signalled = loop.time()
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 30) == 0
    stopped_after = loop.time() - signalled
    assert len(fake.sent()) < count  # it did stop mid-burst
    assert stopped_after < grace + 2.0, stopped_after  # the process exits, not just the polling
    assert (tmp_path / "data" / JOURNAL_FILE).exists()  # confirmed but not answered: kept

    fake.latency.clear()
    process, _ = await start(fake, tmp_path)
    await fake.wait_for(lambda: len(fake.sent()) >= count and fake.confirmed(), timeout=120)
    await asyncio.sleep(0.5)  # room for a repeated answer to show up
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 20) == 0
    assert sorted(len(fake.sent(p["id"])) for p in people) == [asked] * people_count
    assert not (tmp_path / "data" / JOURNAL_FILE).exists()


async def test_a_stop_whose_last_confirmation_fails_answers_nothing_twice(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = Bot(fake.token, session=build_session(fake.url))
    fake.send(HALYNA, "block")
    handled: list[str] = []
    blocked = asyncio.Event()
    first = Poller(bot, recording_dispatcher(handled, blocked), grace=0.2, state_dir=tmp_path, timeout=1)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    async with asyncio.timeout(10):
        while not first._running:  # fetched, being handled
            await asyncio.sleep(0.01)
    # From now on Telegram does not answer getUpdates: no fetch confirms it, nor the one on the way out.
    fake.fail("getUpdates", 500, times=10_000)
    blocked.set()
    async with asyncio.timeout(10):
        while not handled:
            await asyncio.sleep(0.01)
    stop.set()
    await task
    fake.clear_failures()
    assert not fake.confirmed()  # Telegram gives it again to the next start...
    second = Poller(bot, recording_dispatcher(handled, None), grace=0.2, state_dir=tmp_path, timeout=1)
    await poll_until(second, fake.confirmed)
    assert handled == ["block"]  # ...which skips it, by the state file's list of handled ids
    await bot.session.close()


async def test_a_second_instance_polling_is_told_once_and_polls_again_when_the_other_stops(
    fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = Bot(fake.token, session=build_session(fake.url))
    fake.fail("getUpdates", status=409, times=3)  # another process holds the long poll
    fake.send(HALYNA, "after the conflict")
    handled: list[str] = []
    poller = Poller(bot, recording_dispatcher(handled, None), grace=0.2, state_dir=tmp_path, timeout=1)
    with caplog.at_level("INFO", logger="bot.telegram.polling"):
        await poll_until(poller, lambda: handled == ["after the conflict"], timeout=20)
    conflict = [r for r in caplog.records if "409 Conflict" in r.getMessage()]
    assert len(conflict) == 1 and conflict[0].levelname == "ERROR"
    assert "webhook mode" in conflict[0].getMessage()
    assert any("polling again" in r.getMessage() for r in caplog.records)
    await bot.session.close()
