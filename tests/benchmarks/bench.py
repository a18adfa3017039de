"""Benchmark FastBM25 against rank-bm25, bm25s and tantivy on generated English-like corpora.

Run from the repository root::

    python tests/benchmarks/bench.py --sizes 1000,10000,100000 --queries 200

Corpus: Zipf-distributed words (s = 1.05) over 50,000 ranks (English stop
words first, then the interview's words, then pseudo-words), passage lengths
log-normal around 70 words, every 20th passage an interview passage. Sizes are
prefixes of the largest corpus. Queries: a quarter are the analysed questions
of tests/data, the rest 1-6 terms drawn from frequent, middling and rare terms.

Tokenisation: the corpus and the questions are tokenised once, in this parent
process, with the project's Analyzer (index.analysis.text.Analyzer.terms). Every
engine indexes exactly those terms: rank-bm25, bm25s and FastBM25 take the term
lists (strings interned, as the Analyzer's stem cache shares them), tantivy
takes them space-joined through its "whitespace" tokenizer.

Each engine runs in its own subprocess per corpus size (engines interleaved
within a size), so memory and cold-start numbers are not polluted by other
engines. Peak memory is the process's peak resident set size above its resident
size once the corpus terms are loaded and the engine's library imported (the
peak is reset with /proc/self/clear_refs at that point). Scoring is BM25 with
k1=1.2, b=0.75 everywhere: rank-bm25 BM25Okapi, bm25s "lucene", tantivy's own
BM25, FastBM25 okapi; rankings therefore differ between libraries (idf
formulas), but the work done is the same. Latency is one top-5 call per query,
from the engine's input terms to Python results: rank-bm25 get_scores + argsort;
bm25s retrieve; tantivy a boolean OR of term queries, hits as doc addresses (no
stored-field fetch); FastBM25 top_k. rank-bm25 runs only 20 queries above 50,000
passages. Cold start: each library's own persisted index, opened in a fresh
process (imports excluded); rank-bm25 has none.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Run as a script: make the repository importable, for `tests` and `index`.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.engines import K1, SLOW_ENGINE_QUERIES, SLOW_ENGINE_SIZE, B, K, worker
from tests.benchmarks.workload import ROOT, Json, prepare

ENGINES = ("rank-bm25", "bm25s", "tantivy", "fastbm25")


def run_worker(engine: str, size: int, phase: str, work: Path) -> Json:
    """Run a worker subprocess and return its JSON result."""
    command = [sys.executable, __file__, "--worker", phase, "--engine", engine, "--size", str(size)]
    command += ["--work", str(work)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    result: Json = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if value < 100 else f"{value:.0f}"
    return str(value)


def _ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


_RATIO_KEYS = ("build_s", "p50_ms", "peak_mb")


def print_table(results: dict[str, dict[str, Json]]) -> None:
    """Print absolute numbers and ratios to tantivy and to FastBM25, per size."""
    header = (
        f"{'size':>7} {'engine':<10} {'build s':>8} {'load s':>8} {'p50 ms':>8} {'p99 ms':>8} {'n q':>4} "
        f"{'peak MB':>8} {'kept MB':>8} | {'build/tv':>8} {'p50/tv':>8} {'peak/tv':>8} | "
        f"{'build/us':>8} {'p50/us':>8} {'peak/us':>8}"
    )
    print(header)
    print("-" * len(header))
    for size, by_engine in results.items():
        tv, us = by_engine.get("tantivy", {}), by_engine.get("fastbm25", {})
        for name, r in by_engine.items():
            if "error" in r:
                print(f"{size:>7} {name:<10} ERROR {r['error']}")
                continue
            print(
                f"{size:>7} {name:<10} {_fmt(r.get('build_s')):>8} {_fmt(r.get('load_s')):>8} "
                f"{_fmt(r.get('p50_ms')):>8} {_fmt(r.get('p99_ms')):>8} {r.get('queries', 0):>4} "
                f"{_fmt(r.get('peak_mb')):>8} {_fmt(r.get('retained_mb')):>8} | "
                + " ".join(f"{_ratio(r.get(key), tv.get(key)):>8}" for key in _RATIO_KEYS)
                + " | "
                + " ".join(f"{_ratio(r.get(key), us.get(key)):>8}" for key in _RATIO_KEYS)
            )
        print()


def check_targets(results: dict[str, dict[str, Json]]) -> dict[str, Any]:
    """Return the issue's targets at the largest size, with the measured ratios."""
    by_engine = results[max(results, key=int)]
    us, tv, bs = by_engine.get("fastbm25", {}), by_engine.get("tantivy", {}), by_engine.get("bm25s", {})

    def ratio(a: Json, b: Json, key: str) -> float | None:
        return a[key] / b[key] if key in a and key in b and b[key] else None

    checks: dict[str, Any] = {
        "query_p50_vs_tantivy": (ratio(us, tv, "p50_ms"), 2.0),
        "build_vs_tantivy": (ratio(us, tv, "build_s"), 2.0),
        "peak_memory_vs_bm25s": (ratio(us, bs, "peak_mb"), 1.0),
        "load_seconds": (us.get("load_s"), 1.0),
    }
    return {
        name: {"value": value, "limit": limit, "met": value is not None and value <= limit}
        for name, (value, limit) in checks.items()
    }


def main() -> None:
    """Prepare data, run every engine at every size, print and save the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--out", default=str(ROOT / "tests/benchmarks/results/results.json"))
    parser.add_argument("--work", default=str(ROOT / "tests/benchmarks/results/work"))
    parser.add_argument("--worker", choices=("build", "load"), help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.engine, args.size, Path(args.work))))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    engines = [e for e in args.engines.split(",") if e]
    work = Path(args.work)
    began = time.perf_counter()
    prepared = prepare(work, max(sizes), args.queries)
    print(f"prepared: {json.dumps(prepared)}", flush=True)
    results: dict[str, dict[str, Json]] = {}
    for size in sizes:
        results[str(size)] = {}
        for engine in engines:
            result = run_worker(engine, size, "build", work)
            if result.get("persisted"):
                result.update(run_worker(engine, size, "load", work))
            results[str(size)][engine] = result
            print(f"{size:>7} {engine:<10} {json.dumps(result)}", flush=True)
    print()
    print_table(results)
    targets = check_targets(results)
    for name, target in targets.items():
        value = "n/a" if target["value"] is None else f"{target['value']:.3f}"
        print(f"target {name}: {value} <= {target['limit']}: {'MET' if target['met'] else 'NOT MET'}")
    report = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "settings": {
            "k": K,
            "k1": K1,
            "b": B,
            "slow_engine_queries_above": [SLOW_ENGINE_SIZE, SLOW_ENGINE_QUERIES],
        },
        "prepared": prepared,
        "results": results,
        "targets": targets,
        "total_s": time.perf_counter() - began,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {out} in {report['total_s']:.0f} s")


if __name__ == "__main__":
    main()
