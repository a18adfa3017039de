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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from numpy.typing import NDArray

from index.analysis.text import Analyzer
from index.content.loader import Corpus, Passage
from index.lexical.cache import fingerprint, load_stamped, pack_strings, present, save_stamped, unpack_strings

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
    # The factory is the dict's own method: a cycle, which would keep the dict until the cyclic
    # collector runs, and `python -m bot` starts with it off (as do the workers it forks).
    vocabulary.default_factory = None
    return Analysed(
        tuple(vocabulary),
        np.frombuffer(ids, dtype=np.int32) if ids else np.zeros(0, dtype=np.int32),
        np.frombuffer(lengths, dtype=np.int64) if lengths else np.zeros(0, dtype=np.int64),
    )


@dataclass(frozen=True, slots=True)
class Part:
    """One document's passages analysed, with the section each passage is in."""

    analysed: Analysed
    sections: NDArray[np.int32]
    """Per passage, the number of its section among `titles`."""
    titles: tuple[str, ...]
    """The titles of the document's sections, in order of first passage."""


def analyse_run(passages: Sequence[Passage], analyzer: Analyzer) -> Part:
    """Analyse the passages of one document and number their sections."""
    numbers: dict[int, int] = {}
    titles: list[str] = []
    sections = np.empty(len(passages), dtype=np.int32)
    for i, passage in enumerate(passages):
        number = numbers.get(passage.section_no)
        if number is None:
            number = numbers[passage.section_no] = len(titles)
            titles.append(passage.section)
        sections[i] = number
    return Part(analyse((p.text for p in passages), analyzer), sections, tuple(titles))


@dataclass(frozen=True, slots=True)
class Unit:
    """A run of consecutive passages of one document, and the key of its analysis."""

    key: str
    start: int
    end: int
    document: int
    """The document's number in the corpus."""


def units_of(corpus: Corpus, signature: str) -> list[Unit]:
    """Split the corpus into runs of one document each, keyed by their content and the analyzer.

    A file's digest fixes its passages, so a lazily parsed corpus is keyed without parsing.
    """
    units = []
    number = {id(d): k for k, d in enumerate(corpus.documents)}
    for document, start, end in corpus.runs():
        # A corpus made in memory has no digests: its documents are known by their passages' ids.
        content = document.digest or fingerprint(*(p.id for p in corpus.passages[start:end]))
        key = fingerprint("unit-v2", signature, document.id, content, end - start)
        units.append(Unit(key, start, end, number.get(id(document), -1)))
    return units


@dataclass(frozen=True, slots=True)
class Analysis:
    """The analysis of a whole corpus, as one pass over its passages gives it."""

    analysed: Analysed
    section_of: NDArray[np.int32]
    """Passage number -> section number in `titles`."""
    titles: tuple[str, ...]
    fresh: int
    """How many passages were analysed anew (not read from the cache)."""


def analyse_unit(corpus: Corpus, unit: Unit, analyzer: Analyzer) -> Part:
    """Analyse one run; a lazily parsed corpus gives its texts without making passage records."""
    if corpus.texts_of is not None and unit.document >= 0:
        read = corpus.texts_of(unit.document)
        sections = np.asarray(read.sections, dtype=np.int32)
        return Part(analyse(read.texts, analyzer), sections, tuple(read.titles))
    return analyse_run(corpus.passages[unit.start : unit.end], analyzer)


# What forked workers analyse: set in each worker by the pool's initializer (not pickled, inherited).
_inherited: list[tuple[Corpus, Analyzer]] = []


def _inherit(corpus: Corpus, analyzer: Analyzer) -> None:
    _inherited[:] = [(corpus, analyzer)]


def _analyse_in_worker(unit: Unit) -> Part:
    corpus, analyzer = _inherited[0]
    # A lazily parsed corpus reads the document here, in the worker: the caller never holds its passages.
    return analyse_unit(corpus, unit, analyzer)


def analyse_corpus(
    corpus: Corpus, analyzer: Analyzer, cache_dir: Path | None = None, workers: int = 1
) -> Analysis:
    """Return the analysis of all passages, as one pass would give it, document by document."""
    units = units_of(corpus, analyzer.signature)
    folder = cache_dir / UNITS_FOLDER if cache_dir is not None else None
    kept = {u.key for u in units if folder is not None and present(folder / f"{u.key}.npz")}
    todo = [unit for unit in units if unit.key not in kept]
    fresh = sum(unit.end - unit.start for unit in todo)
    started = time.monotonic()
    merger = _Merger()
    with ExitStack() as stack:
        if workers > 1 and len(todo) > 1 and fresh >= PARALLEL_FROM and _can_fork():
            import multiprocessing  # here: only a large build needs it
            from concurrent.futures import ProcessPoolExecutor

            pool = stack.enter_context(
                ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=multiprocessing.get_context("fork"),
                    initializer=_inherit,
                    initargs=(corpus, analyzer),
                )
            )
            results: Iterator[Part] = pool.map(_analyse_in_worker, todo)
        else:
            results = (analyse_unit(corpus, unit, analyzer) for unit in todo)
        # One document's analysis at a time in memory: merged, written, let go.
        for unit in units:
            size = unit.end - unit.start
            part = _load(folder, unit.key, size) if folder is not None and unit.key in kept else None
            if part is None:
                # A kept analysis that proved unusable is made again here.
                part = analyse_unit(corpus, unit, analyzer) if unit.key in kept else next(results)
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
    analysed, section_of, titles = merger.result()
    return Analysis(analysed, section_of, titles, fresh)


class _Merger:
    """Join analyses in order: words numbered by first occurrence across them all, sections after sections."""

    def __init__(self) -> None:
        self.vocabulary: defaultdict[str, int] = defaultdict()
        self.vocabulary.default_factory = self.vocabulary.__len__
        self.ids: list[NDArray[np.int32]] = []
        self.lengths: list[NDArray[np.int64]] = []
        self.sections: list[NDArray[np.int32]] = []
        self.titles: list[str] = []

    def add(self, part: Part) -> None:
        """Append one document's analysis, renumbering its words and sections."""
        analysed = part.analysed
        mapping = np.fromiter(
            map(self.vocabulary.__getitem__, analysed.words), dtype=np.int32, count=len(analysed.words)
        )
        self.ids.append(mapping[analysed.ids] if len(analysed.ids) else analysed.ids)
        self.lengths.append(analysed.lengths)
        self.sections.append(part.sections + np.int32(len(self.titles)))
        self.titles.extend(part.titles)

    def result(self) -> tuple[Analysed, NDArray[np.int32], tuple[str, ...]]:
        """Return everything added: one analysis, each passage's section, the section titles."""
        analysed = Analysed(
            tuple(self.vocabulary),
            np.concatenate(self.ids) if self.ids else np.zeros(0, dtype=np.int32),
            np.concatenate(self.lengths) if self.lengths else np.zeros(0, dtype=np.int64),
        )
        section_of = np.concatenate(self.sections) if self.sections else np.zeros(0, dtype=np.int32)
        self.vocabulary.default_factory = None  # no cycle left behind (see analyse)
        return analysed, section_of, tuple(self.titles)


def _can_fork() -> bool:
    """Return whether worker processes can be forked safely: on a platform with fork, no other thread."""
    # A fork copies other threads' locks held (a reload in the running bot): analyse in-process then.
    # Spawning instead would re-run the caller's main module, which a library cannot require to be guarded.
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _load(folder: Path, key: str, passages: int) -> Part | None:
    arrays = load_stamped(folder / f"{key}.npz", key)
    if arrays is None:
        return None
    try:
        words = unpack_strings(arrays["words_chars"], arrays["words_ends"])
        titles = unpack_strings(arrays["titles_chars"], arrays["titles_ends"])
        ids, lengths, sections = arrays["ids"], arrays["lengths"], arrays["sections"]
        if ids.dtype != np.int32 or lengths.dtype != np.int64 or int(lengths.sum()) != len(ids):
            raise ValueError("word numbers do not fit the passage lengths")
        if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= len(words)):
            raise ValueError("a word number out of range")
        if sections.dtype != np.int32 or sections.shape != (passages,) or len(lengths) != passages:
            raise ValueError("another number of passages")
        if passages and (int(sections.min()) < 0 or int(sections.max()) >= len(titles)):
            raise ValueError("a section number out of range")
        analysed = Analysed(words, cast(NDArray[np.int32], ids), cast(NDArray[np.int64], lengths))
        return Part(analysed, cast(NDArray[np.int32], sections), titles)
    except _UNFIT as exc:
        logger.warning("index cache %s is unusable (%s); analysing again", folder / f"{key}.npz", exc)
        return None


def _save(folder: Path, key: str, part: Part) -> None:
    arrays = {f"words_{name}": array for name, array in pack_strings(part.analysed.words).items()}
    arrays.update({f"titles_{name}": array for name, array in pack_strings(part.titles).items()})
    arrays.update(ids=part.analysed.ids, lengths=part.analysed.lengths, sections=part.sections)
    try:
        save_stamped(folder / f"{key}.npz", key, arrays)
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
