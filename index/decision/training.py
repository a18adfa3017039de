"""Training questions run through the ranking: what the fitting script (index.decision.fit) fits on.

Each question is ranked as the answering pipeline ranks it: the whole message and,
for a message of several sentences, each asking sentence (index.pipeline.question_parts).
Every part gives one observation: its evidence and whether its best passage answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.decision.evidence import Evidence, assess
from index.decision.intents import IntentIndex
from index.fusion.hybrid import HybridIndex, Ranking
from index.pipeline import detect_language, question_parts
from index.semantic.model import Embedder, Vectors

FOLDS = 5


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


@dataclass(frozen=True, slots=True)
class Question:
    """A training question: its text, the phrase of its answer (None if out of scope), its kind."""

    q: str
    expect: str | None
    kind: str
    """in_scope, out_of_scope, about (answered by a document's header), small_talk, consular, ..."""


ELSEWHERE = "answered-elsewhere.jsonl"
"""Beside the set folders: questions written as out of scope for their document that another
document loaded with the set answers (found by a reviewer who read every loaded document)."""


def answered_elsewhere(path: Path) -> dict[str, str]:
    """Return question -> answer phrase, for out-of-scope questions of this set another document answers."""
    review = path.parent.parent / ELSEWHERE
    if not review.is_file():
        return {}
    found = {}
    for line in review.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            if data["set"] == path.parent.name:
                found[data["q"]] = data["expect"]
    return found


def labelled(path: Path) -> Iterator[tuple[Question, dict[str, Any]]]:
    """Yield each question of a JSON-lines file, with the reviewer's corrections, and its raw record."""
    elsewhere = answered_elsewhere(path)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            kind = data.get("kind") or ("in_scope" if data["expect"] else "out_of_scope")
            if kind == "out_of_scope" and data["q"] in elsewhere:
                yield Question(data["q"], elsewhere[data["q"]], "in_scope"), data
            else:
                yield Question(data["q"], data["expect"], kind), data


def read_questions(paths: Sequence[Path]) -> list[Question]:
    """Read JSON-lines question files (with the reviewer's corrections, see `answered_elsewhere`)."""
    return [question for path in paths for question, _ in labelled(path)]


class MemoEmbedder:
    """Remember query vectors: the fit embeds each question once, whatever the weight tried."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self._memo: dict[str, Vectors] = {}

    @property
    def dim(self) -> int:
        """Return the inner model's dimensions."""
        return self.inner.dim

    @property
    def signature(self) -> str:
        """Return the inner model's signature."""
        return self.inner.signature

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed questions, each once."""
        for text in texts:
            if text not in self._memo:
                self._memo[text] = self.inner.embed_queries([text])[0]
        return np.stack([self._memo[t] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Embed passages."""
        return self.inner.embed_passages(texts)

    def replica(self) -> Embedder:
        """Return another handle on the inner model (passages only are encoded in parallel)."""
        return self.inner.replica()

    def release(self) -> None:
        """Let the inner model drop what a batch of passages needed."""
        self.inner.release()


@dataclass(frozen=True, slots=True)
class Observed:
    """One part of a question run through ranking: its evidence and whether the best passage is right."""

    question: Question
    evidence: Evidence
    right: bool
    """The best passage answers the question (always False out of scope)."""
    intent: str | None
    """The nearest example message's intent."""
    similarity: float
    """How similar that example is (routes a declined message to small talk or the consular pointer)."""
    primary: bool = True
    """Ranked as shipped; False for the copy ranked as if the texts had no translation."""
    whole: bool = True
    """The whole message, not one of its sentences."""


def observe(
    index: HybridIndex, intents: IntentIndex, questions: Sequence[Question], primary: bool = True
) -> list[Observed]:
    """Rank every part of every question and label it 1 where its best passage answers it."""
    out = []
    for question in questions:
        language = detect_language(question.q)
        for number, part in enumerate(question_parts(question.q)):
            assessed = assess(index, part, 3, language)
            vector = assessed.ranking.query_vector
            intent = intents.nearest(part, vector)
            name, similarity = (intent.name, intent.similarity) if intent else (None, 0.0)
            evidence = assessed.with_message(intent=intents.against(part, vector), part=number > 0).evidence
            right = _right(question, assessed.ranking)
            out.append(Observed(question, evidence, right, name, similarity, primary, number == 0))
    return out


def _right(question: Question, ranking: Ranking) -> bool:
    return bool(
        question.expect and ranking.hits and _norm(question.expect) in _norm(ranking.hits[0].passage.text)
    )


def folds(questions: Sequence[Question]) -> dict[str, int]:
    """Return each question text's fold: the same for a question however often it is asked."""
    texts = list(dict.fromkeys(q.q for q in questions))
    order = np.random.default_rng(0).permutation(len(texts))
    return {texts[i]: n % FOLDS for n, i in enumerate(order.tolist())}


def language_group(o: Observed) -> str:
    """Return "en" for an English question, "other" for Ukrainian or Russian."""
    return "other" if o.evidence.language in ("uk", "ru") else "en"


@dataclass(frozen=True, slots=True)
class Judged:
    """A question as the pipeline judges it: by the part with the highest probability."""

    question: Question
    right: bool
    """The best part's best passage answers the question."""
    probability: float
    group: str
    primary: bool = True
    """Ranked as shipped, not as if the texts had no translation."""


def by_question(observed: Sequence[Observed], probabilities: Sequence[float]) -> list[Judged]:
    """Return each question (each copy, with or without translations) judged by its best part."""
    best: dict[tuple[str, bool], tuple[Observed, float]] = {}
    for o, p in zip(observed, probabilities, strict=True):
        key = (o.question.q, o.primary)
        if key not in best or p > best[key][1]:
            best[key] = (o, p)
    return [Judged(o.question, o.right, p, language_group(o), o.primary) for o, p in best.values()]


def figures(judged: Sequence[Judged], threshold: float) -> dict[str, float]:
    """Return answered-right among in-scope questions and declined among out-of-scope ones."""
    ins = [j for j in judged if j.question.expect]
    outs = [j for j in judged if not j.question.expect]
    given = [j for j in judged if j.probability >= threshold]
    return {
        "in_scope": len(ins),
        "top1": sum(j.right for j in ins) / max(len(ins), 1),
        "answered_right": sum(j.right and j.probability >= threshold for j in ins) / max(len(ins), 1),
        "out_of_scope": len(outs),
        "declined": sum(j.probability < threshold for j in outs) / max(len(outs), 1),
        "wrong_given": sum(not j.right for j in given) / max(len(given), 1),
    }
