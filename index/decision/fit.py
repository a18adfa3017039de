"""Fit the fusion weights, the answer-or-decline models and the intent thresholds; choose the threshold.

    python -m index.decision.fit          # writes index/data/decision.json, prints the figures

Training: the questions about the interview in `tests/data/train/*.jsonl`, and
`tests/data/multidoc/train/`: documents written for the purpose, loaded beside the
interview, with questions about them and real-style messages about the interview. The
threshold is chosen on `tests/data/multidoc/validation/` (its document loaded too) for
the operating point: the most right answers less 1.5 times the wrong ones given. Held-out
documents and questions are never read. Deterministic: the same files give the same coefficients.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from index.content.loader import Corpus, load_corpus
from index.decision.intents import OFF_TOPIC, VECTORS_FILE, IntentIndex
from index.decision.model import (
    DATA_FILE,
    LEXICAL_FEATURES,
    SEMANTIC_FEATURES,
    Calibration,
    Decision,
    fit_decision,
)
from index.decision.training import (
    FOLDS,
    Judged,
    MemoEmbedder,
    Observed,
    Question,
    by_question,
    figures,
    folds,
    language_group,
    observe,
    read_questions,
)
from index.fusion.hybrid import HybridIndex, translated_indexes
from index.lexical.ranking import PassageIndex
from index.pipeline import Answerer, Setup, detect_language
from index.semantic.dense import DenseIndex
from index.semantic.model import Embedder, load_embedder
from index.semantic.vectors import BUNDLED_NAME, save_vectors, text_key

ROOT = Path(__file__).resolve().parents[2]
MULTIDOC = ROOT / "tests" / "data" / "multidoc"
WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
TITLE_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5)
INTENT_THRESHOLDS = tuple(round(t, 3) for t in np.arange(0.80, 0.97, 0.005))
THRESHOLDS = tuple(round(t, 3) for t in np.arange(0.30, 0.901, 0.025))
L2 = 1.0
WRONG_COST = 1.5
"""The operating point: a wrong answer given costs as much as this many right answers not given (a
product decision, not fitted); the threshold maximises right answers less this times wrong ones."""
PASSAGE_KINDS = frozenset({"in_scope", "out_of_scope", "small_talk", "consular", "off_topic"})


def assemble(folder: Path, content: Path, extra: Sequence[Path]) -> Path:
    """Copy the content files and the extra documents into one folder, with any shipped vectors."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in [*sorted(content.glob("*.md")), *extra]:
        shutil.copy(path, folder / path.name)
    vectors = MULTIDOC / BUNDLED_NAME
    if vectors.is_file():
        shutil.copy(vectors, folder / BUNDLED_NAME)
    elif (content / BUNDLED_NAME).is_file():
        shutil.copy(content / BUNDLED_NAME, folder / BUNDLED_NAME)
    return folder


def fit_model(observed: Sequence[Observed], names: Sequence[str], threshold: float) -> Decision:
    """Fit one logistic model on every observation (every part of every question)."""
    return fit_decision(
        names, [o.evidence for o in observed], [int(o.right) for o in observed], threshold, L2
    )


def cross_validate(observed: Sequence[Observed], names: Sequence[str]) -> list[Judged]:
    """Return every question judged by models fitted without its fold (both copies in one fold)."""
    fold_of = folds([o.question for o in observed])
    probabilities = np.zeros(len(observed))
    for fold in range(FOLDS):
        model = fit_model([o for o in observed if fold_of[o.question.q] != fold], names, 0.5)
        for i, o in enumerate(observed):
            if fold_of[o.question.q] == fold and not o.evidence.fact_absent:
                probabilities[i] = model.probability(o.evidence)
    return by_question(observed, probabilities.tolist())


def report(judged: Sequence[Judged]) -> dict[str, Any]:
    """Return the figures at several thresholds, for English and Ukrainian or Russian questions."""
    out: dict[str, Any] = {}
    for group in ("en", "other"):
        subset = [j for j in judged if j.group == group and j.primary]
        out[group] = {f"{t:.2f}": figures(subset, t) for t in (0.4, 0.5, 0.6, 0.7)}
    return out


def choose_threshold(judged: Sequence[Judged]) -> tuple[float, dict[str, Any]]:
    """Return the threshold with the most right answers less WRONG_COST times the wrong ones given."""
    table = {f"{t:.3f}": figures(judged, t) for t in THRESHOLDS}

    def gain(t: float) -> float:
        given = [j for j in judged if j.probability >= t]
        return sum(j.right for j in given) - WRONG_COST * sum(not j.right for j in given)

    return max(THRESHOLDS, key=lambda t: (round(gain(t), 6), t)), table


def fit_intent_threshold(observed: Sequence[Observed], decision: Decision) -> float:
    """Choose the similarity above which a declined message is small talk or consular."""
    best = (-1, 0.9)
    whole = [o for o in observed if o.whole and o.primary]
    for threshold in INTENT_THRESHOLDS:
        good = 0
        for o in whole:
            declined = decision.probability(o.evidence) < decision.threshold
            detected = declined and o.similarity >= threshold
            kind = o.question.kind
            if kind == "small_talk":
                good += detected and o.intent is not None and o.intent not in ("consular", OFF_TOPIC)
            elif kind == "consular":
                good += detected and o.intent == "consular"
            else:
                good += not detected or o.intent == OFF_TOPIC
        if good > best[0]:
            best = (good, threshold)
    return best[1]


def fit_about_threshold(questions: Sequence[Question], similarity: Callable[[str], float]) -> float:
    """Choose the similarity from which a question is about the texts themselves.

    Questions about the texts should reach it and no other question should: each miss counts alike.
    """
    scores = [(similarity(q.q), q.kind == "about") for q in questions]
    best = (-1, 0.9)
    for threshold in INTENT_THRESHOLDS:
        good = sum((s >= threshold) == about for s, about in scores)
        if good > best[0]:
            best = (good, threshold)
    return best[1]


def validate(answerer: Answerer, questions: Sequence[Question]) -> list[Judged]:
    """Judge every question as the answering pipeline does (best part, intents, parts)."""
    out = []
    for q in questions:
        verdict = answerer.judge(q.q, 3)
        hits = verdict.ranking.hits
        right = bool(
            q.expect and hits and " ".join(q.expect.split()).casefold() in hits[0].passage.text.casefold()
        )
        absent = verdict.evidence is not None and verdict.evidence.fact_absent
        declined = verdict.intent is not None or bool(verdict.about) or absent
        probability = 0.0 if declined else verdict.probability
        out.append(Judged(q, right, probability, "other" if verdict.language in ("uk", "ru") else "en"))
    return out


def fit(
    content_dir: Path, train: Sequence[Path], train_docs: Sequence[Path], validation: Sequence[Path]
) -> tuple[Calibration, dict[str, Any]]:
    """Fit everything; return the calibration and the figures to report."""
    work = Path(tempfile.mkdtemp(prefix="embassy-fit-"))
    try:
        return _fit(content_dir, train, train_docs, validation, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fit(
    content_dir: Path,
    train: Sequence[Path],
    train_docs: Sequence[Path],
    validation: Sequence[Path],
    work: Path,
) -> tuple[Calibration, dict[str, Any]]:
    folder = assemble(work / "train", content_dir, train_docs)
    corpus: Corpus = load_corpus(folder)
    everything = read_questions(train)
    questions = [q for q in everything if q.kind in PASSAGE_KINDS]
    embedder = MemoEmbedder(load_embedder())
    lexical = PassageIndex(corpus)
    dense = DenseIndex(corpus, embedder, folder, work / "cache")
    intents = IntentIndex(embedder)
    translated = translated_indexes(corpus)
    out: dict[str, Any] = {"questions": len(everything), "documents": [d.id for d in corpus.documents]}

    # Each weight is chosen on its own questions: English, and Ukrainian or Russian; whole messages.
    in_scope = [q for q in questions if q.expect]

    def top1(index: HybridIndex) -> dict[str, float]:
        observed = [o for o in observe(index, intents, in_scope) if o.whole]
        return {
            group: sum(o.right for o in observed if language_group(o) == group)
            / max(sum(language_group(o) == group for o in observed), 1)
            for group in ("en", "other")
        }

    by_weight = {w: top1(HybridIndex(lexical, dense, w, translated)) for w in WEIGHTS}
    weight, weight_other = (
        max(WEIGHTS, key=lambda w: (round(by_weight[w][g], 6), -abs(w - 0.8))) for g in ("en", "other")
    )
    by_title = {
        t: top1(HybridIndex(lexical, dense, weight, translated, weight_other, title_weight=t))
        for t in TITLE_WEIGHTS
    }
    title_weight = max(TITLE_WEIGHTS, key=lambda t: (round(sum(by_title[t].values()), 6), -t))
    out["top1_by_weight"] = by_weight
    out["top1_by_title_weight"] = by_title
    out["fusion_weight"] = [weight, weight_other, title_weight]

    observed = observe(
        HybridIndex(lexical, dense, weight, translated, weight_other, title_weight=title_weight),
        intents,
        questions,
    )
    # The same Ukrainian and Russian questions as if the texts had no translation, so that a
    # document without one is still judged sensibly.
    bare = [q for q in questions if detect_language(q.q) in ("uk", "ru")]
    untranslated = DenseIndex(replace(corpus, translations={}), embedder, folder, work / "cache")
    observed += observe(
        HybridIndex(lexical, untranslated, weight, (), weight_other, title_weight=title_weight),
        intents,
        bare,
        False,
    )
    out["semantic_cv"] = report(cross_validate(observed, SEMANTIC_FEATURES))
    semantic = fit_model(observed, SEMANTIC_FEATURES, 0.5)
    intent_similarity = fit_intent_threshold(observed, semantic)

    lexical_observed = observe(
        HybridIndex(lexical, None, translated=translated), IntentIndex(None), questions
    )
    lexical_observed += observe(HybridIndex(lexical, None), IntentIndex(None), bare, False)
    out["lexical_cv"] = report(cross_validate(lexical_observed, LEXICAL_FEATURES))
    lexical_decision = fit_model(lexical_observed, LEXICAL_FEATURES, 0.5)

    def about(text: str) -> float:
        return intents.about(text, embedder.embed_queries([text])[0])

    about_similarity = fit_about_threshold(everything, about)
    calibration = Calibration(
        weight,
        weight_other,
        semantic,
        lexical_decision,
        title_weight,
        intent_similarity,
        about_similarity,
        embedder.signature,
    )

    # The threshold: on the validation questions, with the validation documents loaded too.
    valid_folder = assemble(work / "validation", folder, [p for p in validation if p.suffix == ".md"])
    valid_corpus = load_corpus(valid_folder)
    valid_questions = [
        q for q in read_questions([p for p in validation if p.suffix == ".jsonl"]) if q.kind != "about"
    ]
    for mode, model in (("semantic", embedder), ("lexical", None)):
        setup = Setup(calibration, model, cache_dir=work / "cache", intents=intents)
        answerer = Answerer(valid_corpus, setup, valid_folder)
        threshold, table = choose_threshold(validate(answerer, valid_questions))
        out[f"{mode}_validation"] = table
        out[f"{mode}_threshold"] = threshold
        if mode == "semantic":
            calibration = replace(calibration, semantic=replace(semantic, threshold=threshold))
        else:
            calibration = replace(calibration, lexical=replace(lexical_decision, threshold=threshold))
    out["intent_similarity"] = intent_similarity
    out["about_similarity"] = about_similarity
    return calibration, out


def write_intent_vectors(embedder: Embedder) -> None:
    """Write the vectors of the intent examples, shipped in index/data/."""
    index = IntentIndex(embedder)
    assert index.vectors is not None
    unique = dict(zip((text_key(t, query=True) for t in index.texts), index.vectors, strict=True))
    save_vectors(VECTORS_FILE, embedder.signature, list(unique), np.stack(list(unique.values())))
    VECTORS_FILE.chmod(0o644)


def main(argv: Sequence[str] | None = None) -> int:
    """Fit and write the calibration file."""
    parser = argparse.ArgumentParser(prog="python -m index.decision.fit", description=__doc__)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--out", type=Path, default=DATA_FILE)
    args = parser.parse_args(argv)
    train = [
        *sorted((ROOT / "tests/data/train").glob("*.jsonl")),
        *sorted((MULTIDOC / "train").glob("*.jsonl")),
    ]
    train_docs = sorted((MULTIDOC / "train").glob("*.md"))
    validation = sorted((MULTIDOC / "validation").iterdir())
    write_intent_vectors(load_embedder())
    calibration, figures_ = fit(args.content, train, train_docs, validation)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(calibration.to_json(), indent=1) + "\n", encoding="utf-8")
    json.dump(figures_, sys.stdout, indent=1)
    sys.stdout.write(f"\nwrote {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
