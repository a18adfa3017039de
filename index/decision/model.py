"""Decide whether the best passage answers a question: a small calibrated logistic model.

The coefficients live in `index/data/decision.json`, written by `python -m index.decision.fit`
from the training questions only; one model for semantic ranking, one for BM25 alone.
Every feature is measured the same way for every document, whoever wrote questions about it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from index.decision.evidence import Evidence

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "decision.json"


def _non_english(e: Evidence) -> float:
    return 1.0 if e.script == "cyrillic" or e.translit else 0.0


# Cyrillic questions get no BM25 match and lower cosines: their flag and its
# products let the model calibrate them apart from English ones.
FEATURES: dict[str, Callable[[Evidence], float]] = {
    "cosine": lambda e: e.cosine,
    "cosine_non_en": lambda e: e.cosine * _non_english(e),
    "spread": lambda e: e.spread,
    "margin": lambda e: e.margin,
    "coverage": lambda e: e.coverage,
    "unknown": lambda e: e.unknown,
    "bm25_margin": lambda e: e.bm25_margin,
    "non_en": _non_english,
    "translit": lambda e: 1.0 if e.translit else 0.0,
    "translated": lambda e: 1.0 if e.translated else 0.0,
    "log_words": lambda e: math.log1p(e.words),
    "intent": lambda e: e.intent,
    "asks_fact": lambda e: 1.0 if e.asks_fact else 0.0,
    "fact_missing": lambda e: 1.0 if e.fact_missing else 0.0,
    "later_year": lambda e: 1.0 if e.later_year else 0.0,
    "part": lambda e: 1.0 if e.part else 0.0,
}
SEMANTIC_FEATURES = (
    "cosine",
    "cosine_non_en",
    "spread",
    "margin",
    "coverage",
    "unknown",
    "non_en",
    "translit",
    "translated",
    "log_words",
    "intent",
    "asks_fact",
    "fact_missing",
    "later_year",
    "part",
)
LEXICAL_FEATURES = (
    "coverage",
    "unknown",
    "bm25_margin",
    "non_en",
    "translated",
    "log_words",
    "asks_fact",
    "fact_missing",
    "later_year",
    "part",
)


class DecisionError(Exception):
    """The decision file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Decision:
    """A logistic model over named features, with the standardisation it was fitted with."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    """Answer when the probability that the best passage answers is at least this."""

    def vector(self, evidence: Evidence) -> NDArray[np.float64]:
        """Return the standardised feature vector of the evidence."""
        raw = np.array([FEATURES[name](evidence) for name in self.features], dtype=np.float64)
        standardised: NDArray[np.float64] = (raw - np.array(self.mean)) / np.array(self.scale)
        return standardised

    def probability(self, evidence: Evidence) -> float:
        """Return the probability that the best passage answers the question."""
        z = float(self.vector(evidence) @ np.array(self.coef)) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form stored in the data file."""
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        """Build from the JSON form; raise DecisionError if it does not fit together."""
        try:
            features = tuple(str(f) for f in data["features"])
            decision = cls(
                features,
                tuple(float(v) for v in data["mean"]),
                tuple(float(v) for v in data["scale"]),
                tuple(float(v) for v in data["coef"]),
                float(data["intercept"]),
                float(data["threshold"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DecisionError(f"malformed decision model: {exc}") from None
        n = len(features)
        if not (len(decision.mean) == len(decision.scale) == len(decision.coef) == n):
            raise DecisionError("decision model: features, mean, scale and coef differ in length")
        if unknown := set(features) - set(FEATURES):
            raise DecisionError(f"decision model: unknown features {sorted(unknown)}")
        values = [*decision.mean, *decision.scale, *decision.coef, decision.intercept, decision.threshold]
        if not all(math.isfinite(v) for v in values) or any(s <= 0 for s in decision.scale):
            raise DecisionError("decision model: values must be finite and scales positive")
        return decision


@dataclass(frozen=True, slots=True)
class Calibration:
    """Everything fitted on the training questions: fusion weight, decisions, intent thresholds."""

    fusion_weight: float
    """Weight of the cosine for English questions; BM25 coverage gets the rest."""
    fusion_weight_other: float
    """The same for Ukrainian and Russian questions, whose coverage comes from translations."""
    semantic: Decision
    lexical: Decision
    title_weight: float
    """Ranking: weight of the cosine of a passage's section title (index.fusion.hybrid)."""
    intent_similarity: float
    """A declined question is small talk or consular when its nearest example is this similar."""
    about_similarity: float
    """A question is about the texts themselves (who, when, where) when its nearest such example is this
    similar."""
    model: str
    """Signature of the embedding model the semantic figures were fitted with."""

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form stored in the data file."""
        return {
            "fusion_weight": self.fusion_weight,
            "fusion_weight_other": self.fusion_weight_other,
            "title_weight": self.title_weight,
            "intent_similarity": self.intent_similarity,
            "about_similarity": self.about_similarity,
            "model": self.model,
            "semantic": self.semantic.to_json(),
            "lexical": self.lexical.to_json(),
        }


def load_calibration(path: Path = DATA_FILE) -> Calibration:
    """Read the fitted calibration; raise DecisionError naming the file if it is unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        calibration = Calibration(
            fusion_weight=float(data["fusion_weight"]),
            fusion_weight_other=float(data["fusion_weight_other"]),
            semantic=Decision.from_json(data["semantic"]),
            lexical=Decision.from_json(data["lexical"]),
            title_weight=float(data["title_weight"]),
            intent_similarity=float(data["intent_similarity"]),
            about_similarity=float(data["about_similarity"]),
            model=str(data["model"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DecisionError(f"{path}: cannot read the decision model ({exc})") from None
    except DecisionError as exc:
        raise DecisionError(f"{path}: {exc}") from None
    for name in (
        "fusion_weight",
        "fusion_weight_other",
        "title_weight",
        "intent_similarity",
        "about_similarity",
    ):
        value = getattr(calibration, name)
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise DecisionError(f"{path}: {name} must be a number from 0 to 1, not {value}")
    return calibration


def fit_logistic(
    x: NDArray[np.float64], y: NDArray[np.float64], l2: float = 1.0, iterations: int = 50
) -> tuple[NDArray[np.float64], float]:
    """Fit L2-regularised logistic regression by Newton's method; return (coef, intercept).

    `x` must be standardised; the intercept is not regularised.
    """
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.diag([l2] * d + [0.0])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -50, 50)))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return w[:d], float(w[d])


def fit_decision(
    names: Sequence[str],
    evidence: Sequence[Evidence],
    labels: Sequence[int],
    threshold: float,
    l2: float = 1.0,
) -> Decision:
    """Fit a Decision on evidence labelled 1 where the best passage answers the question."""
    raw = np.array([[FEATURES[n](e) for n in names] for e in evidence], dtype=np.float64)
    mean = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale == 0] = 1.0
    coef, intercept = fit_logistic((raw - mean) / scale, np.asarray(labels, dtype=np.float64), l2)
    return Decision(
        tuple(names),
        tuple(mean.tolist()),
        tuple(scale.tolist()),
        tuple(coef.tolist()),
        intercept,
        threshold,
    )
