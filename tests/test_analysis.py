"""The analyzer shared by passages and questions."""

from __future__ import annotations

import pytest

from index.analysis.text import Analyzer, SlavicAnalyzer, normalize, refers_back


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def test_quotes_dashes_and_case_are_folded(analyzer: Analyzer) -> None:
    assert (
        analyzer.terms("Kazakhstan’s EXPORT")
        == analyzer.terms("kazakhstan's export")
        == ["kazakhstan", "export"]
    )
    assert analyzer.terms("2022–23") == ["2022", "23"]


def test_hyphenated_words_are_found_joined_and_apart(analyzer: Analyzer) -> None:
    terms = analyzer.terms("dual-use goods")
    assert {"dual", "use", "dualus"} <= set(terms)
    assert set(analyzer.terms("dual use")) <= set(terms)
    assert set(analyzer.terms("Ust‑Kamenogorsk")) == {"ust", "kamenogorsk", "ustkamenogorsk"}
    assert "ustkamenogorsk" in analyzer.terms("Ustkamenogorsk")


def test_numbers_are_kept(analyzer: Analyzer) -> None:
    assert analyzer.terms("$2.5 million, 530 tonnes, No. 47") == ["2.5", "million", "530", "tonn", "47"]


def test_stop_words_and_question_words_are_dropped(analyzer: Analyzer) -> None:
    assert analyzer.terms("What can you tell me about how it did?") == []
    assert analyzer.terms("Where is the Embassy?") == ["embassi"]


def test_stemming_joins_word_forms(analyzer: Analyzer) -> None:
    assert analyzer.terms("generators") == analyzer.terms("generator")
    assert analyzer.terms("recognising") == analyzer.terms("recognise")


def test_offsets_point_into_the_original_text(analyzer: Analyzer) -> None:
    text = "The “Yurts of Invincibility” — İstanbul ﬁne."
    for token in analyzer.tokens(text):
        assert normalize(text[token.start : token.end]) == token.word or "-" in text[token.start : token.end]


def test_other_scripts_and_emoji_do_not_break(analyzer: Analyzer) -> None:
    assert analyzer.terms("🙂🙂 ???") == []
    assert analyzer.terms("Як справи?") == ["як", "справи"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On the way to implementing these plans, we have sent a memorandum.", True),
        ("Such critical and timely assistance was underlined.", True),
        ("Therefore, citizens helped.", True),
        ("The Embassy supports Sunday schools.", False),
        ("This year, we celebrated Vyshyvanka Day.", False),
    ],
)
def test_refers_back(text: str, expected: bool) -> None:
    assert refers_back(text) is expected


def test_the_slavic_analyzer_maps_ukrainian_and_russian_forms_of_a_root_together() -> None:
    slavic = SlavicAnalyzer()
    uk = slavic.terms("Гуманітарна допомога українцям у Казахстані")
    ru = slavic.terms("гуманитарную помощь украинцам в Казахстане")
    assert uk[0] == ru[0] == "гуман"
    assert {"украи", "казах"} <= set(uk) & set(ru)
    assert slavic.terms("що це та як") == []  # function words and short words
    assert slavic.terms("пам'ятник")[0] == "памят"
