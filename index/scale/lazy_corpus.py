"""Answer from a content folder without holding its passages: a passage is parsed when one is read.

Passage records of 100,000 passages take about 90 MB and half a second to make. A
first start reads each file once to check it (the loader's one-line errors) and to
find its sections; that summary is kept in the cache with each file's digest and
its size, times and inode. A later start reads the files' bytes (a passage is parsed
from them when it is read) but hashes only the files whose size, times or inode
changed, or that changed too close to when they were recorded to be told apart by
their times (git's "racy" rule). The index needs no more: its analysis parses each
document in a worker process (index.scale.units). A translation is read the same way: its
passage k stands beside its original's passage k, which the first start checked.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import cast

import numpy as np
from numpy.typing import NDArray

from index.content.loader import (
    ContentError,
    Corpus,
    content_files,
    decode_text,
    file_digest,
    layout_body,
    load_corpus,
    parse_header,
)
from index.lexical.cache import fingerprint, load_stamped, pack_strings, save_stamped, unpack_strings
from index.scale.file_store import (
    ById,
    BySection,
    FileStore,
    FileSummary,
    LazySequence,
    Translations,
)

logger = logging.getLogger(__name__)

SUMMARY_NAME = "corpus-summary.npz"
# Line breaks that str.splitlines knows and bytes.splitlines does not: a file with one is parsed whole.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
RACY_NS = 2_000_000_000
"""A file changed less than this before its record was taken is hashed again, whatever its times say."""
_UNFIT = (ValueError, KeyError, TypeError, IndexError)


def load_corpus_cached(directory: Path, cache_dir: Path | None) -> Corpus:
    """Return the folder's corpus, its passages (and their translations) parsed when first read."""
    if cache_dir is None:
        return load_corpus(directory)
    files = content_files(directory)
    # v5: summaries of folders with translations too (v4 code would read them as originals).
    key = fingerprint("corpus-summary-v5", str(directory.resolve()), [p.name for p in files])
    path = cache_dir / SUMMARY_NAME
    record = _Record.load(path, key, len(files))
    taken = time.time_ns()
    try:
        stats = [_stat(p) for p in files]
        raws = [p.read_bytes() for p in files]
        after = [_stat(p) for p in files]
    except OSError:
        return load_corpus(directory)  # which names the file it cannot read
    digests = [
        record.digests[i]
        if record is not None
        and stats[i] == after[i] == record.stat(i)
        and record.settled(i)
        and len(raws[i]) == stats[i][0]
        else file_digest(raws[i])
        for i in range(len(files))
    ]
    if record is not None and digests == list(record.digests):
        summaries = record.summaries
        # Touched but not changed, or hashed because recorded too soon after a change: record them
        # again, so that the next start can trust their times.
        if stats != [record.stat(i) for i in range(len(files))] or not all(
            map(record.settled, range(len(files)))
        ):
            _save(path, key, _Record(tuple(digests), np.array(stats, dtype=np.int64), taken, summaries))
    else:
        found = _summarise(files, raws, digests)
        if found is None:
            del raws  # parsed again from the files: not held through the whole build
            return load_corpus(directory)
        summaries = tuple(found)
        _save(path, key, _Record(tuple(digests), np.array(stats, dtype=np.int64), taken, summaries))
    whole = FileStore(files, raws, digests, list(summaries))
    if not any(d.translation_of for d in whole.documents):
        return _lazy(whole)
    parts: tuple[list[int], list[int]] = ([], [])
    for k, document in enumerate(whole.documents):
        parts[bool(document.translation_of)].append(k)
    originals, translated = (
        FileStore(
            [files[k] for k in part],
            [raws[k] for k in part],
            [digests[k] for k in part],
            [summaries[k] for k in part],
        )
        for part in parts
    )
    return _lazy(originals, translated)


def _lazy(store: FileStore, translated: FileStore | None = None) -> Corpus:
    """Return the corpus of a store's files, with the translations another store holds."""
    by_id = ById(store)
    translations = Translations(store, by_id, translated) if translated is not None else None
    return Corpus(
        store.documents,
        LazySequence(store.passage_starts, store.passage, store.passages),
        LazySequence(store.section_starts, store.section, store.sections),
        by_id,
        BySection(store),
        translations if translations is not None else {},
        on_demand=translations,
        sizes=tuple(f.summary.passages for f in store.files),
        texts_of=store.texts,
    )


def _stat(path: Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@dataclass(frozen=True)
class _Record:
    """What the cache knows of the folder's files: digests, sizes and times, and summaries."""

    digests: tuple[str, ...]
    stats: NDArray[np.int64]
    """Per file: size, modification and change times (ns), inode."""
    taken: int
    """When the stats were taken (ns since the epoch)."""
    summaries: tuple[FileSummary, ...]

    def stat(self, i: int) -> tuple[int, int, int, int]:
        size, mtime, ctime, inode = self.stats[i].tolist()
        return (size, mtime, ctime, inode)

    def settled(self, i: int) -> bool:
        """Return whether file i had not changed for a while when it was recorded."""
        return max(int(self.stats[i, 1]), int(self.stats[i, 2])) < self.taken - RACY_NS

    @classmethod
    def load(cls, path: Path, key: str, files: int) -> _Record | None:
        """Return the record kept for these file names, or None if missing, stale or not fitting."""
        arrays = load_stamped(path, key)
        if arrays is None:
            return None
        try:
            record = cls._from_arrays(arrays, files)
        except _UNFIT as exc:
            logger.warning("index cache %s is unusable (%s); reading the files again", path, exc)
            return None
        return record

    @classmethod
    def _from_arrays(cls, arrays: dict[str, NDArray[np.generic]], files: int) -> _Record:
        digests = unpack_strings(arrays["digests_chars"], arrays["digests_ends"])
        stats, counts, taken = arrays["stats"], arrays["counts"], arrays["taken"]
        has_layout, layout = arrays["has_layout"], arrays["layout"]
        if len(digests) != files or stats.dtype != np.int64 or stats.shape != (files, 4):
            raise ValueError("another number of files")
        if counts.dtype != np.int64 or counts.shape != (files, 2) or int(counts.min()) < 1:
            raise ValueError("passage and section counts malformed")
        if has_layout.dtype != np.bool_ or has_layout.shape != (files,) or taken.shape != (1,):
            raise ValueError("layout flags malformed")
        sections = counts[:, 1][has_layout]
        if (
            layout.dtype != np.int64
            or layout.shape != (int(sections.sum()), 3)
            or int(layout.min(initial=1)) < 0
        ):
            raise ValueError("layout malformed")
        summaries = []
        start = 0
        for i in range(files):
            passages, n = counts[i].tolist()
            at = None
            if has_layout[i]:
                rows = layout[start : start + n]
                start += n
                offsets = rows[:, 0]
                if int(rows[:, 2].sum()) != passages or int(rows[:, 1:].min()) < 1:
                    raise ValueError("section sizes do not add up")
                if bool(np.any(np.diff(offsets) <= 0)) or int(offsets[-1]) >= int(stats[i, 0]):
                    raise ValueError("section offsets out of order")
                at = cast(NDArray[np.int64], rows)
            summaries.append(FileSummary(passages, n, at))
        return cls(digests, cast(NDArray[np.int64], stats), int(taken[0]), tuple(summaries))

    def to_arrays(self) -> dict[str, NDArray[np.generic]]:
        """Return the arrays the record is kept as."""
        rows = [s.layout for s in self.summaries if s.layout is not None]
        return {
            **{f"digests_{k}": v for k, v in pack_strings(self.digests).items()},
            "stats": self.stats,
            "taken": np.array([self.taken], dtype=np.int64),
            "counts": np.array([[s.passages, s.sections] for s in self.summaries], dtype=np.int64),
            "has_layout": np.array([s.layout is not None for s in self.summaries], dtype=np.bool_),
            "layout": np.concatenate(rows) if rows else np.zeros((0, 3), dtype=np.int64),
        }


def _save(path: Path, key: str, record: _Record) -> None:
    try:
        save_stamped(path, key, record.to_arrays())
    except OSError as exc:
        logger.warning("cannot write the index cache %s: %s", path, exc)


def _summarise(files: list[Path], raws: list[bytes], digests: list[str]) -> list[FileSummary] | None:
    """Check each file as load_corpus would and find its sections; None to load the folder in full.

    A translation must name an original in another language, be its only one in that
    language, and have as many sections and paragraphs in each; where one does not,
    load_corpus says which line is wrong.
    """
    seen: dict[str, tuple[Path, int]] = {}
    summaries = []
    shapes: dict[str, tuple[str, list[int]]] = {}  # original id -> its language, paragraphs per section
    translations: list[tuple[str, str, list[int]]] = []
    for path, raw, digest in zip(files, raws, digests, strict=True):
        text = decode_text(path, raw)
        lines = text.splitlines()
        document, id_line, body_start = parse_header(path, lines, digest)
        sections = layout_body(path, lines, body_start, document.id)  # load_corpus reads the body first
        shape = [n for _, n in sections]
        if document.translation_of:
            translations.append((document.translation_of, document.language, shape))
        else:
            shapes[document.id] = (document.language, shape)
        if document.id in seen:
            first, first_line = seen[document.id]
            raise ContentError(
                path, id_line, f"duplicate document id {document.id!r} (also in {first}:{first_line})"
            )
        seen[document.id] = (path, id_line)
        summaries.append(
            FileSummary(sum(n for _, n in sections), len(sections), _layout(path, raw, text, lines, sections))
        )
    pairs = [(of, language) for of, language, _ in translations]
    if len(set(pairs)) != len(pairs) or any(
        of not in shapes or shapes[of][0] == language or shapes[of][1] != shape
        for of, language, shape in translations
    ):
        return None
    return summaries


def _layout(
    path: Path, raw: bytes, text: str, lines: list[str], sections: list[tuple[int, int]]
) -> NDArray[np.int64] | None:
    """Return the byte offset of each section's heading, checked, or None where lines cannot be found so."""
    if any(mark in text for mark in _OTHER_BREAKS):
        return None
    ends = list(accumulate(map(len, raw.splitlines(keepends=True))))
    if len(ends) != len(lines):
        return None
    starts = [0, *ends]
    out = []
    for line, passages in sections:
        offset = starts[line - 1]
        if decode_text(path, raw[offset : starts[line]]).strip() != lines[line - 1].strip():
            return None
        out.append((offset, line, passages))
    return np.array(out, dtype=np.int64).reshape(len(out), 3)
