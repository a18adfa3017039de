"""The answering service and the replies every adapter shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.console import render_plain
from bot.replies import MORE_IN_BUTTON, Replies
from bot.service import MAX_QUESTION_CHARS, AnswerService
from index.content.loader import ContentError, load_corpus
from index.semantic.model import Embedder

CONTENT = Path(__file__).resolve().parents[1] / "content"


def test_answered_question_gives_passage_section_and_matched_words(service: AnswerService) -> None:
    answer = service.ask("How many generators did Kusto Group deliver?")
    assert answer.answered and answer.reason == "answered"
    assert answer.best is not None
    assert "41 high-power generators" in answer.best.passage.text
    assert answer.best.passage.section.startswith("Kazakhstan's private business")
    assert {"generat", "kusto"} <= set(answer.best.matched)
    assert answer.best.cosine is not None and answer.best.cosine > 0.8
    assert 0.5 < answer.confidence <= 1.0


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("x" * (MAX_QUESTION_CHARS + 1), "too_long"),
        ("?!", "no_match"),
        ("🙂", "no_match"),
        ("\u200b\u2060\ufeff", "empty"),
        ("What is the Embassy's address in Astana?", "consular"),
        ("Як продовжити паспорт?", "consular"),
        ("Как продлить паспорт в посольстве?", "consular"),
        ("Who won the football world cup in 2022?", "low_confidence"),
        ("hello", "small_talk"),
        ("Дякую!", "small_talk"),
        ("spasibo", "small_talk"),
    ],
)
def test_declines_say_why(service: AnswerService, question: str, reason: str) -> None:
    answer = service.ask(question)
    assert not answer.answered
    assert answer.best is None
    assert answer.reason == reason


def test_a_declined_question_still_lists_the_nearest_passages(service: AnswerService) -> None:
    answer = service.ask("What is the Embassy's address in Astana?")
    assert not answer.answered and answer.hits


def test_top_overrides_the_default(service: AnswerService) -> None:
    assert len(service.ask("humanitarian aid", top=7).hits) == 7
    assert len(service.ask("humanitarian aid", top=1).hits) == 1


def test_reload_keeps_the_old_index_on_broken_content(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    service = AnswerService(folder)
    (folder / "broken.md").write_text("no header\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"broken\.md:1"):
        service.reload()
    assert service.ask("Yurts of Invincibility").answered
    (folder / "broken.md").unlink()
    assert len(service.reload().passages) == len(load_corpus(CONTENT).passages)


def test_reply_bolds_matched_words_and_cites_the_source(service: AnswerService) -> None:
    replies = Replies(service)
    answer = service.ask("yurts of invincibility")
    reply = replies.answer(answer, "en")
    bold = [span.text for span in reply.spans if span.style == "bold"]
    assert "Yurts" in bold and "Invincibility" in bold
    text = reply.plain()
    assert "Section: Kazakhstan's private business" in text
    assert "Serhii PAVLENKO" in text and "2024-05-18" in text
    assert [b.action for row in reply.buttons for b in row] == ["vote", "vote"]  # only one hit
    several = service.ask("medical cooperation")
    assert len(several.hits) > 1
    more = replies.answer(several, "en")
    assert [b.action for row in more.buttons for b in row] == ["more", "vote", "vote"]
    # The button carries the offered passages' ids (no question, nothing about who asked) and the rank.
    ids = [h.passage.id for h in several.answers[:MORE_IN_BUTTON]]
    assert more.buttons[0][0].args == (".".join(i[1:] for i in ids), "1", "en")
    second = replies.more(ids, 1, "en", "en")
    assert second is not None and several.answers[1].passage.text[:40] in second.plain()


def test_decline_offers_topics_in_the_users_language(service: AnswerService) -> None:
    replies = Replies(service)
    english = replies.answer(service.ask("Recommend a good restaurant for dinner"), "en")
    assert "could not find" in english.plain()
    assert english.buttons[0][0].action == "topics"
    # A question in Ukrainian or Russian is answered in Ukrainian, whatever the interface language.
    consular = replies.answer(service.ask("Як продовжити паспорт?"), "en")
    assert "консульське питання" in consular.plain()
    assert "консульське питання" in replies.answer(service.ask("Как продлить паспорт?"), "en").plain()


def test_consular_decline_points_to_the_configured_channel(service: AnswerService) -> None:
    url = "https://example.org/consular"
    reply = Replies(service, consular_url=url).answer(service.ask("How do I renew my passport?"), "en")
    assert "consular matter" in reply.plain() and url in reply.plain()
    assert url not in Replies(service).answer(service.ask("How do I renew my passport?"), "en").plain()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Hi!", "I am a bot that answers"),
        ("thanks a lot", "You are welcome"),
        ("Привіт", "Я бот, що відповідає"),
        ("спасибо большое", "Будь ласка"),
        ("who are you?", "I am a bot, not a person"),
        ("bye", "Goodbye"),
    ],
)
def test_small_talk_gets_a_short_friendly_reply_and_no_passage(
    service: AnswerService, message: str, expected: str
) -> None:
    answer = service.ask(message)
    assert not answer.answered and answer.reason == "small_talk" and answer.best is None
    reply = Replies(service).answer(answer, "en")
    assert expected in reply.plain()
    assert "could not find" not in reply.plain()
    assert [b.action for row in reply.buttons for b in row] == ["topics"]


def test_ukrainian_and_russian_questions_find_their_passage(service: AnswerService) -> None:
    for question in ("Скільки українців живе в Казахстані?", "Сколько украинцев живет в Казахстане?"):
        answer = service.ask(question)
        assert answer.answered, question
        assert answer.best is not None and "373 thousand" in answer.best.passage.text
        assert answer.language in ("uk", "ru")
    # Latin-typed Russian is recognised as Russian (how well it is answered: test_quality.py).
    latin = service.ask("skolko ukraintsev zhivet v kazahstane")
    assert latin.language == "ru" and latin.hits


def test_another_answer_offers_only_passages_that_clear_the_bar(service: AnswerService) -> None:
    answer = service.ask("How many generators did Kusto Group deliver?")
    decision = service.calibration.semantic
    assert answer.answered and answer.hits
    # Every alternative offered was judged an answer on its own evidence (weaker than the best's).
    assert all(hit.score <= answer.hits[0].score for hit in answer.hits)
    assert decision.threshold > 0
    declined = service.ask("Who won the football world cup in 2022?")
    assert not declined.answered and len(declined.hits) == service.top_k  # staff still see the nearest


def test_section_paging_walks_the_section(service: AnswerService) -> None:
    replies = Replies(service)
    section = service.sections[1]
    first = replies.section_first(section, "en")
    assert [b.action for row in first.buttons for b in row] == ["page"]
    second = service.passage(first.buttons[0][0].args[0])
    assert second is not None and second.position == 1
    last = replies.passage(second, "en")
    assert [b.label for row in last.buttons for b in row] == ["« Back"]
    assert "Passage 2 of 2" in render_plain(last)


def test_another_answer_from_button_data_expires_only_when_a_passage_is_gone(service: AnswerService) -> None:
    replies = Replies(service)
    ids = [p.id for p in service.corpus.passages[:3]]
    assert replies.more(ids, 2, "uk", "en") is not None  # any existing passages: shown, never invented
    assert replies.more([*ids[:2], "p000000000000"], 1, "en", "en") is None  # one no longer exists
    assert replies.more(ids, 3, "en", "en") is None and replies.more(ids, -1, "en", "en") is None


def test_a_passage_that_leans_on_the_one_before_is_shown_with_it(service: AnswerService) -> None:
    answer = service.ask("Was a draft framework memorandum sent to the Kazakh party?")
    assert answer.best is not None
    assert answer.best.passage.text.startswith("On the way to implementing these plans")
    reply = Replies(service).answer(answer, "en")
    context = [span.text for span in reply.spans if span.style == "italic" and span.text.startswith("[…]")]
    assert len(context) == 1 and "international medical partnerships" in context[0]
    assert reply.plain().index("[…]") < reply.plain().index("On the way to implementing")


def test_a_restart_with_unchanged_content_loads_the_cached_index(tmp_path: Path) -> None:
    folder, cache = tmp_path / "content", tmp_path / "cache"
    shutil.copytree(CONTENT, folder)
    first = AnswerService(folder, cache_dir=cache)
    assert not first.index.loaded
    second = AnswerService(folder, cache_dir=cache)
    assert second.index.loaded
    assert second.index.variants == first.index.variants == {"kazakstan": "kazakhstan"}
    question = "what did zelensky thank tokayev for"
    assert second.ask(question) == first.ask(question)
    page = folder / "pavlenko-2024-05-18.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace("41 high-power", "42 high-power"), encoding="utf-8"
    )
    third = AnswerService(folder, cache_dir=cache)
    assert not third.index.loaded  # changed content rebuilds
    assert third.ask("How many generators did Kusto Group deliver?").hits[0].passage.text.count("42 high")


def test_a_slip_in_the_text_is_bolded_like_the_word_it_stands_for(service: AnswerService) -> None:
    answer = service.ask("Is Kazakhstan a member of the Eurasian Economic Union?")
    assert answer.best is not None and "Notably, Kazakstan" in answer.best.passage.text
    reply = Replies(service).answer(answer, "en")
    bold = {span.text for span in reply.spans if span.style == "bold"}
    assert {"Kazakstan", "Eurasian", "Economic", "Union"} <= bold


def test_undecodable_and_control_characters_never_reach_the_model(service: AnswerService) -> None:
    clean = service.ask("Where are Sunday schools in Kazakhstan?")
    assert (
        service.ask("\x00Where are Sunday schools\udcff in Kazakhstan?").hits[0].passage
        == clean.hits[0].passage
    )
    assert service.ask("\x00\x01\u200b").reason == "empty"


def test_a_question_mixing_scripts_is_read_as_cyrillic(service: AnswerService) -> None:
    answer = service.ask("Що таке Culture vs War?")
    assert answer.language == "uk"
    assert answer.best is not None and "Culture vs War" in answer.best.passage.text


def test_an_answer_from_before_a_reload_that_dropped_its_passage_has_expired(
    tmp_path: Path, embedder: Embedder
) -> None:
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    service = AnswerService(folder, embedder, cache_dir=tmp_path / "cache")
    answer = service.ask("How many generators did Kusto Group deliver?")
    page = folder / "pavlenko-2024-05-18.md"
    page.write_text(page.read_text(encoding="utf-8").replace("41 high-power", "42 high-power"))
    (folder / "pavlenko-2024-05-18.uk.md").write_text(
        (folder / "pavlenko-2024-05-18.uk.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    service.reload()
    reply = Replies(service).answer(answer, "en")
    assert "expired" in reply.plain()
    fresh = Replies(service).answer(service.ask("How many generators did Kusto Group deliver?"), "en")
    assert "42 high-power" in fresh.plain()


def test_every_example_question_offered_on_start_is_answered(service: AnswerService) -> None:
    examples = Replies(service).examples()
    assert examples
    for question in examples:
        assert service.ask(question).answered, question
