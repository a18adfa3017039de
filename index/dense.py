"""Dense (embedding) side of ranking: cosine of a question with every passage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from index.content import Corpus
from index.semantic import Embedder
from index.vectors import BUNDLED_NAME, CACHE_NAME, Progress, embed_texts, save_vectors, text_key

# A sentence ends at . ! ? and a space before a capital, a quote or a dash ("No. 47" stays whole).
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«(—A-ZА-ЯІЇЄҐ])")


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def units_of(text: str) -> list[str]:
    """Return the texts embedded for one passage: the whole paragraph, then each sentence if several."""
    parts = sentences(text)
    return [text, *parts] if len(parts) > 1 else [text]


@dataclass(frozen=True, slots=True)
class DenseScores:
    """The cosine of a question with every passage, and how they spread."""

    cosine: NDArray[np.float32]
    """Per passage: the mean of its best paragraph's cosine (any language) and its best sentence's."""
    mean: float
    std: float
    units: NDArray[np.float32] | None = None
    """The cosine of every embedded unit (paragraphs and sentences)."""


class DenseIndex:
    """Vectors of every passage and of its sentences, encoded once and cached.

    A long paragraph about several things matches a question about one of them
    less well than the sentence that says it; scoring a passage by the mean of
    its paragraph's and its best sentence's cosine keeps both views.
    """

    def __init__(
        self,
        corpus: Corpus,
        embedder: Embedder,
        content_dir: Path | None = None,
        cache_dir: Path | None = None,
        *,
        workers: int = 1,
        progress: Progress | None = None,
    ) -> None:
        """Embed every passage and sentence not found in the bundled or cached vectors."""
        self.embedder = embedder
        units: list[str] = []
        owners: list[int] = []
        whole: list[bool] = []
        for i, passage in enumerate(corpus.passages):
            # A translation is more evidence for the same passage: questions in its language match it.
            for version in (passage, *corpus.translations_of(passage)):
                texts = units_of(version.text)
                units += texts
                owners += [i] * len(texts)
                whole += [True] + [False] * (len(texts) - 1)
        sources = [content_dir / BUNDLED_NAME] if content_dir is not None else []
        cache = cache_dir / CACHE_NAME if cache_dir is not None else None
        self.units = tuple(units)
        self.vectors, self.encoded = embed_texts(
            units, embedder, sources, cache, workers=workers, progress=progress
        )
        self.owners = np.asarray(owners, dtype=np.int64)
        self.n_passages = len(corpus.passages)
        self._whole = np.asarray(whole, dtype=bool)

    def embed_question(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one normalised vector for a question given in one or more spellings."""
        vectors = self.embedder.embed_queries(list(texts))
        mean = vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        unit: NDArray[np.float32] = (mean / norm if norm > 0 else mean).astype(np.float32)
        return unit

    def scores(self, query: NDArray[np.float32]) -> DenseScores:
        """Return the cosine of a question vector with every passage."""
        if not self.n_passages:
            empty = np.zeros(0, dtype=np.float32)
            return DenseScores(empty, 0.0, 0.0)
        unit_cos = self.vectors @ query
        best = np.full(self.n_passages, -1.0, dtype=np.float32)
        np.maximum.at(best, self.owners, unit_cos)
        paragraph = np.full(self.n_passages, -1.0, dtype=np.float32)
        np.maximum.at(paragraph, self.owners[self._whole], unit_cos[self._whole])
        cosine = ((paragraph + best) / 2).astype(np.float32)
        return DenseScores(cosine, float(cosine.mean()), float(cosine.std()), unit_cos)

    def best_sentence(self, scores: DenseScores, passage: int) -> str:
        """Return the passage's sentence (in any language) nearest the question."""
        own = self.owners == passage
        sentence = own & ~self._whole
        mask = sentence if sentence.any() else own
        if scores.units is None or not mask.any():
            return ""
        return self.units[int(np.argmax(np.where(mask, scores.units, -np.inf)))]


def write_bundled(dense: DenseIndex, content_dir: Path) -> Path:
    """Write the vectors of every passage and sentence beside the content files, to ship with them."""
    path = content_dir / BUNDLED_NAME
    keys = [text_key(unit) for unit in dense.units]
    first = {key: i for i, key in reversed(list(enumerate(keys)))}
    unique = list(first)
    save_vectors(path, dense.embedder.signature, unique, dense.vectors[[first[k] for k in unique]])
    path.chmod(0o644)
    return path
