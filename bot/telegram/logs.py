"""Keep the token, the webhook secret and update payloads out of every log line, whoever writes it."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from bot.settings import Settings

REDACTED = "[redacted]"


class RedactSecrets(logging.Filter):
    """Replace secrets in a record's message and traceback before any handler writes it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record without secrets; never drop it."""
        message = record.getMessage()
        clean = self._clean(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


# Libraries whose log lines may carry an exception that quotes an update (names, text, ids).
_LIBRARIES = ("aiogram", "aiohttp", "asyncio")


class ScrubLibraryRecords(logging.Filter):
    """Reduce exceptions in aiogram's, aiohttp's and asyncio's records to their type.

    aiogram logs an update it cannot parse as "Failed to fetch updates - ValidationError: ...",
    the error quoting the update (first name, username, message text); asyncio logs a failed
    webhook task the same way. Their type is kept, their text and traceback are not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a library's record without exception details; never drop it."""
        if not record.name.startswith(_LIBRARIES):
            return True
        if isinstance(record.args, tuple) and any(isinstance(a, BaseException) for a in record.args):
            record.args = tuple(type(a).__name__ if isinstance(a, BaseException) else a for a in record.args)
        if isinstance(record.msg, BaseException):
            record.msg = type(record.msg).__name__
        if record.exc_info and record.exc_info[1] is not None:
            # asyncio's message goes on with the failed task's repr, which quotes the exception.
            lines = record.getMessage().splitlines()
            first = lines[0] if lines else ""
            record.msg = f"{first} [{type(record.exc_info[1]).__name__}, details not logged]"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def redact_secrets(settings: Settings) -> RedactSecrets:
    """Install the redacting filter on every handler of the root logger; return it."""
    named = (settings.bot_token, settings.webhook_secret, settings.vote_secret)
    secrets = [s.get_secret_value() for s in named if s]
    # The server URLs hold passwords: the whole URL, and the password alone, are scrubbed.
    for url in (settings.redis_url, settings.database_url):
        if url:
            secrets.append(url.get_secret_value())
            password = urlsplit(url.get_secret_value()).password
            if password and len(password) >= 6:  # a shorter one would blank ordinary words
                secrets.append(password)
    redactor = RedactSecrets(secrets)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=settings.log_level)
    scrubber = ScrubLibraryRecords()
    for handler in root.handlers:
        handler.addFilter(scrubber)
        handler.addFilter(redactor)
    return redactor
