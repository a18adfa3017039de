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
        "Ask a question in your own words, in English, Ukrainian or Russian. I reply with the passage "
        "that answers it and where it comes from."
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
        "/original, /translation: the passage on screen as published, or translated\n"
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
    "small_talk_greeting": (
        "Hello! I am a bot that answers questions from published texts of the Embassy of Ukraine in "
        "Kazakhstan, about {topics}. Ask in English, Ukrainian or Russian, or browse /topics."
    ),
    "small_talk_thanks": "You are welcome! Ask another question any time, or browse /topics.",
    "small_talk_goodbye": "Goodbye! Come back with any question about {topics}.",
    "small_talk_who": (
        "I am a bot, not a person: I answer questions from published texts of the Embassy of Ukraine in "
        "Kazakhstan, about {topics}, with the passage and its source. I do not store your name, your account "
        "or what you write. "
        "See /topics for what I know."
    ),
    "small_talk_ack": "Good. Ask another question whenever you like, or browse /topics.",
    "consular": (
        "This looks like a consular matter (passports, visas, certificates, registration, appointments). "
        "The texts I know do not cover it: please use the official consular channels of the Embassy."
    ),
    "consular_url": (
        "This looks like a consular matter (passports, visas, certificates, registration, appointments). "
        "The texts I know do not cover it: please see the official consular information at {url}"
    ),
    "empty": "Please send your question as text, e.g. “How many ethnic Ukrainians live in Kazakhstan?”",
    "too_long": "That message is too long for me. Please ask a short question (up to {limit} characters).",
    "no_more": "There are no more answers to this question. Try other words or see /topics.",
    "end_of_section": "That was the last passage of this section. See /topics for the others.",
    "no_question": "Ask a question first; /more then shows the next answer.",
    "expired": "This button has expired. Please ask again.",
    "send_text": "I can only read text. Please send your question as a text message.",
    "spelling": "Read as: {words}",
    "btn_more": "Another answer",
    "btn_next": "Next »",
    "btn_prev": "« Back",
    "btn_topics": "Topics",
    "btn_original": "Original (English)",
    "btn_translation": "Translation",
    "translation_note": "Unofficial translation of the published text.",
    "no_passage": "Ask a question or open a topic first; /original then shows the published text.",
    "thanks": "Thank you for the feedback!",
    "slow_down": "You are sending messages too fast. Please wait a few seconds and ask again.",
    "pick_topic": "Type a section number from 1 to {n}.",
    "topics_summary": "the texts {titles}",
    "topics_summary_one": "the text {titles}",
    "and": "and",
    "more_texts": "{n} more",
    # Telegram adapter
    "unknown_command": "I don't know this command. Send me a question, or see /help.",
    "ask_usage": "Write your question after the command, e.g. /ask What did Kusto Group deliver?",
    "help_telegram": (
        "In a group, write /ask and your question, mention me, or reply to my message. "
        "In any chat, type @{bot} and a question to share an answer."
    ),
    "error": "Sorry, something went wrong on my side. Please try again in a moment.",
    "inline_none": "Not in the texts I know: browse the topics",
    "stats_title": "Statistics (last {days} days)",
    "stats_questions": "Questions asked: {n}",
    "stats_answered": "Answered: {n} ({share}%)",
    "stats_unanswered": "Not answered (why; the nearest passage):",
    "stats_reason_low_confidence": "not sure enough",
    "stats_reason_no_match": "no passage shares a word",
    "stats_reason_consular": "consular (sent to the consular service)",
    "stats_reason_too_long": "too long to read",
    "stats_reason_about": "about the texts themselves (answered from their headers)",
    "stats_votes": "Feedback per passage (👍 / 👎):",
    "stats_none": "none yet",
    "stats_unavailable": "Statistics are unavailable right now (the database cannot be read); answers go on.",
    "reload_ok": "Content reloaded: {documents} documents, {sections} sections, {passages} passages.",
    "reload_failed": "Content NOT reloaded; still answering from the previous version.\nError: {error}",
    "reload_told": "Told {n} other instances to reload.",
    "reload_not_told": "Other instances could not be told (Redis does not answer): send /reload to each.",
    "cmd_start": "What I know and how to ask",
    "cmd_help": "How to use the bot",
    "cmd_topics": "Browse the sections",
    "cmd_about": "Where the texts come from",
    "cmd_ask": "Ask a question (also in groups)",
    "cmd_stats": "Staff: usage statistics",
    "cmd_reload": "Staff: re-read the texts",
}

UK: dict[str, str] = {
    "start": (
        "Вітаю! Я відповідаю на запитання за опублікованими текстами Посольства України в Казахстані. "
        "Зараз я знаю:"
    ),
    "how_to_ask": (
        "Поставте запитання своїми словами українською, російською чи англійською. Я відповім уривком "
        "тексту і вкажу джерело."
    ),
    "examples": "Спробуйте:",
    "help": (
        "Надішліть запитання повідомленням, і я відповім уривком тексту, його розділом і джерелом. "
        "Тексти опубліковано англійською; на запитання українською чи російською я відповідаю "
        "неофіційним українським перекладом, а оригінал показує кнопка.\n\n"
        "/topics: розділи\n/about: звідки тексти\n/help: ця довідка"
    ),
    "help_console": (
        "Введіть запитання і натисніть Enter.\n"
        "/topics: розділи (далі введіть номер)\n/more: наступна відповідь\n"
        "/original, /translation: уривок на екрані в оригіналі або в перекладі\n"
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
    "small_talk_greeting": (
        "Вітаю! Я бот, що відповідає на запитання за опублікованими текстами Посольства України в "
        "Казахстані: про {topics}. Пишіть українською, російською чи англійською або перегляньте /topics."
    ),
    "small_talk_thanks": "Будь ласка! Ставте нові запитання будь-коли або перегляньте /topics.",
    "small_talk_goodbye": "До побачення! Повертайтеся із запитаннями про {topics}.",
    "small_talk_who": (
        "Я бот, а не людина: відповідаю на запитання за опублікованими текстами Посольства України в "
        "Казахстані, про {topics}, уривком тексту і джерелом. Я не зберігаю ні вашого імені, ні акаунта, "
        "ні того, що ви пишете. "
        "Що я знаю: /topics."
    ),
    "small_talk_ack": "Добре. Ставте наступне запитання, коли забажаєте, або перегляньте /topics.",
    "consular": (
        "Схоже, це консульське питання (паспорти, візи, довідки, облік, запис на прийом). Тексти, які я "
        "знаю, цього не охоплюють: зверніться, будь ласка, до офіційних консульських каналів Посольства."
    ),
    "consular_url": (
        "Схоже, це консульське питання (паспорти, візи, довідки, облік, запис на прийом). Тексти, які я "
        "знаю, цього не охоплюють: офіційна консульська інформація тут: {url}"
    ),
    "empty": "Надішліть запитання текстом, наприклад “How many ethnic Ukrainians live in Kazakhstan?”",
    "too_long": "Повідомлення задовге. Поставте коротке запитання (до {limit} символів).",
    "no_more": "Інших відповідей на це запитання немає. Спробуйте інші слова або /topics.",
    "end_of_section": "Це останній уривок розділу. Інші розділи: /topics.",
    "no_question": "Спершу поставте запитання; /more покаже наступну відповідь.",
    "expired": "Ця кнопка застаріла. Поставте запитання ще раз.",
    "send_text": "Я розумію лише текст. Надішліть запитання текстовим повідомленням.",
    "spelling": "Прочитано як: {words}",
    "btn_more": "Інша відповідь",
    "btn_next": "Далі »",
    "btn_prev": "« Назад",
    "btn_topics": "Розділи",
    "btn_original": "Оригінал (англійською)",
    "btn_translation": "Українською",
    "translation_note": "Неофіційний переклад опублікованого тексту.",
    "no_passage": "Спершу поставте запитання або відкрийте розділ; /original покаже опублікований текст.",
    "thanks": "Дякуємо за відгук!",
    "slow_down": "Ви надсилаєте повідомлення надто часто. Зачекайте кілька секунд і спробуйте ще раз.",
    "pick_topic": "Введіть номер розділу від 1 до {n}.",
    "topics_summary": "тексти {titles}",
    "topics_summary_one": "текст {titles}",
    "and": "і",
    "more_texts": "ще {n}",
    # Telegram adapter
    "unknown_command": "Я не знаю такої команди. Надішліть запитання або перегляньте /help.",
    "ask_usage": "Напишіть запитання після команди, наприклад /ask Що таке платформа Nazovni?",
    "help_telegram": (
        "У групі напишіть /ask і запитання, згадайте мене або дайте відповідь на моє повідомлення. "
        "У будь-якому чаті наберіть @{bot} і запитання, щоб поділитися відповіддю."
    ),
    "error": "Вибачте, у мене щось пішло не так. Спробуйте ще раз за хвилину.",
    "inline_none": "Цього немає в текстах, які я знаю: перегляньте розділи",
    "stats_title": "Статистика (останні {days} дн.)",
    "stats_questions": "Поставлено запитань: {n}",
    "stats_answered": "З відповіддю: {n} ({share}%)",
    "stats_unanswered": "Без відповіді (чому; найближчий уривок):",
    "stats_reason_low_confidence": "недостатньо впевненості",
    "stats_reason_no_match": "жоден уривок не має спільних слів",
    "stats_reason_consular": "консульське (направлено до консульської служби)",
    "stats_reason_too_long": "задовге, щоб прочитати",
    "stats_reason_about": "про самі тексти (відповідь із їхніх заголовків)",
    "stats_votes": "Відгуки за уривками (👍 / 👎):",
    "stats_none": "поки немає",
    "stats_unavailable": "Статистика зараз недоступна (базу даних не прочитати); відповіді працюють.",
    "reload_ok": "Тексти перечитано: документів {documents}, розділів {sections}, уривків {passages}.",
    "reload_failed": "Тексти НЕ перечитано; відповіді далі з попередньої версії.\nПомилка: {error}",
    "reload_told": "Інших примірників бота, яким сказано перечитати: {n}.",
    "reload_not_told": "Іншим примірникам не сказано (Redis не відповідає): надішліть /reload кожному.",
    "cmd_start": "Що я знаю і як запитати",
    "cmd_help": "Як користуватися ботом",
    "cmd_topics": "Розділи текстів",
    "cmd_about": "Звідки тексти",
    "cmd_ask": "Поставити запитання (також у групах)",
    "cmd_stats": "Для працівників: статистика",
    "cmd_reload": "Для працівників: перечитати тексти",
}

_TEXTS: dict[Lang, dict[str, str]] = {"en": EN, "uk": UK}


def lang_of(language_code: str | None) -> Lang:
    """Return 'uk' for a Ukrainian or Russian Telegram language code and 'en' for anything else.

    Russian-speaking users in Kazakhstan read Ukrainian far more easily than English, and an
    Embassy of Ukraine speaks Ukrainian to its people: there is no Russian interface.
    """
    code = (language_code or "").lower()
    return "uk" if code.startswith(("uk", "ru")) else "en"


def t(lang: Lang, key: str, **values: object) -> str:
    """Return the interface text for a key in a language, with values filled in."""
    text = _TEXTS[lang][key]
    return text.format(**values) if values else text
