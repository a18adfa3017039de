"""Keep a finished dense index in the cache folder, so that a start on unchanged content parses nothing.

Vectors are looked up by a hash of each text (vectors.py) when the index is built; that
means parsing every passage, splitting it into sentences and hashing each one. Once built,
the index is written here as it stands: its vectors as an .npy file mapped on start (pages
are read as questions touch them, and shared between processes), and the small arrays that
say which passage, language and title each vector belongs to, stamped with a fingerprint
of the content files and the model. Another fingerprint, a missing or damaged file: built
again, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from index.content.loader import Corpus
from index.lexical.cache import (
    UNREADABLE,
    content_fingerprint,
    load_stamped,
    pack_strings,
    save_stamped,
    unpack_strings,
)

__all__ = ["Snapshot", "load_snapshot", "save_snapshot", "snapshot_key"]

VERSION = 2
NAME = "dense.npz"
VECTORS_PREFIX = "dense-vectors-"

log = logging.getLogger(__name__)
F32 = NDArray[np.float32]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A dense index's arrays: unit vectors and what they belong to, and the section titles'."""

    vectors: F32
    owners: I64
    whole: NDArray[np.bool_]
    versions: I64
    originals: I64
    languages: int
    titles: tuple[str, ...]
    title_vectors: F32
    title_languages: I64
    title_of: I64


def snapshot_key(corpus: Corpus, signature: str, layout: str) -> str:
    """Return the fingerprint of the content and translation files, the model and the layout rules.

    `layout` names how passages are cut into embedded texts (the sentence rule), so that a
    release that cuts them otherwise never reads old vectors as new texts'. A lazily parsed
    corpus answers from the files' digests: nothing is parsed.
    """
    # No translations: also a copy made without them (dataclasses.replace(corpus, translations={})).
    translations: object = ()
    if corpus.translations and corpus.on_demand is not None:
        translations = corpus.on_demand.digests
    elif corpus.translations:
        digest = hashlib.blake2b(digest_size=16)
        for pid, versions in sorted(corpus.translations.items()):
            for version in versions:
                digest.update(
                    repr((pid, version.document.language, version.section, version.text)).encode(
                        "utf-8", "surrogatepass"
                    )
                )
        translations = digest.hexdigest()
    return content_fingerprint(corpus, "dense", translations, signature, layout, VERSION)


def load_snapshot(cache_dir: Path, key: str) -> Snapshot | None:
    """Return the kept index made from this content by this model, or None."""
    arrays = load_stamped(cache_dir / NAME, key)
    if arrays is None:
        return None
    try:
        vectors = np.load(cache_dir / _vectors_name(key), mmap_mode="r", allow_pickle=False)
        titles = unpack_strings(arrays["titles_chars"], arrays["titles_ends"])
        kept = Snapshot(
            vectors,
            arrays["owners"].astype(np.int64, copy=False),
            arrays["whole"].astype(bool, copy=False),
            arrays["versions"].astype(np.int64, copy=False),
            arrays["originals"].astype(np.int64, copy=False),
            int(arrays["languages"][0]),
            titles,
            arrays["title_vectors"].astype(np.float32, copy=False),
            arrays["title_languages"].astype(np.int64, copy=False),
            arrays["title_of"].astype(np.int64, copy=False),
        )
        _check(kept)
        return kept
    except (*UNREADABLE, KeyError, IndexError) as exc:
        log.warning("dense index in %s is unusable (%s); rebuilding", cache_dir, exc)
        return None


def _check(kept: Snapshot) -> None:
    """Raise ValueError unless the arrays fit together."""
    units = len(kept.owners)
    if kept.vectors.dtype != np.float32 or kept.vectors.ndim != 2 or len(kept.vectors) != units:
        raise ValueError("vectors do not match their units")
    if len(kept.whole) != units or len(kept.versions) != units:
        raise ValueError("unit arrays of different lengths")
    if kept.title_vectors.shape != (len(kept.titles), kept.vectors.shape[1]):
        raise ValueError("title vectors do not match the titles")
    if len(kept.title_of) != int(kept.whole.sum()) or len(kept.title_languages) != len(kept.titles):
        raise ValueError("title arrays do not match")
    if units and (np.any(np.diff(kept.owners) < 0) or kept.title_of.max(initial=-1) >= len(kept.titles)):
        raise ValueError("units out of order")
    # The vectors file has no checksum (reading it all would undo the mapping): a few rows must be
    # unit vectors, which a file left zeroed or cut short by a crash is not.
    sample = kept.vectors[np.unique(np.linspace(0, units - 1, num=min(units, 16)).astype(np.int64))]
    if units and not np.allclose(np.linalg.norm(sample, axis=1), 1.0, atol=1e-3):
        raise ValueError("vectors are not unit vectors")


def save_snapshot(cache_dir: Path, key: str, built: Snapshot) -> None:
    """Write the index beside the other cache files; a folder that cannot be written costs a rebuild."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        name = _vectors_name(key)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=cache_dir)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, np.ascontiguousarray(built.vectors, dtype=np.float32), allow_pickle=False)
                handle.flush()
                os.fsync(handle.fileno())  # on disk before its name is: a crash leaves the old file or none
            os.replace(tmp, cache_dir / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        arrays: dict[str, NDArray[np.generic]] = {
            "owners": built.owners,
            "whole": built.whole,
            "versions": built.versions,
            "originals": built.originals,
            "languages": np.array([built.languages], dtype=np.int64),
            **{f"titles_{part}": array for part, array in pack_strings(built.titles).items()},
            "title_vectors": np.ascontiguousarray(built.title_vectors, dtype=np.float32),
            "title_languages": built.title_languages,
            "title_of": built.title_of,
        }
        save_stamped(cache_dir / NAME, key, arrays)
        for old in cache_dir.glob(VECTORS_PREFIX + "*.npy"):
            if old.name != name:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot keep the dense index in %s: %s", cache_dir, exc)


def _vectors_name(key: str) -> str:
    return f"{VECTORS_PREFIX}{key[:32]}.npy"
