"""The files of a content folder held as bytes; a passage's record is made when it is first read.

A file's summary (index.scale.lazy_corpus) gives where each section starts in its bytes,
so reading one passage reads its section's text alone (about ten paragraphs, kept)
and makes that passage's record only, not its whole file's. Files whose lines a
byte offset cannot name (rare line separators) are parsed whole. The records are
those parsing the whole file gives (tests/test_lazy_corpus.py).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import TypeVar, overload

import numpy as np
from numpy.typing import NDArray

from index.content.loader import (
    Document,
    DocumentTexts,
    Passage,
    Section,
    decode_text,
    parse_body,
    parse_header,
    passage_id,
    read_body,
)

T = TypeVar("T")
# The metadata header ends at its second '---' line.
_HEADER_END = re.compile(rb"^[ \t]*---[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class FileSummary:
    """What a start needs to know of a file without parsing it."""

    passages: int
    sections: int
    layout: NDArray[np.int64] | None
    """Per section: the byte offset and line number of its heading, and its passages; or None: the
    file is parsed whole."""


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    raw: bytes
    document: Document
    summary: FileSummary


class FileStore:
    """The files of a content folder, each passage's record made on first need."""

    def __init__(
        self, paths: list[Path], raws: list[bytes], digests: list[str], summaries: list[FileSummary]
    ) -> None:
        self.files: list[_File] = []
        for path, raw, digest, summary in zip(paths, raws, digests, summaries, strict=True):
            ends = [m.end() for m in islice(_HEADER_END.finditer(raw), 2)]
            head = decode_text(path, raw[: ends[-1]] if len(ends) == 2 else raw)
            document, _, _ = parse_header(path, head.splitlines(), digest)
            self.files.append(_File(path, raw, document, summary))
        self.documents = tuple(f.document for f in self.files)
        self.number = {d.id: k for k, d in enumerate(self.documents)}
        self.passage_starts = _starts([f.summary.passages for f in self.files])
        self.section_starts = _starts([f.summary.sections for f in self.files])
        self._sections: dict[tuple[int, int], Section] = {}
        self._made: dict[tuple[int, int], Passage] = {}
        self._texts: dict[tuple[int, int], tuple[str, list[tuple[int, str]]]] = {}
        self._passages: dict[int, list[Passage]] = {}
        self._firsts: dict[int, list[int]] = {}
        # Questions are answered in worker threads: a section is parsed once, its records shared.
        self.lock = threading.RLock()

    def section(self, k: int, number: int) -> Section:
        """Return section `number` of file k, parsing it (or the file) the first time."""
        found = self._sections.get((k, number))
        if found is not None:
            return found
        with self.lock:
            if (k, number) not in self._sections:
                file = self.files[k]
                if file.summary.layout is None:
                    self._parse_whole(k)
                else:
                    first, count = self.firsts(k)[number], int(file.summary.layout[number, 2])
                    passages = tuple(self.passage(k, first + j) for j in range(count))
                    title = passages[0].section
                    self._sections[(k, number)] = Section(file.document, title, number, passages)
            return self._sections[(k, number)]

    def passage(self, k: int, i: int) -> Passage:
        """Return passage i of file k, reading its section's text only and making its record alone."""
        found = self._made.get((k, i))
        if found is not None:
            return found
        file = self.files[k]
        if file.summary.layout is None:
            return self.passages(k)[i]
        with self.lock:
            if (k, i) not in self._made:
                firsts = self.firsts(k)
                number = bisect.bisect_right(firsts, i) - 1
                title, paragraphs = self._section_text(k, number)
                line, text = paragraphs[i - firsts[number]]
                self._made[(k, i)] = Passage(
                    id=passage_id(file.document.id, title, text),
                    document=file.document,
                    section=title,
                    text=text,
                    section_no=number,
                    position=i - firsts[number],
                    line=line,
                )
            return self._made[(k, i)]

    def _section_text(self, k: int, number: int) -> tuple[str, list[tuple[int, str]]]:
        """Return a section's title and its paragraphs' lines and texts, read from its bytes alone."""
        key = (k, number)
        read = self._texts.get(key)
        if read is None:
            file = self.files[k]
            layout = file.summary.layout
            assert layout is not None
            offset, line, passages = layout[number].tolist()
            end = int(layout[number + 1, 0]) if number + 1 < file.summary.sections else None
            lines = decode_text(file.path, file.raw[offset:end]).splitlines()
            events = list(read_body(file.path, lines, 0, line))
            if len(events) != passages + 1 or events[0][0] != "section":
                raise RuntimeError(f"{file.path}: section {number + 1} read unlike its summary")
            read = self._texts[key] = (events[0][2], [(line, text) for _, line, text in events[1:]])
        return read

    def number_in_file(self, k: int, passage: Passage) -> int:
        """Return where a passage of file k stands among the file's passages, from 0."""
        if self.files[k].summary.layout is not None:
            return self.firsts(k)[passage.section_no] + passage.position
        before = sum(len(self.section(k, n).passages) for n in range(passage.section_no))
        return before + passage.position

    def firsts(self, k: int) -> list[int]:
        """Return the number of each section's first passage in file k (a file with a layout)."""
        found = self._firsts.get(k)
        if found is None:
            layout = self.files[k].summary.layout
            assert layout is not None
            found = self._firsts[k] = _starts(layout[:, 2].tolist())[:-1]
        return found

    def _parse_whole(self, k: int) -> None:
        file = self.files[k]
        lines = decode_text(file.path, file.raw).splitlines()
        _, _, body_start = parse_header(file.path, lines, file.document.digest)
        parsed = parse_body(file.path, lines, body_start, file.document)
        if (
            len(parsed) != file.summary.sections
            or sum(len(s.passages) for s in parsed) != file.summary.passages
        ):
            raise RuntimeError(f"{file.path} parsed unlike the cached summary of the same bytes")
        first = 0
        for section in parsed:
            self._sections[(k, section.number)] = section
            for passage in section.passages:
                self._made[(k, first + passage.position)] = passage
            first += len(section.passages)

    def sections(self, k: int) -> list[Section]:
        """Return every section of file k."""
        return [self.section(k, number) for number in range(self.files[k].summary.sections)]

    def passages(self, k: int) -> list[Passage]:
        """Return the passages of file k in reading order."""
        own = self._passages.get(k)
        if own is None:
            with self.lock:
                own = self._passages[k] = [p for section in self.sections(k) for p in section.passages]
        return own

    def texts(self, k: int) -> DocumentTexts:
        """Return the texts and sections of file k's passages without making records (for analysis)."""
        file = self.files[k]
        lines = decode_text(file.path, file.raw).splitlines()
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
        if len(texts) != file.summary.passages or len(titles) != file.summary.sections:
            raise RuntimeError(f"{file.path} parsed unlike the cached summary of the same bytes")
        return DocumentTexts(texts, sections, titles)

    def made(self) -> list[Passage]:
        """Return the passage records made so far."""
        with self.lock:
            return list(self._made.values())

    def parsed(self) -> list[int]:
        """Return the numbers of the files with a passage or section read so far."""
        with self.lock:
            return sorted({k for k, _ in self._made} | {k for k, _ in self._sections})


def _starts(sizes: list[int]) -> list[int]:
    starts = [0]
    for size in sizes:
        starts.append(starts[-1] + size)
    return starts


class LazySequence(Sequence[T]):
    """Items of every file in reading order, `starts[k]` being file k's first; reading one parses little."""

    def __init__(
        self, starts: list[int], item: Callable[[int, int], T], of_file: Callable[[int], Sequence[T]]
    ) -> None:
        self._starts = starts
        self._item = item
        self._of_file = of_file

    def __len__(self) -> int:
        return self._starts[-1]

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[T]: ...
    def __getitem__(self, i: int | slice) -> T | Sequence[T]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("index out of range")
        k = bisect.bisect_right(self._starts, i) - 1
        return self._item(k, i - self._starts[k])

    def __iter__(self) -> Iterator[T]:
        for k in range(len(self._starts) - 1):
            yield from self._of_file(k)


class ById(Mapping[str, Passage]):
    """Passages by id: first among the sections parsed so far (an answer's own passages), then all."""

    def __init__(self, store: FileStore) -> None:
        self._store = store
        self._ids: dict[str, Passage] = {}
        self._seen = 0
        self._all = False

    def __getitem__(self, key: str) -> Passage:
        with self._store.lock:
            made = self._store.made()
            if len(made) != self._seen:
                self._ids.update((p.id, p) for p in made)
                self._seen = len(made)
            if key not in self._ids and not self._all:
                # A button on a message from before this start: every file is parsed, once.
                self._ids.update(
                    (p.id, p) for k in range(len(self._store.files)) for p in self._store.passages(k)
                )
                self._seen, self._all = len(self._store.made()), True
            return self._ids[key]

    def __iter__(self) -> Iterator[str]:
        with self._store.lock:
            return iter([p.id for k in range(len(self._store.files)) for p in self._store.passages(k)])

    def __len__(self) -> int:
        return self._store.passage_starts[-1]  # ids are unique: the first build's analysis checked them


class BySection(Mapping[tuple[str, int], Section]):
    """Sections by (document id, number): a lookup parses that section only."""

    def __init__(self, store: FileStore) -> None:
        self._store = store

    def __getitem__(self, key: tuple[str, int]) -> Section:
        document_id, number = key
        k = self._store.number[document_id]
        if not 0 <= number < self._store.files[k].summary.sections:
            raise KeyError(key)
        return self._store.section(k, number)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        for k, file in enumerate(self._store.files):
            for number in range(file.summary.sections):
                yield (self._store.documents[k].id, number)

    def __len__(self) -> int:
        return self._store.section_starts[-1]


class Translations(Mapping[str, tuple[Passage, ...]]):
    """Original passage id -> its translations, each made when first asked for.

    A translation's passage k stands beside its original's passage k (the first build
    checked that they align); its id is the original's with the language added.
    """

    def __init__(self, originals: FileStore, by_id: Mapping[str, Passage], translated: FileStore) -> None:
        self._originals = originals
        self._by_id = by_id
        self._translated = translated
        self._of: dict[int, list[int]] = {}
        for t, document in enumerate(translated.documents):
            self._of.setdefault(originals.number[document.translation_of], []).append(t)
        self.documents = frozenset(originals.documents[k].id for k in self._of)
        self.digests = tuple((d.id, d.digest) for d in translated.documents)
        self._made: dict[str, tuple[Passage, ...]] = {}

    def __getitem__(self, key: str) -> tuple[Passage, ...]:
        found = self.of(self._by_id[key])
        if not found:
            raise KeyError(key)
        return found

    def of(self, passage: Passage) -> tuple[Passage, ...]:
        """Return the translations of an original passage (none: an empty tuple)."""
        found = self._made.get(passage.id)
        if found is not None:
            return found
        place = self._place(passage)
        if place is None:
            # A passage from before a reload: this corpus's passage with its id, if there is one.
            own = self._by_id.get(passage.id)
            place = self._place(own) if own is not None else None
        if place is None or place[0] not in self._of:
            return ()
        k, i = place
        with self._translated.lock:
            made = self._made.get(passage.id)
            if made is None:
                made = self._made[passage.id] = tuple(
                    replace(p, id=f"{passage.id}-{p.document.language}")
                    for p in (self._translated.passage(t, i) for t in self._of[k])
                )
        return made

    def _place(self, passage: Passage) -> tuple[int, int] | None:
        """Return the file and number in it of this passage, if it is this corpus's own."""
        k = self._originals.number.get(passage.document.id)
        if k is None:
            return None
        try:
            i = self._originals.number_in_file(k, passage)
        except (IndexError, KeyError):
            return None
        inside = 0 <= i < self._originals.files[k].summary.passages
        return (k, i) if inside and self._originals.passage(k, i).id == passage.id else None

    def __iter__(self) -> Iterator[str]:
        for k in sorted(self._of):
            yield from (p.id for p in self._originals.passages(k))

    def __len__(self) -> int:
        return sum(self._originals.files[k].summary.passages for k in self._of)
