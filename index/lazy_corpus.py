"""Answer from a content folder without holding its passages: a document is parsed when one is read.

Passage records of 100,000 passages take about 90 MB and half a second to make. A
first start reads each file once to check it (the loader's one-line errors) and
count its passages and sections, and keeps the counts in the cache under a digest
of all the files' names and bytes; a later start with the same files reads their
bytes and metadata headers only. The index needs no more: its analysis parses each
document in a worker process (index.units), and a document's passages are parsed
here the first time one of them is read (a hit, a section, a button). Content with
translations is loaded in full: its passages are aligned with their originals.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TypeVar, overload

from index.cache import fingerprint, load_json, save_json
from index.content import (
    ContentError,
    Corpus,
    Document,
    DocumentTexts,
    Passage,
    Section,
    count_body,
    decode_text,
    file_digest,
    load_corpus,
    parse_body,
    parse_header,
    read_body,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

SUMMARY_NAME = "corpus.json"
# The metadata header ends at its second '---' line.
_HEADER_END = re.compile(rb"^[ \t]*---[ \t]*\r?$", re.MULTILINE)


def load_corpus_cached(directory: Path, cache_dir: Path | None) -> Corpus:
    """Return the folder's corpus, its passages parsed lazily when the folder has no translations.

    The first time, each file is read through once to check it and count its passages
    and sections (no passage records are kept); the counts are kept in the cache
    under a digest of the files, so later starts read the files' headers only.
    """
    if cache_dir is None or not directory.is_dir():
        return load_corpus(directory)
    files = sorted(p for p in directory.glob("*.md") if p.is_file())
    if not files:
        return load_corpus(directory)  # which says the folder has no content files
    try:
        raws = [path.read_bytes() for path in files]
    except OSError:
        return load_corpus(directory)  # which names the file it cannot read
    digests = [file_digest(raw) for raw in raws]
    key = fingerprint("corpus-summary-v1", str(directory), [p.name for p in files], digests)
    path = cache_dir / SUMMARY_NAME
    counts = _counts(load_json(path, key), len(files))
    if counts is None:
        counts = _count_files(files, raws, digests)
        if counts is None:
            del raws  # parsed again from the files: not held through the whole build
            return load_corpus(directory)
        try:
            save_json(path, key, [list(c) for c in counts])
        except OSError as exc:
            logger.warning("cannot write the index cache %s: %s", path, exc)
    store = _Store(files, raws, digests, counts)
    return Corpus(
        store.documents,
        _Lazy(store.passage_starts, store.passages),
        _Lazy(store.section_starts, store.sections),
        _ById(store),
        _BySection(store),
        sizes=tuple(passages for passages, _ in counts),
        texts_of=store.texts,
    )


def _count_files(files: list[Path], raws: list[bytes], digests: list[str]) -> list[tuple[int, int]] | None:
    """Check each file as load_corpus would, counting its passages and sections; None if one is a translation.

    Translations are aligned with their originals passage by passage: such a folder is loaded in full.
    """
    seen: dict[str, tuple[Path, int]] = {}
    counts = []
    for path, raw, digest in zip(files, raws, digests, strict=True):
        text = decode_text(path, raw)
        lines = text.splitlines()
        document, id_line, body_start = parse_header(path, lines, digest)
        if document.translation_of:
            return None
        if document.id in seen:
            first, first_line = seen[document.id]
            raise ContentError(
                path, id_line, f"duplicate document id {document.id!r} (also in {first}:{first_line})"
            )
        seen[document.id] = (path, id_line)
        counts.append(count_body(path, lines, body_start))
    return counts


def _counts(stored: object, files: int) -> list[tuple[int, int]] | None:
    """Return (passages, sections) per file from the stored summary, or None if it does not fit."""
    if not isinstance(stored, list) or len(stored) != files:
        return None
    counts = []
    for item in stored:
        if not (
            isinstance(item, list) and len(item) == 2 and all(isinstance(n, int) and n > 0 for n in item)
        ):
            return None
        counts.append((item[0], item[1]))
    return counts


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    raw: bytes
    document: Document
    passages: int
    sections: int


class _Store:
    """The files of a content folder, each parsed on first need."""

    def __init__(
        self, paths: list[Path], raws: list[bytes], digests: list[str], counts: list[tuple[int, int]]
    ) -> None:
        self.files: list[_File] = []
        for path, raw, digest, (passages, sections) in zip(paths, raws, digests, counts, strict=True):
            ends = [m.end() for m in islice(_HEADER_END.finditer(raw), 2)]
            head = decode_text(path, raw[: ends[-1]] if len(ends) == 2 else raw)
            document, _, _ = parse_header(path, head.splitlines(), digest)
            self.files.append(_File(path, raw, document, passages, sections))
        self.documents = tuple(f.document for f in self.files)
        self.number = {d.id: k for k, d in enumerate(self.documents)}
        self.passage_starts = _starts([f.passages for f in self.files])
        self.section_starts = _starts([f.sections for f in self.files])
        self._parsed: dict[int, tuple[Section, ...]] = {}
        self._passages: dict[int, list[Passage]] = {}
        # Questions are answered in worker threads: a file is parsed once, its records shared.
        self.lock = threading.RLock()

    def sections(self, k: int) -> tuple[Section, ...]:
        """Return the sections of file k, parsing it the first time."""
        parsed = self._parsed.get(k)
        if parsed is not None:
            return parsed
        with self.lock:
            return self._parse(k)

    def _parse(self, k: int) -> tuple[Section, ...]:
        parsed = self._parsed.get(k)
        if parsed is None:
            file = self.files[k]
            text = decode_text(file.path, file.raw)
            lines = text.splitlines()
            _, _, body_start = parse_header(file.path, lines, file.document.digest)
            parsed = tuple(parse_body(file.path, lines, body_start, file.document))
            if len(parsed) != file.sections or sum(len(s.passages) for s in parsed) != file.passages:
                raise RuntimeError(f"{file.path} parsed unlike the cached summary of the same bytes")
            self._parsed[k] = parsed
        return parsed

    def texts(self, k: int) -> DocumentTexts:
        """Return the texts and sections of file k's passages without making records (for analysis)."""
        file = self.files[k]
        text = decode_text(file.path, file.raw)
        lines = text.splitlines()
        _, _, body_start = parse_header(file.path, lines, file.document.digest)
        texts: list[str] = []
        sections: list[int] = []
        titles: list[str] = []
        for kind, _, value in read_body(file.path, lines, body_start):
            if kind == "section":
                titles.append(value)
            else:
                texts.append(value)
                sections.append(len(titles) - 1)
        if len(set(zip(sections, texts, strict=True))) != len(texts) or len(titles) != file.sections:
            self._parse(k)  # which names the duplicate passage, or says the file is not what was counted
        if len(texts) != file.passages:
            raise RuntimeError(f"{file.path} parsed unlike the cached summary of the same bytes")
        return DocumentTexts(texts, sections, titles)

    def passages(self, k: int) -> list[Passage]:
        """Return the passages of file k in reading order."""
        own = self._passages.get(k)
        if own is None:
            with self.lock:
                own = self._passages[k] = [p for section in self._parse(k) for p in section.passages]
        return own

    def parsed(self) -> list[int]:
        """Return the numbers of the files parsed so far."""
        return list(self._parsed)


def _starts(sizes: list[int]) -> list[int]:
    starts = [0]
    for size in sizes:
        starts.append(starts[-1] + size)
    return starts


class _Lazy(Sequence[T]):
    """Items of every file in reading order, `starts[k]` being file k's first; reading one parses its file."""

    def __init__(self, starts: list[int], of_file: Callable[[int], Sequence[T]]) -> None:
        self._starts = starts
        self._of_file = of_file

    def __len__(self) -> int:
        return self._starts[-1]

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[T]: ...
    def __getitem__(self, i: int | slice) -> T | Sequence[T]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            k = bisect.bisect_right(self._starts, start) - 1
            if step == 1 and start < stop <= self._starts[k + 1]:  # within one file: one lookup
                return self._of_file(k)[start - self._starts[k] : stop - self._starts[k]]
            return [self[j] for j in range(start, stop, step)]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("index out of range")
        k = bisect.bisect_right(self._starts, i) - 1
        return self._of_file(k)[i - self._starts[k]]

    def __iter__(self) -> Iterator[T]:
        for k in range(len(self._starts) - 1):
            yield from self._of_file(k)


class _ById(Mapping[str, Passage]):
    """Passages by id: first among the files parsed so far (an answer's own passages), then all."""

    def __init__(self, store: _Store) -> None:
        self._store = store
        self._ids: dict[str, Passage] = {}
        self._indexed: set[int] = set()

    def _index(self, files: Iterator[int] | list[int]) -> None:
        for k in files:
            if k not in self._indexed:
                self._ids.update((p.id, p) for p in self._store.passages(k))
                self._indexed.add(k)

    def __getitem__(self, key: str) -> Passage:
        with self._store.lock:
            self._index(list(self._store.parsed()))
            if key not in self._ids:
                # A button on a message from before this start: every file is parsed, once.
                self._index(iter(range(len(self._store.files))))
            return self._ids[key]

    def __iter__(self) -> Iterator[str]:
        with self._store.lock:
            self._index(iter(range(len(self._store.files))))
            return iter(list(self._ids))

    def __len__(self) -> int:
        return self._store.passage_starts[-1]  # ids are unique: a full load checked them


class _BySection(Mapping[tuple[str, int], Section]):
    """Sections by (document id, number): a lookup parses that document only."""

    def __init__(self, store: _Store) -> None:
        self._store = store

    def __getitem__(self, key: tuple[str, int]) -> Section:
        document_id, number = key
        k = self._store.number[document_id]
        sections = self._store.sections(k)
        if not 0 <= number < len(sections):
            raise KeyError(key)
        return sections[number]

    def __iter__(self) -> Iterator[tuple[str, int]]:
        for k, file in enumerate(self._store.files):
            for number in range(file.sections):
                yield (self._store.documents[k].id, number)

    def __len__(self) -> int:
        return self._store.section_starts[-1]
