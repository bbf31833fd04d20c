"""``quizbot import``: the seed's plain-text flashcards and Anki / Quizlet CSV and TSV exports."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.decks.importer import ImportedDeck, parse_table, parse_text, slugify, split_answer
from bot.decks.loader import BUNDLED_CARDS, Deck, load_deck

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(__file__).parents[2] / "shared/seed/000_a2997e6d766fc833.txt"

needs_seed = pytest.mark.skipif(
    not SEED.is_file(), reason=f"the seed flashcards are not at {SEED} (../shared is not there)"
)


def normalise(text: str) -> str:
    """Compare points ignoring case, runs of whitespace and one trailing full stop.

    The full stop: the importer drops it ("affects the end-to-end training time."), while
    cards.yaml keeps it on whole sentences ("Some models do not fit on one device.").
    """
    return " ".join(text.casefold().split()).removesuffix(".")


def import_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Deck]:
    output = tmp_path / "seed.yaml"
    assert main(["import", str(SEED), "-o", str(output)]) == 0
    capsys.readouterr()
    return output, load_deck(output)


# --- the seed file round trip -----------------------------------------------------------------

#: Cards of cards.yaml whose points were improved by hand after importing the seed. For each:
#: why, and the points exactly as the importer reads them from the seed. The test checks that
#: the importer still produces these and that they still differ from cards.yaml (so the list
#: cannot go stale); every other card must match cards.yaml point for point.
HAND_EDITED: dict[str, tuple[str, list[str]]] = {
    "data-parallelism-implementations": (
        "the parenthetical '(allows GPUs to communicate faster ...)' moved to the card's note",
        ["parameter server", "AllReduce (allows GPUs to communicate faster with each other)"],
    ),
    "parameter-server-worker": (
        "a paragraph answer split into four points, one per thing the worker does",
        [
            "Each worker has a copy of the full model and trains on a shard of the dataset",
            "Each of them compute forward and backwards",
            "At the end they send their gradients to the parameter server",
        ],
    ),
    "parameter-server-task": (
        "a paragraph answer split into three points",
        [
            "It aggregates the gradients it received from each worker",
            "Then computes the new model weight which is sent to each worker",
        ],
    ),
    "allreduce-idea": (
        "grammar: 'via AllReduce collective' -> 'via an AllReduce collective'",
        [
            "GPU workers exchange updates directly via AllReduce collective",
            "gradient aggregation is done across workers",
        ],
    ),
    "allreduce-steps": (
        "typo: 'computer forward/backward' -> 'compute'",
        ["workers computer forward/backward", "reduce-scatter", "all-gather"],
    ),
    "inference-step": (
        "typos: 'server models' -> 'serve models', 'insides' -> 'inside'; "
        "'real-time' -> 'real time'",
        [
            "server models with real data (in real-time)",
            "embed model serving insides the end-user app",
            "optimise for low latency",
            "quantise model weights for memory efficiency",
        ],
    ),
    "tensor": (
        "one sentence split into its two points",
        ["a multi-dimensional array with elements having a uniform type"],
    ),
    "computation-graph": (
        "one sentence split into its three points ('a DAG', nodes, edges)",
        [
            "DAG where nodes are mathematical operations and edges are data (tensors) flowing "
            "between operators"
        ],
    ),
    "static-graph-advantages": (
        "missing word: 'if you a complete view' -> 'if you have a complete view'",
        ["more opportunities to optimise if you a complete view at the beginning"],
    ),
    "dynamic-graph-advantages": (
        "the 'easies support of dynamic control flow' bullet that the seed glued onto the "
        "previous line made its own point (typo 'easies' -> 'easier'); '/' -> ', '",
        [
            "intuitive/familiar execution model for programmers",
            "Can modify and inspect the internals of the graph during runtime, which is helpful "
            "for debugging - easies support of dynamic control flow",
        ],
    ),
    "debugging-importance": (
        "wording: 'difficult;' -> 'difficult:', 'program crashing' -> 'program crashes'",
        [
            "Need to catch training problems early in a run, because runs are expensive",
            "Detecting problems is difficult; bugs manifest as convergence issues, not program "
            "crashing",
        ],
    ),
    "rewind-replay-challenges": (
        "wording: 'all the states' -> 'all the state'",
        ["many sources of non-determinism", "hard to efficiently checkpoint all the states"],
    ),
}


@needs_seed
def test_the_seed_imports_to_the_cards_of_cards_yaml_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, imported = import_seed(tmp_path, capsys)
    bundled = load_deck(BUNDLED_CARDS)
    assert len(imported.cards) == len(bundled.cards) == 49
    assert set(HAND_EDITED) <= {card.id for card in bundled.cards}
    for mine, theirs in zip(imported.cards, bundled.cards, strict=True):
        got = [normalise(point.text) for point in mine.points]
        want = [normalise(point.text) for point in theirs.points]
        if theirs.id in HAND_EDITED:
            _reason, as_imported = HAND_EDITED[theirs.id]
            assert [point.text for point in mine.points] == as_imported, theirs.id
            assert got != want, f"{theirs.id} now matches cards.yaml; drop it from HAND_EDITED"
        else:
            assert got == want, f"{mine.question!r} vs cards.yaml {theirs.id!r}"


@needs_seed
@pytest.mark.parametrize(
    ("question", "follows_question"),
    [
        ("What is the task of the PS itself?", "What does each worker do when a parameter server"),
        ("How can we improve it?", "What is the problem with traditional model parallelism?"),
        ("Can we combine it with data parallelism?", "How can we improve it?"),
        ("What about asynchronous training?", "There are two approaches to distributed training."),
        ("Which one offers better model quality?", "What about asynchronous training?"),
        ("At what cost?", "Which one offers better model quality?"),
        ("What is the issue?", "What is the main idea of PipeDream?"),
        ("And for inference?", "What are the performance metrics for training?"),
        ("And dynamic?", "What is a static computation graph?"),
    ],
)
def test_follow_up_questions_follow_the_card_before_them(
    question: str, follows_question: str
) -> None:
    deck = parse_text(SEED.read_text(encoding="utf-8"), str(SEED))
    by_question = {card.question: card for card in deck.cards}
    card = by_question[question]
    previous = deck.cards[deck.cards.index(card) - 1]
    assert card.follows == previous.id
    assert previous.question.startswith(follows_question)


@needs_seed
def test_only_follow_up_questions_get_follows() -> None:
    deck = parse_text(SEED.read_text(encoding="utf-8"), str(SEED))
    assert sum(1 for card in deck.cards if card.follows) == 9


@needs_seed
@pytest.mark.parametrize(
    ("question_start", "field", "expected"),
    [
        (
            "What are the three stages of ML ecosystem?",
            "question",
            "What are the three stages of ML ecosystem?",
        ),
        ("What are the three stages of ML ecosystem?", "notes", ["slide 4"]),
        (
            "What needs to be done in data part?",
            "summary",
            "data collection, cleaning and visualisation",
        ),
        (
            "What are the three steps of DNN training?",
            "notes",
            ["there are iterated over the training dataset"],
        ),
        (
            "How can be large training datasets",
            "question",
            "How can be large training datasets be a problem? How is this solved?",
        ),
        (
            "How can be large training datasets",
            "points",
            [
                "problem: Data often does not fit in memory",
                "solution: overlap data fetching and training computation",
            ],
        ),
        (
            "There are two approaches",
            "question",
            "There are two approaches to distributed training. What is synchronous training?",
        ),
        ("What is model parallelism?", "notes", ["more complicated"]),
        ("What is the problem with traditional", "notes", ["look at slide 33"]),
        (
            "What is the issue?",
            "notes",
            ["Extra: weight stashing is a solution, gotta read a paper for this"],
        ),
        (
            "List three steps of AllReduce.",
            "points",
            ["workers computer forward/backward", "reduce-scatter", "all-gather"],
        ),
        ("Is the output of model development", "points", ["No"]),
        ("Can we combine it", "points", ["Yes"]),
        (
            "What is the main idea of PipeDream?",
            "question",
            "What is the main idea of PipeDream? (async pipeline parallelism)",
        ),
    ],
)
def test_the_seed_format_is_read_line_by_line(
    question_start: str, field: str, expected: object
) -> None:
    deck = parse_text(SEED.read_text(encoding="utf-8"), str(SEED))
    assert deck.name == "L9 - Systems for ML Flashcards"
    assert deck.warnings == []
    card = next(card for card in deck.cards if card.question.startswith(question_start))
    assert getattr(card, field) == expected


@needs_seed
def test_imported_seed_passes_check_and_keeps_yes_and_no_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output, deck = import_seed(tmp_path, capsys)
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Imported by `quizbot import` from 000_a2997e6d766fc833.txt")
    assert "  - 'Yes'\n" in text or "- 'Yes'\n" in text
    assert "- 'No'\n" in text
    assert main(["check", str(output)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "OK: 1 deck, 49 cards, 0 warnings"
    assert len({card.id for card in deck.cards}) == 49
    assert deck.card("main-idea-pipedream-issue").follows == "main-idea-pipedream"


@needs_seed
def test_import_writes_to_stdout_and_reports_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(SEED), "--deck-id", "l9", "--name", "Lecture 9"]) == 0
    captured = capsys.readouterr()
    document = yaml.safe_load(captured.out)
    assert (document["deck"], document["id"], len(document["cards"])) == ("Lecture 9", "l9", 49)
    assert captured.err.startswith("Imported 49 cards (9 follow-ups) from ")


# --- plain text edge cases --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Name the two kinds of parallelism.\n- data\n- model\n",
            [("Name the two kinds of parallelism.", ["data", "model"])],
        ),
        (
            "Deck title\nWhat is X?\nan x\nExplain Y.\na y. Another y.\n",
            [("What is X?", ["an x"]), ("Explain Y.", ["a y", "Another y"])],
        ),
        (
            "What is X?\n\n* one\n• two\n1. three\n",
            [("What is X?", ["one", "two", "three"])],
        ),
        (
            "1. What is X?\n1) one\n2) two\n2. Why Y?\nbecause\n",
            [("What is X?", ["one", "two"]), ("Why Y?", ["because"])],
        ),
    ],
)
def test_plain_text_questions_and_answers(text: str, expected: list[tuple[str, list[str]]]) -> None:
    deck = parse_text(text)
    assert [(card.question, card.points) for card in deck.cards] == expected


def test_a_question_without_an_answer_is_skipped_with_a_warning() -> None:
    deck = parse_text("Title\nWhat is X?\n\nWhat is Y?\ny\n", "notes.txt")
    # Two question lines in a row make one question spanning both.
    assert [card.question for card in deck.cards] == ["What is X? What is Y?"]
    deck = parse_text("What is X?\n", "notes.txt")
    assert deck.cards == []
    assert deck.warnings == ["notes.txt:1: question without an answer, skipped: What is X?"]


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("What are the three stages of ML ecosystem?", "three-stages-ml-ecosystem"),
        ("What is data parallelism?", "data-parallelism"),
        ("Что такое тензор?", ""),
        ("Qu'est-ce qu'un café?", "qu-est-ce-qu-un-cafe"),
        ("What's the catch? Why can't it scale?", "catch-scale"),
    ],
)
def test_slugs_are_short_readable_ascii(question: str, slug: str) -> None:
    assert slugify(question) == slug


# --- CSV / TSV --------------------------------------------------------------------------------

ANKI_TSV = (
    "#separator:tab\n"
    "#html:true\n"
    "#tags column:3\n"
    "What is a tensor?\ta multi-dimensional array<br>elements of one type\tframeworks ml\n"
    "What does AllReduce do?\t<div>reduce-scatter</div><div>all-gather</div>\t\n"
    "Is the model the output?\t<b>No</b>\t\n"
    "What does &quot;R&amp;D&quot; mean?\tresearch &amp; development; R&amp;D&nbsp;work\t\n"
)
ANKI_CSV = (
    "#separator:comma\n"
    "#html:false\n"
    "#notetype column:1\n"
    'Basic,What are the stages?,"model development\nTraining\nInference"\n'
    'Basic,"Why, exactly?",because\n'
)
QUIZLET_LINES = (
    "tensor\tmulti-dimensional array\nDAG\tdirected acyclic graph; no cycles\nCan we?\tYes\n"
)
QUIZLET_SEMICOLONS = "tensor\tmulti-dimensional array;DAG\tdirected acyclic graph;Can we?\tYes;"
HEADER_CSV = "Question,Answer,Notes\nWhat is a DAG?,a directed acyclic graph,slide 7\n"
QUIZLET_WRAPPED = "tensor\tmulti-dimensional array\nuniform type\nDAG\tgraph\n"

TABLES = [
    (
        "anki.txt",
        ANKI_TSV,
        [
            (
                "What is a tensor?",
                ["a multi-dimensional array", "elements of one type"],
                ["frameworks", "ml"],
            ),
            ("What does AllReduce do?", ["reduce-scatter", "all-gather"], []),
            ("Is the model the output?", ["No"], []),
            ('What does "R&D" mean?', ["research & development", "R&D work"], []),
        ],
    ),
    (
        "anki.csv",
        ANKI_CSV,
        [
            ("What are the stages?", ["model development", "Training", "Inference"], []),
            ("Why, exactly?", ["because"], []),
        ],
    ),
    (
        "quizlet.txt",
        QUIZLET_LINES,
        [
            ("tensor", ["multi-dimensional array"], []),
            ("DAG", ["directed acyclic graph", "no cycles"], []),
            ("Can we?", ["Yes"], []),
        ],
    ),
    (
        "quizlet.txt",
        QUIZLET_SEMICOLONS,
        [
            ("tensor", ["multi-dimensional array"], []),
            ("DAG", ["directed acyclic graph"], []),
            ("Can we?", ["Yes"], []),
        ],
    ),
    ("deck.csv", HEADER_CSV, [("What is a DAG?", ["a directed acyclic graph"], [])]),
    (
        "quizlet.tsv",
        QUIZLET_WRAPPED,
        [("tensor", ["multi-dimensional array", "uniform type"], []), ("DAG", ["graph"], [])],
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    TABLES,
    ids=["anki-tsv", "anki-csv", "quizlet", "quizlet-semicolons", "csv-header", "quizlet-wrapped"],
)
def test_csv_and_tsv_exports_become_cards(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    expected: list[tuple[str, list[str], list[str]]],
) -> None:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    deck = parse_table(text, source)
    assert deck.warnings == []
    assert [(card.question, card.points, card.tags) for card in deck.cards] == expected

    output = tmp_path / "out.yaml"
    assert main(["import", str(source), "-o", str(output)]) == 0
    assert main(["check", str(output)]) == 0
    capsys.readouterr()
    loaded = load_deck(output)
    assert [[point.text for point in card.points] for card in loaded.cards] == [
        points for _, points, _ in expected
    ]


def test_a_csv_header_names_the_note_column() -> None:
    deck = parse_table(HEADER_CSV, Path("deck.csv"))
    assert deck.cards[0].notes == ["slide 7"]


def test_rows_without_an_answer_are_skipped_with_a_warning() -> None:
    deck = parse_table("What is X?\t\nWhat is Y?\ty\n", Path("q.tsv"), "q.tsv")
    assert [card.question for card in deck.cards] == ["What is Y?"]
    assert deck.warnings == ["q.tsv:1: row without an answer, skipped"]


def test_the_same_question_twice_gets_distinct_ids() -> None:
    deck = parse_table("What is X?\tx\nWhat is X?\tan x\n", Path("q.tsv"))
    assert [card.id for card in deck.cards] == ["x", "x-2"]


@pytest.mark.parametrize(
    ("answer", "html_mode", "points"),
    [
        ("a<br>b<br/>c<br />d", True, ["a", "b", "c", "d"]),
        ("<div>one</div><div>two &lt;3&gt;</div>", True, ["one", "two <3>"]),
        ("<ul><li>x</li><li>y</li></ul>", True, ["x", "y"]),
        ('<span style="color: red;">red</span> text', True, ["red text"]),
        ("a; b;; c", False, ["a", "b", "c"]),
        ("x < y and y > z", False, ["x < y and y > z"]),
        ("- first\n- second.", False, ["first", "second"]),
    ],
)
def test_answers_split_into_points_at_breaks_and_semicolons(
    answer: str, html_mode: bool, points: list[str]
) -> None:
    assert split_answer(answer, html_mode) == points


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, ": no such file"),
        # Latin-1, as an old Windows editor saves it (\xff\xfe would be a UTF-16 mark).
        (b"caf\xe9 bad", ":1: the file is not valid UTF-8 (byte 0xe9 at byte offset 3)"),
        (b"\x00\x01\x02", ": the file is binary, not text"),
        (b"just a line without questions\n", ": no cards found"),
    ],
)
def test_import_failures_are_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    source = tmp_path / "notes.txt"
    if content is not None:
        source.write_bytes(content)
    assert main(["import", str(source)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{source}{message}")


def test_an_invalid_deck_id_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "q.tsv"
    source.write_text("What is X?\tx\n", encoding="utf-8")
    assert main(["import", str(source), "--deck-id", "Not A Slug"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "--deck-id 'Not A Slug' is not a slug (lowercase letters, digits and single '-' or '_' "
        "between them, e.g. 'not-a-slug')\n"
    )


def test_an_unwritable_output_is_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "q.tsv"
    source.write_text("What is X?\tx\n", encoding="utf-8")
    target = tmp_path / "missing-folder" / "out.yaml"
    assert main(["import", str(source), "-o", str(target)]) == 1
    assert (
        capsys.readouterr().err == f"{target}: cannot write the file: No such file or directory\n"
    )


def test_imported_deck_type_is_plain_data() -> None:
    assert isinstance(parse_text("What?\nx\n"), ImportedDeck)
