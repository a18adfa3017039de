"""Telling English, Ukrainian and Russian apart, also typed in Latin letters."""

from __future__ import annotations

import pytest

from index.analysis.language import to_cyrillic, to_latin
from index.pipeline import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("How are you?", "en"),
        ("ambulances ukraine", "en"),
        ("kazakhstan un votes ukraine", "en"),
        ("Як оформити паспорт?", "uk"),
        ("Де посольство?", "uk"),
        ("дякую", "uk"),
        ("Как оформить паспорт?", "ru"),
        ("Где посольство?", "ru"),
        ("Какую помощь оказал Казахстан?", "ru"),
        ("Як справи?", "uk"),
        ("gde naiti ukrainskuyu shkolu", "ru"),
        ("skolko ukraintsev v kazahstane", "ru"),
        ("skilky ukraintsiv u kazakhstani", "uk"),
        ("de znayty nedilnu shkolu", "uk"),
        ("Culture vs War проект что это", "ru"),
        ("Yurts of Invincibility коли їх зробили", "uk"),
        ("Сәлеметсіз бе, елшілік қайда?", ""),  # Kazakh
        ("бувай", "uk"),
        ("🙂", ""),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_latin_typed_russian_and_ukrainian_read_in_cyrillic() -> None:
    assert to_cyrillic("gde naiti ukrainskuyu shkolu", "ru") == "где наити украинскую школу"
    assert to_cyrillic("skolko ukraintsev zhivet", "ru") == "сколко украинцев живет"
    assert to_cyrillic("de znayty shcho", "uk") == "де знайти що"


def test_cyrillic_names_read_in_latin_letters() -> None:
    assert to_latin("Кусто Груп", "ru") == "kusto grup"
    assert to_latin("Назовні Чернігів", "uk") == "nazovni chernihiv"
