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

import logging
from itertools import accumulate
from pathlib import Path

from index.cache import fingerprint, load_json, save_json
from index.content import (
    ContentError,
    Corpus,
    decode_text,
    file_digest,
    layout_body,
    load_corpus,
    parse_header,
)
from index.file_store import ById, BySection, FileStore, FileSummary, LazySequence, SectionAt

logger = logging.getLogger(__name__)

SUMMARY_NAME = "corpus.json"
# Line breaks that str.splitlines knows and bytes.splitlines does not: a file with one is parsed whole.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def load_corpus_cached(directory: Path, cache_dir: Path | None) -> Corpus:
    """Return the folder's corpus, its passages parsed lazily when the folder has no translations.

    The first time, each file is read through once to check it and to find its
    sections (no passage records are kept); that summary is kept in the cache under
    a digest of the files, so later starts read the files' headers only.
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
    key = fingerprint("corpus-summary-v2", str(directory), [p.name for p in files], digests)
    path = cache_dir / SUMMARY_NAME
    summaries = _stored(load_json(path, key), [len(raw) for raw in raws])
    if summaries is None:
        summaries = _summarise(files, raws, digests)
        if summaries is None:
            del raws  # parsed again from the files: not held through the whole build
            return load_corpus(directory)
        try:
            save_json(path, key, [_to_json(summary) for summary in summaries])
        except OSError as exc:
            logger.warning("cannot write the index cache %s: %s", path, exc)
    store = FileStore(files, raws, digests, summaries)
    return Corpus(
        store.documents,
        LazySequence(store.passage_starts, store.passage, store.passages),
        LazySequence(store.section_starts, store.section, store.sections),
        ById(store),
        BySection(store),
        sizes=tuple(summary.passages for summary in summaries),
        texts_of=store.texts,
    )


def _summarise(files: list[Path], raws: list[bytes], digests: list[str]) -> list[FileSummary] | None:
    """Check each file as load_corpus would and find its sections; None if one is a translation.

    Translations are aligned with their originals passage by passage: such a folder is loaded in full.
    """
    seen: dict[str, tuple[Path, int]] = {}
    summaries = []
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
        sections = layout_body(path, lines, body_start)
        summaries.append(
            FileSummary(sum(n for _, n in sections), len(sections), _layout(path, raw, text, lines, sections))
        )
    return summaries


def _layout(
    path: Path, raw: bytes, text: str, lines: list[str], sections: list[tuple[int, int]]
) -> tuple[SectionAt, ...] | None:
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
        out.append(SectionAt(offset, line, passages))
    return tuple(out)


def _to_json(summary: FileSummary) -> list[object]:
    layout = [[at.offset, at.line, at.passages] for at in summary.layout] if summary.layout else None
    return [summary.passages, summary.sections, layout]


def _stored(stored: object, sizes: list[int]) -> list[FileSummary] | None:
    """Return each file's summary from the stored JSON, or None if any part of it does not fit the files."""
    if not isinstance(stored, list) or len(stored) != len(sizes):
        return None
    summaries = []
    for item, size in zip(stored, sizes, strict=True):
        if not (isinstance(item, list) and len(item) == 3 and _positive(item[:2])):
            return None
        passages, sections, raw_layout = item
        layout = None
        if raw_layout is not None:
            if not (isinstance(raw_layout, list) and len(raw_layout) == sections):
                return None
            if not all(isinstance(at, list) and len(at) == 3 and _positive(at) for at in raw_layout):
                return None
            layout = tuple(SectionAt(*at) for at in raw_layout)
            offsets = [at.offset for at in layout]
            if sum(at.passages for at in layout) != passages or offsets != sorted(set(offsets)):
                return None
            if offsets[-1] >= size:
                return None
        summaries.append(FileSummary(passages, sections, layout))
    return summaries


def _positive(values: list[object]) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)
