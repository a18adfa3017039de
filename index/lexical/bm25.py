"""BM25 scoring of bags of terms; rank-bm25 defines the scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Variant = Literal["okapi", "l", "plus"]


@dataclass(frozen=True, slots=True)
class BM25Params:
    """The rank-bm25 variant and its parameters."""

    variant: Variant = "okapi"
    k1: float = 1.2
    b: float = 0.75
    epsilon: float = 0.25
    """BM25Okapi only: the floor for terms in more than half the passages, times the mean idf."""
    delta: float = 0.5
    """BM25L and BM25Plus only."""


class Scorer(Protocol):
    """What ranking needs from a BM25 engine."""

    def scores(self, terms: Sequence[str]) -> list[float]:
        """Return the score of every passage for these query terms, in corpus order."""
        ...

    def idf(self, term: str) -> float | None:
        """Return the idf of a term, or None if no passage has it."""
        ...


class RankBM25Scorer:
    """Score with rank-bm25 itself: the reference implementation."""

    def __init__(self, bags: Sequence[Sequence[str]], params: BM25Params) -> None:
        import rank_bm25  # here: it imports multiprocessing, and only this reference scorer needs it

        corpus = [list(bag) for bag in bags]
        self.model: rank_bm25.BM25
        if params.variant == "okapi":
            self.model = rank_bm25.BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
        elif params.variant == "l":
            self.model = rank_bm25.BM25L(corpus, k1=params.k1, b=params.b, delta=params.delta)
        elif params.variant == "plus":
            self.model = rank_bm25.BM25Plus(corpus, k1=params.k1, b=params.b, delta=params.delta)
        else:
            raise ValueError(f"unknown BM25 variant {params.variant!r}")

    def scores(self, terms: Sequence[str]) -> list[float]:
        """Return rank-bm25's get_scores as plain floats."""
        return [float(s) for s in self.model.get_scores(list(terms))]

    def idf(self, term: str) -> float | None:
        """Return rank-bm25's idf for the term (floored for BM25Okapi)."""
        value = self.model.idf.get(term)
        return None if value is None else float(value)
