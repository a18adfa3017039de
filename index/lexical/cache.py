"""Persist a built FastBM25 so that a restart with unchanged content skips building it."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from index.content.loader import Corpus
from index.lexical.bm25 import BM25Params
from index.lexical.engine import FastBM25, Postings

FORMAT_VERSION = 4
"""Bump whenever the stored arrays or their meaning change."""
CACHE_NAME = "bm25-index.npz"

log = logging.getLogger(__name__)

# The arrays of a stored engine.
_DATA_KEYS = ("n_docs", "idf", "indptr", "docs", "weights", "term_chars", "term_ends")
# Reading a damaged or foreign .npz file can fail in any of these ways.
UNREADABLE = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,  # a member that is not an array
    MemoryError,
    RuntimeError,  # zipfile: a member marked encrypted
    NotImplementedError,  # zipfile: an unknown compression method
    zlib.error,
    zipfile.BadZipFile,
)


def fingerprint(*parts: object) -> str:
    """Return a digest of the parts' reprs; parts must have stable reprs (no sets)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(repr(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def content_fingerprint(corpus: Corpus, *settings: object) -> str:
    """Return a digest of the content and the settings that shape the index.

    Documents read from files carry a digest of their bytes: hashing those is
    all a start does. Otherwise every passage, in order, is hashed.
    """
    documents = corpus.documents or tuple(dict.fromkeys(p.document for p in corpus.passages))
    if documents and all(d.digest for d in documents):
        files = tuple((d.id, d.digest) for d in documents)
        return fingerprint("files", len(corpus.passages), files, *settings)
    digest = hashlib.blake2b(digest_size=16)
    for passage in corpus.passages:
        fields = (passage.document.id, passage.section, passage.text, passage.section_no, passage.position)
        digest.update(repr(fields).encode("utf-8", "surrogatepass"))
    return fingerprint(digest.hexdigest(), *settings)


def save(engine: FastBM25, path: Path, fingerprint: str) -> None:
    """Write the engine's postings to path atomically, stamped with the fingerprint and params."""
    arrays = _to_arrays(engine.postings)
    arrays["format"] = np.array([FORMAT_VERSION], dtype=np.int64)
    arrays["stamp"] = _text(_stamp(engine.params, fingerprint))
    save_arrays(path, arrays)


def present(path: Path) -> bool:
    """Return whether a cache file is there; in a folder that cannot be searched, it is not.

    Path.is_file raises where the folder's permissions forbid looking: a cache that cannot be
    read is rebuilt (its writes then fail with a warning), never a reason not to answer.
    """
    try:
        return path.is_file()
    except OSError:
        return False


def save_arrays(path: Path, arrays: dict[str, NDArray[np.generic]]) -> None:
    """Write arrays as an .npz file atomically (no pickle), readable by this user only.

    Each array is a zip member with its CRC-32, which reading checks: a damaged or
    truncated file fails to load and is rebuilt. The cache folder is the user's own
    (0600 files): damage, not forgery, is what it guards against.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)
        # Readers see the old file or the whole new one, never a partial write. No fsync: after
        # a power cut a file may be empty or stale, which its CRCs and stamp catch (a rebuild).
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def load(path: Path, params: BM25Params, fingerprint: str) -> FastBM25 | None:
    """Return the cached engine, or None if the file is missing, stale, damaged or inconsistent."""
    if not present(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            if stored["format"].tolist() != [FORMAT_VERSION]:
                log.info("BM25 index cache %s has another format version; rebuilding", path)
                return None
            if _read_text(stored["stamp"]) != _stamp(params, fingerprint):
                log.info("BM25 index cache %s is stale; rebuilding", path)
                return None
            arrays = {key: stored[key] for key in _DATA_KEYS}
        postings = _from_arrays(arrays)
        postings.validate()
        return FastBM25.from_postings(postings, params)
    except UNREADABLE as exc:
        log.warning("BM25 index cache %s is unusable (%s); rebuilding", path, exc)
        return None


def _stamp(params: BM25Params, fingerprint: str) -> str:
    return f"v{FORMAT_VERSION}:{params!r}:{fingerprint}"


def _text(value: str) -> NDArray[np.uint8]:
    return np.frombuffer(value.encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _read_text(array: NDArray[np.generic]) -> str:
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ValueError("a text field is not a byte array")
    return array.tobytes().decode("utf-8", "surrogatepass")


def _to_arrays(postings: Postings) -> dict[str, NDArray[np.generic]]:
    strings = pack_strings(postings.terms)
    return {
        "n_docs": np.array([postings.n_docs], dtype=np.int64),
        "idf": postings.idf,
        "indptr": postings.indptr,
        "docs": postings.docs,
        "weights": postings.weights,
        "term_chars": strings["chars"],
        "term_ends": strings["ends"],
    }


def _from_arrays(arrays: dict[str, NDArray[np.generic]]) -> Postings:
    n_docs = arrays["n_docs"]
    if n_docs.dtype != np.int64 or n_docs.shape != (1,):
        raise ValueError("n_docs malformed")
    return Postings(
        n_docs=int(n_docs[0]),
        terms=unpack_strings(arrays["term_chars"], arrays["term_ends"]),
        idf=arrays["idf"],  # type: ignore[arg-type]
        indptr=arrays["indptr"],  # type: ignore[arg-type]
        docs=arrays["docs"],  # type: ignore[arg-type]
        weights=arrays["weights"],  # type: ignore[arg-type]
    )


def save_stamped(path: Path, fingerprint: str, arrays: dict[str, NDArray[np.generic]]) -> None:
    """Write named arrays atomically, stamped with a fingerprint (each array with its zip CRC-32)."""
    stored = dict(arrays)
    stored["format"] = np.array([FORMAT_VERSION], dtype=np.int64)
    stored["stamp"] = _text(fingerprint)
    save_arrays(path, stored)


def load_stamped(path: Path, fingerprint: str) -> dict[str, NDArray[np.generic]] | None:
    """Return the arrays saved with this fingerprint, or None if missing, stale or damaged."""
    if not present(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            if stored["format"].tolist() != [FORMAT_VERSION] or _read_text(stored["stamp"]) != fingerprint:
                log.info("index cache %s is stale; rebuilding", path)
                return None
            arrays = {key: stored[key] for key in stored.files if key not in ("format", "stamp")}
        return arrays
    except UNREADABLE as exc:
        log.warning("index cache %s is unusable (%s); rebuilding", path, exc)
        return None


def pack_strings(strings: Sequence[str]) -> dict[str, NDArray[np.generic]]:
    """Return single-line strings as one UTF-8 text, a line each, and their end offsets: no pickled objects.

    Lines, because str.split unpacks 50,000 strings several times faster than slicing.
    """
    joined = "\n".join(strings)
    if joined.count("\n") != max(len(strings) - 1, 0):
        raise ValueError("a string with a line break cannot be packed")
    ends = np.cumsum(np.fromiter(map(len, strings), dtype=np.int64, count=len(strings)))
    return {"chars": _text(joined), "ends": ends}


def unpack_strings(chars: NDArray[np.generic], ends: NDArray[np.generic]) -> tuple[str, ...]:
    """Return the strings packed by pack_strings; raise ValueError if the arrays do not fit."""
    if ends.dtype != np.int64 or ends.ndim != 1:
        raise ValueError("string offsets malformed")
    joined = _read_text(chars)
    if not len(ends):
        if joined:
            raise ValueError("text without offsets")
        return ()
    strings = tuple(joined.split("\n"))
    if len(strings) != len(ends) or int(ends[-1]) != len(joined) - len(strings) + 1:
        raise ValueError("string offsets do not fit the text")
    return strings
