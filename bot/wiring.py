"""Build the answering service from the settings: the one place the CLI and the bot share."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.service import AnswerService
from bot.settings import Settings, SettingsError
from index.semantic.model import Embedder, EmbedderError, load_embedder

if TYPE_CHECKING:
    from index.semantic.vectors import Progress

logger = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> Embedder | None:
    """Load the embedding model, or return None with SEMANTIC=off; raise SettingsError if it cannot load."""
    if settings.semantic == "off":
        return None
    try:
        return load_embedder()
    except EmbedderError as exc:
        raise SettingsError(f"SEMANTIC=on: {exc}") from None


def build_service(settings: Settings, progress: Progress | None = None) -> AnswerService:
    """Build the answering service from the settings; `progress` hears how encoding passages goes."""
    service = AnswerService(
        settings.content_dir,
        embedder=build_embedder(settings),
        min_confidence=settings.answer_threshold,
        top_k=settings.top_k,
        cache_dir=settings.index_cache_dir,
        workers=settings.index_workers,
        progress=progress,
    )
    logger.info(
        "answering from %s: %d passages, %s ranking",
        settings.content_dir,
        len(service.corpus.passages),
        "semantic + BM25" if service.semantic else "BM25-only",
    )
    return service
