"""One benchmarked library per subprocess: build, query, persist and load, with timings and memory."""

from __future__ import annotations

import gc
import json
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.benchmarks.workload import Json, read_corpus

K = 5
K1, B = 1.2, 0.75
# rank-bm25 scans every passage per query term in Python (tens of milliseconds
# a query at 100k passages), so it gets fewer queries above this size.
SLOW_ENGINE_SIZE = 50_000
SLOW_ENGINE_QUERIES = 20


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class Engine:
    """One library behind a common build / query / save / load interface."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.model: Any = None
        self.extra: Any = None
        if name == "rank-bm25":
            import rank_bm25  # noqa: F401
        elif name == "bm25s":
            import bm25s  # noqa: F401
        elif name == "tantivy":
            import tantivy  # noqa: F401
        else:
            import index.lexical.cache  # noqa: F401

    def build(self, bags: list[list[str]], texts: list[str]) -> None:
        """Index the corpus in memory."""
        if self.name == "rank-bm25":
            import rank_bm25

            self.model = rank_bm25.BM25Okapi(bags, k1=K1, b=B, epsilon=0.25)
        elif self.name == "bm25s":
            import bm25s

            self.model = bm25s.BM25(k1=K1, b=B, method="lucene")
            self.model.index(bags, show_progress=False)
        elif self.name == "tantivy":
            self.model, self.extra = _tantivy_build(texts, None)
        else:
            from index.lexical.bm25 import BM25Params
            from index.lexical.engine import FastBM25

            self.model = FastBM25(bags, BM25Params(variant="okapi", k1=K1, b=B))

    def query(self, terms: list[str]) -> list[int]:
        """Return the top-k passages for the terms."""
        if self.name == "rank-bm25":
            scores = self.model.get_scores(terms)
            return [int(i) for i in np.argsort(scores)[::-1][:K]]
        if self.name == "bm25s":
            docs, _ = self.model.retrieve([terms], k=K, show_progress=False, n_threads=0)
            return [int(i) for i in docs[0]]
        if self.name == "tantivy":
            import tantivy

            query = tantivy.Query.boolean_query(
                [
                    (
                        tantivy.Occur.Should,
                        tantivy.Query.term_query(self.extra, "text", t, index_option="freq"),
                    )
                    for t in terms
                ]
            )
            hits = self.model.search(query, K, count=False).hits
            return [address.doc for _, address in hits]
        return [doc for doc, _ in self.model.top_k(terms, K)]

    def save(self, where: Path, bags: list[list[str]], texts: list[str]) -> bool:
        """Persist the index with the library's own means; False if it has none."""
        if self.name == "rank-bm25":
            return False
        if self.name == "bm25s":
            self.model.save(str(where), show_progress=False)
        elif self.name == "tantivy":
            where.mkdir(parents=True, exist_ok=True)
            _tantivy_build(texts, where)
        else:
            from index.lexical.cache import save

            save(self.model, where / "index.npz", "bench")
        return True

    def load(self, where: Path) -> None:
        """Load the persisted index in this fresh process."""
        if self.name == "bm25s":
            import bm25s

            self.model = bm25s.BM25.load(str(where))
        elif self.name == "tantivy":
            import tantivy

            index = tantivy.Index.open(str(where))
            self.model, self.extra = index.searcher(), index.schema
        else:
            from index.lexical.bm25 import BM25Params
            from index.lexical.cache import load

            self.model = load(where / "index.npz", BM25Params(variant="okapi", k1=K1, b=B), "bench")
            if self.model is None:
                raise RuntimeError("the persisted FastBM25 index did not load")


def _tantivy_build(texts: list[str], path: Path | None) -> tuple[Any, Any]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
    schema = builder.build()
    index = tantivy.Index(schema, path=None if path is None else str(path))
    writer = index.writer()
    for text in texts:
        writer.add_document(tantivy.Document(text=text))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index.searcher(), schema


def _latencies(engine: Engine, queries: list[list[str]]) -> list[float]:
    for terms in queries[:3]:
        engine.query(terms)  # warm-up: first-call allocations and lazy imports
    out = []
    for terms in queries:
        began = time.perf_counter_ns()
        engine.query(terms)
        out.append((time.perf_counter_ns() - began) / 1e6)
    return out


def worker(phase: str, name: str, size: int, work: Path) -> Json:
    """Run one engine at one size in this process and return its measurements."""
    engine = Engine(name)
    where = work / f"{name}-{size}"
    queries: list[list[str]] = json.loads((work / "queries.json").read_text(encoding="utf-8"))
    if phase == "load":
        began = time.perf_counter()
        engine.load(where)
        loaded = time.perf_counter() - began
        began = time.perf_counter()
        engine.query(queries[0])
        first = time.perf_counter() - began
        return {"load_s": loaded, "first_query_s": first}
    bags, texts = read_corpus(work, size)
    gc.collect()
    exact_peak = _reset_peak()
    base_kb = _status_kb("VmRSS")
    began = time.perf_counter()
    engine.build(bags, texts)
    built = time.perf_counter() - began
    gc.collect()
    retained_kb = _status_kb("VmRSS") - base_kb
    if name == "rank-bm25" and size > SLOW_ENGINE_SIZE:
        queries = queries[:SLOW_ENGINE_QUERIES]
    latencies = _latencies(engine, queries)
    if exact_peak:
        peak_kb = _status_kb("VmHWM") - base_kb
    else:  # peak since start: overstates when reading the corpus peaked higher
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_kb
    began = time.perf_counter()
    saved = engine.save(where, bags, texts)
    persist = time.perf_counter() - began
    return {
        "build_s": built,
        "queries": len(latencies),
        "p50_ms": float(np.percentile(latencies, 50)),
        "p99_ms": float(np.percentile(latencies, 99)),
        "mean_ms": float(np.mean(latencies)),
        "peak_mb": peak_kb / 1024,
        "retained_mb": retained_kb / 1024,
        "persist_s": persist if saved else None,
        "persisted": saved,
    }
