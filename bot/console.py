"""An interactive console that says exactly what the Telegram bot would say."""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

from bot.replies import MORE_IN_BUTTON, Button, Replies, Reply
from bot.service import Answer, AnswerService
from bot.texts import Lang, t
from index.content.loader import Passage


def render_plain(reply: Reply, numbered: bool = False) -> str:
    """Render a reply as plain text, buttons as a bracketed line under it (numbered to press them)."""
    text = reply.plain().rstrip()
    buttons = [button for row in reply.buttons for button in row]
    labels = [f"[{f'{n} ' if numbered else ''}{b.label}]" for n, b in enumerate(buttons, start=1)]
    return f"{text}\n{' '.join(labels)}" if labels else text


COMMANDS = ("/help", "/topics", "/more", "/original", "/translation", "/about", "/quit")
"""The console's commands (/start, /next and /exit are aliases of /help, /more and /quit)."""


class Console:
    """Read questions and commands line by line; write the bot's replies."""

    def __init__(
        self,
        service: AnswerService,
        stdin: TextIO,
        stdout: TextIO,
        lang: Lang = "en",
        replies: Replies | None = None,
    ) -> None:
        self.service = service
        self.replies = replies or Replies(service)
        self.stdin = stdin
        self.stdout = stdout
        self.lang = lang
        self._answer: Answer | None = None
        self._rank = 0
        self._page: Passage | None = None
        self._shown: Passage | None = None
        """The passage on screen, for /original and /translation."""
        self._buttons: list[Button] = []
        self._rows: tuple[tuple[Button, ...], ...] = ()
        """The buttons of the last reply, by row (a language switch keeps the others)."""
        """The buttons of the last reply: typing a number (or a label) presses one."""

    def run(self) -> int:
        """Serve until /quit or end of input; return the exit code."""
        interactive = self.stdin.isatty() and self.stdin is sys.stdin
        if interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  (line editing and history for input(), where available)
        self._say(self.replies.start(self.lang))
        self._write(t(self.lang, "help_console").splitlines()[0])
        while True:
            if interactive:
                try:
                    line = input("> ")
                except EOFError:
                    self.stdout.write("\n")  # leave the shell prompt on a line of its own
                    return 0
            else:
                line = self.stdin.readline()
                if not line:
                    return 0
            if not self.handle(line.strip()):
                return 0

    def handle(self, line: str) -> bool:
        """Handle one line; return False to stop."""
        command, _, rest = line.partition(" ")
        command = command.lower()
        if command in ("/quit", "/exit"):
            return False
        if command in ("/help", "/start"):
            self._say(self.replies.help(self.lang, console=True))
        elif command == "/about":
            self._say(self.replies.about(self.lang))
        elif command == "/topics":
            self._topics(rest.strip())
        elif command in ("/more", "/next"):
            self._more()
        elif command in ("/original", "/translation"):
            self._switch(original=command == "/original")
        elif (button := self._button(line)) is not None:
            self._press(button)
        else:
            self._ask(line)
        return True

    def _button(self, line: str) -> Button | None:
        """Return the button of the last reply a line names, by number or by label."""
        if line.isdigit() and 1 <= int(line) <= len(self._buttons):
            return self._buttons[int(line) - 1]
        label = line.strip("[]").casefold()
        return next((b for b in self._buttons if b.label.casefold() == label), None) if label else None

    def _press(self, button: Button) -> None:
        """Do what the button does in Telegram."""
        args = button.args
        if button.action == "more":
            self._more()
        elif button.action in ("page", "version"):
            passage = self.service.passage(args[0])
            if passage is None:
                self._write(t(self.lang, "expired"))
            elif button.action == "page":
                self._open(passage)
            else:
                self._say(self.replies.in_language(passage, args[1], self.lang, others=self._rows))
        elif button.action == "topic":
            section = next((s for s in self.service.sections if s.id == args[0]), None)
            if section is not None:
                self._open(section.passages[0])
        elif button.action == "topics":
            self._topics("")
        elif button.action == "example":
            self._ask(self.replies.examples()[int(args[0])])
        elif button.action == "vote":
            self._write(t(self.lang, "thanks"))

    def _ask(self, question: str) -> None:
        self._page = None
        self._answer = self.service.ask(question)
        if self._answer.language in ("uk", "ru"):
            # Someone who asks in Ukrainian or Russian gets the Ukrainian interface from now on.
            self.lang = "uk"
        self._rank = 0
        self._show_answer()

    def _more(self) -> None:
        if self._page is not None:
            _, after = self.service.corpus.neighbours(self._page)
            if after is None:
                self._write(t(self.lang, "end_of_section"))
            else:
                self._open(after)
            return
        if self._answer is None or not self._answer.answered:
            self._write(t(self.lang, "no_question"))
            return
        self._rank += 1
        self._show_answer()

    def _switch(self, original: bool) -> None:
        """Show the passage on screen as published, or translated (the console's language buttons)."""
        passage = self._shown
        if passage is None:
            self._write(t(self.lang, "no_passage"))
            return
        translations = self.service.corpus.translations_of(passage)
        if original or not translations:
            language = passage.document.language
        else:
            preferred = self.replies.version(passage, self.lang)
            language = (preferred if preferred is not passage else translations[0]).document.language
        self._say(self.replies.in_language(passage, language, self.lang, others=self._rows))

    def _topics(self, choice: str) -> None:
        sections = self.service.sections
        if not choice:
            self._shown = None
            self._say(self.replies.topics(self.lang))
            self._write(t(self.lang, "pick_topic", n=len(sections)))
            return
        if choice.isdigit() and 1 <= int(choice) <= len(sections):
            self._open(sections[int(choice) - 1].passages[0])
        else:
            self._write(t(self.lang, "pick_topic", n=len(sections)))

    def _show_answer(self) -> None:
        assert self._answer is not None
        on_screen = self._answer.answers[:MORE_IN_BUTTON][self._rank : self._rank + 1]
        self._shown = self.service.passage(on_screen[0].passage.id) if on_screen else None
        self._say(self.replies.answer(self._answer, self.lang, self._rank))

    def _open(self, passage: Passage) -> None:
        self._page = self._shown = passage
        self._say(self.replies.passage(passage, self.lang))

    def _say(self, reply: Reply) -> None:
        self._rows = reply.buttons
        self._buttons = [button for row in reply.buttons for button in row]
        self._write(render_plain(reply, numbered=True))

    def _write(self, text: str) -> None:
        self.stdout.write(text + "\n\n")
        self.stdout.flush()
