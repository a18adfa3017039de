"""Inline mode: `@bot question` lists passages; an empty query lists the topics."""

from __future__ import annotations

import pytest

from bot.service import AnswerService
from bot.telegram.inline import INLINE_TOP
from tests.conftest import RunningBot
from tests.fake_telegram import parse_html, user

OLENA = user(501234567, "Olena", "Petrenko", "olena_p")
TARAS = user(502345678, "Тарас", username="taras_sh", lang="uk")


async def test_inline_question_lists_the_top_passages(tg: RunningBot) -> None:
    fake = tg.fake
    query = fake.inline(OLENA, "What medical cooperation is there between Ukraine and Kazakhstan?")
    answer = await fake.answered(query)
    results = answer.params["results"]
    assert 2 <= len(results) <= 5 and answer.params["is_personal"] is True
    assert len({r["id"] for r in results}) == len(results)
    first = results[0]
    assert first["title"].startswith("During the visit of the delegation of the Ministry")
    message = first["input_message_content"]["message_text"]
    assert "<b>medical</b>" in message
    assert "Source:" in parse_html(message)
    # Each result is one passage on its own: no "Answer n of m", no buttons.
    assert all("Answer " not in parse_html(r["input_message_content"]["message_text"]) for r in results)
    assert "reply_markup" not in first


@pytest.mark.parametrize(
    "question",
    [
        "What medical cooperation is there between Ukraine and Kazakhstan?",
        "What are the Yurts of Invincibility?",
    ],
)
async def test_inline_lists_only_the_passages_offered_as_answers(
    tg: RunningBot, service: AnswerService, question: str
) -> None:
    offered = service.ask(question, INLINE_TOP)
    assert offered.answered and len(offered.answers) < len(offered.hits)  # some ranked passages do not answer
    answer = await tg.fake.answered(tg.fake.inline(OLENA, question))
    assert [r["id"] for r in answer.params["results"]] == [hit.passage.id for hit in offered.answers]


async def test_empty_inline_query_lists_the_topics(tg: RunningBot, service: AnswerService) -> None:
    fake = tg.fake
    answer = await fake.answered(fake.inline(OLENA, "  "))
    results = answer.params["results"]
    assert len(results) == min(len(service.sections), 50)
    assert any(r["title"].startswith("What is the current trajectory of cooperation") for r in results)
    assert all("Passage 1 of" in parse_html(r["input_message_content"]["message_text"]) for r in results)


async def test_inline_decline_lists_nothing_and_offers_the_topics(
    tg: RunningBot, service: AnswerService
) -> None:
    fake = tg.fake
    answer = await fake.answered(fake.inline(TARAS, "як отримати візу?"))
    assert answer.params["results"] == []
    button = answer.params["button"]
    assert button["start_parameter"] == "topics" and "розділи" in button["text"]
    # The button opens the private chat with /start topics.
    fake.send(TARAS, "/start topics")
    (reply,) = await fake.replies(TARAS["id"])
    assert len(reply.buttons) == len(service.sections)


async def test_inline_html_characters_are_safe(tg: RunningBot) -> None:
    answer = await tg.fake.answered(tg.fake.inline(OLENA, '<aid> & "Kazakhstan" humanitarian'))
    assert answer.ok


async def test_inline_ukrainian_query_lists_the_translated_passage(tg: RunningBot) -> None:
    fake = tg.fake
    query_id = fake.inline(OLENA, "Скільки українців живе в Казахстані?")
    call = await fake.answered(query_id)
    first = call.params["results"][0]
    assert first["title"].startswith("Якою є нині траєкторія")
    assert "373 тисячі" in first["input_message_content"]["message_text"]


async def test_a_flood_of_inline_queries_is_answered_latest_only_and_others_are_served(
    tg: RunningBot,
) -> None:
    fake = tg.fake
    flooder = user(505555555, "Flood", "Kovalenko", "flood_sender")
    ids = [fake.inline(flooder, f"humanitarian aid {n}") for n in range(200)]
    fake.send(OLENA, "How many generators did Kusto Group deliver?")
    (reply,) = await fake.replies(OLENA["id"])
    assert "41 high-power generators" in reply.plain
    await fake.answered(ids[-1])  # the latest query is answered
    await tg.settle()
    answered = {call.params["inline_query_id"] for call in fake.sent(method="answerInlineQuery")}
    assert ids[-1] in answered
    assert len(answered & set(ids)) <= 5  # superseded queries are dropped, not answered one by one
