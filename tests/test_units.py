"""Analysis document by document: in worker processes and kept per document, equal to one pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import index.scale.units
from index.analysis.text import Analyzer
from index.content.loader import load_corpus
from index.lexical.ranking import PassageIndex
from index.scale.units import analyse, analyse_corpus
from tests.benchmarks.workload import generate_texts

ROOT = Path(__file__).resolve().parents[1]


def write_folder(folder: Path, documents: int = 5, per_document: int = 120) -> Path:
    # Words drawn from the interview alone: the same folder whatever else content/ holds.
    passages = load_corpus(ROOT / "content").passages
    interview = [p.text for p in passages if p.document.id == "pavlenko-2024-05-18"]
    texts = generate_texts(documents * per_document, interview, np.random.default_rng(11))
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(documents):
        body = [f"---\nid: doc-{d}\ntitle: Doc {d}\nspeaker: S\ndate: 2024-01-01\nlanguage: en\n---\n"]
        for s in range(0, per_document, 10):
            body.append(f"## Section {s} of document {d}?\n")
            body += [t + "\n" for t in texts[d * per_document + s : d * per_document + s + 10]]
        (folder / f"doc-{d}.md").write_text("\n".join(body), encoding="utf-8")
    return folder


def equal(a: object, b: object) -> None:
    assert isinstance(a, index.scale.units.Analysed) and isinstance(b, index.scale.units.Analysed)
    assert a.words == b.words
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.lengths, b.lengths)


@pytest.mark.parametrize("workers", [1, 2])
def test_document_by_document_equals_one_pass(
    tmp_path: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.scale.units, "PARALLEL_FROM", 0)  # worker processes even for a small corpus
    corpus = load_corpus(write_folder(tmp_path / "content"))
    one_pass = analyse([p.text for p in corpus.passages], Analyzer())
    analysis = analyse_corpus(corpus, Analyzer(), tmp_path / "cache", workers)
    assert analysis.fresh == len(corpus.passages)
    equal(analysis.analysed, one_pass)
    again = analyse_corpus(corpus, Analyzer(), tmp_path / "cache", workers)
    assert again.fresh == 0
    equal(again.analysed, one_pass)
    # Each passage's section, numbered in order of first passage across the corpus.
    keys = list(dict.fromkeys((p.document.id, p.section_no) for p in corpus.passages))
    expected = [keys.index((p.document.id, p.section_no)) for p in corpus.passages]
    for result in (analysis, again):
        assert result.section_of.tolist() == expected
        assert list(result.titles) == [corpus.section_of(p).title for p in corpus.passages if p.position == 0]


def test_after_one_file_changes_only_its_passages_are_analysed_again(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "content")
    cache = tmp_path / "cache"
    PassageIndex(load_corpus(folder), cache_dir=cache)
    path = folder / "doc-3.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("\n## Section 20", "\nA new paragraph.\n\n## Section 20")
    )
    corpus = load_corpus(folder)
    assert analyse_corpus(corpus, Analyzer(), cache).fresh == 121  # the edited document only
    rebuilt = PassageIndex(corpus, cache_dir=cache)
    scratch = PassageIndex(corpus)
    assert not rebuilt.loaded
    for name in ("terms", "idf", "indptr", "docs", "weights"):
        assert np.array_equal(
            np.asarray(getattr(rebuilt.engine.body.postings, name)),
            np.asarray(getattr(scratch.engine.body.postings, name)),
        ), name
    assert rebuilt.search("new paragraph", 3) == scratch.search("new paragraph", 3)
    # Removed documents' analyses are removed from the cache too.
    (folder / "doc-4.md").unlink()
    PassageIndex(load_corpus(folder), cache_dir=cache)
    assert len(list((cache / "analysis").glob("*.npz"))) == 4
