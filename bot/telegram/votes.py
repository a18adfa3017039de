"""One person, one vote: vote buttons signed for their chat, one vote per answer message.

A vote button carries a short HMAC over the passage and the chat it was sent to (the
message id is not known when the buttons are made). A press whose MAC does not match
(forged, or copied from another chat) has expired. Which messages were voted on is
remembered in memory only, as keyed hashes in a bounded store, so that a second press
on the same message replaces the first vote; a restart forgets them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections import OrderedDict
from pathlib import Path

logger = logging.getLogger(__name__)

SECRET_FILE = "vote-secret"
MAC_CHARS = 10


class Votes:
    """Sign and check vote buttons; remember the vote of each answer message."""

    def __init__(self, secret: bytes, remember: int = 20_000) -> None:
        self._secret = secret
        self._remember = remember
        self._voted: OrderedDict[bytes, int] = OrderedDict()

    def mac(self, chat_id: int, passage_id: str) -> str:
        """Return the MAC a vote button for this passage in this chat carries."""
        digest = hmac.new(self._secret, f"vote:{chat_id}:{passage_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]

    def check(self, chat_id: int, passage_id: str, mac: str) -> bool:
        """Return whether a pressed button's MAC is the one made for this chat and passage."""
        return hmac.compare_digest(self.mac(chat_id, passage_id), mac)

    def _key(self, chat_id: int, message_id: int) -> bytes:
        # Keyed, so that the store holds nothing a chat id could be read back from.
        return hmac.new(self._secret, f"message:{chat_id}:{message_id}".encode(), hashlib.sha256).digest()

    def previous(self, chat_id: int, message_id: int) -> int | None:
        """Return the stored vote row of an answer message already voted on, if remembered."""
        return self._voted.get(self._key(chat_id, message_id))

    def remember(self, chat_id: int, message_id: int, row: int) -> None:
        """Remember the vote row of an answer message, forgetting the oldest past the bound."""
        key = self._key(chat_id, message_id)
        self._voted[key] = row
        self._voted.move_to_end(key)
        while len(self._voted) > self._remember:
            self._voted.popitem(last=False)


def vote_secret(configured: str | None, data_dir: Path) -> bytes:
    """Return VOTE_SECRET, else the secret kept in DATA_DIR (made on first start), else a fresh one."""
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    try:
        if path.is_file():
            stored = path.read_bytes().strip()
            if len(stored) >= 32:
                return stored
        data_dir.mkdir(parents=True, exist_ok=True)
        fresh = secrets.token_urlsafe(32).encode()
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(fresh)
        return fresh
    except OSError as exc:
        logger.warning(
            "cannot keep the vote secret in DATA_DIR (%s): vote buttons expire on restart", exc.strerror
        )
        return secrets.token_urlsafe(32).encode()
