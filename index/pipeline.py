"""From a question to a verdict: rank, recognise small talk and questions about the texts, decide."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from index.analysis.language import guess_language
from index.analysis.text import ENGLISH_STOP_WORDS
from index.content.loader import Corpus
from index.content.records import Document
from index.decision.about import named_documents
from index.decision.evidence import Assessed, Evidence, assess
from index.decision.intents import OFF_TOPIC, Intent, IntentIndex, plain
from index.decision.model import Calibration, Decision
from index.fusion.hybrid import HybridIndex, Ranking, translated_indexes
from index.lexical.ranking import PassageIndex, RankingParams
from index.scale.units import default_workers

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from index.semantic.dense import DenseIndex
    from index.semantic.model import Embedder
    from index.semantic.vectors import Progress

logger = logging.getLogger(__name__)
_WORD = re.compile(r"\w+")


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
    about: tuple[Document, ...] = ()
    """Set when the question is about the texts themselves: the documents whose headers answer it."""
    part: str = ""
    """The part of the message the ranking is for (the whole message, or its question sentence)."""
    evidence: Evidence | None = None
    """What the decision saw about the best passage."""


def detect_language(question: str) -> str:
    """Return 'en', 'uk', 'ru' or '' for a question."""
    return guess_language(question, ENGLISH_STOP_WORDS)


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")
_MAX_PARTS = 3
PROMISED_DEPTH = 20
"""How far down the ranking a document's own example question looks for that document's passage."""


def question_parts(message: str) -> list[str]:
    """Return the message and, when it has several sentences, the ones that may hold its question.

    People write a greeting, some context or a complaint around the question; each of
    those dilutes the whole message's evidence. The sentences that ask (with a question
    mark), else the last one, are judged on their own too; single words are not.
    """
    sentences = [s.strip() for s in _SENTENCE_END.split(message) if len(_WORD.findall(s)) >= 3]
    if len(sentences) < 2:
        return [message]
    asking = [s for s in sentences if "?" in s] or sentences[-1:]
    return [message, *asking[-_MAX_PARTS:]]


@dataclass(frozen=True)
class Setup:
    """How answers are made from a corpus: the model, the calibration, the caches and their options.

    One value for the library, the fitting script and the service alike: each builds its
    Answerer from a corpus and this, and rebuilds it from the same on a reload.
    """

    calibration: Calibration
    embedder: Embedder | None = None
    """None: BM25 alone, with its own calibrated rule."""
    threshold: float | None = None
    """Overrides the calibrated probability threshold."""
    params: RankingParams | None = None
    cache_dir: Path | None = None
    workers: int | None = None
    """Processes and model handles that share large builds (default: one per CPU)."""
    progress: Progress | None = None
    intents: IntentIndex | None = None
    """Built from the embedder when None."""


class Answerer:
    """Everything built from one corpus: lexical and dense indexes, intents, the calibrated decision."""

    def __init__(self, corpus: Corpus, setup: Setup, content_dir: Path | None = None) -> None:
        """Build every index of the corpus (`content_dir` holds any vectors shipped with it)."""
        calibration, embedder, cache_dir, params = (
            setup.calibration,
            setup.embedder,
            setup.cache_dir,
            setup.params,
        )
        workers = setup.workers or default_workers()
        lexical = PassageIndex(corpus, params=params, cache_dir=cache_dir, workers=workers)
        dense = (
            _dense_index(
                corpus,
                embedder,
                content_dir=content_dir,
                cache_dir=cache_dir,
                workers=workers,
                progress=setup.progress,
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
            title_weight=calibration.title_weight,
        )
        self.intents = setup.intents if setup.intents is not None else IntentIndex(embedder, cache_dir)
        self.calibration = calibration
        if embedder is not None and embedder.signature != calibration.model:
            logger.warning(
                "the decision was fitted with model %s but %s is loaded: "
                "refit with python -m index.decision.fit",
                calibration.model,
                embedder.signature,
            )
        decision = calibration.semantic if dense is not None else calibration.lexical
        if setup.threshold is not None:
            decision = replace(decision, threshold=setup.threshold)
        self.decision: Decision = decision
        self._examples: dict[str, str] | None = None  # read when first asked: a lazy corpus stays unread

    def decide(self, evidence: Evidence) -> tuple[float, bool]:
        """Return the probability that the passage answers and whether it clears the bar.

        A passage without any fact of the kind asked for (no number for "how many") cannot answer.
        """
        if evidence.fact_absent:
            return 0.0, False
        probability = self.decision.probability(evidence)
        return probability, probability >= self.decision.threshold

    @property
    def corpus(self) -> Corpus:
        """Return the corpus answered from."""
        return self.index.lexical.corpus

    @property
    def lexical(self) -> PassageIndex:
        """Return the BM25 index."""
        return self.index.lexical

    def observe(
        self, part: str, k: int, language: str, sentence: bool = False
    ) -> tuple[Assessed, Intent | None, float]:
        """Rank passages for one part of a message; return them with their evidence, intent, probability."""
        assessed = assess(self.index, part, k, language)
        vector = assessed.ranking.query_vector
        intent = self.intents.nearest(part, vector)
        assessed = assessed.with_message(intent=self.intents.against(part, vector), part=sentence)
        probability = self.decide(assessed.evidence)[0] if assessed.ranking.hits else 0.0
        return assessed, intent, probability

    def judge(self, question: str, k: int, language: str | None = None, *, promised: bool = True) -> Verdict:
        """Rank passages for a question and decide whether the best answers it.

        A message of several sentences is judged whole and by its asking sentences; the
        part with the strongest evidence speaks for it (the threshold is chosen that way too).
        `promised=False` judges a document's own example question on its evidence alone.
        """
        language = detect_language(question) if language is None else language
        document = self._promised().get(plain(question)) if promised else None
        if document is not None and (verdict := self._promised_answer(question, k, language, document)):
            return verdict
        observed = [
            (part, *self.observe(part, k, language, number > 0))
            for number, part in enumerate(question_parts(question))
        ]
        part, assessed, _, probability = max(observed, key=lambda o: o[3])
        ranking, evidence = assessed.ranking, assessed.evidence
        answered = self.decide(evidence)[1] if ranking.hits else False
        if self.about_texts(question, observed[0][1].ranking.query_vector):
            about = named_documents(
                question, self.corpus.documents, self.lexical.analyzer, self._translated()
            )
            return Verdict(
                language, ranking, probability, False, None, about=about, part=part, evidence=evidence
            )
        offered = 0
        if answered:
            # "Another answer" offers only passages that would clear the bar on their own.
            offered = 1
            for other in assessed.each[1:]:
                if not self.decide(other)[1]:
                    break
                offered += 1
        # Off-topic examples are only evidence: such a message gets the usual decline. The
        # whole message's intent counts for small talk and consular matters.
        whole = observed[0][2]
        named = whole if whole is not None and whole.name != OFF_TOPIC else None
        # An exact small-talk message ("hello") is never answered with a passage; a consular
        # matter is, when a text answers it: the pointer is for the ones no text answers.
        exact = named is not None and named.small_talk and named.similarity >= 1.0
        similar = named is not None and named.similarity >= self.calibration.intent_similarity
        if exact or (not answered and similar):
            return Verdict(language, ranking, probability, False, named, part=part, evidence=evidence)
        return Verdict(language, ranking, probability, answered, None, offered, part=part, evidence=evidence)

    def _promised(self) -> dict[str, str]:
        """Return each document's own example questions (header `examples:`) -> the document's id."""
        if self._examples is None:
            self._examples = {
                plain(example): document.translation_of or document.id
                for document in (*self.corpus.documents, *self._translated())
                for example in document.examples
            }
        return self._examples

    def _promised_answer(self, question: str, k: int, language: str, document: str) -> Verdict | None:
        """Answer a document's own example question from that document: staff promised it answers.

        The best passage of that document among the nearest comes first; None if none is near.
        """
        assessed = assess(self.index, question, max(k, PROMISED_DEPTH), language)
        hits = assessed.ranking.hits
        first = next((j for j, h in enumerate(hits) if h.passage.document.id == document), None)
        if first is None:
            return None
        assessed = assessed.reordered([first, *(j for j in range(len(hits)) if j != first)][:k])
        evidence = assessed.evidence
        probability = self.decide(evidence)[0]
        return Verdict(
            language, assessed.ranking, probability, True, None, 1, part=question, evidence=evidence
        )

    def about_texts(self, question: str, vector: NDArray[np.float32] | None) -> bool:
        """Return whether the question asks about the texts themselves (who gave them, when, where)."""
        return self.intents.about(question, vector) >= self.calibration.about_similarity

    def _translated(self) -> list[Document]:
        """Return the translated documents: their titles and speakers name their originals too."""
        return [d for t in self.index.translated for d in t.index.corpus.documents]


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
    from index.semantic.dense import DenseIndex

    return DenseIndex(corpus, embedder, content_dir, cache_dir, workers=workers, progress=progress)
