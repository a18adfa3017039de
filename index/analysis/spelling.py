"""Tolerate one slip in a word of the question: Kazakstan, Zelensky, Chornobyl."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray


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


def one_edit_apart(a: str, b: str) -> bool:
    """Return whether osa_distance(a, b) == 1, comparing slices instead of filling the whole table."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i, shortest = 0, min(len(a), len(b))
    while i < shortest and a[i] == b[i]:
        i += 1
    # i is the first difference: one substitution, insertion, deletion or swap must explain the rest.
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    if len(a) > len(b):
        return a[i + 1 :] == b[i:]
    return a[i + 1 :] == b[i + 1 :] or (
        a[i + 1 : i + 2] == b[i : i + 1] and a[i : i + 1] == b[i + 1 : i + 2] and a[i + 2 :] == b[i + 2 :]
    )


class SpellingIndex:
    """Find the known word one edit away from an unknown one (symmetric-delete lookup).

    Compact: every delete of every word is kept as a 64-bit hash beside the word's
    number, sorted, in two arrays (12 bytes a delete, about 1 MB per 10,000 words,
    against some 10 MB as a dict of lists), computed with numpy for all words of
    one length at once. A hash that two deletes share only adds a candidate, and
    every candidate is checked by its distance, so the answers are those of an
    exact lookup.
    """

    def __init__(self, word_counts: dict[str, int], min_length: int = 5) -> None:
        self.min_length = min_length
        words = [w for w in word_counts if len(w) >= min_length - 1 and not w.isdigit()]
        self.words = tuple(words)
        self.counts = np.fromiter((word_counts[w] for w in words), dtype=np.int64, count=len(words))
        self.keys, self.owners = _delete_table(words)

    @classmethod
    def from_arrays(
        cls,
        words: tuple[str, ...],
        counts: NDArray[np.int64],
        keys: NDArray[np.uint64],
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
        wanted = np.asarray(delete_hashes(word), dtype=np.uint64)
        lo = np.searchsorted(self.keys, wanted, side="left")
        hi = np.searchsorted(self.keys, wanted, side="right")
        numbers = {int(n) for a, b in zip(lo.tolist(), hi.tolist(), strict=True) for n in self.owners[a:b]}
        best = [n for n in numbers if one_edit_apart(word, self.words[n])]
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


# Deletes are known by a 64-bit polynomial hash of their code points, computed for
# all words of one length at once: hash(a + b) = hash(a) * P**len(b) + hash(b).
_P = 1_000_003
_MASK = (1 << 64) - 1


def delete_hashes(word: str) -> list[int]:
    """Return the hash of the word and of each of its one-character deletes (repeats possible)."""
    codes = [ord(c) for c in word]
    n = len(codes)
    prefix = [0] * (n + 1)
    for j, code in enumerate(codes):
        prefix[j + 1] = (prefix[j] * _P + code) & _MASK
    suffix = [0] * (n + 1)
    power = 1
    for k in range(n - 1, -1, -1):
        suffix[k] = (codes[k] * power + suffix[k + 1]) & _MASK
        power = (power * _P) & _MASK
    powers = [1] * (n + 1)
    for k in range(1, n + 1):
        powers[k] = (powers[k - 1] * _P) & _MASK
    return [prefix[n], *((prefix[i] * powers[n - 1 - i] + suffix[i + 1]) & _MASK for i in range(n))]


def _delete_table(words: Sequence[str]) -> tuple[NDArray[np.uint64], NDArray[np.int32]]:
    """Return the delete hashes of all words, sorted, and the number of the word each belongs to."""
    keys: list[NDArray[np.uint64]] = []
    owners: list[NDArray[np.int32]] = []
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64, on purpose
        # Not np.unique: it imports numpy.ma (7 ms of a first start) to rule out masked arrays.
        for n in np.flatnonzero(np.bincount(lengths)).tolist():
            numbers = np.flatnonzero(lengths == n).astype(np.int32)
            if n == 0:
                continue
            text = "".join(words[i] for i in numbers.tolist()).encode("utf-32-le", "surrogatepass")
            codes = np.frombuffer(text, dtype=np.uint32).reshape(len(numbers), n).astype(np.uint64)
            p = np.uint64(_P)
            prefix = np.zeros((len(numbers), n + 1), dtype=np.uint64)
            for j in range(n):
                prefix[:, j + 1] = prefix[:, j] * p + codes[:, j]
            suffix = np.zeros((len(numbers), n + 1), dtype=np.uint64)
            power = np.uint64(1)
            powers = [np.uint64(1)]
            for k in range(n - 1, -1, -1):
                suffix[:, k] = codes[:, k] * power + suffix[:, k + 1]
                power = power * p
                powers.append(power)
            columns = [prefix[:, n]] + [prefix[:, i] * powers[n - 1 - i] + suffix[:, i + 1] for i in range(n)]
            keys.append(np.concatenate(columns))
            owners.append(np.tile(numbers, n + 1))
    if not keys:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32)
    all_keys, all_owners = np.concatenate(keys), np.concatenate(owners)
    # The order among equal keys is never read (lookups gather their owners into sets), so the
    # default sort serves: a fifth of a stable one's time on 400,000 deletes (7 vs 33 ms).
    order = np.argsort(all_keys)
    return all_keys[order], all_owners[order]


def rare_variants(
    counts: dict[str, int],
    max_rare: int = 2,
    min_ratio: int = 20,
    min_length: int = 6,
    speller: SpellingIndex | None = None,
) -> dict[str, str]:
    """Map a rare word to a far more frequent word one edit away: a slip in the text itself.

    The published interview spells "Kazakhstan" once as "Kazakstan"; without this,
    a user's identical slip would match only that one passage. A speller built on
    the same counts lends its deletes (it holds every word these need), so they are
    computed once.
    """
    frequent = {w: n for w, n in counts.items() if n >= min_ratio and len(w) >= min_length - 1}
    if not frequent:
        return {}
    known = [w for w in frequent if not w.isdigit()]
    rare = [
        w
        for w, n in counts.items()
        if n <= max_rare and len(w) >= min_length and w not in frequent and _DIGIT.search(w) is None
    ]
    if not known or not rare:
        return {}
    # Pairs of a rare and a frequent word that share a delete: the only ones that can be one edit apart.
    if speller is not None and speller.min_length <= min_length:
        place = {w: i for i, w in enumerate(speller.words)}
        known_keys, known_owners = _subset(speller, place, known)
        rare_keys, rare_owners = _subset(speller, place, rare)
    else:
        known_keys, known_owners = _delete_table(known)
        rare_keys, rare_owners = _delete_table(rare)
    lo = np.searchsorted(known_keys, rare_keys, side="left")
    hi = np.searchsorted(known_keys, rare_keys, side="right")
    hits = np.flatnonzero(hi > lo)
    pairs: dict[int, set[int]] = {}
    for at in hits.tolist():
        pairs.setdefault(int(rare_owners[at]), set()).update(known_owners[lo[at] : hi[at]].tolist())
    variants: dict[str, str] = {}
    for number in sorted(pairs):
        word = rare[number]
        best = [known[k] for k in pairs[number] if one_edit_apart(word, known[k])]
        if best:
            target = max(best, key=lambda c: (frequent[c], c))
            if frequent[target] >= min_ratio * counts[word]:
                variants[word] = target
    # In the order of the counts, as one loop over them would give.
    return {w: variants[w] for w in rare if w in variants}


_DIGIT = re.compile(r"\d")


def _subset(
    speller: SpellingIndex, number: dict[str, int], words: list[str]
) -> tuple[NDArray[np.uint64], NDArray[np.int32]]:
    """Return the speller's sorted deletes of these words (`number`: its words' places), numbered anew."""
    mapping = np.full(len(speller.words), -1, dtype=np.int32)
    mapping[[number[w] for w in words]] = np.arange(len(words), dtype=np.int32)
    owners = mapping[speller.owners]
    keep = owners >= 0
    return speller.keys[keep], owners[keep]
