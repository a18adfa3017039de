"""Answer quality with several documents loaded together, on texts and questions no fitting saw.

    python -m tests.multidoc [--set heldout] [--semantic off] [--threshold 0.6]

`tests/data/multidoc/` holds documents written for the purpose from public facts, each
with questions in English, Ukrainian and Russian written by helpers who saw that
document only: `train/` (the fitting script's), `validation/` (where the threshold is
chosen) and `heldout/` (measured only). The interview in `content/` is always loaded;
`<name>.questions.jsonl` holds the questions about `<name>.md`, and
`interview-real.questions.jsonl` real-style messages about the interview. Every set is
answered with the interview and the documents of every set up to it loaded together
(train, then validation, then held-out), so fitting never loads a held-out document.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.service import Answer, AnswerService
from index.decision.training import labelled

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"
MULTIDOC = Path(__file__).resolve().parent / "data" / "multidoc"
SETS = ("train", "validation", "heldout")
VECTORS = MULTIDOC / "embeddings.npz"
"""Vectors of every passage of the sets and the interview, so a run encodes nothing new."""
INTERVIEW = "interview-real"


@dataclass(frozen=True, slots=True)
class Case:
    """One question: the message, what answers it, and where it comes from."""

    q: str
    expect: str | None
    lang: str
    kind: str
    """in_scope, out_of_scope or about (a question about the document itself)."""
    style: str
    document: str
    """The kind of document asked about: faq, article, news, interview."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the service handled one question."""

    case: Case
    right: bool
    """In scope: the expected phrase is in the passage given; about: in the reply's document header."""
    answered: bool
    """A passage (or a document's header) was given."""
    top1: bool
    reason: str


def read_cases(path: Path, document: str) -> list[Case]:
    """Read a question file."""
    out = []
    for question, data in labelled(path):
        style = data.get("style", "plain")
        out.append(Case(question.q, question.expect, data["lang"], question.kind, style, document))
    return out


def _kind_of(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if line.startswith("kind:"):
            return line.split(":", 1)[1].strip()
        if line.strip() == "---":
            break
    return "document"


def cases(name: str) -> list[Case]:
    """Return every question of one set, each labelled with the kind of its document."""
    out = []
    for path in sorted((MULTIDOC / name).glob("*.questions.jsonl")):
        stem = path.name.removesuffix(".questions.jsonl")
        document = "interview" if stem == INTERVIEW else _kind_of(path.with_name(f"{stem}.md"))
        out += read_cases(path, document)
    return out


def documents(up_to: str) -> list[Path]:
    """Return the content files loaded for a set: the interview's and every set's up to this one."""
    files = sorted(CONTENT.glob("*.md"))
    for name in SETS[: SETS.index(up_to) + 1]:
        files += sorted((MULTIDOC / name).glob("*.md"))
    return files


def assemble(folder: Path, up_to: str) -> Path:
    """Copy the content files of a set (and the shipped vectors) into a new content folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in documents(up_to):
        shutil.copy(path, folder / path.name)
    if VECTORS.is_file():
        shutil.copy(VECTORS, folder / "embeddings.npz")
    return folder


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


def judge(case: Case, answer: Answer) -> Outcome:
    """Return how one answer fares against what the question expects."""
    if case.kind == "about":
        header = " ".join(f"{d.title} {d.speaker} {d.role} {d.date} {d.published}" for d in answer.about)
        right = answer.reason == "about" and bool(case.expect) and _norm(str(case.expect)) in _norm(header)
        return Outcome(case, right, answer.reason == "about", right, answer.reason)
    top1 = bool(case.expect and answer.hits and _norm(case.expect) in _norm(answer.hits[0].passage.text))
    answered = answer.answered or answer.reason == "about"
    return Outcome(case, top1 and answer.answered, answered, top1, answer.reason)


def run(service: AnswerService, questions: Iterable[Case]) -> list[Outcome]:
    """Ask every question."""
    return [judge(case, service.ask(case.q)) for case in questions]


@dataclass(frozen=True, slots=True)
class Row:
    """Figures for one group of questions."""

    name: str
    in_scope: int
    right: float
    top1: float
    consular: int
    """In-scope questions sent to the consular pointer instead of answered."""
    out_of_scope: int
    declined: float
    about: int
    about_right: float
    wrong_given: int
    """Answers given that were wrong: a wrong passage, or any passage for an out-of-scope question."""
    given: int

    def line(self) -> str:
        """Return the row as a Markdown table line."""
        about = f"{self.about_right:.2f} of {self.about}" if self.about else "-"
        return (
            f"| {self.name} | {self.in_scope} | {self.right:.2f} | {self.top1:.2f} | {self.consular} "
            f"| {self.out_of_scope} | {self.declined:.2f} | {about} | {self.wrong_given} of {self.given} |"
        )


HEADER = (
    "| questions | in scope | answered right | right passage first | sent to consular pointer "
    "| out of scope | declined | about the text: right | wrong answers given |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def row(name: str, outcomes: Sequence[Outcome]) -> Row:
    """Summarise a group of outcomes."""
    ins = [o for o in outcomes if o.case.kind == "in_scope"]
    outs = [o for o in outcomes if o.case.kind == "out_of_scope"]
    about = [o for o in outcomes if o.case.kind == "about"]
    wrong = sum(o.answered and not o.right for o in outcomes)
    return Row(
        name,
        len(ins),
        sum(o.right for o in ins) / max(len(ins), 1),
        sum(o.top1 for o in ins) / max(len(ins), 1),
        sum(o.reason == "consular" for o in ins),
        len(outs),
        sum(not o.answered for o in outs) / max(len(outs), 1),
        len(about),
        sum(o.right for o in about) / max(len(about), 1),
        wrong,
        sum(o.answered for o in outcomes),
    )


def table(outcomes: Sequence[Outcome]) -> list[Row]:
    """Return one row per document kind and language group, then one per language group."""

    def group(o: Outcome) -> str:
        return "English" if o.case.lang == "en" else "Ukrainian/Russian"

    rows = []
    for document in sorted({o.case.document for o in outcomes}):
        for language in ("English", "Ukrainian/Russian"):
            chosen = [o for o in outcomes if o.case.document == document and group(o) == language]
            if chosen:
                rows.append(row(f"{document}, {language}", chosen))
    for language in ("English", "Ukrainian/Russian"):
        rows.append(row(f"all, {language}", [o for o in outcomes if group(o) == language]))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table for one set."""
    from bot.wiring import build_service
    from tests.conftest import make_settings

    parser = argparse.ArgumentParser(prog="python -m tests.multidoc", description=__doc__)
    parser.add_argument("--set", choices=SETS, default="heldout")
    parser.add_argument("--semantic", choices=("on", "off"), default="on")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--work", type=Path, default=Path("/tmp/multidoc-content"))
    parser.add_argument("--misses", action="store_true", help="list the questions not handled right")
    args = parser.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    folder = assemble(args.work, args.set)
    service = build_service(
        make_settings(content_dir=folder, semantic=args.semantic, answer_threshold=args.threshold)
    )
    outcomes = run(service, cases(args.set))
    print(HEADER)
    for r in table(outcomes):
        print(r.line())
    if args.misses:
        for o in outcomes:
            good = o.right if o.case.kind != "out_of_scope" else not o.answered
            if not good:
                print(json.dumps({"q": o.case.q, "kind": o.case.kind, "reason": o.reason, "top1": o.top1}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
