"""The records content is loaded into: documents, sections, passages, the corpus, and content errors."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ContentError(Exception):
    """A content file that cannot be used, with the file and line to fix."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = str(path)
        self.line = line
        self.message = message

    def __reduce__(self) -> tuple[type[ContentError], tuple[str, int, str]]:
        """Pickle by the constructor's arguments (raised in a worker process, reported by the caller)."""
        return (type(self), (self.path, self.line, self.message))


@dataclass(frozen=True, slots=True)
class Document:
    """A published text and its metadata."""

    id: str
    title: str
    speaker: str
    date: str
    language: str
    role: str = ""
    published: str = ""
    kind: str = "interview"
    path: str = ""
    examples: tuple[str, ...] = ()
    """Example questions this document answers, offered to new users."""
    translation_of: str = ""
    """The id of the document this one translates, paragraph for paragraph; empty for an original."""
    note: str = ""
    """A note shown with the document, e.g. that a translation is unofficial."""
    digest: str = ""
    """A hash of the file's bytes (and of how files are read): what the index caches are keyed by."""

    def source_line(self) -> str:
        """Return the one-line citation: title, speaker and role, date, publication."""
        who = f"{self.speaker}, {self.role}" if self.role else self.speaker
        parts = [f"«{self.title}»", who, self.date]
        if self.published:
            parts.append(self.published)
        return " — ".join(parts)


@dataclass(frozen=True, slots=True)
class Passage:
    """One paragraph of a document, under one section title."""

    id: str
    document: Document
    section: str
    text: str
    section_no: int
    """Position of the section in its document, from 0."""
    position: int
    """Position of the passage in its section, from 0."""
    line: int


@dataclass(frozen=True, slots=True)
class Section:
    """A section title and its passages, in reading order."""

    document: Document
    title: str
    number: int
    passages: tuple[Passage, ...]

    @property
    def id(self) -> str:
        """Return the id of the section: the id of its first passage."""
        return self.passages[0].id


@dataclass(frozen=True, slots=True)
class DocumentTexts:
    """What analysis needs of one document: its passages' texts and each one's section."""

    texts: list[str]
    sections: list[int]
    """Per passage, the number of its section in the document (an index into `titles`)."""
    titles: list[str]


class TranslationsOnDemand(Protocol):
    """Translations found by where a passage stands, made when first asked for."""

    documents: frozenset[str]
    """Ids of the documents that have a translation."""
    digests: tuple[tuple[str, str], ...]
    """Each translation file's document id and digest of its bytes: changes when any translation does."""

    def of(self, passage: Passage) -> tuple[Passage, ...]:
        """Return the translations of an original passage (none: an empty tuple)."""
        ...


@dataclass(frozen=True)
class Corpus:
    """All documents of a content folder, with passages in reading order."""

    documents: tuple[Document, ...]
    passages: Sequence[Passage]
    """A tuple, or after a cached start a sequence that parses a document when one of its passages is read."""
    sections: Sequence[Section]
    _by_id: Mapping[str, Passage] = field(repr=False, compare=False, default_factory=dict)
    _sections: Mapping[tuple[str, int], Section] = field(repr=False, compare=False, default_factory=dict)
    translations: Mapping[str, tuple[Passage, ...]] = field(repr=False, compare=False, default_factory=dict)
    """Original passage id -> its translations, one per translated document."""
    on_demand: TranslationsOnDemand | None = field(repr=False, compare=False, default=None)
    """`translations` again, when it makes a translation only when asked for (a lazily parsed corpus)."""
    sizes: tuple[int, ...] | None = field(repr=False, compare=False, default=None)
    """Passages of each document, in order, when known without reading them (a lazily parsed corpus)."""
    texts_of: Callable[[int], DocumentTexts] | None = field(repr=False, compare=False, default=None)
    """Document number -> its passages' texts and sections, read without making passage records."""

    def runs(self) -> list[tuple[Document, int, int]]:
        """Return each run of consecutive passages of one document: the document, first and end number.

        A lazily parsed corpus answers from its sizes without parsing anything.
        """
        if self.sizes is not None:
            out, start = [], 0
            for document, size in zip(self.documents, self.sizes, strict=True):
                out.append((document, start, start + size))
                start += size
            return out
        runs: list[tuple[Document, int, int]] = []
        passages = self.passages
        start = 0
        for end in range(1, len(passages) + 1):
            if end == len(passages) or passages[end].document is not passages[start].document:
                runs.append((passages[start].document, start, end))
                start = end
        return runs

    def translated_runs(self) -> list[tuple[int, int]]:
        """Return the first and end passage numbers of each document that has a translation."""
        if not self.translations:
            return []
        if self.on_demand is not None:
            translated = self.on_demand.documents
        else:
            translated = frozenset(self._by_id[pid].document.id for pid in self.translations)
        return [(start, end) for document, start, end in self.runs() if document.id in translated]

    def translations_of(self, passage: Passage) -> tuple[Passage, ...]:
        """Return the translations of an original passage."""
        if not self.translations:
            return ()  # also for a copy made without them: dataclasses.replace(corpus, translations={})
        if self.on_demand is not None:
            return self.on_demand.of(passage)
        return self.translations.get(passage.id, ())

    @classmethod
    def from_documents(cls, parsed: Iterable[tuple[Document, list[Section]]]) -> Corpus:
        """Assemble a corpus, refusing passage ids that two passages share."""
        documents: list[Document] = []
        sections: list[Section] = []
        by_id: dict[str, Passage] = {}
        for document, doc_sections in parsed:
            documents.append(document)
            sections.extend(doc_sections)
            for section in doc_sections:
                for passage in section.passages:
                    other = by_id.get(passage.id)
                    if other is not None:
                        raise ContentError(
                            document.path,
                            passage.line,
                            f"duplicate passage id {passage.id} "
                            f"(same text as {other.document.path}:{other.line})",
                        )
                    by_id[passage.id] = passage
        by_key = {(s.document.id, s.number): s for s in sections}
        return cls(tuple(documents), tuple(by_id.values()), tuple(sections), by_id, by_key)

    def passage(self, passage_id: str) -> Passage | None:
        """Return the passage with this id, or None."""
        return self._by_id.get(passage_id)

    def neighbours(self, passage: Passage) -> tuple[Passage | None, Passage | None]:
        """Return the passages before and after this one in its section."""
        section = self.section_of(passage)
        before = section.passages[passage.position - 1] if passage.position > 0 else None
        after_pos = passage.position + 1
        after = section.passages[after_pos] if after_pos < len(section.passages) else None
        return before, after

    def section_of(self, passage: Passage) -> Section:
        """Return the section that holds this passage."""
        return self._sections[(passage.document.id, passage.section_no)]


def passage_id(document_id: str, section: str, text: str) -> str:
    """Return the stable id of a passage: a hash of where it is and what it says."""
    digest = hashlib.blake2b(
        "\x1f".join((document_id, section, text)).encode("utf-8"), digest_size=6
    ).hexdigest()
    return f"p{digest}"
