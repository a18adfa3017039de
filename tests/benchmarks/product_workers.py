"""Helpers of product.py: one engine per worker subprocess (raw texts in), and whole-process timings.

Only the standard library is imported at module level, so that the whole-process
tantivy script (`tantivy_first_start`) pays for nothing but tantivy.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks.engines import _reset_peak, _status_kb

Json = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2]
K = 5
# rank-bm25 scans every passage per query term in Python (tens of ms a query at
# 100k passages): fewer queries above this size.
SLOW_ENGINE_SIZE = 50_000
SLOW_ENGINE_QUERIES = 20
FIRST_QUESTION = "How many ethnic Ukrainians live in Kazakhstan?"
_WORD = re.compile(r"\w+")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ ")  # a log line's time, so repeated lines are kept once
Search = Callable[[str], int]


def read_files(folder: Path) -> list[str]:
    """Return the text of every content file of the folder, in file-name order."""
    return [path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.md"))]


def passages(markdown: str) -> list[str]:
    """Return one file's passages: its paragraphs, without the front matter and `## ` headings."""
    lines = markdown.split("\n")
    if lines and lines[0].strip() == "---":
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        lines = lines[end + 1 :]
    out: list[str] = []
    paragraph: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith("## "):
            paragraph.append(stripped)
        elif paragraph:
            out.append(" ".join(paragraph))
            paragraph = []
    if paragraph:
        out.append(" ".join(paragraph))
    return out


def query_words(question: str) -> str:
    """Return the question as lower-case words, safe for tantivy's query parser."""
    return " ".join(_WORD.findall(question.lower()))


def tantivy_index(texts: list[str], where: Path) -> Any:
    """Index the passages with tantivy's en_stem tokenizer on disk, commit, merge and reload."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
    builder.add_integer_field("id", stored=True)
    index = tantivy.Index(builder.build(), path=str(where))
    writer = index.writer()
    for number, text in enumerate(texts):
        writer.add_document(tantivy.Document(id=number, text=text))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def tantivy_first_start(folder: str, where: str) -> None:
    """Whole-process reference: read and parse the files, index them with en_stem, one query."""
    texts = [p for markdown in read_files(Path(folder)) for p in passages(markdown)]
    index = tantivy_index(texts, Path(where))
    searcher = index.searcher()
    query = index.parse_query(query_words(FIRST_QUESTION), ["text"])
    hits = searcher.search(query, K, count=False).hits
    print([searcher.doc(address)["id"][0] for _, address in hits])


class _Collect(logging.Handler):
    """Keep the product's warnings (an unusable cache, say), which would otherwise go unseen."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}"[:300])


def _import(engine: str) -> None:
    if engine == "product":
        import bot.service  # noqa: F401
    elif engine == "tantivy":
        import tantivy  # noqa: F401
    elif engine == "bm25s":
        import bm25s  # noqa: F401
        import Stemmer  # noqa: F401
    else:
        import numpy  # noqa: F401
        import rank_bm25  # noqa: F401


def _build(engine: str, files: list[str], folder: Path, store: Path) -> tuple[dict[str, Search], Json]:
    """Build one engine from the raw file texts; return its timed search functions and details."""
    if engine == "product":
        from bot.service import AnswerService

        warnings = _Collect()
        logging.getLogger().addHandler(warnings)
        began = time.perf_counter()
        service = AnswerService(folder, embedder=None, cache_dir=store)
        constructed = time.perf_counter() - began
        first = service.ask(FIRST_QUESTION)
        details: Json = {"construct_s": constructed, "first_ask_s": time.perf_counter() - began - constructed}
        details["first_answered"] = first.answered
        details["first_reason"] = first.reason
        details["passages"] = len(service.corpus.passages)
        details["warnings"] = warnings.lines
        return {
            "product lexical search": lambda q: len(service.index.search(q, K).hits),
            "product ask": lambda q: len(service.ask(q).hits),
        }, details
    texts = [p for markdown in files for p in passages(markdown)]
    if engine == "tantivy":
        index = tantivy_index(texts, store)
        searcher = index.searcher()

        def tantivy_search(question: str) -> int:
            hits = searcher.search(index.parse_query(query_words(question), ["text"]), K, count=False).hits
            return len([searcher.doc(address)["id"][0] for _, address in hits])

        return {"tantivy": tantivy_search}, {"passages": len(texts), "segments": searcher.num_segments}
    if engine == "bm25s":
        import bm25s
        import Stemmer

        stemmer = Stemmer.Stemmer("english")
        model = bm25s.BM25()
        model.index(
            bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False
        )

        def bm25s_search(question: str) -> int:
            terms = bm25s.tokenize(
                [question], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
            )
            if not terms[0]:
                return 0
            _, scores = model.retrieve(terms, k=K, show_progress=False, n_threads=0)
            return int((scores[0] > 0).sum())

        return {"bm25s": bm25s_search}, {"passages": len(texts)}
    import numpy as np
    import rank_bm25

    bm25 = rank_bm25.BM25Okapi([_WORD.findall(t.lower()) for t in texts])

    def rank_bm25_search(question: str) -> int:
        scores = bm25.get_scores(_WORD.findall(question.lower()))
        return len(np.argsort(scores)[::-1][:K])

    return {"rank-bm25": rank_bm25_search}, {"passages": len(texts)}


def _timed(search: Search, questions: list[str]) -> Json:
    import numpy as np

    for question in questions[:3]:
        search(question)  # warm-up: first-call allocations and lazy imports
    times: list[float] = []
    empty = failed = 0
    for question in questions:
        began = time.perf_counter_ns()
        try:
            found = search(question)
        except Exception:  # an unparsable query: counted, not fatal
            failed += 1
            continue
        times.append((time.perf_counter_ns() - began) / 1e6)
        empty += found == 0
    return {
        "queries": len(times),
        "no_hits": empty,
        "failed": failed,
        "p50_ms": float(np.percentile(times, 50)) if times else None,
        "p99_ms": float(np.percentile(times, 99)) if times else None,
        "mean_ms": float(np.mean(times)) if times else None,
    }


def _disk_mb(where: Path) -> float:
    return sum(p.stat().st_size for p in where.rglob("*") if p.is_file()) / 2**20


def worker(engine: str, size: int, folder: Path, work: Path) -> Json:
    """Build one engine from the folder's raw texts in this process, then time its queries."""
    _import(engine)
    store = work / f"{engine}-store-{size}"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    questions: list[str] = json.loads((work / "questions.json").read_text(encoding="utf-8"))
    files = read_files(folder)  # the corpus: every content file's text, in memory
    gc.collect()
    exact_peak = _reset_peak()
    base_kb = _status_kb("VmRSS")
    began = time.perf_counter()
    searches, details = _build(engine, files, folder, store)
    built = time.perf_counter() - began
    if exact_peak:
        peak_kb = _status_kb("VmHWM") - base_kb
    else:  # peak since start: overstates when something before the build peaked higher
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_kb
    gc.collect()
    result: Json = {
        "build_s": built,
        "peak_mb": peak_kb / 1024,
        "retained_mb": (_status_kb("VmRSS") - base_kb) / 1024,
        "baseline_mb": base_kb / 1024,
        "exact_peak": exact_peak,
        "disk_mb": _disk_mb(store),
        "store": str(store),
        **details,
    }
    if engine == "rank-bm25" and size > SLOW_ENGINE_SIZE:
        questions = questions[:SLOW_ENGINE_QUERIES]
    result["latency"] = {label: _timed(search, questions) for label, search in searches.items()}
    return result


def wall(
    command: list[str], env: dict[str, str] | None = None, runs: int = 5
) -> tuple[list[float], list[str]]:
    """Return the wall times in seconds of runs whole processes (from the repository root), and stderr."""
    times, stderr = [], []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - began)
        lines = (_STAMP.sub("", line)[:300] for line in done.stderr.splitlines())
        stderr += [line for line in lines if line not in stderr]
    return times, stderr[:5]


def bot_env(folder: Path, cache: Path, data: Path) -> dict[str, str]:
    """Return the environment of a `python -m bot` run on this folder with this cache."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LOG_LEVEL", "ANSWER_THRESHOLD")}
    env.update(CONTENT_DIR=str(folder), INDEX_CACHE_DIR=str(cache), SEMANTIC="off", DATA_DIR=str(data))
    return env


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


BARE_PYTHON = [sys.executable, "-c", "import pydantic_settings"]


def cached_start(folder: Path, product: Json, tantivy: Json, work: Path) -> Json:
    """Time a cached `python -m bot ask`, its baseline, and tantivy opening its index, as whole processes.

    The product's runs alternate with the baseline's, so that both see the machine in the same state.
    """
    result: Json = {}
    ask = [sys.executable, "-m", "bot", "ask", FIRST_QUESTION]
    if "store" in product:
        cache = Path(product["store"])
        env = bot_env(folder, cache, work / "data")
        before = _mtimes(cache)
        (result["warm_up_s"],), warm_err = wall(ask, env, runs=1)
        after = _mtimes(cache)
        runs: list[float] = []
        bare: list[float] = []
        errors = list(warm_err)
        for _ in range(5):
            times, err = wall(ask, env, runs=1)
            runs += times
            errors += err
            bare += wall(BARE_PYTHON, runs=1)[0]
        result["product_runs_s"], result["bare_python_runs_s"] = runs, bare
        result["stderr"] = list(dict.fromkeys(errors))[:5]
        result["product_s"] = statistics.median(runs)
        result["bare_python_s"] = statistics.median(bare)
        result["cache_reused"] = before == after  # the warm-up run rewrote nothing
        result["cache_stable"] = after == _mtimes(cache)  # nor did the timed runs
    else:  # no product index to start from: the baseline alone, for tantivy's ratio
        result["bare_python_runs_s"] = wall(BARE_PYTHON)[0]
        result["bare_python_s"] = statistics.median(result["bare_python_runs_s"])
    if "store" in tantivy:
        code = (
            "import tantivy\n"
            f"index = tantivy.Index.open({tantivy['store']!r})\n"
            "searcher = index.searcher()\n"
            f"query = index.parse_query({FIRST_QUESTION.lower().rstrip('?')!r}, ['text'])\n"
            "print(searcher.search(query, 5, count=False).hits)\n"
        )
        result["tantivy_open_s"] = statistics.median(wall([sys.executable, "-c", code])[0])
    return result


def cached_start_with_shipped(folder: Path, work: Path) -> Json:
    """Time a cached start on the folder with the shipped content (and its translation) beside it."""
    shipped = work / f"{folder.name}-with-shipped"
    cache = work / f"{folder.name}-with-shipped-cache"
    for where in (shipped, cache):
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
    for path in [*folder.glob("*.md"), *(ROOT / "content").glob("*.md")]:
        (shipped / path.name).symlink_to(path)
    env = bot_env(shipped, cache, work / "data")
    build = subprocess.run(
        [sys.executable, "-m", "bot", "content", "--build"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if build.returncode:
        return {"error": build.stderr.decode(errors="replace")[-300:]}
    result = cached_start(shipped, {"store": str(cache)}, {}, work)
    result["documents"] = len(list(shipped.glob("*.md")))
    return result


def first_start(folder: Path, work: Path) -> Json:
    """Time the first `python -m bot ask` (empty cache) and tantivy indexing the files, as processes."""
    product, tantivy, stderr = [], [], []
    for run in range(3):
        cache, index = work / f"first-cache-{run}", work / f"first-tantivy-{run}"
        for where in (cache, index):
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir(parents=True)
        env = bot_env(folder, cache, work / "data")
        times, err = wall([sys.executable, "-m", "bot", "ask", FIRST_QUESTION], env, runs=1)
        product += times
        stderr += [line for line in err if line not in stderr]
        code = (
            "from tests.benchmarks.product_workers import tantivy_first_start\n"
            f"tantivy_first_start({str(folder)!r}, {str(index)!r})\n"
        )
        tantivy += wall([sys.executable, "-c", code], runs=1)[0]
    return {
        "product_runs_s": product,
        "product_s": statistics.median(product),
        "stderr": stderr,
        "tantivy_runs_s": tantivy,
        "tantivy_s": statistics.median(tantivy),
    }
