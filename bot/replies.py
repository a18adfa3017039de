"""What the bot says, independent of Telegram: text spans and buttons.

The Telegram adapter renders a Reply as HTML with an inline keyboard, the
console as plain text, so both say exactly the same thing.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.service import MAX_QUESTION_CHARS, Answer, AnswerService
from bot.texts import Lang, t
from index.analysis import Analyzer, refers_back
from index.content import Document, Passage, Section

Style = Literal["plain", "bold", "italic"]
Action = Literal["more", "page", "topic", "example", "vote", "topics"]


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text in one style."""

    text: str
    style: Style = "plain"


@dataclass(frozen=True, slots=True)
class Button:
    """A button: its label and what it asks for (an action and short arguments)."""

    label: str
    action: Action
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """A message: styled text and rows of buttons."""

    spans: tuple[Span, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()

    def plain(self) -> str:
        """Return the text without styles."""
        return "".join(span.text for span in self.spans)


def _text(*parts: str | Span) -> tuple[Span, ...]:
    return tuple(Span(p) if isinstance(p, str) else p for p in parts)


def highlight(
    text: str, terms: Iterable[str], analyzer: Analyzer, variants: Mapping[str, str] | None = None
) -> list[Span]:
    """Split a passage into spans, the words that match a search term in bold.

    `variants` maps the terms of slips in the text to the terms they were indexed as.
    """
    wanted = set(terms)
    variants = variants or {}
    spans: list[Span] = []
    cursor = 0
    for token in analyzer.tokens(text):
        if variants.get(token.term, token.term) not in wanted or token.start < cursor:
            continue
        if token.start > cursor:
            spans.append(Span(text[cursor : token.start]))
        spans.append(Span(text[token.start : token.end], "bold"))
        cursor = token.end
    if cursor < len(text):
        spans.append(Span(text[cursor:]))
    return spans


def source_spans(document: Document, lang: Lang) -> list[Span]:
    """Return the source line of a document."""
    return [Span(f"{t(lang, 'source')}: ", "italic"), Span(document.source_line(), "italic")]


# Which reply each kind of small talk gets.
_SMALL_TALK = {
    "greeting": "small_talk_greeting",
    "how_are_you": "small_talk_greeting",
    "capabilities": "small_talk_greeting",
    "thanks": "small_talk_thanks",
    "goodbye": "small_talk_goodbye",
    "who_are_you": "small_talk_who",
    "acknowledgement": "small_talk_ack",
}


def reply_language(answer: Answer, lang: Lang) -> Lang:
    """Answer a question in Ukrainian or Russian in Ukrainian, others in the interface language."""
    return "uk" if answer.language in ("uk", "ru") else lang


class AnswerCache:
    """Remember recent answers in memory under short random keys, for "another answer".

    Only the question and its hits are kept, never who asked; the oldest are
    dropped past `size`, and a button naming a dropped key has expired.
    """

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._answers: OrderedDict[str, Answer] = OrderedDict()

    def put(self, answer: Answer) -> str:
        """Store an answer and return its key."""
        key = secrets.token_urlsafe(6)
        self._answers[key] = answer
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)
        return key

    def get(self, key: str) -> Answer | None:
        """Return the answer stored under a key, or None if unknown or dropped."""
        return self._answers.get(key)


class Replies:
    """Build every reply of the bot from the answering service."""

    def __init__(self, service: AnswerService, consular_url: str | None = None) -> None:
        self.service = service
        self.consular_url = consular_url

    def start(self, lang: Lang) -> Reply:
        """Say what the bot knows, how to ask, and offer example questions."""
        spans: list[Span] = [Span(t(lang, "start") + "\n")]
        for document in self.service.documents:
            byline = f" — {document.speaker}, {document.date}\n"
            spans += [Span("• "), Span(document.title, "bold"), Span(byline)]
        spans.append(Span("\n" + t(lang, "how_to_ask")))
        examples = self.examples()
        buttons: list[tuple[Button, ...]] = []
        if examples:
            spans.append(Span("\n\n" + t(lang, "examples")))
            buttons = [(Button(q, "example", (str(i),)),) for i, q in enumerate(examples)]
        buttons.append((Button(t(lang, "btn_topics"), "topics"),))
        return Reply(tuple(spans), tuple(buttons))

    def examples(self) -> list[str]:
        """Return up to three example questions from the documents' metadata."""
        found = [q for d in self.service.documents for q in d.examples]
        return found[:3]

    def help(self, lang: Lang, console: bool = False) -> Reply:
        """Explain how to use the bot."""
        return Reply(_text(t(lang, "help_console" if console else "help")))

    def about(self, lang: Lang) -> Reply:
        """Name the sources: title, speaker and role, date, publication."""
        spans: list[Span] = [Span(t(lang, "about") + "\n")]
        for document in self.service.documents:
            spans += [Span("\n"), Span(document.title, "bold"), Span("\n")]
            who = f"{document.speaker}, {document.role}" if document.role else document.speaker
            spans.append(Span(f"{who}\n{document.date}"))
            if document.published:
                spans.append(Span(f"\n{document.published}"))
            spans.append(Span("\n"))
        return Reply(tuple(spans))

    def topics(self, lang: Lang) -> Reply:
        """List the sections as numbered lines and buttons."""
        spans: list[Span] = [Span(t(lang, "topics") + "\n")]
        buttons: list[tuple[Button, ...]] = []
        for number, section in enumerate(self.service.sections, start=1):
            spans.append(Span(f"\n{number}. {section.title}"))
            label = section.title if len(section.title) <= 60 else section.title[:57].rstrip() + "…"
            buttons.append((Button(f"{number}. {label}", "topic", (section.id,)),))
        return Reply(tuple(spans), tuple(buttons))

    def passage(self, passage: Passage, lang: Lang) -> Reply:
        """Show a passage while browsing a section, with paging buttons."""
        section = self.service.corpus.section_of(passage)
        total = len(section.passages)
        spans: list[Span] = [
            Span(f"{t(lang, 'section')}: ", "bold"),
            Span(section.title, "italic"),
            Span("\n\n" + passage.text + "\n\n"),
            *source_spans(passage.document, lang),
            Span("\n" + t(lang, "passage_of", n=passage.position + 1, total=total)),
        ]
        before, after = self.service.corpus.neighbours(passage)
        row: list[Button] = []
        if before is not None:
            row.append(Button(t(lang, "btn_prev"), "page", (before.id,)))
        if after is not None:
            row.append(Button(t(lang, "btn_next"), "page", (after.id,)))
        return Reply(tuple(spans), (tuple(row),) if row else ())

    def answer(self, answer: Answer, lang: Lang, rank: int = 0, key: str | None = None) -> Reply:
        """Show hit number `rank` of an answered question, or the decline.

        `key` names the answer in the adapter's AnswerCache, for the "another answer" button.
        """
        lang = reply_language(answer, lang)
        if not answer.answered:
            return self.decline(answer, lang)
        if rank >= len(answer.answers):
            return Reply(_text(t(lang, "no_more")))
        hit = answer.answers[rank]
        current = self.service.passage(hit.passage.id)
        if current is None:
            # Asked before a /reload that removed or changed this passage.
            return Reply(_text(t(lang, "expired")))
        spans: list[Span] = [Span(f"{t(lang, 'section')}: ", "bold"), Span(hit.passage.section, "italic")]
        spans.append(Span("\n\n"))
        before, _ = self.service.corpus.neighbours(current)
        if before is not None and refers_back(hit.passage.text):
            # The passage leans on the paragraph before it; show that first, set apart.
            spans.append(Span(f"[…] {before.text}\n\n", "italic"))
        index = self.service.index
        spans += highlight(hit.passage.text, hit.matched, index.analyzer, index.variants)
        spans.append(Span("\n\n"))
        spans += source_spans(hit.passage.document, lang)
        if answer.corrections and rank == 0:
            words = ", ".join(f"{typed} → {known}" for typed, known in answer.corrections)
            spans.append(Span("\n" + t(lang, "spelling", words=words)))
        if len(answer.answers) > 1:
            spans.append(Span("\n" + t(lang, "answer_of", n=rank + 1, total=len(answer.answers))))
        row = [Button("👍", "vote", (hit.passage.id, "1")), Button("👎", "vote", (hit.passage.id, "0"))]
        buttons = [tuple(row)]
        if rank + 1 < len(answer.answers) and key is not None:
            buttons.insert(0, (Button(t(lang, "btn_more"), "more", (key, str(rank + 1))),))
        return Reply(tuple(spans), tuple(buttons))

    def decline(self, answer: Answer, lang: Lang) -> Reply:
        """Say kindly that the texts do not answer this, and what they do answer."""
        if answer.reason == "empty":
            return Reply(_text(t(lang, "empty")))
        if answer.reason == "too_long":
            return Reply(_text(t(lang, "too_long", limit=MAX_QUESTION_CHARS)))
        topics = t(lang, "topics_summary")
        if answer.reason == "small_talk":
            key = _SMALL_TALK.get(answer.intent or "", "small_talk_greeting")
            return Reply(_text(t(lang, key, topics=topics)), ((Button(t(lang, "btn_topics"), "topics"),),))
        if answer.reason == "consular":
            text = (
                t(lang, "consular_url", url=self.consular_url) if self.consular_url else t(lang, "consular")
            )
            return Reply(_text(text), ((Button(t(lang, "btn_topics"), "topics"),),))
        text = t(lang, "not_answered", topics=topics)
        return Reply(_text(text), ((Button(t(lang, "btn_topics"), "topics"),),))

    def section_first(self, section: Section, lang: Lang) -> Reply:
        """Open a section at its first passage."""
        return self.passage(section.passages[0], lang)
