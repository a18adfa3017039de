"""The persisted index loads when valid and is rebuilt, never trusted, otherwise."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

import index.lexical.cache
from index.content.loader import load_corpus
from index.lexical.bm25 import BM25Params, Variant
from index.lexical.cache import (
    CACHE_NAME,
    content_fingerprint,
    fingerprint,
    load,
    pack_strings,
    save,
    unpack_strings,
)
from index.lexical.engine import FastBM25
from index.lexical.ranking import PassageIndex

CONTENT = Path(__file__).parents[1] / "content"
PARAMS = BM25Params(variant="okapi")


def load_or_build(
    bags_factory: Callable[[], Sequence[Sequence[str]]],
    params: BM25Params,
    fingerprint: str,
    cache_dir: Path | None,
    *,
    name: str = CACHE_NAME,
) -> tuple[FastBM25, bool]:
    """Return the engine and whether it was loaded: save and load round a build, as a start does."""
    if cache_dir is None:  # no caching
        return FastBM25(bags_factory(), params), False
    path = cache_dir / name
    engine = load(path, params, fingerprint)
    if engine is not None:
        return engine, True
    engine = FastBM25(bags_factory(), params)
    try:
        save(engine, path, fingerprint)
    except OSError as exc:
        # A cache that cannot be written costs a rebuild next start, nothing more.
        logging.getLogger("index.lexical.cache").warning(
            "cannot write the BM25 index cache %s: %s", path, exc
        )
    return engine, False


QUERIES = (("w1",), ("w2", "w3", "w2"), ("most", "w17", "nosuchterm"), ("ünï", "w5"))


def make_bags() -> list[list[str]]:
    rng = np.random.default_rng(3)
    bags = [[f"w{r}" for r in rng.zipf(1.3, size=int(rng.integers(1, 30))) if r < 5000] for _ in range(400)]
    for i, bag in enumerate(bags):
        if i % 4:
            bag.append("most")
        if i % 50 == 0:
            bag.append("ünï")  # non-ASCII terms survive the round trip
    return bags


class Factory:
    """A bags factory that counts its calls."""

    def __init__(self, bags: Sequence[Sequence[str]] | None = None) -> None:
        self.bags = make_bags() if bags is None else bags
        self.calls = 0

    def __call__(self) -> Sequence[Sequence[str]]:
        self.calls += 1
        return self.bags


def refuse() -> Sequence[Sequence[str]]:
    raise AssertionError("the bags factory must not be called when the cache is valid")


def same_engine(a: FastBM25, b: FastBM25) -> None:
    assert len(a) == len(b) and a.terms == b.terms
    for terms in QUERIES:
        assert a.scores(terms) == b.scores(terms)
        assert a.top_k(terms, 7) == b.top_k(terms, 7)
    for term in a.terms:
        assert a.idf(term) == b.idf(term)


def rebuilt_after(damage: Callable[[Path], None], tmp_path: Path) -> None:
    """Save a cache, damage its file, and check the next start rebuilds and re-saves it."""
    factory = Factory()
    built, loaded = load_or_build(factory, PARAMS, "fp", tmp_path)
    assert not loaded
    damage(tmp_path / CACHE_NAME)
    again = Factory()
    engine, loaded = load_or_build(again, PARAMS, "fp", tmp_path)
    assert not loaded and again.calls == 1
    same_engine(engine, built)
    # The rebuilt index replaced the damaged file.
    engine, loaded = load_or_build(refuse, PARAMS, "fp", tmp_path)
    assert loaded
    same_engine(engine, built)


def test_round_trip_loads_without_calling_the_factory(tmp_path: Path) -> None:
    factory = Factory()
    built, loaded = load_or_build(factory, PARAMS, "fp", tmp_path)
    assert not loaded and factory.calls == 1
    assert (tmp_path / CACHE_NAME).is_file()
    cached, loaded = load_or_build(refuse, PARAMS, "fp", tmp_path)
    assert loaded
    same_engine(cached, built)
    same_engine(cached, FastBM25(make_bags(), PARAMS))


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
def test_round_trip_keeps_every_variant(tmp_path: Path, variant: Variant) -> None:
    params = dataclasses.replace(PARAMS, variant=variant)
    built, _ = load_or_build(Factory(), params, "fp", tmp_path)
    cached, loaded = load_or_build(refuse, params, "fp", tmp_path)
    assert loaded
    same_engine(cached, built)


def test_stale_fingerprint_rebuilds(tmp_path: Path) -> None:
    load_or_build(Factory(), PARAMS, "old content", tmp_path)
    changed = Factory([["new", "words"], ["words"]])
    engine, loaded = load_or_build(changed, PARAMS, "new content", tmp_path)
    assert not loaded and changed.calls == 1
    assert engine.terms == ("new", "words")
    engine, loaded = load_or_build(refuse, PARAMS, "new content", tmp_path)
    assert loaded and engine.terms == ("new", "words")


def test_other_bm25_params_rebuild(tmp_path: Path) -> None:
    load_or_build(Factory(), PARAMS, "fp", tmp_path)
    for params in (dataclasses.replace(PARAMS, k1=2.0), dataclasses.replace(PARAMS, variant="plus")):
        factory = Factory()
        engine, loaded = load_or_build(factory, params, "fp", tmp_path)
        assert not loaded and factory.calls == 1
        same_engine(engine, FastBM25(make_bags(), params))


def test_other_format_version_rebuilds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.lexical.cache, "FORMAT_VERSION", index.lexical.cache.FORMAT_VERSION + 1)
    load_or_build(Factory(), PARAMS, "fp", tmp_path)
    monkeypatch.undo()
    factory = Factory()
    _, loaded = load_or_build(factory, PARAMS, "fp", tmp_path)
    assert not loaded and factory.calls == 1


def test_corrupt_file_rebuilds(tmp_path: Path) -> None:
    def flip_bytes(path: Path) -> None:
        data = bytearray(path.read_bytes())
        for at in range(len(data) // 3, len(data) // 3 + 64):
            data[at] ^= 0x5A
        path.write_bytes(bytes(data))

    rebuilt_after(flip_bytes, tmp_path)


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.99])
def test_truncated_file_rebuilds(tmp_path: Path, keep: float) -> None:
    def truncate(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    rebuilt_after(truncate, tmp_path)


def test_foreign_file_rebuilds(tmp_path: Path) -> None:
    def replace(path: Path) -> None:
        path.write_text("not an index", encoding="utf-8")

    rebuilt_after(replace, tmp_path)


def test_a_damaged_byte_fails_the_arrays_crc(tmp_path: Path) -> None:
    def flip(path: Path) -> None:
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF  # inside an array: its zip member's CRC-32 no longer fits
        path.write_bytes(bytes(raw))

    rebuilt_after(flip, tmp_path)


def test_inconsistent_arrays_are_refused_even_in_a_sound_file(tmp_path: Path) -> None:
    def scramble(path: Path) -> None:
        with np.load(path) as stored:
            arrays = dict(stored)
        arrays["docs"] = arrays["docs"][::-1].copy()  # passages out of order within terms
        np.savez(path, **arrays)

    rebuilt_after(scramble, tmp_path)


def test_missing_array_rebuilds(tmp_path: Path) -> None:
    def drop(path: Path) -> None:
        with np.load(path) as stored:
            arrays = {key: stored[key] for key in stored.files if key != "idf"}
        np.savez(path, **arrays)

    rebuilt_after(drop, tmp_path)


def test_no_cache_dir_means_no_caching(tmp_path: Path) -> None:
    factory = Factory()
    for _ in range(2):
        engine, loaded = load_or_build(factory, PARAMS, "fp", None)
        assert not loaded
    assert factory.calls == 2
    same_engine(engine, FastBM25(make_bags(), PARAMS))


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, _ = load_or_build(Factory(), PARAMS, "fp", tmp_path)
    before = (tmp_path / CACHE_NAME).read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="disk full"):
        save(engine, tmp_path / CACHE_NAME, "other")
    monkeypatch.undo()
    assert (tmp_path / CACHE_NAME).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [CACHE_NAME]


def test_unwritable_cache_dir_still_gives_an_engine(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    engine, loaded = load_or_build(Factory(), PARAMS, "fp", blocker / "cache")
    assert not loaded
    same_engine(engine, FastBM25(make_bags(), PARAMS))


def test_load_of_a_missing_file_is_none(tmp_path: Path) -> None:
    assert load(tmp_path / "nothing.npz", PARAMS, "fp") is None


def test_fingerprints(tmp_path: Path) -> None:
    corpus = load_corpus(CONTENT)
    first = content_fingerprint(corpus, "analyzer-v1", PARAMS)
    assert first == content_fingerprint(load_corpus(CONTENT), "analyzer-v1", PARAMS)
    assert first != content_fingerprint(corpus, "analyzer-v2", PARAMS)
    assert first != content_fingerprint(corpus, "analyzer-v1", dataclasses.replace(PARAMS, b=0.5))
    # Read from files, the content is known by the files' bytes: one word more in one file changes it.
    shutil.copytree(CONTENT, tmp_path / "content")
    assert content_fingerprint(load_corpus(tmp_path / "content"), "analyzer-v1", PARAMS) == first
    path = tmp_path / "content" / "pavlenko-2024-05-18.md"
    path.write_text(path.read_text(encoding="utf-8").replace("generators", "generators indeed", 1))
    assert content_fingerprint(load_corpus(tmp_path / "content"), "analyzer-v1", PARAMS) != first
    # Built in memory, without file digests, every passage is hashed.
    passages = [
        dataclasses.replace(p, document=dataclasses.replace(p.document, digest="")) for p in corpus.passages
    ]
    bare = dataclasses.replace(corpus, documents=(), passages=tuple(passages))
    second = content_fingerprint(bare, "analyzer-v1", PARAMS)
    passages[3] = dataclasses.replace(passages[3], text=passages[3].text + " More.")
    edited = dataclasses.replace(bare, passages=tuple(passages))
    assert second != content_fingerprint(edited, "analyzer-v1", PARAMS)
    assert fingerprint("a", 1) == fingerprint("a", 1) != fingerprint("a", 2)


@pytest.mark.parametrize("strings", [(), ("",), ("", ""), ("a", "", "бв", "🙂"), ("one",), ("a b", "\r")])
def test_packed_strings_round_trip(strings: tuple[str, ...]) -> None:
    packed = pack_strings(strings)
    assert unpack_strings(packed["chars"], packed["ends"]) == strings


def test_packed_strings_refuse_line_breaks_and_offsets_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="line break"):
        pack_strings(["a", "b\nc"])
    packed = pack_strings(["ab", "c"])
    for ends in ([2], [2, 3, 4], [2, 4]):
        with pytest.raises(ValueError, match="offsets"):
            unpack_strings(packed["chars"], np.array(ends, dtype=np.int64))


def test_a_cached_start_analyses_nothing_and_damage_rebuilds(tmp_path: Path) -> None:
    corpus = load_corpus(CONTENT)
    built = PassageIndex(corpus, cache_dir=tmp_path)
    assert not built.loaded
    assert {p.name for p in tmp_path.iterdir()} >= {"lexicon.npz", "bm25-index.npz", "bm25-titles.npz"}
    cached = PassageIndex(load_corpus(CONTENT), cache_dir=tmp_path)
    assert cached.loaded and cached.variants == built.variants == {"kazakstan": "kazakhstan"}
    for question in ("Kazakstan generators", "humanitarain aid", "trajectory of the diaspora"):
        assert cached.search(question, 5) == built.search(question, 5)
    path = tmp_path / "lexicon.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    again = PassageIndex(load_corpus(CONTENT), cache_dir=tmp_path)
    assert not again.loaded and again.search("humanitarain aid", 5) == built.search("humanitarain aid", 5)


@pytest.mark.parametrize(("offset", "bit"), [(8, 0x01), (10, 0x01), (10, 0x08)])
def test_a_flipped_bit_in_a_zip_header_rebuilds(tmp_path: Path, offset: int, bit: int) -> None:
    def flip(path: Path) -> None:
        raw = bytearray(path.read_bytes())
        raw[raw.rindex(b"PK\x01\x02") + offset] ^= bit  # the last member's flags or compression method
        path.write_bytes(bytes(raw))

    rebuilt_after(flip, tmp_path)
