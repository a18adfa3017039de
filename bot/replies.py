"""What the bot says, independent of Telegram: text spans and buttons.

The Telegram adapter renders a Reply as HTML with an inline keyboard, the
console as plain text, so both say exactly the same thing.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from bot.service import MAX_QUESTION_CHARS, Answer, AnswerService
from bot.texts import Lang, t
from index.analysis.language import question_script, to_cyrillic
from index.analysis.text import Analyzer, SlavicAnalyzer, refers_back
from index.content.loader import Corpus, Document, Passage, Section

Style = Literal["plain", "bold", "italic"]
Action = Literal["more", "page", "topic", "example", "vote", "topics", "version"]


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


def text_languages(language: str) -> tuple[str, ...]:
    """Return the languages to show a passage in, by preference, for a question in `language`.

    A Russian reader is shown a Russian translation, else a Ukrainian one; a Ukrainian reader the
    other way round; anyone else, and anyone when no translation exists, the published text.
    """
    if language == "ru":
        return ("ru", "uk")
    if language == "uk":
        return ("uk", "ru")
    return (language,) if language else ()


MORE_IN_BUTTON = 3
"""How many offered passages an "another answer" button carries (their ids fit Telegram's 64 bytes)."""


class Replies:
    """Build every reply of the bot from the answering service."""

    def __init__(self, service: AnswerService, consular_url: str | None = None) -> None:
        self.service = service
        self.consular_url = consular_url
        self._slavic = SlavicAnalyzer()
        self._firsts: tuple[weakref.ref[Corpus], dict[str, int]] | None = None

    def version(self, passage: Passage, language: str) -> Passage:
        """Return the passage as translated into `language`, or the published text if it is not."""
        if passage.document.language == language:
            return passage
        for translation in self.service.corpus.translations_of(passage):
            if translation.document.language == language:
                return translation
        return passage

    def shown(self, answer: Answer, rank: int = 0) -> Passage | None:
        """Return the passage a reader of this answer is shown at `rank`: translated or published."""
        if rank >= len(answer.answers):
            return None
        current = self.service.passage(answer.answers[rank].passage.id)
        return self.for_reader(current, answer.language) if current is not None else None

    def for_reader(self, passage: Passage, language: str) -> Passage:
        """Return the passage as a reader of `language` reads it best: a translation, or as published."""
        for wanted in text_languages(language):
            shown = self.version(passage, wanted)
            if shown is not passage or passage.document.language == wanted:
                return shown
        return passage

    def _document(self, document: Document, lang: Lang) -> Document:
        """Return the document's translation into the interface language, if there is one."""
        corpus = self.service.corpus
        if self._firsts is None or self._firsts[0]() is not corpus:
            # The first passage of each translated document, found once per corpus (a large
            # corpus's other documents stay unparsed); held weakly, so a reload lets the old go.
            firsts = {corpus.passages[start].document.id: start for start, _ in corpus.translated_runs()}
            self._firsts = (weakref.ref(corpus), firsts)
        start = self._firsts[1].get(document.id)
        return self.version(corpus.passages[start], lang).document if start is not None else document

    def start(self, lang: Lang) -> Reply:
        """Say what the bot knows, how to ask, and offer example questions."""
        spans: list[Span] = [Span(t(lang, "start") + "\n")]
        for original in self.service.documents:
            document = self._document(original, lang)
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

    def about(self, lang: Lang, documents: Iterable[Document] | None = None) -> Reply:
        """Name the sources (all, or the ones a question about the texts names): title, speaker, date."""
        spans: list[Span] = [Span(t(lang, "about") + "\n")]
        for original in self.service.documents if documents is None else documents:
            document = self._document(original, lang)
            spans += [Span("\n"), Span(document.title, "bold"), Span("\n")]
            who = f"{document.speaker}, {document.role}" if document.role else document.speaker
            spans.append(Span(f"{who}\n{document.date}"))
            if document.published:
                spans.append(Span(f"\n{document.published}"))
            if document is not original:
                spans.append(Span("\n" + (document.note or t(lang, "translation_note")), "italic"))
            spans.append(Span("\n"))
        return Reply(tuple(spans))

    def topics(self, lang: Lang) -> Reply:
        """List the sections as numbered lines and buttons."""
        spans: list[Span] = [Span(t(lang, "topics") + "\n")]
        buttons: list[tuple[Button, ...]] = []
        for number, section in enumerate(self.service.sections, start=1):
            title = self.version(section.passages[0], lang).section
            spans.append(Span(f"\n{number}. {title}"))
            label = title if len(title) <= 60 else title[:57].rstrip() + "…"
            buttons.append((Button(f"{number}. {label}", "topic", (section.id,)),))
        return Reply(tuple(spans), tuple(buttons))

    def passage(self, passage: Passage, lang: Lang) -> Reply:
        """Show a passage while browsing a section, in the interface language, with paging buttons."""
        section = self.service.corpus.section_of(passage)
        shown = self.version(passage, lang)
        spans: list[Span] = [
            Span(f"{t(lang, 'section')}: ", "bold"),
            Span(shown.section, "italic"),
            Span("\n\n" + shown.text + "\n\n"),
            *self._source(shown, passage, lang),
            Span("\n" + t(lang, "passage_of", n=passage.position + 1, total=len(section.passages))),
        ]
        before, after = self.service.corpus.neighbours(passage)
        row: list[Button] = []
        if before is not None:
            row.append(Button(t(lang, "btn_prev"), "page", (before.id,)))
        if after is not None:
            row.append(Button(t(lang, "btn_next"), "page", (after.id,)))
        buttons = [tuple(row)] if row else []
        buttons += self._switch(shown, passage, lang)
        return Reply(tuple(spans), tuple(buttons))

    def in_language(
        self, passage: Passage, language: str, lang: Lang, others: Sequence[tuple[Button, ...]] | None = None
    ) -> Reply:
        """Show one passage in another language (the published original, or back to the translation).

        `others`: the buttons of the message being switched, kept as they are (another answer,
        paging, votes or their absence after a vote) but for the language button.
        """
        shown = self.version(passage, language)
        spans: list[Span] = [
            Span(f"{t(lang, 'section')}: ", "bold"),
            Span(shown.section, "italic"),
            Span("\n\n" + shown.text + "\n\n"),
            *self._source(shown, passage, lang),
        ]
        switch = self._switch(shown, passage, lang, back=True)
        if others is not None:
            rows = with_switch(others, switch, lambda button: button.action == "version")
            return Reply(tuple(spans), tuple(tuple(row) for row in rows))
        votes = (Button("👍", "vote", (passage.id, "1")), Button("👎", "vote", (passage.id, "0")))
        return Reply(tuple(spans), (votes, *switch))

    def answer(self, answer: Answer, lang: Lang, rank: int = 0) -> Reply:
        """Show hit number `rank` of an answered question, or the decline.

        A question in Ukrainian or Russian is shown a translation where one exists, with the
        question's words in bold; "another answer" carries the offered passages' ids itself.
        """
        lang = reply_language(answer, lang)
        if answer.reason == "about":
            return self.about(lang, answer.about)
        if not answer.answered:
            return self.decline(answer, lang)
        # "Another answer" walks the first few offered passages (their ids fit in its button).
        ids = [h.passage.id for h in answer.answers[:MORE_IN_BUTTON]]
        if rank >= len(ids):
            return Reply(_text(t(lang, "no_more")))
        hit = answer.answers[rank]
        corrections = answer.corrections if rank == 0 else ()
        slavic = self._slavic_terms(answer)
        return self._offered(
            ids, rank, answer.language, lang, matched=hit.matched, slavic=slavic, corrections=corrections
        )

    def more(self, ids: Sequence[str], rank: int, language: str, lang: Lang) -> Reply | None:
        """Show offered answer `rank` from an "another answer" button's own data; None if it has expired.

        The button carries the passages' ids, not the question (nothing is kept about who asked
        what), so any instance serves it, after a restart too; the matched words are not in bold.
        """
        if not 0 <= rank < len(ids) <= MORE_IN_BUTTON or any(self.service.passage(i) is None for i in ids):
            return None
        return self._offered(ids, rank, language, "uk" if language in ("uk", "ru") else lang)

    def _offered(
        self,
        ids: Sequence[str],
        rank: int,
        language: str,
        lang: Lang,
        *,
        matched: Sequence[str] = (),
        slavic: Sequence[str] = (),
        corrections: Sequence[tuple[str, str]] = (),
    ) -> Reply:
        """Show passage `rank` of the offered ones, for a question in `language`."""
        current = self.service.passage(ids[rank])
        if current is None:
            # Asked before a /reload that removed or changed this passage.
            return Reply(_text(t(lang, "expired")))
        shown = self.for_reader(current, language)
        spans: list[Span] = [Span(f"{t(lang, 'section')}: ", "bold"), Span(shown.section, "italic")]
        spans.append(Span("\n\n"))
        before, _ = self.service.corpus.neighbours(current)
        if before is not None and refers_back(current.text):
            # The passage leans on the paragraph before it; show that first, set apart.
            spans.append(Span(f"[…] {self.version(before, shown.document.language).text}\n\n", "italic"))
        if shown is current:
            index = self.service.index
            spans += highlight(shown.text, matched, index.analyzer, index.variants)
        else:
            spans += highlight(shown.text, slavic, self._slavic)
        spans.append(Span("\n\n"))
        spans += self._source(shown, current, lang)
        if corrections and shown is current:
            words = ", ".join(f"{typed} → {known}" for typed, known in corrections)
            spans.append(Span("\n" + t(lang, "spelling", words=words)))
        if len(ids) > 1:
            spans.append(Span("\n" + t(lang, "answer_of", n=rank + 1, total=len(ids))))
        row = [Button("👍", "vote", (current.id, "1")), Button("👎", "vote", (current.id, "0"))]
        buttons = [tuple(row), *self._switch(shown, current, lang)]
        if rank + 1 < len(ids):
            carried = ".".join(i.removeprefix("p") for i in ids)
            buttons.insert(
                0, (Button(t(lang, "btn_more"), "more", (carried, str(rank + 1), language or "-")),)
            )
        return Reply(tuple(spans), tuple(buttons))

    def _source(self, shown: Passage, original: Passage, lang: Lang) -> list[Span]:
        """Return the source line, and for a translation the note that it is one."""
        spans = source_spans(shown.document, lang)
        if shown is not original:
            spans.append(Span("\n" + (shown.document.note or t(lang, "translation_note")), "italic"))
        return spans

    def _switch(
        self, shown: Passage, original: Passage, lang: Lang, back: bool = False
    ) -> list[tuple[Button, ...]]:
        """Offer the published original under a translation; with `back`, the translation under it."""
        # The interface language rides along: whoever asked in Ukrainian keeps a Ukrainian interface.
        if shown is not original:
            language = original.document.language
            return [(Button(t(lang, "btn_original"), "version", (original.id, language, lang)),)]
        translations = self.service.corpus.translations_of(original)
        if back and translations:
            preferred = self.version(original, lang)
            language = (preferred if preferred is not original else translations[0]).document.language
            return [(Button(t(lang, "btn_translation"), "version", (original.id, language, lang)),)]
        return []

    def _slavic_terms(self, answer: Answer) -> list[str]:
        """Return the question's terms as the Ukrainian-Russian analyzer reads them, to bold them."""
        question = answer.question
        if question_script(question) != "cyrillic":
            question = to_cyrillic(question, answer.language)
        return self._slavic.terms(question)

    def decline(self, answer: Answer, lang: Lang) -> Reply:
        """Say kindly that the texts do not answer this, and what they do answer."""
        if answer.reason == "empty":
            return Reply(_text(t(lang, "empty")))
        if answer.reason == "too_long":
            return Reply(_text(t(lang, "too_long", limit=MAX_QUESTION_CHARS)))
        topics = self.topics_summary(lang)
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

    def topics_summary(self, lang: Lang, most: int = 3) -> str:
        """Name the texts loaded, by title in the interface language: what the bot can answer about."""
        titles = [f"«{self._document(d, lang).title}»" for d in self.service.documents] or ["—"]
        if len(titles) > most:
            titles = [*titles[:most], t(lang, "more_texts", n=len(titles) - most)]
        listed = titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} {t(lang, 'and')} {titles[-1]}"
        return t(lang, "topics_summary_one" if len(titles) == 1 else "topics_summary", titles=listed)

    def section_first(self, section: Section, lang: Lang) -> Reply:
        """Open a section at its first passage."""
        return self.passage(section.passages[0], lang)


B = TypeVar("B")


def with_switch(
    rows: Sequence[Sequence[B]], switch: Sequence[Sequence[B]], is_switch: Callable[[B], bool]
) -> list[list[B]]:
    """Return `rows` with the row holding a language button replaced by `switch` (added if none did)."""
    kept: list[list[B]] = []
    placed = False
    for row in rows:
        if any(is_switch(button) for button in row):
            if not placed:
                kept += [list(r) for r in switch]
                placed = True
        else:
            kept.append(list(row))
    if not placed:
        kept += [list(r) for r in switch]
    return kept
