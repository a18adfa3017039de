"""Keep text vectors between starts: encode a text once, look it up by a hash of its text.

A vector file maps a 16-byte hash of each text to its vector, stamped with the
embedder's signature and a checksum. Files are read from the content folder
(shipped, read-only) and the cache folder (written); a text found in neither is
encoded. A stale, truncated or damaged file is ignored and rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from index.lexical.cache import UNREADABLE, present, save_arrays
from index.semantic.model import Embedder, Vectors

FORMAT_VERSION = 1
BUNDLED_NAME = "embeddings.npz"
"""A vector file beside the content files, shipped with them."""
CACHE_NAME = "vectors.npz"
BATCH = 64
"""Texts per call: enough for the numpy path to group them by length (bulk.py)."""
CHECKPOINT_EVERY = 30.0
"""Seconds between saves of the vectors encoded so far: an interrupted build resumes from there."""

log = logging.getLogger(__name__)


def text_key(text: str, query: bool = False) -> bytes:
    """Return the 16-byte hash a text's vector is stored under (questions apart from passages)."""
    marked = ("query: " if query else "passage: ") + text
    return hashlib.blake2b(marked.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def load_vectors(path: Path, signature: str, dim: int) -> dict[bytes, NDArray[np.float32]]:
    """Return the vectors of a file made by this embedder, or {} if missing, stale or damaged."""
    if not present(path):
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
    except UNREADABLE as exc:
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


Progress = Callable[[int, int], None]
"""Called as encoding goes on with (texts encoded, texts to encode)."""
PARALLEL_FROM = 64
"""Texts to encode from which extra model handles pay for loading (about 0.1 s each)."""


def embed_texts(
    texts: Sequence[str],
    embedder: Embedder,
    sources: Iterable[Path] = (),
    cache: Path | None = None,
    queries: bool = False,
    *,
    workers: int = 1,
    progress: Progress | None = None,
) -> tuple[Vectors, int]:
    """Return a vector per text and how many had to be encoded.

    With `queries` the texts are embedded as questions. Vectors come from the
    read-only `sources` and the `cache` file first; the rest are encoded (by
    `workers` handles on the model in as many threads), and then the cache is
    rewritten to hold exactly these texts.
    """
    known: dict[bytes, NDArray[np.float32]] = {}
    for path in sources:
        known.update(load_vectors(path, embedder.signature, embedder.dim))
    cached = load_vectors(cache, embedder.signature, embedder.dim) if cache is not None else {}
    known.update(cached)
    keys = [text_key(text, queries) for text in texts]
    # Shortest first: a batch then holds texts of like length, and pads little.
    missing = sorted({i for i, key in enumerate(keys) if key not in known}, key=lambda i: (len(texts[i]), i))

    def save(what: str) -> None:
        if cache is None:
            return
        try:
            unique = [k for k in dict.fromkeys(keys) if k in known]
            save_vectors(cache, embedder.signature, unique, np.stack([known[k] for k in unique]))
        except OSError as exc:
            # A cache that cannot be written costs encoding again next start, nothing more.
            log.warning("cannot write the vector cache %s (%s): %s", cache, what, exc)

    if missing:
        todo = [texts[i] for i in missing]
        handles = [embedder]
        if workers > 1 and len(todo) >= PARALLEL_FROM:
            handles += [embedder.replica() for _ in range(workers - 1)]

        def checkpoint(done: int, vectors: Vectors) -> None:
            for i, vector in zip(missing[:done], vectors, strict=True):
                known[keys[i]] = vector
            save("progress")

        try:
            encoded = encode_all(todo, handles, queries, progress, checkpoint if cache is not None else None)
        finally:
            embedder.release()
        for i, vector in zip(missing, encoded, strict=True):
            known[keys[i]] = vector
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        out[i] = known[key]
    if missing:
        save("all")
    return out, len(missing)


def encode_all(
    texts: Sequence[str],
    handles: Sequence[Embedder],
    queries: bool = False,
    progress: Progress | None = None,
    checkpoint: Callable[[int, Vectors], None] | None = None,
) -> Vectors:
    """Encode texts in batches, one thread per model handle; log (and report) progress as it goes.

    `checkpoint(done, vectors)` gets the first `done` texts' vectors every CHECKPOINT_EVERY
    seconds, so that a build stopped half-way keeps what it encoded.
    """
    batches = [texts[start : start + BATCH] for start in range(0, len(texts), BATCH)]
    free: queue.SimpleQueue[Embedder] = queue.SimpleQueue()
    for handle in handles:
        free.put(handle)

    def encode(batch: Sequence[str]) -> Vectors:
        handle = free.get()
        try:
            return handle.embed_queries(batch) if queries else handle.embed_passages(batch)
        finally:
            free.put(handle)

    started = logged = saved = time.monotonic()
    out: list[Vectors] = []
    done = 0
    # One BLAS thread per handle when several run: two handles on two cores beat one on two.
    limit = threadpool_limits(1, user_api="blas") if len(handles) > 1 else contextlib.nullcontext()
    with limit, ThreadPoolExecutor(max_workers=len(handles), thread_name_prefix="encode") as pool:
        for vectors in pool.map(encode, batches):
            out.append(vectors)
            done += len(vectors)
            if progress is not None:
                progress(done, len(texts))
            now = time.monotonic()
            if now - logged > 10:
                rate = done / (now - started)
                log.info(
                    "encoding: %d of %d texts, %.1f/s, %.0f s left",
                    done,
                    len(texts),
                    rate,
                    (len(texts) - done) / rate,
                )
                logged = now
            if checkpoint is not None and now - saved > CHECKPOINT_EVERY and done < len(texts):
                checkpoint(done, np.concatenate(out))
                saved = time.monotonic()
    log.info(
        "encoded %d texts in %.1f s with %d model handle%s",
        len(texts),
        time.monotonic() - started,
        len(handles),
        "s" if len(handles) != 1 else "",
    )
    return np.concatenate(out) if out else np.zeros((0, handles[0].dim), dtype=np.float32)


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
