"""Build everything lexical from a corpus in one pass over its texts, and keep it between starts.

One pass of the analyzer gives every passage's words as numbers into a
vocabulary. From the vocabulary alone come the word counts (spelling
tolerance), the texts' own slips (rare variants) and each word's term; the
bags are then arrays of term numbers, never lists of strings. Everything a
start needs is cached under a fingerprint of the content, so a start with
unchanged content analyses nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from index.analysis.spelling import SpellingIndex, rare_variants
from index.analysis.text import Analyzer
from index.content.loader import Corpus
from index.lexical.bm25 import BM25Params
from index.lexical.cache import load, load_stamped, pack_strings, save, save_stamped, unpack_strings
from index.lexical.engine import FastBM25, postings_from_ids
from index.scale.memory import give_back
from index.scale.units import Analysed, analyse, analyse_corpus

logger = logging.getLogger(__name__)

BODY_NAME = "bm25-index.npz"
TITLES_NAME = "bm25-titles.npz"
LEXICON_NAME = "lexicon.npz"
_UNFIT = (ValueError, KeyError, TypeError)
G = TypeVar("G", bound=np.generic)


def term_variants(
    counts: dict[str, int], analyzer: Analyzer, speller: SpellingIndex | None = None
) -> dict[str, str]:
    """Return the terms of rare misspellings in the texts and the terms they stand for."""
    variants = rare_variants(counts, speller=speller)
    return {analyzer.stem(rare): analyzer.stem(known) for rare, known in variants.items()}


def postings(
    analysed: Analysed | list[Analysed], analyzer: Analyzer, variants: dict[str, str], params: BM25Params
) -> FastBM25:
    """Return the BM25 engine over the analysed texts, each word read as its term.

    Given in a one-item list, the analysis is let go as soon as its words are terms:
    the caller's big build does not hold it through its memory peak.
    """
    if isinstance(analysed, list):
        analysed = analysed.pop()
    words, ids, lengths = analysed.words, analysed.ids, analysed.lengths
    del analysed
    terms = [variants.get(t, t) for t in analyzer.stems(list(words))]
    # Words are numbered by first occurrence, so numbering terms in word order
    # numbers them by first occurrence too: rank-bm25's order.
    numbers: defaultdict[str, int] = defaultdict()
    numbers.default_factory = numbers.__len__
    term_of_word = np.fromiter(map(numbers.__getitem__, terms), dtype=np.int64, count=len(terms))
    keys = term_of_word[ids] if len(ids) else np.zeros(0, dtype=np.int64)
    del ids
    numbers.default_factory = None  # a cycle through its own method: freed on return, not by the collector
    built = postings_from_ids(keys, lengths.copy(), tuple(numbers), params)
    return FastBM25.from_postings(built, params)


@dataclass(frozen=True, eq=False)
class Lexical:
    """What lexical ranking needs, built in one pass or loaded from the cache."""

    body: FastBM25
    """BM25 over each passage's own text."""
    titles: FastBM25
    """BM25 over the section titles, one bag per section."""
    section_of: NDArray[np.int32]
    """Passage number -> section number in `titles`."""
    variants: dict[str, str]
    """Term of a rare slip in the texts -> term of the usual spelling."""
    speller: SpellingIndex
    """The texts' words, for reading an unknown word of a question as a known one."""


def build(
    corpus: Corpus,
    analyzer: Analyzer,
    params: BM25Params,
    spelling: bool,
    *,
    cache_dir: Path | None = None,
    workers: int = 1,
) -> Lexical:
    """Analyse every passage once and build the lexicon, both BM25 engines and the spelling index.

    With a cache folder, documents analysed before are not analysed again; `workers`
    processes share a large analysis (and parse the documents of a lazily parsed corpus).
    """
    analysis = analyse_corpus(corpus, analyzer, cache_dir, workers)
    analysed, section_of, titles = analysis.analysed, analysis.section_of, analysis.titles
    del analysis
    give_back()  # the merge's pieces, before the postings' arrays are made
    counts = analysed.counts()
    speller = SpellingIndex(counts if spelling else {})
    variants = term_variants(counts, analyzer, speller) if spelling else {}
    del counts
    held = [analysed]
    del analysed
    body = postings(held, analyzer, variants, params)
    give_back()  # the postings' temporaries, before the titles' and the cache file's
    title_engine = postings(analyse(titles, analyzer), analyzer, variants, params)
    return Lexical(body, title_engine, section_of, variants, speller)


def save_lexical(lexical: Lexical, cache_dir: Path, fingerprint: str) -> None:
    """Write the lexical index to the cache folder; raise OSError if it cannot."""
    save(lexical.body, cache_dir / BODY_NAME, fingerprint)
    save(lexical.titles, cache_dir / TITLES_NAME, fingerprint)
    speller = lexical.speller
    arrays: dict[str, NDArray[np.generic]] = {"section_of": lexical.section_of}
    for name, strings in (
        ("words", speller.words),
        ("rare", tuple(lexical.variants)),
        ("usual", tuple(lexical.variants.values())),
    ):
        for part, array_ in pack_strings(strings).items():
            arrays[f"{name}_{part}"] = array_
    arrays.update(counts=speller.counts, keys=speller.keys, owners=speller.owners)
    save_stamped(cache_dir / LEXICON_NAME, fingerprint, arrays)


def load_lexical(cache_dir: Path, fingerprint: str, params: BM25Params, n_passages: int) -> Lexical | None:
    """Return the cached lexical index, or None if any part is missing, stale or damaged."""
    arrays = load_stamped(cache_dir / LEXICON_NAME, fingerprint)
    if arrays is None:
        return None
    body = load(cache_dir / BODY_NAME, params, fingerprint)
    titles = load(cache_dir / TITLES_NAME, params, fingerprint)
    if body is None or titles is None:
        return None
    try:
        words, rare, usual = (
            unpack_strings(arrays[f"{name}_chars"], arrays[f"{name}_ends"])
            for name in ("words", "rare", "usual")
        )
        speller = SpellingIndex.from_arrays(
            words,
            _typed(arrays["counts"], np.int64),
            _typed(arrays["keys"], np.uint64),
            _typed(arrays["owners"], np.int32),
        )
        section_of = _typed(arrays["section_of"], np.int32)
        if section_of.shape != (n_passages,) or len(body) != n_passages:
            raise ValueError("the cache holds another number of passages")
        if n_passages and (int(section_of.min()) < 0 or int(section_of.max()) >= len(titles)):
            raise ValueError("a passage in a section the cache does not have")
        return Lexical(body, titles, section_of, dict(zip(rare, usual, strict=True)), speller)
    except _UNFIT as exc:
        logger.warning("index cache %s is unusable (%s); rebuilding", cache_dir / LEXICON_NAME, exc)
        return None


def _typed(array_: NDArray[np.generic], dtype: type[G]) -> NDArray[G]:
    if array_.dtype != dtype or array_.ndim != 1:
        raise ValueError(f"expected a 1-d {np.dtype(dtype)} array, got {array_.dtype}")
    return cast(NDArray[G], array_)
