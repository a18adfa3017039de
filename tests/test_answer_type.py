"""What kind of fact a question asks for, and whether the nearest sentence supplies it."""

from __future__ import annotations

import pytest

from bot.service import AnswerService
from index.decision.answer_type import Wanted, supplies, wanted


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many tonnes of aid arrived?", Wanted.QUANTITY),
        ("Скільки українців живе в Казахстані?", Wanted.QUANTITY),
        ("сколько стоит", Wanted.MONEY),
        ("skolko ukraintsev v kazakhstane", Wanted.QUANTITY),
        ("When was the association founded?", Wanted.TIME),
        ("Коли відкрили школу?", Wanted.TIME),
        ("в каком году это было", Wanted.TIME),
        ("Who runs the Ukrainian House?", Wanted.PERSON),
        ("хто директор", Wanted.PERSON),
        ("What does the Embassy do for the diaspora?", None),
        ("Чи є українські недільні школи?", None),
        ("", None),
    ],
)
def test_the_kind_of_fact_a_question_asks_for(question: str, kind: Wanted | None) -> None:
    assert wanted(question) is kind


def test_a_sentence_supplies_a_fact_only_of_the_kind_asked() -> None:
    assert supplies(Wanted.QUANTITY, "Over 530 tonnes arrived.", "how many tonnes")
    assert supplies(Wanted.QUANTITY, "Прибуло понад п'ять тисяч тонн.", "скільки тонн")
    assert not supplies(Wanted.QUANTITY, "Aid arrived from many regions.", "how many tonnes")
    assert supplies(Wanted.TIME, "It opened in March.", "when did it open")
    assert supplies(Wanted.TIME, "Школу відкрили у 2010 році.", "коли відкрили школу")
    assert not supplies(Wanted.TIME, "The school teaches children.", "when did it open")
    assert supplies(Wanted.PERSON, "The speech was given by Petro Vrublevskyi.", "who spoke")
    # A name the question already gives is not an answer to "who".
    assert not supplies(Wanted.PERSON, "The people of Kazakhstan helped.", "who in Kazakhstan helped")
    assert supplies(None, "", "anything")
    # A year is a date, not a quantity; a number the question already gives answers nothing.
    assert not supplies(Wanted.QUANTITY, "In the winter of 2022–23 the yurts opened.", "how many yurts")
    assert not supplies(Wanted.QUANTITY, "We bought three ambulances.", "how much did the three cost")
    assert supplies(
        Wanted.QUANTITY, "We bought three ambulances for 40,000 dollars.", "how much did three cost"
    )


def test_a_topical_passage_without_the_number_asked_for_is_declined(service: AnswerService) -> None:
    # The passage says what happens at the Saturday gatherings, not how many come.
    topical = service.ask("What happens at the Ukrainian House on Saturdays?")
    number = service.ask("How many children come to the Saturday gatherings at the Ukrainian House?")
    assert topical.best is not None and "Saturday gatherings" in topical.best.passage.text
    assert not number.answered and number.reason == "low_confidence"
    assert number.hits[0].passage == topical.best.passage
    assert number.confidence < topical.confidence - 0.3
