"""Training questions run through the ranking, and the examples left out fold by fold.

What the fitting script (index.fit) fits on: each training question ranked, its
evidence, and whether the best passage answers it; the training questions as
examples, with each question's own and its fold's left out while it is judged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from index.examples import ExampleIndex
from index.hybrid import Evidence, HybridIndex, Ranking
from index.intents import IntentIndex
from index.pipeline import detect_language
from index.semantic import Embedder, Vectors

FOLDS = 5


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


@dataclass(frozen=True, slots=True)
class Question:
    """A training question: its text, the phrase of its answer (None if out of scope), its kind."""

    q: str
    expect: str | None
    kind: str


def read_questions(paths: Sequence[Path]) -> list[Question]:
    """Read JSON-lines question files."""
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                data = json.loads(line)
                kind = data.get("kind") or ("in_scope" if data["expect"] else "out_of_scope")
                out.append(Question(data["q"], data["expect"], kind))
    return out


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


@dataclass(frozen=True, slots=True)
class Observed:
    """A question run through ranking: its evidence and whether the best passage is right."""

    question: Question
    evidence: Evidence
    right: bool
    """The best passage answers the question (always False out of scope)."""
    intent: str | None
    """The nearest example message's intent."""
    primary: bool = True
    """Ranked as shipped; False for the copy ranked as if the texts had no translation."""
    ranking: Ranking | None = None
    index: HybridIndex | None = field(default=None, compare=False, repr=False)
    """The index that ranked it: the fit ranks it again with each fold's training questions left out."""


def observe(
    index: HybridIndex, intents: IntentIndex, questions: Sequence[Question], primary: bool = True
) -> list[Observed]:
    """Rank every question and label it 1 where its best passage answers it."""
    out = []
    for question in questions:
        vector = index.query_vector(question.q, detect_language(question.q))
        intent = intents.nearest(question.q, vector)
        name, similarity = (intent.name, intent.similarity) if intent else (None, 0.0)
        out.append(rank(index, question, name, similarity, primary=primary))
    return out


def rank(
    index: HybridIndex,
    question: Question,
    intent: str | None,
    similarity: float,
    *,
    primary: bool = True,
    allowed: NDArray[np.bool_] | None = None,
) -> Observed:
    """Rank one question (with only the `allowed` training questions as examples) and judge the best."""
    ranking = index.search(question.q, 3, detect_language(question.q), allowed)
    evidence = replace(ranking.evidence, intent=similarity)
    right = _right(question, ranking)
    return Observed(question, evidence, right, intent, primary, replace(ranking, evidence=evidence), index)


def _right(question: Question, ranking: Ranking) -> bool:
    return bool(
        question.expect and ranking.hits and _norm(question.expect) in _norm(ranking.hits[0].passage.text)
    )


def folds(questions: Sequence[Question]) -> dict[str, int]:
    """Return each question text's fold: the same for a question however often it is asked."""
    texts = list(dict.fromkeys(q.q for q in questions))
    order = np.random.default_rng(0).permutation(len(texts))
    return {texts[i]: n % FOLDS for n, i in enumerate(order.tolist())}


class Bank:
    """The training questions as examples, each fold's and each question's own left out when judging it."""

    def __init__(self, examples: ExampleIndex) -> None:
        self.examples = examples
        self._of_text: dict[str, list[int]] = {}
        for number, text in enumerate(examples.texts):
            self._of_text.setdefault(text, []).append(number)

    def allowed(self, left_out: Sequence[Question]) -> NDArray[np.bool_]:
        """Return which examples may be used: not those of these questions."""
        mask = np.ones(len(self.examples.texts), dtype=bool)
        for question in left_out:
            mask[self._of_text.get(question.q, [])] = False
        return mask

    def without(self, allowed: NDArray[np.bool_], question: Question) -> NDArray[np.bool_]:
        """Return the allowed examples less the question's own."""
        own = allowed.copy()
        own[self._of_text.get(question.q, [])] = False
        return own

    def judge(self, observed: Sequence[Observed], allowed: NDArray[np.bool_]) -> list[Observed]:
        """Rank each question again with the allowed examples, each without its own."""
        out = []
        for o in observed:
            if o.index is None or o.index.examples is None:
                out.append(o)
                continue
            own = self.without(allowed, o.question)
            out.append(rank(o.index, o.question, o.intent, o.evidence.intent, primary=o.primary, allowed=own))
        return out


def language_group(o: Observed) -> str:
    """Return "en" for an English question, "other" for Ukrainian or Russian."""
    return "other" if o.evidence.language in ("uk", "ru") else "en"


def figures(observed: Sequence[Observed], answered: Sequence[bool]) -> dict[str, float]:
    """Return answered-right among in-scope and declined among out-of-scope questions."""
    ins = [(o, a) for o, a in zip(observed, answered, strict=True) if o.question.expect]
    outs = [a for o, a in zip(observed, answered, strict=True) if not o.question.expect]
    return {
        "in_scope": len(ins),
        "top1": sum(o.right for o, _ in ins) / max(len(ins), 1),
        "answered_right": sum(o.right and a for o, a in ins) / max(len(ins), 1),
        "out_of_scope": len(outs),
        "declined": sum(not a for a in outs) / max(len(outs), 1),
    }


def has_example(o: Observed) -> bool:
    """Return whether training questions are known to be answered by the observation's best passage."""
    return o.evidence.example_same is not None
