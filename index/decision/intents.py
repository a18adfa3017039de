"""Recognise messages that are not questions answered by a passage: small talk, consular, about the texts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from index.semantic.model import Embedder

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
EXAMPLES_FILE = DATA_DIR / "intents.json"
VECTORS_FILE = DATA_DIR / "intents.npz"
SMALL_TALK = frozenset(
    {"greeting", "how_are_you", "thanks", "goodbye", "who_are_you", "capabilities", "acknowledgement"}
)
OFF_TOPIC = "off_topic"
CONSULAR = "consular"
ABOUT = "about_text"
"""Questions about the texts themselves: who gave or wrote them, when, where they appeared, their titles.
Kept apart from the others: their similarity is not evidence against answering from a passage."""
_NOT_WORD = re.compile(r"[\W_]+")


def plain(text: str) -> str:
    """Return a message compared as typed: without case and punctuation."""
    return _plain(text)


def _plain(text: str) -> str:
    return _NOT_WORD.sub(" ", text.casefold()).strip()


@dataclass(frozen=True, slots=True)
class Intent:
    """The nearest example message: its intent and how similar it is."""

    name: str
    similarity: float

    @property
    def small_talk(self) -> bool:
        """Return whether this is small talk rather than a consular matter."""
        return self.name in SMALL_TALK


class IntentIndex:
    """The example messages of each intent, embedded as questions when a model is loaded."""

    def __init__(
        self, embedder: Embedder | None = None, cache_dir: Path | None = None, examples: Path = EXAMPLES_FILE
    ) -> None:
        data = json.loads(examples.read_text(encoding="utf-8"))
        self.texts: list[str] = []
        self.names: list[str] = []
        for name, texts in data.items():
            if isinstance(texts, list):
                self.texts += texts
                self.names += [name] * len(texts)
        self._exact = {_plain(text): name for text, name in zip(self.texts, self.names, strict=True)}
        self._about = np.array([name == ABOUT for name in self.names], dtype=bool)
        # Evidence against answering from a passage: small talk and off-topic requests. Not consular
        # matters: a text that answers one (a consular FAQ) answers it; the pointer is for the rest.
        self._against = np.array([name not in (ABOUT, CONSULAR) for name in self.names], dtype=bool)
        self.vectors: NDArray[np.float32] | None = None
        if embedder is not None:
            cache = cache_dir / "intent-vectors.npz" if cache_dir is not None else None
            from index.semantic.vectors import embed_texts  # only with a model: BM25-only starts skip it

            self.vectors, _ = embed_texts(self.texts, embedder, [VECTORS_FILE], cache, queries=True)

    def exact(self, text: str) -> str | None:
        """Return the intent of a message that is one of the examples, ignoring case and punctuation."""
        return self._exact.get(_plain(text))

    def nearest(self, text: str, vector: NDArray[np.float32] | None) -> Intent | None:
        """Return the nearest intent but questions about the texts: an exact match scores 1, else cosine."""
        name = self.exact(text)
        if name is not None and name != ABOUT:
            return Intent(name, 1.0)
        if vector is None or self.vectors is None or self._about.all():
            return None
        similarities = np.where(self._about, -np.inf, self.vectors @ vector)
        best = int(np.argmax(similarities))
        return Intent(self.names[best], float(similarities[best]))

    def against(self, text: str, vector: NDArray[np.float32] | None) -> float:
        """Return how similar a message is to small talk or off-topic requests: evidence against a passage."""
        name = self.exact(text)
        if name is not None and name not in (ABOUT, CONSULAR):
            return 1.0
        if vector is None or self.vectors is None or not self._against.any():
            return 0.0
        return float((self.vectors[self._against] @ vector).max())

    def about(self, text: str, vector: NDArray[np.float32] | None) -> float:
        """Return how similar a message is to the examples of questions about the texts themselves."""
        if self.exact(text) == ABOUT:
            return 1.0
        if vector is None or self.vectors is None or not self._about.any():
            return 0.0
        return float((self.vectors[self._about] @ vector).max())
