"""Passages scored with their section's title as a second field, counted once per section.

A section title (in the interview, the interviewer's question; in a FAQ, the
question the section answers) says what every paragraph under it is about.
Added to each paragraph's bag, its words were counted again in every
paragraph, and most in the shortest, since BM25 normalises by length: a
one-line aside beat the paragraph that answers. Here the titles form their own
rank-bm25 index, one bag per section, and a passage's score is its body's
rank-bm25 score plus `weight` times its section title's. Every paragraph of a
section gets the same title score, so the body alone orders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from index.engine import FastBM25, best_k


class SectionedBM25:
    """Body and section-title BM25 engines read as one scorer, with the methods ranking needs."""

    def __init__(
        self, body: FastBM25, titles: FastBM25, section_of: NDArray[np.int32], weight: float
    ) -> None:
        if len(section_of) != len(body):
            raise ValueError("one section number per passage is needed")
        self.body = body
        self.titles = titles
        self.weight = weight
        self._section_of = section_of

    def __len__(self) -> int:
        return len(self.body)

    def __contains__(self, term: object) -> bool:
        return term in self.body or (self.weight > 0 and term in self.titles)

    def idf(self, term: str) -> float | None:
        """Return the term's idf among passages, or among section titles for a title-only word."""
        value = self.body.idf(term)
        if value is None and self.weight > 0:
            value = self.titles.idf(term)
        return value

    def top_k(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Return up to k (passage, score) with a term in the body or title, best first, ties by index."""
        title_ids = [t for t in terms if t in self.titles] if self.weight > 0 else []
        if not title_ids:
            return self.body.top_k(terms, k)
        if k <= 0:
            return []
        title = np.asarray(self.titles.score_array(terms))[self._section_of]
        total = self.body.score_array(terms)
        total += self.weight * title
        present = self.body.presence(terms)
        present |= self.titles.presence(terms)[self._section_of]
        docs = np.flatnonzero(present)
        return best_k(docs, total[docs], k)

    def matched(self, doc: int, terms: Iterable[str]) -> tuple[str, ...]:
        """Return those of the terms in the passage or in its section title, in the order given."""
        section = int(self._section_of[doc])
        return tuple(
            t
            for t in terms
            if self.body.contains(doc, t) or (self.weight > 0 and self.titles.contains(section, t))
        )
