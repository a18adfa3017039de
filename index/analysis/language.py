"""Tell English, Ukrainian and Russian apart, also when Russian or Ukrainian is typed in Latin letters."""

from __future__ import annotations

import re
import unicodedata

# Common words spelt differently in Russian and Ukrainian, for questions
# without the letters that tell the two apart.
_RU_WORDS = frozenset(
    "как какой какая какое какие какую каких что чем где кто когда сколько почему зачем можно нужно ли "
    "есть это или его она они мы вы ты для помощь посольство украинцев украинцы".split()
)
_UK_WORDS = frozenset(
    "як який яка яке які яку що де хто коли скільки чому навіщо можна треба чи є це або його вона "
    "вони ми ви ти для допомога посольство українців українці дякую добрий побачення привіт бувай".split()
)

# Frequent Russian and Ukrainian words as people type them in Latin letters
# ("gde naiti ukrainskuyu shkolu"), none of them an English word, and word
# endings that English hardly has.
_TRANSLIT_SHARED = frozenset("v na ne za po s k u iz ot pro dlya dlia tam tut nam vam".split())
_TRANSLIT_RU = frozenset(
    """
    kak kakoy kakaya kakie kakim chto shto gde kto kogda skolko pochemu zachem mozhno nuzhno li est eto
    ili ego ona oni vy ty vo so bez privet spasibo pozhaluysta pozhalujsta zdravstvuyte zdravstvujte
    poka horosho khorosho ukrainy ukraintsev ukraincev ukraintsy ukraincy posolstvo posolstva kazahstan
    kazakhstane kazahstane pomosch pomoshch pomosh pomogaet pomogla gumanitarnaya shkola shkoly shkolu
    biznes zhivet zhivut voyna voina voyny rossiya rossii naiti nayti mne menya nas vas ochen
    """.split()
)
_TRANSLIT_UK = frozenset(
    """
    yak yakyi yaka yaki shcho scho de khto hto koly skilky chomu navishcho mozhna treba chy ye tse abo
    yoho vona vony pryvit diakuyu dyakuyu dyakuiu diakuiu budlaska laska ukrayina ukrainy ukrayiny
    ukraintsiv ukrayintsiv ukraintsi posolstvo kazakhstani kazahstani dopomoha dopomoga shkola shkoly
    nedilni nedilna zhyve zhyvut viyna viina rosiyi rosii znayty znaity meni
    """.split()
)
_TRANSLIT_ENDINGS = re.compile(
    r"(?:ogo|ego|oho|eho|ykh|ikh|yy|iy|ii|yi|aya|uyu|ami|tsya|sya|yte|tsiv|oyu|ska|sky|skoy)$|shch|zh|yy"
)
_LATIN_WORD = re.compile(r"[a-z']+")
_CYRILLIC_WORD = re.compile(r"[а-яёіїєґ]{2,}", re.IGNORECASE)


def script_of(text: str) -> str:
    """Return the dominant script of the letters: 'latin', 'cyrillic', 'other' or ''."""
    counts = {"latin": 0, "cyrillic": 0, "other": 0}
    for char in text:
        if not char.isalpha():
            continue
        name = unicodedata.name(char, "")
        if name.startswith("LATIN"):
            counts["latin"] += 1
        elif name.startswith("CYRILLIC"):
            counts["cyrillic"] += 1
        else:
            counts["other"] += 1
    if not any(counts.values()):
        return ""
    return max(counts, key=lambda k: counts[k])


_KAZAKH_LETTERS = "әғқңөұүһ"


def question_script(text: str) -> str:
    """Return the script a question is written in: Cyrillic as soon as it has a Cyrillic word.

    "Culture vs War проект что это": the question's own words are Cyrillic, the name Latin.
    """
    script = script_of(text)
    return "cyrillic" if script == "latin" and _CYRILLIC_WORD.search(text) else script


def guess_language(text: str, english_words: frozenset[str] = frozenset()) -> str:
    """Guess 'en', 'uk', 'ru' or '' (unknown) from the letters and words of a question.

    `english_words` (e.g. the analyzer's stop words) count as evidence for English
    when the text is in Latin letters.
    """
    script = question_script(text)
    if script == "latin":
        return translit_language(text, english_words) or "en"
    if script == "cyrillic":
        lowered = text.casefold()
        if any(ch in lowered for ch in _KAZAKH_LETTERS):
            return ""  # Kazakh: neither Ukrainian nor Russian
        if any(ch in lowered for ch in "іїєґ"):
            return "uk"
        if any(ch in lowered for ch in "ыэъё"):
            return "ru"
        words = set(re.findall(r"\w+", lowered))
        return "uk" if len(words & _UK_WORDS) > len(words & _RU_WORDS) else "ru"
    return ""


def translit_language(text: str, english_words: frozenset[str] = frozenset()) -> str:
    """Return 'ru' or 'uk' if Latin-script text reads as transliterated Russian or Ukrainian, else ''."""
    words = _LATIN_WORD.findall(text.casefold())
    if not words:
        return ""
    ru = sum(w in _TRANSLIT_RU for w in words)
    uk = sum(w in _TRANSLIT_UK for w in words)
    shared = sum(w in _TRANSLIT_SHARED for w in words)
    english = sum(w in english_words for w in words if len(w) > 1)
    endings = sum(bool(_TRANSLIT_ENDINGS.search(w)) for w in words if len(w) > 3 and w not in english_words)
    slavic = max(ru, uk) + 0.5 * (shared + endings)
    if slavic <= english or slavic < 1:
        return ""
    return "uk" if uk > ru else "ru"


# Longest spellings first, so "shch" wins over "sh" and "ch".
_TO_CYRILLIC_COMMON = (
    ("shch", "щ"),
    ("sch", "щ"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("a", "а"),
    ("b", "б"),
    ("v", "в"),
    ("w", "в"),
    ("g", "г"),
    ("d", "д"),
    ("e", "е"),
    ("z", "з"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("f", "ф"),
    ("c", "ц"),
    ("q", "к"),
    ("x", "кс"),
    ("'", "ь"),
)
# Two-letter spellings first: "yu" must win over "y", "shch" over "sh".
_TO_CYRILLIC = {
    "ru": (
        ("yo", "ё"),
        ("ye", "е"),
        ("yu", "ю"),
        ("ya", "я"),
        ("iy", "ий"),
        ("yy", "ый"),
        ("y", "ы"),
        ("j", "й"),
        ("i", "и"),
        ("h", "х"),
        *_TO_CYRILLIC_COMMON,
    ),
    "uk": (
        ("yi", "ї"),
        ("ye", "є"),
        ("ie", "є"),
        ("iu", "ю"),
        ("ia", "я"),
        ("yu", "ю"),
        ("ya", "я"),
        ("iy", "ій"),
        ("yy", "ий"),
        ("y", "и"),
        ("j", "й"),
        ("i", "і"),
        ("h", "г"),
        *_TO_CYRILLIC_COMMON,
    ),
}


_LATIN_VOWELS = frozenset("aeiouy")
_LATIN_VOWELS_OR_EMPTY = frozenset(["", "a", "e", "i", "o", "u"])


def to_cyrillic(text: str, language: str) -> str:
    """Spell Latin-script Russian or Ukrainian in Cyrillic, roughly, for the embedding model."""
    table = _TO_CYRILLIC["uk" if language == "uk" else "ru"]
    out: list[str] = []
    lowered = text.casefold()
    i = 0
    while i < len(lowered):
        after_vowel = i > 0 and lowered[i - 1] in _LATIN_VOWELS
        if lowered[i] in "yj" and after_vowel and lowered[i + 1 : i + 2] not in _LATIN_VOWELS_OR_EMPTY:
            # "nayti", "ukrainskiy": y after a vowel and before a consonant or the end is й.
            out.append("й")
            i += 1
            continue
        for latin, cyrillic in table:
            if lowered.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            out.append(lowered[i])
            i += 1
    return "".join(out)


_TO_LATIN_COMMON = {
    "а": "a",
    "б": "b",
    "в": "v",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "є": "ye",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "і": "i",
    "ї": "yi",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "'": "",
    "’": "",
}
_TO_LATIN = {
    "uk": str.maketrans({**_TO_LATIN_COMMON, "г": "h", "и": "y"}),
    "ru": str.maketrans({**_TO_LATIN_COMMON, "г": "g", "и": "i"}),
}


def to_latin(text: str, language: str) -> str:
    """Spell Cyrillic Ukrainian or Russian in Latin letters, as names are spelt in English texts."""
    return text.casefold().translate(_TO_LATIN["uk" if language == "uk" else "ru"])
