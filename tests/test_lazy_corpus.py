"""A start on unchanged content parses a document only when one of its passages is read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.service import AnswerService
from index.content import Corpus, load_corpus
from index.lazy_corpus import SUMMARY_NAME, load_corpus_cached
from tests.test_units import write_folder

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = write_folder(tmp_path / "content", documents=4, per_document=60)
    shutil.copy(ROOT / "tests" / "data" / "faq" / "consular-faq.md", folder / "faq.md")
    return folder


def parsed(corpus: Corpus) -> int:
    store = corpus._sections._store  # type: ignore[attr-defined]
    return len(store.parsed())


def test_a_cached_start_reads_headers_only_and_parses_on_demand(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    eager = load_corpus_cached(folder, cache)  # the first load parses and writes the summary
    assert (cache / SUMMARY_NAME).is_file()
    lazy = load_corpus_cached(folder, cache)
    assert parsed(lazy) == 0
    assert lazy.documents == eager.documents
    assert len(lazy.passages) == len(eager.passages) and len(lazy.sections) == len(eager.sections)
    assert lazy.passages[70] == eager.passages[70] and parsed(lazy) == 1
    passage = lazy.passages[70]
    assert lazy.section_of(passage) == eager.section_of(eager.passages[70])
    assert lazy.neighbours(passage) == eager.neighbours(eager.passages[70])
    assert lazy.passage(passage.id) is passage and parsed(lazy) == 1  # found among the parsed files
    last = eager.passages[-1]
    assert lazy.passage(last.id) == last  # a passage of a file not parsed yet: all are parsed
    assert lazy.passage("p000000000000") is None
    assert list(lazy.passages) == list(eager.passages)
    assert list(lazy.sections) == list(eager.sections)
    assert lazy.passages[-1] == last and list(lazy.passages[3:6]) == list(eager.passages[3:6])
    with pytest.raises(IndexError):
        lazy.passages[len(eager.passages)]


def test_the_service_answers_alike_from_a_cached_start(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = AnswerService(folder, cache_dir=cache)
    started = AnswerService(folder, cache_dir=cache)
    assert parsed(started.corpus) == 0 and started.index.loaded
    for question in ("how do I renew my passport", "consular fees Halyk Bank", "what is the weather"):
        a, b = fresh.ask(question), started.ask(question)
        assert (a.answered, a.reason, [h.passage for h in a.hits]) == (
            b.answered,
            b.reason,
            [h.passage for h in b.hits],
        )
    assert parsed(started.corpus) <= 2


def test_changed_files_and_translations_load_in_full(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_corpus_cached(folder, cache)
    path = folder / "faq.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more paragraph.\n", encoding="utf-8")
    edited = load_corpus_cached(folder, cache)
    assert isinstance(edited.passages, tuple) and edited.passages[-1].text == "One more paragraph."
    assert not isinstance(load_corpus_cached(folder, cache).passages, tuple)  # the new files' summary
    # The interview has a Ukrainian translation: always loaded in full.
    assert isinstance(load_corpus_cached(ROOT / "content", cache).passages, tuple)
    assert isinstance(load_corpus_cached(ROOT / "content", cache).passages, tuple)


def test_a_damaged_summary_means_a_full_load(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_corpus_cached(folder, cache)
    stored = json.loads((cache / SUMMARY_NAME).read_text(encoding="utf-8"))
    stored["data"][0] = [-1, "x"]
    (cache / SUMMARY_NAME).write_text(json.dumps(stored), encoding="utf-8")
    assert isinstance(load_corpus_cached(folder, cache).passages, tuple)
    (cache / SUMMARY_NAME).write_text("{not json", encoding="utf-8")
    assert load_corpus_cached(folder, cache).passages == load_corpus(folder).passages


def test_threads_reading_one_document_share_its_records(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_corpus_cached(folder, cache)
    lazy = load_corpus_cached(folder, cache)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda i: lazy.passages[100 + i % 3], range(64)))
    assert all(seen[i] is lazy.passages[100 + i % 3] for i in range(64))
    assert parsed(lazy) == 1
