"""A start on unchanged content maps the kept dense index: no passage parsed, nothing hashed or encoded."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

import index.semantic.dense as dense_module
from bot.service import AnswerService
from index.semantic.model import Embedder
from index.semantic.snapshot import NAME, VECTORS_PREFIX
from index.semantic.vectors import BUNDLED_NAME
from tests.test_lazy_corpus import MULTIDOC, parsed
from tests.test_semantic import CountingEmbedder

QUESTIONS = [
    "When did the first Ukrainians come to Kazakhstan?",
    "Як відкрити рахунок у банку в Казахстані?",
    "Где поставить ребёнка на учёт в поликлинике?",
    "what is the weather on Mars",
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two documents with translations (uk; ru), their vectors shipped beside them as staff would."""
    folder = tmp_path / "content"
    folder.mkdir()
    for name in ("heldout/ukrainians-in-kazakhstan-history", "train/living-in-kazakhstan-faq"):
        for path in MULTIDOC.glob(f"{name}*.md"):
            shutil.copy(path, folder / path.name)
    shutil.copy(MULTIDOC / "embeddings.npz", folder / BUNDLED_NAME)
    return folder


def _same(a: AnswerService, b: AnswerService) -> None:
    for question in QUESTIONS:
        x, y = a.ask(question), b.ask(question)
        assert (x.answered, x.reason, [h.passage.id for h in x.hits]) == (
            y.answered,
            y.reason,
            [h.passage.id for h in y.hits],
        ), question
        assert x.confidence == pytest.approx(y.confidence, abs=1e-6)


def test_a_cached_start_maps_the_kept_index_and_answers_alike(
    folder: Path, tmp_path: Path, embedder: Embedder
) -> None:
    cache = tmp_path / "cache"
    built = AnswerService(folder, embedder, cache_dir=cache)
    assert (cache / NAME).is_file() and len(list(cache.glob(VECTORS_PREFIX + "*.npy"))) == 1
    counting = CountingEmbedder(embedder)
    started = AnswerService(folder, counting, cache_dir=cache)
    dense = started.dense
    assert dense is not None and isinstance(dense.vectors, np.memmap)
    # The lexical start reads only the documents the translations' own index needs; the dense one adds none.
    assert parsed(started.corpus) == len(started.corpus.translated_runs())
    assert counting.passages == 0
    _same(built, started)
    # Every text still lines up with its vector: one passage's texts made when one is asked for ...
    assert built.dense is not None
    expected = built.dense.units
    for unit in range(0, len(expected), 7):
        assert dense._unit_text(unit) == expected[unit]
    # ... and all of them when all are.
    assert dense.units == expected


def test_a_changed_translation_builds_the_index_again(
    folder: Path, tmp_path: Path, embedder: Embedder
) -> None:
    cache = tmp_path / "cache"
    AnswerService(folder, embedder, cache_dir=cache)
    path = next(folder.glob("*.uk.md"))
    text = path.read_text(encoding="utf-8")
    last = text.rstrip().rsplit("\n", 1)[-1]
    path.write_text(text.replace(last, last + " Це речення додано."), encoding="utf-8")
    counting = CountingEmbedder(embedder)
    changed = AnswerService(folder, counting, cache_dir=cache)
    assert changed.dense is not None and any(u.endswith("Це речення додано.") for u in changed.dense.units)
    assert counting.passages == 1  # the changed paragraph alone; the rest from the vector cache
    assert len(list(cache.glob(VECTORS_PREFIX + "*.npy"))) == 1  # the stale snapshot's vectors are gone
    _same(changed, AnswerService(folder, embedder))


@pytest.mark.parametrize(
    "damage", ["truncated vectors", "zeroed vectors", "truncated index file", "vectors missing", "new layout"]
)
def test_a_damaged_snapshot_is_built_again_not_trusted(
    folder: Path,
    embedder: Embedder,
    damage: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = folder.parent / "cache"
    built = AnswerService(folder, embedder, cache_dir=cache)
    vectors = next(cache.glob(VECTORS_PREFIX + "*.npy"))
    if damage == "truncated vectors":
        vectors.write_bytes(vectors.read_bytes()[:-4000])
    elif damage == "zeroed vectors":  # what a crash can leave of a file whose blocks were not written
        size = vectors.stat().st_size
        header = np.lib.format.open_memmap(vectors, mode="r").offset
        vectors.write_bytes(vectors.read_bytes()[:header] + bytes(size - header))
    elif damage == "vectors missing":
        vectors.unlink()
    elif damage == "new layout":  # a release that cuts passages otherwise
        monkeypatch.setattr(dense_module, "LAYOUT", dense_module.LAYOUT + " and more")
    else:
        (cache / NAME).write_bytes((cache / NAME).read_bytes()[:100])
    with caplog.at_level(logging.INFO):
        again = AnswerService(folder, embedder, cache_dir=cache)
    assert again.dense is not None and not isinstance(again.dense.vectors, np.memmap)
    if damage != "new layout":  # another fingerprint is not damage: built again without a word
        assert any("rebuilding" in r.getMessage() for r in caplog.records)
    _same(built, again)
