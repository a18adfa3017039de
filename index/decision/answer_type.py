"""What kind of fact a question asks for, and whether a sentence could supply it.

A passage on the right topic does not answer "how many ..." if its best sentence
has no number, nor "when ..." without a date, nor "who ..." without a name. The
decision model sees both flags: questions that ask for such a fact are the ones
most often on topic yet not answered by the texts.

Patterns cover English, Ukrainian and Russian, and the two typed in Latin letters.
"""

from __future__ import annotations

import re
from enum import Enum


class Wanted(Enum):
    """The kind of fact a question asks for."""

    QUANTITY = "quantity"
    TIME = "time"
    PERSON = "person"
    MONEY = "money"
    """A price, a cost, a sum spent: an amount with its currency."""
    CLOCK = "clock"
    """A time of day or opening hours."""
    CONTACT = "contact"
    """An e-mail address, a telephone number or a street address."""


_QUANTITY = re.compile(
    r"\b(how (many|much)|what (percentage|number|amount|share)|скільк\w*|сколько|skolk\w*|skilk\w*"
    r"|яка кількість|какое количество|какой процент|який відсоток)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(when|what (year|date|time|day|month)|how long|коли|когда|koly|kogda|якого числа|какого числа"
    r"|в якому році|в каком году|о котрій|во сколько|з якого року|с какого года)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"\b(how much (?:\w+ ){0,6}?(?:cost|costs|spend|spent|pay|paid|invest|invested|worth|charge|charged)"
    r"|what (?:is|was|are|were) the (?:cost|price|fee|fees|sum|budget)|how much money|how much is the fee"
    r"|скільки (?:\w+ ){0,4}?(?:кошту\w*|витрат\w*|заплат\w*|вклал\w*|інвест\w*)|яка (?:ціна|вартість|сума)"
    r"|сколько (?:\w+ ){0,4}?(?:стои\w*|стоил\w*|потрат\w*|заплат\w*|вложил\w*|инвест\w*)"
    r"|какая (?:цена|стоимость|сумма)|skolko (?:\w+ ){0,4}?stoi\w*|skilky (?:\w+ ){0,4}?koshtu\w*)",
    re.IGNORECASE,
)
_CLOCK = re.compile(
    r"\b(what time|at what time|opening hours|office hours|working hours|reception hours|what hours"
    r"|о котрій|о которой|во сколько|в котором часу|години роботи|години прийому|часы работы|часы приёма"
    r"|часы приема|графік роботи|график работы)\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"\b(e-?mail|phone number|telephone|what is the address|what's the address|street address"
    r"|електронн\w* пошт\w*|номер телефону|яка адреса|электронн\w* почт\w*|номер телефона|какой адрес"
    r"|имейл|емейл|імейл)\b",
    re.IGNORECASE,
)
_PERSON = re.compile(r"\b(who|whose|хто|кто|чиї|чий|чия|чья|чьи|чей|kto|khto|chyi|chei)\b", re.IGNORECASE)

# The texts are in English and Ukrainian: numbers and dates as they are written there.
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty"
    r"|hundreds?|thousands?|millions?|billions?|dozens?|several|half|double"
    r"|один|одна|два|дві|три|чотири|п.ять|шість|десят\w*|сот\w*|тисяч\w*|мільйон\w*|мільярд\w*"
    r"|кілька|декілька|половин\w*"
)
_TIME_WORDS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december"
    r"|today|yesterday|years?|weeks?|months?|since|ago|beginning|recently|now"
    r"|січ\w*|лют\w*|берез\w*|квіт\w*|трав\w*|черв\w*|лип\w*|серп\w*|верес\w*|жовт\w*|листопад\w*"
    r"|груд\w*|рок\w*|рік|тиж\w*|місяц\w*|відтоді|нині|зараз"
)
_NUMBER = re.compile(rf"(?:19|20)\d\d[–-]\d\d+|\d+(?:[.,]\d+)*|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_TIME_WORD = re.compile(rf"\d+|\b(?:{_TIME_WORDS})\b", re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d\d(?:[–-]\d\d+)?")  # a year, or a span of years (2022–23)
# A capitalised word that does not start a sentence: a name of a person, company or place.
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZА-ЯІЇЄҐ][\w'’-]+")
_WORD = re.compile(r"\w+")
_CURRENCY = re.compile(
    r"[$€₸£₴]|\b(?:dollars?|usd|euros?|eur|tenge|kzt|hryvni?as?|uah|roubles?|rubles?|доларів|долар\w*"
    r"|доллар\w*|євро|евро|тенге|гривн\w*|гривен\w*|рубл\w*)\b",
    re.IGNORECASE,
)
_HOUR = re.compile(r"\b\d{1,2}[:.]\d\d\b|\b\d{1,2}\s?(?:a\.?m\.?|p\.?m\.?|o'clock)|\bnoon\b", re.IGNORECASE)
_REACH = re.compile(
    r"@|\+?\d[\d\s()-]{6,}\d|\b(?:street|st\.|avenue|ave\.|prospekt|вул\.|вулиц\w*|ул\.|улиц\w*"
    r"|проспект\w*)\s*\S*\s*\d|\b\d+[a-zа-я]?,?\s+[\w'’-]+\s+(?:street|st\b|avenue|ave\b|road|rd\b)",
    re.IGNORECASE,
)


def wanted(question: str) -> Wanted | None:
    """Return the kind of fact the question asks for, or None for any other question."""
    for kind, pattern in ((Wanted.CONTACT, _CONTACT), (Wanted.MONEY, _MONEY), (Wanted.CLOCK, _CLOCK)):
        if pattern.search(question):
            return kind
    if _QUANTITY.search(question):
        return Wanted.QUANTITY
    if _TIME.search(question):
        return Wanted.TIME
    if _PERSON.search(question):
        return Wanted.PERSON
    return None


def supplies(kind: Wanted | None, sentence: str, question: str) -> bool:
    """Return whether the sentence holds a fact of the kind asked for (True when nothing is asked)."""
    if kind is Wanted.MONEY:
        return bool(_CURRENCY.search(sentence)) and supplies(Wanted.QUANTITY, sentence, question)
    if kind is Wanted.CLOCK:
        return bool(_HOUR.search(sentence))
    if kind is Wanted.CONTACT:
        return bool(_REACH.search(sentence))
    if kind is Wanted.QUANTITY:
        # A number the question does not already give; a year is a date, not a quantity.
        given = {n.casefold() for n in _NUMBER.findall(question)}
        return any(n.casefold() not in given and not _YEAR.fullmatch(n) for n in _NUMBER.findall(sentence))
    if kind is Wanted.TIME:
        given = {n.casefold() for n in _TIME_WORD.findall(question)}
        return any(n.casefold() not in given for n in _TIME_WORD.findall(sentence))
    if kind is Wanted.PERSON:
        # A name the question does not already give (compared by its first five letters).
        asked = {word.casefold()[:5] for word in _WORD.findall(question)}
        return any(name.casefold()[:5] not in asked for name in _NAME.findall(sentence))
    return True
