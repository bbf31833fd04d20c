"""The grading benches' own logic: how Mohler references become cards, how latency is read,
how the alias-free deck is built and how labelled sets are scored."""

from __future__ import annotations

import pytest

from bench.grading_quality import (
    HELD_OUT_SETS,
    TUNING_SETS,
    Labelled,
    available_sets,
    bundled_deck,
    evaluate,
    load_labelled,
    main,
    set_path,
    set_role,
    summarise,
)
from bench.grading_speed import best_of, percentile
from bench.mohler import split_points
from bot.core.grading import grade, prepare_cards
from bot.decks.loader import Card, Point

QUESTION = "When defining a recursive function, what are possible causes for infinite recursion?"
REFERENCE = "If the recursion step is defined incorrectly, or if the base case is not included."


def word_points(reference: str, question: str = "") -> dict[str, Point]:
    return {point.text: point for point in split_points(reference, "word", question)}


def test_the_word_split_makes_one_point_per_content_word_leaving_out_the_questions() -> None:
    assert list(word_points(REFERENCE, QUESTION)) == [
        "step",
        "incorrectly",
        "base",
        "case",
        "not included",
    ]


@pytest.mark.parametrize(
    ("reference", "word", "weight"),
    [
        ("The function calls the function it names in the function body.", "function", 3.0),
        ("The function calls the function it names in the function body.", "body", 1.0),
        ("Sorting sorts a sorted list.", "Sorting", 3.0),
        ("A multi-dimensional array stores arrays.", "multi-dimensional", 1.0),
    ],
)
def test_a_word_weighs_as_many_times_as_the_reference_says_it(
    reference: str, word: str, weight: float
) -> None:
    assert word_points(reference)[word].weight == weight


@pytest.mark.parametrize(
    ("reference", "word", "aliases"),
    [
        # a sentence holding a negation: its words may be said either way
        (REFERENCE, "base", ("not base",)),
        (REFERENCE, "not included", ()),  # the denied word keeps its "not"
        # the other sentence, and references with no negation, keep one wording
        ("It stops. The base case is never reached.", "stops", ()),
        ("It stops. The base case is never reached.", "base", ("not base",)),
        ("The base case is reached.", "base", ()),
    ],
)
def test_words_of_a_negative_sentence_may_be_said_with_a_not(
    reference: str, word: str, aliases: tuple[str, ...]
) -> None:
    assert word_points(reference)[word].aliases == aliases


@pytest.mark.parametrize(
    ("answer", "credited", "missed"),
    [
        ("there is no base case", {"base"}, {"step", "incorrectly"}),
        ("the base case is not included", {"base", "case", "not included"}, {"step"}),
        ("the base case is included", {"base", "case"}, {"not included"}),
        ("the recursion step is wrong", {"step"}, {"base", "not included"}),
    ],
)
def test_a_student_may_put_the_not_where_they_like(
    answer: str, credited: set[str], missed: set[str]
) -> None:
    card = Card(id="3.6", question=QUESTION, points=split_points(REFERENCE, "word", QUESTION))
    prepare_cards([card])
    got = {point.text for point in grade(card, answer).points if point.matched}
    assert credited <= got
    assert not missed & got


@pytest.mark.parametrize("split", ["word", "phrase", "clause", "sentence", "one"])
def test_every_split_gives_points(split: str) -> None:
    points = split_points(REFERENCE, split, QUESTION)
    assert points
    assert all(isinstance(point, Point) and point.text for point in points)


def test_each_answer_keeps_its_fastest_pass() -> None:
    passes = [[1.0, 5.0, 2.0], [3.0, 1.5, 9.0], [2.0, 4.0, 2.5]]
    assert best_of(passes) == [1.0, 1.5, 2.0]


def test_an_interruption_in_one_pass_does_not_reach_the_p99() -> None:
    quiet = [0.2] * 200
    interrupted = [*quiet[:100], 5.0, *quiet[101:]]  # another process took the CPU once
    assert percentile(best_of([quiet, interrupted, quiet]), 0.99) == 0.2
    assert percentile(interrupted + quiet + quiet, 0.999) == 5.0


def test_the_alias_free_deck_keeps_every_card_and_point_but_no_alias() -> None:
    with_aliases, plain = bundled_deck(aliases=True), bundled_deck(aliases=False)
    assert [card.id for card in plain.cards] == [card.id for card in with_aliases.cards]
    assert [[p.text for p in c.points] for c in plain.cards] == [
        [p.text for p in c.points] for c in with_aliases.cards
    ]
    assert any(point.aliases for card in with_aliases.cards for point in card.points)
    assert not any(point.aliases for card in plain.cards for point in card.points)


def test_the_alias_free_deck_leaves_the_aliased_deck_grading_as_before() -> None:
    with_aliases = bundled_deck(aliases=True)
    card = with_aliases.card("training-performance-metric")
    bundled_deck(aliases=False)
    assert grade(card, "samples per second").verdict == "correct"


@pytest.mark.parametrize(
    ("kind", "credited", "answer", "false_credit", "false_credit_not_junk"),
    [
        ("wrong", set(), "throughput", 1.0, 1.0),  # labelled wrong, graded right
        ("wrong", set(), "no idea", 0.0, 0.0),
        ("junk", set(), "throughput", 1.0, 0.0),  # junk is left out of the second rate
        ("paraphrase", {0}, "throughput", 0.0, 0.0),  # only answers given no point count
    ],
)
def test_false_credit_is_the_share_of_answers_a_teacher_gives_nothing_that_earn_a_point(
    kind: str,
    credited: set[int],
    answer: str,
    false_credit: float,
    false_credit_not_junk: float,
) -> None:
    card = bundled_deck().card("training-performance-metric")
    summary = summarise(evaluate([Labelled(card, kind, answer, frozenset(credited), None)]))
    assert summary.false_credit == false_credit
    assert summary.false_credit_attempts == false_credit_not_junk


def test_every_labelled_set_names_real_cards_and_points_and_has_a_role() -> None:
    deck = bundled_deck()
    assert {"dev", "heldout", "heldout2"} <= set(available_sets())
    assert not set(TUNING_SETS) & set(HELD_OUT_SETS)
    for name in available_sets():
        assert load_labelled(set_path(name), deck.by_id)
        assert set_role(name) in {"tuning", "held_out"}


def test_the_all_report_gives_every_set_with_and_without_aliases_and_no_single_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--all", "--quick", "--no-mohler"]) == 0
    lines = capsys.readouterr().out.splitlines()
    figures = dict(line.split(": ", 1) for line in lines)
    for name in available_sets():
        assert figures[f"{name}.role"] == set_role(name)
        for deck in ("aliases", "no_aliases"):
            for figure in ("answers", "point_f1", "verdict_agreement", "false_credit"):
                assert f"{name}.{deck}.{figure}" in figures
    assert "held_out_pooled.no_aliases.false_credit" in figures
    assert all(": " in line for line in lines)


def test_a_held_out_set_lists_no_failing_answer_unless_asked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["--set", "heldout2", "--quick", "--no-mohler"])
    assert "worst_disagreements: 0" in capsys.readouterr().out
