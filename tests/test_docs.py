"""The README keeps in step with the code: every setting, command and option, and its own length."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.console import COMMANDS
from bot.settings import Settings
from index.decision.model import load_calibration

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme(name: str) -> None:
    assert f"`{name.upper()}`" in README, f"setting {name.upper()} is not documented in README.md"


@pytest.mark.parametrize("command", sorted(_subcommands(build_parser())))
def test_every_command_and_option_is_in_the_readme(command: str) -> None:
    assert re.search(rf"`{command}\b", README), f"command {command} is not documented in README.md"
    for action in _subcommands(build_parser())[command]._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert f"{command} {option}" in README, f"{command} {option} is not documented"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_console_command_is_in_the_readme(command: str) -> None:
    assert f"`{command}`" in README, f"console command {command} is not documented"


def test_the_readme_stays_short_and_links_the_docs() -> None:
    assert len(README.splitlines()) <= 350
    for page in re.findall(r"\(docs/([\w.-]+\.md)\)", README):
        assert (ROOT / "docs" / page).is_file(), page
    assert {"ranking.md", "quality.md", "performance.md", "architecture.md"} <= set(
        re.findall(r"\(docs/([\w.-]+\.md)\)", README)
    )


def test_the_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pytest" in README
    assert re.search(r"^python -m pytest\s*$", ci, re.MULTILINE)


def test_the_readme_states_the_shipped_thresholds() -> None:
    calibration = load_calibration()
    row = next(line for line in README.splitlines() if line.startswith("| `ANSWER_THRESHOLD`"))
    assert f"({calibration.semantic.threshold:g}; `off`: {calibration.lexical.threshold:g})" in row, row
    ranking = (ROOT / "docs" / "ranking.md").read_text(encoding="utf-8")
    assert f"chosen the same way ({calibration.lexical.threshold:g})" in " ".join(ranking.split())
