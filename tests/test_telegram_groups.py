"""Groups: /ask, a mention, or a reply to the bot get an answer; other chatter is ignored."""

from __future__ import annotations

from tests.conftest import RunningBot, StartBot
from tests.fake_telegram import group_chat, user

OLENA = user(501234567, "Olena", "Petrenko", "olena_p")
PETRO = user(503456789, "Petro", username="petro_k")
GROUP = group_chat(-1001234567890)
STICKER = {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 1, "height": 1,
           "is_animated": False, "is_video": False}  # fmt: skip


async def test_group_chatter_is_ignored(tg: RunningBot) -> None:
    fake = tg.fake
    for text in (
        "Hi all! How does the Nazovni platform help Ukrainian exporters?",
        "/ask@other_helper_bot How does the Nazovni platform help Ukrainian exporters?",
        "/start@other_helper_bot",
        "@someone_else what about ambulances?",
        "email me at olena@example.com",
    ):
        fake.send(OLENA, text, chat=GROUP)
    fake.send(PETRO, chat=GROUP, sticker=STICKER)
    await tg.settle()
    assert fake.sent(GROUP["id"]) == []


async def test_mention_gets_an_answer_as_a_reply(tg: RunningBot) -> None:
    fake = tg.fake
    question = "@embassy_qa_test_bot how does the Nazovni platform help Ukrainian exporters?"
    asked = fake.send(OLENA, question, chat=GROUP)
    (reply,) = await fake.replies(GROUP["id"])
    assert "<b>Nazovni</b>" in reply.html
    assert reply.params["reply_parameters"]["message_id"] == asked["message_id"]


async def test_mention_after_emoji_and_in_any_case(tg: RunningBot) -> None:
    fake = tg.fake
    fake.send(OLENA, "🇺🇦🙂 What about ambulances, @Embassy_QA_Test_Bot?", chat=GROUP)
    (reply,) = await fake.replies(GROUP["id"])
    assert "<b>ambulance" in reply.html


async def test_bare_mention_asks_for_a_question(tg: RunningBot) -> None:
    fake = tg.fake
    fake.send(OLENA, "@embassy_qa_test_bot", chat=GROUP)
    (reply,) = await fake.replies(GROUP["id"])
    assert reply.plain.startswith("Please send your question as text")


async def test_reply_to_the_bot_gets_an_answer(tg: RunningBot) -> None:
    fake = tg.fake
    fake.send(OLENA, "/ask How does the Nazovni platform help Ukrainian exporters?", chat=GROUP)
    (first,) = await fake.replies(GROUP["id"])
    fake.send(PETRO, "And what about ambulances?", chat=GROUP, reply_to=fake.message(first))
    second = (await fake.replies(GROUP["id"], 2))[1]
    assert "<b>ambulance" in second.html
    # A reply to another user is chatter.
    other = fake.send(OLENA, "thanks", chat=GROUP)
    fake.send(PETRO, "How does the Nazovni platform help Ukrainian exporters?", chat=GROUP, reply_to=other)
    await tg.settle()
    assert len(fake.sent(GROUP["id"])) == 2


async def test_ask_command_in_a_group(tg: RunningBot) -> None:
    fake = tg.fake
    question = fake.send(
        OLENA, "/ask@embassy_qa_test_bot How does the Embassy support Ukrainian Sunday schools?", chat=GROUP
    )
    bare = fake.send(OLENA, "/ask", chat=GROUP)
    replies = await fake.replies(GROUP["id"], 2)
    # Updates are handled concurrently: tell the replies apart by the message each one replies to.
    by_message = {r.params["reply_parameters"]["message_id"]: r for r in replies}
    first, usage = by_message[question["message_id"]], by_message[bare["message_id"]]
    assert "Source:" in first.plain and "<b>Sunday</b>" in first.html
    assert usage.plain.startswith("Write your question after the command")


async def test_staff_commands_are_not_answered_in_groups(tg: RunningBot) -> None:
    fake = tg.fake
    admin = user(424242, "Staff", username="staff_member")
    fake.send(admin, "/stats", chat=GROUP)
    fake.send(admin, "/stats@embassy_qa_test_bot", chat=GROUP)
    await tg.settle()
    assert fake.sent(GROUP["id"]) == []


async def test_the_slow_down_notice_in_a_group_is_a_reply_to_the_sender(start_bot: StartBot) -> None:
    fake = (await start_bot(rate_limit_messages=1, rate_limit_seconds=600)).fake
    fake.send(OLENA, "@embassy_qa_test_bot what about ambulances?", chat=GROUP)
    second = fake.send(OLENA, "@embassy_qa_test_bot what about ambulances? again", chat=GROUP)
    replies = await fake.replies(GROUP["id"], 2)
    (notice,) = [r for r in replies if "too fast" in r.plain]
    assert notice.params["reply_parameters"]["message_id"] == second["message_id"]
