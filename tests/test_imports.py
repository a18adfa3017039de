"""The library and the answering paths never load aiogram."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import sys
import index.analysis, index.bm25, index.cache, index.content, index.engine, index.ranking, index.spelling
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
    for path in (ROOT / "index").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "import aiogram" not in source and "from aiogram" not in source, path
        assert "from bot" not in source and "import bot" not in source, path
