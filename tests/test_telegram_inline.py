"""Inline mode: `@bot question` lists passages; an empty query lists the topics."""

from __future__ import annotations

from tests.conftest import RunningBot
from tests.fake_telegram import parse_html, user

OLENA = user(501234567, "Olena", "Petrenko", "olena_p")
TARAS = user(502345678, "Тарас", username="taras_sh", lang="uk")


async def test_inline_question_lists_the_top_passages(tg: RunningBot) -> None:
    fake = tg.fake
    query = fake.inline(OLENA, "How many ethnic Ukrainians live in Kazakhstan?")
    answer = await fake.answered(query)
    results = answer.params["results"]
    assert 2 <= len(results) <= 5 and answer.params["is_personal"] is True
    assert len({r["id"] for r in results}) == len(results)
    first = results[0]
    assert first["title"].startswith("What is the current trajectory of cooperation")
    message = first["input_message_content"]["message_text"]
    assert "373 thousand <b>ethnic</b> <b>Ukrainians</b>" in message and "Source:" in parse_html(message)
    # Each result is one passage on its own: no "Answer n of m", no buttons.
    assert all("Answer " not in parse_html(r["input_message_content"]["message_text"]) for r in results)
    assert "reply_markup" not in first


async def test_inline_lists_only_the_passages_offered_as_answers(tg: RunningBot) -> None:
    # Only the Nazovni passage answers this; weaker passages that merely mention "platform" are not listed.
    answer = await tg.fake.answered(tg.fake.inline(OLENA, "What is the Nazovni platform?"))
    (result,) = answer.params["results"]
    assert result["title"].startswith("Kazakhstan's private business")
    assert "<b>Nazovni</b>" in result["input_message_content"]["message_text"]


async def test_empty_inline_query_lists_the_topics(tg: RunningBot) -> None:
    fake = tg.fake
    answer = await fake.answered(fake.inline(OLENA, "  "))
    results = answer.params["results"]
    assert len(results) == 7
    assert results[5]["title"].startswith("What is the current trajectory of cooperation")
    assert all("Passage 1 of" in parse_html(r["input_message_content"]["message_text"]) for r in results)


async def test_inline_decline_lists_nothing_and_offers_the_topics(tg: RunningBot) -> None:
    fake = tg.fake
    answer = await fake.answered(fake.inline(TARAS, "як отримати візу?"))
    assert answer.params["results"] == []
    button = answer.params["button"]
    assert button["start_parameter"] == "topics" and "розділи" in button["text"]
    # The button opens the private chat with /start topics.
    fake.send(TARAS, "/start topics")
    (reply,) = await fake.replies(TARAS["id"])
    assert len(reply.buttons) == 7


async def test_inline_html_characters_are_safe(tg: RunningBot) -> None:
    answer = await tg.fake.answered(tg.fake.inline(OLENA, '<aid> & "Kazakhstan" humanitarian'))
    assert answer.ok
