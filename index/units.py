"""Analyse a corpus document by document: across processes for a large build, kept per document.

Each document's passages are analysed on their own into a local vocabulary and
word numbers, then merged in corpus order into exactly what one pass over all
passages gives (a word's number is its first occurrence in the corpus). With a
cache folder each document's analysis is kept under a key of its content, so
after one file changes a rebuild analyses that file only.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from numpy.typing import NDArray

from index.analysis import Analyzer
from index.cache import fingerprint, load_stamped, pack_strings, save_stamped, unpack_strings
from index.content import Passage

logger = logging.getLogger(__name__)

UNITS_FOLDER = "analysis"
PARALLEL_FROM = 5_000
"""Passages to analyse from which forked worker processes pay for themselves (10,000: 0.75 s -> 0.59 s)."""
_UNFIT = (ValueError, KeyError, TypeError)


def default_workers() -> int:
    """Return how many processes (or model handles) a large build uses: one per CPU, at most 8."""
    return min(os.cpu_count() or 1, 8)


@dataclass(frozen=True, slots=True)
class Analysed:
    """Texts as numbers into a vocabulary: all texts' words one after another."""

    words: tuple[str, ...]
    """The vocabulary, in order of first occurrence."""
    ids: NDArray[np.int32]
    lengths: NDArray[np.int64]

    def counts(self) -> dict[str, int]:
        """Return how often each word occurs, in order of first occurrence."""
        counts = np.bincount(self.ids, minlength=len(self.words)).tolist()
        return dict(zip(self.words, counts, strict=True))


def analyse(texts: Iterable[str], analyzer: Analyzer) -> Analysed:
    """Run the analyzer once over every text (its bulk path) and number the words."""
    vocabulary: defaultdict[str, int] = defaultdict()
    vocabulary.default_factory = vocabulary.__len__
    ids = array("i")
    lengths = array("q")
    for text in texts:
        words = analyzer.words(text)
        ids.extend(map(vocabulary.__getitem__, words))
        lengths.append(len(words))
    return Analysed(
        tuple(vocabulary),
        np.frombuffer(ids, dtype=np.int32) if ids else np.zeros(0, dtype=np.int32),
        np.frombuffer(lengths, dtype=np.int64) if lengths else np.zeros(0, dtype=np.int64),
    )


@dataclass(frozen=True, slots=True)
class Unit:
    """A run of consecutive passages of one document."""

    key: str
    texts: tuple[str, ...]


def units_of(passages: Sequence[Passage], signature: str) -> list[Unit]:
    """Split passages into runs of one document each, keyed by their content and the analyzer."""
    units: list[Unit] = []
    start = 0
    for end in range(1, len(passages) + 1):
        if end == len(passages) or passages[end].document is not passages[start].document:
            run = passages[start:end]
            document = run[0].document
            # A file's digest fixes its texts; in-memory documents are known by their passages' ids.
            content = document.digest or fingerprint(*(p.id for p in run))
            key = fingerprint("unit-v1", signature, document.id, content, len(run), run[0].id, run[-1].id)
            units.append(Unit(key, tuple(p.text for p in run)))
            start = end
    return units


def analyse_passages(
    passages: Sequence[Passage], analyzer: Analyzer, cache_dir: Path | None = None, workers: int = 1
) -> tuple[Analysed, int]:
    """Return the analysis of all passages, as one pass would give it, and how many were analysed anew."""
    units = units_of(passages, analyzer.signature)
    folder = cache_dir / UNITS_FOLDER if cache_dir is not None else None
    kept = {u.key for u in units if folder is not None and (folder / f"{u.key}.npz").is_file()}
    todo = [unit for unit in units if unit.key not in kept]
    fresh = sum(len(unit.texts) for unit in todo)
    started = time.monotonic()
    merger = _Merger()
    with ExitStack() as stack:
        if workers > 1 and len(todo) > 1 and fresh >= PARALLEL_FROM and _can_fork():
            import multiprocessing  # here: only a large build needs it
            from concurrent.futures import ProcessPoolExecutor

            pool = stack.enter_context(
                ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
            )
            results = pool.map(analyse, [unit.texts for unit in todo], [analyzer] * len(todo))
        else:
            results = (analyse(unit.texts, analyzer) for unit in todo)
        # One document's analysis at a time in memory: merged, written, let go.
        for unit in units:
            part = _load(folder, unit.key) if folder is not None and unit.key in kept else None
            if part is None:
                part = next(results) if unit.key not in kept else analyse(unit.texts, analyzer)
                if folder is not None:
                    _save(folder, unit.key, part)
            merger.add(part)
    if fresh >= PARALLEL_FROM:
        logger.info(
            "analysed %d passages of %d documents in %.1f s (%d of %d documents kept from before)",
            fresh,
            len(todo),
            time.monotonic() - started,
            len(units) - len(todo),
            len(units),
        )
    if folder is not None:
        _forget(folder, {unit.key for unit in units})
    return merger.result(), fresh


class _Merger:
    """Join analyses in order: words numbered by first occurrence across them all."""

    def __init__(self) -> None:
        self.vocabulary: defaultdict[str, int] = defaultdict()
        self.vocabulary.default_factory = self.vocabulary.__len__
        self.ids: list[NDArray[np.int32]] = []
        self.lengths: list[NDArray[np.int64]] = []

    def add(self, part: Analysed) -> None:
        """Append one analysis, renumbering its words."""
        mapping = np.fromiter(
            map(self.vocabulary.__getitem__, part.words), dtype=np.int32, count=len(part.words)
        )
        self.ids.append(mapping[part.ids] if len(part.ids) else part.ids)
        self.lengths.append(part.lengths)

    def result(self) -> Analysed:
        """Return everything added, as one analysis."""
        return Analysed(
            tuple(self.vocabulary),
            np.concatenate(self.ids) if self.ids else np.zeros(0, dtype=np.int32),
            np.concatenate(self.lengths) if self.lengths else np.zeros(0, dtype=np.int64),
        )


def merge(parts: Sequence[Analysed]) -> Analysed:
    """Return the parts as one: words numbered by first occurrence across the parts, in order."""
    merger = _Merger()
    for part in parts:
        merger.add(part)
    return merger.result()


def _can_fork() -> bool:
    """Return whether worker processes can be forked safely: on a platform with fork, no other thread."""
    # A fork copies other threads' locks held (a reload in the running bot): analyse in-process then.
    # Spawning instead would re-run the caller's main module, which a library cannot require to be guarded.
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _load(folder: Path, key: str) -> Analysed | None:
    arrays = load_stamped(folder / f"{key}.npz", key)
    if arrays is None:
        return None
    try:
        words = unpack_strings(arrays["words_chars"], arrays["words_ends"])
        ids, lengths = arrays["ids"], arrays["lengths"]
        if ids.dtype != np.int32 or lengths.dtype != np.int64 or int(lengths.sum()) != len(ids):
            raise ValueError("word numbers do not fit the passage lengths")
        if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= len(words)):
            raise ValueError("a word number out of range")
        return Analysed(words, cast(NDArray[np.int32], ids), cast(NDArray[np.int64], lengths))
    except _UNFIT as exc:
        logger.warning("index cache %s is unusable (%s); analysing again", folder / f"{key}.npz", exc)
        return None


def _save(folder: Path, key: str, part: Analysed) -> None:
    arrays = {f"words_{name}": array for name, array in pack_strings(part.words).items()}
    try:
        save_stamped(folder / f"{key}.npz", key, {**arrays, "ids": part.ids, "lengths": part.lengths})
    except OSError as exc:
        logger.warning("cannot write the index cache in %s: %s", folder, exc)


def _forget(folder: Path, used: set[str]) -> None:
    """Remove the analyses of documents that are no longer in the content."""
    try:
        for path in folder.glob("*.npz"):
            if path.stem not in used:
                path.unlink()
    except OSError as exc:
        logger.warning("cannot tidy the index cache in %s: %s", folder, exc)
