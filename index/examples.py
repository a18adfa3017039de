"""The training questions as evidence: how near a question is to ones the best passage answers.

`python -m index.fit` writes `data/examples.json` from the training questions (each
with the id of the passage that answers it, or none when the texts do not) and
their vectors, `data/examples.npz`. A question very like training questions that a
passage answers is likely answered by it: the ranking moves that passage up
(index.hybrid) and the decision weighs the similarity. One very like an
out-of-scope training question likely is not answered. The README gives the
cross-validated and held-out figures. An example whose passage is no longer in the
texts simply matches nothing.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from index.analysis import ENGLISH_STOP_WORDS
from index.content import Corpus
from index.language import guess_language, question_script, to_cyrillic

if TYPE_CHECKING:
    from index.semantic import Embedder

DATA_DIR = Path(__file__).resolve().parent / "data"
EXAMPLES_FILE = DATA_DIR / "examples.json"
VECTORS_FILE = DATA_DIR / "examples.npz"
FAR = 0.5
"""The similarity reported when no out-of-scope example is left: farther than any real pair."""


def embeddable(question: str) -> str:
    """Return the text embedded for a question: Russian or Ukrainian in Latin letters read in Cyrillic."""
    language = guess_language(question, ENGLISH_STOP_WORDS)
    if question_script(question) == "latin" and language in ("uk", "ru"):
        return to_cyrillic(question, language)
    return question


class ExampleIndex:
    """Training questions with the passage that answers each (None: out of scope), embedded."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
        examples: Path | None = EXAMPLES_FILE,
    ) -> None:
        """Read the examples (none with `examples=None`) and, with a model, their vectors."""
        data = json.loads(examples.read_text(encoding="utf-8")) if examples and examples.is_file() else []
        self.texts: list[str] = [str(item["q"]) for item in data]
        self.passages: list[str | None] = [item["passage"] for item in data]
        self.vectors: NDArray[np.float32] | None = None
        if embedder is not None and self.texts:
            from index.vectors import embed_texts  # only with a model

            cache = cache_dir / "example-vectors.npz" if cache_dir is not None else None
            texts = [embeddable(text) for text in self.texts]
            self.vectors, _ = embed_texts(texts, embedder, [VECTORS_FILE], cache, queries=True)
        self._out = np.array([p is None for p in self.passages], dtype=bool)
        # Each in-scope example's passage as a number into _ids (-1: out of scope), for by_passage.
        self._ids = sorted({p for p in self.passages if p is not None})
        number = {p: g for g, p in enumerate(self._ids)}
        self._group = np.array([number.get(p, -1) if p else -1 for p in self.passages], dtype=np.intp)

    def without_passages(self) -> ExampleIndex:
        """Return these examples as for texts none of them is about: only the out-of-scope ones count."""
        other = copy.copy(self)
        other._group = np.full(len(self.passages), -1, dtype=np.intp)
        return other

    @classmethod
    def for_model(cls, embedder: Embedder | None, cache_dir: Path | None = None) -> ExampleIndex:
        """Return the shipped examples with a model; without one (BM25 only) none, and nothing read."""
        return cls(embedder, cache_dir) if embedder is not None else cls(None, examples=None)

    def similarities(self, vector: NDArray[np.float32] | None) -> NDArray[np.float32] | None:
        """Return the cosine of a question vector with every example, or None without vectors."""
        if vector is None or self.vectors is None:
            return None
        similarities: NDArray[np.float32] = self.vectors @ vector
        return similarities

    def by_passage(
        self, similarities: NDArray[np.float32], allowed: NDArray[np.bool_] | None = None
    ) -> dict[str, float]:
        """Return, per passage id that allowed examples are answered by, the nearest such example."""
        mask = self._group >= 0
        if allowed is not None:
            mask &= allowed
        best = np.full(len(self._ids), -np.inf, dtype=np.float32)
        np.maximum.at(best, self._group[mask], similarities[mask])
        return {self._ids[g]: float(best[g]) for g in np.flatnonzero(np.isfinite(best)).tolist()}

    def nearest_out(
        self, similarities: NDArray[np.float32], allowed: NDArray[np.bool_] | None = None
    ) -> float:
        """Return the similarity of the nearest allowed out-of-scope example (FAR if none)."""
        out = self._out & allowed if allowed is not None else self._out
        return float(similarities[out].max()) if out.any() else FAR

    def evidence(
        self, similarities: NDArray[np.float32], passage_id: str, allowed: NDArray[np.bool_] | None = None
    ) -> tuple[float | None, float]:
        """Return the nearest example the passage answers (None if none) and the nearest out-of-scope one.

        `allowed` leaves examples out (the fitting script leaves out the question itself).
        """
        return self.by_passage(similarities, allowed).get(passage_id), self.nearest_out(similarities, allowed)


def write_examples(
    questions: Iterable[tuple[str, str | None]], corpus: Corpus, path: Path = EXAMPLES_FILE
) -> int:
    """Write training questions with the id of the passage holding each one's expected phrase (null: none).

    A question whose phrase no passage holds is left out: its answer is not in these texts.
    """
    items = []
    for question, expect in questions:
        passage = None
        if expect:
            wanted = _norm(expect)
            passage = next((p.id for p in corpus.passages if wanted in _norm(p.text)), None)
            if passage is None:
                continue
        items.append({"q": question, "passage": passage})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(items, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return len(items)


def write_example_vectors(embedder: Embedder, path: Path = VECTORS_FILE) -> None:
    """Write the vectors of the shipped examples, shipped beside them."""
    from index.vectors import save_vectors, text_key

    index = ExampleIndex(embedder)
    assert index.vectors is not None
    keys = [text_key(embeddable(t), query=True) for t in index.texts]
    unique = dict(zip(keys, index.vectors, strict=True))
    save_vectors(path, embedder.signature, list(unique), np.stack(list(unique.values())))
    path.chmod(0o644)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()
