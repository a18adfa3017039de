"""Ranking edge cases and spelling tolerance on the real interview."""

from __future__ import annotations

from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

from index.analysis import Analyzer
from index.content import load_corpus
from index.ranking import PassageIndex, RankingParams, build_bags
from index.spelling import SpellingIndex, osa_distance, rare_variants

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


def test_scores_are_rank_bm25_scores_of_passage_and_title_terms(index: PassageIndex) -> None:
    bags = build_bags(index.corpus, Analyzer(), RankingParams(), index.variants)
    reference = BM25Okapi(bags, k1=1.2, b=0.75, epsilon=0.25)
    result = index.search("humanitarian aid generators", 5)
    expected = reference.get_scores(list(result.terms))
    for hit in result.hits:
        assert hit.score == pytest.approx(expected[index.corpus.passages.index(hit.passage)])


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
