"""The answering service every adapter calls: question in, Answer out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from index.analysis import guess_language
from index.content import Corpus, Document, Passage, Section, load_corpus
from index.ranking import Hit, PassageIndex, RankingParams

logger = logging.getLogger(__name__)

Reason = Literal["answered", "empty", "too_long", "no_match", "low_confidence", "other_language"]

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
    """Share of the question's idf weight that the best passage matches, 0 to 1."""
    language: str
    """Guessed language of the question: 'en', 'uk', 'ru' or '' if unknown."""
    corrections: tuple[tuple[str, str], ...] = ()

    @property
    def best(self) -> Hit | None:
        """Return the passage given as the answer, or None when declined."""
        return self.hits[0] if self.answered and self.hits else None


class AnswerService:
    """Answer questions from the texts of a content folder."""

    def __init__(
        self,
        content_dir: Path,
        min_confidence: float = 0.45,
        top_k: int = 3,
        params: RankingParams | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError("min_confidence must be between 0 and 1")
        self.content_dir = content_dir
        self.min_confidence = min_confidence
        self.top_k = top_k
        self.params = params or RankingParams()
        self.cache_dir = cache_dir
        self._index = self._build(content_dir)

    def _build(self, content_dir: Path) -> PassageIndex:
        return PassageIndex(load_corpus(content_dir), params=self.params, cache_dir=self.cache_dir)

    @property
    def index(self) -> PassageIndex:
        """Return the current passage index."""
        return self._index

    @property
    def corpus(self) -> Corpus:
        """Return the content currently answered from."""
        return self._index.corpus

    @property
    def documents(self) -> tuple[Document, ...]:
        """Return the documents, in file-name order."""
        return self.corpus.documents

    @property
    def sections(self) -> tuple[Section, ...]:
        """Return every section of every document, in reading order."""
        return self.corpus.sections

    def passage(self, passage_id: str) -> Passage | None:
        """Return the passage with this id, or None if it no longer exists."""
        return self.corpus.passage(passage_id)

    def reload(self) -> Corpus:
        """Re-read the content folder; on a ContentError keep the current index and re-raise."""
        fresh = self._build(self.content_dir)
        # One assignment: a question being answered keeps the index it started with.
        self._index = fresh
        logger.info(
            "content reloaded: %d documents, %d passages",
            len(fresh.corpus.documents),
            len(fresh.corpus.passages),
        )
        return fresh.corpus

    def ask(self, question: str, top: int | None = None) -> Answer:
        """Rank passages for a question and decide whether the best one answers it."""
        k = self.top_k if top is None else top
        text = question.strip()
        language = guess_language(text)
        if not text:
            return Answer(question, False, "empty", (), 0.0, language)
        if len(text) > MAX_QUESTION_CHARS:
            return Answer(question, False, "too_long", (), 0.0, language)
        index = self._index
        result = index.search(text, k)
        answered = bool(result.hits) and result.coverage >= self.min_confidence
        reason: Reason
        if answered:
            reason = "answered"
        elif language in ("uk", "ru"):
            reason = "other_language"
        elif not result.hits:
            reason = "no_match"
        else:
            reason = "low_confidence"
        return Answer(
            question=question,
            answered=answered,
            reason=reason,
            hits=result.hits,
            confidence=result.coverage,
            language=language,
            corrections=result.corrections,
        )
