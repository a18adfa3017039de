"""Tolerate one slip in a word of the question: Kazakstan, Zelensky, Chornobyl."""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray


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
    """Find the known word one edit away from an unknown one (symmetric-delete lookup).

    Compact: every delete of every word is kept as a 32-bit CRC beside the word's
    number, sorted, in two arrays (8 bytes a delete, about 0.5 MB per 10,000
    words, against some 10 MB as a dict of lists). A CRC that two deletes share
    only adds a candidate, and every candidate is checked by its distance, so
    the answers are those of an exact lookup.
    """

    def __init__(self, word_counts: dict[str, int], min_length: int = 5) -> None:
        self.min_length = min_length
        words = [w for w in word_counts if len(w) >= min_length - 1 and not w.isdigit()]
        self.words = tuple(words)
        self.counts = np.fromiter((word_counts[w] for w in words), dtype=np.int64, count=len(words))
        owners = array("i")
        keys = array("I")
        for number, word in enumerate(words):
            crcs = _delete_crcs(word)
            keys.extend(crcs)
            owners.extend([number] * len(crcs))
        key_array = np.frombuffer(keys, dtype=np.uint32) if keys else np.zeros(0, dtype=np.uint32)
        order = np.argsort(key_array, kind="stable")
        self.keys = key_array[order]
        self.owners = (np.frombuffer(owners, dtype=np.int32) if owners else np.zeros(0, np.int32))[order]

    @classmethod
    def from_arrays(
        cls,
        words: tuple[str, ...],
        counts: NDArray[np.int64],
        keys: NDArray[np.uint32],
        owners: NDArray[np.int32],
        min_length: int = 5,
    ) -> SpellingIndex:
        """Return an index from arrays saved earlier; raise ValueError if they do not fit together."""
        if counts.shape != (len(words),) or keys.shape != owners.shape or keys.ndim != 1:
            raise ValueError("spelling arrays of different lengths")
        if len(owners) and (int(owners.min()) < 0 or int(owners.max()) >= len(words)):
            raise ValueError("spelling index names a word it does not have")
        if len(keys) > 1 and bool(np.any(keys[1:] < keys[:-1])):
            raise ValueError("spelling keys are not sorted")
        index = cls.__new__(cls)
        index.min_length = min_length
        index.words, index.counts, index.keys, index.owners = words, counts, keys, owners
        return index

    def correct(self, word: str) -> str | None:
        """Return the most frequent known word within one edit, or None."""
        if len(word) < self.min_length or any(ch.isdigit() for ch in word):
            return None
        wanted = np.asarray(_delete_crcs(word), dtype=np.uint32)
        lo = np.searchsorted(self.keys, wanted, side="left")
        hi = np.searchsorted(self.keys, wanted, side="right")
        numbers = {int(n) for a, b in zip(lo.tolist(), hi.tolist(), strict=True) for n in self.owners[a:b]}
        best = [n for n in numbers if self.words[n] != word and osa_distance(word, self.words[n]) == 1]
        if not best:
            return None
        return self.words[max(best, key=lambda n: (int(self.counts[n]), self.words[n]))]

    @classmethod
    def from_words(cls, words: Iterable[str], min_length: int = 5) -> SpellingIndex:
        """Build the index from every occurrence of every word."""
        counts: dict[str, int] = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        return cls(counts, min_length)


def _delete_crcs(word: str) -> list[int]:
    """Return the CRC-32 of the word and of each of its deletes (repeats possible)."""
    raw = word.encode("utf-8", "surrogatepass")
    if len(raw) == len(word):
        # One byte a character: delete bytes, not characters, without encoding each delete.
        return [zlib.crc32(raw), *(zlib.crc32(raw[:i] + raw[i + 1 :]) for i in range(len(raw)))]
    return [zlib.crc32(d.encode("utf-8", "surrogatepass")) for d in _deletes(word)]


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
    # The frequent words are few: a plain dict of their deletes answers fastest.
    by_delete: dict[str, list[str]] = {}
    for known in frequent:
        if not known.isdigit():
            for variant in _deletes(known):
                by_delete.setdefault(variant, []).append(known)
    variants: dict[str, str] = {}
    for word, count in counts.items():
        if count > max_rare or len(word) < min_length or word in frequent or any(c.isdigit() for c in word):
            continue
        candidates = {c for variant in _deletes(word) for c in by_delete.get(variant, ())}
        best = [c for c in candidates if c != word and osa_distance(word, c) == 1]
        if best:
            target = max(best, key=lambda c: (frequent[c], c))
            if frequent[target] >= min_ratio * count:
                variants[word] = target
    return variants
