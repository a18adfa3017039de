"""Keep a parsed content folder between starts: a start with unchanged files parses nothing.

The cache is keyed by a digest of every content file's bytes (and the loader's
version), so any edit, added or removed file is a miss and the folder is parsed
again, with the loader's one-line errors. It stores no pickled objects: texts
as UTF-8 blobs with offsets, numbers as arrays, document metadata as JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from index.cache import (
    fingerprint,
    load_stamped,
    pack_strings,
    pack_utf8,
    save_stamped,
    unpack_strings,
    unpack_utf8,
)
from index.content import LOADER_VERSION, Corpus, Document, Passage, Section, load_corpus

logger = logging.getLogger(__name__)

CORPUS_NAME = "corpus.npz"
_UNFIT = (ValueError, KeyError, TypeError, IndexError, json.JSONDecodeError)


def folder_fingerprint(directory: Path) -> str:
    """Return a digest of the folder's content files: names and bytes."""
    files = sorted(p for p in directory.glob("*.md") if p.is_file())
    digests = [
        (p.name, hashlib.blake2b(p.read_bytes(), digest_size=16, person=LOADER_VERSION).hexdigest())
        for p in files
    ]
    # The folder as given: documents keep the paths they were read from.
    return fingerprint("corpus-v2", str(directory), digests)


def load_corpus_cached(directory: Path, cache_dir: Path | None) -> Corpus:
    """Return the folder's corpus, from the cache if its files are unchanged; raise ContentError if broken."""
    if cache_dir is None or not directory.is_dir():
        return load_corpus(directory)
    path = cache_dir / CORPUS_NAME
    try:
        key = folder_fingerprint(directory)
    except OSError:
        return load_corpus(directory)  # the loader names the file it cannot read
    stored = load_stamped(path, key)
    if stored is not None:
        try:
            return _from_arrays(stored)
        except _UNFIT as exc:
            logger.warning("index cache %s is unusable (%s); parsing the content again", path, exc)
    corpus = load_corpus(directory)
    try:
        save_stamped(path, key, _to_arrays(corpus))
    except OSError as exc:
        logger.warning("cannot write the index cache %s: %s", path, exc)
    return corpus


def _passage_table(passages: Sequence[Passage], documents: dict[str, int]) -> dict[str, NDArray[np.generic]]:
    numbers = np.array(
        [(documents[p.document.id], p.section_no, p.position, p.line) for p in passages], dtype=np.int64
    ).reshape(len(passages), 4)
    table: dict[str, NDArray[np.generic]] = {"numbers": numbers}
    for name, strings in (("ids", [p.id for p in passages]), ("texts", [p.text for p in passages])):
        for part, array in pack_utf8(strings).items():
            table[f"{name}_{part}"] = array
    return table


def _to_arrays(corpus: Corpus) -> dict[str, NDArray[np.generic]]:
    translations = [t for p in corpus.passages for t in corpus.translations_of(p)]
    owners = [i for i, p in enumerate(corpus.passages) for _ in corpus.translations_of(p)]
    documents = list(corpus.documents) + list(dict.fromkeys(t.document for t in translations))
    numbers = {d.id: i for i, d in enumerate(documents)}
    meta = [dataclasses.asdict(d) for d in documents]
    arrays: dict[str, NDArray[np.generic]] = {
        "documents": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        "originals": np.array([len(corpus.documents)], dtype=np.int64),
        "owners": np.array(owners, dtype=np.int64),
    }
    titles = {(s.document.id, s.number): s.title for s in corpus.sections}
    titles.update({(t.document.id, t.section_no): t.section for t in translations})
    keys = list(titles)
    arrays["section_keys"] = np.array([(numbers[d], n) for d, n in keys], dtype=np.int64).reshape(-1, 2)
    for part, array in pack_strings(list(titles.values())).items():
        arrays[f"titles_{part}"] = array
    for prefix, passages in (("p", corpus.passages), ("t", translations)):
        for name, array in _passage_table(passages, numbers).items():
            arrays[f"{prefix}_{name}"] = array
    return arrays


def _passages(
    arrays: dict[str, NDArray[np.generic]],
    prefix: str,
    documents: Sequence[Document],
    titles: dict[tuple[int, int], str],
) -> list[Passage]:
    numbers = arrays[f"{prefix}_numbers"].tolist()
    ids = unpack_utf8(arrays[f"{prefix}_ids_bytes"], arrays[f"{prefix}_ids_ends"])
    texts = unpack_utf8(arrays[f"{prefix}_texts_bytes"], arrays[f"{prefix}_texts_ends"])
    if not len(numbers) == len(ids) == len(texts):
        raise ValueError("passage fields of different lengths")
    return [
        Passage(id, documents[d], titles[(d, s)], text, s, position, line)
        for (d, s, position, line), id, text in zip(numbers, ids, texts, strict=True)
    ]


def _from_arrays(arrays: dict[str, NDArray[np.generic]]) -> Corpus:
    meta = json.loads(arrays["documents"].tobytes().decode("utf-8"))
    documents = [Document(**{**m, "examples": tuple(m["examples"])}) for m in meta]
    keys = arrays["section_keys"].tolist()
    names = unpack_strings(arrays["titles_chars"], arrays["titles_ends"])
    titles = {(d, n): title for (d, n), title in zip(keys, names, strict=True)}
    passages = _passages(arrays, "p", documents, titles)
    translations = _passages(arrays, "t", documents, titles)
    originals = int(arrays["originals"][0])
    by_section: dict[tuple[str, int], list[Passage]] = {}
    for passage in passages:
        by_section.setdefault((passage.document.id, passage.section_no), []).append(passage)
    sections = tuple(
        Section(group[0].document, group[0].section, number, tuple(group))
        for (_, number), group in by_section.items()
    )
    translated: dict[str, tuple[Passage, ...]] = {}
    for owner, translation in zip(arrays["owners"].tolist(), translations, strict=True):
        original = passages[owner].id
        translated[original] = (*translated.get(original, ()), translation)
    by_id = {p.id: p for p in passages}
    if len(by_id) != len(passages):
        raise ValueError("a passage id listed twice")
    return Corpus(
        tuple(documents[:originals]),
        tuple(passages),
        sections,
        by_id,
        {(s.document.id, s.number): s for s in sections},
        translated,
    )
