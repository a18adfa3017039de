"""FastBM25 must give rank-bm25's scores, and the top-k order sorting them would give."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import index.lexical.engine
from index.analysis.text import Analyzer
from index.content.loader import load_corpus
from index.lexical.bm25 import BM25Params, RankBM25Scorer, Variant
from index.lexical.engine import FastBM25
from index.lexical.ranking import PassageIndex, RankingParams
from tests.reference import build_bags

ROOT = Path(__file__).parents[1]
CONTENT = ROOT / "content"
VARIANTS: tuple[Variant, ...] = ("okapi", "l", "plus")
PARAMS = [
    BM25Params(variant=variant, k1=k1, b=b) for variant in VARIANTS for k1, b in ((1.2, 0.75), (2.0, 0.3))
] + [BM25Params(variant="okapi", epsilon=0.5, b=1.0), BM25Params(variant="plus", delta=1.0, k1=0.9)]
KS = (0, -1, 1, 3, 5, 10, 57, 100_000)


def ids(params: BM25Params) -> str:
    return f"{params.variant}-k1={params.k1}-b={params.b}-eps={params.epsilon}-d={params.delta}"


@cache
def interview_bags() -> tuple[tuple[str, ...], ...]:
    corpus = load_corpus(CONTENT)
    return tuple(tuple(bag) for bag in build_bags(corpus, Analyzer()))


@cache
def interview_queries() -> tuple[tuple[str, ...], ...]:
    analyzer = Analyzer()
    lines = (ROOT / "tests" / "data" / "questions-dev.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["q"] for line in lines if line.strip()]
    extra = ["Kazakhstan Ukraine Ukraine", "embassy", "zzzunknown", "humanitarian aid zzzunknown", ""]
    return tuple(tuple(analyzer.terms(q)) for q in questions + extra)


@cache
def generated_bags() -> tuple[tuple[str, ...], ...]:
    """Return 3,000 passages of Zipf words, some empty, two terms in most passages."""
    rng = np.random.default_rng(7)
    bags = []
    for i in range(3000):
        words = [f"w{r}" for r in rng.zipf(1.25, size=int(rng.integers(0, 60))) if r < 20_000]
        if i % 10 != 0:
            words.append("most")  # in 90% of passages: negative raw idf, floored
        if i % 3 != 0:
            words += ["twothirds", "twothirds"]
        if i % 500 == 0:
            words = []
        bags.append(tuple(words))
    return tuple(bags)


@cache
def generated_queries() -> tuple[tuple[str, ...], ...]:
    rng = np.random.default_rng(8)
    queries: list[tuple[str, ...]] = [
        (),
        ("nosuchterm",),
        ("w1",),
        ("w3", "w3"),
        ("most",),
        ("most", "twothirds"),
        ("most", "w15000", "most"),
        ("w2", "nosuchterm", "w40", "w2"),
        ("twothirds", "w7", "w900"),
    ]
    for _ in range(20):
        size = int(rng.integers(1, 7))
        queries.append(tuple(f"w{r}" for r in rng.zipf(1.15, size=size)))
    return tuple(queries)


@cache
def reference(corpus: str, params: BM25Params) -> RankBM25Scorer:
    bags = interview_bags() if corpus == "interview" else generated_bags()
    return RankBM25Scorer(bags, params)


@cache
def reference_scores(corpus: str, params: BM25Params, terms: tuple[str, ...]) -> list[float]:
    return reference(corpus, params).scores(terms)


@cache
def bag_sets(bags: tuple[tuple[str, ...], ...]) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(bag) for bag in bags)


def check(
    engine: FastBM25, want: list[float], bags: tuple[tuple[str, ...], ...], terms: Sequence[str]
) -> None:
    got = engine.scores(terms)
    assert all(type(s) is float for s in got)
    assert len(got) == len(want)
    # rank-bm25 divides 0 by 0 for an empty passage when b = 1 and scores it
    # NaN; FastBM25 scores it as a passage without the terms. Nothing else differs.
    expected, actual = np.array(want), np.array(got)
    undefined = np.isnan(expected)
    assert all(not bags[i] for i in np.flatnonzero(undefined)) and np.all(np.isfinite(actual))
    expected[undefined] = actual[undefined]
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)
    query = frozenset(terms)
    sets = bag_sets(bags)
    candidates = [i for i, bag in enumerate(sets) if not bag.isdisjoint(query)]
    ranked = sorted(candidates, key=lambda i: (-want[i], i))
    for k in KS:
        top = engine.top_k(terms, k)
        assert [doc for doc, _ in top] == ranked[: max(k, 0)], (terms, k)
        np.testing.assert_allclose([s for _, s in top], [want[i] for i in ranked[: max(k, 0)]], rtol=1e-9)
        assert all(type(doc) is int and type(score) is float for doc, score in top)


@pytest.fixture(params=["auto", "sorted", "dense"])
def merge_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Force multi-term queries through each way of merging postings."""
    if request.param == "sorted":
        monkeypatch.setattr(index.lexical.engine, "_DENSE_FROM", 0)
    elif request.param == "dense":
        monkeypatch.setattr(index.lexical.engine, "_DENSE_FROM", 10**12)
    return str(request.param)


@pytest.mark.parametrize("params", PARAMS, ids=ids)
def test_interview_matches_rank_bm25(params: BM25Params, merge_path: str) -> None:
    bags = interview_bags()
    engine = FastBM25(bags, params)
    for terms in interview_queries():
        check(engine, reference_scores("interview", params, terms), bags, terms)


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
@pytest.mark.parametrize("params", PARAMS, ids=ids)
def test_generated_corpus_matches_rank_bm25(params: BM25Params, merge_path: str) -> None:
    bags = generated_bags()
    engine = FastBM25(bags, params)
    for terms in generated_queries():
        check(engine, reference_scores("generated", params, terms), bags, terms)


@pytest.mark.parametrize("params", PARAMS, ids=ids)
def test_idf_matches_rank_bm25(params: BM25Params) -> None:
    bags = generated_bags()
    engine, model = FastBM25(bags, params), reference("generated", params).model
    assert set(engine.terms) == set(model.idf)
    for term, value in model.idf.items():
        assert engine.idf(term) == pytest.approx(value, rel=1e-12)
    assert engine.idf("nosuchterm") is None
    assert len(engine) == len(bags) == 3000


def test_epsilon_floor_applies_to_common_terms() -> None:
    params = BM25Params(variant="okapi", epsilon=0.25)
    bags = generated_bags()
    floor = params.epsilon * reference("generated", params).model.average_idf
    engine = FastBM25(bags, params)
    assert floor > 0
    assert engine.idf("most") == pytest.approx(floor, rel=1e-12)
    assert engine.idf("twothirds") == pytest.approx(floor, rel=1e-12)


def test_scores_are_bit_equal_to_rank_bm25() -> None:
    # Not required by the protocol, but the design promises it: same
    # operations in the same order, so rank-bm25's ties stay ties.
    bags = generated_bags()
    for variant in VARIANTS:
        params = BM25Params(variant=variant)
        engine = FastBM25(bags, params)
        for terms in generated_queries():
            assert engine.scores(terms) == reference_scores("generated", params, terms)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("k1", [1, 1.2])
def test_frequent_words_and_integer_parameters_keep_scores_bit_equal(variant: Variant, k1: float) -> None:
    # Term frequencies are kept narrow where they fit: arithmetic with an integer k1 must not wrap.
    params = BM25Params(variant=variant, k1=k1)
    for bags in ([["x"] * 40_000 + ["y"], ["y", "z"], ["z"]], [["x"] * 70_000, ["x", "y"], ["y"]]):
        engine, slow = FastBM25(bags, params), RankBM25Scorer(bags, params)
        for terms in (("x",), ("y",), ("x", "z")):
            assert engine.scores(list(terms)) == slow.scores(list(terms))


def test_tiny_corpus_with_zero_idf_and_non_matching_passages() -> None:
    # "a" is in half the passages: BM25Okapi's idf is exactly 0 there, while
    # BM25Plus gives passages without a query term a positive score.
    bags = (("a", "b"), ("c",), ("a", "a", "d"), ())
    for variant in VARIANTS:
        params = BM25Params(variant=variant)
        engine, slow = FastBM25(bags, params), RankBM25Scorer(bags, params)
        for terms in (["a", "zz"], ["a"], ["c", "a", "b"], ["d", "d"], ["zz"]):
            check(engine, slow.scores(terms), bags, terms)


def test_membership_and_matched_terms() -> None:
    bags = [("a", "b"), ("c",), ("a", "a", "d")]
    engine = FastBM25(bags, BM25Params())
    assert "a" in engine and "zz" not in engine
    assert engine.contains(2, "d") and not engine.contains(1, "a") and not engine.contains(0, "zz")
    assert engine.matched(2, ["d", "b", "a", "zz"]) == ("d", "a")
    assert engine.terms == ("a", "b", "c", "d")


def test_empty_inputs() -> None:
    empty = FastBM25([], BM25Params())
    assert len(empty) == 0
    assert empty.scores(["a"]) == [] and empty.top_k(["a"], 3) == [] and empty.idf("a") is None
    blank = FastBM25([(), ()], BM25Params(variant="plus"))
    assert blank.scores(["a"]) == [0.0, 0.0] and blank.top_k(["a"], 3) == []


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="variant"):
        FastBM25([("a",)], BM25Params(variant="bm25x"))  # type: ignore[arg-type]


def test_built_postings_validate() -> None:
    postings = FastBM25(generated_bags(), BM25Params()).postings
    postings.validate()
    assert postings.docs.dtype == np.int32 and postings.weights.dtype == np.float64


def test_passage_index_ranks_as_rank_bm25_would() -> None:
    corpus = load_corpus(CONTENT)
    # The body alone: the section-title field is held to rank-bm25 in test_ranking.
    index = PassageIndex(corpus, params=RankingParams(title_weight=0))
    bags = build_bags(corpus, index.analyzer, index.variants)
    slow = RankBM25Scorer(bags, index.params.bm25)
    lines = (ROOT / "tests" / "data" / "questions-dev.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        result = index.search(json.loads(line)["q"], k=5)
        scores = slow.scores(result.terms)
        matching = [i for i, bag in enumerate(bags) if set(bag) & set(result.terms)]
        expected = sorted(matching, key=lambda i: (-scores[i], i))[:5]
        assert [corpus.passages.index(h.passage) for h in result.hits] == expected
        assert [h.score for h in result.hits] == pytest.approx([scores[i] for i in expected], rel=1e-12)
