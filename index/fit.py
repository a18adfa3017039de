"""Fit the fusion weight, the answer-or-decline models and the intent threshold on training questions.

    python -m index.fit                       # writes index/data/decision.json, prints the figures

Training questions only (tests/data/train/*.jsonl by default): one JSON object a
line with `q`, `expect` (a phrase of the passage that answers, or null) and
`kind`. Deterministic: the same files give the same coefficients.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from index.content import Corpus, load_corpus
from index.decision import (
    DATA_FILE,
    EXAMPLE_FEATURES,
    LEXICAL_FEATURES,
    SEMANTIC_FEATURES,
    Calibration,
    Decision,
    fit_decision,
)
from index.dense import DenseIndex
from index.examples import EXAMPLES_FILE, ExampleIndex, write_example_vectors, write_examples
from index.hybrid import Evidence, HybridIndex, Ranking, translated_indexes
from index.intents import OFF_TOPIC, VECTORS_FILE, IntentIndex
from index.pipeline import detect_language, with_examples
from index.ranking import PassageIndex
from index.semantic import Embedder, Vectors, load_embedder
from index.vectors import save_vectors, text_key

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = tuple(round(w, 2) for w in np.arange(0.4, 1.0001, 0.05))
INTENT_THRESHOLDS = tuple(round(t, 3) for t in np.arange(0.80, 0.97, 0.005))
L2 = 1.0
FOLDS = 5
WRONG_COST = 1.5
"""A wrong passage given as an answer costs this many missed answers (a product decision, not fitted)."""
THRESHOLD = WRONG_COST / (1 + WRONG_COST)
"""Answer when the calibrated probability of being right is at least this: 0.6."""


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
    """The ranking, for evidence of the training questions near it (which depends on the fold)."""


def observe(
    index: HybridIndex, intents: IntentIndex, questions: Sequence[Question], primary: bool = True
) -> list[Observed]:
    """Rank every question and label it 1 where its best passage answers it."""
    out = []
    for question in questions:
        ranking = index.search(question.q, 3, detect_language(question.q))
        intent = intents.nearest(question.q, ranking.query_vector)
        evidence = replace(ranking.evidence, intent=intent.similarity if intent else 0.0)
        right = bool(
            question.expect and ranking.hits and _norm(question.expect) in _norm(ranking.hits[0].passage.text)
        )
        ranking = replace(ranking, evidence=evidence)
        out.append(Observed(question, evidence, right, intent.name if intent else None, primary, ranking))
    return out


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

    def judge(self, observed: Sequence[Observed], allowed: NDArray[np.bool_]) -> list[Observed]:
        """Return the observations with example evidence from the allowed examples, each without its own."""
        out = []
        for o in observed:
            if o.ranking is None:
                out.append(o)
                continue
            own = allowed.copy()
            own[self._of_text.get(o.question.q, [])] = False
            ranking = with_examples(o.ranking, self.examples, own)
            out.append(replace(o, evidence=ranking.evidence))
        return out


def _group(o: Observed) -> str:
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


def _known(o: Observed) -> bool:
    return o.evidence.example_same is not None


def _fit_pair(
    judged: Sequence[Observed], names: Sequence[str], known_names: Sequence[str] | None, threshold: float
) -> tuple[Decision, Decision | None]:
    """Fit the model on every observation and, with `known_names`, the one for passages with examples."""
    model = fit_decision(names, [o.evidence for o in judged], [int(o.right) for o in judged], threshold, L2)
    if known_names is None:
        return model, None
    known = [o for o in judged if _known(o)]
    other = fit_decision(
        known_names, [o.evidence for o in known], [int(o.right) for o in known], threshold, L2
    )
    return model, other


def cross_validate(
    observed: Sequence[Observed],
    names: Sequence[str],
    bank: Bank | None = None,
    known_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Return the figures of out-of-fold probabilities at several thresholds (the chosen one first).

    Both copies of a question (with and without translations) fall in the same fold; the
    figures are those of the texts as shipped, and, apart, as if they had no translation.
    With a bank of examples, a fold's questions are not among the examples while it is judged,
    and a question whose best passage answers examples is judged by the model that uses them.
    """
    questions = list(dict.fromkeys(o.question for o in observed))
    fold_of = {q: i % FOLDS for i, q in enumerate(np.random.default_rng(0).permutation(len(questions)))}
    fold_of = {questions[q]: fold for q, fold in fold_of.items()}
    probabilities = np.zeros(len(observed))
    for fold in range(FOLDS):
        judged = list(observed)
        if bank is not None:
            judged = bank.judge(observed, bank.allowed([q for q in questions if fold_of[q] == fold]))
        model, known_model = _fit_pair(
            [o for o in judged if fold_of[o.question] != fold], names, known_names, 0.5
        )
        for i, o in enumerate(judged):
            if fold_of[o.question] == fold:
                chosen = known_model if known_model is not None and _known(o) else model
                probabilities[i] = chosen.probability(o.evidence)
    report: dict[str, Any] = {}
    for label, keep in (("", True), ("without translations, uk/ru: ", False)):
        chosen_rows = [
            i for i, o in enumerate(observed) if o.primary == keep and (keep or _group(o) == "other")
        ]
        subset = [observed[i] for i in chosen_rows]
        for threshold in (THRESHOLD, 0.4, 0.5, 0.7):
            answered = list(probabilities[chosen_rows] >= threshold)
            report[f"{label}threshold {threshold:.2f}"] = figures(subset, answered)
    return report


def fit_mode(
    observed: Sequence[Observed],
    names: Sequence[str],
    bank: Bank | None = None,
    known_names: Sequence[str] | None = None,
) -> tuple[Decision, Decision | None, dict[str, Any]]:
    """Cross-validate, then fit on every training question (each judged without itself among the examples)."""
    cv = cross_validate(observed, names, bank, known_names)
    if bank is not None:
        observed = bank.judge(observed, bank.allowed([]))
    model, known_model = _fit_pair(observed, names, known_names, THRESHOLD)
    return model, known_model, cv


def fit_intent_threshold(
    observed: Sequence[Observed], decision: Decision, known: Decision | None = None
) -> float:
    """Choose the similarity above which a declined message is small talk or consular.

    `known` decides for a best passage with examples, as the answering pipeline does.
    """
    best = (-1.0, 0.9)
    for threshold in INTENT_THRESHOLDS:
        good = 0
        for o in observed:
            name = o.intent
            model = known if known is not None and _known(o) else decision
            declined = model.probability(o.evidence) < model.threshold
            detected = declined and o.evidence.intent >= threshold
            kind = o.question.kind
            if kind == "small_talk":
                good += detected and name is not None and name not in ("consular", OFF_TOPIC)
            elif kind == "consular":
                good += detected and name == "consular"
            else:
                good += not detected or name == OFF_TOPIC
        if good > best[0]:
            best = (good, threshold)
    return best[1]


def fit(
    content_dir: Path, train: Sequence[Path], examples_file: Path = EXAMPLES_FILE
) -> tuple[Calibration, dict[str, Any]]:
    """Fit everything; return the calibration and the figures to report."""
    corpus: Corpus = load_corpus(content_dir)
    questions = read_questions(train)
    embedder = MemoEmbedder(load_embedder())
    written = write_examples([(q.q, q.expect) for q in questions], corpus, examples_file)
    lexical = PassageIndex(corpus)
    dense = DenseIndex(corpus, embedder, content_dir)
    intents = IntentIndex(embedder)
    translated = translated_indexes(corpus)
    report: dict[str, Any] = {"questions": len(questions), "examples": written}

    # Each weight is chosen on its own questions: English, and Ukrainian or Russian.
    top1: dict[str, dict[float, float]] = {"en": {}, "other": {}}
    for w in WEIGHTS:
        observed = observe(HybridIndex(lexical, dense, w, translated), intents, questions)
        for group, by_weight in top1.items():
            subset = [o for o in observed if _group(o) == group]
            by_weight[w] = figures(subset, [True] * len(subset))["top1"]
    weight, weight_other = (
        max(WEIGHTS, key=lambda w: (round(top1[g][w], 6), -abs(w - 0.8))) for g in ("en", "other")
    )
    report["top1_by_weight"] = top1
    report["fusion_weight"] = [weight, weight_other]

    observed = observe(HybridIndex(lexical, dense, weight, translated, weight_other), intents, questions)
    # The same Ukrainian and Russian questions as if the texts had no translation, so that a
    # document without one is still judged sensibly.
    bare = [q for q in questions if detect_language(q.q) in ("uk", "ru")]
    untranslated = DenseIndex(replace(corpus, translations={}), embedder, content_dir)
    observed += observe(
        HybridIndex(lexical, untranslated, weight, (), weight_other), intents, bare, primary=False
    )
    bank = Bank(ExampleIndex(embedder, examples=examples_file))
    semantic, known, report["semantic_cv"] = fit_mode(observed, SEMANTIC_FEATURES, bank, EXAMPLE_FEATURES)
    assert known is not None
    # As for texts no training question is about: the model without the nearest example.
    report["semantic_cv_no_examples"] = cross_validate(observed, SEMANTIC_FEATURES, bank)
    judged = bank.judge(observed, bank.allowed([]))
    report["with_examples"] = sum(map(_known, judged))
    intent_similarity = fit_intent_threshold(judged, semantic, known)

    lexical_observed = observe(
        HybridIndex(lexical, None, translated=translated), IntentIndex(None), questions
    )
    lexical_observed += observe(HybridIndex(lexical, None), IntentIndex(None), bare, primary=False)
    lexical_decision, _, report["lexical_cv"] = fit_mode(lexical_observed, LEXICAL_FEATURES)
    calibration = Calibration(
        weight, weight_other, semantic, lexical_decision, known, intent_similarity, embedder.signature
    )
    report["intent_similarity"] = intent_similarity
    return calibration, report


def write_intent_vectors(embedder: Embedder) -> None:
    """Write the vectors of the intent examples, shipped in index/data/."""
    index = IntentIndex(embedder)
    assert index.vectors is not None
    unique = dict(zip((text_key(t, query=True) for t in index.texts), index.vectors, strict=True))
    save_vectors(VECTORS_FILE, embedder.signature, list(unique), np.stack(list(unique.values())))
    VECTORS_FILE.chmod(0o644)


def main(argv: Sequence[str] | None = None) -> int:
    """Fit and write the calibration file."""
    parser = argparse.ArgumentParser(prog="python -m index.fit", description=__doc__)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument(
        "--train", type=Path, nargs="+", default=sorted((ROOT / "tests/data/train").glob("*.jsonl"))
    )
    parser.add_argument("--out", type=Path, default=DATA_FILE)
    args = parser.parse_args(argv)
    calibration, report = fit(args.content, args.train)
    write_intent_vectors(load_embedder())
    write_example_vectors(load_embedder())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(calibration.to_json(), indent=1) + "\n", encoding="utf-8")
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write(f"\nwrote {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
