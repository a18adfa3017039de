"""Rank the passages of a corpus against a question."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.analysis.text import Analyzer
from index.content.loader import Corpus, Passage
from index.lexical.bm25 import BM25Params
from index.lexical.cache import content_fingerprint
from index.lexical.fielded import SectionedBM25
from index.lexical.lexicon import build, load_lexical, save_lexical
from index.scale.units import default_workers

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RankingParams:
    """How passages are turned into bags of terms and scored."""

    bm25: BM25Params = field(default_factory=BM25Params)
    title_weight: float = 0.25
    """Weight of the section title's BM25 score, counted once per section (see index.lexical.fielded).

    Chosen on the training questions (BM25 alone, top-1 right: 0 -> 0.789, 0.25 -> 0.796,
    0.5 -> 0.789, 1 -> 0.776; the old title-in-every-bag rule 0.770).
    """
    spelling: bool = True
    """Map an unknown word of the question to a known word one edit away."""
    unknown_weight: float = 1.0
    """Weight, relative to the rarest known term, of a question word no passage has."""


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage that matched a question: its number in the corpus, its record read when used."""

    number: int
    """The passage's place in the corpus (`corpus.passages[number]`)."""
    score: float
    """The ranking score: rank-bm25's score, or the fused score with semantic ranking."""
    matched: tuple[str, ...]
    """The question's search terms found in the passage or its section title."""
    bm25: float = 0.0
    """rank-bm25's score of the passage."""
    coverage: float = 0.0
    """Share of the question's idf weight that the passage matches, 0 to 1."""
    cosine: float | None = None
    """Cosine of the question and passage embeddings, or None without semantic ranking."""
    records: Sequence[Passage] = field(default=(), compare=False, repr=False)
    """The corpus's passages: a lazy corpus makes a record when first read, so a search reads none."""

    @property
    def passage(self) -> Passage:
        """Return the passage's record."""
        return self.records[self.number]


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The ranked hits for a question and how well the best one covers it."""

    terms: tuple[str, ...]
    """The question's search terms after spelling tolerance, without repeats."""
    corrections: tuple[tuple[str, str], ...]
    """Words of the question read as another known word: (typed, read as)."""
    hits: tuple[Hit, ...]
    coverage: float
    """Share of the question's idf weight that the best hit matches, 0 to 1."""


# Bump when the analysis, the lexicon or the bags change what they produce.
BAGS_VERSION = 4


class PassageIndex:
    """A BM25 index over the passages of a corpus.

    Scores are rank-bm25's; FastBM25 computes them from postings built once (one
    pass of the analyzer, see index.lexical.lexicon) and, with a cache folder, kept
    between starts next to a fingerprint of the content.
    """

    def __init__(
        self,
        corpus: Corpus,
        analyzer: Analyzer | None = None,
        params: RankingParams | None = None,
        cache_dir: Path | None = None,
        workers: int | None = None,
    ) -> None:
        """Build or load the index; `workers` processes (default: one per CPU) share a large analysis."""
        self.corpus = corpus
        self.analyzer = analyzer or Analyzer()
        self.params = params or RankingParams()
        key = content_fingerprint(corpus, self.analyzer.signature, self.params, BAGS_VERSION)
        n = len(corpus.passages)
        lexical = load_lexical(cache_dir, key, self.params.bm25, n) if cache_dir is not None else None
        self.loaded = lexical is not None
        self.cached = self.loaded
        """Whether the cache folder holds this index (loaded from it, or written to it now)."""
        if lexical is None:
            lexical = build(
                corpus,
                self.analyzer,
                self.params.bm25,
                self.params.spelling,
                cache_dir=cache_dir,
                workers=workers or default_workers(),
            )
            if cache_dir is not None:
                try:
                    save_lexical(lexical, cache_dir, key)
                    self.cached = True
                except OSError as exc:
                    # A cache that cannot be written costs a rebuild next start, nothing more.
                    logger.warning("cannot write the index cache in %s: %s", cache_dir, exc)
        self.variants = lexical.variants
        self.speller = lexical.speller
        weight = self.params.title_weight
        self.engine = SectionedBM25(lexical.body, lexical.titles, lexical.section_of, weight)

    def __len__(self) -> int:
        return len(self.corpus.passages)

    def query_terms(self, question: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """Return the question's unique search terms and the spelling corrections made."""
        terms: list[str] = []
        corrections: list[tuple[str, str]] = []
        words = self.analyzer.words(question)
        for word, stem in zip(words, self.analyzer.stems(words), strict=True):
            term = self.variants.get(stem, stem)
            if term not in self.engine and self.params.spelling:
                known = self.speller.correct(word)
                if known is not None:
                    corrections.append((word, known))
                    term = self.variants.get(self.analyzer.stem(known), self.analyzer.stem(known))
            if term not in terms:
                terms.append(term)
        return tuple(terms), tuple(corrections)

    def search(self, question: str, k: int = 3) -> SearchResult:
        """Return up to k passages that share a term with the question, best first."""
        terms, corrections = self.query_terms(question)
        if not terms or k <= 0 or not len(self):
            return SearchResult(terms, corrections, (), 0.0)
        weights = self.term_weights(terms)
        hits = []
        top = self.engine.top_k(terms, k)
        each = self.engine.matched_many([i for i, _ in top], terms)
        for (i, score), matched in zip(top, each, strict=True):
            share = _share(weights, matched)
            hits.append(Hit(i, score, matched, score, share, records=self.corpus.passages))
        return SearchResult(terms, corrections, tuple(hits), hits[0].coverage if hits else 0.0)

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        """Return each search term's idf; a term no passage has weighs like the rarest term."""
        # A word the texts never use means the question asks about something they do not mention.
        unseen = self.params.unknown_weight * math.log(1 + 2 * len(self))
        return {t: max(self.engine.idf(t) or unseen, 0.0) for t in terms}

    def coverage(self, terms: Sequence[str], hits: Sequence[Hit]) -> float:
        """Return the idf-weighted share of the question's terms that the best hit has."""
        if not hits or not terms:
            return 0.0
        return _share(self.term_weights(terms), hits[0].matched)

    def unknown_share(self, terms: Sequence[str]) -> float:
        """Return the share of the question's idf weight carried by terms no passage has."""
        weights = self.term_weights(terms)
        return _share(weights, [t for t in terms if t not in self.engine])


def _share(weights: dict[str, float], terms: Iterable[str]) -> float:
    total = sum(weights.values())
    # fsum: exact, so the share does not depend on the set's (hash-seeded) order, nor do ties.
    return math.fsum(weights[t] for t in set(terms)) / total if total > 0 else 0.0
