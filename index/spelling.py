"""Tolerate one slip in a word of the question: Kazakstan, Zelensky, Chornobyl."""

from __future__ import annotations

from collections.abc import Iterable


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))} | {word}


def osa_distance(a: str, b: str) -> int:
    """Return the optimal-string-alignment distance (edits and swaps of neighbours)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


class SpellingIndex:
    """Find the known word one edit away from an unknown one (symmetric-delete lookup)."""

    def __init__(self, word_counts: dict[str, int], min_length: int = 5) -> None:
        self.min_length = min_length
        self._counts = word_counts
        self._by_delete: dict[str, list[str]] = {}
        for word in word_counts:
            if len(word) >= min_length - 1 and not word.isdigit():
                for variant in _deletes(word):
                    self._by_delete.setdefault(variant, []).append(word)

    def correct(self, word: str) -> str | None:
        """Return the most frequent known word within one edit, or None."""
        if len(word) < self.min_length or any(ch.isdigit() for ch in word):
            return None
        candidates: set[str] = set()
        for variant in _deletes(word):
            candidates.update(self._by_delete.get(variant, ()))
        best = [c for c in candidates if c != word and osa_distance(word, c) == 1]
        if not best:
            return None
        return max(best, key=lambda c: (self._counts[c], c))

    @classmethod
    def from_words(cls, words: Iterable[str], min_length: int = 5) -> SpellingIndex:
        """Build the index from every occurrence of every word."""
        counts: dict[str, int] = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        return cls(counts, min_length)


def rare_variants(
    counts: dict[str, int], max_rare: int = 2, min_ratio: int = 20, min_length: int = 6
) -> dict[str, str]:
    """Map a rare word to a far more frequent word one edit away: a slip in the text itself.

    The published interview spells "Kazakhstan" once as "Kazakstan"; without this,
    a user's identical slip would match only that one passage.
    """
    frequent = {w: n for w, n in counts.items() if n >= min_ratio and len(w) >= min_length - 1}
    if not frequent:
        return {}
    index = SpellingIndex(frequent, min_length)
    variants: dict[str, str] = {}
    for word, count in counts.items():
        if count > max_rare or len(word) < min_length or word in frequent:
            continue
        target = index.correct(word)
        if target is not None and counts[target] >= min_ratio * count:
            variants[word] = target
    return variants
