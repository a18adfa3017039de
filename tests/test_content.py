"""Content loading: the real interview, and each kind of broken file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from index.content.loader import ContentError, Corpus, load_corpus
from index.scale.lazy_corpus import load_corpus_cached

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"
SEED = ROOT / "tests" / "data" / "seed" / "000_10b6e096966553a5.txt"
"""A copy of the interview as published (shared/seeds/), kept in the repository."""

GOOD_HEADER = (
    "---\nid: faq\ntitle: Consular FAQ\nspeaker: Consular section\ndate: 2024-06-01\nlanguage: en\n---\n"
)


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_interview_has_seven_sections_and_metadata() -> None:
    corpus = load_corpus(CONTENT)
    document = next(d for d in corpus.documents if d.id == "pavlenko-2024-05-18")
    assert document.speaker == "Serhii PAVLENKO"
    assert document.date == "2024-05-18"
    assert document.role.startswith("Chargé d'Affaires a.i. of Ukraine")
    sections = [s for s in corpus.sections if s.document is document]
    assert len(sections) == 7
    assert sum(len(s.passages) for s in sections) == 46
    assert len(corpus.passages) == sum(len(s.passages) for s in corpus.sections)


def interview(folder: Path) -> Corpus:
    """Load the interview and its translation alone, whatever else content/ holds."""
    folder.mkdir(exist_ok=True)
    for path in CONTENT.glob("pavlenko-2024-05-18*.md"):
        shutil.copy(path, folder / path.name)
    return load_corpus(folder)


def test_interview_is_the_seed_verbatim_with_only_the_listed_repairs(tmp_path: Path) -> None:
    seed = SEED.read_text(encoding="utf-8")
    corpus = interview(tmp_path / "interview")
    questions = [m.group(1) for m in re.finditer(r"^— \*(.+)\*$", seed, re.M)]
    assert [s.title for s in corpus.sections] == questions
    repaired = seed.replace("\\$", "$")
    repaired = repaired.replace("we are counting on\n\nefficient", "we are counting on efficient")
    repaired = repaired.replace("dedicated to the\n\n\n\n210th", "dedicated to the 210th")
    seed_paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", repaired) if p.strip()]
    body = seed_paragraphs[seed_paragraphs.index(f"— *{questions[0]}*") :]
    body = [p for p in body if not p.startswith("— *") and p != "Interview dated 18 May 2024"]
    assert [p.text for p in corpus.passages] == body
    assert "$2.5 million" in " ".join(body)


def test_passage_ids_are_stable_and_follow_the_text(tmp_path: Path) -> None:
    first = [p.id for p in load_corpus(CONTENT).passages]
    assert first == [p.id for p in load_corpus(CONTENT).passages]
    assert len(set(first)) == len(first)
    assert all(len(i.encode()) <= 16 for i in first)

    write(tmp_path, "a.md", GOOD_HEADER + "\n## Q one?\n\nAlpha.\n\nBeta.\n")
    before = {p.text: p.id for p in load_corpus(tmp_path).passages}
    write(tmp_path, "a.md", GOOD_HEADER + "\n## Q one?\n\nNew first.\n\nAlpha.\n\nBeta changed.\n")
    after = {p.text: p.id for p in load_corpus(tmp_path).passages}
    assert after["Alpha."] == before["Alpha."]  # an insertion does not move other ids
    assert "Beta changed." in after
    assert after["Beta changed."] != before["Beta."]


def test_a_second_document_is_picked_up_without_code(tmp_path: Path) -> None:
    shutil.copy(CONTENT / "pavlenko-2024-05-18.md", tmp_path)
    write(
        tmp_path, "faq.md", GOOD_HEADER + "\n## How do I renew a passport?\n\nBook a visit.\nBring photos.\n"
    )
    corpus = load_corpus(tmp_path)
    assert len(corpus.documents) == 2
    faq = [p for p in corpus.passages if p.document.id == "faq"]
    assert [(p.section, p.text) for p in faq] == [
        ("How do I renew a passport?", "Book a visit. Bring photos.")
    ]


BROKEN = [
    ("empty.md", "", 1, "empty file"),
    ("blank.md", "\n  \n", 1, "empty file"),
    ("nometa.md", "## Q?\n\nText.\n", 1, "no metadata header"),
    ("unclosed.md", "---\nid: x\ntitle: T\n", 3, "not closed"),
    ("missing.md", "---\nid: x\ntitle: T\n---\n## Q?\n\nText.\n", 1, "'speaker' is missing"),
    ("unknown.md", GOOD_HEADER.replace("language: en", "language: en\nauthor: X"), 7, "unknown metadata key"),
    ("baddate.md", GOOD_HEADER.replace("2024-06-01", "1 June 2024") + "## Q?\n\nT.\n", 5, "YYYY-MM-DD"),
    ("outside.md", GOOD_HEADER + "\nStray paragraph.\n\n## Q?\n\nText.\n", 9, "outside any section"),
    ("nosection.md", GOOD_HEADER + "\n", 8, "no sections"),
    ("emptysec.md", GOOD_HEADER + "\n## Q?\n\n## R?\n\nText.\n", 9, "no passages"),
    ("dup.md", GOOD_HEADER + "\n## Q?\n\nSame.\n\nSame.\n", 13, "duplicate passage id"),
    ("h1.md", GOOD_HEADER + "\n# Title\n", 9, "'## ' headings"),
    ("notitle.md", GOOD_HEADER + "\n## Q?\n\nText.\n\n## \n\nMore.\n", 13, "empty section title"),
]


@pytest.mark.parametrize(("name", "text", "line", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_is_refused_naming_file_and_line(
    tmp_path: Path, name: str, text: str, line: int, message: str
) -> None:
    write(tmp_path, "good.md", GOOD_HEADER.replace("id: faq", "id: good") + "\n## Q?\n\nFine.\n")
    write(tmp_path, name, text)
    with pytest.raises(ContentError) as caught:
        load_corpus(tmp_path)
    error = caught.value
    assert error.path.endswith(name)
    assert error.line == line
    assert message in str(error)
    assert str(error).startswith(f"{tmp_path / name}:{line}: ")


def test_bad_encoding_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "latin1.md", (GOOD_HEADER + "\n## Q?\n\nCaf").encode() + b"\xe9 au lait.\n")
    with pytest.raises(ContentError, match=r"latin1\.md:11: not valid UTF-8"):
        load_corpus(tmp_path)


def test_duplicate_document_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.md", GOOD_HEADER + "\n## Q?\n\nOne.\n")
    write(tmp_path, "b.md", GOOD_HEADER + "\n## Q?\n\nTwo.\n")
    with pytest.raises(ContentError, match=r"b\.md:2: duplicate document id 'faq' \(also in .*a\.md:2\)"):
        load_corpus(tmp_path)


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r"no \*\.md content files"):
        load_corpus(tmp_path)
    with pytest.raises(ContentError, match="content folder not found"):
        load_corpus(tmp_path / "nope")


@pytest.mark.parametrize("target", ["loop.md", "/nonexistent/file.md"])
def test_a_link_to_nothing_is_named_not_skipped(tmp_path: Path, target: str) -> None:
    # Skipping it would load the rest silently: half the content, and nobody told.
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    (folder / "loop.md").symlink_to(target)
    (folder / "notes.md").mkdir()  # a folder named *.md is not content: passed over
    (folder / ".#pavlenko-2024-05-18.md").symlink_to("root@host.1234:1700000000")  # Emacs's lock: too
    for loader in (load_corpus, lambda d: load_corpus_cached(d, tmp_path / "cache")):
        with pytest.raises(ContentError, match=r"loop\.md:0: a symbolic link to nothing"):
            loader(folder)


def test_hidden_files_are_not_content(tmp_path: Path) -> None:
    # An editor's lock (a link to nothing while the file is open) or a copy macOS leaves beside it.
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    (folder / ".#pavlenko-2024-05-18.md").symlink_to("root@host.1234:1700000000")
    (folder / "._pavlenko-2024-05-18.md").write_bytes(b"\x00\x05\x16\x07 not text")
    for loader in (load_corpus, lambda d: load_corpus_cached(d, tmp_path / "cache")):
        assert len(loader(folder).passages) == len(load_corpus(ROOT / "content").passages)


def test_a_folder_path_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "file.md").write_text("x", encoding="utf-8")
    with pytest.raises(ContentError, match=r"content folder not found \(this is a file\)"):
        load_corpus(tmp_path / "file.md")


TRANSLATION_HEADER = (
    "---\nid: faq-uk\ntranslation_of: faq\ntitle: Консульські питання\nspeaker: Консульський відділ\n"
    "date: 2024-06-01\nlanguage: uk\nkind: translation\nnote: Неофіційний переклад.\n---\n"
)
FAQ_BODY = "\n## Fees\n\nThe fee is paid in tenge.\n\nCards are accepted.\n\n## Hours\n\nOpen on weekdays.\n"


def test_the_ukrainian_translation_is_aligned_paragraph_for_paragraph(tmp_path: Path) -> None:
    corpus = interview(tmp_path / "interview")
    assert len(corpus.documents) == 1  # a translation is not another document to answer from
    for passage in corpus.passages:
        (translation,) = corpus.translations_of(passage)
        assert translation.id == f"{passage.id}-uk"
        assert (
            translation.document.language == "uk"
            and translation.document.translation_of == passage.document.id
        )
        assert (translation.section_no, translation.position) == (passage.section_no, passage.position)
        # Names and figures are kept exactly.
        for number in re.findall(r"\d{2,}", passage.text):
            assert number in translation.text, (number, translation.line)
    yurts = [t for p in corpus.passages for t in corpus.translations_of(p) if "Юрти Незламності" in t.text]
    assert len(yurts) == 1


def test_a_good_translation_is_attached_to_its_original(tmp_path: Path) -> None:
    write(tmp_path, "faq.md", GOOD_HEADER + FAQ_BODY)
    write(tmp_path, "faq.uk.md", TRANSLATION_HEADER + FAQ_BODY.replace("The fee", "Збір"))
    corpus = load_corpus(tmp_path)
    assert corpus.passages[0].text == "The fee is paid in tenge."
    assert corpus.translations_of(corpus.passages[0])[0].text == "Збір is paid in tenge."


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        # One paragraph missing in section 1: refused at the last paragraph both have.
        ("\n## Fees\n\nЗбір сплачується в тенге.\n\n## Hours\n\nПн-Пт.\n", 14, "section 1 has 1 paragraphs"),
        # A section missing.
        ("\n## Fees\n\nЗбір.\n\nКартки.\n", 16, "1 sections here but 2 in the original"),
        # An extra section.
        (FAQ_BODY + "\n## Extra\n\nЗайве.\n", 24, "3 sections here but 2"),
    ],
)
def test_a_misaligned_translation_is_refused_at_the_first_place_it_parts(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    write(tmp_path, "faq.md", GOOD_HEADER + FAQ_BODY)
    path = write(tmp_path, "faq.uk.md", TRANSLATION_HEADER + body)
    with pytest.raises(ContentError, match=re.escape(message)) as error:
        load_corpus(tmp_path)
    assert error.value.path == str(path) and error.value.line == line


def test_a_translation_of_an_unknown_document_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "faq.md", GOOD_HEADER + FAQ_BODY)
    path = write(
        tmp_path,
        "x.uk.md",
        TRANSLATION_HEADER.replace("translation_of: faq", "translation_of: nope") + FAQ_BODY,
    )
    with pytest.raises(ContentError, match="no original document has that id") as error:
        load_corpus(tmp_path)
    assert (error.value.path, error.value.line) == (str(path), 3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda h: h.replace("language: uk", "language: uk_UA"),
            "language must be a 2- or 3-letter lowercase code",
        ),
        (
            lambda h: h.replace("language: uk", "language: en"),
            "a translation into en, the original's language",
        ),
    ],
)
def test_a_translation_in_a_bad_language_is_refused(tmp_path: Path, change: object, message: str) -> None:
    write(tmp_path, "faq.md", GOOD_HEADER + FAQ_BODY)
    write(tmp_path, "faq.uk.md", change(TRANSLATION_HEADER) + FAQ_BODY)  # type: ignore[operator]
    with pytest.raises(ContentError, match=re.escape(message)):
        load_corpus(tmp_path)


def test_a_second_translation_into_the_same_language_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "faq.md", GOOD_HEADER + FAQ_BODY)
    write(tmp_path, "faq.uk.md", TRANSLATION_HEADER + FAQ_BODY)
    path = write(tmp_path, "faq2.uk.md", TRANSLATION_HEADER.replace("id: faq-uk", "id: faq-uk2") + FAQ_BODY)
    with pytest.raises(ContentError, match="a second uk translation of faq") as error:
        load_corpus(tmp_path)
    assert error.value.path == str(path)


def test_invisible_characters_in_content_do_not_split_words(tmp_path: Path) -> None:
    body = "\n## Fe\u200bes\n\nThe consular fee is paid in ten\u200bge\u2060.\n"
    write(tmp_path, "faq.md", GOOD_HEADER + body)
    corpus = load_corpus(tmp_path)
    assert corpus.passages[0].text == "The consular fee is paid in tenge."
    assert corpus.sections[0].title == "Fees"
