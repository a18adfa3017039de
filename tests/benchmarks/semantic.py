"""Benchmark what the semantic layer costs a user, beside BM25 alone, in one run.

    python tests/benchmarks/semantic.py [--sizes 10000,100000] [--install] [--out FILE]

1. AnswerService.ask on the interview, whole product path (raw question in, Answer out):
   p50/p99 over every evaluation question, SEMANTIC=on beside SEMANTIC=off.
2. Start-up as a whole process: `python -m bot ask` with an empty cache, then cached,
   beside a bare `python -c "import pydantic_settings"`; with --install also the first
   `embassy-bot ask` after `pip install .` into a fresh virtual environment, run from
   another directory.
3. Passage encoding throughput (texts/s): one model handle on 1 and 2 OpenMP threads, and
   two handles in two Python threads (what INDEX_WORKERS=2 does in a build).
4. Inner engines (labelled as such): dense search (matrix-vector product and top-k over
   unit vectors) beside FastBM25's top-k, at each size, on generated passages.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
QUESTION = "Скільки українців живе в Казахстані?"


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile in milliseconds of values in seconds."""
    return float(np.percentile(np.array(values) * 1000, q))


def questions() -> list[str]:
    """Return every evaluation question."""
    out = []
    for name in (
        "questions-dev.jsonl",
        "questions-dev-uk-ru.jsonl",
        "questions-heldout.jsonl",
        "questions-heldout-uk-ru.jsonl",
    ):
        lines = (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
        out += [json.loads(line)["q"] for line in lines if line.strip()]
    return out


def ask_latency(cache: Path) -> dict[str, Any]:
    """Time AnswerService.ask over every evaluation question, with and without the model."""
    from bot.settings import Settings
    from bot.wiring import build_service

    result: dict[str, Any] = {}
    qs = questions()
    for mode in ("on", "off"):
        service = build_service(Settings(_env_file=None, semantic=mode, index_cache_dir=cache))  # type: ignore[call-arg]
        for q in qs[:10]:
            service.ask(q)  # warm caches
        times = []
        for q in qs:
            began = time.perf_counter()
            service.ask(q)
            times.append(time.perf_counter() - began)
        result[f"SEMANTIC={mode}"] = {
            "questions": len(qs),
            "p50_ms": percentile(times, 50),
            "p99_ms": percentile(times, 99),
        }
    result["ratio_p50_on_vs_off"] = result["SEMANTIC=on"]["p50_ms"] / result["SEMANTIC=off"]["p50_ms"]
    return result


def wall(command: list[str], env: dict[str, str], cwd: Path, runs: int = 3) -> float:
    """Return the median wall time of a whole process, in seconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def startup(install: bool) -> dict[str, Any]:
    """Time whole processes: bare Python, the first and a cached `ask`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("INDEX_CACHE_DIR", None)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bare = wall([sys.executable, "-c", "import pydantic_settings"], env, work)
        result["bare_python_import_pydantic_settings_s"] = bare
        firsts = []
        for i in range(3):
            fresh = {**env, "INDEX_CACHE_DIR": str(work / f"cache-{i}")}
            firsts.append(wall([sys.executable, "-m", "bot", "ask", QUESTION], fresh, work, runs=1))
        cached = wall(
            [sys.executable, "-m", "bot", "ask", QUESTION],
            {**env, "INDEX_CACHE_DIR": str(work / "cache-0")},
            work,
        )
        result["first_ask_s"] = statistics.median(firsts)
        result["cached_ask_s"] = cached
        result["cached_vs_bare_python"] = cached / bare
        if install:
            venv = work / "venv"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)]
            subprocess.run(pip, check=True, capture_output=True)
            elsewhere = work / "elsewhere"
            elsewhere.mkdir()
            clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "INDEX_CACHE_DIR")}
            clean["INDEX_CACHE_DIR"] = str(work / "installed-cache")
            command = [str(venv / "bin" / "embassy-bot"), "ask", QUESTION]
            result["installed_first_ask_s"] = wall(command, clean, elsewhere, runs=1)
            result["installed_cached_ask_s"] = wall(command, clean, elsewhere)
            output = subprocess.run(
                command, env=clean, cwd=elsewhere, check=True, capture_output=True, text=True
            )
            result["installed_answer_ok"] = "373" in output.stdout
    return result


def encoding(threads: int, handles: int) -> dict[str, Any]:
    """Encode the interview's paragraphs and sentences (295 texts) with this many OpenMP threads per
    model handle and this many handles in as many Python threads (the product's INDEX_WORKERS);
    texts per second, in a fresh process."""
    code = "\n".join(
        [
            "import sys, time",
            f"sys.path.insert(0, {str(ROOT)!r})",
            "from pathlib import Path",
            "from index.content.loader import load_corpus",
            "from index.semantic.dense import units_of",
            "from index.semantic.model import load_embedder",
            "from index.semantic.vectors import encode_all",
            f"corpus = load_corpus(Path({str(ROOT / 'content')!r}))",
            "texts = [u for p in corpus.passages for u in units_of(p.text)]",
            "model = load_embedder()",
            f"handles = [model] + [model.replica() for _ in range({handles} - 1)]",
            "model.embed_passages(texts[:2])",
            "began = time.perf_counter()",
            "encode_all(texts, handles)",
            "print(len(texts) / (time.perf_counter() - began))",
        ]
    )
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return {"omp_threads": threads, "model_handles": handles, "texts_per_s": float(out.stdout.strip())}


def dense_vs_bm25(sizes: list[int], queries: int) -> dict[str, Any]:
    """Inner engines only: dense top-k over unit vectors beside FastBM25 top-k."""
    from index.analysis.text import Analyzer
    from index.content.loader import load_corpus
    from index.lexical.bm25 import BM25Params
    from index.lexical.engine import FastBM25
    from tests.benchmarks.workload import SEED, generate_texts

    rng = np.random.default_rng(SEED)
    interview = [p.text for p in load_corpus(ROOT / "content").passages]
    analyzer = Analyzer()
    texts = generate_texts(max(sizes), interview, rng)
    bags = [analyzer.terms(t) for t in texts]
    qs = [analyzer.terms(q)[:6] for q in questions() if analyzer.terms(q)][:queries]
    result: dict[str, Any] = {}
    for size in sizes:
        engine = FastBM25(bags[:size], BM25Params())
        vectors = rng.normal(size=(size, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        query_vectors = rng.normal(size=(len(qs), 384)).astype(np.float32)
        bm25_times, dense_times = [], []
        for terms, vector in zip(qs, query_vectors, strict=True):
            began = time.perf_counter()
            engine.top_k(terms, 50)
            bm25_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            scores = vectors @ vector
            top = np.argpartition(-scores, 50)[:50]
            top[np.argsort(-scores[top])]
            dense_times.append(time.perf_counter() - began)
        result[str(size)] = {
            "fastbm25_p50_ms": percentile(bm25_times, 50),
            "dense_p50_ms": percentile(dense_times, 50),
            "dense_p99_ms": percentile(dense_times, 99),
            "dense_vs_fastbm25_p50": percentile(dense_times, 50) / percentile(bm25_times, 50),
            "vectors_mb": vectors.nbytes / 2**20,
        }
    return result


def main() -> None:
    """Run every part and print and write the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--install", action="store_true", help="also time `pip install .` then the first ask")
    parser.add_argument("--out", type=Path, default=ROOT / "tests/benchmarks/results/semantic.json")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory() as cache:
        results: dict[str, Any] = {"ask": ask_latency(Path(cache))}
    results["startup"] = startup(args.install)
    results["encoding"] = [encoding(1, 1), encoding(2, 1), encoding(1, 2)]
    results["inner_engines"] = dense_vs_bm25(sizes, args.queries)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
