"""Every message valid for Telegram: escaped HTML, at most 4096 characters, small callback data."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.replies import Button, Reply, Span
from bot.telegram.render import MAX_MESSAGE, fit, html, keyboard
from bot.telegram.votes import Votes
from bot.wiring import build_service
from tests.conftest import StartBot, make_settings
from tests.fake_telegram import parse_html, user, utf16_len

OLENA = user(501234567, "Olena", "Petrenko", "olena_p")

HEADER = """---
id: faq-tricky
title: Visas <and> passports & "more"
speaker: Consul <b>Test</b> & Co
date: 2024-06-01
language: en
examples: What about <visas> & passports?
---
"""


def tricky_content(folder: Path) -> Path:
    """Write content with HTML characters, a very long passage and many long sections."""
    long_passage = " ".join(["Visas <require> passports & patience; 5 > 3."] * 160)
    sections = [f"## Visas <b>{n}</b> & passports, a long interviewer question about rules {'x' * 200}\n\n"
                f"Passports & visas <i>{n}</i> are issued in Astana.\n" for n in range(40)]  # fmt: skip
    body = "## Visa <rules> & more\n\n" + long_passage + "\n\n" + "\n".join(sections)
    folder.mkdir()
    (folder / "tricky.md").write_text(HEADER + "\n" + body, encoding="utf-8")
    return folder


async def test_html_characters_long_passages_and_long_lists_reach_the_user(
    start_bot: StartBot, tmp_path: Path
) -> None:
    # BM25 alone: this is about rendering, and encoding 41 sections would take most of the time.
    service = build_service(make_settings(content_dir=tricky_content(tmp_path / "content"), semantic="off"))
    tg = await start_bot(answer_service=service)
    fake = tg.fake
    for text in ("/start", "/about", "/topics", "What do visas require?", "Are passports issued in Astana?"):
        fake.send(OLENA, text)
    replies = await fake.replies(OLENA["id"], 5)
    await tg.settle()
    assert not fake.failures("sendMessage")
    start, about, topics, long_answer, _ = replies
    assert 'Visas <and> passports & "more"' in start.plain and "Consul <b>Test</b> & Co" in about.plain
    assert len(topics.buttons) == 41 and utf16_len(topics.plain) <= MAX_MESSAGE
    assert MAX_MESSAGE - 20 < utf16_len(long_answer.plain) <= MAX_MESSAGE
    # Cut in the passage, not at the end: the source line stays, whole, at the end.
    assert "…" in long_answer.plain
    source = '\n\nSource: «Visas <and> passports & "more"» — Consul <b>Test</b> & Co — 2024-06-01'
    assert long_answer.plain.endswith(source)
    assert "<b>visas</b>" in long_answer.html.lower()
    # The example button and the section view work on the tricky content too.
    fake.press(OLENA, fake.message(start), start.buttons[0][1])
    fake.press(OLENA, fake.message(topics), topics.buttons[0][1])
    pressed = (await fake.replies(OLENA["id"], 7))[5:]
    # The two presses are handled concurrently: tell the replies apart by their buttons.
    (example,) = [r for r in pressed if r.buttons]
    (opened,) = [r for r in pressed if not r.buttons]  # one passage in that section: nothing to page
    assert "Source:" in example.plain and ("👍", example.data("👍")) in example.buttons
    assert "…\n\nSource: «Visas <and> passports" in opened.plain and opened.plain.endswith("Passage 1 of 1")


def test_fit_counts_utf16_and_cuts_with_an_ellipsis() -> None:
    spans = (Span("🙂" * 3000, "bold"), Span(" & tail"))
    text = html(Reply(fit(spans)))
    assert text.startswith("<b>🙂") and text.endswith("🙂</b>… &amp; tail")
    assert utf16_len(parse_html(text)) <= MAX_MESSAGE
    # Exactly full: nothing is cut; one more character and the end gives way to the ellipsis.
    full = (Span("a" * (MAX_MESSAGE - 2)), Span("🙂", "bold"))
    assert fit(full) == full
    assert fit((*full, Span("b"))) == (
        Span("a" * (MAX_MESSAGE - 4)),
        Span("…"),
        Span("🙂", "bold"),
        Span("b"),
    )
    short = (Span("a <b> & c", "italic"),)
    assert fit(short) == short and html(Reply(short)) == "<i>a &lt;b&gt; &amp; c</i>"


def test_buttons_pack_into_small_callback_data() -> None:
    reply = Reply(
        (Span("x"),),
        (
            (
                Button("More", "more", ("0123456789ab.ba9876543210.0123456789ab", "2", "uk")),
                Button("Next", "page", ("p0123456789ab",)),
            ),
            (Button("👍", "vote", ("p0123456789ab", "1")), Button("t" * 100, "topic", ("p0123456789ab",))),
            (Button("Ex", "example", ("2",)), Button("Topics", "topics")),
        ),
    )
    votes = Votes(b"k" * 32)
    markup = keyboard(reply, lambda pid: votes.mac(-1001234567890, pid))
    assert markup is not None
    buttons = [b for row in markup.inline_keyboard for b in row]
    mac = votes.mac(-1001234567890, "p0123456789ab")
    assert [b.callback_data for b in buttons] == [
        "m:0123456789ab.ba9876543210.0123456789ab:2:uk",
        "pg:p0123456789ab", f"v:p0123456789ab:1:{mac}", "tp:p0123456789ab", "ex:2", "ts",
    ]  # fmt: skip
    assert all(len((b.callback_data or "").encode()) <= 64 for b in buttons)
    with pytest.raises(ValueError, match="signed for their chat"):
        keyboard(reply)  # a vote button without its chat's signer is a bug, not a silent unsigned button
    assert len(buttons[3].text) == 64 and buttons[3].text.endswith("…")
    assert keyboard(Reply((Span("x"),))) is None
