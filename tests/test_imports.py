"""The library and the answering paths never load aiogram."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import sys
import index.analysis.text, index.lexical.bm25, index.lexical.cache, index.content.loader
import index.lexical.engine, index.lexical.ranking, index.analysis.spelling
import bot.service, bot.replies, bot.console, bot.cli, bot.settings
from bot.cli import main
main(["ask", "--json", "How many generators did Kusto Group deliver?"])
main(["content"])
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "aiogram" or m.startswith("bot.telegram"))
print("LOADED", loaded)
"""


def test_index_service_and_cli_paths_do_not_import_aiogram() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True
    )
    assert "LOADED []" in result.stdout, result.stdout[-500:]


def test_index_package_never_names_bot_or_aiogram() -> None:
    for path in (ROOT / "index").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "import aiogram" not in source and "from aiogram" not in source, path
        assert "from bot" not in source and "import bot" not in source, path


CIRCLES = """
import importlib, pathlib, sys
for path in sorted(pathlib.Path("index").rglob("*.py")):
    name = ".".join(path.with_suffix("").parts).removesuffix(".__init__")
    for loaded in [m for m in sys.modules if m == "index" or m.startswith("index.")]:
        del sys.modules[loaded]
    importlib.import_module(name)  # first, in a fresh state: an import circle fails here
print("OK")
"""


def test_every_index_module_imports_first_without_a_circle() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CIRCLES], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-800:]


def test_index_is_laid_out_by_stage_each_package_saying_what_it_is_for() -> None:
    stages = {"content", "analysis", "lexical", "semantic", "fusion", "decision", "scale"}
    assert {p.name for p in (ROOT / "index").iterdir() if (p / "__init__.py").is_file()} == stages
    for stage in stages:
        doc = (ROOT / "index" / stage / "__init__.py").read_text(encoding="utf-8")
        assert doc.startswith('"""') and len(doc.splitlines()) == 1, stage
