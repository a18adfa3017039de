"""Benchmark the product path from raw texts beside tantivy, bm25s and rank-bm25, in one run.

    python tests/benchmarks/product.py [--sizes 10000,100000] [--queries 200] [--out FILE] [--work DIR]

Content: workload.generate_texts (Zipf English-like words, every 20th passage an
interview passage; fixed seed) written as content files in the project's format,
1,000 passages a file, sections of 8-12 passages titled by a generated question
("What is <2-5 words of the section>?"). Sizes are prefixes: the 10,000 folder holds
the first 10 files of the 100,000 one. `python -m bot content` must accept each folder.

Builds: each engine in its own fresh subprocess per size, engines interleaved. Baseline:
resident size after the engine's imports and after reading every content file's text
into memory (the corpus); the peak is reset there (/proc/self/clear_refs). Timed from
there ("build s"); Q is "How many ethnic Ukrainians live in Kazakhstan?":
- product: AnswerService(folder, embedder=None, cache_dir=<empty dir>), i.e. SEMANTIC
  off: reads and parses the files itself, analyses, builds BM25 with section titles,
  writes its cache; then one ask(Q) (the first answer).
  Its build figures are on the "product lexical search" row;
- tantivy, bm25s, rank-bm25: the in-memory texts parsed into passages (paragraphs not
  in the front matter and not `## ` headings; section titles are NOT indexed: body
  only), then: tantivy, one en_stem text field (not stored, no stop words removed) and
  a stored integer id, default writer, written to a directory, committed, merging
  threads waited for, reader reloaded; bm25s, tokenize(stopwords="en", PyStemmer
  english) + BM25().index; rank-bm25, lower-cased \\w+ words, BM25Okapi.
"peak MB": highest resident size during the build above the baseline; "kept MB":
resident size after the build and a gc, above the baseline. Ratios are to tantivy.

Latency ("p50/p99 ms"), in the same worker after the build, one call per raw question
string after 3 warm-up calls: the English questions of tests/data (dev + held-out)
then generated ones (1-6 corpus words: frequent, middling, rare) up to --queries.
"product lexical search": service.index.search(q, 5) (analyzer, spelling tolerance,
BM25 with titles, top 5, coverage; each hit names its passage by number, as tantivy's
hits a stored id, and its record is made when first used: on the "product ask" row);
"product ask": service.ask(q), the whole answer path (ranking, intents, decision);
tantivy: parse_query(q's \\w+ words, lower-cased) +
search(5, count=False) + each hit's stored id; bm25s: q tokenized alike + retrieve(k=5)
(a question of stop words only returns at once); rank-bm25: get_scores + argsort top
5, only the first 20 questions above 50,000 passages (about 0.3 s each at 100,000).

Whole processes, wall time, run from the repository root, after `python -m compileall bot
index` (an install or the Docker image compiles the project's bytecode, as pip did the
libraries'; without it every start compiles the sources, about 30 ms here, where
PYTHONDONTWRITEBYTECODE is set): "cached start" is
`python -m bot ask Q` with CONTENT_DIR=<folder>, INDEX_CACHE_DIR=<the cache the product
worker wrote>, SEMANTIC=off, DATA_DIR=<tmp>, median of 5 after one untimed run ("cache
reused": that run rewrote no cache file; "kept": nor did the timed runs), beside
`python -c "import pydantic_settings"` (median of 5, each run right after one of the
product's, so that machine drift during the run reaches both sides alike) and a python -c that imports
tantivy, opens the worker's index and runs one query (median of 5). "with the shipped content":
the same cached start on the folder plus the files of content/ (the interview and its
translation), its cache built by `python -m bot content --build`. "first build, whole process
tree": tests/benchmarks/tree_memory.py (median of 3, alternating): `python -m bot ask` with an
empty cache and its analysis workers, beside a tantivy process that streams the files into
its index; Pss of every process of each tree summed. "first start", at
10,000 passages: `python -m bot ask Q` with a fresh empty INDEX_CACHE_DIR (median of 3),
beside a process that imports tantivy, reads and parses the same files, indexes them
(en_stem) on disk, commits and runs one query (median of 3). The product's log
warnings and the processes' stderr are printed and kept in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks import tree_memory
from tests.benchmarks.product_workers import (
    FIRST_QUESTION,
    SLOW_ENGINE_QUERIES,
    SLOW_ENGINE_SIZE,
    Json,
    bot_env,
    cached_start,
    cached_start_with_shipped,
    first_start,
    worker,
)
from tests.benchmarks.workload import ROOT, SEED, generate_texts

ENGINES = ("product", "tantivy", "bm25s", "rank-bm25")
DOCUMENT_PASSAGES = 1000
FIRST_START_SIZE = 10_000
OPENERS = ("What is", "How does", "Why do", "When did", "Who can", "Where are", "How many")
TARGETS = {  # name: (limit, what is compared)
    "build_vs_tantivy": (2.0, "product build s / tantivy build s, largest size"),
    "cached_start_vs_bare_python": (2.5, "cached `python -m bot ask` / python -c 'import pydantic_settings'"),
    "cached_start_translated_vs_bare_python": (
        2.5,
        "the same with the shipped content (a translation) added, largest size",
    ),
    "peak_memory_vs_tantivy": (1.5, "product peak MB above the corpus / tantivy's, largest size"),
    "tree_memory_vs_tantivy": (
        2.0,
        "first build's whole process tree peak (Pss) / a tantivy process's, largest size",
    ),
    "lexical_p50_vs_tantivy": (1.0, "product lexical search p50 / tantivy p50, largest size"),
    "first_start_10k_vs_tantivy": (2.0, "first `python -m bot ask` at 10k / tantivy index process"),
}


def _words(text: str) -> list[str]:
    return [w.strip(".,;:()—«»\"'?!").lower() for w in text.split()]


def write_document(path: Path, number: int, texts: list[str]) -> None:
    """Write one content file: front matter, then sections of about 10 passages under a question title."""
    rng = np.random.default_rng(SEED + number)
    lines = ["---", f"id: bench-{number:04d}", f"title: Generated document {number}", "speaker: Benchmark"]
    lines += ["date: 2024-05-18", "language: en", "---", ""]
    start = 0
    while start < len(texts):
        section = texts[start : start + int(rng.integers(8, 13))]
        words = [w for w in _words(" ".join(section)) if len(w) > 3]
        picked = [words[int(i)] for i in rng.integers(len(words), size=int(rng.integers(2, 6)))]
        lines += [f"## {OPENERS[int(rng.integers(len(OPENERS)))]} {' '.join(picked)}?", ""]
        for text in section:
            lines += [text, ""]
        start += len(section)
    path.write_text("\n".join(lines), encoding="utf-8")


def write_content(work: Path, sizes: list[int], query_count: int) -> Json:
    """Write a content folder per size (prefixes of the largest) and the questions; return timings."""
    from index.content.loader import load_corpus

    if any(size % DOCUMENT_PASSAGES for size in sizes):
        raise SystemExit(f"sizes must be multiples of {DOCUMENT_PASSAGES}")
    interview = [p.text for p in load_corpus(ROOT / "content").passages]
    rng = np.random.default_rng(SEED)
    began = time.perf_counter()
    texts = generate_texts(max(sizes), interview, rng)
    generated = time.perf_counter() - began
    began = time.perf_counter()
    for size in sizes:
        folder = work / f"content-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for start in range(0, size, DOCUMENT_PASSAGES):
            number = start // DOCUMENT_PASSAGES + 1
            write_document(folder / f"doc-{number:04d}.md", number, texts[start : start + DOCUMENT_PASSAGES])
    written = time.perf_counter() - began
    questions = make_questions(texts[: min(sizes)], query_count, rng)
    (work / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
    return {"generate_s": generated, "write_s": written, "questions": len(questions)}


def make_questions(texts: list[str], count: int, rng: np.random.Generator) -> list[str]:
    """Return the English evaluation questions, then 1-6 corpus words as text, count in all."""
    questions: list[str] = []
    for name in ("questions-dev.jsonl", "questions-heldout.jsonl"):
        lines = (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
        questions += [json.loads(line)["q"] for line in lines if line.strip()]
    questions = questions[:count]
    counts: dict[str, int] = {}
    for text in texts:
        for word in _words(text):
            if word:
                counts[word] = counts.get(word, 0) + 1
    by_count = sorted(counts, key=lambda w: (-counts[w], w))
    pools = (by_count[:200], by_count[200:5000], [w for w in by_count if counts[w] <= 5])
    while len(questions) < count:
        words = []
        for _ in range(int(rng.integers(1, 7))):
            pool = pools[int(rng.choice(3, p=(0.3, 0.45, 0.25)))]
            words.append(pool[int(rng.integers(len(pool)))])
        questions.append(" ".join(words))
    return [questions[i] for i in rng.permutation(len(questions))]


def run_worker(engine: str, size: int, work: Path) -> Json:
    """Run one engine's build and queries in a fresh subprocess; return its JSON result."""
    command = [sys.executable, __file__, "--worker", engine, "--size", str(size), "--work", str(work)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-3:]}
    result: Json = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def check_content(folder: Path, size: int) -> str:
    """Run `python -m bot content` on the folder; fail unless it accepts it with size passages."""
    with tempfile.TemporaryDirectory() as tmp:
        env = bot_env(folder, Path(tmp) / "cache", Path(tmp) / "data")
        done = subprocess.run(
            [sys.executable, "-m", "bot", "content"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    last = (done.stdout.strip().splitlines() or [done.stderr.strip()])[-1]
    if done.returncode != 0 or f", {size} passages" not in last:
        raise SystemExit(f"bot content refused {folder}: {done.stderr.strip() or last}")
    return last


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 100 else f"{value:.0f}"
    return str(value)


def _ratio(a: object, b: object) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return float(a) / float(b)
    return None


def _rows(by_engine: dict[str, Json]) -> list[tuple[str, Json, Json]]:
    """Return (label, build figures, latency figures) per engine, the product's two paths apart."""
    rows = []
    for result in by_engine.values():
        for label, latency in result.get("latency", {"error": {}}).items():
            rows.append((label, result if label != "product ask" else {}, latency))
    return rows


def print_tables(results: dict[str, Json], first: Json) -> None:
    """Print, per size, absolute figures and ratios to tantivy, then the whole-process starts."""
    header = (
        f"{'engine':<23} {'build s':>8} {'peak MB':>8} {'kept MB':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'n q':>4} | {'build/tv':>8} {'peak/tv':>8} {'p50/tv':>8}"
    )
    for size, result in results.items():
        engines: dict[str, Json] = result["engines"]
        tv = engines.get("tantivy", {})
        tv_p50 = tv.get("latency", {}).get("tantivy", {}).get("p50_ms")
        print(f"\n{size} passages\n{header}\n{'-' * len(header)}")
        for engine, r in engines.items():
            if "error" in r:
                print(f"{engine:<23} ERROR {r['error']}")
        for label, b, q in _rows({e: r for e, r in engines.items() if "error" not in r}):
            print(
                f"{label:<23} {_fmt(b.get('build_s')):>8} {_fmt(b.get('peak_mb')):>8} "
                f"{_fmt(b.get('retained_mb')):>8} {_fmt(q.get('p50_ms')):>8} {_fmt(q.get('p99_ms')):>8} "
                f"{q.get('queries', 0):>4} | {_fmt(_ratio(b.get('build_s'), tv.get('build_s'))):>8} "
                f"{_fmt(_ratio(b.get('peak_mb'), tv.get('peak_mb'))):>8} "
                f"{_fmt(_ratio(q.get('p50_ms'), tv_p50)):>8}"
            )
        start, bare = result["cached_start"], result["bare_python_s"]
        print(
            f"cached start: python -m bot ask {_fmt(start.get('product_s'))} s "
            f"({_fmt(_ratio(start.get('product_s'), bare))}x bare python {_fmt(bare)} s; "
            f"cache reused: {start.get('cache_reused')}, kept: {start.get('cache_stable')}); "
            f"tantivy open + query {_fmt(start.get('tantivy_open_s'))} s "
            f"({_fmt(_ratio(start.get('tantivy_open_s'), bare))}x)"
        )
        tree = result["tree_memory"]
        print(
            f"first build, whole process tree (Pss, workers included): product "
            f"{tree['product_tree_peak_mb']:.0f} MB, tantivy streaming the files "
            f"{tree['tantivy_tree_peak_mb']:.0f} MB ({tree['ratio']:.2f}x)"
        )
        shipped = result["cached_start_with_shipped"]
        print(
            f"  with the shipped content ({shipped.get('documents')} files, a translation): "
            f"{_fmt(shipped.get('product_s'))} s "
            f"({_fmt(_ratio(shipped.get('product_s'), shipped.get('bare_python_s')))}x bare python "
            f"{_fmt(shipped.get('bare_python_s'))} s; cache reused: {shipped.get('cache_reused')})"
            + (f" error: {shipped['error']}" if "error" in shipped else "")
        )
        for engine, r in engines.items():
            for line in r.get("warnings", []):
                print(f"  {engine} build warning: {line}")
        for line in start.get("stderr", []):
            print(f"  cached start stderr: {line}")
    print(
        f"\nfirst start at {first['passages']} passages: python -m bot ask {_fmt(first['product_s'])} s, "
        f"tantivy index process {_fmt(first['tantivy_s'])} s "
        f"({_fmt(_ratio(first['product_s'], first['tantivy_s']))}x)"
    )
    for line in first.get("stderr", []):
        print(f"  first start stderr: {line}")


def check_targets(results: dict[str, Json], first: Json) -> dict[str, Json]:
    """Return each target with its measured ratio and whether it is met."""
    largest = results[max(results, key=int)]
    product, tv = largest["engines"].get("product", {}), largest["engines"].get("tantivy", {})
    lexical = product.get("latency", {}).get("product lexical search", {})
    values = {
        "build_vs_tantivy": _ratio(product.get("build_s"), tv.get("build_s")),
        "cached_start_vs_bare_python": _ratio(
            largest["cached_start"].get("product_s"), largest["bare_python_s"]
        ),
        "cached_start_translated_vs_bare_python": _ratio(
            largest["cached_start_with_shipped"].get("product_s"),
            largest["cached_start_with_shipped"].get("bare_python_s"),
        ),
        "peak_memory_vs_tantivy": _ratio(product.get("peak_mb"), tv.get("peak_mb")),
        "tree_memory_vs_tantivy": largest["tree_memory"]["ratio"],
        "lexical_p50_vs_tantivy": _ratio(
            lexical.get("p50_ms"), tv.get("latency", {}).get("tantivy", {}).get("p50_ms")
        ),
        "first_start_10k_vs_tantivy": _ratio(first.get("product_s"), first.get("tantivy_s")),
    }
    return {
        name: {"value": values[name], "limit": limit, "compares": what, "met": (values[name] or 1e9) <= limit}
        for name, (limit, what) in TARGETS.items()
    }


def main() -> None:
    """Write the content, run every engine at every size and the whole processes; print and save."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "tests/benchmarks/product-results.json"))
    parser.add_argument("--work", default=str(ROOT / "tests/benchmarks/results/product-work"))
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.work).resolve()
    if args.worker:
        print(json.dumps(worker(args.worker, args.size, work / f"content-{args.size}", work)))
        return
    sizes = sorted({int(s) for s in args.sizes.split(",") if s})
    if max(sizes) >= FIRST_START_SIZE and FIRST_START_SIZE not in sizes:
        sizes_written = [*sizes, FIRST_START_SIZE]
    else:
        sizes_written = sizes
    began = time.perf_counter()
    prepared = write_content(work, sorted(sizes_written), args.queries)
    prepared["bot_content"] = {size: check_content(work / f"content-{size}", size) for size in sizes_written}
    # Bytecode, as `pip install .` or the Docker image leaves it: the baseline's library has it too.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "bot", "index"], cwd=ROOT, check=True)
    prepared["bytecode"] = "python -m compileall bot index"
    print(f"prepared: {json.dumps(prepared)}", flush=True)
    results: dict[str, Json] = {}
    for size in sizes:
        engines = {engine: run_worker(engine, size, work) for engine in ENGINES}
        for engine, measured in engines.items():
            print(f"{size:>7} {engine:<10} {json.dumps(measured)}", flush=True)
        folder = work / f"content-{size}"
        result: Json = {"engines": engines}
        result["cached_start"] = cached_start(folder, engines["product"], engines["tantivy"], work)
        # The baseline's runs alternate with the cached start's (see cached_start).
        result["bare_python_s"] = result["cached_start"].get("bare_python_s")
        print(f"{size:>7} cached start {json.dumps(result['cached_start'])}", flush=True)
        result["cached_start_with_shipped"] = cached_start_with_shipped(folder, work)
        print(f"{size:>7} with shipped {json.dumps(result['cached_start_with_shipped'])}", flush=True)
        result["tree_memory"] = tree_memory.compare(folder, work)
        print(f"{size:>7} tree memory {json.dumps(result['tree_memory'])}", flush=True)
        results[str(size)] = result
    first_size = min(FIRST_START_SIZE, max(sizes))
    first = first_start(work / f"content-{first_size}", work)
    first["passages"] = first_size
    print_tables(results, first)
    targets = check_targets(results, first)
    print("\ntargets")
    for name, target in targets.items():
        value = "n/a" if target["value"] is None else f"{target['value']:.2f}x"
        verdict = "pass" if target["met"] else "FAIL"
        print(f"  {name:<28} {value:>7} <= {target['limit']}x  {verdict}  ({target['compares']})")
    report = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "settings": {
            "sizes": sizes,
            "queries": args.queries,
            "document_passages": DOCUMENT_PASSAGES,
            "seed": SEED,
            "first_question": FIRST_QUESTION,
            "slow_engine_queries_above": [SLOW_ENGINE_SIZE, SLOW_ENGINE_QUERIES],
        },
        "prepared": prepared,
        "results": results,
        "first_start": first,
        "targets": targets,
        "total_s": time.perf_counter() - began,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} in {report['total_s']:.0f} s")


if __name__ == "__main__":
    main()
