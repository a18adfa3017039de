"""Turn text into search terms, the same way for passages and questions."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

# A standard English stop list plus the words people put around a question
# ("tell me", "please", "what about"): measured on this interview, question
# words are rare in the answers, get a high idf and drag unrelated passages up.
ENGLISH_STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he he'd
    he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into
    is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only
    or other ought our ours ourselves out over own same shan't she she'd she'll she's should
    shouldn't so some such than that that's the their theirs them themselves then there there's
    these they they'd they'll they're they've this those through to too under until up very was
    wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while
    who who's whom why why's will with won't would wouldn't you you'd you'll you're you've your
    yours yourself yourselves tell please know want wanted like say said give many much ever
    anything something whether s t d ll m re ve y etc i.e e.g
    """.split()
)

# Typographic variants folded before tokenising: curly quotes, and hyphen-like
# characters that join words ("Ust‑Kamenogorsk"). En and em dashes separate.
_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": " ",
        "\u2013": " ",
        "\u2014": " ",
        "\u2015": " ",
        "\u2212": "-",
    }
)
# A word: letters or digits, possibly joined by hyphens, apostrophes or
# decimal points ("dual-use", "people's", "2.5").
_WORD_RE = re.compile(r"[^\W_]+(?:['.\-][^\W_]+)*")
_DIGITS = re.compile(r"^\d+(?:\.\d+)*$")


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the text, where it stands, and the search term it gives."""

    start: int
    end: int
    word: str
    """The folded surface form, used for spelling tolerance."""
    term: str
    """The stemmed search term."""


def normalize(text: str) -> str:
    """Fold compatibility forms, quotes, dashes and case, keeping each character's place.

    Folding is per character and a fold that would change the length is not
    applied, so offsets in the result are offsets in the original text.
    """
    return "".join(_fold_char(char) for char in text)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).translate(_FOLD).casefold()
    if len(folded) == 1:
        return folded
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


_JOINERS = "'.-"
# A character that can be in no word (not a letter, digit or joiner) becomes a space,
# so that str.split finds the same runs _WORD_RE would: [^\W_] is exactly str.isalnum.
_ASCII_SPACED = bytes(b if chr(b).isalnum() or chr(b) in _JOINERS else 32 for b in range(256))


class _SpacedTable(dict[int, str]):
    """str.translate table: each character's fold, with characters that are in no word as spaces."""

    def __missing__(self, code: int) -> str:
        spaced = self[code] = "".join(
            c if c.isalnum() or c in _JOINERS else " " for c in _fold_char(chr(code))
        )
        return spaced


def spaced(text: str, table: _SpacedTable) -> str:
    """Return normalize(text) with every character that is in no word turned into a space, in bulk."""
    if text.isascii():
        # ASCII is its own NFKC form, _FOLD has no ASCII keys, and casefold is lower.
        return text.lower().encode("ascii").translate(_ASCII_SPACED).decode("ascii")
    return text.translate(table)


class Analyzer:
    """English analyzer: normalise, split, drop stop words, Snowball-stem."""

    # Stems kept per analyzer; cleared when it grows past this many words.
    STEM_CACHE = 1 << 20
    MIN_LENGTH = 1
    """Shorter words are dropped."""

    def __init__(self, stop_words: frozenset[str] = ENGLISH_STOP_WORDS, language: str = "english"):
        self.stop_words = stop_words
        self.language = language
        # PyStemmer's own cache (10,000 words by default) is off: the stems are cached here, and once
        # a vocabulary outgrows it, it costs more than it saves (42,000 words: 39 ms with it, 11 without).
        self._stemmer = Stemmer.Stemmer(language, 0)
        self._stems: dict[str, str] = {}
        self._spaced = _SpacedTable()
        self._dropped = self._droppable()

    def __reduce__(self) -> tuple[type[Analyzer], tuple[frozenset[str], str]]:
        """Pickle as the constructor's arguments (for analysis in other processes), not the caches."""
        return (type(self), (self.stop_words, self.language))

    @property
    def signature(self) -> str:
        """Return a string that changes whenever the analyzer's output would."""
        return f"analyzer-v1:{self.language}:{len(self.stop_words)}:{hash_words(self.stop_words)}"

    def tokens(self, text: str) -> list[Token]:
        """Return the search tokens of a text with their offsets (for bolding), hyphenated words also joined.

        The careful path, character by character; `words` gives the same words in bulk.
        """
        folded = normalize(text)
        out: list[Token] = []
        for match in _WORD_RE.finditer(folded):
            raw = match.group()
            start = match.start()
            pieces = self._pieces(raw)
            for piece, offset in pieces:
                self._add(out, piece, start + offset, start + offset + len(piece))
            if len(pieces) > 1 and "-" in raw:
                joined = "".join(p for p, _ in pieces if p)
                self._add(out, joined, start, match.end())
        return out

    def words(self, text: str) -> list[str]:
        """Return the folded words of `tokens(text)`, in order, without offsets: the bulk path."""
        # Separators are spaces, so str.split gives runs that hold one or more of _WORD_RE's words;
        # only a run with a hyphen, point or apostrophe (often just a full stop) needs the regex.
        text = spaced(text, self._spaced)
        parts = text.split()
        stop, shortest = self.stop_words, self.MIN_LENGTH
        if "'" not in text and "." not in text and "-" not in text:
            return [w for w in parts if len(w) >= shortest and w not in stop]
        out: list[str] = []
        append, dropped = out.append, self._dropped
        for part in parts:
            if part in dropped:  # "i've", "that's": what the careful path would drop
                continue
            word = part if part.isalnum() else part.rstrip(".")  # "above." at the end of a sentence
            if not word.isalnum():
                self._careful_into(out, part)
            elif len(word) >= shortest and word not in stop:
                append(word)
        return out

    def _droppable(self) -> frozenset[str]:
        """Return the stop words that the careful path drops whole: a run equal to one is skipped at once."""
        dropped = []
        for word in self.stop_words:
            kept: list[str] = []
            self._careful_into(kept, word)
            if not kept:
                dropped.append(word)
        return frozenset(dropped)

    def _careful_into(self, out: list[str], part: str) -> None:
        """Append the words of a run with a joiner, as tokens() finds them."""
        stop, shortest, append = self.stop_words, self.MIN_LENGTH, out.append
        for raw in _WORD_RE.findall(part):
            if raw.isalnum():
                if len(raw) >= shortest and raw not in stop:
                    append(raw)
                continue
            pieces = self._pieces(raw)
            for piece, _ in pieces:
                self._keep_into(out, piece)
            if len(pieces) > 1 and "-" in raw:
                self._keep_into(out, "".join(p for p, _ in pieces if p))

    def stem(self, word: str) -> str:
        """Return the search term of one folded word."""
        term = self._stems.get(word)
        if term is None:
            term = self.stems([word])[0]
        return term

    def stems(self, words: list[str]) -> list[str]:
        """Return the search term of each folded word, stemming the new ones in one batch."""
        cache = self._stems
        try:
            return list(map(cache.__getitem__, words))
        except KeyError:
            new = list({w: None for w in words if w not in cache})
            if len(cache) + len(new) > self.STEM_CACHE:
                cache.clear()
            cache.update(zip(new, self._stem_batch(new), strict=True))
            return list(map(cache.__getitem__, words))

    def terms(self, text: str) -> list[str]:
        """Return only the terms, in order, repeats kept (the BM25 bag of words)."""
        return self.stems(self.words(text))

    def _stem_batch(self, words: list[str]) -> list[str]:
        stemmed: list[str] = self._stemmer.stemWords(words)
        return stemmed

    def _pieces(self, raw: str) -> list[tuple[str, int]]:
        if _DIGITS.match(raw) or ("-" not in raw and "." not in raw):
            return [(raw, 0)]
        pieces: list[tuple[str, int]] = []
        offset = 0
        for piece in re.split(r"([-.])", raw):
            if piece not in ("-", ".") and piece:
                pieces.append((piece, offset))
            offset += len(piece)
        return pieces

    def _keep(self, word: str) -> str | None:
        """Return the word as indexed, or None for a stop word."""
        if word in self.stop_words or not word:
            return None
        if "'" in word:
            # Possessives and elisions: "kazakhstan's" -> "kazakhstan".
            head = word.split("'", 1)[0]
            if head in self.stop_words or not head:
                return None
            word = head
        return word

    def _keep_into(self, out: list[str], word: str) -> None:
        kept = self._keep(word)
        if kept is not None:
            out.append(kept)

    def _add(self, out: list[Token], word: str, start: int, end: int) -> None:
        kept = self._keep(word)
        if kept is not None:
            out.append(Token(start, end, kept, self.stem(kept)))


# Openings that lean on the paragraph before ("Such critical assistance",
# "Therefore", "On the way to implementing these plans").
_REFERS_BACK = re.compile(
    r"^\W*(?:\w+\W+){0,5}?(?:these|those|such|therefore|in other words|the other)\b", re.IGNORECASE
)


def refers_back(text: str) -> bool:
    """Return True if a paragraph opens by pointing at the one before it."""
    return _REFERS_BACK.match(text) is not None


def hash_words(words: frozenset[str]) -> str:
    """Return a short stable digest of a word set."""
    return hashlib.blake2b("\n".join(sorted(words)).encode(), digest_size=6).hexdigest()


# Ukrainian and Russian function words; shorter words are dropped anyway.
SLAVIC_STOP_WORDS = frozenset(
    """
    але або але без біля був була були було бути вам вас від він вона вони все всі для його де дуже
    єсть є їх коли котрий лише між мене мені може можна на над наш нас немає них ніж про під після
    при так також там тепер тим тих то тобто того той треба тут хто це цей цих чем чи чого чому щоб
    що який яка яке які як
    без был была были было быть вам вас весь все всё где для его если есть еще ещё же или как какая
    какие какой когда кто между мне может можно над надо наш нас нет них но обо она они под после
    при так также там тем теперь тех то того тоже только тут уже чем что чтобы эта эти это этот
    """.split()
)
# Letters that Ukrainian and Russian spell the same roots with differently.
_SLAVIC_FOLD = str.maketrans(
    {"і": "и", "ї": "и", "є": "е", "ґ": "г", "ё": "е", "ы": "и", "э": "е", "ъ": "", "ь": "", "'": ""}
)


class SlavicAnalyzer(Analyzer):
    """Ukrainian and Russian alike: fold the letters the two spell differently, keep a 5-letter prefix.

    Prefix truncation is a robust stemmer for inflected Slavic words, and after
    folding it maps many Ukrainian and Russian forms of one root to one term
    (допомога/допомогу, гуманітарна/гуманитарная -> допом, гуман).
    """

    PREFIX = 5
    MIN_LENGTH = 3

    def __init__(self) -> None:
        self.stop_words = SLAVIC_STOP_WORDS
        self.language = f"slavic-prefix{self.PREFIX}"
        self._stems = {}
        self._spaced = _SpacedTable()
        self._dropped = self._droppable()

    def __reduce__(self) -> tuple[type[Analyzer], tuple[()]]:  # type: ignore[override]
        """Pickle as a new analyzer of this kind."""
        return (type(self), ())

    def _stem_batch(self, words: list[str]) -> list[str]:
        return [word.translate(_SLAVIC_FOLD)[: self.PREFIX] for word in words]

    def _keep(self, word: str) -> str | None:
        word = word.replace("'", "")
        if len(word) < self.MIN_LENGTH or word in self.stop_words:
            return None
        return word
