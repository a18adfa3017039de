"""Rank passages by a weighted sum of the embedding cosine and the BM25 coverage."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from index.analysis import SlavicAnalyzer
from index.content import Corpus, Passage
from index.dense import DenseIndex
from index.language import script_of, to_cyrillic, to_latin
from index.ranking import Hit, PassageIndex, RankingParams

# Candidates scored in full from each side; the rest cannot reach the top k.
CANDIDATES = 50
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the answer-or-decline decision sees about a question and its best passages."""

    language: str
    script: str
    translit: bool
    """Russian or Ukrainian typed in Latin letters."""
    words: int
    coverage: float
    """BM25 coverage of the best passage."""
    unknown: float
    """Share of the question's idf weight in words no passage has."""
    bm25_margin: float
    """(best - second) / best rank-bm25 score among the hits, 0 without hits."""
    cosine: float = 0.0
    """Cosine of the best passage (0 without semantic ranking)."""
    margin: float = 0.0
    """Fused score of the best passage minus the second's."""
    spread: float = 0.0
    """How far the best cosine stands above the mean cosine of all passages, in standard deviations."""
    intent: float = 0.0
    """Similarity to the nearest example of small talk or a consular matter."""


@dataclass(frozen=True, slots=True)
class Ranking:
    """The ranked passages for a question and the evidence for deciding."""

    terms: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    hits: tuple[Hit, ...]
    evidence: Evidence
    query_vector: NDArray[np.float32] | None = None


@dataclass(frozen=True, slots=True)
class TranslatedIndex:
    """A BM25 index over the translations of the passages into one language."""

    language: str
    index: PassageIndex
    positions: dict[int, list[int]]
    """Original passage number -> numbers of its translated passages in `index`."""
    owners: tuple[int, ...]
    """Translated passage number -> original passage number."""


def translated_indexes(
    corpus: Corpus, params: RankingParams | None = None, cache_dir: Path | None = None
) -> list[TranslatedIndex]:
    """Build one BM25 index per translation language, with the Ukrainian-Russian analyzer."""
    by_language: dict[str, list[tuple[int, Passage]]] = {}
    for i, passage in enumerate(corpus.passages):
        for translation in corpus.translations_of(passage):
            by_language.setdefault(translation.document.language, []).append((i, translation))
    out = []
    for language, pairs in sorted(by_language.items()):
        passages = tuple(p for _, p in pairs)
        documents = tuple(dict.fromkeys(p.document for p in passages))
        sub = Corpus(documents, passages, ())
        folder = cache_dir / f"translation-{language}" if cache_dir is not None else None
        index = PassageIndex(sub, SlavicAnalyzer(), params, folder)
        positions: dict[int, list[int]] = {}
        for j, (i, _) in enumerate(pairs):
            positions.setdefault(i, []).append(j)
        out.append(TranslatedIndex(language, index, positions, tuple(i for i, _ in pairs)))
    return out


class HybridIndex:
    """BM25 (rank-bm25's scores) and, when a model is loaded, embeddings, fused.

    score = w · cosine + (1 - w) · coverage, where coverage is the idf-weighted
    share of the question's words a passage has; w is fitted on the training questions.
    Without a model (SEMANTIC=off) the order is rank-bm25's.
    """

    def __init__(
        self,
        lexical: PassageIndex,
        dense: DenseIndex | None,
        fusion_weight: float = 0.8,
        translated: Sequence[TranslatedIndex] = (),
        fusion_weight_other: float | None = None,
    ) -> None:
        self.lexical = lexical
        self.dense = dense
        self.fusion_weight = fusion_weight
        self.fusion_weight_other = fusion_weight if fusion_weight_other is None else fusion_weight_other
        """The weight for questions in Ukrainian or Russian, whose coverage comes from translations."""
        self.translated = tuple(translated)

    def _translated_coverage(self, question: str, language: str) -> Callable[[int], float]:
        """Return a function: original passage number -> coverage of the question by its translations.

        Only for a question in Ukrainian or Russian (Latin-typed ones are read in Cyrillic).
        """
        if language not in ("uk", "ru") or not self.translated:
            return lambda i: 0.0
        text = question if script_of(question) == "cyrillic" else to_cyrillic(question, language)
        sides = []
        for translated in self.translated:
            index = translated.index
            terms, _ = index.query_terms(text)
            weights = index.term_weights(terms)
            total = sum(weights.values())
            if terms and total > 0:
                sides.append((translated, terms, weights, total))

        def coverage(i: int) -> float:
            best = 0.0
            for translated, terms, weights, total in sides:
                for j in translated.positions.get(i, ()):
                    matched = translated.index.engine.matched(j, terms)
                    best = max(best, sum(weights[t] for t in set(matched)) / total)
            return best

        return coverage

    def _translated_unknown(self, question: str, language: str) -> float:
        """Return the share of a Ukrainian or Russian question's weight in words no translation has."""
        text = question if script_of(question) == "cyrillic" else to_cyrillic(question, language)
        shares = []
        for translated in self.translated:
            terms, _ = translated.index.query_terms(text)
            shares.append(translated.index.unknown_share(terms) if terms else 0.0)
        return min(shares)

    def _translated_top(self, question: str, language: str, k: int) -> list[tuple[int, float]]:
        """Return original passage numbers ranked by rank-bm25 on their translations, best first."""
        text = question if script_of(question) == "cyrillic" else to_cyrillic(question, language)
        best: dict[int, float] = {}
        for translated in self.translated:
            terms, _ = translated.index.query_terms(text)
            for j, score in translated.index.engine.top_k(terms, k) if terms else []:
                i = translated.owners[j]
                best[i] = max(best.get(i, 0.0), score)
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]

    def query_vector(self, question: str, language: str) -> NDArray[np.float32] | None:
        """Embed a question; Latin-typed Russian or Ukrainian is also read in Cyrillic."""
        if self.dense is None:
            return None
        spellings = [question]
        if script_of(question) == "latin" and language in ("uk", "ru"):
            spellings.append(to_cyrillic(question, language))
        return self.dense.embed_question(spellings)

    def _names(self, question: str, language: str, terms: tuple[str, ...]) -> list[str]:
        """Return the known terms of a Cyrillic question read in Latin letters (Кусто -> kusto).

        Names of people, places and companies are spelt in Latin letters in the
        English texts; only words of 4 letters or more that the texts have count.
        """
        found: list[str] = []
        for token in self.lexical.analyzer.tokens(to_latin(question, language)):
            term = self.lexical.variants.get(token.term, token.term)
            if len(token.word) >= 4 and term in self.lexical.engine and term not in terms and term not in found:
                found.append(term)
        return found

    def search(self, question: str, k: int, language: str) -> Ranking:
        """Return up to k passages, best first, and the evidence about the best."""
        lexical = self.lexical
        terms, corrections = lexical.query_terms(question)
        if language in ("uk", "ru") and script_of(question) == "cyrillic":
            terms = (*terms, *self._names(question, language, terms))
        weights = lexical.term_weights(terms)
        total = sum(weights.values())
        vector = self.query_vector(question, language)
        n = len(lexical)
        bm25_top = lexical.engine.top_k(terms, max(k, CANDIDATES)) if terms and n else []
        bm25 = dict(bm25_top)

        translated = self._translated_coverage(question, language)
        unknown = lexical.unknown_share(terms) if terms else 0.0
        if language in ("uk", "ru") and self.translated:
            unknown = self._translated_unknown(question, language)

        def coverage(i: int) -> tuple[tuple[str, ...], float]:
            matched = lexical.engine.matched(i, terms) if terms else ()
            share = sum(weights[t] for t in set(matched)) / total if total > 0 else 0.0
            return matched, max(share, translated(i))

        hits: list[Hit] = []
        spread = 0.0
        if (vector is None or self.dense is None) and language in ("uk", "ru") and self.translated:
            bm25_top = self._translated_top(question, language, max(k, CANDIDATES)) or bm25_top
            bm25 = dict(bm25_top)
        if vector is None or self.dense is None:
            for i, score in bm25_top[:k]:
                matched, share = coverage(i)
                hits.append(Hit(lexical.corpus.passages[i], score, matched, bm25=score, coverage=share))
            second = bm25_top[1][1] if len(bm25_top) > 1 else 0.0
        else:
            dense = self.dense.scores(vector)
            cos = dense.cosine
            order = np.argsort(-cos, kind="stable")[:CANDIDATES].tolist()
            candidates = list(dict.fromkeys([*order, *bm25]))
            w = self.fusion_weight_other if language in ("uk", "ru") else self.fusion_weight
            scored = []
            for i in candidates:
                matched, share = coverage(i)
                fused = w * float(cos[i]) + (1 - w) * share
                scored.append((fused, -i, matched, share))
            scored.sort(reverse=True)
            for fused, neg, matched, share in scored[: max(k, 2)]:
                i = -neg
                passage = lexical.corpus.passages[i]
                hits.append(Hit(passage, fused, matched, bm25.get(i, 0.0), share, float(cos[i])))
            if hits and dense.std > 0:
                spread = ((hits[0].cosine or 0.0) - dense.mean) / dense.std
            second = bm25_top[1][1] if len(bm25_top) > 1 else 0.0
        best_bm25 = bm25_top[0][1] if bm25_top else 0.0
        evidence = Evidence(
            language=language,
            script=script_of(question),
            translit=script_of(question) == "latin" and language in ("uk", "ru"),
            words=len(_WORD.findall(question)),
            coverage=hits[0].coverage if hits else 0.0,
            unknown=unknown,
            bm25_margin=(best_bm25 - second) / best_bm25 if best_bm25 > 0 else 0.0,
            cosine=(hits[0].cosine or 0.0) if hits else 0.0,
            margin=hits[0].score - hits[1].score if len(hits) > 1 else (hits[0].score if hits else 0.0),
            spread=spread,
        )
        return Ranking(terms, corrections, tuple(hits[:k]), evidence, vector)
