"""Several documents loaded together: no document wins for having training questions or a translation."""

from __future__ import annotations

from bot.replies import Replies
from bot.service import AnswerService
from tests import multidoc


def test_a_passage_better_by_every_measure_is_never_beaten(several: AnswerService) -> None:
    # Cosine, the question's words in the passage's own text, and its section title's cosine: a
    # passage ahead on all three ranks ahead, whichever document it is from and whatever
    # translations or training questions any document has. (English questions: for the others the
    # own-words coverage of an English passage is near zero by construction.)
    index = several._answerer.index
    assert index.dense is not None
    checked = 0
    for case in multidoc.cases("heldout"):
        if case.lang != "en":
            continue
        ranking = index.search(case.q, 10, "en")
        vector = ranking.query_vector
        assert vector is not None
        titles = index.dense.scores(vector).title
        assert titles is not None
        top = ranking.hits[0]
        for other in ranking.hits[1:]:
            assert other.cosine is not None and top.cosine is not None
            ahead = (
                other.cosine > top.cosine + 1e-6
                and titles[other.number] > titles[top.number] + 1e-6
                and other.coverage > top.coverage + 1e-6
            )
            assert not ahead, (case.q, other.passage.id, top.passage.id)
        checked += 1
    assert checked >= 150


def test_every_document_can_answer_a_question_in_its_own_words(several: AnswerService) -> None:
    # Each document's own first section title, asked as a question, finds that document first.
    for document in several.documents:
        section = next(s for s in several.sections if s.document.id == document.id)
        answer = several.ask(section.title)
        assert answer.hits and answer.hits[0].passage.document.id == document.id, document.id


def test_a_documents_own_example_questions_are_answered_from_it(several: AnswerService) -> None:
    for document in several.documents:
        for example in document.examples:
            answer = several.ask(example)
            assert answer.answered and answer.hits[0].passage.document.id == document.id, example


def test_a_reader_is_shown_the_translation_in_their_language_whichever_it_is(several: AnswerService) -> None:
    # The FAQ has a Russian translation only: Russian readers get it, and so do Ukrainian readers
    # (the nearer language); English readers get the published text.
    replies = Replies(several)
    faq = "living-in-kazakhstan-faq"
    for question, language in (
        ("Сколько дней гражданин Украины может находиться в Казахстане без визы?", "ru"),
        ("Скільки днів громадянин України може перебувати в Казахстані без візи?", "ru"),
        ("How many days can a Ukrainian citizen stay in Kazakhstan without a visa?", "en"),
    ):
        answer = several.ask(question)
        assert answer.answered and answer.hits[0].passage.document.id == faq, question
        assert replies.for_reader(answer.hits[0].passage, answer.language).document.language == language
