"""The answering service every adapter calls: question in, Answer out."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from index.content.loader import Corpus, Document, Passage, Section
from index.decision.intents import IntentIndex
from index.decision.model import Calibration, load_calibration
from index.lexical.ranking import Hit, PassageIndex, RankingParams
from index.pipeline import Answerer, Setup, detect_language
from index.scale.lazy_corpus import load_corpus_cached
from index.scale.memory import building

if TYPE_CHECKING:
    from index.fusion.hybrid import TranslatedIndex
    from index.semantic.dense import DenseIndex
    from index.semantic.model import Embedder
    from index.semantic.vectors import Progress

logger = logging.getLogger(__name__)

Reason = Literal[
    "answered", "about", "empty", "too_long", "small_talk", "consular", "no_match", "low_confidence"
]

# Longer than any real question; Telegram messages stop at 4096 characters.
MAX_QUESTION_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Answer:
    """The service's reply to one question."""

    question: str
    answered: bool
    reason: Reason
    hits: tuple[Hit, ...]
    """Ranked passages, best first; listed even when not answered, for staff."""
    confidence: float
    """Probability, from the calibrated decision, that the best passage answers the question."""
    language: str
    """Guessed language of the question: 'en', 'uk', 'ru' or '' if unknown."""
    corrections: tuple[tuple[str, str], ...] = ()
    intent: str | None = None
    """For small talk, which kind ('greeting', 'thanks', ...); 'consular' for consular matters."""
    offered: int = 0
    """How many of the first hits are offered as answers: 0 when declined, else at least 1."""
    about: tuple[Document, ...] = ()
    """For a question about the texts themselves (reason 'about'): the documents whose headers answer."""

    @property
    def answers(self) -> tuple[Hit, ...]:
        """Return the hits offered as answers, best first ("another answer" walks these)."""
        return self.hits[: self.offered]

    @property
    def best(self) -> Hit | None:
        """Return the passage given as the answer, or None when declined."""
        return self.hits[0] if self.answered and self.hits else None


_DROPPED = frozenset({"Cf", "Cs", "Co", "Cn"})


def clean(question: str) -> str:
    """Return the question without invisible, control or undecodable characters, trimmed.

    Zero-width and other format characters are invisible (a message of only these is
    empty); lone surrogates (undecodable input) and NUL cannot reach the model's C engine.
    """
    kept = []
    for ch in question:
        category = unicodedata.category(ch)
        if category in _DROPPED:
            continue
        kept.append(" " if category == "Cc" else ch)
    return "".join(kept).strip()


class AnswerService:
    """Answer questions from the texts of a content folder."""

    def __init__(
        self,
        content_dir: Path,
        embedder: Embedder | None = None,
        *,
        min_confidence: float | None = None,
        top_k: int = 3,
        params: RankingParams | None = None,
        cache_dir: Path | None = None,
        calibration: Calibration | None = None,
        workers: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Build the indexes; without an embedder, rank by BM25 alone with its own calibration.

        `min_confidence` overrides the calibrated probability threshold.
        """
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise ValueError("min_confidence must be between 0 and 1")
        self.content_dir = content_dir
        self.top_k = top_k
        self.setup = Setup(
            calibration or load_calibration(),
            embedder,
            min_confidence,
            params or RankingParams(),
            cache_dir,
            workers,
            progress,
            IntentIndex(embedder, cache_dir),
        )
        self._answerer = self._build()

    def _build(self) -> Answerer:
        with building():
            return Answerer(
                load_corpus_cached(self.content_dir, self.setup.cache_dir), self.setup, self.content_dir
            )

    @property
    def embedder(self) -> Embedder | None:
        """Return the embedding model, or None with BM25-only ranking."""
        return self.setup.embedder

    @property
    def calibration(self) -> Calibration:
        """Return the fitted calibration answers are decided with."""
        return self.setup.calibration

    @property
    def semantic(self) -> bool:
        """Return whether embeddings take part in ranking."""
        return self.setup.embedder is not None

    @property
    def translated(self) -> tuple[TranslatedIndex, ...]:
        """Return the BM25 indexes of the translations, one per language."""
        return self._answerer.index.translated

    @property
    def dense(self) -> DenseIndex | None:
        """Return the current embedding index, or None with BM25-only ranking."""
        return self._answerer.index.dense

    @property
    def index(self) -> PassageIndex:
        """Return the current BM25 passage index (its analyzer also bolds matched words)."""
        return self._answerer.lexical

    @property
    def corpus(self) -> Corpus:
        """Return the content currently answered from."""
        return self._answerer.corpus

    @property
    def documents(self) -> tuple[Document, ...]:
        """Return the documents, in file-name order."""
        return self.corpus.documents

    @property
    def sections(self) -> Sequence[Section]:
        """Return every section of every document, in reading order."""
        return self.corpus.sections

    def passage(self, passage_id: str) -> Passage | None:
        """Return the passage with this id, or None if it no longer exists."""
        return self.corpus.passage(passage_id)

    def reload(self) -> Corpus:
        """Re-read the content folder; on a ContentError keep the current index and re-raise."""
        fresh = self._build()
        # One assignment: a question being answered keeps the index it started with.
        self._answerer = fresh
        logger.info(
            "content reloaded: %d documents, %d passages",
            len(fresh.corpus.documents),
            len(fresh.corpus.passages),
        )
        return fresh.corpus

    def unanswered_examples(self) -> list[tuple[Document, str]]:
        """Return each document's example question (header `examples:`) it does not answer on its own.

        The bot answers these from their document whatever the evidence; this says which ones
        the evidence alone would not have answered from it (a question to reword, or a text to fix).
        """
        missed = []
        for document in self.documents:
            for question in document.examples:
                verdict = self._answerer.judge(clean(question), self.top_k, promised=False)
                hits = verdict.ranking.hits
                if not (verdict.answered and hits[0].passage.document.id == document.id):
                    missed.append((document, question))
        return missed

    def ask(self, question: str, top: int | None = None) -> Answer:
        """Rank passages for a question and decide whether the best one answers it."""
        k = self.top_k if top is None else top
        text = clean(question)
        language = detect_language(text)
        if not text:
            return Answer(question, False, "empty", (), 0.0, language)
        if len(text) > MAX_QUESTION_CHARS:
            return Answer(question, False, "too_long", (), 0.0, language)
        if not any(ch.isalnum() for ch in text):
            # Only punctuation or emoji: nothing to search for.
            return Answer(question, False, "no_match", (), 0.0, language)
        verdict = self._answerer.judge(text, k, language)
        ranking = verdict.ranking
        reason: Reason
        intent = verdict.intent.name if verdict.intent is not None else None
        if verdict.about:
            reason = "about"
        elif verdict.answered:
            reason = "answered"
        elif intent == "consular":
            reason = "consular"
        elif intent is not None:
            reason = "small_talk"
        elif not ranking.hits:
            reason = "no_match"
        else:
            reason = "low_confidence"
        return Answer(
            question=question,
            answered=verdict.answered,
            reason=reason,
            hits=ranking.hits,
            confidence=verdict.probability,
            language=verdict.language,
            corrections=ranking.corrections,
            intent=intent,
            offered=verdict.offered,
            about=verdict.about,
        )
