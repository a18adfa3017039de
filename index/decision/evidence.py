"""Evidence: what the answer-or-decline decision sees about a question and each ranked passage.

Gathered from a Ranking (index.fusion) apart from ranking it: the same for every document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from index.analysis.language import question_script
from index.content.records import Passage
from index.decision.answer_type import Wanted, supplies, wanted
from index.fusion.hybrid import HybridIndex, Ranking

__all__ = ["Assessed", "Evidence", "assess", "gather"]

_WORD = re.compile(r"\w+")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


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
    """Similarity to the nearest example of small talk or an off-topic request (index.decision.intents)."""
    translated: bool = False
    """A Ukrainian or Russian question with a translation of the best passage to match it against."""
    asks_fact: bool = False
    """The question asks how many, when or who."""
    fact_missing: bool = False
    """It does, and the passage's sentence nearest the question has no number, date or name."""
    later_year: bool = False
    """The question names a year later than every text's date that no passage mentions."""
    part: bool = False
    """The evidence is for one sentence of a longer message, not the whole message."""
    fact_absent: bool = False
    """The question asks how many, when or who, and the passage has no such fact in any language: it
    cannot answer, however near its topic (the decision declines it whatever the probability)."""


@dataclass(frozen=True, slots=True)
class Assessed:
    """A ranking and the evidence about each of its hits (as if it were the best)."""

    ranking: Ranking
    each: tuple[Evidence, ...]
    common: Evidence
    """What is known without a passage: the evidence when nothing was found."""

    @property
    def evidence(self) -> Evidence:
        """Return the evidence about the best passage."""
        return self.each[0] if self.each else self.common

    def with_message(self, *, intent: float, part: bool) -> Assessed:
        """Return the evidence with what is known of the message itself: its intent, whether it is a part."""
        return Assessed(
            self.ranking,
            tuple(replace(e, intent=intent, part=part) for e in self.each),
            replace(self.common, intent=intent, part=part),
        )

    def reordered(self, order: list[int]) -> Assessed:
        """Return the hits and their evidence in another order."""
        ranking = replace(self.ranking, hits=tuple(self.ranking.hits[j] for j in order))
        return Assessed(ranking, tuple(self.each[j] for j in order), self.common)


def assess(index: HybridIndex, question: str, k: int, language: str) -> Assessed:
    """Rank passages for a question and gather the evidence about each."""
    ranking = index.search(question, k, language)
    common, each = gather(index, question, language, ranking)
    return Assessed(ranking, each, common)


def gather(
    index: HybridIndex, question: str, language: str, ranking: Ranking
) -> tuple[Evidence, tuple[Evidence, ...]]:
    """Return the evidence without a passage, and about each hit of the ranking."""
    hits = ranking.hits
    script = question_script(question)
    common = Evidence(
        language=language,
        script=script,
        translit=script == "latin" and language in ("uk", "ru"),
        translated=language in ("uk", "ru") and bool(hits) and index.has_translation(hits[0].passage),
        words=len(_WORD.findall(question)),
        later_year=later_year(index, question),
        coverage=0.0,
        unknown=index.unknown(question, language, ranking.terms),
        bm25_margin=0.0,
    )
    asked = wanted(question)
    following = [*hits[1:], ranking.following][: len(hits)]
    each = tuple(
        replace(
            common,
            coverage=hit.coverage,
            cosine=hit.cosine or 0.0,
            margin=hit.score - (after.score if after is not None else 0.0),
            bm25_margin=_relative_gap(hit.bm25, after.bm25 if after is not None else 0.0),
            spread=ranking.spreads[j],
            asks_fact=asked is not None,
            fact_missing=not supplies(asked, ranking.nearest[j], question),
            fact_absent=asked is not None and not supplies_anywhere(index, asked, hit.passage, question),
        )
        for j, (hit, after) in enumerate(zip(hits, following, strict=True))
    )
    return common, each


def later_year(index: HybridIndex, question: str) -> bool:
    """Return whether the question names a year after the newest text that no passage mentions."""
    return any(
        int(year) > index.latest_year and year not in index.lexical.engine for year in _YEAR.findall(question)
    )


def supplies_anywhere(index: HybridIndex, asked: Wanted, passage: Passage, question: str) -> bool:
    """Return whether the passage or one of its translations holds a fact of the kind asked for."""
    versions = (passage, *index.lexical.corpus.translations_of(passage))
    return any(supplies(asked, version.text, question) for version in versions)


def _relative_gap(best: float, second: float) -> float:
    return (best - second) / best if best > 0 else 0.0
