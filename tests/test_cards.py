"""The card bank loader: the bundled deck, every validation message, folders and QUIZBOT_CARDS."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import yaml

from bot.decks.loader import (
    _LOADER,
    BUNDLED_CARDS,
    Card,
    Deck,
    DeckError,
    Point,
    load_deck,
    load_decks,
    parse_cards_setting,
    parse_deck,
)

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    given = None

DECKS = Path(__file__).parent / "data" / "decks"


def write(folder: Path, text: str, name: str = "deck.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DeckError) as caught:
        load_deck(path)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


# --- the bundled deck -------------------------------------------------------------------------


def test_the_bundled_deck_loads_49_cards_whose_follows_all_resolve() -> None:
    deck = load_deck(BUNDLED_CARDS)
    assert (deck.id, deck.name, len(deck.cards)) == ("systems-for-ml", "Systems for ML", 49)
    assert all(isinstance(card, Card) and card.deck_id == deck.id for card in deck.cards)
    assert len({card.id for card in deck.cards}) == 49
    follow_ups = [card for card in deck.cards if card.follows]
    assert follow_ups
    for card in follow_ups:
        parent = deck.parent_of(card)
        assert parent is not None
        assert deck.cards.index(parent) < deck.cards.index(card)


def test_the_bundled_deck_keeps_the_public_model() -> None:
    deck = load_deck(BUNDLED_CARDS)
    card = deck.card("ml-ecosystem-stages")
    assert card.question == "What are the three stages of the ML ecosystem?"
    assert [point.text for point in card.points] == ["Model development", "Training", "Inference"]
    assert card.points[0] == Point(
        "Model development", ("model dev", "developing the model", "model building")
    )
    assert card.note == "slide 4"
    assert card.tags == ("ecosystem",)
    assert card.cache == {}
    same_card_loaded_again = load_deck(BUNDLED_CARDS).card(card.id)
    assert card != same_card_loaded_again  # eq=False: identity, so graders can cache per card
    assert {card: "cached"}[card] == "cached"
    assert deck.card("pipeline-with-data-parallelism").points == [Point("Yes")]


def test_every_card_knows_its_line_in_the_file() -> None:
    deck = load_deck(BUNDLED_CARDS)
    lines = BUNDLED_CARDS.read_text(encoding="utf-8").splitlines()
    for card in deck.cards:
        assert card.line is not None
        assert lines[card.line - 1].strip() == f"- id: {card.id}"


def test_a_valid_deck_loads_every_field() -> None:
    deck = load_deck(DECKS / "valid" / "alpha.yaml")
    assert (deck.id, deck.name, deck.language, deck.pass_ratio) == ("alpha", "Alpha", "en", 0.5)
    assert deck.description == "Two cards and a follow-up."
    assert deck.source == DECKS / "valid" / "alpha.yaml"
    stages, metric, steps = deck.cards
    assert stages.points == [
        Point("Model development", ("model dev",)),
        Point("Training"),
        Point("Inference", ("serving",), 2.0),
    ]
    assert (stages.line, stages.note, stages.tags, stages.pass_ratio) == (
        8,
        "slide 4",
        ("ecosystem",),
        0.5,
    )
    assert (metric.follows, metric.pass_ratio) == ("stages", 1.0)
    assert deck.parent_of(metric) is stages
    assert [point.text for point in steps.points] == [
        "compute forward/backward",
        "reduce-scatter",
        "all-gather",
    ]


# --- validation messages ----------------------------------------------------------------------

HEADER = "deck: Test\nid: test\ncards:\n"

# (what is wrong, the YAML, the line, the exact message after "file:line: ")
CASES = [
    (
        "unknown card key with a suggestion",
        HEADER + "  - id: data-parallelism\n    qustion: What?\n    question: What?\n"
        "    points: [x]\n",
        5,
        "card 'data-parallelism': unknown key 'qustion' (did you mean 'question'?)",
    ),
    (
        "unknown top-level key with a suggestion",
        "deck: Test\nid: test\ndescripton: typo\ncards:\n  - id: a\n    question: Q?\n"
        "    points: [x]\n",
        3,
        "unknown key 'descripton' (did you mean 'description'?)",
    ),
    (
        "unknown point key with a suggestion",
        HEADER + "  - id: a\n    question: Q?\n    points:\n      - text: x\n        alias: [y]\n",
        8,
        "card 'a': point 1: unknown key 'alias' (did you mean 'aliases'?)",
    ),
    (
        "unknown key without a close match lists the known keys",
        HEADER + "  - id: a\n    question: Q?\n    points: [x]\n    colour: red\n",
        7,
        "card 'a': unknown key 'colour' (expected one of: id, question, points, summary, note, "
        "tags, follows, pass_ratio)",
    ),
    (
        "missing question",
        HEADER + "  - id: a\n    points: [x]\n",
        4,
        "card 'a': missing 'question'",
    ),
    (
        "missing points",
        HEADER + "  - id: a\n    question: Q?\n",
        4,
        "card 'a': missing 'points' (what a full answer must contain)",
    ),
    (
        "empty points list",
        HEADER + "  - id: a\n    question: Q?\n    points: []\n",
        6,
        "card 'a': 'points' is empty; list at least one point",
    ),
    (
        "blank point",
        HEADER + "  - id: a\n    question: Q?\n    points:\n      - x\n      - '  '\n",
        8,
        "card 'a': point 2 is blank",
    ),
    (
        "empty point",
        HEADER + "  - id: a\n    question: Q?\n    points:\n      -\n",
        7,
        "card 'a': point 1 is empty",
    ),
    (
        "point mapping without text",
        HEADER + "  - id: a\n    question: Q?\n    points:\n      - aliases: [x]\n",
        7,
        "card 'a': point 1: missing 'text'",
    ),
    (
        "blank question",
        HEADER + "  - id: a\n    question: ''\n    points: [x]\n",
        5,
        "card 'a': 'question' is blank; fill it in or remove the key",
    ),
    (
        "duplicate card ids name both lines",
        HEADER + "  - id: a\n    question: Q?\n    points: [x]\n"
        "  - id: a\n    question: R?\n    points: [y]\n",
        7,
        "card 'a': duplicate id 'a' (first used on line 4)",
    ),
    (
        "follows a card that does not exist",
        HEADER + "  - id: stages\n    question: Q?\n    points: [x]\n"
        "  - id: b\n    question: R?\n    points: [y]\n    follows: stage\n",
        10,
        "card 'b': follows 'stage', but the deck has no card with that id (did you mean 'stages'?)",
    ),
    (
        "follows itself",
        HEADER + "  - id: a\n    question: Q?\n    points: [x]\n    follows: a\n",
        7,
        "card 'a': follows itself; 'follows' names the card this one continues",
    ),
    (
        "follow-up cycle",
        HEADER + "  - id: a\n    question: Q?\n    points: [x]\n    follows: b\n"
        "  - id: b\n    question: R?\n    points: [y]\n    follows: a\n",
        4,
        "card 'a': follow-up cycle: a -> b -> a",
    ),
    (
        "a question that is a number",
        HEADER + "  - id: a\n    question: 42\n    points: [x]\n",
        5,
        "card 'a': 'question' must be text, not a number (42); put it in quotes to keep it as text",
    ),
    (
        "a question that is a list",
        HEADER + "  - id: a\n    question: [What, is, it]\n    points: [x]\n",
        5,
        "card 'a': 'question' must be text, not a list",
    ),
    (
        "an unquoted yes as a point",
        HEADER + "  - id: a\n    question: Can we?\n    points: [yes]\n",
        6,
        "card 'a': point 1 must be text, not a yes/no value (yes); put it in quotes to keep it "
        "as text",
    ),
    (
        "a question that is a date",
        HEADER + "  - id: a\n    question: 2024-01-31\n    points: [x]\n",
        5,
        "card 'a': 'question' must be text, not a date (2024-01-31); put it in quotes to keep it "
        "as text",
    ),
    (
        "a tag that is a mapping",
        HEADER + "  - id: a\n    question: Q?\n    points: [x]\n    tags: [ok, {a: b}]\n",
        7,
        "card 'a': 'tags' entry 2 must be text, not a mapping",
    ),
    (
        "tags that are not a list",
        HEADER + "  - id: a\n    question: Q?\n    points: [x]\n    tags: ml\n",
        7,
        "card 'a': 'tags' must be a list of texts, not text",
    ),
    (
        "aliases that are not a list",
        HEADER + "  - id: a\n    question: Q?\n    points:\n      - text: x\n        aliases: y\n",
        8,
        "card 'a': 'point 1 aliases' must be a list of texts, not text",
    ),
    (
        "a pass ratio above 1",
        HEADER + "  - id: a\n    question: Q?\n    points: [x]\n    pass_ratio: 1.5\n",
        7,
        "card 'a': 'pass_ratio' must be a number greater than 0 and at most 1, not 1.5",
    ),
    (
        "a pass ratio of 0",
        "deck: Test\nid: test\npass_ratio: 0\ncards:\n  - id: a\n    question: Q?\n"
        "    points: [x]\n",
        3,
        "'pass_ratio' must be a number greater than 0 and at most 1, not 0",
    ),
    (
        "a pass ratio that is text",
        HEADER + "  - id: a\n    question: Q?\n    points: [x]\n    pass_ratio: high\n",
        7,
        "card 'a': 'pass_ratio' must be a number greater than 0 and at most 1, not high",
    ),
    (
        "a negative weight",
        HEADER + "  - id: a\n    question: Q?\n    points:\n      - text: x\n        weight: -1\n",
        8,
        "card 'a': point 1: 'weight' must be a positive number, not -1",
    ),
    (
        "a weight that is text",
        HEADER + "  - id: a\n    question: Q?\n    points:\n      - {text: x, weight: heavy}\n",
        7,
        "card 'a': point 1: 'weight' must be a positive number, not heavy",
    ),
    (
        "a card id that is not a slug",
        HEADER + "  - id: Data Parallelism\n    question: Q?\n    points: [x]\n",
        4,
        "card 'Data Parallelism': id 'Data Parallelism' is not a slug (lowercase letters, digits "
        "and single '-' or '_' between them, e.g. 'data-parallelism')",
    ),
    (
        "a card without an id",
        HEADER + "  - question: Q?\n    points: [x]\n",
        4,
        "card #1: missing 'id' (a stable slug such as 'data-parallelism')",
    ),
    (
        "a card that is not a mapping",
        HEADER + "  - What is a tensor?\n",
        4,
        "card #1: must be a mapping with 'id', 'question' and 'points', not text",
    ),
    (
        "a repeated key",
        HEADER + "  - id: a\n    question: Q?\n    question: R?\n    points: [x]\n",
        6,
        "card 'a': duplicate key 'question' (first on line 5)",
    ),
    (
        "a merge key",
        HEADER + "  - id: a\n    <<: {question: Q?}\n    question: Q?\n    points: [x]\n",
        5,
        "card 'a': '<<' merge keys are not supported; write keys out",
    ),
    (
        "a deck without a name",
        "id: test\ncards:\n  - id: a\n    question: Q?\n    points: [x]\n",
        1,
        "missing 'deck' (the deck's name)",
    ),
    (
        "a deck id that is not a slug",
        "deck: Test\nid: My Deck!\ncards:\n  - id: a\n    question: Q?\n    points: [x]\n",
        2,
        "deck id 'My Deck!' is not a slug (lowercase letters, digits and single '-' or '_' "
        "between them, e.g. 'my-deck')",
    ),
    ("a deck without cards", "deck: Test\nid: test\n", 1, "missing 'cards' (the list of cards)"),
    (
        "an empty card list",
        "deck: Test\nid: test\ncards: []\n",
        3,
        "'cards' is empty; add at least one card",
    ),
    (
        "cards that are a mapping",
        "deck: Test\nid: test\ncards:\n  a: b\n",
        4,
        "'cards' must be a list of cards, not a mapping",
    ),
    (
        "a YAML syntax error",
        HEADER + "  - id: a\n    question: 'unclosed\n    points: [x]\n",
        6,
        "YAML syntax error at the end of the file: found unexpected end of stream (while "
        "scanning a quoted scalar that starts on line 5)",
    ),
    (
        "a YAML syntax error inside the file",
        "deck: Test\nid: test\n cards: x\n",
        3,
        "YAML syntax error, column 7: mapping values are not allowed ...",
    ),
    (
        "a file that is a list",
        "- id: a\n  question: Q?\n",
        1,
        "the top level must be a mapping with 'deck', 'id' and 'cards', not a list",
    ),
    (
        "a file that is only text",
        "just some notes\n",
        1,
        "the top level must be a mapping with 'deck', 'id' and 'cards', not text",
    ),
    ("an empty file", "", 1, "the file is empty; expected a mapping with 'deck', 'id' and 'cards'"),
    (
        "a file with only comments",
        "# nothing yet\n",
        1,
        "the file has no content; expected 'deck', 'id' and 'cards'",
    ),
    (
        "a control character",
        "deck: Te\x07st\nid: test\n",
        1,
        "YAML does not allow the control character U+0007; remove it",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_problem_names_the_file_the_line_and_the_card(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "deck.yaml"
    path.write_text(text, encoding="utf-8")
    expected = f"{path}:{line}: {message}"
    if expected.endswith("..."):  # libyaml and PyYAML word the rest of this one differently
        assert any(problem.startswith(expected[:-3]) for problem in problems_of(path))
    else:
        assert expected in problems_of(path)


def test_unknown_key_suggests_the_closest_known_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        deck: Test
        id: test
        cards:
          - id: data-parallelism
            question: What is data parallelism?
            points:
              - txet: partition the data
        """,
        name="cards.yaml",
    )
    assert problems_of(path) == [
        f"{path}:7: card 'data-parallelism': point 1: unknown key 'txet' (did you mean 'text'?)",
        f"{path}:7: card 'data-parallelism': point 1: missing 'text'",
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "not_utf8.yaml",
            "not_utf8.yaml:5: not valid UTF-8 (byte 0xe9 at column 18); save the file as UTF-8",
        ),
        (
            "empty.yaml",
            "empty.yaml:1: the file is empty; expected a mapping with 'deck', 'id' and 'cards'",
        ),
        (
            "top_level_list.yaml",
            "top_level_list.yaml:1: the top level must be a mapping with 'deck', 'id' and "
            "'cards', not a list",
        ),
        ("does_not_exist.yaml", "does_not_exist.yaml: no such file"),
    ],
)
def test_unreadable_files_are_reported_not_raised(name: str, expected: str) -> None:
    path = DECKS / "broken" / name
    assert problems_of(path) == [f"{DECKS / 'broken'}/{expected}"]


def test_a_folder_given_as_a_file_is_reported(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: is a folder, not a YAML file"]


def test_every_problem_in_a_file_is_reported_together_in_line_order() -> None:
    path = DECKS / "broken" / "many_problems.yaml"
    card = "card 'data-parallelism'"
    assert problems_of(path) == [
        f"{path}:4: {card}: missing 'question'",
        f"{path}:5: {card}: unknown key 'qustion' (did you mean 'question'?)",
        f"{path}:8: {card}: duplicate id 'data-parallelism' (first used on line 4)",
        f"{path}:9: {card}: 'question' must be text, not a number (42); put it in quotes to keep "
        "it as text",
        f"{path}:10: {card}: 'points' is empty; list at least one point",
        f"{path}:15: card 'model-parallelism': point 1: 'weight' must be a positive number, not -1",
        f"{path}:16: card 'model-parallelism': point 2 is blank",
        f"{path}:17: card 'model-parallelism': follows 'pipeline', but the deck has no card with "
        "that id",
        f"{path}:18: card 'model-parallelism': 'tags' entry 2 must be text, not a mapping",
    ]


def test_problems_across_several_files_are_reported_together() -> None:
    with pytest.raises(DeckError) as caught:
        load_decks([DECKS / "broken"])
    files = {problem.split(":", 1)[0] for problem in caught.value.problems}
    assert {Path(file).name for file in files} == {
        "empty.yaml",
        "many_problems.yaml",
        "not_utf8.yaml",
        "syntax_error.yaml",
        "top_level_list.yaml",
    }
    assert len(caught.value.problems) == 13


def test_parse_deck_validates_text_in_memory() -> None:
    deck = parse_deck(HEADER + "  - id: a\n    question: Q?\n    points: [x]\n", "inline.yaml")
    assert (deck.id, deck.cards[0].line, deck.source) == ("test", 4, Path("inline.yaml"))
    with pytest.raises(DeckError, match=r"^inline.yaml:4: card 'a': missing 'question'$"):
        parse_deck(HEADER + "  - id: a\n    points: [x]\n", "inline.yaml")


def test_optional_fields_may_be_left_empty(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        deck: Test
        id: test
        description:
        cards:
          - id: a
            question: Q?
            points: [x]
            summary:
            tags:
            follows:
        """,
    )
    card = load_deck(path).cards[0]
    assert (card.summary, card.tags, card.follows) == (None, (), None)


# --- several files, folders and QUIZBOT_CARDS --------------------------------------------------


def test_a_folder_loads_its_yaml_and_yml_files_in_name_order() -> None:
    decks = load_decks([DECKS / "valid"])
    assert [(deck.id, deck.source.name if deck.source else "") for deck in decks] == [
        ("alpha", "alpha.yaml"),
        ("beta", "beta.yml"),
    ]
    # Card ids only need to be unique within a deck.
    assert decks[0].cards[0].id == decks[1].cards[0].id == "stages"


def test_a_file_named_twice_is_loaded_once() -> None:
    decks = load_decks([DECKS / "valid", DECKS / "valid" / "alpha.yaml"])
    assert [deck.id for deck in decks] == ["alpha", "beta"]


def test_two_decks_with_the_same_id_are_an_error() -> None:
    one, two = DECKS / "duplicate_deck_id" / "one.yaml", DECKS / "duplicate_deck_id" / "two.yaml"
    with pytest.raises(DeckError) as caught:
        load_decks([one, two])
    assert caught.value.problems == [f"{two}:2: deck id 'same' is already used by {one}:2"]


def test_a_folder_without_decks_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DeckError) as caught:
        load_decks([tmp_path])
    assert caught.value.problems == [f"{tmp_path}: no *.yaml or *.yml files in this folder"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cards.yaml", ["cards.yaml"]),
        (f"a.yaml{os.pathsep}decks", ["a.yaml", "decks"]),
        ("a.yaml,b.yml", ["a.yaml", "b.yml"]),
        (f" a.yaml , {os.pathsep} b.yml ,", ["a.yaml", "b.yml"]),
        ("", []),
        ("  ", []),
    ],
)
def test_quizbot_cards_setting_splits_on_pathsep_and_commas(
    value: str, expected: list[str]
) -> None:
    assert parse_cards_setting(value) == [Path(entry) for entry in expected]


def test_quizbot_cards_setting_expands_the_home_folder() -> None:
    assert parse_cards_setting("~/decks") == [Path.home() / "decks"]


def test_quizbot_cards_setting_feeds_load_decks() -> None:
    value = f"{DECKS / 'valid' / 'beta.yml'},{DECKS / 'duplicate_deck_id' / 'one.yaml'}"
    assert [deck.id for deck in load_decks(parse_cards_setting(value))] == ["beta", "same"]


def _tags(node: yaml.Node) -> list[tuple[str, object]]:
    if isinstance(node, yaml.ScalarNode):
        return [(node.tag, node.value)]
    children = node.value if isinstance(node, yaml.SequenceNode) else sum(node.value, ())
    return [(node.tag, None), *(tag for child in children for tag in _tags(child))]


def test_the_fast_loader_resolves_the_same_types_as_safe_yaml() -> None:
    text = BUNDLED_CARDS.read_text(encoding="utf-8") + (
        "extra: [yes, No, on, OFF, y, 1, -2, +3, 0x1F, 0o17, 1_000, 1.5, .5, -.inf, .NaN, 1e3, ~,\n"
        "  null, Null, '', 2001-12-14, 12:30:00, =, '<<', \"yes\", text, true, False, '1', -, +]\n"
        "empty:\n"
    )
    assert _tags(yaml.compose(text, Loader=_LOADER)) == _tags(yaml.compose(text, yaml.SafeLoader))


# --- robustness -------------------------------------------------------------------------------

_VALID = (DECKS / "valid" / "alpha.yaml").read_text(encoding="utf-8")

if given is not None:
    _YAMLISH = st.text(
        alphabet=st.one_of(st.sampled_from(list(":-[]{}#&*!|>'\"%@`,?\n\t  ")), st.characters()),
        max_size=200,
    )

    @st.composite
    def _mutated_deck(draw: st.DrawFn) -> str:
        """The valid deck with a few random cuts and insertions, to reach the deep checks."""
        text = _VALID
        for _ in range(draw(st.integers(1, 4))):
            start = draw(st.integers(0, len(text)))
            end = draw(st.integers(start, min(len(text), start + 12)))
            text = text[:start] + draw(_YAMLISH.filter(lambda s: len(s) < 12)) + text[end:]
        return text

    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(text=st.one_of(_YAMLISH, st.text(max_size=300), _mutated_deck()))
    def test_any_text_gives_a_deck_or_a_deck_error(tmp_path: Path, text: str) -> None:
        path = tmp_path / "random.yaml"
        # Lone surrogates become invalid UTF-8 bytes, which must be reported too.
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        result: Deck | DeckError
        try:
            result = load_deck(path)
        except DeckError as error:
            result = error
        if isinstance(result, DeckError):
            assert result.problems
            assert all(problem.startswith(str(path)) for problem in result.problems)
        else:
            assert isinstance(result, Deck)
            assert result.cards

else:  # pragma: no cover

    @pytest.mark.skip(reason="hypothesis is not installed: pip install hypothesis")
    def test_any_text_gives_a_deck_or_a_deck_error() -> None:
        """Placeholder so the missing property test shows up as skipped."""


def test_a_large_bank_parsed_in_a_child_process_is_the_same_deck(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.decks.loader as cards_module

    monkeypatch.setattr(cards_module, "CHILD_PARSE_MIN_BYTES", 0)
    (isolated,) = cards_module.load_decks([BUNDLED_CARDS], isolate_large=True)
    (direct,) = cards_module.load_decks([BUNDLED_CARDS])
    assert [(c.id, c.line, c.points) for c in isolated.cards] == [
        (c.id, c.line, c.points) for c in direct.cards
    ]


def test_problems_found_in_a_child_process_are_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import bot.decks.loader as cards_module

    monkeypatch.setattr(cards_module, "CHILD_PARSE_MIN_BYTES", 0)
    broken = tmp_path / "broken.yaml"
    broken.write_text("deck: x\nid: x\ncards:\n  - id: a\n    qustion: Q?\n    points: [p]\n")
    with pytest.raises(cards_module.DeckError, match="did you mean 'question'"):
        cards_module.load_decks([broken], isolate_large=True)
