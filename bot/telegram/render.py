"""Turn a Reply into what Telegram accepts: escaped HTML within 4096 characters and a keyboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, assert_never

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.formatting import Bold, Italic, Text, sizeof
from pydantic import Field

from bot.replies import Button, Reply, Span

MAX_MESSAGE = 4096
"""Telegram's limit on a message's text after entity parsing, in UTF-16 code units."""
MAX_LABEL = 64
ELLIPSIS = "…"

# Callback data: short prefixes and stable passage ids; pack() refuses anything over 64 bytes.


class MoreData(CallbackData, prefix="m"):
    """Show offered passage `rank` of `ids` (passage ids without their leading "p") for language `q`.

    `q` is the question's language ("-": unknown). The button carries all it needs: any instance
    serves it, after a restart too.
    """

    ids: str = Field(pattern=r"^[0-9a-f]{12}(\.[0-9a-f]{12}){1,2}$")
    rank: int = Field(ge=1, le=2)
    q: str = Field(pattern=r"^([a-z]{2,3}|-)$")


class PageData(CallbackData, prefix="pg"):
    """Show a passage while browsing its section."""

    pid: str = Field(min_length=1, max_length=40)


class TopicData(CallbackData, prefix="tp"):
    """Open a section at its first passage."""

    sid: str = Field(min_length=1, max_length=40)


class ExampleData(CallbackData, prefix="ex"):
    """Ask example question number `n`."""

    n: int = Field(ge=0, le=20)


class VoteData(CallbackData, prefix="v"):
    """Record 👍 (up) or 👎 on a passage; `mac` binds the button to its chat (bot/telegram/votes.py)."""

    pid: str = Field(min_length=1, max_length=40)
    up: bool
    mac: str = Field(min_length=10, max_length=10, pattern=r"^[A-Za-z0-9_-]+$")


class TopicsData(CallbackData, prefix="ts"):
    """List the sections."""


class VersionData(CallbackData, prefix="vr"):
    """Show a passage in a language (its published original or its translation), in interface `ui`."""

    pid: str = Field(min_length=1, max_length=40)
    lang: str = Field(min_length=2, max_length=3, pattern=r"^[a-z]+$")
    ui: Literal["en", "uk"]


Signer = Callable[[str], str]
"""Passage id -> the MAC of a vote button for it in the chat the reply goes to."""


def pack(button: Button, sign: Signer | None = None) -> str:
    """Return the callback data of a button; vote buttons need the chat's signer."""
    args = button.args
    data: CallbackData
    match button.action:
        case "more":
            data = MoreData(ids=args[0], rank=int(args[1]), q=args[2])
        case "page":
            data = PageData(pid=args[0])
        case "topic":
            data = TopicData(sid=args[0])
        case "example":
            data = ExampleData(n=int(args[0]))
        case "vote":
            if sign is None:
                raise ValueError("vote buttons are signed for their chat: pass a signer")
            data = VoteData(pid=args[0], up=args[1] == "1", mac=sign(args[0]))
        case "topics":
            data = TopicsData()
        case "version":
            data = VersionData(pid=args[0], lang=args[1], ui="uk" if args[2] == "uk" else "en")
        case _:
            assert_never(button.action)
    return data.pack()


def _cut(text: str, room: int) -> str:
    """Return the longest start of text that takes at most `room` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += sizeof(char)
        if used > room:
            return text[:index]
    return text


def fit(spans: tuple[Span, ...], limit: int = MAX_MESSAGE) -> tuple[Span, ...]:
    """Return the spans within `limit` UTF-16 code units, cut in the middle with … when too long.

    The short spans at the end (the source line, "Answer 1 of 3") are kept whole,
    up to a quarter of the limit, so that a cut passage still names its source.
    """
    if sum(sizeof(span.text) for span in spans) <= limit:
        return spans
    tail: list[Span] = []
    tail_size = 0
    for span in reversed(spans):
        size = sizeof(span.text)
        if tail_size + size > limit // 4:
            break
        tail.insert(0, span)
        tail_size += size
    budget = limit - tail_size - sizeof(ELLIPSIS)
    head: list[Span] = []
    total = 0
    ellipsis = ELLIPSIS
    for span in spans[: len(spans) - len(tail)]:
        size = sizeof(span.text)
        if total + size > budget:
            # Keep the line breaks that ended the cut text, so the tail stays on its own line.
            breaks = span.text[len(span.text.rstrip()) :]
            cut = _cut(span.text, budget - total - sizeof(breaks)).rstrip()
            if cut:
                head.append(Span(cut, span.style))
            ellipsis += breaks
            break
        head.append(span)
        total += size
    return (*head, Span(ellipsis), *tail)


def html(reply: Reply, limit: int = MAX_MESSAGE) -> str:
    """Render the text of a reply as Telegram HTML, every span escaped, within the limit."""
    nodes: list[str | Text] = []
    for span in fit(reply.spans, limit):
        if span.style == "bold":
            nodes.append(Bold(span.text))
        elif span.style == "italic":
            nodes.append(Italic(span.text))
        else:
            nodes.append(span.text)
    text = Text(*nodes).as_html()
    # Telegram refuses an empty message.
    return text if text.strip() else ELLIPSIS


def label(text: str) -> str:
    """Return a button label of at most MAX_LABEL characters."""
    text = " ".join(text.split()) or ELLIPSIS
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + ELLIPSIS


def keyboard(reply: Reply, sign: Signer | None = None) -> InlineKeyboardMarkup | None:
    """Return the inline keyboard of a reply, or None when it has no buttons."""
    rows = [
        [InlineKeyboardButton(text=label(button.label), callback_data=pack(button, sign)) for button in row]
        for row in reply.buttons
        if row
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
