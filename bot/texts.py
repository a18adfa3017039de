"""Interface texts in English and Ukrainian."""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "uk"]

EN: dict[str, str] = {
    "start": (
        "Hello! I answer questions from published texts of the Embassy of Ukraine in Kazakhstan. "
        "Right now I know:"
    ),
    "how_to_ask": (
        "Ask a question in your own words, in English, for example about humanitarian aid, business, "
        "medicine, public diplomacy or the Ukrainian diaspora. I reply with the passage that answers it "
        "and where it comes from."
    ),
    "examples": "Try one of these:",
    "help": (
        "Send a question as a message and I reply with the passage of the text that answers it, "
        "its section and its source.\n\n"
        "/topics: browse the sections\n/about: where the texts come from\n/help: this message"
    ),
    "help_console": (
        "Type a question and press Enter.\n"
        "/topics: list the sections (then type a number to open one)\n"
        "/more: the next answer to your last question\n"
        "/about: where the texts come from\n/help: this message\n/quit: leave"
    ),
    "about": "Source of the answers:",
    "topics": "Sections of the texts. Pick one to read it:",
    "section": "Section",
    "source": "Source",
    "passage_of": "Passage {n} of {total}",
    "answer_of": "Answer {n} of {total}",
    "not_answered": (
        "Sorry, I could not find this in the texts I know. I can answer questions about {topics}. "
        "Try other words, or see /topics."
    ),
    "not_answered_lang": (
        "Sorry, I could not find an answer. The texts I know are in English, so questions in English "
        "work best. You can also browse /topics."
    ),
    "empty": "Please send your question as text, e.g. “How many ethnic Ukrainians live in Kazakhstan?”",
    "too_long": "That message is too long for me. Please ask a short question (up to {limit} characters).",
    "no_more": "There are no more answers to this question. Try other words or see /topics.",
    "no_question": "Ask a question first; /more then shows the next answer.",
    "expired": "This button has expired. Please ask again.",
    "send_text": "I can only read text. Please send your question as a text message.",
    "spelling": "Read as: {words}",
    "btn_more": "Another answer",
    "btn_next": "Next »",
    "btn_prev": "« Back",
    "btn_topics": "Topics",
    "thanks": "Thank you for the feedback!",
    "slow_down": "You are sending messages too fast. Please wait a few seconds and ask again.",
    "pick_topic": "Type a section number from 1 to {n}.",
    "topics_summary": "relations between Ukraine and Kazakhstan, humanitarian aid, business, "
    "medicine, public diplomacy and the Ukrainian diaspora",
}

UK: dict[str, str] = {
    "start": (
        "Вітаю! Я відповідаю на запитання за опублікованими текстами Посольства України в Казахстані. "
        "Зараз я знаю:"
    ),
    "how_to_ask": (
        "Поставте запитання своїми словами англійською, наприклад про гуманітарну допомогу, бізнес, "
        "медицину, публічну дипломатію чи українську діаспору. Я відповім уривком тексту і вкажу джерело."
    ),
    "examples": "Спробуйте:",
    "help": (
        "Надішліть запитання повідомленням, і я відповім уривком тексту, його розділом і джерелом. "
        "Тексти англійською, тож запитання англійською працюють найкраще.\n\n"
        "/topics: розділи\n/about: звідки тексти\n/help: ця довідка"
    ),
    "help_console": (
        "Введіть запитання і натисніть Enter.\n"
        "/topics: розділи (далі введіть номер)\n/more: наступна відповідь\n"
        "/about: звідки тексти\n/help: ця довідка\n/quit: вийти"
    ),
    "about": "Джерело відповідей:",
    "topics": "Розділи текстів. Оберіть, щоб прочитати:",
    "section": "Розділ",
    "source": "Джерело",
    "passage_of": "Уривок {n} з {total}",
    "answer_of": "Відповідь {n} з {total}",
    "not_answered": (
        "На жаль, я не знайшов цього в текстах, які знаю. Я можу відповісти про {topics}. "
        "Спробуйте інші слова або перегляньте /topics."
    ),
    "not_answered_lang": (
        "На жаль, я не знайшов відповіді. Тексти, які я знаю, англійською, тому найкраще ставити "
        "запитання англійською. Також можна переглянути розділи: /topics."
    ),
    "empty": "Надішліть запитання текстом, наприклад “How many ethnic Ukrainians live in Kazakhstan?”",
    "too_long": "Повідомлення задовге. Поставте коротке запитання (до {limit} символів).",
    "no_more": "Інших відповідей на це запитання немає. Спробуйте інші слова або /topics.",
    "no_question": "Спершу поставте запитання; /more покаже наступну відповідь.",
    "expired": "Ця кнопка застаріла. Поставте запитання ще раз.",
    "send_text": "Я розумію лише текст. Надішліть запитання текстовим повідомленням.",
    "spelling": "Прочитано як: {words}",
    "btn_more": "Інша відповідь",
    "btn_next": "Далі »",
    "btn_prev": "« Назад",
    "btn_topics": "Розділи",
    "thanks": "Дякуємо за відгук!",
    "slow_down": "Ви надсилаєте повідомлення надто часто. Зачекайте кілька секунд і спробуйте ще раз.",
    "pick_topic": "Введіть номер розділу від 1 до {n}.",
    "topics_summary": "відносини України та Казахстану, гуманітарну допомогу, бізнес, медицину, "
    "публічну дипломатію та українську діаспору",
}

_TEXTS: dict[Lang, dict[str, str]] = {"en": EN, "uk": UK}


def lang_of(language_code: str | None) -> Lang:
    """Return 'uk' for a Ukrainian Telegram language code and 'en' for anything else."""
    return "uk" if (language_code or "").lower().startswith("uk") else "en"


def t(lang: Lang, key: str, **values: object) -> str:
    """Return the interface text for a key in a language, with values filled in."""
    text = _TEXTS[lang][key]
    return text.format(**values) if values else text
