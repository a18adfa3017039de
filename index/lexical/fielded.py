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

from index.lexical.engine import FastBM25, best_k

# As in FastBM25: below one candidate in this many passages, score the candidates alone.
_DENSE_FROM = 8


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
        # Passages of each section, as postings: members[starts[s]:starts[s + 1]].
        self._members = np.argsort(section_of, kind="stable").astype(np.int32)
        self._starts = np.searchsorted(section_of[self._members], np.arange(len(titles) + 1))
        self._dense_only = body.params.variant == "plus"

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
        if self._dense_only:
            # BM25Plus gives every passage a score: one pass over all; those with a term compete.
            total = self.body.score_array(terms)
            total += self.weight * self.titles.score_array(terms)[self._section_of]
            present = self.body.presence(terms) | self.titles.presence(terms)[self._section_of]
            docs = np.flatnonzero(present)
            return best_k(docs, total[docs], k)
        title_docs, title_weights = self.titles.postings_of(terms)
        # bincount adds in query order, as rank-bm25 (and score_array) do: the same bits.
        title_scores = np.bincount(title_docs, weights=title_weights, minlength=len(self.titles))
        # The sections with a posting, in order (np.unique would import numpy.ma on a first question).
        sections = np.flatnonzero(np.bincount(title_docs, minlength=len(self.titles)))
        body_docs, body_weights = self.body.postings_of(terms)
        members = self._passages_of(sections)
        if (len(body_docs) + len(members)) * _DENSE_FROM >= len(self):
            # Most passages are candidates: add every posting into one array and select
            # among the postings (a passage listed once per body term and once as a member).
            counts = np.bincount(body_docs, weights=body_weights, minlength=len(self))
            total = counts.astype(np.float64, copy=False)  # integers without body postings
            total[members] += self.weight * title_scores[self._section_of[members]]
            docs = np.concatenate([body_docs, members])
            copies = sum(1 for t in terms if t in self.body) + 1
            return best_k(docs, total[docs], k, copies=copies)
        candidates, slot = np.unique(np.concatenate([body_docs, members]), return_inverse=True)
        # bincount adds each passage's weights in query order, as rank-bm25 does.
        counted = np.bincount(slot[: len(body_docs)], weights=body_weights, minlength=len(candidates))
        # Without body postings bincount gives integers.
        scores: NDArray[np.float64] = counted.astype(np.float64, copy=False)
        scores += self.weight * title_scores[self._section_of[candidates]]
        return best_k(candidates, scores, k)

    def _passages_of(self, sections: NDArray[np.integer]) -> NDArray[np.int32]:
        """Return the passages of these sections, section by section."""
        lo, hi = self._starts[sections], self._starts[sections + 1]
        sizes = hi - lo
        if not len(sizes):
            return np.zeros(0, dtype=np.int32)
        # Positions lo..hi-1 of each section, all at once.
        offsets = np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
        return self._members[offsets]

    def matched_many(self, docs: Sequence[int], terms: Sequence[str]) -> list[tuple[str, ...]]:
        """Return `matched` for each of the passages, a few array operations for all."""
        numbers = np.asarray(docs, dtype=np.int32)
        has = self.body.has(numbers, terms)
        if self.weight > 0:
            has |= self.titles.has(self._section_of[numbers], terms)
        return [tuple(t for t, yes in zip(terms, row, strict=True) if yes) for row in has.tolist()]

    def matched(self, doc: int, terms: Iterable[str]) -> tuple[str, ...]:
        """Return those of the terms in the passage or in its section title, in the order given."""
        section = int(self._section_of[doc])
        return tuple(
            t
            for t in terms
            if self.body.contains(doc, t) or (self.weight > 0 and self.titles.contains(section, t))
        )
