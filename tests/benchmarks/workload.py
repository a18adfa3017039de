"""The benchmark's workload: generated English-like passages, their terms, and the questions."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

VOCABULARY = 50_000
SEED = 20240518
Json = dict[str, Any]


def pseudo_words(rng: np.random.Generator, count: int) -> list[str]:
    """Return distinct pronounceable pseudo-words."""
    onsets = "b c d f g h j k l m n p r s t v w z br cr dr fr gr pr st tr sh ch th".split()
    vowels = "a e i o u ai ea ou io".split()
    codas = ["", "", "", "n", "r", "s", "l", "t", "m", "nd", "st"]
    words: dict[str, None] = {}
    while len(words) < count:
        syllables = rng.integers(1, 5)
        word = "".join(
            onsets[rng.integers(len(onsets))] + vowels[rng.integers(len(vowels))] for _ in range(syllables)
        )
        words[word + codas[rng.integers(len(codas))]] = None
    return list(words)


def generate_texts(size: int, interview: list[str], rng: np.random.Generator) -> list[str]:
    """Return size passages: Zipf-distributed English-like words, every 20th an interview passage."""
    from index.analysis.text import ENGLISH_STOP_WORDS

    interview_words = list(
        dict.fromkeys(w.strip(".,;:()—«»\"'").lower() for p in interview for w in p.split())
    )
    stop = sorted(ENGLISH_STOP_WORDS)
    rng.shuffle(stop)
    vocab = stop + [w for w in interview_words if w and w not in ENGLISH_STOP_WORDS]
    vocab += pseudo_words(rng, VOCABULARY - len(vocab))
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    probability = 1.0 / ranks**1.05
    probability /= probability.sum()
    lengths = np.clip(rng.lognormal(mean=np.log(70), sigma=0.5, size=size), 5, 400).astype(np.int64)
    words = np.array(vocab, dtype=object)[rng.choice(len(vocab), size=int(lengths.sum()), p=probability)]
    texts: list[str] = []
    start = 0
    for i, length in enumerate(lengths.tolist()):
        if i % 20 == 19:
            texts.append(interview[(i // 20) % len(interview)])
        else:
            chunk = words[start : start + length].tolist()
            for j in range(0, len(chunk), 12):
                chunk[j] = chunk[j].capitalize()
                chunk[min(j + 11, len(chunk) - 1)] += "."
            texts.append(" ".join(chunk))
        start += length
    return texts


def generate_queries(
    bags: list[list[str]], questions: list[list[str]], count: int, seed: int
) -> list[list[str]]:
    """Return count queries of 1-6 terms: real questions plus frequent, middling and rare corpus terms."""
    rng = np.random.default_rng(seed)
    df: dict[str, int] = {}
    for bag in bags:
        for term in set(bag):
            df[term] = df.get(term, 0) + 1
    by_df = sorted(df, key=lambda t: (-df[t], t))
    frequent, middling, rare = by_df[:200], by_df[200:5000], [t for t in by_df if df[t] <= 5]
    queries = [q[:6] for q in questions if q][: count // 4]
    while len(queries) < count:
        query = []
        for _ in range(int(rng.integers(1, 7))):
            pool = (frequent, middling, rare)[int(rng.choice(3, p=(0.3, 0.45, 0.25)))]
            query.append(pool[int(rng.integers(len(pool)))])
        queries.append(query)
    order = rng.permutation(len(queries))
    return [queries[i] for i in order]


def prepare(work: Path, largest: int, query_count: int) -> Json:
    """Write the tokenised corpus and queries for the workers; return preparation timings."""
    from index.analysis.text import Analyzer
    from index.content.loader import load_corpus

    rng = np.random.default_rng(SEED)
    corpus = load_corpus(ROOT / "content")
    interview = [p.text for p in corpus.passages]
    began = time.perf_counter()
    texts = generate_texts(largest, interview, rng)
    generated = time.perf_counter() - began
    analyzer = Analyzer()
    began = time.perf_counter()
    bags = [analyzer.terms(text) for text in texts]
    tokenised = time.perf_counter() - began
    questions = []
    for name in ("questions-dev.jsonl", "questions-heldout.jsonl"):
        path = ROOT / "tests" / "data" / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            questions += [analyzer.terms(json.loads(line)["q"]) for line in lines if line.strip()]
    queries = generate_queries(bags, questions, query_count, SEED + 1)
    work.mkdir(parents=True, exist_ok=True)
    with (work / "corpus.txt").open("w", encoding="utf-8") as out:
        for bag in bags:
            out.write(" ".join(bag) + "\n")
    (work / "queries.json").write_text(json.dumps(queries), encoding="utf-8")
    tokens = sum(map(len, bags))
    return {
        "generate_s": generated,
        "tokenise_s": tokenised,
        "passages": largest,
        "tokens": tokens,
        "terms": len({t for bag in bags for t in bag}),
        "mean_terms_per_passage": tokens / largest,
        "queries": len(queries),
    }


def read_corpus(work: Path, size: int) -> tuple[list[list[str]], list[str]]:
    """Return the first size passages as term lists and as space-joined text."""
    texts: list[str] = []
    with (work / "corpus.txt").open(encoding="utf-8") as lines:
        for line in lines:
            if len(texts) == size:
                break
            texts.append(line.rstrip("\n"))
    # Interned, like the project's Analyzer output, whose stem cache hands out
    # one shared string per term: hashing each token anew is not index work.
    return [list(map(sys.intern, text.split())) for text in texts], texts
