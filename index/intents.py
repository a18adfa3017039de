"""Recognise messages that are not questions about the texts: small talk and consular matters."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from index.semantic import Embedder

DATA_DIR = Path(__file__).resolve().parent / "data"
EXAMPLES_FILE = DATA_DIR / "intents.json"
VECTORS_FILE = DATA_DIR / "intents.npz"
SMALL_TALK = frozenset(
    {"greeting", "how_are_you", "thanks", "goodbye", "who_are_you", "capabilities", "acknowledgement"}
)
OFF_TOPIC = "off_topic"
_NOT_WORD = re.compile(r"[\W_]+")


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
        self.vectors: NDArray[np.float32] | None = None
        if embedder is not None:
            cache = cache_dir / "intent-vectors.npz" if cache_dir is not None else None
            from index.vectors import embed_texts  # only with a model: BM25-only starts skip it

            self.vectors, _ = embed_texts(self.texts, embedder, [VECTORS_FILE], cache, queries=True)

    def exact(self, text: str) -> str | None:
        """Return the intent of a message that is one of the examples, ignoring case and punctuation."""
        return self._exact.get(_plain(text))

    def nearest(self, text: str, vector: NDArray[np.float32] | None) -> Intent | None:
        """Return the nearest example's intent: an exact match scores 1, else the cosine."""
        name = self.exact(text)
        if name is not None:
            return Intent(name, 1.0)
        if vector is None or self.vectors is None or not len(self.texts):
            return None
        similarities = self.vectors @ vector
        best = int(np.argmax(similarities))
        return Intent(self.names[best], float(similarities[best]))
