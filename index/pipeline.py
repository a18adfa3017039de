"""From a question to a verdict: rank, recognise small talk, decide whether to answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from index.analysis import ENGLISH_STOP_WORDS
from index.content import Corpus
from index.decision import Calibration, Decision
from index.examples import ExampleIndex
from index.hybrid import Evidence, HybridIndex, Ranking, translated_indexes
from index.intents import OFF_TOPIC, Intent, IntentIndex
from index.language import guess_language
from index.ranking import PassageIndex, RankingParams
from index.units import default_workers

if TYPE_CHECKING:
    from index.dense import DenseIndex
    from index.semantic import Embedder
    from index.vectors import Progress

logger = logging.getLogger(__name__)


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
    offered: int = 0
    """How many of the best passages are offered as answers (each clears the bar on its own)."""


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
        *,
        content_dir: Path | None = None,
        cache_dir: Path | None = None,
        params: RankingParams | None = None,
        threshold: float | None = None,
        intents: IntentIndex | None = None,
        examples: ExampleIndex | None = None,
        workers: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Build every index of the corpus; `workers` (default: one per CPU) share large builds."""
        workers = workers or default_workers()
        lexical = PassageIndex(corpus, params=params, cache_dir=cache_dir, workers=workers)
        dense = (
            _dense_index(
                corpus,
                embedder,
                content_dir=content_dir,
                cache_dir=cache_dir,
                workers=workers,
                progress=progress,
            )
            if embedder is not None
            else None
        )
        translated = translated_indexes(corpus, params, cache_dir)
        self.index = HybridIndex(
            lexical,
            dense,
            calibration.fusion_weight,
            translated,
            calibration.fusion_weight_other,
            examples=examples if examples is not None else ExampleIndex.for_model(embedder, cache_dir),
            example_weight=calibration.example_weight,
            example_floor=calibration.example_floor,
        )
        self.intents = intents if intents is not None else IntentIndex(embedder, cache_dir)
        self.calibration = calibration
        if embedder is not None and embedder.signature != calibration.model:
            logger.warning(
                "the decision was fitted with model %s but %s is loaded: refit with python -m index.fit",
                calibration.model,
                embedder.signature,
            )
        decision = calibration.semantic if dense is not None else calibration.lexical
        with_known = calibration.examples if dense is not None else calibration.lexical
        if threshold is not None:
            decision = replace(decision, threshold=threshold)
            with_known = replace(with_known, threshold=threshold)
        self.decision: Decision = decision
        self.decision_with_examples: Decision = with_known

    @property
    def examples(self) -> ExampleIndex | None:
        """Return the training questions the ranking and the decision use."""
        return self.index.examples

    def decide(self, evidence: Evidence) -> tuple[float, bool]:
        """Return the probability that the passage answers and whether it clears the bar."""
        decision = self.decision_with_examples if evidence.example_same is not None else self.decision
        probability = decision.probability(evidence)
        return probability, probability >= decision.threshold

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
            evidence = replace(ranking.evidence, intent=intent.similarity)
            ranking = replace(ranking, evidence=evidence)
        probability, answered = self.decide(ranking.evidence) if ranking.hits else (0.0, False)
        offered = 0
        if answered:
            # "Another answer" offers only passages that would clear the bar on their own.
            offered = 1
            for evidence in ranking.each[1:]:
                alone = replace(evidence, intent=ranking.evidence.intent)
                if not self.decide(alone)[1]:
                    break
                offered += 1
        # Off-topic examples are only evidence: such a message gets the usual decline.
        named = intent if intent is not None and intent.name != OFF_TOPIC else None
        exact = named is not None and named.similarity >= 1.0
        similar = named is not None and named.similarity >= self.calibration.intent_similarity
        if exact or (not answered and similar):
            return Verdict(language, ranking, probability, False, named)
        return Verdict(language, ranking, probability, answered, None, offered)


def _dense_index(
    corpus: Corpus,
    embedder: Embedder,
    *,
    content_dir: Path | None,
    cache_dir: Path | None,
    workers: int,
    progress: Progress | None,
) -> DenseIndex:
    """Build the embedding index; imported here, so BM25-only ranking never loads the semantic modules."""
    from index.dense import DenseIndex

    return DenseIndex(corpus, embedder, content_dir, cache_dir, workers=workers, progress=progress)
