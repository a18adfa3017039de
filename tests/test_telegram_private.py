"""A user in a private chat, end to end over HTTP through the fake Bot API."""

from __future__ import annotations

from typing import Any

import pytest

from bot.service import AnswerService
from tests.conftest import RunningBot, StartBot
from tests.fake_telegram import FakeTelegram, user

OLENA = user(501234567, "Olena", "Petrenko", "olena_p")
TARAS = user(502345678, "Тарас", "Шевчук", "taras_sh", lang="uk")
# Clearly outside the texts, and neither small talk nor a consular matter.
OFF_TOPIC = "Who won the football world cup in 2022?"
# Two passages answer this on their own, a third ranked passage does not.
SEVERAL = "What medical cooperation is there between Ukraine and Kazakhstan?"


async def ask(fake: FakeTelegram, who: dict[str, Any], text: str) -> tuple[int, str]:
    """Send a message and return (index of the bot's reply among its messages to that chat, reply HTML)."""
    chat_id = int(str(who["id"]))
    before = len(fake.sent(chat_id))
    fake.send(who, text)
    calls = await fake.replies(chat_id, before + 1)
    return before, calls[before].html


async def test_start_names_the_interview_and_offers_example_questions(tg: RunningBot) -> None:
    fake = tg.fake
    fake.send(OLENA, "/start")
    (reply,) = await fake.replies(OLENA["id"])
    assert "DESPITE THE DISTANCE BETWEEN OUR CAPITALS" in reply.plain
    assert "Serhii PAVLENKO" in reply.plain and "2024-05-18" in reply.plain
    labels = [label for label, _ in reply.buttons]
    assert "How does the Nazovni platform help Ukrainian exporters?" in labels and labels[-1] == "Topics"
    assert 2 <= len(labels) - 1 <= 3

    example = "How does the Nazovni platform help Ukrainian exporters?"
    query = fake.press(OLENA, fake.message(reply), reply.data(example))
    assert (await fake.answered(query)).ok
    answer = (await fake.replies(OLENA["id"], 2))[1]
    assert "<b>Nazovni</b>" in answer.html and "Source:" in answer.plain


async def test_help_and_about(tg: RunningBot) -> None:
    fake = tg.fake
    fake.send(OLENA, "/help")
    (help_,) = await fake.replies(OLENA["id"])
    assert "/topics" in help_.plain and "@embassy_qa_test_bot" in help_.plain and "/ask" in help_.plain
    fake.send(OLENA, "/about")
    about = (await fake.replies(OLENA["id"], 2))[1].plain
    assert "Chargé d'Affaires a.i. of Ukraine to the Republic of Kazakhstan" in about
    assert "2024-05-18" in about and "Embassy of Ukraine in the Republic of Kazakhstan" in about


async def test_topics_open_a_section_and_page_through_it_in_place(tg: RunningBot, service: object) -> None:
    fake = tg.fake
    fake.send(OLENA, "/topics")
    (topics,) = await fake.replies(OLENA["id"])
    assert len(topics.buttons) == len(service.sections)  # type: ignore[attr-defined]
    # The interview's third section, wherever other documents put it in the list.
    ((_, data),) = [b for b in topics.buttons if ". Kazakhstan's private business" in b[0]]

    fake.press(OLENA, fake.message(topics), data)
    first = (await fake.replies(OLENA["id"], 2))[1]
    assert "Passage 1 of 13" in first.plain and "Section:" in first.plain
    assert [label for label, _ in first.buttons] == ["Next »"]

    message = fake.message(first)
    fake.press(OLENA, message, first.data("Next »"))
    edit = (await fake.replies(OLENA["id"], 1, "editMessageText"))[0]
    assert edit.params["message_id"] == message["message_id"]
    assert "Passage 2 of 13" in edit.plain and [b for b, _ in edit.buttons] == ["« Back", "Next »"]

    # Pressing the old "Next" again asks for what is already shown: nothing breaks, the press is answered.
    again = fake.press(OLENA, message, first.data("Next »"))
    assert (await fake.answered(again)).ok
    back = fake.press(OLENA, fake.messages[(OLENA["id"], message["message_id"])], edit.data("« Back"))
    await fake.answered(back)
    edits = await fake.replies(OLENA["id"], 2, "editMessageText")
    assert "Passage 1 of 13" in edits[1].plain
    await tg.settle()
    assert not fake.failures("sendMessage") and len(fake.sent(OLENA["id"])) == 2


async def test_answer_shows_passage_section_source_with_matched_words_in_bold(
    tg: RunningBot, service: AnswerService
) -> None:
    fake = tg.fake
    offered = service.ask(SEVERAL)
    total = len(offered.answers)
    assert 2 <= total < len(offered.hits)  # the question still has several answers, and a non-answer
    _, html = await ask(fake, OLENA, SEVERAL)
    (reply,) = fake.sent(OLENA["id"])
    assert "<b>medical</b>" in html and "<b>Ukraine</b>" in html
    assert reply.plain.startswith("Section: During the visit of the delegation of the Ministry")
    assert "Source: «DESPITE THE DISTANCE" in reply.plain and "Serhii PAVLENKO" in reply.plain
    assert f"Answer 1 of {total}" in reply.plain
    assert [label for label, _ in reply.buttons] == ["Another answer", "👍", "👎"]

    # "Another answer" edits the message in place, through the offered passages only.
    message = fake.message(reply)
    shown = [reply]
    for rank in range(2, total + 1):
        fake.press(OLENA, message, shown[-1].data("Another answer"))
        edit = (await fake.replies(OLENA["id"], rank - 1, "editMessageText"))[-1]
        assert edit.params["message_id"] == message["message_id"]
        assert f"Answer {rank} of {total}" in edit.plain
        shown.append(edit)
    assert len({call.plain for call in shown}) == total
    assert [label for label, _ in shown[-1].buttons] == ["👍", "👎"]  # the last answer offers no other


async def test_another_answer_works_after_a_restart(start_bot: StartBot, service: AnswerService) -> None:
    # The button carries the offered passages itself: the next instance (or another one) serves it.
    first = await start_bot()
    fake = first.fake
    await ask(fake, OLENA, SEVERAL)
    (reply,) = fake.sent(OLENA["id"])
    first.stop.set()
    await first.task
    await start_bot()
    fake.press(OLENA, fake.message(reply), reply.data("Another answer"))
    (edit,) = await fake.replies(OLENA["id"], 1, "editMessageText")
    second = service.ask(SEVERAL).answers[1].passage
    assert "Answer 2 of" in edit.plain and second.section in edit.plain


async def test_a_single_answer_offers_no_other_passages(tg: RunningBot, service: AnswerService) -> None:
    question = "What are the Yurts of Invincibility?"
    assert len(service.ask(question).answers) == 1  # the other ranked passages do not answer it
    _, html = await ask(tg.fake, OLENA, question)
    (reply,) = tg.fake.sent(OLENA["id"])
    assert "<b>Yurts</b> of <b>Invincibility</b>" in html and reply.plain.startswith("Section: ")
    assert "Source: «DESPITE THE DISTANCE" in reply.plain and "Answer 1 of" not in reply.plain
    assert [label for label, _ in reply.buttons] == ["👍", "👎"]


async def test_votes_are_counted_once_per_message(tg: RunningBot) -> None:
    fake = tg.fake
    await ask(fake, OLENA, "What about ambulances?")
    (reply,) = fake.sent(OLENA["id"])
    assert [label for label, _ in reply.buttons] == ["👍", "👎"]
    query = fake.press(OLENA, fake.message(reply), reply.data("👍"))
    assert (await fake.answered(query)).params["text"] == "Thank you for the feedback!"
    await fake.replies(OLENA["id"], 1, "editMessageReplyMarkup")
    assert "reply_markup" not in fake.message(reply)
    votes = tg.stats.summary().votes
    assert [(v.up, v.down) for v in votes] == [(1, 0)]


async def test_one_person_one_vote_and_no_forged_votes(tg: RunningBot) -> None:
    fake = tg.fake
    await ask(fake, OLENA, "What about ambulances?")
    (reply,) = fake.sent(OLENA["id"])
    up, down = reply.data("👍"), reply.data("👎")
    # 👍, 👍 and 👎 on one answer: one vote, the last one.
    for data in (up, up, down):
        assert (await fake.answered(fake.press(OLENA, fake.message(reply), data))).params["text"] == (
            "Thank you for the feedback!"
        )
    await tg.settle()
    assert [(v.up, v.down) for v in tg.stats.summary().votes] == [(0, 1)]
    # The buttons were taken off once; no edit of a markup that is already gone.
    assert len(fake.sent(OLENA["id"], "editMessageReplyMarkup")) == 1
    # The same question asked again, and voted on again: still one vote on that passage, the last one.
    for _ in range(3):
        await ask(fake, OLENA, "What about ambulances?")
    for again in fake.sent(OLENA["id"])[1:]:
        await fake.answered(fake.press(OLENA, fake.message(again), again.data("👍")))
    await tg.settle()
    assert [(v.up, v.down) for v in tg.stats.summary().votes] == [(1, 0)]
    # 20 forged 👎 for a passage never shown here, and a real MAC copied into another chat.
    other = next(p for p in tg.dispatcher["answer_service"].corpus.passages if p.id not in down)
    petro = user(503333333, "Petro", "Bondar", "petro_b")
    await ask(fake, petro, "How many generators did Kusto Group deliver?")
    (petros,) = fake.sent(petro["id"])
    pid, mac = down.split(":")[1], down.split(":")[3]
    forged = [f"v:{other.id}:0:{'A' * 10}" for _ in range(20)] + [f"v:{pid}:0:{mac}"]
    for data in forged:
        answer = await fake.answered(fake.press(petro, fake.message(petros), data))
        assert answer.params["text"] == "This button has expired. Please ask again."
    assert [(v.up, v.down) for v in tg.stats.summary().votes] == [(1, 0)]


async def test_decline_is_kind_offers_topics_and_never_a_passage(
    tg: RunningBot, service: AnswerService
) -> None:
    await ask(tg.fake, OLENA, OFF_TOPIC)
    (reply,) = tg.fake.sent(OLENA["id"])
    assert "could not find" in reply.plain and "/topics" in reply.plain
    # Says what the bot can answer: the texts loaded, whatever they are.
    assert f"«{service.documents[0].title}»" in reply.plain
    assert "Source" not in reply.plain and "Section" not in reply.plain
    assert reply.buttons == [("Topics", "ts")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", "Hello! I am a bot that answers questions"),
        ("thanks", "You are welcome!"),
        ("who are you?", "I am a bot, not a person"),
    ],
)
async def test_small_talk_gets_a_friendly_reply_and_never_a_passage(
    tg: RunningBot, text: str, expected: str
) -> None:
    await ask(tg.fake, OLENA, text)
    (reply,) = tg.fake.sent(OLENA["id"])
    assert reply.plain.startswith(expected) and "/topics" in reply.plain
    assert "could not find" not in reply.plain
    assert "Source" not in reply.plain and "Section" not in reply.plain
    assert reply.buttons == [("Topics", "ts")]  # no votes: there is no passage to vote on


async def test_consular_questions_point_to_the_official_consular_channels(tg: RunningBot) -> None:
    await ask(tg.fake, OLENA, "How do I renew my passport?")
    (reply,) = tg.fake.sent(OLENA["id"])
    assert "consular matter" in reply.plain and "official consular channels" in reply.plain
    assert "could not find" not in reply.plain
    assert "Source" not in reply.plain and "Section" not in reply.plain
    assert reply.buttons == [("Topics", "ts")]


async def test_consular_reply_links_the_configured_consular_page(start_bot: StartBot) -> None:
    url = "https://kazakhstan.mfa.gov.ua/en/consular-affairs"
    tg = await start_bot(consular_url=url)
    await ask(tg.fake, OLENA, "How do I get a visa?")
    (reply,) = tg.fake.sent(OLENA["id"])
    assert "consular matter" in reply.plain and reply.plain.endswith(url)
    assert "Source" not in reply.plain and reply.buttons == [("Topics", "ts")]


async def test_html_markdown_emoji_and_other_scripts_are_safe(tg: RunningBot) -> None:
    fake = tg.fake
    for text in (
        "<b>aid</b> & *Kazakhstan* <script>alert(1)</script> _x_ `y`",
        "🙂🙂🙂",
        "中文问题？",
        "a" * 4000,
    ):
        await ask(fake, OLENA, text)
    replies = fake.sent(OLENA["id"])
    assert len(replies) == 4 and not fake.failures("sendMessage")
    assert "too long" in replies[3].plain
    assert all("Source" not in r.plain for r in replies)


async def test_media_gets_a_one_line_hint(tg: RunningBot) -> None:
    fake = tg.fake
    media: list[dict[str, Any]] = [
        {"sticker": {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512,
                     "is_animated": False, "is_video": False}},
        {"photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]},
        {"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 2}},
        {"location": {"latitude": 51.13, "longitude": 71.43}},
        {"document": {"file_id": "d1", "file_unique_id": "u4", "file_name": "passport.pdf"}},
    ]  # fmt: skip
    for content in media:
        fake.send(OLENA, **content)
    replies = await fake.replies(OLENA["id"], len(media))
    assert {r.plain for r in replies} == {
        "I can only read text. Please send your question as a text message."
    }


async def test_a_photo_or_document_with_a_question_as_caption_is_answered(tg: RunningBot) -> None:
    fake = tg.fake
    photo = [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]
    fake.send(OLENA, photo=photo, caption="How many generators did Kusto Group deliver?")
    document = {"file_id": "d1", "file_unique_id": "u4", "file_name": "scan.pdf"}
    fake.send(OLENA, document=document, caption="What about ambulances?")
    replies = await fake.replies(OLENA["id"], 2)
    assert any("41 high-power generators" in r.plain for r in replies)
    assert any("<b>ambulance" in r.html for r in replies)


async def test_an_edited_question_gets_a_fresh_answer(tg: RunningBot) -> None:
    fake = tg.fake
    message = fake.send(OLENA, OFF_TOPIC)
    await fake.replies(OLENA["id"])
    fake.edit(message, "How does the Nazovni platform help Ukrainian exporters?")
    replies = await fake.replies(OLENA["id"], 2)
    assert "could not find" in replies[0].plain and "<b>Nazovni</b>" in replies[1].html


async def test_unknown_and_staff_commands_give_no_admin_information(tg: RunningBot) -> None:
    fake = tg.fake
    for command in ("/stats", "/reload", "/nonsense"):
        await ask(fake, OLENA, command)
    replies = fake.sent(OLENA["id"])
    assert [r.plain for r in replies] == ["I don't know this command. Send me a question, or see /help."] * 3


async def test_ukrainian_user_gets_ukrainian_texts_and_answers_to_ukrainian_questions(tg: RunningBot) -> None:
    fake = tg.fake
    await ask(fake, TARAS, "/start")
    await ask(fake, TARAS, "Скільки українців живе в Казахстані?")
    await ask(fake, TARAS, "Хто виграв чемпіонат світу з футболу 2022 року?")
    start, answer, decline = fake.sent(TARAS["id"])
    assert start.plain.startswith("Вітаю!") and start.buttons[-1][0] == "Розділи"
    assert "ПОПРИ ВІДСТАНЬ МІЖ НАШИМИ СТОЛИЦЯМИ" in start.plain  # the document's title in Ukrainian
    # The Ukrainian translation of the passage, labelled as one, with the published original a press away.
    assert answer.plain.startswith("Розділ: Якою є нині траєкторія") and "373 тисячі" in answer.plain
    assert "\n\nДжерело: «ПОПРИ ВІДСТАНЬ" in answer.plain and "Неофіційний переклад" in answer.plain
    assert "Section" not in answer.plain and "Source" not in answer.plain
    assert "<b>українців</b>" in answer.html and "<b>Казахстані</b>" in answer.html
    assert ("👍", answer.data("👍")) in answer.buttons
    fake.press(TARAS, fake.message(answer), answer.data("Оригінал (англійською)"))
    (original,) = await fake.replies(TARAS["id"], 1, "editMessageText")
    assert "Currently, Kazakhstan is home to almost 373 thousand ethnic Ukrainians" in original.plain
    assert "Джерело: «DESPITE THE DISTANCE" in original.plain and "Неофіційний" not in original.plain
    fake.press(TARAS, fake.message(original), original.data("Українською"))
    back = (await fake.replies(TARAS["id"], 2, "editMessageText"))[1]
    assert "373 тисячі" in back.plain
    assert "не знайшов" in decline.plain and "/topics" in decline.plain
    assert "Джерело" not in decline.plain and decline.buttons == [("Розділи", "ts")]


async def test_russian_speaking_user_gets_the_ukrainian_interface_and_translation(tg: RunningBot) -> None:
    fake = tg.fake
    ivan = user(503456789, "Иван", "Коваль", "ivan_k", lang="ru")
    await ask(fake, ivan, "/topics")
    await ask(fake, ivan, "Скільки українців живе в Казахстані?")
    await ask(fake, ivan, "Сколько украинцев живёт в Казахстане?")
    topics, ukrainian, russian = fake.sent(ivan["id"])
    assert topics.plain.startswith("Розділи текстів") and "Якою є нині траєкторія" in topics.plain
    for answer in (ukrainian, russian):
        assert answer.plain.startswith("Розділ: ") and "Неофіційний переклад" in answer.plain
        assert "373 тисячі" in answer.plain
    fake.press(ivan, fake.message(russian), russian.data("Оригінал (англійською)"))
    (original,) = await fake.replies(ivan["id"], 1, "editMessageText")
    assert "373 thousand ethnic Ukrainians" in original.plain and original.plain.startswith("Розділ: ")


async def test_english_question_from_ukrainian_user_gets_the_english_passage(tg: RunningBot) -> None:
    fake = tg.fake
    await ask(fake, TARAS, "How many ethnic Ukrainians live in Kazakhstan?")
    (answer,) = fake.sent(TARAS["id"])
    assert "373 thousand ethnic Ukrainians" in answer.plain and "Неофіційний" not in answer.plain
    assert answer.plain.startswith("Розділ: ")  # the interface stays the user's
    assert "Оригінал (англійською)" not in dict(answer.buttons)


async def test_a_forged_language_button_has_expired(tg: RunningBot) -> None:
    fake = tg.fake
    await ask(fake, TARAS, "Скільки українців живе в Казахстані?")
    (answer,) = fake.sent(TARAS["id"])
    for data in ("vr:pdeadbeef0000:en", "vr:" + "x" * 70 + ":en", "vr:p6aea8239f64e:EN!"):
        query_id = fake.press(TARAS, fake.message(answer), data)
        reply = await fake.answered(query_id)
        assert "застаріла" in (reply.params.get("text") or "")
    assert not fake.sent(TARAS["id"], "editMessageText")


async def test_russian_question_from_english_user_is_answered_with_ukrainian_labels(
    tg: RunningBot, service: AnswerService
) -> None:
    fake = tg.fake
    await ask(fake, OLENA, "Сколько украинцев живёт в Казахстане?")
    (reply,) = fake.sent(OLENA["id"])
    assert reply.plain.startswith("Розділ: ") and "373 тисячі" in reply.plain
    assert "\n\nДжерело: «ПОПРИ ВІДСТАНЬ" in reply.plain
    assert "Section" not in reply.plain and "Source" not in reply.plain
    assert ("👍", reply.data("👍")) in reply.buttons and "Another answer" not in dict(reply.buttons)
    # The published original keeps the Ukrainian interface of the question, not the app's English.
    fake.press(OLENA, fake.message(reply), reply.data("Оригінал (англійською)"))
    (original,) = await fake.replies(OLENA["id"], 1, "editMessageText")
    assert original.plain.startswith("Розділ: What is the current trajectory")
    assert [label for label, _ in original.buttons] == ["👍", "👎", "Українською"]

    # "Another answer" keeps the language of the question, not of the user's Telegram interface.
    question = "медицинское сотрудничество"
    total = len(service.ask(question).answers)
    assert total >= 2
    await ask(fake, OLENA, question)
    several = fake.sent(OLENA["id"])[1]
    assert several.plain.startswith("Розділ: ") and f"Відповідь 1 з {total}" in several.plain
    assert [label for label, _ in several.buttons] == ["Інша відповідь", "👍", "👎", "Оригінал (англійською)"]
    fake.press(OLENA, fake.message(several), several.data("Інша відповідь"))
    edit = (await fake.replies(OLENA["id"], 2, "editMessageText"))[1]
    assert edit.plain.startswith("Розділ: ") and f"Відповідь 2 з {total}" in edit.plain
    assert "Source" not in edit.plain
