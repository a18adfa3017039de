"""The service never holds every passage: a document is parsed only when one of its passages is read."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import index.scale.lazy_corpus
import index.scale.units
from bot.replies import Replies
from bot.service import AnswerService
from index.content.loader import ContentError, Corpus, file_digest, load_corpus
from index.lexical.cache import save_stamped
from index.lexical.ranking import PassageIndex
from index.scale.lazy_corpus import SUMMARY_NAME, load_corpus_cached
from tests.test_units import write_folder

ROOT = Path(__file__).resolve().parents[1]
MULTIDOC = ROOT / "tests" / "data" / "multidoc"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = write_folder(tmp_path / "content", documents=4, per_document=60)
    shutil.copy(ROOT / "tests" / "data" / "faq" / "consular-faq.md", folder / "faq.md")
    return folder


def parsed(corpus: Corpus) -> int:
    store = corpus._sections._store  # type: ignore[attr-defined]
    return len(store.parsed())


@pytest.mark.parametrize("start", ["first", "cached"])
def test_a_start_parses_no_passage_until_one_is_read(folder: Path, tmp_path: Path, start: str) -> None:
    cache = tmp_path / "cache"
    eager = load_corpus(folder)
    lazy = load_corpus_cached(folder, cache)  # the first load checks and counts, and writes the summary
    assert (cache / SUMMARY_NAME).is_file()
    if start == "cached":
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


@pytest.mark.parametrize("translated", [False, True])
def test_the_service_answers_alike_from_a_cached_start(
    folder: Path, tmp_path: Path, translated: bool
) -> None:
    if translated:
        add_translated(folder)
    cache = tmp_path / "cache"
    fresh = AnswerService(folder, cache_dir=cache)
    started = AnswerService(folder, cache_dir=cache)
    # The translations' own index reads the documents they translate, and those alone.
    assert parsed(started.corpus) == len(started.corpus.translated_runs()) and started.index.loaded
    questions = ["how do I renew my passport", "consular fees Halyk Bank", "what is the weather"]
    if translated:
        questions += ["Коли перші українці з'явилися в Казахстані?", "Как открыть счёт в банке?"]
    for question in questions:
        a, b = fresh.ask(question), started.ask(question)
        assert (a.answered, a.reason, [h.passage for h in a.hits]) == (
            b.answered,
            b.reason,
            [h.passage for h in b.hits],
        )
    assert parsed(started.corpus) <= 2 + 2 * translated


def test_changed_files_are_counted_again(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_corpus_cached(folder, cache)
    path = folder / "faq.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more paragraph.\n", encoding="utf-8")
    edited = load_corpus_cached(folder, cache)
    assert edited.passages[-1].text == "One more paragraph."
    assert list(edited.passages) == list(load_corpus(folder).passages)


def add_translated(folder: Path) -> None:
    """Add two documents with translations: one into Ukrainian, one into Russian and, made here, Ukrainian."""
    for name in ("heldout/ukrainians-in-kazakhstan-history", "train/living-in-kazakhstan-faq"):
        for path in MULTIDOC.glob(f"{name}*.md"):
            shutil.copy(path, folder / path.name)
    russian = (folder / "living-in-kazakhstan-faq.ru.md").read_text(encoding="utf-8")
    ukrainian = russian.replace("-ru\n", "-uk\n", 1).replace("language: ru", "language: uk")
    (folder / "living-in-kazakhstan-faq.uk.md").write_text(ukrainian, encoding="utf-8")


@pytest.mark.parametrize("start", ["first", "cached"])
def test_translations_are_read_when_asked_for_and_alike(folder: Path, tmp_path: Path, start: str) -> None:
    add_translated(folder)
    cache = tmp_path / "cache"
    eager = load_corpus(folder)
    lazy = load_corpus_cached(folder, cache)
    if start == "cached":
        lazy = load_corpus_cached(folder, cache)
    assert not isinstance(lazy.passages, tuple) and parsed(lazy) == 0
    assert len(lazy.translations) == len(eager.translations) > 0
    assert lazy.translated_runs() == eager.translated_runs() and len(eager.translated_runs()) == 2
    assert parsed(lazy) == 0
    assert lazy.documents == eager.documents
    for i, passage in enumerate(eager.passages):
        assert lazy.translations_of(lazy.passages[i]) == eager.translations_of(passage)
    assert dict(lazy.translations) == dict(eager.translations)
    assert {len(t) for t in eager.translations.values()} == {1, 2}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text.replace("language: uk", "language: en"), "the original's language"),
        (lambda text: text.replace("translation_of: ukrainians", "translation_of: nobody"), "no original"),
        (lambda text: text.rstrip() + "\n\nОдин зайвий абзац.\n", "paragraphs here but"),
    ],
)
def test_a_translation_that_does_not_fit_says_so_as_the_full_load_does(
    folder: Path, tmp_path: Path, change: Callable[[str], str], message: str
) -> None:
    add_translated(folder)
    cache = tmp_path / "cache"
    load_corpus_cached(folder, cache)
    path = folder / "ukrainians-in-kazakhstan-history.uk.md"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ContentError, match=message) as lazy:
        load_corpus_cached(folder, cache)
    with pytest.raises(ContentError) as eager:
        load_corpus(folder)
    assert str(lazy.value) == str(eager.value)


def count_hashing(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record every file the loader hashes."""
    hashed: list[bytes] = []

    def digest(raw: bytes) -> str:
        hashed.append(raw)
        return file_digest(raw)

    monkeypatch.setattr(index.scale.lazy_corpus, "file_digest", digest)
    return hashed


def damage(cache: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    """Change the stored summary's arrays and store them again with a valid checksum and stamp."""
    path = cache / SUMMARY_NAME
    with np.load(path) as stored:
        arrays = {k: stored[k] for k in stored.files if k not in ("format", "stamp", "checksum")}
        stamp = stored["stamp"].tobytes().decode()
    change(arrays)
    save_stamped(path, stamp, arrays)


def set_row(name: str, row: int, value: list[int] | int) -> Callable[[dict[str, np.ndarray]], None]:
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays[name][row] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        set_row("counts", 0, [-1, 3]),  # a negative count
        set_row("layout", 1, [1, 1, 10**6]),  # section sizes that do not add up
        set_row("layout", 2, [2, 1, 1]),  # offsets out of order
        set_row("digests_ends", -1, 5),  # digests that do not cover their text
    ],
)
def test_a_summary_that_does_not_fit_the_files_is_made_again(
    folder: Path, tmp_path: Path, change: Callable[[dict[str, np.ndarray]], None]
) -> None:
    cache = tmp_path / "cache"
    load_corpus_cached(folder, cache)
    damage(cache, change)
    assert list(load_corpus_cached(folder, cache).passages) == list(load_corpus(folder).passages)
    (cache / SUMMARY_NAME).write_text("not an archive", encoding="utf-8")
    assert list(load_corpus_cached(folder, cache).passages) == list(load_corpus(folder).passages)


def test_unchanged_files_are_not_hashed_again_and_a_changed_one_is(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    old = time.time() - 3600
    for path in folder.glob("*.md"):
        os.utime(path, (old, old))
    monkeypatch.setattr(index.scale.lazy_corpus, "RACY_NS", 0)  # ctimes are now: trust them for this test
    hashed = count_hashing(monkeypatch)
    load_corpus_cached(folder, cache)
    assert len(hashed) == 5
    time.sleep(0.01)
    load_corpus_cached(folder, cache)
    assert len(hashed) == 5  # sizes, times and inodes as recorded: the recorded digests stand
    # The same size and modification time, other bytes: the change time tells.
    path = folder / "doc-1.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("## Section 0", "## Section Z"), encoding="utf-8")
    os.utime(path, (old, old))
    corpus = load_corpus_cached(folder, cache)
    assert len(hashed) == 6
    assert next(s.title for s in corpus.sections if s.document.id == "doc-1").startswith("Section Z")


def test_files_changed_just_before_they_were_recorded_are_hashed_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    hashed = count_hashing(monkeypatch)
    load_corpus_cached(folder, cache)  # the files were written a moment ago
    load_corpus_cached(folder, cache)
    assert len(hashed) == 10


def test_threads_reading_one_document_share_its_records(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_corpus_cached(folder, cache)
    lazy = load_corpus_cached(folder, cache)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda i: lazy.passages[100 + i % 3], range(64)))
    assert all(seen[i] is lazy.passages[100 + i % 3] for i in range(64))
    assert parsed(lazy) == 1


def test_a_first_build_in_worker_processes_parses_nothing_here_and_equals_a_full_load(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.scale.units, "PARALLEL_FROM", 0)  # worker processes even for a small folder
    lazy = load_corpus_cached(folder, tmp_path / "cache")
    built = PassageIndex(lazy, cache_dir=tmp_path / "cache", workers=2)
    assert parsed(lazy) == 0  # the workers parsed the documents they analysed
    reference = PassageIndex(load_corpus(folder), workers=1)
    for got, expected in (
        (built.engine.body, reference.engine.body),
        (built.engine.titles, reference.engine.titles),
    ):
        for name in ("terms", "idf", "indptr", "docs", "weights"):
            assert np.array_equal(
                np.asarray(getattr(got.postings, name)), np.asarray(getattr(expected.postings, name))
            ), name
    assert np.array_equal(built.engine._section_of, reference.engine._section_of)
    hits = built.search("passport appointment").hits
    expected_hits = reference.search("passport appointment").hits
    assert hits == expected_hits and hits  # numbers, scores and matched terms
    assert parsed(lazy) == 0  # a search names passages and reads no record, as tantivy returns ids
    assert [h.passage for h in hits] == [h.passage for h in expected_hits]
    assert parsed(lazy) > 0


BROKEN = [
    ("## Q?\n\nSame.\n\nSame.\n", "duplicate passage id"),
    ("## Q?\n\nSame.\n\n## R?\n\nOther.\n\n## Q?\n\nSame.\n", "duplicate passage id"),
    ("## Q?\n\nSame.\n\nSame.\n\n## R?\n\n## S?\n\nText.\n", "duplicate passage id"),
    ("Before any section.\n\n## Q?\n\nText.\n", "passage outside any section"),
    ("## Q?\n\n## R?\n\nText.\n", "section has no passages under it"),
    ("## Q?\n\nText.\n\n# Title\n", "sections are '## ' headings"),
    ("Just text.\n", "passage outside any section"),
]


@pytest.mark.parametrize(("body", "message"), BROKEN)
def test_a_broken_file_gives_the_full_loaders_one_line_error(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    monkeypatch.setattr(index.scale.units, "PARALLEL_FROM", 0)
    header = "---\nid: broken\ntitle: B\nspeaker: S\ndate: 2024-01-01\nlanguage: en\n---\n"
    (folder / "zz-broken.md").write_text(header + body, encoding="utf-8")
    with pytest.raises(ContentError) as full:
        load_corpus(folder)
    assert message in str(full.value)
    with pytest.raises(ContentError) as lazy:  # counted here, or parsed in a worker process
        PassageIndex(load_corpus_cached(folder, tmp_path / "cache"), cache_dir=tmp_path / "cache", workers=2)
    assert str(lazy.value) == str(full.value)


def test_reading_a_passage_makes_its_record_alone_and_gives_the_full_loaders_records(
    folder: Path, tmp_path: Path
) -> None:
    header = "---\nid: odd\ntitle: O\nspeaker: S\ndate: 2024-01-01\nlanguage: en\n---\n"
    body = (
        "## First?\r\n\r\nOne\r\nline.\r\n\r\nTwo.\r\n## Second?\r\nThree\u2060 ünï.\r\n\r\n"
        "  ## Third?  \r\n\r\nFour.\r\n"
    )
    (folder / "crlf.md").write_bytes(("\ufeff" + header + body).encode("utf-8"))
    breaks = "## One?\n\nA paragraph\u2028with a line separator.\n\n## Two?\n\nB.\n"
    (folder / "breaks.md").write_text(header.replace("id: odd", "id: breaks") + breaks, encoding="utf-8")
    cache = tmp_path / "cache"
    eager = load_corpus(folder)
    load_corpus_cached(folder, cache)
    for i in range(0, len(eager.passages), 7):
        lazy = load_corpus_cached(folder, cache)
        store = lazy._sections._store  # type: ignore[attr-defined]
        assert lazy.passages[i] == eager.passages[i]
        passage = eager.passages[i]
        # That passage alone, unless the file has a line break bytes do not show: then all of it.
        whole = passage.document.id == "breaks"
        assert len(store.made()) == (2 if whole else 1)
        assert lazy.section_of(lazy.passages[i]) == eager.section_of(passage)
    lazy = load_corpus_cached(folder, cache)
    assert list(lazy.passages) == list(eager.passages) and list(lazy.sections) == list(eager.sections)


def test_a_repeated_document_id_in_a_broken_file_is_reported_as_the_full_loader_does(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    folder.mkdir()
    header = "---\nid: same\ntitle: T\nspeaker: S\ndate: 2024-01-01\nlanguage: en\n---\n"
    (folder / "a.md").write_text(header + "## Q?\n\nText.\n", encoding="utf-8")
    (folder / "b.md").write_text(header + "Outside.\n\n## Q?\n\nText.\n", encoding="utf-8")
    with pytest.raises(ContentError) as full:
        load_corpus(folder)
    with pytest.raises(ContentError) as lazy:
        load_corpus_cached(folder, tmp_path / "cache")
    assert str(lazy.value) == str(full.value) and "outside any section" in str(full.value)


def test_titles_in_the_readers_language_read_only_the_translated_documents(
    folder: Path, tmp_path: Path
) -> None:
    add_translated(folder)
    cache = tmp_path / "cache"
    AnswerService(folder, cache_dir=cache)
    started = AnswerService(folder, cache_dir=cache)
    replies = Replies(started)
    ukrainian = replies.start("uk").plain()
    english = replies.start("en").plain()
    eager = load_corpus(folder)
    translated = {t.document for ts in eager.translations.values() for t in ts if t.document.language == "uk"}
    history = next(d for d in translated if d.translation_of == "ukrainians-in-kazakhstan-history")
    assert history.title in ukrainian and history.title not in english
    assert parsed(started.corpus) == len(started.corpus.translated_runs()) == 2
    assert "Українці в Казахстані" in replies.about("uk").plain()


def small_document(doc_id: str, sections: list[tuple[str, list[str]]], translates: str = "") -> str:
    """Return a content file: an English original, or with `translates` its Ukrainian translation."""
    head = f"---\nid: {doc_id}\ntitle: T {doc_id}\nspeaker: S\ndate: 2024-01-01\n"
    head += f"language: uk\ntranslation_of: {translates}\n" if translates else "language: en\n"
    return head + "---\n\n" + "".join(f"## {t}\n\n" + "".join(f"{p}\n\n" for p in ps) for t, ps in sections)


@pytest.mark.parametrize(
    "after",
    [
        {"a.md": [("First", ["Second paragraph reworded."]), ("Other", ["Third paragraph."])]},
        {"c.md": [("First", ["Another text."]), ("Other", ["And more."])]},
        {"a.md": [("First", ["Only one paragraph now."])]},
        {"a.md": [("First", ["New first.", "First paragraph.", "Second paragraph."]), ("Other", ["X."])]},
    ],
    ids=["reworded", "document-gone", "section-shrunk", "moved"],
)
def test_a_passage_from_before_a_reload_gets_no_other_passages_translation(
    tmp_path: Path, after: dict[str, list[tuple[str, list[str]]]]
) -> None:
    # A button pressed just before /reload may bring a passage of the old corpus to the new one.
    before = [("First", ["First paragraph.", "Second paragraph."]), ("Other", ["Third paragraph."])]
    ukrainian = [("Перший", ["Перший абзац.", "Другий абзац."]), ("Інший", ["Третій абзац."])]
    results = []
    for cache in (None, tmp_path / "cache"):
        folder = tmp_path / ("eager" if cache is None else "lazy")
        folder.mkdir()
        (folder / "a.md").write_text(small_document("a", before), encoding="utf-8")
        (folder / "a.uk.md").write_text(small_document("a-uk", ukrainian, "a"), encoding="utf-8")
        service = AnswerService(folder, cache_dir=cache)
        old = service.corpus.passages[1]
        for name in ("a.md", "a.uk.md"):
            (folder / name).unlink()
        for name, sections in after.items():
            (folder / name).write_text(small_document(name[:-3], sections), encoding="utf-8")
            translated = [(f"П{i}", [f"Абзац {p}" for p in ps]) for i, (_, ps) in enumerate(sections)]
            (folder / name.replace(".md", ".uk.md")).write_text(
                small_document(f"{name[:-3]}-uk", translated, name[:-3]), encoding="utf-8"
            )
        service.reload()
        results.append([(t.id, t.text, t.section) for t in service.corpus.translations_of(old)])
    assert results[0] == results[1]  # the folders differ in name only
    # Still there (moved down): its own translation; else none, never a neighbour's.
    moved = len(next(iter(after.values()))[0][1]) == 3
    assert [text for _, text, _ in results[1]] == (["Абзац Second paragraph."] if moved else [])
