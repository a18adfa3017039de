"""Ranking edge cases and spelling tolerance on the real interview."""

from __future__ import annotations

from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

import index.lexical.fielded as index_fielded
from index.analysis.spelling import SpellingIndex, osa_distance, rare_variants
from index.analysis.text import Analyzer
from index.content.loader import load_corpus
from index.lexical.ranking import PassageIndex
from tests.reference import build_bags, build_title_bags

CONTENT = Path(__file__).resolve().parents[1] / "content"


@pytest.fixture(scope="module")
def index() -> PassageIndex:
    return PassageIndex(load_corpus(CONTENT))


@pytest.mark.parametrize("question", ["", "   ", "what is the", "?!?...", "🙂🙂🙂", "<b>&amp;</b>"])
def test_questions_without_search_terms_give_no_hits(index: PassageIndex, question: str) -> None:
    result = index.search(question, 3)
    assert result.hits == ()
    assert result.coverage == 0.0


def test_k_larger_than_the_corpus_lists_only_matching_passages(index: PassageIndex) -> None:
    result = index.search("Kazakhstan", 10_000)
    assert 0 < len(result.hits) <= len(index)
    assert all("kazakhstan" in hit.matched for hit in result.hits)
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert index.search("Kazakhstan", 0).hits == ()


def test_a_ten_thousand_character_question_is_handled(index: PassageIndex) -> None:
    result = index.search("generators " * 1000, 3)
    assert "41 high-power generators" in result.hits[0].passage.text


@pytest.mark.parametrize("dense_from", [0, 10**12])
@pytest.mark.parametrize(
    "question", ["humanitarian aid generators", "trajectory of diaspora cooperation", "trajectory"]
)
def test_scores_are_rank_bm25_scores_of_the_passage_plus_its_section_title(
    index: PassageIndex, question: str, dense_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both ways of scoring: every passage at once, or only those with a term in body or title.
    monkeypatch.setattr(index_fielded, "_DENSE_FROM", dense_from)
    bags = build_bags(index.corpus, Analyzer(), index.variants)
    title_bags, section_of = build_title_bags(index.corpus, Analyzer(), index.variants)
    body = BM25Okapi(bags, k1=1.2, b=0.75, epsilon=0.25)
    titles = BM25Okapi(title_bags, k1=1.2, b=0.75, epsilon=0.25)
    result = index.search(question, 5)
    terms = list(result.terms)
    expected = body.get_scores(terms) + index.params.title_weight * titles.get_scores(terms)[section_of]
    assert index.params.title_weight > 0
    matching = [i for i, bag in enumerate(bags) if set(bag) & set(terms)]
    matching += [i for i, s in enumerate(section_of) if set(title_bags[s]) & set(terms)]
    best = sorted(set(matching), key=lambda i: (-expected[i], i))[:5]
    assert [index.corpus.passages.index(h.passage) for h in result.hits] == best
    for hit in result.hits:
        assert hit.score == pytest.approx(expected[index.corpus.passages.index(hit.passage)], rel=1e-12)


def test_section_title_takes_part_in_ranking(index: PassageIndex) -> None:
    # "trajectory" is only in the interviewer's question, never in an answer.
    result = index.search("trajectory", 3)
    assert result.hits
    assert all(h.passage.section.startswith("What is the current trajectory") for h in result.hits)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("Zelensky", "Zelenskyy"), ("Chornobyl", "Chernobyl"), ("humanitarain", "humanitarian")],
)
def test_misspelt_names_find_their_passage(index: PassageIndex, typed: str, expected: str) -> None:
    result = index.search(typed, 1)
    assert result.hits, typed
    assert expected.lower() in result.hits[0].passage.text.lower()
    assert result.corrections and result.corrections[0][0] == typed.lower()


def test_a_slip_in_the_text_itself_is_read_as_the_usual_spelling(index: PassageIndex) -> None:
    # The interview spells "Kazakstan" once; a user typing it should not be sent there.
    assert index.variants == {"kazakstan": "kazakhstan"}
    assert rare_variants({"kazakhstan": 97, "kazakstan": 1, "russia": 16, "russian": 13}) == {
        "kazakstan": "kazakhstan"
    }
    result = index.search("Kazakstan troops", 1)
    assert result.terms == ("kazakhstan", "troop")
    assert "will not deploy its troops" in result.hits[0].passage.text


def test_spelling_only_corrects_unknown_longer_words() -> None:
    speller = SpellingIndex.from_words(["kazakhstan", "kazakhstan", "ports", "aid"])
    assert speller.correct("kazakstan") == "kazakhstan"
    assert speller.correct("kazakhstan") is None  # already known
    assert speller.correct("aim") is None  # too short to guess
    assert speller.correct("zzzzzzz") is None
    assert osa_distance("generatos", "generators") == 1
    assert osa_distance("abcd", "abdc") == 1


def test_coverage_is_low_when_the_question_is_mostly_about_something_else(index: PassageIndex) -> None:
    full = index.search("Yurts of Invincibility", 1)
    partial = index.search("Embassy passport renewal appointment", 1)
    assert full.coverage == pytest.approx(1.0)
    assert partial.coverage < 0.4


FAQ = Path(__file__).resolve().parent / "data" / "faq"


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("how do I renew my passport", "Book an appointment online"),
        ("how to register my child born in Kazakhstan", "To register the child"),
        ("I lost my documents abroad, where can I get help", "If you have lost your documents"),
    ],
)
def test_in_a_faq_the_paragraph_that_answers_beats_a_one_line_aside(question: str, answer: str) -> None:
    # The section title is the question; every paragraph under it shares its words.
    # Counted once per section, the title no longer lifts the shortest paragraph.
    index = PassageIndex(load_corpus(FAQ))
    hits = index.search(question, 3).hits
    assert hits[0].passage.text.startswith(answer), [h.passage.text[:40] for h in hits]


def test_matched_terms_of_many_passages_at_once_equal_one_by_one(index: PassageIndex) -> None:
    terms = ("kazakhstan", "trajectori", "generat", "nosuchterm", "diaspora", "humanitarian")
    docs = list(range(len(index)))
    many = index.engine.matched_many(docs, terms)
    assert many == [index.engine.matched(doc, terms) for doc in docs]
    assert any("trajectori" in m for m in many) and not any("nosuchterm" in m for m in many)
    assert index.engine.matched_many([], terms) == []
