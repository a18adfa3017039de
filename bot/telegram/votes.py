"""One person, one vote per passage: vote buttons signed for their chat, votes stored per voter.

A vote button carries a short HMAC over the passage and the chat it was sent to (the
message id is not known when the buttons are made). A press whose MAC does not match
(forged, or copied from another chat) has expired. The statistics store each vote under
a keyed hash of the person and the passage (`voter`), so that a second vote of the same
person on the same passage, from any message, instance or restart, replaces the first;
the hash names no one and differs from passage to passage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

logger = logging.getLogger(__name__)

SECRET_FILE = "vote-secret"
MAC_CHARS = 10


class Votes:
    """Sign and check vote buttons; name voters by keyed hashes."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def mac(self, chat_id: int, passage_id: str) -> str:
        """Return the MAC a vote button for this passage in this chat carries."""
        digest = hmac.new(self._secret, f"vote:{chat_id}:{passage_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]

    def check(self, chat_id: int, passage_id: str, mac: str) -> bool:
        """Return whether a pressed button's MAC is the one made for this chat and passage."""
        return hmac.compare_digest(self.mac(chat_id, passage_id), mac)

    def voter(self, user_id: int, passage_id: str) -> str:
        """Return the key a person's vote on a passage is stored under: nothing can be read back from it."""
        message = f"voter:{user_id}:{passage_id}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]


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
