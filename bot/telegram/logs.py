"""Keep the token and the webhook secret out of every log line, whoever writes it."""

from __future__ import annotations

import logging

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


def redact_secrets(settings: Settings) -> RedactSecrets:
    """Install the redacting filter on every handler of the root logger; return it."""
    secrets = [s.get_secret_value() for s in (settings.bot_token, settings.webhook_secret) if s is not None]
    redactor = RedactSecrets(secrets)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=settings.log_level)
    for handler in root.handlers:
        handler.addFilter(redactor)
    return redactor
