"""Rank the passages of a corpus against a question."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from index.analysis import Analyzer
from index.bm25 import BM25Params, RankBM25Scorer, Scorer
from index.content import Corpus, Passage
from index.spelling import SpellingIndex, rare_variants


@dataclass(frozen=True, slots=True)
class RankingParams:
    """How passages are turned into bags of terms and scored."""

    bm25: BM25Params = field(default_factory=BM25Params)
    title_weight: int = 1
    """How many times the section title's terms join each passage's bag."""
    context_weight: int = 0
    """How many times the previous passage's terms join the bag of a passage."""
    spelling: bool = True
    """Map an unknown word of the question to a known word one edit away."""
    unknown_weight: float = 1.0
    """Weight, relative to the rarest known term, of a question word no passage has."""


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage that matched a question."""

    passage: Passage
    score: float
    matched: tuple[str, ...]
    """The question's search terms found in the passage or its section title."""


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


ScorerFactory = Callable[[Sequence[Sequence[str]], BM25Params], Scorer]


class PassageIndex:
    """A BM25 index over the passages of a corpus."""

    def __init__(
        self,
        corpus: Corpus,
        analyzer: Analyzer | None = None,
        params: RankingParams | None = None,
        scorer_factory: ScorerFactory = RankBM25Scorer,
    ) -> None:
        self.corpus = corpus
        self.analyzer = analyzer or Analyzer()
        self.params = params or RankingParams()
        self.variants = term_variants(corpus, self.analyzer) if self.params.spelling else {}
        self.bags = build_bags(corpus, self.analyzer, self.params, self.variants)
        self._bag_sets = [frozenset(bag) for bag in self.bags]
        self.scorer = scorer_factory(self.bags, self.params.bm25)
        self._spelling: SpellingIndex | None = None
        self._known_terms = frozenset().union(*self._bag_sets) if self.bags else frozenset()

    def __len__(self) -> int:
        return len(self.corpus.passages)

    def _speller(self) -> SpellingIndex:
        if self._spelling is None:
            words = (t.word for p in self.corpus.passages for t in self.analyzer.tokens(p.text))
            self._spelling = SpellingIndex.from_words(words)
        return self._spelling

    def query_terms(self, question: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """Return the question's unique search terms and the spelling corrections made."""
        terms: list[str] = []
        corrections: list[tuple[str, str]] = []
        for token in self.analyzer.tokens(question):
            term = self.variants.get(token.term, token.term)
            if term not in self._known_terms and self.params.spelling:
                known = self._speller().correct(token.word)
                if known is not None:
                    corrections.append((token.word, known))
                    term = self.analyzer.tokens(known)[0].term
            if term not in terms:
                terms.append(term)
        return tuple(terms), tuple(corrections)

    def search(self, question: str, k: int = 3) -> SearchResult:
        """Return up to k passages that share a term with the question, best first."""
        terms, corrections = self.query_terms(question)
        if not terms or k <= 0 or not self.bags:
            return SearchResult(terms, corrections, (), 0.0)
        scores = self.scorer.scores(terms)
        query = frozenset(terms)
        candidates = [i for i, bag in enumerate(self._bag_sets) if not bag.isdisjoint(query)]
        # Ties keep reading order, so the earlier passage of a section comes first.
        best = heapq.nsmallest(min(k, len(candidates)), candidates, key=lambda i: (-scores[i], i))
        hits = tuple(
            Hit(
                self.corpus.passages[i],
                scores[i],
                tuple(t for t in terms if t in self._bag_sets[i]),
            )
            for i in best
        )
        return SearchResult(terms, corrections, hits, self.coverage(terms, hits))

    def coverage(self, terms: Sequence[str], hits: Sequence[Hit]) -> float:
        """Return the idf-weighted share of the question's terms that the best hit has."""
        if not hits or not terms:
            return 0.0
        # A term no passage has weighs like the rarest term: the question asks
        # about something the texts never mention.
        unseen = self.params.unknown_weight * math.log(1 + 2 * len(self.bags))
        weights = {t: max(self.scorer.idf(t) or unseen, 0.0) for t in terms}
        total = sum(weights.values())
        if total <= 0:
            return 0.0
        return sum(weights[t] for t in hits[0].matched) / total


def term_variants(corpus: Corpus, analyzer: Analyzer) -> dict[str, str]:
    """Return the terms of rare misspellings in the texts and the terms they stand for."""
    counts: dict[str, int] = {}
    for passage in corpus.passages:
        for token in analyzer.tokens(passage.text):
            counts[token.word] = counts.get(token.word, 0) + 1
    variants = rare_variants(counts)
    return {analyzer.terms(rare)[0]: analyzer.terms(known)[0] for rare, known in variants.items()}


def build_bags(
    corpus: Corpus, analyzer: Analyzer, params: RankingParams, variants: dict[str, str] | None = None
) -> list[list[str]]:
    """Return the bag of terms of each passage: its text, title and context."""
    variants = variants or {}

    def terms(text: str) -> list[str]:
        return [variants.get(term, term) for term in analyzer.terms(text)]

    title_terms: dict[tuple[str, int], list[str]] = {}
    bags: list[list[str]] = []
    previous: list[str] = []
    for passage in corpus.passages:
        key = (passage.document.id, passage.section_no)
        if key not in title_terms:
            title_terms[key] = terms(passage.section)
        own = terms(passage.text)
        bag = own + title_terms[key] * params.title_weight
        if passage.position > 0:
            bag += previous * params.context_weight
        bags.append(bag)
        previous = own
    return bags
