"""The command line, run as a real subprocess."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.content.loader import load_corpus

ROOT = Path(__file__).resolve().parents[1]


def interview() -> dict[str, str]:
    """Return the environment that answers from the interview alone (the session's fixed content)."""
    return {"CONTENT_DIR": os.environ["CONTENT_DIR"]}


def run(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("CONTENT_DIR", "TOP_K", "ANSWER_THRESHOLD")}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=60,
        check=False,
    )


def test_ask_prints_section_passage_and_source(tmp_path: Path) -> None:
    result = run("ask", "How many generators did Kusto Group deliver?", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Section: Kazakhstan's private business" in result.stdout
    assert "41 high-power generators" in result.stdout
    assert "Source: «DESPITE THE DISTANCE" in result.stdout


def test_ask_json_has_the_documented_shape() -> None:
    result = run("ask", "--json", "--top", "2", "What are the Yurts of Invincibility?")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"] == "What are the Yurts of Invincibility?"
    assert data["answered"] is True
    assert 1 <= len(data["results"]) <= 2
    first = data["results"][0]
    assert set(first) >= {"id", "document", "section", "text", "score"}
    assert "Yurts of Invincibility" in first["text"]
    assert isinstance(first["score"], float)
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_json_reads_questions_from_stdin_in_order() -> None:
    questions = [
        "How many tonnes of humanitarian aid did Ukraine receive?",
        "",
        "Tell me a joke",
        "Як справи?",
    ]
    result = run("ask", "--json", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == questions
    assert [line["answered"] for line in lines] == [True, False, False, False]
    assert all(len(line["results"]) <= 3 for line in lines)
    # Lines from a file saved on Windows end in CR LF: the CR is not part of the question.
    crlf = run("ask", "--json", stdin="What about ambulances?\r\nTell me a joke\r\n")
    assert [json.loads(line)["question"] for line in crlf.stdout.splitlines()] == [
        "What about ambulances?",
        "Tell me a joke",
    ]


def test_content_lists_every_document_and_the_interviews_seven_sections() -> None:
    corpus = load_corpus(ROOT / "content")
    result = run("content")
    assert result.returncode == 0, result.stderr
    assert "content/pavlenko-2024-05-18.md: «DESPITE THE DISTANCE" in result.stdout
    assert "  7 sections, 46 passages" in result.stdout  # the interview's own line
    documents = len(corpus.documents)
    summary = f"{documents} document{'s' if documents != 1 else ''}, {len(corpus.sections)} sections"
    assert (
        f"OK: answering from {ROOT / 'content'}: {summary}, {len(corpus.passages)} passages" in result.stdout
    )
    assert "translation (uk): " in result.stdout and "46 passages aligned" in result.stdout


def test_content_json_prints_every_passage() -> None:
    result = run("content", "--json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len({r["id"] for r in records}) == len(records)
    assert {"id", "document", "speaker", "date", "section", "text", "language", "line"} <= set(records[0])
    interview = [r for r in records if r["document_id"] in ("pavlenko-2024-05-18", "pavlenko-2024-05-18-uk")]
    originals = [r for r in interview if r["original_id"] is None]
    translations = [r for r in interview if r["original_id"] is not None]
    assert len(originals) == len(translations) == 46
    assert {r["language"] for r in translations} == {"uk"}
    assert all(r["id"] == f"{r['original_id']}-uk" for r in translations)
    assert {r["original_id"] for r in translations} == {r["id"] for r in originals}


def test_a_ukrainian_question_is_answered_in_ukrainian_with_the_original_beside_it() -> None:
    result = run("ask", "--json", "Скільки українців живе в Казахстані?")
    answer = json.loads(result.stdout)
    best = answer["results"][0]
    assert answer["answered"] and answer["language"] == "uk"
    assert best["language"] == "uk" and "373 тисячі" in best["text"]
    assert best["original"]["language"] == "en" and "373 thousand" in best["original"]["text"]
    assert best["section"].startswith("Якою є нині траєкторія")
    text = run("ask", "Скільки українців живе в Казахстані?").stdout
    assert "373 тисячі" in text and "Неофіційний переклад" in text and "[Оригінал (англійською)]" in text
    english = json.loads(run("ask", "--json", "How many Ukrainians live in Kazakhstan?").stdout)
    assert "original" not in english["results"][0] and "373 thousand" in english["results"][0]["text"]


def test_console_original_shows_the_published_text() -> None:
    result = run("console", stdin="Скільки українців живе в Казахстані?\n/original\n")
    out = result.stdout
    assert out.index("373 тисячі") < out.index("Currently, Kazakhstan is home to almost 373 thousand")
    assert "[3 Українською]" in out


def test_console_language_switch_keeps_the_other_buttons() -> None:
    script = "Яка медична співпраця між Україною та Казахстаном?\n/original\n/translation\n"
    out = run("console", stdin=script).stdout
    blocks = [b for b in out.split("\n\n") if "Українською]" in b or "Оригінал (англійською)]" in b]
    assert len(blocks) == 3, out
    for block in blocks:  # the answer, the original, the translation again: "another answer" stays
        assert "Інша відповідь]" in block and "👍]" in block, block


def test_console_buttons_are_pressed_by_number_or_label() -> None:
    script = "/topics\n3\nNext »\n1\nHow many generators did Kusto Group deliver?\n1\n"
    out = run("console", stdin=script, env=interview()).stdout
    assert "Passage 1 of 13" in out and "Passage 2 of 13" in out  # "3" opened a section, "Next »" paged
    assert out.index("Passage 2 of 13") < out.index(
        "Passage 1 of 13", out.index("Passage 2 of 13")
    )  # "1" back
    assert "[1 👍] [2 👎]" in out and "Thank you for the feedback!" in out


def test_console_piped_session() -> None:
    script = "/help\n/topics\n3\n/more\nWhat are the Yurts of Invincibility?\n/more\nhello\n/about\n"
    result = run("console", stdin=script, env=interview())
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "/quit" in out  # help
    assert "7. What kinds of projects" in out  # topics
    assert "Passage 1 of 13" in out and "Passage 2 of 13" in out  # section 3 and /more
    assert "Yurts of Invincibility" in out
    assert "There are no more answers" in out  # only one passage answers it
    assert "I am a bot that answers" in out  # hello is small talk
    assert "Chargé d'Affaires" in out  # about


def test_console_quit_exits_zero() -> None:
    result = run("console", stdin="/quit\nnever read\n")
    assert result.returncode == 0
    assert "could not find" not in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("ask",), {}, "give a QUESTION"),
        (("nonsense",), {}, "invalid choice"),
        (("ask", "--top", "0", "x"), {}, "--top must be from 1 to 20"),
        (("ask", "--top", "500", "x"), {}, "--top must be from 1 to 20"),
        (("ask", "x"), {"ANSWER_THRESHOLD": "nan"}, "ANSWER_THRESHOLD"),
        (("ask", "x"), {"SEMANTIC": "maybe"}, "SEMANTIC"),
        (("ask", "x"), {"TOP_K": "many"}, "TOP_K"),
        (("ask", "x"), {"ANSWER_THRESHOLD": "2"}, "ANSWER_THRESHOLD"),
        (("ask", "x"), {"INDEX_WORKERS": "0"}, "INDEX_WORKERS"),
        (("ask", "x"), {"INDEX_WORKERS": "two"}, "INDEX_WORKERS"),
        (("content",), {"CONTENT_DIR": "/nonexistent/content"}, "content folder not found"),
        (("content",), {"CONTENT_DIR": ""}, "bad setting CONTENT_DIR: Value error, is empty"),
        (("ask", "x"), {"DATA_DIR": " "}, "bad setting DATA_DIR: Value error, is empty"),
        (("content",), {"CONTENT_DIR": "~no_such_user_here/c"}, "CONTENT_DIR: Value error, cannot expand"),
        (("ask", "x"), {"INDEX_CACHE_DIR": "~no_such_user_here/c"}, "INDEX_CACHE_DIR: Value error, cannot"),
        (("ask", "x"), {"REDIS_URL": "localhost:6379"}, "REDIS_URL: Value error, must be a Redis URL"),
        (("ask", "x"), {"REDIS_URL": "redis://h:6379/0"}, "VOTE_SECRET must be set when REDIS_URL is"),
        (("ask", "x"), {"DATABASE_URL": "mysql://u:secretpw@h/db"}, "DATABASE_URL: Value error, must be"),
    ],
)
def test_bad_arguments_give_one_line_and_nonzero_exit(
    args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    result = run(*args, env=env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_broken_content_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text(
        "---\nid: x\ntitle: T\nspeaker: S\ndate: 2024-01-01\nlanguage: en\n---\nStray.\n"
    )
    result = run("ask", "anything", env={"CONTENT_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert f"{tmp_path / 'bad.md'}:8: passage outside any section" in result.stderr
    assert "Traceback" not in result.stderr


def test_telegram_without_token_is_one_clear_line() -> None:
    result = run("telegram", env={"BOT_TOKEN": ""})
    assert result.returncode != 0
    assert "BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_content_embed_into_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "tests" / "data" / "faq", folder)  # small: the failure is the point
    (folder / "embeddings.npz").unlink(missing_ok=True)
    (folder / "embeddings.npz").mkdir()  # a folder where the file should go
    result = run("content", "--embed", env={"CONTENT_DIR": str(folder), "INDEX_CACHE_DIR": ""})
    assert result.returncode != 0
    assert "cannot write the vectors" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_content_embed_writes_vectors_that_the_next_start_uses(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "tests" / "data" / "faq", folder)
    result = run("content", "--embed", env={"CONTENT_DIR": str(folder), "INDEX_CACHE_DIR": ""})
    assert result.returncode == 0, result.stderr
    written = re.search(r"wrote (\d+) vectors \((\d+) encoded now\)", result.stdout)
    assert written is not None and written[1] == written[2] and int(written[1]) > 0
    again = run("content", "--embed", env={"CONTENT_DIR": str(folder), "INDEX_CACHE_DIR": ""})
    assert "(0 encoded now)" in again.stdout


def test_an_env_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes("TOP_K=3\n".encode("utf-16"))
    result = run("ask", "hello", cwd=tmp_path)
    assert result.returncode == 1
    assert ".env is not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_content_folder_in_the_working_directory_is_used(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    (tmp_path / "content" / "faq.md").write_text(
        "---\nid: faq\ntitle: Consular FAQ\nspeaker: Consular section\ndate: 2024-06-01\nlanguage: en\n---\n"
        "\n## Fees\n\nThe consular fee is paid in tenge.\n",
        encoding="utf-8",
    )
    result = run("content", cwd=tmp_path)
    documents = len(load_corpus(ROOT / "content").documents)
    assert f"OK: answering from {tmp_path / 'content'}: {documents + 1} documents" in result.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    bundled = run("content", cwd=elsewhere)
    assert "OK: answering from " in bundled.stdout and f": {documents} document" in bundled.stdout


def test_content_build_fills_the_cache_that_the_next_start_loads(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"INDEX_CACHE_DIR": str(cache), "SEMANTIC": "on"}
    first = run("content", "--build", env=env)
    assert first.returncode == 0, first.stderr
    passages = len(load_corpus(ROOT / "content").passages)
    assert re.search(rf"built {passages} passages, \d+ passage and sentence vectors", first.stdout)
    assert "BM25 index built" in first.stdout and "Traceback" not in first.stderr
    assert {"lexicon.npz", "bm25-index.npz", "bm25-titles.npz"} <= {p.name for p in cache.iterdir()}
    again = run("content", "--build", env=env)
    assert "BM25 index loaded" in again.stdout and "(0 encoded now)" in again.stdout


def test_python_m_bot_collects_garbage_again_once_the_service_is_built() -> None:
    # bot/__main__.py turns the collector off for start-up; the console must run with it on.
    probe = (
        "import gc, runpy, sys, bot.console as c;"
        "c.Console.run = lambda self: print(gc.isenabled(), gc.get_freeze_count() > 0) or 0;"
        "sys.argv = ['bot', 'console']; runpy.run_module('bot', run_name='__main__')"
    )
    env = {k: v for k, v in os.environ.items() if k != "CONTENT_DIR"} | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]  # on again, start-up's objects frozen


def test_a_command_run_in_process_leaves_the_collector_as_it_found_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    frozen = gc.get_freeze_count()
    assert main(["ask", "How many generators did Kusto Group deliver?"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen  # nothing frozen in a host process
    assert "41 high-power generators" in capsys.readouterr().out


def _without_root_powers() -> list[str]:
    """Return a command prefix under which file permissions bind (root ignores them), or skip."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def _run_as(prefix: list[str], *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("CONTENT_DIR", "TOP_K", "ANSWER_THRESHOLD")}
    full_env.update(PYTHONPATH=str(ROOT), SEMANTIC="off", **env)
    command = [*prefix, sys.executable, "-m", "bot", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=60, check=False
    )


def test_an_unreadable_content_file_is_one_line_naming_it(tmp_path: Path) -> None:
    prefix = _without_root_powers()
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    locked = folder / "pavlenko-2024-05-18.uk.md"
    locked.chmod(0)
    try:
        for cache in ("", str(tmp_path / "cache")):  # the full and the lazily parsing loader
            result = _run_as(prefix, "ask", "hi", env={"CONTENT_DIR": str(folder), "INDEX_CACHE_DIR": cache})
            assert result.returncode == 1 and "Traceback" not in result.stderr
            assert result.stderr.strip() == f"error: {locked}:0: cannot read the file (Permission denied)"
    finally:
        locked.chmod(0o644)


def test_a_cache_folder_that_cannot_be_used_does_not_stop_the_answer(tmp_path: Path) -> None:
    prefix = _without_root_powers()
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o644)  # listed but not searchable: every lookup inside it fails
    try:
        result = _run_as(prefix, "ask", "What about ambulances?", env={"INDEX_CACHE_DIR": str(cache)})
    finally:
        cache.chmod(0o755)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "ambulance" in result.stdout.lower() and "cannot write the index cache" in result.stderr


def test_content_build_says_so_when_the_cache_could_not_be_written(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache folder should be", encoding="utf-8")
    result = run("content", "--build", env={"INDEX_CACHE_DIR": str(cache), "SEMANTIC": "off"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"error: not kept in INDEX_CACHE_DIR={cache}, so built again at each start: the BM25 index" in (
        result.stderr
    )
    # Only one part that cannot be kept (a file where the translation's folder goes) is named too.
    part = tmp_path / "part"
    part.mkdir()
    (part / "translation-uk").write_text("in the way", encoding="utf-8")
    partly = run("content", "--build", env={"INDEX_CACHE_DIR": str(part), "SEMANTIC": "off"})
    assert partly.returncode == 1 and "Traceback" not in partly.stderr
    assert partly.stderr.strip().splitlines()[-1] == (
        f"error: not kept in INDEX_CACHE_DIR={part}, so built again at each start: the uk translation's index"
    )


def test_without_a_home_folder_the_cache_is_off_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    from bot.settings import default_cache_dir

    def no_home(*args: object, **kwargs: object) -> str:
        raise RuntimeError("could not determine home directory")  # no HOME, no passwd entry

    monkeypatch.setattr(platformdirs, "user_cache_dir", no_home)
    assert default_cache_dir() is None


LIBRARY_FAQ = """---
id: library-faq
title: The Embassy's Ukrainian library
speaker: Press Office
date: 2026-01-15
language: en
kind: faq
examples: When is the Ukrainian library open? | What is the capital of Peru?
---

## When is the Ukrainian library open?

The library at the Ukrainian House is open on Saturdays from 11:00 to 15:00, except on public holidays.

## How many books can I borrow?

Readers may borrow up to three books for three weeks; children's books can be renewed once.
"""


@pytest.mark.parametrize("semantic", ["on", "off"])
def test_a_new_documents_example_questions_are_answered_from_it_and_checked(
    tmp_path: Path, semantic: str
) -> None:
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "tests" / "data" / "faq", folder)
    (folder / "library-faq.md").write_text(LIBRARY_FAQ, encoding="utf-8")
    env = {"CONTENT_DIR": str(folder), "SEMANTIC": semantic, "INDEX_CACHE_DIR": str(tmp_path / "cache")}
    result = run("ask", "--json", "When is the Ukrainian library open?", env=env)
    answer = json.loads(result.stdout)
    assert answer["answered"] and "Saturdays from 11:00" in answer["results"][0]["text"]
    # `content --build` names the example question the document does not answer.
    built = run("content", "--build", env=env)
    assert built.returncode == 0, built.stderr
    warnings = [line for line in built.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {folder / 'library-faq.md'}: example question not answered by this document: "
        "What is the capital of Peru?"
    ]
