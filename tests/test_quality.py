"""Answer quality on the development questions (floors) and the held-out ones (printed)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.service import AnswerService

DATA = Path(__file__).resolve().parent / "data"
CONTENT = Path(__file__).resolve().parents[1] / "content"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


@dataclass(frozen=True)
class Figures:
    in_scope: int
    top1: float
    answered: float
    answered_right: float
    out_of_scope: int
    declined: float

    def line(self, name: str) -> str:
        return (
            f"{name}: in-scope {self.in_scope}: top-1 {self.top1:.3f}, answered {self.answered:.3f}, "
            f"answered and right {self.answered_right:.3f}; out-of-scope {self.out_of_scope}: "
            f"declined {self.declined:.3f}"
        )


def evaluate(service: AnswerService, path: Path) -> Figures:
    questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    top1 = answered = right = declined = 0
    in_scope = [q for q in questions if q["expect"] is not None]
    for q in questions:
        answer = service.ask(q["q"])
        if q["expect"] is None:
            declined += not answer.answered
            continue
        hit = bool(answer.hits) and _norm(q["expect"]) in _norm(answer.hits[0].passage.text)
        top1 += hit
        answered += answer.answered
        right += hit and answer.answered
    n_in, n_out = len(in_scope), len(questions) - len(in_scope)
    return Figures(n_in, top1 / n_in, answered / n_in, right / n_in, n_out, declined / max(n_out, 1))


@pytest.fixture(scope="module")
def service() -> AnswerService:
    return AnswerService(CONTENT)


def test_development_questions_meet_the_floors(service: AnswerService) -> None:
    figures = evaluate(service, DATA / "questions-dev.jsonl")
    print("\n" + figures.line("dev"))
    assert figures.in_scope == 41
    assert figures.top1 >= 0.90
    assert figures.answered >= 0.90
    assert figures.declined >= 0.90


def test_held_out_questions_do_not_regress(service: AnswerService) -> None:
    # Written apart from the ranking code (paraphrases, typos, lowercase, and
    # out-of-scope questions sharing the interview's words); never tuned to
    # single questions. The floors sit a little under the measured figures.
    figures = evaluate(service, DATA / "questions-heldout.jsonl")
    print("\n" + figures.line("held-out"))
    assert figures.top1 >= 0.75
    assert figures.answered_right >= 0.60
    assert figures.declined >= 0.65
