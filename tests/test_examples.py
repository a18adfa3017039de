"""The training questions as evidence: shipped with their passages and vectors, left out of their own fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.content import load_corpus
from index.examples import EXAMPLES_FILE, FAR, VECTORS_FILE, ExampleIndex, embeddable
from index.fit import Bank, Question, read_questions
from index.semantic import Embedder
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
