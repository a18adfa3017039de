"""The bulk analyzer and one-pass build give exactly what the careful, per-token path gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.analysis.spelling import (
    SpellingIndex,
    _delete_table,
    delete_hashes,
    one_edit_apart,
    osa_distance,
    rare_variants,
)
from index.analysis.text import Analyzer, SlavicAnalyzer, _SpacedTable, normalize, spaced
from index.content.loader import load_corpus
from index.lexical.bm25 import BM25Params
from index.lexical.engine import FastBM25
from index.lexical.lexicon import build, postings, term_variants
from index.scale.units import analyse
from tests.benchmarks.workload import generate_texts

ROOT = Path(__file__).resolve().parents[1]
TRICKY = [
    "Ust‑Kamenogorsk dual-use people's 2.5 e.g. i.e. x-ray's ’s 'quoted' rock-'n'-roll",
    "ﬁne ﬀ İstanbul ß Straße ǅ Ⅻ ½ ＡＢＣ",
    "a-b-c --x x-- .5 5. U.S.A. 1.2.3-4 don't o'clock l'état",
    "end.\nNext ._. '-' x'y.z-w ...a... -'- a_.b __a-b__ 1.2. .3. 'tis ‐x‑y―z",
    "aren't. i've e.g i.e. I'VE That's. u.s. ABOVE. above.. .above x.-y i’ve. don't- -don't",
    "Kaz\u200bakhstan\u00a0tab\there, snake_case __init__ 中文 العربية 🙂‍🙂",
]


def texts() -> list[str]:
    corpus = load_corpus(ROOT / "content")
    out = [p.text for p in corpus.passages] + sorted({p.section for p in corpus.passages})
    out += [t.text for p in corpus.passages for t in corpus.translations_of(p)]
    for path in sorted((ROOT / "tests" / "data").rglob("*.jsonl")):
        out += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    out += generate_texts(2000, [p.text for p in corpus.passages], np.random.default_rng(7))
    return out + TRICKY


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    return texts()


def reference_terms(analyzer: Analyzer, text: str) -> list[tuple[str, str]]:
    return [(token.word, token.term) for token in analyzer.tokens(text)]


@pytest.mark.parametrize("make", [Analyzer, SlavicAnalyzer])
def test_bulk_words_and_terms_equal_the_token_path(make: type[Analyzer], corpus_texts: list[str]) -> None:
    analyzer = make()
    assert len(corpus_texts) > 3000
    for text in corpus_texts:
        assert list(zip(analyzer.words(text), analyzer.terms(text), strict=True)) == reference_terms(
            make(), text
        ), text[:80]


def test_bulk_spacing_equals_the_per_character_fold_with_separators_as_spaces(
    corpus_texts: list[str],
) -> None:
    table = _SpacedTable()
    for text in corpus_texts:  # TRICKY included
        expected = "".join(c if c.isalnum() or c in "'.-" else " " for c in normalize(text))
        assert spaced(text, table) == expected


def test_one_pass_build_equals_bags_built_token_by_token(corpus_texts: list[str]) -> None:
    analyzer = Analyzer()
    reference = Analyzer()
    counts: dict[str, int] = {}
    for text in corpus_texts:
        for token in reference.tokens(text):
            counts[token.word] = counts.get(token.word, 0) + 1
    analysed = analyse(corpus_texts, analyzer)
    assert analysed.counts() == counts and list(analysed.counts()) == list(counts)
    variants = term_variants(counts, reference)
    assert variants, "the generated corpus has rare slips of frequent words"
    bags = [[variants.get(t.term, t.term) for t in reference.tokens(text)] for text in corpus_texts]
    expected = FastBM25(bags, BM25Params()).postings
    got = postings(analysed, analyzer, variants, BM25Params()).postings
    assert got.terms == expected.terms
    for name in ("idf", "indptr", "docs", "weights"):
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name


def test_build_on_the_interview_keeps_its_slip_and_sections() -> None:
    corpus = load_corpus(ROOT / "content")
    lexical = build(corpus, Analyzer(), BM25Params(), spelling=True)
    assert lexical.variants == {"kazakstan": "kazakhstan"}
    assert len(lexical.body) == len(corpus.passages) == len(lexical.section_of)
    assert len(lexical.titles) == len(corpus.sections)


def test_compact_speller_answers_as_an_exhaustive_search(corpus_texts: list[str]) -> None:
    analyzer = Analyzer()
    # The interview and its questions, and some generated passages: a few thousand words.
    counts = analyse(corpus_texts[:1500] + corpus_texts[-50:], analyzer).counts()
    speller = SpellingIndex(counts)
    known = [w for w in counts if len(w) >= 4 and not w.isdigit()]
    rng = np.random.default_rng(3)
    typed = []
    for word in rng.choice(known, 20).tolist():
        at = int(rng.integers(len(word)))
        typed += [word[:at] + word[at + 1 :], word[:at] + "x" + word[at:], word[:at] + "q" + word[at + 1 :]]
    typed += ["kazakstan", "humanitarain", "zzzzzzzz", "ab", "12345x"]
    for word in typed:
        if len(word) < 5 or any(c.isdigit() for c in word):
            assert speller.correct(word) is None
            continue
        near = [w for w in known if abs(len(w) - len(word)) <= 1 and w != word]
        close = [w for w in near if osa_distance(word, w) == 1]
        expected = max(close, key=lambda w: (counts[w], w)) if close else None
        assert speller.correct(word) == expected, word
    # The texts' own slips, with and without the speller's deletes, against an exhaustive search.
    frequent = {w: n for w, n in counts.items() if n >= 20 and len(w) >= 5 and not w.isdigit()}
    expected_slips = {}
    for word, n in counts.items():
        if n <= 2 and len(word) >= 6 and word not in frequent and not any(c.isdigit() for c in word):
            close = [w for w in frequent if w != word and osa_distance(word, w) == 1]
            if close and (best := max(close, key=lambda w: (frequent[w], w))) and frequent[best] >= 20 * n:
                expected_slips[word] = best
    assert expected_slips
    assert rare_variants(counts) == expected_slips == rare_variants(counts, speller=speller)


def test_one_edit_apart_is_osa_distance_one() -> None:
    rng = np.random.default_rng(11)
    words = ["", "a", "ab", "ba", "aab", "abab", "kazakhstan", "гуманітарна", "🙂x🙂", "aaaa", "abba"]
    words += ["".join(rng.choice(list("abcd"), int(rng.integers(0, 7))).tolist()) for _ in range(300)]
    edited = []
    for word in words:  # one and two random edits of each word: near pairs, not only far ones
        for _ in range(2):
            out = list(word)
            for _ in range(int(rng.integers(1, 3))):
                at = int(rng.integers(len(out) + 1))
                kind = int(rng.integers(4))
                if kind == 0:
                    out.insert(at, str(rng.choice(list("abcd"))))
                elif kind == 1 and at < len(out):
                    del out[at]
                elif kind == 2 and at < len(out):
                    out[at] = str(rng.choice(list("abcd")))
                elif at + 1 < len(out):
                    out[at], out[at + 1] = out[at + 1], out[at]
            edited.append((word, "".join(out)))
    pairs = edited + [(a, b) for a in words[:60] for b in words[:60]]
    assert sum(osa_distance(a, b) == 1 for a, b in pairs) > 200
    for a, b in pairs:
        assert one_edit_apart(a, b) == (osa_distance(a, b) == 1), (a, b)


def test_delete_hashes_of_all_words_at_once_equal_one_word_at_a_time() -> None:
    words = ["kazakhstan", "гуманітарна", "aab", "a", "ab", "🙂x🙂", "straße", "kazakstan", "допомогу"]
    keys, owners = _delete_table(words)
    for number, word in enumerate(words):
        assert sorted(keys[owners == number].tolist()) == sorted(delete_hashes(word))
        # The hash of a delete is the hash of the shorter word itself.
        for i in range(len(word)):
            assert delete_hashes(word[:i] + word[i + 1 :])[0] in delete_hashes(word)
    assert bool(np.all(keys[1:] >= keys[:-1]))
