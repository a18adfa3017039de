"""A start with unchanged content files reads the parsed corpus from the cache; any change parses again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.content import ContentError, Corpus, load_corpus
from index.corpus_cache import CORPUS_NAME, load_corpus_cached

ROOT = Path(__file__).resolve().parents[1]


def same(a: Corpus, b: Corpus) -> None:
    assert a == b  # documents, passages and sections
    assert a.translations == b.translations and a.translations
    assert [a.section_of(p) for p in a.passages] == [b.section_of(p) for p in b.passages]
    assert a.passage(a.passages[5].id) == b.passages[5]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return tmp_path / "content"


def test_the_cached_corpus_equals_the_parsed_one(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = load_corpus_cached(folder, cache)
    assert (cache / CORPUS_NAME).is_file()
    same(first, load_corpus(folder))
    stamp = (cache / CORPUS_NAME).stat().st_mtime_ns
    second = load_corpus_cached(folder, cache)
    same(second, load_corpus(folder))
    assert (cache / CORPUS_NAME).stat().st_mtime_ns == stamp  # read, not rewritten


def test_an_edited_file_is_parsed_again_and_a_broken_one_still_refused(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_corpus_cached(folder, cache)
    path = folder / "pavlenko-2024-05-18.md"
    path.write_text(path.read_text(encoding="utf-8").replace("generators", "power generators", 1))
    edited = load_corpus_cached(folder, cache)
    assert any("power generators" in p.text for p in edited.passages)
    path.write_text(path.read_text(encoding="utf-8").replace("---\n", "", 1))
    with pytest.raises(ContentError, match="no metadata header"):
        load_corpus_cached(folder, cache)


def test_a_damaged_cache_is_ignored_with_a_warning(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    load_corpus_cached(folder, cache)
    data = bytearray((cache / CORPUS_NAME).read_bytes())
    data[len(data) // 2 : len(data) // 2 + 40] = b"\x00" * 40
    (cache / CORPUS_NAME).write_bytes(bytes(data))
    same(load_corpus_cached(folder, cache), load_corpus(folder))
    assert "unusable" in caplog.text


def test_an_added_file_is_seen(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert len(load_corpus_cached(folder, cache).documents) == 1
    shutil.copy(ROOT / "tests" / "data" / "faq" / "consular-faq.md", folder / "faq.md")
    assert len(load_corpus_cached(folder, cache).documents) == 2
