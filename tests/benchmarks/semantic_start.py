"""Time a cached start with SEMANTIC=on at scale: `python -m bot ask` as a whole process.

    .venv/bin/python tests/benchmarks/semantic_start.py [--passages 10000]

Encoding 10,000 generated passages takes about 18 minutes here (tests/benchmarks/encoding.py),
so the vector cache is filled with random unit vectors under the real texts' keys: the start
path (finding, mapping and checking vectors) is the same, the ranking is meaningless. It
prints, median of 5 after one untimed run: the first start that looks every vector up by
its text's hash and writes the kept index, the cached start that maps the kept index, the
same with SEMANTIC=off, and a bare `python -c "import pydantic_settings"`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from index.content.loader import load_corpus  # noqa: E402
from index.semantic.dense import units_of  # noqa: E402
from index.semantic.model import load_embedder  # noqa: E402
from index.semantic.snapshot import NAME  # noqa: E402
from index.semantic.vectors import CACHE_NAME, save_vectors, text_key  # noqa: E402
from tests.benchmarks.product import write_document  # noqa: E402
from tests.benchmarks.product_workers import bot_env  # noqa: E402
from tests.benchmarks.workload import SEED, generate_texts  # noqa: E402

QUESTION = "trade between Ukraine and Kazakhstan"


def _timed(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def main() -> None:
    """Write the content and fake vectors, then time the starts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    args = parser.parse_args()
    interview = [p.text for p in load_corpus(ROOT / "content").passages]
    texts = generate_texts(args.passages, interview, np.random.default_rng(SEED))
    work = Path(tempfile.mkdtemp(prefix="semantic-start-"))
    content, cache = work / "content", work / "cache"
    content.mkdir()
    for start in range(0, len(texts), 1000):
        write_document(
            content / f"doc-{start // 1000 + 1:04d}.md", start // 1000 + 1, texts[start : start + 1000]
        )
    corpus = load_corpus(content)
    signature = load_embedder().signature
    rng = np.random.default_rng(SEED)
    for name, strings, query in (
        (CACHE_NAME, list(dict.fromkeys(u for p in corpus.passages for u in units_of(p.text))), False),
        ("title-" + CACHE_NAME, list(dict.fromkeys(s.title for s in corpus.sections)), True),
    ):
        vectors = rng.standard_normal((len(strings), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        save_vectors(cache / name, signature, [text_key(s, query) for s in strings], vectors)
    env = {**bot_env(content, cache, work / "data"), "SEMANTIC": "on"}
    ask = [sys.executable, "-m", "bot", "ask", QUESTION]
    first = _timed(ask, env)  # builds the lexical index, looks every vector up, keeps the dense index
    assert (cache / NAME).is_file()
    runs: dict[str, list[float]] = {"cached, SEMANTIC=on": [], "cached, SEMANTIC=off": [], "bare python": []}
    off = {**env, "SEMANTIC": "off"}
    bare = [sys.executable, "-c", "import pydantic_settings"]
    for environment in (env, off):  # one untimed run each
        _timed(ask, environment)
    for _ in range(5):
        runs["cached, SEMANTIC=on"].append(_timed(ask, env))
        runs["cached, SEMANTIC=off"].append(_timed(ask, off))
        runs["bare python"].append(_timed(bare, env))
    result = {"passages": args.passages, "first_start_s": round(first, 2)}
    result.update({key: round(statistics.median(values), 3) for key, values in runs.items()})
    result["semantic_vs_bare"] = round(result["cached, SEMANTIC=on"] / result["bare python"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
