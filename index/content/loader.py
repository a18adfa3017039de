"""Load the texts the bot answers from: one Markdown file per document.

Format (documented in README.md)::

    ---
    id: pavlenko-2024-05-18
    title: Despite the distance ...
    speaker: Serhii PAVLENKO
    role: Chargé d'Affaires a.i. of Ukraine to the Republic of Kazakhstan
    date: 2024-05-18
    published: Embassy of Ukraine in the Republic of Kazakhstan
    language: en
    ---

    ## A section title (the interviewer's question, or an FAQ question)

    A passage: one paragraph, lines joined until a blank line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from index.content.records import ContentError, Corpus, Document, DocumentTexts, Passage, Section, passage_id

__all__ = [
    "ContentError",
    "Corpus",
    "Document",
    "DocumentTexts",
    "Passage",
    "Section",
    "decode",
    "decode_text",
    "file_digest",
    "layout_body",
    "load_corpus",
    "parse_body",
    "parse_document",
    "parse_header",
    "passage_id",
    "read_body",
]

# Change when parsing would read the same bytes differently: index caches are keyed by it.
LOADER_VERSION = b"loader-v1"
REQUIRED_KEYS = ("id", "title", "speaker", "date", "language")
OPTIONAL_KEYS = ("role", "published", "kind", "examples", "translation_of", "note")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
# Removed with a regular expression: str.translate with a dict walks a long text in slow steps.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
_KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")


def content_files(directory: Path) -> list[Path]:
    """Return the folder's ``*.md`` files in name order; raise ContentError for one that cannot be read.

    A folder (or a pipe) named ``*.md``, and a hidden file, are not content and are passed over;
    a link to nothing or a folder that cannot be listed stops the load with one line: never
    half the content.
    """
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        raise ContentError(directory, 0, "content folder not found") from None
    except NotADirectoryError:
        raise ContentError(directory, 0, "content folder not found (this is a file)") from None
    except OSError as exc:
        raise ContentError(directory, 0, f"cannot read the content folder ({exc.strerror})") from None
    files = []
    for name in names:
        # Hidden names are editors' and systems' own: Emacs's lock link ".#x.md", macOS's "._x.md".
        if not name.endswith(".md") or name.startswith("."):
            continue
        path = directory / name
        try:
            mode = path.stat().st_mode  # through a symbolic link
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP):  # listed, so a link to nothing
                raise ContentError(path, 0, "a symbolic link to nothing (broken or looping)") from None
            raise ContentError(path, 0, f"cannot read the file ({exc.strerror})") from None
        if stat.S_ISREG(mode):
            files.append(path)
    if not files:
        raise ContentError(directory, 0, "no *.md content files in this folder")
    return files


def load_corpus(directory: Path) -> Corpus:
    """Load every ``*.md`` file of a folder; raise ContentError on the first problem."""
    files = content_files(directory)
    parsed: list[tuple[Document, list[Section]]] = []
    translated: list[tuple[Document, list[Section]]] = []
    seen: dict[str, tuple[Path, int]] = {}
    for path in files:
        document, sections, id_line = parse_document(path)
        if document.id in seen:
            first, first_line = seen[document.id]
            raise ContentError(
                path, id_line, f"duplicate document id {document.id!r} (also in {first}:{first_line})"
            )
        seen[document.id] = (path, id_line)
        (translated if document.translation_of else parsed).append((document, sections))
    corpus = Corpus.from_documents(parsed)
    translations: dict[str, tuple[Passage, ...]] = {}
    originals = {document.id: sections for document, sections in parsed}
    languages: dict[tuple[str, str], str] = {}
    by_id = {document.id: document for document, _ in parsed}
    for document, sections in translated:
        line = _meta_line(document.path, "translation_of")
        if document.translation_of not in originals:
            raise ContentError(
                document.path,
                line,
                f"translation_of names {document.translation_of!r}, but no original document has that id",
            )
        if document.language == by_id[document.translation_of].language:
            raise ContentError(
                document.path, line, f"a translation into {document.language}, the original's language"
            )
        other = languages.setdefault((document.translation_of, document.language), document.path)
        if other != document.path:
            raise ContentError(
                document.path,
                line,
                f"a second {document.language} translation of {document.translation_of} ({other})",
            )
        for original, translation in align(originals[document.translation_of], sections, document.path):
            translations[original.id] = (*translations.get(original.id, ()), translation)
    return dataclasses.replace(corpus, translations=translations) if translations else corpus


def align(originals: list[Section], translations: list[Section], path: str) -> list[tuple[Passage, Passage]]:
    """Pair each original passage with the translated passage at the same place, or raise at the first gap."""
    for number, (original, translation) in enumerate(zip(originals, translations, strict=False)):
        if len(original.passages) != len(translation.passages):
            shorter = min(len(original.passages), len(translation.passages))
            at = translation.passages[shorter - 1] if shorter else translation.passages[0]
            raise ContentError(
                path,
                at.line,
                f"section {number + 1} has {len(translation.passages)} paragraphs here but "
                f"{len(original.passages)} in the original "
                f"({original.document.path}:{original.passages[0].line})",
            )
    if len(originals) != len(translations):
        # Point at the first extra section, or at the end of the last one there is.
        extra = len(translations) > len(originals)
        at = translations[len(originals)].passages[0] if extra else translations[-1].passages[-1]
        raise ContentError(
            path,
            at.line,
            f"{len(translations)} sections here but {len(originals)} in the original "
            f"({originals[0].document.path})",
        )
    pairs = []
    for original, translation in zip(originals, translations, strict=True):
        for a, b in zip(original.passages, translation.passages, strict=True):
            # The translation's id is the original's: buttons keep working in either language.
            pairs.append((a, dataclasses.replace(b, id=f"{a.id}-{b.document.language}")))
    return pairs


def _meta_line(path: str, key: str) -> int:
    for number, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), start=1):
        if line.strip().lower().startswith(f"{key}:"):
            return number
    return 1


def file_digest(raw: bytes) -> str:
    """Return the digest of a content file's bytes and of the rules that read them (SHA-256: fastest here)."""
    digest = hashlib.sha256(LOADER_VERSION)
    digest.update(raw)
    return digest.hexdigest()[:32]


def decode(path: Path, raw: bytes) -> tuple[str, str]:
    """Return a file's text and a digest of its bytes and of the rules that read them."""
    return decode_text(path, raw), file_digest(raw)


def decode_text(path: Path, raw: bytes) -> str:
    """Return a file's text; raise ContentError naming the line if it is not UTF-8 text."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ContentError(path, line, "not valid UTF-8 text; save the file as UTF-8") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ContentError(path, line, "contains a NUL byte; is this a text file?")
    # Invisible characters pasted from web pages would split words ("Kaz\u200bakhstan"); questions
    # lose them in the answering service too.
    if any(char in text for char in _INVISIBLE_CHARS):  # six fast scans, usually all that is needed
        text = _INVISIBLE.sub("", text)
    return text


def _parse_header(path: Path, lines: list[str]) -> tuple[dict[str, str], dict[str, int], int]:
    """Return metadata, the line of each key, and the index of the first body line."""
    if not lines or not "".join(lines).strip():
        raise ContentError(path, 1, "empty file; a document needs a metadata header and sections")
    if lines[0].strip() != "---":
        raise ContentError(path, 1, "no metadata header: the file must start with a '---' line")
    meta: dict[str, str] = {}
    where: dict[str, int] = {}
    for i in range(1, len(lines)):
        line = lines[i].strip()
        if line == "---":
            break
        if not line or line.startswith("#"):
            continue
        match = _KEY_RE.match(line)
        if match is None:
            raise ContentError(path, i + 1, f"expected 'key: value' in the metadata, got {line[:60]!r}")
        key, value = match.group(1).lower(), match.group(2).strip()
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            known = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
            raise ContentError(path, i + 1, f"unknown metadata key {key!r} (known: {known})")
        if key in meta:
            raise ContentError(path, i + 1, f"metadata key {key!r} given twice")
        meta[key], where[key] = value, i + 1
    else:
        raise ContentError(path, len(lines), "metadata header is not closed with a '---' line")
    for key in REQUIRED_KEYS:
        if not meta.get(key):
            raise ContentError(path, where.get(key, 1), f"metadata key {key!r} is missing or empty")
    if not _LANGUAGE_RE.match(meta["language"]):
        raise ContentError(
            path, where["language"], "language must be a 2- or 3-letter lowercase code, e.g. en, uk, ru"
        )
    if not _ID_RE.match(meta["id"]):
        raise ContentError(
            path, where["id"], "id must be 1-40 lowercase letters, digits or '-', e.g. faq-consular"
        )
    try:
        dt.date.fromisoformat(meta["date"])
    except ValueError:
        raise ContentError(path, where["date"], "date must be YYYY-MM-DD, e.g. 2024-05-18") from None
    return meta, where, i + 1


def parse_document(path: Path) -> tuple[Document, list[Section], int]:
    """Parse one content file into its document, sections and the line of its id."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContentError(path, 0, f"cannot read the file ({exc.strerror})") from None
    text, digest = decode(path, raw)
    lines = text.splitlines()
    document, id_line, body_start = parse_header(path, lines, digest)
    return document, parse_body(path, lines, body_start, document), id_line


def parse_header(path: Path, lines: list[str], digest: str) -> tuple[Document, int, int]:
    """Return the document a file's metadata describes, the line of its id and the first body line."""
    meta, where, body_start = _parse_header(path, lines)
    document = Document(
        id=meta["id"],
        title=meta["title"],
        speaker=meta["speaker"],
        date=meta["date"],
        language=meta["language"],
        role=meta.get("role", ""),
        published=meta.get("published", ""),
        kind=meta.get("kind", "interview") or "interview",
        path=str(path),
        examples=tuple(q.strip() for q in meta.get("examples", "").split("|") if q.strip()),
        translation_of=meta.get("translation_of", ""),
        note=meta.get("note", ""),
        digest=digest,
    )
    return document, where["id"], body_start


def read_body(
    path: Path, lines: list[str], body_start: int, first_line: int = 1
) -> Iterator[tuple[str, int, str]]:
    """Yield ("section", line, title) and ("paragraph", line, text) events; raise ContentError at a fault.

    The one reading of a file's body: parse_body builds records from it, layout_body
    only counts. `first_line` is the line number of lines[0] (a slice of a file).
    """
    in_section = False
    title_line = 0
    paragraphs = 0
    paragraph: list[str] = []
    paragraph_line = 0
    sections = 0
    for number, raw in enumerate([*lines[body_start:], ""], start=body_start + first_line):
        line = raw.strip()
        heading = line.startswith("## ") or line == "##"  # "##" alone: a heading without a title
        if paragraph and (not line or heading):
            if not in_section:
                raise ContentError(
                    path, paragraph_line, "passage outside any section: add a '## ' heading above it"
                )
            yield "paragraph", paragraph_line, " ".join(paragraph)
            paragraphs += 1
            paragraph = []
        if not line:
            continue
        if heading:
            if in_section and not paragraphs:
                raise ContentError(path, title_line, "section has no passages under it")
            title, title_line, paragraphs = line[3:].strip(), number, 0
            if not title:
                raise ContentError(path, number, "empty section title")
            in_section = True
            sections += 1
            yield "section", number, title
        elif line.startswith("#"):
            raise ContentError(path, number, "sections are '## ' headings; other headings are not used")
        else:
            if not paragraph:
                paragraph_line = number
            paragraph.append(line)
    if in_section and not paragraphs:
        raise ContentError(path, title_line, "section has no passages under it")
    if not sections:
        raise ContentError(
            path, max(len(lines), 1), "no sections: add '## ' headings with passages under them"
        )


def parse_body(
    path: Path,
    lines: list[str],
    body_start: int,
    document: Document,
    *,
    first_line: int = 1,
    first_section: int = 0,
) -> list[Section]:
    """Parse a file's sections and passages, from its first body line.

    A slice of a file's lines from one of its section headings parses as the file
    would: `first_line` is the heading's line number, `first_section` its number.
    """
    sections: list[Section] = []
    title = ""
    passages: list[Passage] = []
    lines_of: dict[str, int] = {}
    for kind, line, text in read_body(path, lines, body_start, first_line):
        if kind == "section":
            if passages:
                sections.append(Section(document, title, first_section + len(sections), tuple(passages)))
                passages = []
            title = text
            continue
        passage = Passage(
            id=passage_id(document.id, title, text),
            document=document,
            section=title,
            text=text,
            section_no=first_section + len(sections),
            position=len(passages),
            line=line,
        )
        # Ids hash the document's id too: two documents' passages cannot share one.
        first = lines_of.setdefault(passage.id, line)
        if first != line:
            raise ContentError(path, line, f"duplicate passage id {passage.id} (same text as {path}:{first})")
        passages.append(passage)
    sections.append(Section(document, title, first_section + len(sections), tuple(passages)))
    return sections


def layout_body(path: Path, lines: list[str], body_start: int, document_id: str) -> list[tuple[int, int]]:
    """Return the heading's line number and the number of passages of each section, as parse_body reads them.

    Raises the ContentError parse_body would, a repeated passage included.
    """
    layout: list[tuple[int, int]] = []
    title = ""
    first_line: dict[tuple[str, str], int] = {}
    for kind, line, text in read_body(path, lines, body_start):
        if kind == "section":
            title = text
            layout.append((line, 0))
            continue
        first = first_line.setdefault((title, text), line)
        if first != line:
            pid = passage_id(document_id, title, text)
            raise ContentError(path, line, f"duplicate passage id {pid} (same text as {path}:{first})")
        layout[-1] = (layout[-1][0], layout[-1][1] + 1)
    return layout
