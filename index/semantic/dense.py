"""Dense (embedding) side of ranking: cosine of a question with every passage."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from index.content.loader import Corpus, Passage
from index.semantic.model import Embedder
from index.semantic.snapshot import Snapshot, load_snapshot, save_snapshot, snapshot_key
from index.semantic.vectors import BUNDLED_NAME, CACHE_NAME, Progress, embed_texts, save_vectors, text_key

QUESTION_CACHE = 256
"""Question vectors kept (about 1.5 KB each)."""
# A sentence ends at . ! ? and a space before a capital, a quote or a dash ("No. 47" stays whole).
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«(—A-ZА-ЯІЇЄҐ])")
LAYOUT = f"paragraph, sentences by {_SENTENCE_END.pattern}, translations' paragraphs"
"""How passages are cut into embedded texts: part of the kept index's fingerprint."""


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def units_of(text: str) -> list[str]:
    """Return the texts embedded for one passage: the whole paragraph, then each sentence if several."""
    parts = sentences(text)
    return [text, *parts] if len(parts) > 1 else [text]


@dataclass(frozen=True, slots=True)
class DenseScores:
    """The cosine of a question with every passage, and how they spread."""

    cosine: NDArray[np.float32]
    """Per passage: the mean of its best paragraph's cosine (any language) and its best sentence's."""
    mean: float
    std: float
    units: NDArray[np.float32] | None = None
    """The cosine of every embedded unit (paragraphs and sentences)."""
    title: NDArray[np.float32] | None = None
    """Per passage: the cosine of its section's title (any language), on the same scale."""


class DenseIndex:
    """Vectors of every passage and of its sentences, encoded once and cached.

    A long paragraph about several things matches a question about one of them
    less well than the sentence that says it; scoring a passage by the mean of
    its paragraph's and its best sentence's cosine keeps both views.

    A question is nearer any text in its own language than any text in another, so a
    passage with a translation into the question's language would beat every passage
    without one. Cosines are put on one scale: a translation's cosines are lowered by
    how much nearer the question is to the translations than to their originals, on
    average over the paragraphs that have both (the same content, so only the language
    differs). A document is not preferred for having a translation.
    """

    def __init__(
        self,
        corpus: Corpus,
        embedder: Embedder,
        content_dir: Path | None = None,
        cache_dir: Path | None = None,
        *,
        workers: int = 1,
        progress: Progress | None = None,
    ) -> None:
        """Embed every passage and sentence not found in the bundled or cached vectors.

        With a cache folder, the finished index is kept there too (`snapshot.py`): a start on
        unchanged content maps its vectors from disk and parses no passage.
        """
        self.embedder = embedder
        self._recent: OrderedDict[bytes, NDArray[np.float32]] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._corpus = corpus
        key = snapshot_key(corpus, embedder.signature, LAYOUT) if cache_dir is not None else ""
        kept = load_snapshot(cache_dir, key) if cache_dir is not None else None
        if kept is not None:
            self._units: tuple[str, ...] | None = None
            self.encoded = 0
            self._set(kept)
            return
        layout = _layout(corpus)
        sources = [content_dir / BUNDLED_NAME] if content_dir is not None else []
        cache = cache_dir / CACHE_NAME if cache_dir is not None else None
        self._units = tuple(layout.units)
        vectors, self.encoded = embed_texts(
            layout.units, embedder, sources, cache, workers=workers, progress=progress
        )
        # Section titles (an FAQ's questions, an interviewer's) are embedded as questions: a
        # question is compared with them as with another question.
        title_vectors, title_encoded = embed_texts(
            layout.titles, embedder, sources, cache.with_name("title-" + cache.name) if cache else None, True
        )
        self.encoded += title_encoded
        built = Snapshot(
            vectors,
            np.asarray(layout.owners, dtype=np.int64),
            np.asarray(layout.whole, dtype=bool),
            np.asarray(layout.versions, dtype=np.int64),
            np.asarray(layout.originals, dtype=np.int64),
            layout.languages,
            tuple(layout.titles),
            title_vectors,
            np.asarray(layout.title_languages, dtype=np.int64),
            np.asarray(layout.title_of, dtype=np.int64),
        )
        self._set(built)
        if cache_dir is not None:
            save_snapshot(cache_dir, key, built)

    def _set(self, snapshot: Snapshot) -> None:
        self.vectors = snapshot.vectors
        self.owners = snapshot.owners
        self.n_passages = len(self._corpus.passages)
        self._whole = snapshot.whole
        self._version = snapshot.versions
        """Per unit: -1 for an original's text, else the number of its translation's language."""
        self._originals = snapshot.originals
        """Per translated paragraph unit (in order): the unit of its original paragraph."""
        self._languages = snapshot.languages
        self.titles = snapshot.titles
        self.title_vectors = snapshot.title_vectors
        self._title_version = snapshot.title_languages
        self._title_of = snapshot.title_of
        self._title_owner = self.owners[self._whole]

    @property
    def units(self) -> tuple[str, ...]:
        """Return every embedded text (paragraphs, sentences, translations), in the vectors' order."""
        if self._units is None:
            self._units = tuple(_layout(self._corpus).units)
        return self._units

    def _unit_text(self, unit: int) -> str:
        """Return one embedded text, parsing only its passage when the index came from a snapshot."""
        if self._units is not None:
            return self._units[unit]
        owner = int(self.owners[unit])
        first = int(np.searchsorted(self.owners, owner))
        texts = _passage_units(self._corpus, self._corpus.passages[owner])
        if len(texts) != int(np.searchsorted(self.owners, owner, side="right")) - first:
            return ""  # cut otherwise than when kept: no sentence to show rather than another's
        return texts[unit - first]

    def embed_question(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one normalised vector for a question given in one or more spellings.

        Encoding is most of a semantic answer's cost and people ask the same questions (and a
        message is ranked, then checked, with the same text): the last QUESTION_CACHE vectors
        are kept, under a hash of the text (the text itself is not kept), read-only.
        """
        key = hashlib.blake2b("\x00".join(texts).encode(), digest_size=16).digest()
        with self._recent_lock:
            cached = self._recent.get(key)
            if cached is not None:
                self._recent.move_to_end(key)
                return cached
        vectors = self.embedder.embed_queries(list(texts))
        mean = vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        unit: NDArray[np.float32] = (mean / norm if norm > 0 else mean).astype(np.float32)
        unit.setflags(write=False)
        with self._recent_lock:
            self._recent[key] = unit
            while len(self._recent) > QUESTION_CACHE:
                self._recent.popitem(last=False)
        return unit

    def scores(self, query: NDArray[np.float32]) -> DenseScores:
        """Return the cosine of a question vector with every passage."""
        if not self.n_passages:
            empty = np.zeros(0, dtype=np.float32)
            return DenseScores(empty, 0.0, 0.0)
        raw = self.vectors @ query
        gaps = self._language_gaps(raw)
        unit_cos = (raw - gaps[self._version]).astype(np.float32)
        best = np.full(self.n_passages, -1.0, dtype=np.float32)
        np.maximum.at(best, self.owners, unit_cos)
        paragraph = np.full(self.n_passages, -1.0, dtype=np.float32)
        np.maximum.at(paragraph, self.owners[self._whole], unit_cos[self._whole])
        cosine = ((paragraph + best) / 2).astype(np.float32)
        title = np.full(self.n_passages, -1.0, dtype=np.float32)
        if len(self.titles):
            title_cos = self.title_vectors @ query - gaps[self._title_version]
            np.maximum.at(title, self._title_owner, title_cos[self._title_of])
        return DenseScores(cosine, float(cosine.mean()), float(cosine.std()), unit_cos, title)

    def _language_gaps(self, unit_cos: NDArray[np.float32]) -> NDArray[np.float32]:
        """Return, per translation language, the question's mean lead for translations over originals.

        The last entry, for the originals' own texts (version -1), is 0.
        """
        gaps = np.zeros(self._languages + 1, dtype=np.float32)
        if self._languages:
            translated = np.flatnonzero(self._whole & (self._version >= 0))
            lead = unit_cos[translated] - unit_cos[self._originals]
            sums = np.bincount(self._version[translated], weights=lead, minlength=self._languages)
            counts = np.bincount(self._version[translated], minlength=self._languages)
            gaps[: self._languages] = sums / np.maximum(counts, 1)
        return gaps

    def best_sentence(self, scores: DenseScores, passage: int) -> str:
        """Return the passage's sentence (in any language) nearest the question."""
        own = self.owners == passage
        sentence = own & ~self._whole
        mask = sentence if sentence.any() else own
        if scores.units is None or not mask.any():
            return ""
        return self._unit_text(int(np.argmax(np.where(mask, scores.units, -np.inf))))


@dataclass
class _Layout:
    """What is embedded for a corpus, in order, and what each text belongs to."""

    units: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    whole: list[bool] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    originals: list[int] = field(default_factory=list)
    """Per translated paragraph unit: its original paragraph unit."""
    languages: int = 0
    titles: list[str] = field(default_factory=list)
    title_languages: list[int] = field(default_factory=list)
    title_of: list[int] = field(default_factory=list)
    """Per passage and version, in unit order of paragraphs: its title's number."""


def _versions(corpus: Corpus, passage: Passage) -> list[tuple[Passage, list[str]]]:
    """Return a passage and each of its translations, with the texts embedded for each."""
    # A translation's paragraph alone: its sentences added nothing measurable on the
    # validation set (docs/performance.md) and cost a third of a translated passage's encoding.
    versions = (passage, *corpus.translations_of(passage))
    return [
        (version, [version.text] if number else units_of(version.text))
        for number, version in enumerate(versions)
    ]


def _passage_units(corpus: Corpus, passage: Passage) -> list[str]:
    """Return the texts embedded for one passage, in the vectors' order."""
    return [text for _, texts in _versions(corpus, passage) for text in texts]


def _layout(corpus: Corpus) -> _Layout:
    """Lay out every passage's texts (a translation is more evidence for the same passage)."""
    out = _Layout()
    languages: dict[str, int] = {}
    titles: dict[tuple[str, int], int] = {}  # (title, version language) -> title number
    for i, passage in enumerate(corpus.passages):
        start = len(out.units)
        for number, (version, texts) in enumerate(_versions(corpus, passage)):
            if number:
                out.originals.append(start)
            out.units += texts
            out.owners += [i] * len(texts)
            out.whole += [True] + [False] * (len(texts) - 1)
            language = languages.setdefault(version.document.language, len(languages)) if number else -1
            out.versions += [language] * len(texts)
            out.title_of.append(titles.setdefault((version.section, language), len(titles)))
    out.languages = len(languages)
    out.titles = [title for title, _ in titles]
    out.title_languages = [language for _, language in titles]
    return out


def write_bundled(dense: DenseIndex, content_dir: Path) -> Path:
    """Write the vectors of every passage, sentence and section title beside the content files."""
    path = content_dir / BUNDLED_NAME
    keys = [text_key(unit) for unit in dense.units] + [text_key(title, True) for title in dense.titles]
    vectors = np.concatenate([dense.vectors, dense.title_vectors]) if dense.titles else dense.vectors
    first = {key: i for i, key in reversed(list(enumerate(keys)))}
    unique = list(first)
    save_vectors(path, dense.embedder.signature, unique, vectors[[first[k] for k in unique]])
    path.chmod(0o644)
    return path
