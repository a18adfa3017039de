"""From a question to a verdict: rank, recognise small talk, decide whether to answer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from index.decision import Calibration, Decision
from index.dense import DenseIndex
from index.hybrid import HybridIndex, Ranking, translated_indexes
from index.intents import Intent, IntentIndex
from index.language import guess_language
from index.analysis import ENGLISH_STOP_WORDS
from index.content import Corpus
from index.ranking import PassageIndex, RankingParams
from index.semantic import Embedder


@dataclass(frozen=True, slots=True)
class Verdict:
    """The ranked passages and what to do with them."""

    language: str
    ranking: Ranking
    probability: float
    """Probability, from the calibrated model, that the best passage answers the question."""
    answered: bool
    intent: Intent | None
    """Set when the message is small talk or a consular matter rather than a question about the texts."""


def detect_language(question: str) -> str:
    """Return 'en', 'uk', 'ru' or '' for a question."""
    return guess_language(question, ENGLISH_STOP_WORDS)


class Answerer:
    """Everything built from one corpus: lexical and dense indexes, intents, the calibrated decision."""

    def __init__(
        self,
        corpus: Corpus,
        calibration: Calibration,
        embedder: Embedder | None = None,
        content_dir: Path | None = None,
        cache_dir: Path | None = None,
        params: RankingParams | None = None,
        threshold: float | None = None,
        intents: IntentIndex | None = None,
    ) -> None:
        lexical = PassageIndex(corpus, params=params, cache_dir=cache_dir)
        dense = DenseIndex(corpus, embedder, content_dir, cache_dir) if embedder is not None else None
        translated = translated_indexes(corpus, params, cache_dir)
        self.index = HybridIndex(
            lexical, dense, calibration.fusion_weight, translated, calibration.fusion_weight_other
        )
        self.intents = intents if intents is not None else IntentIndex(embedder, cache_dir)
        self.calibration = calibration
        decision = calibration.semantic if dense is not None else calibration.lexical
        if threshold is not None:
            decision = dataclasses.replace(decision, threshold=threshold)
        self.decision: Decision = decision

    @property
    def corpus(self) -> Corpus:
        """Return the corpus answered from."""
        return self.index.lexical.corpus

    @property
    def lexical(self) -> PassageIndex:
        """Return the BM25 index."""
        return self.index.lexical

    def judge(self, question: str, k: int) -> Verdict:
        """Rank passages for a question and decide whether the best answers it."""
        language = detect_language(question)
        ranking = self.index.search(question, k, language)
        intent = self.intents.nearest(question, ranking.query_vector)
        if intent is not None:
            evidence = dataclasses.replace(ranking.evidence, intent=intent.similarity)
            ranking = dataclasses.replace(ranking, evidence=evidence)
        probability = self.decision.probability(ranking.evidence) if ranking.hits else 0.0
        answered = bool(ranking.hits) and probability >= self.decision.threshold
        exact = intent is not None and intent.similarity >= 1.0
        if exact or (not answered and intent is not None and intent.similarity >= self.calibration.intent_similarity):
            return Verdict(language, ranking, probability, False, intent)
        return Verdict(language, ranking, probability, answered, None)
