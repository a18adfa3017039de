"""The training questions as evidence: shipped with their passages and vectors, left out of their own fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.service import AnswerService
from index.content import load_corpus
from index.examples import EXAMPLES_FILE, FAR, VECTORS_FILE, ExampleIndex, embeddable
from index.hybrid import HybridIndex
from index.pipeline import detect_language
from index.semantic import Embedder
from index.training import Bank, Question, read_questions
from index.vectors import load_vectors, text_key

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def examples(embedder: Embedder) -> ExampleIndex:
    return ExampleIndex(embedder)


def test_the_shipped_examples_are_the_training_questions_with_passages_of_the_bundled_texts() -> None:
    # Rebuilt by `python -m index.fit`.
    items = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    training = read_questions(sorted((ROOT / "tests" / "data" / "train").glob("*.jsonl")))
    assert [item["q"] for item in items] == [q.q for q in training]
    ids = {p.id for p in load_corpus(ROOT / "content").passages}
    answered = [item["passage"] for item in items if item["passage"] is not None]
    assert answered and set(answered) <= ids, f"{EXAMPLES_FILE} names passages the texts no longer have"
    assert sum(q.expect is None for q in training) == len(items) - len(answered)


def test_the_shipped_example_vectors_cover_every_example(embedder: Embedder) -> None:
    index = ExampleIndex(None)
    stored = load_vectors(VECTORS_FILE, embedder.signature, embedder.dim)
    assert {text_key(embeddable(t), query=True) for t in index.texts} <= set(stored), (
        f"{VECTORS_FILE} is stale"
    )


def test_a_question_like_an_example_is_near_its_passage_and_far_from_others(
    examples: ExampleIndex, embedder: Embedder
) -> None:
    number = next(i for i, p in enumerate(examples.passages) if p is not None)
    question, passage = examples.texts[number], examples.passages[number]
    assert passage is not None
    vector = embedder.embed_queries([embeddable(question)])[0]
    similarities = examples.similarities(vector)
    assert similarities is not None
    same, out = examples.evidence(similarities, passage)
    assert same is not None and same == pytest.approx(1.0, abs=1e-3) and out < same
    # Left out (as the fitting script leaves out each question's own), it no longer counts.
    allowed = np.array([text != question for text in examples.texts])
    left = examples.evidence(similarities, passage, allowed)[0]
    assert left is None or left < 0.999
    # A passage no training question is answered by (new texts) has no such evidence.
    assert examples.evidence(similarities, "p-no-such-passage") == (None, out)
    assert examples.evidence(similarities, passage, np.zeros(len(examples.texts), dtype=bool)) == (None, FAR)
    assert examples.similarities(None) is None


def test_latin_typed_russian_is_embedded_as_read_in_cyrillic() -> None:
    assert embeddable("gde naiti ukrainskuyu shkolu") != "gde naiti ukrainskuyu shkolu"
    assert embeddable("Where is the embassy?") == "Where is the embassy?"


def test_the_fit_leaves_a_fold_and_each_question_itself_out_of_the_examples(examples: ExampleIndex) -> None:
    bank = Bank(examples)
    fold = [Question(examples.texts[0], None, "x"), Question(examples.texts[1], None, "x")]
    allowed = bank.allowed(fold)
    assert not allowed[0] and not allowed[1] and allowed[2:].all()
    assert bank.allowed([]).all()


def test_examples_by_passage_are_the_nearest_allowed_ones(examples: ExampleIndex, embedder: Embedder) -> None:
    similarities = np.linspace(0.0, 1.0, len(examples.texts), dtype=np.float32)
    near = examples.by_passage(similarities)
    for passage, value in near.items():
        mine = [s for s, p in zip(similarities.tolist(), examples.passages, strict=True) if p == passage]
        assert value == pytest.approx(max(mine))
    assert set(near) == {p for p in examples.passages if p is not None}
    out = [s for s, p in zip(similarities.tolist(), examples.passages, strict=True) if p is None]
    assert examples.nearest_out(similarities) == pytest.approx(max(out))
    none = np.zeros(len(examples.texts), dtype=bool)
    assert examples.by_passage(similarities, none) == {} and examples.nearest_out(similarities, none) == FAR
    # As for new texts: no passage is known, the out-of-scope examples still count.
    unknown = examples.without_passages()
    assert unknown.by_passage(similarities) == {}
    assert unknown.nearest_out(similarities) == examples.nearest_out(similarities)
    assert examples.by_passage(similarities) == near  # the original is unchanged


def test_a_question_near_a_training_question_ranks_its_passage_first(service: AnswerService) -> None:
    # The ranking adds weight * (similarity - floor) for the nearest training question above the floor.
    index = service._answerer.index
    assert index.examples is not None and index.example_weight > 0
    examples = index.examples
    plain = HybridIndex(
        index.lexical, index.dense, index.fusion_weight, index.translated, index.fusion_weight_other
    )
    none = np.zeros(len(examples.texts), dtype=bool)
    checked = 0
    for number in range(0, len(examples.texts), 29):
        passage = examples.passages[number]
        if passage is None:
            continue
        question = examples.texts[number]
        language = detect_language(question)
        ranking = index.search(question, 3, language)
        assert ranking.hits[0].passage.id == passage, question  # its own example: similarity 1
        assert ranking.evidence.example_same == pytest.approx(1.0, abs=1e-3)
        # With every example left out nothing is added: cosine and coverage alone, as without examples.
        alone, expected = index.search(question, 3, language, none), plain.search(question, 3, language)
        assert [(h.number, h.score) for h in alone.hits] == [(h.number, h.score) for h in expected.hits]
        assert alone.evidence.example_same is None
        checked += 1
    assert checked >= 20
