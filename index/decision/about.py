"""Questions about the texts themselves: which documents a question names.

"Who gave this interview?", "when was the article published?": the answer is a
document's header (speaker, role, date, publication, title), not a passage. A
question names a document by its kind ("interview", "інтерв'ю", "статья"), by words
of its title, speaker or publication, or by nothing, when only one document is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from index.analysis.language import to_latin
from index.analysis.text import Analyzer, SlavicAnalyzer
from index.content.records import Document

__all__ = ["named_documents"]

# The content format's kinds, as readers name them in English, Ukrainian and Russian (also
# typed in Latin letters); compared after the analyzers' folding and stemming.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "interview": ("interview", "інтерв'ю", "интервью", "intervyu", "interviu", "бесіда", "беседа"),
    "faq": ("faq", "questions", "answers", "питання", "відповіді", "вопросы", "ответы"),
    "article": ("article", "стаття", "статті", "статья", "статьи", "statya", "stattia"),
    "news": ("news", "digest", "новини", "новости", "дайджест", "novosti", "novyny"),
}


def _terms(analyzers: Sequence[Analyzer], text: str) -> set[str]:
    out: set[str] = set()
    for analyzer in analyzers:
        out.update(token.term for token in analyzer.tokens(text))
        out.update(token.term for token in analyzer.tokens(to_latin(text, "uk")))
    return out


def named_documents(
    question: str,
    documents: Sequence[Document],
    english: Analyzer,
    translations: Sequence[Document] = (),
) -> tuple[Document, ...]:
    """Return the documents a question about the texts names: the best-named one, or all if none stands out.

    `translations` lend their titles and speakers in other languages to their originals.
    """
    if len(documents) <= 1:
        return tuple(documents)
    analyzers: tuple[Analyzer, ...] = (english, SlavicAnalyzer())
    asked = _terms(analyzers, question)
    kinds = {kind: _terms(analyzers, " ".join(words)) for kind, words in KIND_WORDS.items()}
    scores = []
    for document in documents:
        names = " ".join(
            f"{d.title} {d.speaker} {d.published}"
            for d in (document, *(t for t in translations if t.translation_of == document.id))
        )
        score = len(asked & _terms(analyzers, names))
        score += 2 * bool(asked & kinds.get(document.kind, set()))
        scores.append(score)
    best = max(scores)
    chosen = [d for d, s in zip(documents, scores, strict=True) if s == best]
    return tuple(chosen) if best > 0 and len(chosen) < len(documents) else tuple(documents)
