"""Command line: ask, content, console, telegram."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot import health
from bot.console import Console, render_plain
from bot.progress import ProgressBar
from bot.replies import Replies
from bot.service import Answer, AnswerService
from bot.settings import Settings, SettingsError, load_settings
from bot.wiring import build_service
from index.content.loader import ContentError, Corpus, load_corpus
from index.decision.model import DecisionError
from index.semantic.vectors import BUNDLED_NAME

# Results listed by `ask --top`: more is never useful to a reader.
MAX_TOP = 20


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every command."""
    parser = _Parser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ask = commands.add_parser("ask", help="answer a question (or questions from stdin, one a line)")
    ask.add_argument("question", nargs="?", help="the question; omit with --json to read stdin")
    ask.add_argument("--json", action="store_true", help="print JSON instead of text")
    ask.add_argument("--top", type=int, default=None, metavar="N", help="results to list (default TOP_K)")

    content = commands.add_parser("content", help="validate content/ and list what it holds")
    content.add_argument("--json", action="store_true", help="print every passage as a JSON line")
    content.add_argument(
        "--build",
        action="store_true",
        help="build the indexes (and passage vectors with SEMANTIC=on) into INDEX_CACHE_DIR, with progress",
    )
    content.add_argument(
        "--embed",
        action="store_true",
        help=f"write the passage vectors to CONTENT_DIR/{BUNDLED_NAME}, to ship with the texts",
    )

    commands.add_parser("console", help="interactive console showing what the bot would say")
    commands.add_parser("telegram", help="run the Telegram bot (needs BOT_TOKEN)")
    commands.add_parser(
        "health", help="exit 0 if the bot running with this DATA_DIR wrote its heartbeat in the last minute"
    )
    return parser


def answer_json(answer: Answer, replies: Replies) -> dict[str, Any]:
    """Return the JSON form of an answer (relied on by scripts and evaluation).

    Each result's `text` and `section` are what the reader is shown; a result shown in
    translation adds `original`, the published passage.
    """
    results = []
    for rank, hit in enumerate(answer.hits):
        shown = replies.for_reader(hit.passage, answer.language)
        result: dict[str, Any] = {
            "id": hit.passage.id,
            "document": shown.document.title,
            "section": shown.section,
            "text": shown.text,
            "language": shown.document.language,
            "score": round(hit.score, 6),
            "cosine": None if hit.cosine is None else round(hit.cosine, 6),
            "bm25": round(hit.bm25, 6),
            "coverage": round(hit.coverage, 4),
            "matched": list(hit.matched),
            "offered": rank < answer.offered,
        }
        if shown is not hit.passage:
            original = hit.passage
            result["original"] = {
                "id": original.id,
                "text": original.text,
                "section": original.section,
                "language": original.document.language,
            }
        results.append(result)
    return {
        "question": answer.question,
        "answered": answer.answered,
        "reason": answer.reason,
        "confidence": round(answer.confidence, 4),
        "language": answer.language,
        "intent": answer.intent,
        "about": [
            {k: getattr(d, k) for k in ("id", "title", "speaker", "role", "date", "published", "kind")}
            for d in answer.about
        ],
        "results": results,
    }


def cmd_ask(replies: Replies, args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    """Answer one question, or every line of stdin with --json."""
    service = replies.service
    if args.top is not None and not 1 <= args.top <= MAX_TOP:
        raise UsageError(f"--top must be from 1 to {MAX_TOP}")
    if args.question is None:
        if not args.json:
            raise UsageError("give a QUESTION, or use --json to read questions from stdin")
        for line in stdin:
            answer = service.ask(line.rstrip("\r\n"), args.top)  # a CRLF file too
            stdout.write(json.dumps(answer_json(answer, replies), ensure_ascii=False) + "\n")
            stdout.flush()
        return 0
    answer = service.ask(args.question, args.top)
    if args.json:
        stdout.write(json.dumps(answer_json(answer, replies), ensure_ascii=False) + "\n")
    else:
        stdout.write(render_plain(replies.answer(answer, "en")) + "\n")
    return 0


def cmd_content(folder: Path, corpus: Corpus, as_json: bool, stdout: TextIO) -> int:
    """Print a summary of the content, or every passage as a JSON line."""
    if as_json:
        for original in corpus.passages:
            # Each published passage, then its translations (`original_id` names the passage).
            for p in (original, *corpus.translations_of(original)):
                record = {
                    "id": p.id,
                    "document": p.document.title,
                    "document_id": p.document.id,
                    "speaker": p.document.speaker,
                    "date": p.document.date,
                    "section": p.section,
                    "text": p.text,
                    "language": p.document.language,
                    "original_id": None if p is original else original.id,
                    "file": p.document.path,
                    "line": p.line,
                }
                stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return 0
    for document in corpus.documents:
        sections = [s for s in corpus.sections if s.document is document]
        count = sum(len(s.passages) for s in sections)
        stdout.write(f"{document.path}: «{document.title}» — {document.speaker}, {document.date}\n")
        stdout.write(f"  {len(sections)} sections, {count} passages\n")
        for number, section in enumerate(sections, start=1):
            stdout.write(f"  {number}. [{len(section.passages)}] {section.title}\n")
        first = sections[0].passages[0]
        for translation in corpus.translations_of(first):
            kind = translation.document
            stdout.write(
                f"  translation ({kind.language}): {kind.path}: «{kind.title}», {count} passages aligned\n"
            )
    total = len(corpus.passages)
    documents = len(corpus.documents)
    plural = "s" if documents != 1 else ""
    summary = f"{documents} document{plural}, {len(corpus.sections)} sections, {total} passages"
    stdout.write(f"OK: answering from {folder}: {summary}\n")
    return 0


def cmd_embed(service: AnswerService, stdout: TextIO) -> int:
    """Write the passage vectors beside the content files."""
    dense = service.dense
    if dense is None:
        raise UsageError("content --embed needs SEMANTIC=on")
    try:
        from index.semantic.dense import write_bundled  # here: only this command needs the semantic modules

        path = write_bundled(dense, service.content_dir)
    except OSError as exc:
        raise UsageError(
            f"cannot write the vectors into {service.content_dir}: {exc.strerror or exc}"
        ) from None
    stdout.write(
        f"wrote {len(dense.units) + len(dense.titles)} vectors ({dense.encoded} encoded now) to {path}\n"
    )
    return 0


def cmd_build(settings: Settings, stdout: TextIO, stderr: TextIO) -> int:
    """Build what answering needs, with a progress bar on a terminal (log lines otherwise)."""
    if not stderr.isatty():
        logging.getLogger("index").setLevel(logging.INFO)
    progress = ProgressBar(stderr, "encoding passages") if stderr.isatty() else None
    started = time.monotonic()
    service = build_service(settings, progress)
    dense = service.dense
    vectors = (
        f", {len(dense.units)} passage and sentence vectors ({dense.encoded} encoded now)" if dense else ""
    )
    where = settings.index_cache_dir or "memory only (INDEX_CACHE_DIR is empty)"
    stdout.write(
        f"built {len(service.corpus.passages)} passages{vectors} in {time.monotonic() - started:.1f} s, "
        f"BM25 index {'loaded' if service.index.loaded else 'built'}; cache: {where}\n"
    )
    for document, question in service.unanswered_examples():
        stderr.write(
            f"warning: {document.path}: example question not answered by this document: {question}\n"
        )
    if settings.index_cache_dir is None:
        return 0
    del service, dense  # the next start, as it will be: everything loaded, nothing built
    missing = _not_cached(build_service(settings))
    if missing:
        where = f"INDEX_CACHE_DIR={settings.index_cache_dir}"
        stderr.write(f"error: not kept in {where}, so built again at each start: {', '.join(missing)}\n")
        return 1
    return 0


def _not_cached(service: AnswerService) -> list[str]:
    """Return what a start of this service had to build instead of loading it from the cache."""
    missing = [] if service.index.loaded else ["the BM25 index"]
    missing += [f"the {t.language} translation's index" for t in service.translated if not t.index.loaded]
    if service.dense is not None and service.dense.encoded:
        missing.append(f"{service.dense.encoded} passage and sentence vectors")
    return missing


class UsageError(Exception):
    """A bad argument, reported in one line."""


def run(argv: Sequence[str], stdin: TextIO, stdout: TextIO) -> int:
    """Parse arguments, build what the command needs, and run it."""
    args = build_parser().parse_args(argv)
    settings = load_settings()
    # The one-shot commands print answers: their log stays quiet unless LOG_LEVEL asks otherwise.
    quiet = args.command != "telegram" and "log_level" not in settings.model_fields_set
    level = "WARNING" if quiet else settings.log_level
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command not in ("ask", "console"):
        _collect_from_now()
    if args.command == "health":
        healthy, line = health.check(settings.data_dir)
        stdout.write(line + "\n")
        return 0 if healthy else 1
    if args.command == "telegram":
        if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
            raise SettingsError("BOT_TOKEN is not set: put the token from @BotFather in BOT_TOKEN or .env")
        # Imported here so that ask, content and console never load aiogram.
        from bot.telegram.app import run_telegram

        return run_telegram(settings)
    if args.command == "content" and not (args.embed or args.build):
        # Validating and listing needs the texts only, not the model or the indexes.
        return cmd_content(settings.content_dir, load_corpus(settings.content_dir), args.json, stdout)
    if args.command == "content" and args.build:
        return cmd_build(settings, stdout, sys.stderr)
    # A first start on new texts encodes them: show it on a terminal instead of a silence.
    service = build_service(
        settings, ProgressBar(sys.stderr, "encoding passages") if sys.stderr.isatty() else None
    )
    _collect_from_now()
    replies = Replies(service, settings.consular_url)
    if args.command == "ask":
        return cmd_ask(replies, args, stdin, stdout)
    if args.command == "content":
        return cmd_embed(service, stdout)
    return Console(service, stdin, stdout, replies=replies).run()


def _collect_from_now() -> None:
    """Turn the cyclic garbage collector back on if `python -m bot` turned it off for start-up."""
    if not gc.isenabled():
        # Start-up's objects (modules, settings, the index) live as long as the process: a
        # collection would scan them in vain (about 20 ms of a 0.3 s cached start), now or later.
        gc.freeze()
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; report errors in one line on stderr."""
    try:
        return run(sys.argv[1:] if argv is None else argv, sys.stdin, sys.stdout)
    except (ContentError, SettingsError, UsageError, DecisionError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
