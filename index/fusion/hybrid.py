"""Retrieve and fuse: rank passages by a weighted sum of the embedding cosine and the BM25 coverage.

What ranking saw of each passage (its spread, its nearest sentence) travels in the Ranking; the
decision's evidence is gathered from it apart (index.decision.evidence).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from index.analysis.language import question_script, to_cyrillic, to_latin
from index.analysis.text import SlavicAnalyzer
from index.content.loader import Corpus, Passage
from index.lexical.ranking import Hit, PassageIndex, RankingParams

if TYPE_CHECKING:
    from index.semantic.dense import DenseIndex

# Candidates scored in full from each side; the rest cannot reach the top k.
CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class Ranking:
    """The ranked passages for a question, and what ranking saw of each (for the decision's evidence)."""

    terms: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    hits: tuple[Hit, ...]
    query_vector: NDArray[np.float32] | None = None
    following: Hit | None = None
    """The passage after the last hit: each hit's margin is over the next one."""
    spreads: tuple[float, ...] = ()
    """Per hit: how far its cosine stands above the mean cosine of all passages, in standard deviations."""
    nearest: tuple[str, ...] = ()
    """Per hit: its sentence nearest the question (the whole passage without a model)."""


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
    if not corpus.translations:
        return []  # and no passage is read: a cached start parses none
    by_language: dict[str, list[tuple[int, Passage]]] = {}
    for start, end in corpus.translated_runs():  # a lazy corpus parses the translated documents alone
        for i in range(start, end):
            for translation in corpus.translations_of(corpus.passages[i]):
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

    score = w · cosine + (1 - w) · coverage + t · title cosine, where coverage is the
    idf-weighted share of the question's words a passage has (a translation's coverage
    only orders the passages of its own document) and the title cosine that of the
    passage's section title; w and t are fitted on the training questions. The same for
    every document: nothing depends on which texts have training questions.
    Without a model (SEMANTIC=off) the order is rank-bm25's.
    """

    def __init__(
        self,
        lexical: PassageIndex,
        dense: DenseIndex | None,
        fusion_weight: float = 0.8,
        translated: Sequence[TranslatedIndex] = (),
        fusion_weight_other: float | None = None,
        *,
        title_weight: float = 0.0,
    ) -> None:
        self.lexical = lexical
        self.dense = dense
        self.fusion_weight = fusion_weight
        self.fusion_weight_other = fusion_weight if fusion_weight_other is None else fusion_weight_other
        """The weight for questions in Ukrainian or Russian, whose coverage comes from translations."""
        self.translated = tuple(translated)
        self.title_weight = title_weight
        """Weight of the cosine of the passage's section title (an FAQ's question) in the fused score."""
        years = [int(d.date[:4]) for d in lexical.corpus.documents if d.date[:4].isdigit()]
        self.latest_year = max(years, default=0)
        """The year of the newest text: a question about a later year asks what they cannot say."""

    def _translated_coverage(self, question: str, language: str) -> Callable[[int], float]:
        """Return a function: original passage number -> coverage of the question by its translations.

        Only for a question in Ukrainian or Russian (Latin-typed ones are read in Cyrillic).
        """
        if language not in ("uk", "ru") or not self.translated:
            return lambda i: 0.0
        text = question if question_script(question) == "cyrillic" else to_cyrillic(question, language)
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
                    best = max(best, math.fsum(weights[t] for t in set(matched)) / total)
            return best

        return coverage

    def _translated_unknown(self, question: str, language: str) -> float:
        """Return the share of a Ukrainian or Russian question's weight in words no translation has."""
        text = question if question_script(question) == "cyrillic" else to_cyrillic(question, language)
        shares = []
        for translated in self.translated:
            terms, _ = translated.index.query_terms(text)
            shares.append(translated.index.unknown_share(terms) if terms else 0.0)
        return min(shares)

    def _translated_top(self, question: str, language: str, k: int) -> list[tuple[int, float]]:
        """Return original passage numbers ranked by rank-bm25 on their translations, best first."""
        text = question if question_script(question) == "cyrillic" else to_cyrillic(question, language)
        best: dict[int, float] = {}
        for translated in self.translated:
            terms, _ = translated.index.query_terms(text)
            for j, score in translated.index.engine.top_k(terms, k) if terms else []:
                i = translated.owners[j]
                best[i] = max(best.get(i, 0.0), score)
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]

    def query_vector(
        self, question: str, language: str, corrections: Sequence[tuple[str, str]] = ()
    ) -> NDArray[np.float32] | None:
        """Embed a question; Latin-typed Russian or Ukrainian is embedded as read in Cyrillic.

        Measured on the training questions typed in Latin letters: top-1 0.78 read in
        Cyrillic, 0.67 as typed, 0.70 for the mean of both. An English question with
        misspelt words (`corrections`, typed -> known) is the mean of it as typed and as
        corrected: a word read wrongly still counts half.
        """
        if self.dense is None:
            return None
        if question_script(question) == "latin" and language in ("uk", "ru"):
            question = to_cyrillic(question, language)
        if language == "en" and corrections:
            fixed = question
            for typed, known in corrections:
                fixed = re.sub(rf"\b{re.escape(typed)}\b", known, fixed, flags=re.IGNORECASE)
            return self.dense.embed_question([question, fixed])
        return self.dense.embed_question([question])

    def _names(self, question: str, language: str, terms: tuple[str, ...]) -> list[str]:
        """Return the known terms of a Cyrillic question read in Latin letters (Кусто -> kusto).

        Names of people, places and companies are spelt in Latin letters in the
        English texts; only words of 4 letters or more that the texts have count.
        """
        found: list[str] = []
        for token in self.lexical.analyzer.tokens(to_latin(question, language)):
            term = self.lexical.variants.get(token.term, token.term)
            if (
                len(token.word) >= 4
                and term in self.lexical.engine
                and term not in terms
                and term not in found
            ):
                found.append(term)
        return found

    def search(self, question: str, k: int, language: str) -> Ranking:
        """Return up to k passages, best first, with what ranking saw of each."""
        lexical = self.lexical
        terms, corrections = lexical.query_terms(question)
        if language in ("uk", "ru") and question_script(question) == "cyrillic":
            terms = (*terms, *self._names(question, language, terms))
        weights = lexical.term_weights(terms)
        total = sum(weights.values())
        translated = self._translated_coverage(question, language)

        def coverage(i: int) -> tuple[tuple[str, ...], float]:
            """Return the matched words and the share of the question's weight they carry (own words)."""
            matched = lexical.engine.matched(i, terms) if terms else ()
            return matched, math.fsum(weights[t] for t in set(matched)) / total if total > 0 else 0.0

        vector = self.query_vector(question, language, corrections)
        passages = lexical.corpus.passages

        shown = max(k, 0) + 1  # one more than shown: each hit's margin over the next
        bm25_top = lexical.engine.top_k(terms, max(shown, CANDIDATES)) if terms and len(lexical) else []
        bm25 = dict(bm25_top)
        if vector is None or self.dense is None:
            if language in ("uk", "ru") and self.translated:
                # Translated passages by rank-bm25 on their translation; a passage without a
                # translation can still come first by its English score (names in the question).
                merged = dict(bm25_top)
                merged.update(self._translated_top(question, language, max(shown, CANDIDATES)))
                best = {i: max(coverage(i)[1], translated(i)) for i in merged}
                bm25_top = sorted(merged.items(), key=lambda item: (-best[item[0]], -item[1], item[0]))
            hits = []
            for i, score in bm25_top[:shown]:
                matched, plain = coverage(i)
                hits.append(Hit(i, score, matched, score, max(plain, translated(i)), records=passages))
            spreads = [0.0] * len(hits)
            nearest = [hit.passage.text for hit in hits]
        else:
            dense = self.dense.scores(vector)
            order = np.argsort(-dense.cosine, kind="stable")[:CANDIDATES].tolist()
            w = self.fusion_weight_other if language in ("uk", "ru") else self.fusion_weight
            scored = []
            candidates = list(dict.fromkeys([*order, *bm25]))
            # A translation's coverage orders the passages of its own document only: every
            # document's best passage competes on what all documents have (cosine, own words).
            own = {i: translated(i) for i in candidates}
            lead: dict[str, float] = {}
            if any(own.values()):  # else no passage is read: a lazy corpus stays unparsed
                for i in candidates:
                    document = passages[i].document.id
                    lead[document] = max(lead.get(document, 0.0), own[i])
            for i in candidates:
                matched, plain = coverage(i)
                share = max(plain, own[i])
                fair = plain + own[i] - (lead[passages[i].document.id] if lead else 0.0)
                title = self.title_weight * float(dense.title[i]) if dense.title is not None else 0.0
                scored.append((w * float(dense.cosine[i]) + (1 - w) * fair + title, -i, matched, share))
            scored.sort(reverse=True)
            hits, spreads, nearest = [], [], []
            for fused, neg, matched, share in scored[:shown]:
                cos = float(dense.cosine[-neg])
                hits.append(
                    Hit(-neg, fused, matched, bm25.get(-neg, 0.0), share, cos, lexical.corpus.passages)
                )
                spread = (cos - dense.mean) / dense.std if dense.std > 0 else 0.0
                spreads.append(spread)
                nearest.append(self.dense.best_sentence(dense, -neg))
        shown_hits = tuple(hits[:k])
        return Ranking(
            terms,
            corrections,
            shown_hits,
            vector,
            hits[k] if len(hits) > k else None,
            tuple(spreads[:k]),
            tuple(nearest[:k]),
        )

    def has_translation(self, passage: Passage) -> bool:
        """Return whether the passage has a translation that questions are matched against."""
        return bool(self.translated) and bool(self.lexical.corpus.translations_of(passage))

    def unknown(self, question: str, language: str, terms: Sequence[str]) -> float:
        """Return the share of the question's weight in words the texts in its language lack."""
        if language in ("uk", "ru"):
            # Without a translation there is no text in the question's language to find its words in.
            return self._translated_unknown(question, language) if self.translated else 0.0
        return self.lexical.unknown_share(terms) if terms else 0.0
