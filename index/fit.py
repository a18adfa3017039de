"""Fit the fusion weight, the answer-or-decline models and the intent threshold on training questions.

    python -m index.fit                       # writes index/data/decision.json, prints the figures

Training questions only (tests/data/train/*.jsonl by default): one JSON object a
line with `q`, `expect` (a phrase of the passage that answers, or null) and
`kind`. Deterministic: the same files give the same coefficients.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

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
from index.hybrid import HybridIndex, TranslatedIndex, translated_indexes
from index.intents import OFF_TOPIC, VECTORS_FILE, IntentIndex
from index.pipeline import detect_language
from index.ranking import PassageIndex
from index.semantic import Embedder, load_embedder
from index.training import (
    FOLDS,
    Bank,
    MemoEmbedder,
    Observed,
    Question,
    figures,
    folds,
    has_example,
    language_group,
    observe,
    rank,
    read_questions,
)
from index.vectors import save_vectors, text_key

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = tuple(round(w, 2) for w in np.arange(0.4, 1.0001, 0.05))
INTENT_THRESHOLDS = tuple(round(t, 3) for t in np.arange(0.80, 0.97, 0.005))
EXAMPLE_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
EXAMPLE_FLOORS = (0.8, 0.85, 0.9)
L2 = 1.0
WRONG_COST = 1.5
"""A wrong passage given as an answer costs this many missed answers (a product decision, not fitted)."""
THRESHOLD = WRONG_COST / (1 + WRONG_COST)
"""Answer when the calibrated probability of being right is at least this: 0.6."""


@dataclass(frozen=True, slots=True)
class Base:
    """The questions ranked as for texts no training question is about, for the model used then."""

    observed: Sequence[Observed]
    bank: Bank

    def judged(self, left_out: Sequence[Question]) -> list[Observed]:
        """Return the observations judged with these questions left out of the (out-of-scope) examples."""
        return self.bank.judge(self.observed, self.bank.allowed(left_out))


def _fit_pair(
    judged: Sequence[Observed],
    names: Sequence[str],
    known_names: Sequence[str] | None,
    threshold: float,
    base: Sequence[Observed] | None = None,
) -> tuple[Decision, Decision | None]:
    """Fit the model for any best passage and, with `known_names`, the one for passages with examples.

    The first is fitted on `base` (default: every observation), the second on those with examples.
    """
    rows = judged if base is None else base
    model = fit_decision(names, [o.evidence for o in rows], [int(o.right) for o in rows], threshold, L2)
    if known_names is None:
        return model, None
    known = [o for o in judged if has_example(o)]
    other = fit_decision(
        known_names, [o.evidence for o in known], [int(o.right) for o in known], threshold, L2
    )
    return model, other


def cross_validate(
    observed: Sequence[Observed],
    names: Sequence[str],
    bank: Bank | None = None,
    known_names: Sequence[str] | None = None,
    base: Base | None = None,
) -> dict[str, Any]:
    """Return the figures of out-of-fold probabilities at several thresholds (the chosen one first).

    Both copies of a question (with and without translations) fall in the same fold; the
    figures are those of the texts as shipped, and, apart, as if they had no translation.
    With a bank of examples, a fold's questions are not among the examples while it is judged,
    and a question whose best passage answers examples is judged by the model that uses them.
    """
    questions = list(dict.fromkeys(o.question for o in observed))
    fold_of = folds(questions)
    probabilities = np.zeros(len(observed))
    # Each question as ranked while its fold was left out (the examples change the ranking too).
    held = list(observed)
    for fold in range(FOLDS):
        judged = list(observed)
        if bank is not None:
            judged = bank.judge(observed, bank.allowed([q for q in questions if fold_of[q.q] == fold]))
        fold_questions = [q for q in questions if fold_of[q.q] == fold]
        rest = None
        if base is not None:
            rest = [o for o in base.judged(fold_questions) if fold_of[o.question.q] != fold]
        model, known_model = _fit_pair(
            [o for o in judged if fold_of[o.question.q] != fold], names, known_names, 0.5, rest
        )
        for i, o in enumerate(judged):
            if fold_of[o.question.q] == fold:
                chosen = known_model if known_model is not None and has_example(o) else model
                probabilities[i] = chosen.probability(o.evidence)
                held[i] = o
    report: dict[str, Any] = {}
    for label, keep in (("", True), ("without translations, uk/ru: ", False)):
        chosen_rows = [
            i for i, o in enumerate(held) if o.primary == keep and (keep or language_group(o) == "other")
        ]
        subset = [held[i] for i in chosen_rows]
        for threshold in (THRESHOLD, 0.4, 0.5, 0.7):
            answered = list(probabilities[chosen_rows] >= threshold)
            report[f"{label}threshold {threshold:.2f}"] = figures(subset, answered)
    return report


def fit_mode(
    observed: Sequence[Observed],
    names: Sequence[str],
    bank: Bank | None = None,
    known_names: Sequence[str] | None = None,
    base: Base | None = None,
) -> tuple[Decision, Decision | None, dict[str, Any]]:
    """Cross-validate, then fit on every training question (each judged without itself among the examples).

    With a base, the model for a best passage no example is about is fitted on its observations.
    """
    cv = cross_validate(observed, names, bank, known_names, base)
    if bank is not None:
        observed = bank.judge(observed, bank.allowed([]))
    rows = base.judged([]) if base is not None else None
    model, known_model = _fit_pair(observed, names, known_names, THRESHOLD, rows)
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
            model = known if known is not None and has_example(o) else decision
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


def fit_example_boost(
    questions: Sequence[Question], bank: Bank, make: Callable[[float, float], HybridIndex]
) -> tuple[float, float, dict[str, float]]:
    """Choose the weight and floor of the nearest training question in the ranking, by top-1.

    Each question is ranked with its fold's questions left out of the examples, as in
    cross-validation; English and Ukrainian or Russian count alike; ties go to the smaller weight.
    """
    fold_of = folds(questions)
    left_out = [bank.allowed([q for q in questions if fold_of[q.q] == fold]) for fold in range(FOLDS)]
    top1: dict[str, float] = {}
    for u in EXAMPLE_WEIGHTS:
        for floor in EXAMPLE_FLOORS if u > 0 else (1.0,):
            index = make(u, floor)
            right: dict[str, list[int]] = {"en": [0, 0], "other": [0, 0]}
            for question in questions:
                if question.expect:
                    allowed = bank.without(left_out[fold_of[question.q]], question)
                    o = rank(index, question, None, 0.0, allowed=allowed)
                    right[language_group(o)][0] += o.right
                    right[language_group(o)][1] += 1
            top1[f"{u} above {floor}"] = float(np.mean([a / max(b, 1) for a, b in right.values()]))
    best = max(top1, key=lambda key: (round(top1[key], 6), -float(key.split()[0])))
    weight, floor = (float(v) for v in best.split(" above "))
    return weight, floor, top1


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
            subset = [o for o in observed if language_group(o) == group]
            by_weight[w] = figures(subset, [True] * len(subset))["top1"]
    weight, weight_other = (
        max(WEIGHTS, key=lambda w: (round(top1[g][w], 6), -abs(w - 0.8))) for g in ("en", "other")
    )
    report["top1_by_weight"] = top1
    report["fusion_weight"] = [weight, weight_other]

    bank = Bank(ExampleIndex(embedder, examples=examples_file))
    example_weight, example_floor, report["top1_by_example_boost"] = fit_example_boost(
        questions,
        bank,
        lambda u, floor: HybridIndex(
            lexical,
            dense,
            weight,
            translated,
            weight_other,
            examples=bank.examples,
            example_weight=u,
            example_floor=floor,
        ),
    )
    report["example_boost"] = [example_weight, example_floor]

    def hybrid(
        dense_index: DenseIndex, languages: Sequence[TranslatedIndex], examples: ExampleIndex
    ) -> HybridIndex:
        return HybridIndex(
            lexical,
            dense_index,
            weight,
            languages,
            weight_other,
            examples=examples,
            example_weight=example_weight,
            example_floor=example_floor,
        )

    observed = observe(hybrid(dense, translated, bank.examples), intents, questions)
    # The same Ukrainian and Russian questions as if the texts had no translation, so that a
    # document without one is still judged sensibly.
    bare = [q for q in questions if detect_language(q.q) in ("uk", "ru")]
    untranslated = DenseIndex(replace(corpus, translations={}), embedder, content_dir)
    observed += observe(hybrid(untranslated, (), bank.examples), intents, bare, primary=False)
    # As for texts no training question is about: no passage is known to answer an example (the
    # out-of-scope ones still count), so nothing is boosted. The model used when the best passage
    # has no example is fitted on these: that is when it decides.
    unknown = Bank(bank.examples.without_passages())
    base = observe(hybrid(dense, translated, unknown.examples), intents, questions)
    base += observe(hybrid(untranslated, (), unknown.examples), intents, bare, primary=False)
    semantic, known, report["semantic_cv"] = fit_mode(
        observed, SEMANTIC_FEATURES, bank, EXAMPLE_FEATURES, Base(base, unknown)
    )
    assert known is not None
    report["semantic_cv_no_examples"] = cross_validate(base, SEMANTIC_FEATURES, unknown)
    judged = bank.judge(observed, bank.allowed([]))
    report["with_examples"] = sum(map(has_example, judged))
    intent_similarity = fit_intent_threshold(judged, semantic, known)

    lexical_observed = observe(
        HybridIndex(lexical, None, translated=translated), IntentIndex(None), questions
    )
    lexical_observed += observe(HybridIndex(lexical, None), IntentIndex(None), bare, primary=False)
    lexical_decision, _, report["lexical_cv"] = fit_mode(lexical_observed, LEXICAL_FEATURES)
    calibration = Calibration(
        weight,
        weight_other,
        semantic,
        lexical_decision,
        known,
        intent_similarity,
        embedder.signature,
        example_weight,
        example_floor,
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
