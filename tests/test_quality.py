"""Answer quality on questions the calibration never saw: printed in full, floors asserted.

Fitting (index/fit.py) uses tests/data/train/ only. The sets here are evaluation only:
- questions-dev.jsonl, questions-dev-uk-ru.jsonl: the shared development questions;
- questions-heldout.jsonl (English) and questions-heldout-uk-ru.jsonl: written by helpers
  who saw neither the ranking code nor the other sets;
- questions-heldout2.jsonl and questions-heldout2-uk-ru.jsonl: written the same way later, after
  the training questions entered the ranking, and measured once before and after that change.

Run with -s to see every figure:  python -m pytest tests/test_quality.py -s
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.service import AnswerService
from bot.wiring import build_service
from index.examples import EXAMPLES_FILE, ExampleIndex
from index.language import script_of
from tests.conftest import make_settings

DATA = Path(__file__).resolve().parent / "data"
CONTENT = Path(__file__).resolve().parents[1] / "content"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


@dataclass(frozen=True)
class Figures:
    in_scope: int
    top1: float
    top3: float
    answered_right: float
    out_of_scope: int
    declined: float

    def line(self, name: str) -> str:
        return (
            f"{name:<28} in-scope {self.in_scope:>3}: top-1 {self.top1:.3f}, top-3 {self.top3:.3f}, "
            f"answered and right {self.answered_right:.3f}; out-of-scope {self.out_of_scope:>3}: "
            f"declined {self.declined:.3f}"
        )


def load(name: str) -> list[dict[str, str | None]]:
    path = DATA / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(service: AnswerService, questions: list[dict[str, str | None]]) -> Figures:
    top1 = top3 = right = declined = 0
    n_in = sum(q["expect"] is not None for q in questions)
    for q in questions:
        answer = service.ask(str(q["q"]))
        expect = q["expect"]
        if expect is None:
            declined += not answer.answered
            continue
        found = [_norm(expect) in _norm(hit.passage.text) for hit in answer.hits[:3]]
        top1 += bool(found) and found[0]
        top3 += any(found)
        right += bool(found) and found[0] and answer.answered
    n_out = len(questions) - n_in
    return Figures(
        n_in, top1 / max(n_in, 1), top3 / max(n_in, 1), right / max(n_in, 1), n_out, declined / max(n_out, 1)
    )


def group(questions: list[dict[str, str | None]]) -> dict[str, list[dict[str, str | None]]]:
    """Split a set by how the question is written: English, Cyrillic, or Latin-typed uk/ru."""
    out: dict[str, list[dict[str, str | None]]] = {}
    for q in questions:
        lang = q.get("lang") or "en"
        key = "latin uk/ru" if lang in ("uk", "ru") and script_of(str(q["q"])) == "latin" else lang
        out.setdefault(str(key), []).append(q)
    return out


@pytest.fixture(scope="module")
def lexical() -> AnswerService:
    return build_service(make_settings(semantic="off"))


SETS = {
    "dev": "questions-dev.jsonl",
    "dev uk/ru": "questions-dev-uk-ru.jsonl",
    "held-out": "questions-heldout.jsonl",
    "held-out uk/ru": "questions-heldout-uk-ru.jsonl",
    "held-out 2": "questions-heldout2.jsonl",
    "held-out 2 uk/ru": "questions-heldout2-uk-ru.jsonl",
}


def test_print_every_figure(service: AnswerService, lexical: AnswerService, tmp_path: Path) -> None:
    lines = []
    for mode, svc in (("semantic", service), ("SEMANTIC=off", lexical)):
        for name, file in SETS.items():
            questions = load(file)
            lines.append(evaluate(svc, questions).line(f"{mode}: {name}"))
            if name.endswith("uk/ru"):
                for key, subset in sorted(group(questions).items()):
                    lines.append(evaluate(svc, subset).line(f"{mode}:   {key}"))
    lines.append("ANSWER_THRESHOLD trade-off, answered and right / declined:")
    for threshold in (0.4, 0.5, 0.6, 0.7):
        swept = build_service(make_settings(answer_threshold=threshold))
        cells = []
        for name, file in SETS.items():
            f = evaluate(swept, load(file))
            cells.append(f"{name} {f.answered_right:.3f} / {f.declined:.3f}")
        lines.append(f"  {threshold:.2f}: " + "; ".join(cells))
    # What the Ukrainian translation adds: the same content without the .uk.md file.
    bare = tmp_path / "content"
    shutil.copytree(CONTENT, bare)
    for path in bare.glob("*.uk.md"):
        path.unlink()
    lines.append("Without the Ukrainian translation:")
    for mode in ("on", "off"):
        untranslated = build_service(make_settings(content_dir=bare, semantic=mode))
        for name in ("dev uk/ru", "held-out uk/ru"):
            figures = evaluate(untranslated, load(SETS[name]))
            lines.append(figures.line(f"  SEMANTIC={mode}: {name}"))
    # As for texts no training question is about: no passage is known to answer an example
    # (the out-of-scope examples still count).
    unknown = tmp_path / "examples.json"
    items = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    unknown.write_text(json.dumps([{**i, "passage": i["passage"] and "p-unknown"} for i in items]))
    lines.append("With no passage known to answer a training question (as for new texts):")
    service._answerer.index.examples = ExampleIndex(service.embedder, examples=unknown)
    try:
        for name, file in SETS.items():
            lines.append(evaluate(service, load(file)).line(f"  semantic: {name}"))
    finally:
        service._answerer.index.examples = ExampleIndex(service.embedder)
    print("\n" + "\n".join(lines))
    assert len(lines) >= 8


def test_development_questions_meet_the_floors(service: AnswerService) -> None:
    figures = evaluate(service, load("questions-dev.jsonl"))
    assert figures.in_scope == 41
    assert figures.answered_right >= 0.90
    assert figures.declined >= 0.90


# The targets (held-out answered-and-right >= 0.88 English, >= 0.80 uk/ru; declined
# >= 0.85) are met by the shipped calibration (0.889 / 0.943 and 0.875 / 0.938); the floors below
# sit a little under what it measures, to catch regressions without failing on one question.
# The README gives the figures and the trade-off.


def test_english_held_out_questions(service: AnswerService) -> None:
    figures = evaluate(service, load("questions-heldout.jsonl"))
    assert figures.in_scope >= 50
    assert figures.top1 >= 0.92
    assert figures.answered_right >= 0.85
    assert figures.declined >= 0.88


def test_ukrainian_and_russian_questions(service: AnswerService) -> None:
    dev = evaluate(service, load("questions-dev-uk-ru.jsonl"))
    assert dev.top1 >= 0.95
    assert dev.answered_right >= 0.90
    assert dev.declined >= 0.90
    held_out = evaluate(service, load("questions-heldout-uk-ru.jsonl"))
    assert held_out.in_scope >= 60
    assert held_out.top1 >= 0.92
    assert held_out.answered_right >= 0.82
    assert held_out.declined >= 0.85


def test_second_held_out_sets(service: AnswerService) -> None:
    english = evaluate(service, load("questions-heldout2.jsonl"))
    assert english.in_scope == 45 and english.out_of_scope == 25
    assert english.top1 >= 0.92 and english.answered_right >= 0.85 and english.declined >= 0.72
    other = evaluate(service, load("questions-heldout2-uk-ru.jsonl"))
    assert other.in_scope == 45 and other.out_of_scope == 25
    assert other.top1 >= 0.90 and other.answered_right >= 0.86 and other.declined >= 0.88


def test_bm25_only_mode_keeps_its_own_calibrated_rule(lexical: AnswerService) -> None:
    assert not lexical.semantic
    figures = evaluate(lexical, load("questions-dev.jsonl"))
    assert figures.answered_right >= 0.80
    assert figures.declined >= 0.80
    # Ukrainian and Russian questions rank against the Ukrainian translation's BM25.
    assert evaluate(lexical, load("questions-dev-uk-ru.jsonl")).top1 >= 0.50
