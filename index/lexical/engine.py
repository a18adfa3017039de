"""BM25 over an inverted index that scores exactly like rank-bm25, touching only matching passages."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import cast

import numpy as np
from numpy.typing import NDArray

from index.lexical.bm25 import BM25Params

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
DocIds = NDArray[np.int32]
Counts = NDArray[np.int64] | NDArray[np.int32] | NDArray[np.uint16]
"""Term frequencies, in the narrowest type that holds them."""

# A multi-term query merges its postings by sorting them, unless they number
# at least 1/_DENSE_FROM of the passages: then a pass over all passages is cheaper.
_DENSE_FROM = 64
# Postings whose weights are computed at once: bounds the temporaries of building.
_CHUNK = 1 << 18


@dataclass(frozen=True, eq=False)
class Postings:
    """The built index: everything scoring needs, and everything the cache stores."""

    n_docs: int
    terms: tuple[str, ...]
    """Every term, in order of first occurrence in the corpus (rank-bm25's order)."""
    idf: Floats
    """rank-bm25's idf of each term, floored for BM25Okapi."""
    indptr: Ints
    """Postings of term t are positions indptr[t] to indptr[t + 1] of docs and weights."""
    docs: DocIds
    """Passage indexes, ascending within each term."""
    weights: Floats
    """The term's whole rank-bm25 contribution to the passage's score."""

    def validate(self) -> None:
        """Raise ValueError unless the arrays are shaped and ordered like a built index."""
        n_terms, n_postings = len(self.terms), len(self.docs)
        expected: tuple[tuple[str, NDArray[np.generic], type[np.generic], int], ...] = (
            ("idf", self.idf, np.float64, n_terms),
            ("indptr", self.indptr, np.int64, n_terms + 1),
            ("docs", self.docs, np.int32, n_postings),
            ("weights", self.weights, np.float64, n_postings),
        )
        for name, array, dtype, size in expected:
            if array.dtype != dtype or array.shape != (size,):
                raise ValueError(
                    f"{name}: expected {size} x {np.dtype(dtype)}, got {array.shape} x {array.dtype}"
                )
        if self.n_docs < 0 or n_postings > n_terms * self.n_docs:
            raise ValueError("more postings than terms times passages")
        if self.indptr[0] != 0 or self.indptr[-1] != n_postings:
            raise ValueError("indptr does not span the postings")
        lengths = np.diff(self.indptr)
        if n_terms and int(lengths.min()) < 1:
            raise ValueError("a term without postings")
        if n_postings and (int(self.docs.min()) < 0 or int(self.docs.max()) >= self.n_docs):
            raise ValueError("a passage index out of range")
        # Within a term, passages strictly increase; a decrease may only start a new term. Checked
        # in blocks: small temporaries stay in memory already touched (a cached start pays less).
        term_starts = self.indptr[1:-1]
        for lo in range(0, n_postings - 1, _CHUNK):
            hi = min(lo + _CHUNK, n_postings - 1)
            steps = np.diff(self.docs[lo : hi + 1])  # int32 is enough: both ends lie in 0..n_docs
            down = np.flatnonzero(steps <= 0) + lo + 1  # where a step does not rise
            if len(down) and not bool(np.isin(down, term_starts, assume_unique=True).all()):
                raise ValueError("postings of a term are not in ascending passage order")
        if not (np.all(np.isfinite(self.weights)) and np.all(np.isfinite(self.idf))):
            raise ValueError("non-finite weights or idf")
        if len(set(self.terms)) != n_terms:
            raise ValueError("a term listed twice")


class FastBM25:
    """rank-bm25's scores from precomputed postings; implements the Scorer protocol.

    Each term's whole contribution to each passage holding it is computed once,
    at build time, with rank-bm25's own expressions; a query only reads the
    postings of its terms. Scores are bit-equal to rank-bm25's, except where
    rank-bm25 divides 0 by 0 (b = 1 with an empty passage, or k1 = 0) and
    gives NaN: there a passage scores as one without the query's terms.
    """

    def __init__(self, bags: Sequence[Sequence[str]], params: BM25Params) -> None:
        self._setup(build_postings(bags, params), params)

    @classmethod
    def from_postings(cls, postings: Postings, params: BM25Params) -> FastBM25:
        """Return an engine over postings built earlier with the same params."""
        engine = cls.__new__(cls)
        engine._setup(postings, params)
        return engine

    def _setup(self, postings: Postings, params: BM25Params) -> None:
        self.params = params
        self.postings = postings
        self._n = postings.n_docs
        self._ids = dict(zip(postings.terms, range(len(postings.terms)), strict=True))
        self._indptr = postings.indptr.tolist()
        self._idf = postings.idf.tolist()
        self._docs = postings.docs
        self._weights = postings.weights
        # BM25Plus adds idf * delta for a term even to passages without it: a
        # query term's delta + 0 / (k1 * norm + 0) is just delta in rank-bm25.
        self._absent = postings.idf * params.delta if params.variant == "plus" else None

    def __len__(self) -> int:
        return self._n

    def __contains__(self, term: object) -> bool:
        return term in self._ids

    @property
    def terms(self) -> tuple[str, ...]:
        """Return every term of the corpus."""
        return self.postings.terms

    def idf(self, term: str) -> float | None:
        """Return rank-bm25's idf for the term (floored for BM25Okapi), or None if no passage has it."""
        tid = self._ids.get(term)
        return None if tid is None else self._idf[tid]

    def scores(self, terms: Sequence[str]) -> list[float]:
        """Return rank-bm25's get_scores for these terms: every passage, in corpus order."""
        scores: list[float] = self.score_array(terms).tolist()
        return scores

    def score_array(self, terms: Sequence[str]) -> Floats:
        """Return the scores of every passage as an array (a new one, free to change)."""
        out = np.zeros(self._n)
        for tid in self._term_ids(terms):
            docs, weights = self._slice(tid)
            if self._absent is None:
                out[docs] += weights
            else:
                row = np.full(self._n, self._absent[tid])
                row[docs] = weights
                out += row
        return out

    def postings_of(self, terms: Sequence[str]) -> tuple[DocIds, Floats]:
        """Return the postings of these terms one after another, in query order: passages and weights."""
        slices = [self._slice(tid) for tid in self._term_ids(terms)]
        if not slices:
            return np.zeros(0, dtype=np.int32), np.zeros(0)
        return np.concatenate([d for d, _ in slices]), np.concatenate([w for _, w in slices])

    def presence(self, terms: Sequence[str]) -> NDArray[np.bool_]:
        """Return, per passage, whether its bag has any of the terms."""
        out = np.zeros(self._n, dtype=bool)
        for tid in self._term_ids(terms):
            out[self._slice(tid)[0]] = True
        return out

    def top_k(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Return up to k (passage, score) with at least one of the terms, best first, ties by index."""
        ids = self._term_ids(terms)
        if k <= 0 or not ids:
            return []
        if len(ids) == 1:
            # A lone term's postings are already the candidates and their scores.
            docs, scores = self._slice(ids[0])
            return best_k(docs, scores, k)
        slices = [self._slice(tid) for tid in ids]
        docs = np.concatenate([d for d, _ in slices])
        if self._absent is None and len(docs) * _DENSE_FROM >= self._n:
            # Score every posting through one dense pass and select among the
            # postings: no sort, and only passages with a query term compete.
            # bincount adds each passage's weights in query order, as rank-bm25
            # does, so the scores match it to the last bit.
            weights = np.concatenate([w for _, w in slices])
            totals = cast(Floats, np.bincount(docs, weights=weights, minlength=self._n))
            return best_k(docs, totals[docs], k, copies=len(ids))
        candidates, slot = np.unique(docs, return_inverse=True)
        if self._absent is None:
            weights = np.concatenate([w for _, w in slices])
            scores = cast(Floats, np.bincount(slot, weights=weights, minlength=len(candidates)))
        else:
            scores = _plus_scores(self._absent, ids, slices, slot, len(candidates))
        return best_k(candidates, scores, k)

    def matched(self, doc: int, terms: Iterable[str]) -> tuple[str, ...]:
        """Return those of the terms that occur in the passage, in the order given."""
        return tuple(t for t in terms if self.contains(doc, t))

    def has(self, docs: DocIds, terms: Sequence[str]) -> NDArray[np.bool_]:
        """Return whether each passage's bag has each term: one row per passage, a column per term."""
        out = np.zeros((len(docs), len(terms)), dtype=bool)
        for column, term in enumerate(terms):
            tid = self._ids.get(term)
            if tid is None:
                continue
            found, _ = self._slice(tid)
            at = np.minimum(np.searchsorted(found, docs), len(found) - 1)
            out[:, column] = found[at] == docs
        return out

    def contains(self, doc: int, term: str) -> bool:
        """Return whether the passage's bag has the term."""
        tid = self._ids.get(term)
        if tid is None:
            return False
        docs, _ = self._slice(tid)
        at = int(np.searchsorted(docs, doc))
        return at < len(docs) and int(docs[at]) == doc

    def _term_ids(self, terms: Sequence[str]) -> list[int]:
        # Unknown terms add nothing in rank-bm25 (idf 0); repeats count again.
        return [tid for tid in map(self._ids.get, terms) if tid is not None]

    def _slice(self, tid: int) -> tuple[DocIds, Floats]:
        lo, hi = self._indptr[tid], self._indptr[tid + 1]
        return self._docs[lo:hi], self._weights[lo:hi]


def _plus_scores(
    absent: Floats, ids: list[int], slices: list[tuple[DocIds, Floats]], slot: Ints, size: int
) -> Floats:
    """Return BM25Plus scores of the candidates, adding term by term like rank-bm25."""
    scores = np.zeros(size)
    start = 0
    for tid, (docs, weights) in zip(ids, slices, strict=True):
        # Candidates without the term get its idf * delta, as in rank-bm25.
        row = np.full(size, absent[tid])
        row[slot[start : start + len(docs)]] = weights
        scores += row
        start += len(docs)
    return scores


def best_k(docs: NDArray[np.integer], scores: Floats, k: int, copies: int = 1) -> list[tuple[int, float]]:
    """Return the k best distinct (doc, score), best first, ties by lower doc.

    A doc may be listed up to `copies` times, always with the same score.
    """
    m = len(scores)
    take = k * copies
    if m > take:
        # Partial selection: the take-th best entry's score is reached by the
        # k best docs, since entries above it cover fewer than k docs.
        threshold = np.partition(scores, m - take)[m - take]
        chosen = np.flatnonzero(scores >= threshold)
        docs, scores = docs[chosen], scores[chosen]
    if copies > 1:
        docs, first = np.unique(docs, return_index=True)
        scores = scores[first]
    order = np.lexsort((docs, -scores))[:k]
    return list(zip(docs[order].tolist(), scores[order].tolist(), strict=True))


def build_postings(bags: Sequence[Sequence[str]], params: BM25Params) -> Postings:
    """Count terms and precompute every term-passage contribution exactly as rank-bm25 does."""
    if params.variant not in ("okapi", "l", "plus"):
        raise ValueError(f"unknown BM25 variant {params.variant!r}")
    n = len(bags)
    lengths = np.fromiter(map(len, bags), dtype=np.int64, count=n)
    total = int(lengths.sum())
    # One C-level pass gives ids in order of first occurrence, rank-bm25's dict
    # order, which fixes the order of its idf sum and so BM25Okapi's epsilon floor.
    ids: defaultdict[str, int] = defaultdict()
    ids.default_factory = ids.__len__
    keys = np.fromiter(map(ids.__getitem__, chain.from_iterable(bags)), dtype=np.int64, count=total)
    terms = tuple(ids)
    ids.default_factory = None  # a cycle through its own method: freed now, not by the cyclic collector
    del ids
    return postings_from_ids(keys, lengths, terms, params)


def postings_from_ids(keys: Ints, lengths: Ints, terms: tuple[str, ...], params: BM25Params) -> Postings:
    """Return the postings of bags given as term ids, all bags one after another (`keys` is reused).

    Term ids must number the terms in order of first occurrence, as `terms` lists them.
    """
    if params.variant not in ("okapi", "l", "plus"):
        raise ValueError(f"unknown BM25 variant {params.variant!r}")
    n = len(lengths)
    width = max(n, 1)
    total = int(lengths.sum())
    # Key = term * passages + passage: sorted, equal keys are one posting and
    # postings come grouped by term, passages ascending.
    keys *= width
    keys += np.repeat(np.arange(n, dtype=np.int32), lengths)
    keys.sort()
    first = np.ones(total, dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    # Index arrays made in their final width (flatnonzero would make int64 first): less memory at the peak.
    starts = np.arange(total, dtype=np.int32 if total < 2**31 else np.int64)[first]
    postings = keys[first]
    del first, keys
    tf: Counts = cast(DocIds | Ints, np.empty_like(starts))
    np.subtract(starts[1:], starts[:-1], out=tf[:-1])
    if len(tf):
        tf[-1] = total - starts[-1]
    del starts
    if len(tf) and int(tf.max()) < 2**16:
        tf = tf.astype(np.uint16)  # term frequencies are small: half the memory at the peak
    indptr = np.searchsorted(postings, np.arange(len(terms) + 1, dtype=np.int64) * width)
    np.remainder(postings, width, out=postings)
    docs = postings.astype(np.int32)
    del postings
    idf = _idf(np.diff(indptr), n, params)
    weights = _weights(idf, indptr, docs, tf=tf, lengths=lengths, params=params)
    return Postings(n, terms, idf, indptr.astype(np.int64), docs, weights)


def _idf(df: Ints, n: int, params: BM25Params) -> Floats:
    """Return rank-bm25's idf per term from document frequencies."""
    # math.log, not np.log, so every idf is bit-equal to rank-bm25's; idf
    # depends only on df, so the few distinct values are all that is computed.
    distinct, which = np.unique(df, return_inverse=True)
    if params.variant == "okapi":
        values = [math.log(n - f + 0.5) - math.log(f + 0.5) for f in distinct.tolist()]
    elif params.variant == "l":
        values = [math.log(n + 1) - math.log(f + 0.5) for f in distinct.tolist()]
    else:
        values = [math.log((n + 1) / f) for f in distinct.tolist()]
    idf = np.array(values, dtype=np.float64)[which]
    if params.variant == "okapi" and len(idf):
        # rank-bm25 averages over all terms, negative ones included, adding in
        # dict order: cumsum adds sequentially, like its loop.
        average = float(np.cumsum(idf)[-1]) / len(idf)
        idf[idf < 0] = params.epsilon * average
    return idf


def _weights(
    idf: Floats, indptr: Ints, docs: DocIds, *, tf: Counts, lengths: Ints, params: BM25Params
) -> Floats:
    """Return each posting's contribution with rank-bm25's expressions, operand for operand."""
    out = np.empty(len(docs))
    if not len(docs):
        return out
    k1, b, delta = params.k1, params.b, params.delta
    avgdl = int(lengths.sum()) / len(lengths)
    # Per passage, as rank-bm25 computes it over its doc_len array.
    norm = 1 - b + b * lengths / avgdl
    for lo in range(0, len(docs), _CHUNK):
        part = slice(lo, lo + _CHUNK)
        # Each posting's term, for this chunk alone (not an array as long as the postings).
        term = np.searchsorted(indptr, np.arange(lo, min(lo + _CHUNK, len(docs))), side="right") - 1
        # Same operations in the same order as rank-bm25's get_scores, so each
        # contribution is bit-equal to the one it adds.
        # Frequencies widened per chunk: uint16 times an integer k1 + 1 would wrap.
        q_idf, q_freq, q_norm = idf[term], tf[part].astype(np.int64), norm[docs[part]]
        if params.variant == "okapi":
            out[part] = q_idf * (q_freq * (k1 + 1) / (q_freq + k1 * q_norm))
        elif params.variant == "l":
            ctd = q_freq / q_norm
            out[part] = q_idf * q_freq * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)
        else:
            out[part] = q_idf * (delta + (q_freq * (k1 + 1)) / (k1 * q_norm + q_freq))
    return out
