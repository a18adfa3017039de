"""Stale and forged button data: a short "expired" answer, and nothing breaks."""

from __future__ import annotations

import pytest

from bot.service import AnswerService
from tests.conftest import RunningBot
from tests.fake_telegram import user

OLENA = user(501234567, "Olena", "Petrenko", "olena_p")
# Two passages answer this question on their own: its answer offers "Another answer".
SEVERAL = "What medical cooperation is there between Ukraine and Kazakhstan?"
EXPIRED = "This button has expired. Please ask again."

FORGED = [
    "junk",
    "m:unknownkey:1:en",  # not passage ids
    "m:000000000000.000000000001:1:en",  # passages that do not exist (content changed)
    "m:b9fcfd595c1c.b9fcfd595c1c:999:en",
    "m:b9fcfd595c1c.b9fcfd595c1c:-1:en",
    "m:b9fcfd595c1c.b9fcfd595c1c:1:<b>",
    "pg:p000000000000",  # a passage that does not exist (content changed)
    "pg:",
    "pg:a:b:c",
    "tp:nope",
    "ex:99",
    "ex:-1",
    "ex:one",
    "v:p000000000000:1",
    "v:pb9fcfd595c1c:maybe",
    "ts:extra",
    "<b>&amp;",
    "x" * 64,
]


@pytest.mark.parametrize("data", FORGED)
async def test_forged_or_stale_button_data_has_expired(tg: RunningBot, data: str) -> None:
    fake = tg.fake
    fake.send(OLENA, "What about ambulances?")
    (answer,) = await fake.replies(OLENA["id"])
    query = fake.press(OLENA, fake.message(answer), data)
    assert (await fake.answered(query)).params["text"] == EXPIRED
    await tg.settle()
    assert len(fake.sent(OLENA["id"])) == 1
    assert not fake.sent(method="editMessageText") and not fake.sent(method="editMessageReplyMarkup")
    assert tg.stats.summary().votes == ()
    # And the bot carries on.
    fake.send(OLENA, "How does the Nazovni platform help Ukrainian exporters?")
    assert "<b>Nazovni</b>" in (await fake.replies(OLENA["id"], 2))[1].html


async def test_every_button_the_bot_sends_fits_callback_limits(tg: RunningBot) -> None:
    fake = tg.fake
    for text in ("/start", "/topics", SEVERAL, "How do I get a visa?", "hello"):
        fake.send(OLENA, text)
    replies = await fake.replies(OLENA["id"], 5)
    data = [d for reply in replies for _, d in reply.buttons]
    assert len(data) >= 16
    # Examples, topics, a section, "another answer" and votes: every kind of button was sent.
    assert {d.split(":", 1)[0] for d in data} == {"ex", "ts", "tp", "m", "v"}
    assert all(1 <= len(d.encode()) <= 64 for d in data)


async def test_a_message_that_can_no_longer_be_edited_gets_a_new_one(
    tg: RunningBot, service: AnswerService
) -> None:
    fake = tg.fake
    total = len(service.ask(SEVERAL).answers)
    assert total >= 2
    fake.send(OLENA, SEVERAL)
    (answer,) = await fake.replies(OLENA["id"])
    fake.fail("editMessageText", 400)
    fake.press(OLENA, fake.message(answer), answer.data("Another answer"))
    second = (await fake.replies(OLENA["id"], 2))[1]
    assert f"Answer 2 of {total}" in second.plain and len(fake.failures("editMessageText")) == 1


async def test_paging_on_an_inaccessible_old_message_sends_a_new_one(tg: RunningBot) -> None:
    fake = tg.fake
    fake.send(OLENA, "/topics")
    (topics,) = await fake.replies(OLENA["id"])
    fake.press(OLENA, fake.message(topics), topics.buttons[0][1])
    opened = (await fake.replies(OLENA["id"], 2))[1]
    assert "Passage 1 of 5" in opened.plain
    # Telegram sends a message older than 48 hours as "inaccessible": only its chat, id and date 0.
    key = (OLENA["id"], opened.result["message_id"])
    old = {"chat": opened.result["chat"], "message_id": key[1], "date": 0}
    fake.messages.pop(key)
    fake.press(OLENA, old, opened.data("Next »"))
    assert "Passage 2 of 5" in (await fake.replies(OLENA["id"], 3))[2].plain
    assert not fake.sent(method="editMessageText")


async def test_a_language_switch_keeps_the_other_buttons_and_no_votes_come_back(tg: RunningBot) -> None:
    fake = tg.fake
    taras = user(502345679, "Тарас", "Гриценко", "taras_h2", lang="uk")
    fake.send(taras, "Яка медична співпраця між Україною та Казахстаном?")
    (answer,) = await fake.replies(taras["id"])
    labels = [label for label, _ in answer.buttons]
    assert labels == ["Інша відповідь", "👍", "👎", "Оригінал (англійською)"], labels
    # A vote takes the vote buttons off; the language button then must not bring them back.
    await fake.answered(fake.press(taras, fake.message(answer), answer.data("👍")))
    await fake.replies(taras["id"], 1, "editMessageReplyMarkup")
    fake.press(taras, fake.message(answer), answer.data("Оригінал (англійською)"))
    (original,) = await fake.replies(taras["id"], 1, "editMessageText")
    assert [label for label, _ in original.buttons] == ["Інша відповідь", "Українською"]
    fake.press(taras, fake.message(original), original.data("Українською"))
    back = (await fake.replies(taras["id"], 2, "editMessageText"))[1]
    assert [label for label, _ in back.buttons] == ["Інша відповідь", "Оригінал (англійською)"]
    # While browsing a section, the paging buttons stay.
    fake.send(taras, "/topics")
    topics = (await fake.replies(taras["id"], 2))[-1]
    fake.press(taras, fake.message(topics), topics.buttons[0][1])
    opened = (await fake.replies(taras["id"], 3))[-1]
    fake.press(taras, fake.message(opened), opened.data("Далі »"))
    page = (await fake.replies(taras["id"], 3, "editMessageText"))[-1]
    paging = [label for label, _ in page.buttons if label != "Оригінал (англійською)"]
    fake.press(taras, fake.message(page), page.data("Оригінал (англійською)"))
    switched = (await fake.replies(taras["id"], 4, "editMessageText"))[-1]
    assert [label for label, _ in switched.buttons] == [*paging, "Українською"]
    assert paging == ["« Назад", "Далі »"]
