"""The command line's progress bar."""

from __future__ import annotations

import io

from bot.progress import ProgressBar


def test_the_bar_redraws_one_line_and_ends_it_when_done() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, "encoding passages")
    bar(0, 200)
    bar(100, 200)  # within 0.1 s of the last drawing: skipped
    bar(200, 200)
    lines = out.getvalue().split("\r")[1:]
    assert len(lines) == 2
    assert lines[0].startswith("encoding passages [" + "." * 30 + "] 0/200 texts")
    assert lines[1].startswith("encoding passages [" + "#" * 30 + "] 200/200 texts") and lines[1].endswith(
        "\n"
    )


def test_an_empty_build_is_a_full_bar() -> None:
    out = io.StringIO()
    ProgressBar(out, "x")(0, 0)
    assert "[" + "#" * 30 + "] 0/0" in out.getvalue()
