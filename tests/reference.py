"""Reference implementations the tests hold the fast paths equal to (no production code uses them)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from index.analysis.text import Analyzer
from index.content.loader import Corpus


def build_bags(corpus: Corpus, analyzer: Analyzer, variants: dict[str, str] | None = None) -> list[list[str]]:
    """Return the bag of terms of each passage's own text (as index.lexical.lexicon builds them)."""
    variants = variants or {}
    return [[variants.get(t, t) for t in analyzer.terms(passage.text)] for passage in corpus.passages]


def build_title_bags(
    corpus: Corpus, analyzer: Analyzer, variants: dict[str, str] | None = None
) -> tuple[list[list[str]], NDArray[np.int32]]:
    """Return the bag of terms of each section title and each passage's section number."""
    variants = variants or {}
    numbers: dict[tuple[str, int], int] = {}
    bags: list[list[str]] = []
    section_of = np.empty(len(corpus.passages), dtype=np.int32)
    for i, passage in enumerate(corpus.passages):
        key = (passage.document.id, passage.section_no)
        if key not in numbers:
            numbers[key] = len(bags)
            bags.append([variants.get(t, t) for t in analyzer.terms(passage.section)])
        section_of[i] = numbers[key]
    return bags, section_of
