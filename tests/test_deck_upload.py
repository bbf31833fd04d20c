"""Deck files sent to the bot: every format becomes the same validated deck, bad ones a message."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.core.cards import Card
from bot.decks.loader import parse_deck
from bot.decks.upload import (
    MAX_ZIP_ENTRIES,
    ParsedUpload,
    UploadLimits,
    parse_upload,
)
from tests.anki_package import collection, package, zip_of

SEED = Path(__file__).parents[2] / "shared/seed/000_a2997e6d766fc833.txt"

YAML_DECK = """\
deck: Networks
id: networks
cards:
  - id: tcp
    question: What does TCP give you?
    points:
      - reliable delivery
      - text: ordering
        aliases: [in order]
  - id: tcp-cost
    question: At what cost?
    points: [latency]
    follows: tcp
"""
ANKI_TSV = (
    "#separator:tab\n#html:true\n#tags column:3\n"
    "What is a tensor?\ta multi-dimensional array<br>of one type\tml\n"
    "What is a DAG?\ta directed <b>acyclic</b> graph\tgraphs\n"
)
QUIZLET_TSV = "tensor\tmulti-dimensional array\nDAG\tdirected acyclic graph\n"
HEADER_CSV = 'Front,Back\nWhat is a tensor?,"a multi-dimensional array; of one type"\n'
PLAIN_TEXT = """\
Lecture 3
What is a tensor?
- a multi-dimensional array
- of one type
What is a DAG?
a directed acyclic graph
"""
TENSOR_DAG = [
    ("What is a tensor?", ["a multi-dimensional array", "of one type"]),
    ("What is a DAG?", ["a directed acyclic graph"]),
]
ANKI_NOTES = [
    (["What is a <b>cell</b>?", "the unit of life<br>has a membrane"], "biology cells"),
    (["{{c1::Mitochondria}} make {{c2::ATP::energy}}", ""], "cloze"),
    (["Name it [sound:cell.mp3]", "nucleus &amp; membrane"], ""),
]
ANKI_CARDS = [
    ("What is a cell?", ["the unit of life", "has a membrane"]),
    ("Complete: [...] make [energy]", ["Mitochondria", "ATP"]),
    ("Name it", ["nucleus & membrane"]),
]

FORMATS = [
    pytest.param(
        "networks.yaml",
        YAML_DECK.encode(),
        [
            ("What does TCP give you?", ["reliable delivery", "ordering"]),
            ("At what cost?", ["latency"]),
        ],
        id="our-yaml",
    ),
    pytest.param("deck.txt", YAML_DECK.encode(), None, id="yaml-in-a-txt-file"),
    pytest.param(
        "anki.txt",
        ANKI_TSV.encode(),
        [*TENSOR_DAG[:1], ("What is a DAG?", ["a directed acyclic graph"])],
        id="anki-tsv-with-headers",
    ),
    pytest.param(
        "quizlet.txt",
        QUIZLET_TSV.encode(),
        [("tensor", ["multi-dimensional array"]), ("DAG", ["directed acyclic graph"])],
        id="quizlet-tsv",
    ),
    pytest.param("cards.csv", HEADER_CSV.encode(), TENSOR_DAG[:1], id="csv-with-header"),
    pytest.param(
        "cards.csv", b"\xef\xbb\xbf" + HEADER_CSV.encode(), TENSOR_DAG[:1], id="csv-with-utf8-bom"
    ),
    pytest.param(
        "cards.tsv",
        QUIZLET_TSV.encode("utf-16"),
        [("tensor", ["multi-dimensional array"]), ("DAG", ["directed acyclic graph"])],
        id="tsv-in-utf16",
    ),
    pytest.param("lecture.txt", PLAIN_TEXT.encode(), TENSOR_DAG, id="plain-text-flashcards"),
    pytest.param("bio.apkg", package(ANKI_NOTES), ANKI_CARDS, id="anki-package"),
    pytest.param(
        "bio.colpkg",
        package(ANKI_NOTES, entry="collection.anki21"),
        ANKI_CARDS,
        id="anki-collection-package",
    ),
    pytest.param("bio.zip", package(ANKI_NOTES), ANKI_CARDS, id="anki-package-by-content"),
]


def cards_of(parsed: ParsedUpload) -> list[tuple[str, list[str]]]:
    assert parsed.problems == ()
    assert parsed.deck is not None
    return [(card.question, [point.text for point in card.points]) for card in parsed.deck.cards]


@pytest.mark.parametrize(("filename", "data", "expected"), FORMATS)
def test_every_format_becomes_the_expected_cards_and_points(
    filename: str, data: bytes, expected: list[tuple[str, list[str]]] | None
) -> None:
    parsed = parse_upload(filename, data)
    if expected is None:  # the same YAML, found by its content
        expected = cards_of(parse_upload("networks.yaml", YAML_DECK.encode()))
    assert cards_of(parsed) == expected


def everything_of(card: Card) -> tuple[object, ...]:
    """Cards compare by identity (grading caches hang on them); compare their fields."""
    return tuple(
        getattr(card, name)
        for name in (
            "id",
            "question",
            "points",
            "summary",
            "note",
            "tags",
            "follows",
            "pass_ratio",
            "deck_id",
            "line",
        )
    )


@pytest.mark.parametrize(("filename", "data", "_expected"), FORMATS)
def test_the_yaml_text_loads_back_into_the_same_deck(
    filename: str, data: bytes, _expected: object
) -> None:
    parsed = parse_upload(filename, data)
    assert parsed.deck is not None and parsed.yaml_text is not None
    again = parse_deck(parsed.yaml_text)
    assert (again.id, again.name) == (parsed.deck.id, parsed.deck.name)
    assert list(map(everything_of, again.cards)) == list(map(everything_of, parsed.deck.cards))


@pytest.mark.skipif(not SEED.is_file(), reason=f"the seed flashcards are not at {SEED}")
def test_the_seed_flashcards_upload_as_the_importer_reads_them() -> None:
    parsed = parse_upload(SEED.name, SEED.read_bytes())
    assert parsed.deck is not None
    assert parsed.deck.name == "L9 - Systems for ML Flashcards"
    assert parsed.summary == "49 cards, 92 points, 9 follow-ups"


@pytest.mark.parametrize(
    ("filename", "data", "deck_id", "name", "expected"),
    [
        ("networks.yaml", YAML_DECK, "other", "Other", ("networks", "Networks")),
        (
            "My Deck.yml",
            "cards:\n  - {id: a, question: A?, points: [a]}\n",
            None,
            None,
            ("my-deck", "My Deck"),
        ),
        (
            "x.yaml",
            "cards:\n  - {id: a, question: A?, points: [a]}\n",
            "week-3",
            "Week 3",
            ("week-3", "Week 3"),
        ),
        ("Week_3 notes.csv", "What?,that\n", None, None, ("week-3-notes", "Week 3 notes")),
        ("w.csv", "What?,that\n", "w3", "Week three", ("w3", "Week three")),
        ("lecture.txt", PLAIN_TEXT, "l3", "Given", ("l3", "Lecture 3")),
        ("bio.apkg", None, None, None, ("bio", "Cells")),
        ("???.csv", "What?,that\n", None, None, ("deck", "???")),
    ],
)
def test_the_deck_id_and_name_come_from_the_file_else_the_arguments_else_the_file_name(
    filename: str,
    data: str | None,
    deck_id: str | None,
    name: str | None,
    expected: tuple[str, str],
) -> None:
    content = package(ANKI_NOTES) if data is None else data.encode()
    parsed = parse_upload(filename, content, deck_id=deck_id, name=name)
    assert parsed.deck is not None, parsed.problems
    assert (parsed.deck.id, parsed.deck.name) == expected


@pytest.mark.parametrize(
    ("filename", "data", "summary"),
    [
        ("networks.yaml", YAML_DECK.encode(), "2 cards, 3 points, 1 follow-up, 1 alias"),
        (
            "q.tsv",
            b"What is X?\t\nWhat is Y?\ty\n",
            "1 card, 1 point, 0 follow-ups. Skipped 1 row (row 1: row without an answer)",
        ),
        (
            "bio.apkg",
            package(
                [*ANKI_NOTES, (['<img src="cell.png">', "a cell"], "")],
                media={"cell.png": b"\x89PNG", "cell.mp3": b"ID3"},
            ),
            "3 cards, 5 points, 0 follow-ups. Skipped 1 note (note 4: no question text (only "
            "images or "
            "sounds?)). 2 media files (images, sounds) ignored: the bot asks in text",
        ),
    ],
)
def test_the_summary_counts_the_deck_and_says_what_was_left_out(
    filename: str, data: bytes, summary: str
) -> None:
    assert parse_upload(filename, data).summary == summary


# --- bad input --------------------------------------------------------------------------------


def patched_zip(
    data: bytes, *, declared_size: int | None = None, flags: int | None = None
) -> bytes:
    """A zip whose headers lie about the first entry's size, or carry other flag bits."""
    patched = bytearray(data)
    local, central = 0, patched.find(b"PK\x01\x02")
    if declared_size is not None:
        struct.pack_into("<I", patched, local + 22, declared_size)
        struct.pack_into("<I", patched, central + 24, declared_size)
    if flags is not None:
        struct.pack_into("<H", patched, local + 6, flags)
        struct.pack_into("<H", patched, central + 8, flags)
    return bytes(patched)


def bomb() -> bytes:
    """20 MB of zeros that pack into about 20 KB."""
    return zip_of({"collection.anki2": bytes(20 * 1024 * 1024)})


def many_entries() -> bytes:
    return zip_of({f"{number}": b"" for number in range(MAX_ZIP_ENTRIES + 1)})


ONE_CARD_YAML = "deck: D\nid: d\ncards:\n  - id: a\n    question: A?\n    points: [a]\n"
SMALL = UploadLimits(
    max_bytes=64 * 1024, max_unpacked_bytes=1024 * 1024, max_cards=2, max_text_chars=30
)
THREE_ROWS = b"What is a?,a\nWhat is b?,b\nWhat is c?,c\n"

BAD_INPUT = [
    pytest.param("deck.csv", b"", ["the file is empty"], id="empty"),
    pytest.param(
        "deck.csv", b"What?,x\n" * 10_000, ["the file is 78 KB; the limit is 64 KB"], id="too-big"
    ),
    pytest.param(
        "deck.csv",
        "caf\xe9,x\n".encode("latin-1"),
        ["line 1: the file is not valid UTF-8 (byte 0xe9 at byte offset 3); save it as UTF-8"],
        id="latin-1",
    ),
    pytest.param(
        "deck.txt",
        b"What?\nx\n\n\xff",
        ["line 4: the file is not valid UTF-8 (byte 0xff at byte offset 9); save it as UTF-8"],
        id="bad-byte-late",
    ),
    pytest.param(
        "deck.csv",
        b"\xff\xfeW\x00\x00\xd8",
        [
            "the file starts like UTF-16 text but is not valid UTF-16 (at byte offset 4); save "
            "it as UTF-8"
        ],
        id="broken-utf16",
    ),
    pytest.param(
        "deck.csv",
        b"MZ\x90\x00\x03\x00\x00\x00",
        [
            "the file is binary, not text (a NUL byte at byte offset 3); send a .yaml, .csv, "
            ".tsv, .txt or .apkg file"
        ],
        id="binary-renamed-csv",
    ),
    pytest.param(
        "deck.csv",
        b"\x89PNG\r\n\x1a\n",
        ["the file is a PNG image, not a deck; send a .yaml, .csv, .tsv, .txt or .apkg file"],
        id="image-renamed-csv",
    ),
    pytest.param(
        "deck.txt",
        b"What?\nx\x07y\n",
        ["line 2: the control character U+0007 is not allowed in a deck; remove it"],
        id="control-character",
    ),
    pytest.param(
        "deck.yaml",
        b"deck: D\nid: d\nbase: &b x\ncards: []\n",
        [
            "line 3: anchors and tags are not allowed in uploaded decks (found the anchor &b); "
            "write the values out"
        ],
        id="yaml-anchor",
    ),
    pytest.param(
        "deck.yaml",
        (ONE_CARD_YAML + "  - id: b\n    question: B?\n    points: [*a]\n").encode(),
        [
            "line 9: anchors and tags are not allowed in uploaded decks (found the alias *a); "
            "write the values out"
        ],
        id="yaml-alias",
    ),
    pytest.param(
        "deck.yaml",
        ONE_CARD_YAML.replace("A?", "!!str A?").encode(),
        [
            "line 5: anchors and tags are not allowed in uploaded decks (found the tag !!str); "
            "write the values out"
        ],
        id="yaml-tag",
    ),
    pytest.param(
        "deck.yaml",
        b"deck: D\nid: d\ncards:\n  - id: [a\n",
        [
            "line 4: YAML syntax error at the end of the file: did not find expected ',' or ']' "
            "(while parsing a flow sequence that starts on line 4)"
        ],
        id="yaml-syntax",
    ),
    pytest.param(
        "deck.yaml",
        (ONE_CARD_YAML + "  - id: a\n    question: B?\n    points: [b]\n").encode(),
        ["line 7: card 'a': duplicate id 'a' (first used on line 4)"],
        id="duplicate-card-ids",
    ),
    pytest.param(
        "deck.yaml",
        b"deck: D\nid: d\ncards: []\n",
        ["line 3: 'cards' is empty; add at least one card"],
        id="yaml-without-cards",
    ),
    pytest.param(
        "deck.csv",
        b"Front,Back\n",
        ["the file has no cards; expected rows with a question and an answer column"],
        id="csv-without-cards",
    ),
    pytest.param(
        "deck.txt",
        b"Just a title\n",
        ["the file has no cards; expected questions, each followed by its answer lines"],
        id="text-without-cards",
    ),
    pytest.param(
        "deck.apkg",
        package([]),
        ["the file has no cards; expected notes with a question and an answer field"],
        id="apkg-without-notes",
    ),
    pytest.param(
        "deck.csv", THREE_ROWS, ["the file has 3 cards; the limit is 2"], id="too-many-rows"
    ),
    pytest.param(
        "deck.yaml",
        (
            ONE_CARD_YAML
            + "  - {id: b, question: B?, points: [b]}\n  - {id: c, question: C?, points: [c]}\n"
        ).encode(),
        ["the file has 3 cards; the limit is 2"],
        id="too-many-yaml-cards",
    ),
    pytest.param(
        "deck.apkg",
        package([(["A?", "a"], "")] * 3),
        ["the package has more than 2 notes; the limit is 2"],
        id="too-many-notes",
    ),
    pytest.param(
        "deck.csv",
        b"What is the longest question you ever saw?,x\nWhy?,y\n",
        [
            "row 1: card 'longest-question-ever-saw': the question is 42 characters long; the "
            "limit is 30"
        ],
        id="question-too-long",
    ),
    pytest.param(
        "deck.yaml",
        ONE_CARD_YAML.replace("[a]", "[" + "a" * 31 + "]").encode(),
        ["line 4: card 'a': point 1 is 31 characters long; the limit is 30"],
        id="point-too-long",
    ),
    pytest.param(
        "deck.apkg",
        b"not a zip at all",
        ["the file is named .apkg but is not an Anki package (not a zip)"],
        id="apkg-not-a-zip",
    ),
    pytest.param(
        "deck.apkg",
        b"PK\x03\x04 truncated",
        ["the file is not a valid zip archive (an Anki package is one)"],
        id="broken-zip",
    ),
    pytest.param(
        "deck.apkg",
        zip_of({"media": b"{}", "notes.txt": b"x"}),
        ["the file is a zip archive without an Anki collection (collection.anki2) in it"],
        id="zip-without-collection",
    ),
    pytest.param(
        "deck.csv",
        zip_of({"[Content_Types].xml": b"", "xl/workbook.xml": b""}),
        ["the file is an Excel workbook; save it as CSV (File > Save As > CSV UTF-8)"],
        id="excel-workbook",
    ),
    pytest.param(
        "deck.apkg",
        zip_of(
            {
                "collection.anki2": collection([(["A?", "Please update Anki"], "")]),
                "collection.anki21b": b"(\xb5/\xfd",
            }
        ),
        [
            "the package uses the newest Anki format (collection.anki21b), which the bot cannot "
            "read; in Anki, export again with 'Support older Anki versions' ticked"
        ],
        id="apkg-anki21b",
    ),
    pytest.param(
        "deck.apkg",
        zip_of({"collection.anki2": collection([], schema="CREATE TABLE things (x);")}),
        [
            "the package's collection has a schema the bot does not know (no notes and col "
            "tables); export it again from Anki with 'Support older Anki versions' ticked"
        ],
        id="apkg-unknown-schema",
    ),
    pytest.param(
        "deck.apkg",
        zip_of({"collection.anki2": b"this is no database" * 100}),
        ["the package's collection is not a readable Anki database (file is not a database)"],
        id="apkg-not-sqlite",
    ),
    pytest.param(
        "deck.apkg",
        patched_zip(package([(["A?", "a"], "")]), declared_size=100),
        [
            "the package is damaged: collection.anki2 cannot be unpacked (Bad CRC-32 for file "
            "'collection.anki2')"
        ],
        id="apkg-lying-about-its-size",
    ),
    pytest.param(
        "deck.apkg",
        patched_zip(package([(["A?", "a"], "")]), flags=1),
        ["the package is password-protected; export it again without one"],
        id="apkg-encrypted",
    ),
]


@pytest.mark.parametrize(("filename", "data", "problems"), BAD_INPUT)
def test_bad_input_gets_its_message_and_nothing_else(
    filename: str, data: bytes, problems: list[str]
) -> None:
    parsed = parse_upload(filename, data, limits=SMALL)
    assert parsed == ParsedUpload(None, None, tuple(problems), parsed.summary)
    assert parsed.summary == ("1 problem" if len(problems) == 1 else f"{len(problems)} problems")


@pytest.mark.parametrize(
    ("data", "limits", "problem"),
    [
        (
            bomb(),
            UploadLimits(),
            "the package is a zip bomb: collection.anki2 would unpack from 20 KB to 20 MB",
        ),
        (
            bomb(),
            UploadLimits(max_unpacked_bytes=1024 * 1024),
            "the package unpacks to 20 MB; the limit is 1 MB",
        ),
        (
            many_entries(),
            UploadLimits(),
            f"the package has {MAX_ZIP_ENTRIES + 1:,} files in it; the limit is "
            f"{MAX_ZIP_ENTRIES:,}",
        ),
    ],
    ids=["ratio", "total-size", "entries"],
)
def test_zip_bombs_are_refused_before_anything_is_unpacked(
    data: bytes, limits: UploadLimits, problem: str
) -> None:
    assert parse_upload("deck.apkg", data, limits=limits).problems == (problem,)


def test_every_problem_of_a_yaml_deck_is_listed_with_its_line() -> None:
    text = (
        "deck: D\nid: d\ncards:\n"
        "  - id: a\n    question: A?\n"
        "  - id: B\n    question: B?\n    points: [b]\n"
    )
    assert parse_upload("d.yaml", text.encode()).problems == (
        "line 4: card 'a': missing 'points' (what a full answer must contain)",
        "line 6: card 'B': id 'B' is not a slug (lowercase letters, digits and single '-' or '_' "
        "between them, e.g. 'b')",
    )


def test_every_text_that_is_too_long_is_listed() -> None:
    rows = (
        b"What?,a point that is far too long for the limit;ok\n"
        b"Why?,x\n"
        b"How is this question so long?,y\n"
    )
    assert parse_upload("d.csv", rows, limits=UploadLimits(max_text_chars=25)).problems == (
        "row 1: card 'what': point 1 is 42 characters long; the limit is 25",
        "row 3: card 'question-long': the question is 29 characters long; the limit is 25",
    )


def test_a_deck_id_that_is_not_a_slug_is_refused() -> None:
    assert parse_upload("d.csv", b"What?,x\n", deck_id="Not A Slug").problems == (
        "the deck id 'Not A Slug' is not a slug (lowercase letters, digits and single '-' or '_' "
        "between them)",
    )


def test_a_file_name_with_a_line_break_stays_inside_the_yaml_comment() -> None:
    parsed = parse_upload("evil\nid: x.csv", b"What?,x\n")
    assert parsed.deck is not None and parsed.yaml_text is not None
    assert parsed.deck.id == "evil-id-x"
    assert (
        parsed.yaml_text.splitlines()[0]
        == "# Imported by the bot from evil id: x.csv (a CSV/TSV export)."
    )


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([".csv", ".tsv", ".txt", ".yaml", ".apkg", ""]),
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.builds(
            lambda head, tail: b"PK\x03\x04" + head + tail,
            st.binary(max_size=50),
            st.binary(max_size=50),
        ),
    ),
)
def test_no_input_makes_parse_upload_raise(suffix: str, data: bytes) -> None:
    parsed = parse_upload(f"deck{suffix}", data)
    assert (parsed.deck is None) == bool(parsed.problems)
    assert (parsed.yaml_text is None) == (parsed.deck is None)


# --- the command line reads the same files ----------------------------------------------------


def test_quizbot_import_converts_an_anki_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bio.apkg"
    source.write_bytes(package(ANKI_NOTES, media={"cell.png": b"\x89PNG"}))
    output = tmp_path / "bio.yaml"
    assert main(["import", str(source), "-o", str(output)]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        f"warning: {source}: 1 media file (images, sounds) ignored: the bot asks in text\n"
    )
    assert (
        captured.out
        == f"Imported 3 cards (0 follow-ups) from {source} into {output}: deck 'Cells', id bio\n"
    )
    assert main(["check", str(output)]) == 0


def test_quizbot_check_validates_an_anki_package_as_the_bot_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "bio.apkg", tmp_path / "bad.apkg"
    good.write_bytes(package(ANKI_NOTES))
    bad.write_bytes(zip_of({"collection.anki21b": b"(\xb5/\xfd"}))
    assert main(["check", str(good)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{good}: deck 'Cells' (id bio): 3 cards, 5 points, 0 follow-ups",
        "OK: 1 deck, 3 cards, 0 warnings",
    ]
    assert main(["check", str(good), str(bad)]) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"{bad}: the package uses the newest Anki format (collection.anki21b), which the bot "
        "cannot read; in Anki, export again with 'Support older Anki versions' ticked",
        "FAILED: 1 problem; fix and check again",
    ]


def test_quizbot_check_names_the_line_of_a_problem_in_a_converted_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "deck.txt"
    source.write_bytes(b"What?\nx\x07\n")
    assert main(["check", str(source)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{source}:2: the control character U+0007 is not allowed in a deck; remove it"
    )


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("---\ncards:\n  - {id: a, question: A?, points: [a]}\n", ()),
        ("# my deck\n\ndeck: Mine\ncards:\n  - {id: a, question: A?, points: [a]}\n", ()),
        (
            "{deck: D, cards: [{id: a, question: A?, points: [a]}]}\n",
            ("line 1: missing 'id' (the deck's id, a slug)",),
        ),
        (
            "cards:\n  - {id: a, question: A?, points: [a]}\n...\n",
            (
                "line 1: missing 'deck' (the deck's name)",
                "line 1: missing 'id' (the deck's id, a slug)",
            ),
        ),
    ],
    ids=["document-start", "comments-first", "flow-mapping", "document-end"],
)
def test_a_yaml_deck_without_id_gets_one_only_where_appending_is_safe(
    text: str, problems: tuple[str, ...]
) -> None:
    parsed = parse_upload("up.yaml", text.encode())
    assert parsed.problems == problems
    if not problems:
        assert parsed.deck is not None and parsed.deck.id == "up"


def test_a_deck_description_has_the_text_limit_too() -> None:
    text = ONE_CARD_YAML.replace("id: d\n", "id: d\ndescription: " + "x" * 31 + "\n")
    assert parse_upload("d.yaml", text.encode(), limits=SMALL).problems == (
        "the deck description is 31 characters long; the limit is 30",
    )


def test_emoji_stay_readable_in_the_yaml_of_a_converted_deck() -> None:
    parsed = parse_upload("party.csv", "Party?,🎉 yes\n".encode())
    assert parsed.yaml_text is not None and "- 🎉 yes\n" in parsed.yaml_text
