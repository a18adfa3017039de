"""Keep text vectors between starts: encode a text once, look it up by a hash of its text.

A vector file maps a 16-byte hash of each text to its vector, stamped with the
embedder's signature and a checksum. Files are read from the content folder
(shipped, read-only) and the cache folder (written); a text found in neither is
encoded. A stale, truncated or damaged file is ignored and rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from index.cache import save_arrays
from index.semantic import Embedder, Vectors

FORMAT_VERSION = 1
BUNDLED_NAME = "embeddings.npz"
"""A vector file beside the content files, shipped with them."""
CACHE_NAME = "vectors.npz"
BATCH = 16

log = logging.getLogger(__name__)

_UNREADABLE = (OSError, EOFError, ValueError, KeyError, TypeError, MemoryError, zipfile.BadZipFile)


def text_key(text: str, query: bool = False) -> bytes:
    """Return the 16-byte hash a text's vector is stored under (questions apart from passages)."""
    marked = ("query: " if query else "passage: ") + text
    return hashlib.blake2b(marked.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def load_vectors(path: Path, signature: str, dim: int) -> dict[bytes, NDArray[np.float32]]:
    """Return the vectors of a file made by this embedder, or {} if missing, stale or damaged."""
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as stored:
            if stored["format"].tolist() != [FORMAT_VERSION]:
                log.info("vector file %s has another format version; ignoring it", path)
                return {}
            if _read_text(stored["signature"]) != signature:
                log.info("vector file %s was made by another model; ignoring it", path)
                return {}
            keys, vectors = stored["keys"], stored["vectors"]
            if _read_text(stored["checksum"]) != _checksum(keys, vectors):
                raise ValueError("checksum mismatch")
        if keys.dtype != np.uint8 or keys.ndim != 2 or keys.shape[1] != 16:
            raise ValueError("keys malformed")
        if vectors.dtype != np.float32 or vectors.shape != (len(keys), dim):
            raise ValueError("vectors malformed")
        if not np.all(np.isfinite(vectors)):
            raise ValueError("vectors not finite")
        return {bytes(key): vector for key, vector in zip(keys, vectors, strict=True)}
    except _UNREADABLE as exc:
        log.warning("vector file %s is unusable (%s); ignoring it", path, exc)
        return {}


def save_vectors(path: Path, signature: str, keys: Sequence[bytes], vectors: Vectors) -> None:
    """Write keys and vectors atomically, readable only by this user."""
    key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    arrays: dict[str, NDArray[np.generic]] = {
        "format": np.array([FORMAT_VERSION], dtype=np.int64),
        "signature": _text(signature),
        "keys": key_array,
        "vectors": vectors,
        "checksum": _text(_checksum(key_array, vectors)),
    }
    save_arrays(path, arrays)


def embed_texts(
    texts: Sequence[str],
    embedder: Embedder,
    sources: Iterable[Path] = (),
    cache: Path | None = None,
    queries: bool = False,
) -> tuple[Vectors, int]:
    """Return a vector per text and how many had to be encoded.

    With `queries` the texts are embedded as questions. Vectors come from the
    read-only `sources` and the `cache` file first; the rest are encoded, and
    then the cache is rewritten to hold exactly these texts.
    """
    known: dict[bytes, NDArray[np.float32]] = {}
    for path in sources:
        known.update(load_vectors(path, embedder.signature, embedder.dim))
    cached = load_vectors(cache, embedder.signature, embedder.dim) if cache is not None else {}
    known.update(cached)
    keys = [text_key(text, queries) for text in texts]
    missing = sorted({i for i, key in enumerate(keys) if key not in known})
    if missing:
        _encode(texts, keys, missing, embedder.embed_queries if queries else embedder.embed_passages, known)
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        out[i] = known[key]
    if cache is not None and missing:
        try:
            unique = list(dict.fromkeys(keys))
            save_vectors(cache, embedder.signature, unique, np.stack([known[k] for k in unique]))
        except OSError as exc:
            # A cache that cannot be written costs encoding again next start, nothing more.
            log.warning("cannot write the vector cache %s: %s", cache, exc)
    return out, len(missing)


def _encode(
    texts: Sequence[str],
    keys: Sequence[bytes],
    missing: Sequence[int],
    encode: Callable[[Sequence[str]], Vectors],
    known: dict[bytes, NDArray[np.float32]],
) -> None:
    started = time.monotonic()
    todo = list(dict.fromkeys(missing))
    logged = started
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        vectors = encode([texts[i] for i in batch])
        for i, vector in zip(batch, vectors, strict=True):
            known[keys[i]] = vector
        now = time.monotonic()
        if now - logged > 10:
            done = start + len(batch)
            rate = done / (now - started)
            log.info(
                "encoding: %d of %d texts, %.1f/s, %.0f s left",
                done,
                len(todo),
                rate,
                (len(todo) - done) / rate,
            )
            logged = now
    log.info("encoded %d texts in %.1f s", len(todo), time.monotonic() - started)


def _checksum(keys: NDArray[np.uint8], vectors: NDArray[np.float32]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for array in (np.ascontiguousarray(keys), np.ascontiguousarray(vectors)):
        digest.update(f"{array.dtype.str}:{array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def _text(value: str) -> NDArray[np.uint8]:
    return np.frombuffer(value.encode("utf-8"), dtype=np.uint8)


def _read_text(array: NDArray[np.generic]) -> str:
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ValueError("a text field is not a byte array")
    return array.tobytes().decode("utf-8")
