"""Peak memory of whole process trees: a process and every process it starts, counted together.

    python tests/benchmarks/tree_memory.py FOLDER [--runs 3] [--work DIR]

What a user pays for a first build is the memory of the whole tree: the product's
analysis runs in worker processes. Both sides run as processes started from nothing:
- product: `python -m bot ask Q` with `SEMANTIC=off` and an empty `INDEX_CACHE_DIR`
  (reads and checks the files, analyses them in workers, builds and writes the index,
  answers);
- tantivy: a process that reads the files one at a time, adds each file's paragraphs to
  an en_stem index on disk (no list of every passage is kept), commits, waits for its
  merging threads and runs one query.
The proportional set sizes (Pss: a page shared by n processes counts 1/n in each, so
pages a forked worker shares with its parent count once) of the process and all its
descendants are summed every 2 ms; "tree peak MB" is the highest sum ("tree peak Rss
MB" the same with resident sizes, which count shared pages in every process). "own
peak MB" is the top process's own resident peak as the kernel counts it (wait4's
ru_maxrss), which sampling cannot miss.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.product_workers import FIRST_QUESTION, bot_env  # noqa: E402

SAMPLE_S = 0.002


def _descendants(pid: int) -> list[int]:
    """Return the pid and every descendant's, from the kernel's children lists."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    todo += [int(c) for c in children.read().split()]
            except OSError:
                continue
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """Return a process's proportional and resident set sizes (Pss, Rss) in kB, or zeros if it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return pss, rss


def run_tree(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command from the repository root; return its wall time and tree and own peak memory."""
    # stderr to a file, not a pipe: nothing reads a pipe until the end, and a full one would stall it.
    with tempfile.TemporaryFile() as errors:
        began = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        peak = peak_rss = 0
        while True:
            # wait4 reaps the process with its own resource usage (its peak resident size).
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            sizes = [_memory_kb(pid) for pid in _descendants(process.pid)]
            peak = max(peak, sum(pss for pss, _ in sizes))
            peak_rss = max(peak_rss, sum(rss for _, rss in sizes))
            time.sleep(SAMPLE_S)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if process.returncode:
        raise RuntimeError(f"{command[:4]} failed: {stderr[-300:]}")
    return {
        "wall_s": wall,
        "tree_peak_mb": peak / 1024,
        "tree_peak_rss_mb": peak_rss / 1024,
        "own_peak_mb": usage.ru_maxrss / 1024,
    }


def tantivy_streaming(folder: str, where: str) -> None:
    """Index the files one at a time with tantivy (en_stem, on disk), commit, one query."""
    import tantivy

    from tests.benchmarks.product_workers import K, passages, query_words

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
    builder.add_integer_field("id", stored=True)
    index = tantivy.Index(builder.build(), path=where)
    writer = index.writer()
    number = 0
    for path in sorted(Path(folder).glob("*.md")):
        for text in passages(path.read_text(encoding="utf-8")):
            writer.add_document(tantivy.Document(id=number, text=text))
            number += 1
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()
    hits = searcher.search(index.parse_query(query_words(FIRST_QUESTION), ["text"]), K, count=False).hits
    print([searcher.doc(address)["id"][0] for _, address in hits])


def compare(folder: Path, work: Path, runs: int = 3) -> dict[str, Any]:
    """Measure both trees `runs` times, alternating; return the runs and the medians' ratio."""
    product, tantivy = [], []
    for run in range(runs):
        cache, index = work / f"tree-cache-{run}", work / f"tree-tantivy-{run}"
        for where in (cache, index):
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir(parents=True)
        env = bot_env(folder, cache, work / "data")
        product.append(run_tree([sys.executable, "-m", "bot", "ask", FIRST_QUESTION], env))
        code = (
            "from tests.benchmarks.tree_memory import tantivy_streaming\n"
            f"tantivy_streaming({str(folder)!r}, {str(index)!r})\n"
        )
        tantivy.append(run_tree([sys.executable, "-c", code]))
    mine = statistics.median(r["tree_peak_mb"] for r in product)
    theirs = statistics.median(r["tree_peak_mb"] for r in tantivy)
    return {
        "product": product,
        "tantivy": tantivy,
        "product_tree_peak_mb": mine,
        "tantivy_tree_peak_mb": theirs,
        "ratio": mine / theirs,
    }


def main() -> None:
    """Print both trees' peaks for one content folder."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=ROOT / "tests/benchmarks/results/tree-work")
    args = parser.parse_args()
    result = compare(args.folder.resolve(), args.work.resolve(), args.runs)
    print(json.dumps(result, indent=1))
    print(
        f"first build, whole process tree: product {result['product_tree_peak_mb']:.0f} MB, "
        f"tantivy {result['tantivy_tree_peak_mb']:.0f} MB, {result['ratio']:.2f}x"
    )


if __name__ == "__main__":
    main()
