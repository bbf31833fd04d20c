"""The grader on the real cards of cards.yaml: what a fair teacher credits, and what not."""

from __future__ import annotations

import time

import pytest

from bot.core.grading import Grade, PointGrade, grade, prepare_cards, prepare_deck
from bot.decks.loader import BUNDLED_CARDS, Card, Deck, Point, load_deck

DECK: Deck = load_deck(BUNDLED_CARDS)
prepare_deck(DECK)
CARD_IDS = [card.id for card in DECK.cards]


def graded(card_id: str, answer: str) -> Grade:
    return grade(DECK.card(card_id), answer)


def credited(card_id: str, answer: str) -> set[int]:
    return {point.index for point in graded(card_id, answer).points if point.matched}


# --- word forms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        # case, Unicode NFKC (full-width letters, ligatures), punctuation
        ("preprocessing-bottleneck", "cpu", 0),
        ("preprocessing-bottleneck", "THE CPU!!!", 0),
        ("preprocessing-bottleneck", "ＣＰＵ", 0),
        ("training-performance-metric", "“Throughput.”", 0),
        ("rewind-replay-challenges", "many sources of non-determinism", 0),
        ("computation-graph", "a directed, acyclic graph", 0),
        ("debugging-importance", "it's hard to see: bugs show up as convergence issues", 1),
        ("single-node-training", "preprocessing is done on the CPU", 0),
        # plurals and other word forms
        ("preprocessing-bottleneck", "the cpus", 0),
        ("data-parallelism", "partitioning the data and running multiple copies of the model", 0),
        ("data-parallelism", "the data is partitioned and the model is copied many times", 0),
        ("model-part-tasks", "tuning the hyperparameters", 2),
        ("parameter-server-task", "aggregating gradients received from the workers", 0),
        ("dnn-training-characteristics", "it is computationally intensive", 0),
        # British and American spelling, both ways
        ("inference-step", "optimize for low latency", 2),
        ("inference-step", "optimise for low latency", 2),
        ("traditional-model-parallelism-problem", "low HW utilization (sequential deps)", 0),
        ("traditional-model-parallelism-problem", "low HW utilisation due to sequential deps", 0),
        ("data-parallelism", "synchronize weight updates", 1),
        ("data-parallelism", "synchronise weight updates", 1),
        ("inference-step", "quantize model weights for memory efficiency", 3),
        ("data-part-tasks", "visualize the data", 3),
    ],
)
def test_word_forms_case_and_spelling_do_not_matter(card_id: str, answer: str, point: int) -> None:
    assert point in credited(card_id, answer)


# --- compounds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        ("allreduce-steps", "all-gather", 2),
        ("allreduce-steps", "allgather", 2),
        ("allreduce-steps", "all gather", 2),
        ("allreduce-steps", "All-Gather", 2),
        ("allreduce-steps", "reduce-scatter", 1),
        ("allreduce-steps", "reducescatter", 1),
        ("allreduce-steps", "reduce scatter", 1),
        ("data-parallelism-implementations", "all reduce", 1),
        ("data-parallelism-implementations", "all-reduce", 1),
        ("data-parallelism-implementations", "AllReduce", 1),
        ("single-node-training", "DNN training on GPU/TPU", 1),
        ("single-node-training", "DNN training on GPUs or TPUs", 1),
        ("single-node-training", "the DNN trains on TPUs", 1),
        ("tensor", "a multi-dimensional array", 0),
        ("tensor", "a multidimensional array", 0),
        ("tensor", "a multi dimensional array", 0),
        ("tensor", "an n-dimensional array", 0),
        ("preprocessing-performance-why", "it affects the end to end training time", 0),
        ("preprocessing-performance-why", "it affects the e2e training time", 0),
        ("model-part-tasks", "tune hyper-parameters", 2),
    ],
)
def test_compounds_match_with_or_without_hyphens_and_spaces(
    card_id: str, answer: str, point: int
) -> None:
    assert point in credited(card_id, answer)


# --- typos ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        ("training-performance-metric", "thruput", 0),
        ("inference-performance-metric", "latancy", 0),
        ("inference-performance-metric", "latnecy", 0),
        ("ml-ecosystem-stages", "model devlopment, trainig, infrence", 0),
        ("ml-ecosystem-stages", "model devlopment, trainig, infrence", 1),
        ("ml-ecosystem-stages", "model devlopment, trainig, infrence", 2),
        ("rewind-replay-challenges", "nondeterminsm", 0),
        ("pipedream-idea", "update the weights immediatly", 1),
        ("sync-training-cost", "lowr thruput", 0),
        ("tensor", "multi dimentional array", 0),
    ],
)
def test_typos_are_tolerated_in_proportion_to_word_length(
    card_id: str, answer: str, point: int
) -> None:
    assert point in credited(card_id, answer)


@pytest.mark.parametrize(
    ("card_id", "answer"),
    [
        ("preprocessing-bottleneck", "GPU"),
        ("preprocessing-bottleneck", "the GPUs"),
        ("preprocessing-bottleneck", "TPU"),
        ("sync-vs-async-quality", "async"),
        ("sync-vs-async-quality", "asynchronous"),
        ("sync-vs-async-quality", "asynchronous training"),
        ("inference-performance-metric", "accuracy"),
        ("training-performance-metric", "latency"),
    ],
)
def test_short_words_and_negating_prefixes_are_never_typos(card_id: str, answer: str) -> None:
    assert graded(card_id, answer).verdict == "wrong"


@pytest.mark.parametrize("answer", ["sync", "synchronous", "synchronous training", "SYNC!"])
def test_sync_and_synchronous_credit_the_synchronous_card(answer: str) -> None:
    assert graded("sync-vs-async-quality", answer).verdict == "correct"


# --- abbreviations and aliases -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        # the card's own aliases, each enough on its own
        ("model-part-tasks", "HPO", 2),
        ("distributed-training-parallelism", "DP and MP", 0),
        ("distributed-training-parallelism", "DP and MP", 1),
        ("data-parallelism-implementations", "PS", 0),
        ("dnn-training-steps", "fwd pass", 0),
        ("dnn-training-steps", "backprop", 1),
        ("computation-graph", "directed acyclic graph", 0),
        ("inference-step", "int8 weights", 3),
        ("allreduce-why-possible", "NVLink", 0),
        # general shorthand
        ("pipedream-idea", "update weights w/o waiting", 1),
        ("allreduce-steps", "forward & backward pass", 0),
        ("distributed-training-parallelism", "data + model parallelism", 0),
        ("distributed-training-parallelism", "data + model parallelism", 1),
        ("ml-ecosystem-stages", "model development -> training -> inference", 2),
        ("preprocessing-performance-why", "e2e training time", 0),
        ("allreduce-idea", "gpus exchange grads directly, no PS", 0),
        ("large-datasets-problem", "overlap data fetching w/ training compute", 1),
    ],
)
def test_aliases_and_shorthand_credit_the_point(card_id: str, answer: str, point: int) -> None:
    assert point in credited(card_id, answer)


# --- word order and surrounding words ----------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer"),
    [
        ("inference-performance-metrics", "throughput, accuracy and latency"),
        ("inference-performance-metrics", "latency and accuracy and throughput"),
        ("inference-performance-metrics", "I'd say latency matters, also accuracy, throughput"),
        ("allreduce-steps", "all-gather after reduce-scatter, after computing forward/backward"),
        ("data-parallelism", "synchronise the weight updates; run copies of the model, data split"),
        ("tensor", "array (multi-dimensional) whose elements all have a uniform type"),
    ],
)
def test_word_order_and_surrounding_words_do_not_matter(card_id: str, answer: str) -> None:
    assert graded(card_id, answer).verdict == "correct"


# --- yes / no cards ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "verdict"),
    [
        ("pipeline-with-data-parallelism", "yep", "correct"),
        ("pipeline-with-data-parallelism", "Yes", "correct"),
        ("pipeline-with-data-parallelism", "yes, you can", "correct"),
        ("pipeline-with-data-parallelism", "sure", "correct"),
        ("pipeline-with-data-parallelism", "they can be combined", "correct"),
        ("pipeline-with-data-parallelism", "👍", "correct"),
        ("pipeline-with-data-parallelism", "no", "wrong"),
        ("pipeline-with-data-parallelism", "nope", "wrong"),
        ("pipeline-with-data-parallelism", "no, they can't", "wrong"),
        ("pipeline-with-data-parallelism", "not really", "wrong"),
        ("pipeline-with-data-parallelism", "idk", "wrong"),
        ("pipeline-with-data-parallelism", "not sure", "wrong"),
        ("pipeline-with-data-parallelism", "Can pipeline parallelism be combined?", "wrong"),
        ("trained-model-is-output", "nope", "correct"),
        ("trained-model-is-output", "no, it's the pipeline", "correct"),
        ("trained-model-is-output", "No.", "correct"),
        ("trained-model-is-output", "yes", "wrong"),
        ("trained-model-is-output", "yes it is", "wrong"),
        ("trained-model-is-output", "no idea", "wrong"),
    ],
)
def test_yes_no_cards_read_the_reply(card_id: str, answer: str, verdict: str) -> None:
    assert graded(card_id, answer).verdict == verdict


def test_a_yes_no_point_quotes_the_decisive_word_as_evidence() -> None:
    result = graded("trained-model-is-output", "Nope, it's the training pipeline")
    assert result.points[0].evidence == "Nope"


# --- negation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer"),
    [
        ("training-performance-metric", "not throughput"),
        ("training-performance-metric", "it isn't throughput"),
        ("training-performance-metric", "never throughput"),
        ("training-performance-metric", "latency rather than throughput"),
        ("training-performance-metric", "latency instead of throughput"),
        ("training-performance-metric", "throughput is not what matters"),
        ("inference-performance-metric", "throughput rather than latency"),
        ("inference-performance-metric", "throughput, not latency"),
        ("inference-performance-metric", "it's not about latency"),
        ("preprocessing-bottleneck", "the CPU isn't the bottleneck"),
        ("sync-vs-async-quality", "asynchronous, not synchronous"),
        ("model-parallelism", "partition the data across nodes, not the model"),
    ],
)
def test_negated_terms_earn_nothing(card_id: str, answer: str) -> None:
    assert graded(card_id, answer).verdict == "wrong"


@pytest.mark.parametrize(
    ("card_id", "answer", "expected"),
    [
        ("inference-performance-metrics", "latency, not throughput", {2}),
        ("inference-performance-metrics", "not throughput but latency and accuracy", {1, 2}),
        ("inference-performance-metrics", "only latency; throughput doesn't matter", {2}),
        ("ml-ecosystem-stages", "training, not only inference but model development", {0, 1, 2}),
    ],
)
def test_negation_reaches_only_its_own_scope(card_id: str, answer: str, expected: set[int]) -> None:
    assert credited(card_id, answer) == expected


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        # "without", "no", "not" belong to the point's own wording: same polarity, same credit
        ("pipedream-idea", "update the weights without waiting", 1),
        ("allreduce-idea", "there is no parameter server, GPUs talk to each other directly", 0),
        ("asynchronous-training", "workers don't wait for each other", 0),
        ("large-datasets-problem", "the data doesn't fit in memory", 0),
        ("rewind-replay-challenges", "training is not reproducible", 0),
        # a negative question is answered in the negative
        ("trained-model-limits", "you can't retrain it", 0),
    ],
)
def test_negation_inside_the_point_itself_is_matched_in_kind(
    card_id: str, answer: str, point: int
) -> None:
    assert point in credited(card_id, answer)


def test_a_negated_fact_is_not_credited_when_the_point_states_it() -> None:
    assert 0 not in credited("large-datasets-problem", "the data fits in memory fine")


# --- no credit from the question ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer"),
    [
        ("data-parallelism", "Data parallelism is parallelism of data"),
        ("data-parallelism", "data parallelism"),
        ("model-parallelism", "model parallelism is parallelism of the model"),
        ("model-development-parts", "The two parts of model development"),
        ("model-development-parts", "model and development"),
        ("preprocessing-bottleneck", "the bottleneck resource for preprocessing"),
        ("tensor", "a tensor"),
        ("static-computation-graph", "a static computation graph"),
        ("training-step", "the second stage of the ML ecosystem"),
    ],
)
def test_repeating_the_question_earns_nothing(card_id: str, answer: str) -> None:
    assert graded(card_id, answer).verdict == "wrong"


@pytest.mark.parametrize("card_id", CARD_IDS)
def test_the_question_itself_earns_nothing_on_any_card(card_id: str) -> None:
    card = DECK.card(card_id)
    assert grade(card, card.question).verdict == "wrong"


@pytest.mark.parametrize(
    ("card_id", "answer", "expected"),
    [
        # points made only of question words are earned by naming them, not by echoing
        ("feature-extraction-model-search-steps", "feature extraction and model search", {0, 1}),
        ("model-development-parts", "data and model", {0, 1}),
        ("model-development-parts", "there's a data part and a model part", {0, 1}),
        ("sync-vs-async-quality", "synchronous", {0}),
        ("distributed-training-parallelism", "data and model", {0, 1}),
    ],
)
def test_points_made_of_question_words_can_still_be_earned(
    card_id: str, answer: str, expected: set[int]
) -> None:
    assert credited(card_id, answer) == expected


@pytest.mark.parametrize("card_id", CARD_IDS)
def test_every_card_credits_its_own_reference_answer(card_id: str) -> None:
    card = DECK.card(card_id)
    assert grade(card, card.reference_answer).verdict == "correct"


@pytest.mark.parametrize("card_id", CARD_IDS)
def test_every_point_and_alias_credits_its_own_point(card_id: str) -> None:
    card = DECK.card(card_id)
    for index, point in enumerate(card.points):
        for wording in (point.text, *point.aliases):
            assert grade(card, wording).points[index].matched, (index, wording)


@pytest.mark.parametrize(
    ("card_id", "answer"),
    [
        ("training-performance-metric", "second"),  # of "samples per second"
        ("training-performance-metric", "batch"),  # of "batches per second"
        ("inference-performance-metric", "time"),  # of "response time"
        ("sync-vs-async-quality", "training"),  # of "synchronous training"
        ("model-development-output", "training"),  # of "training pipeline"
        ("static-graph-advantages", "memory"),  # of "memory planning"
    ],
)
def test_a_bare_word_does_not_earn_a_wording_of_several_words_it_is_only_part_of(
    card_id: str, answer: str
) -> None:
    result = grade(DECK.card(card_id), answer)
    assert result.verdict == "wrong"
    assert result.score == 0.0


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        ("training-performance-metric", "samples per second", 0),
        ("inference-performance-metric", "response time", 0),
        ("inference-performance-metric", "delay", 0),  # a one-word alias
        ("sync-vs-async-quality", "sync", 0),
        ("data-part-tasks", "cleaning", 2),  # the word that carries "clean data"
        ("feature-extraction-model-search-steps", "feat extraction, model search, HP tuning", 2),
    ],
)
def test_the_whole_wording_or_its_main_word_still_earns_the_point(
    card_id: str, answer: str, point: int
) -> None:
    assert grade(DECK.card(card_id), answer).points[point].matched


# --- junk --------------------------------------------------------------------------------------

JUNK = [
    "",
    "   \n\t ",
    "idk",
    "?",
    "???",
    "pass",
    "banana",
    "🤷",
    "😀😀😀",
    "asdfghjkl",
    "...",
    "لا أعرف الإجابة",
    "אני לא יודע",
    "<script>alert('x')</script>",
    "<b></b><i>&nbsp;</i>",
    "lorem ipsum dolor sit amet " * 160,
    "x" * 4096,
    "\u200f\u202e\u0000\ufeff",
]


@pytest.mark.parametrize("answer", JUNK, ids=range(len(JUNK)))
def test_junk_scores_zero_and_is_wrong(answer: str) -> None:
    for card_id in ("tensor", "pipeline-with-data-parallelism", "training-step", "allreduce-steps"):
        result = graded(card_id, answer)
        assert result.score == 0.0, card_id
        assert result.verdict == "wrong", card_id
        assert all(point.evidence is None for point in result.points), card_id


def test_a_keyword_dump_of_the_whole_deck_earns_nothing() -> None:
    dump = (
        "throughput latency CPU GPU allreduce parameter server pipeline retrain audit "
        "lineage dependencies sync async DAG tensor"
    )
    assert graded("trained-model-limits", dump).verdict == "wrong"


def test_very_long_answers_are_graded_quickly() -> None:
    answer = "partition the data and run multiple copies of the model " * 400
    assert len(answer) > 10_000
    started = time.perf_counter()
    result = graded("data-parallelism", answer)
    assert time.perf_counter() - started < 0.25
    assert result.points[0].matched


# --- the Grade API -----------------------------------------------------------------------------


def test_a_grade_carries_score_verdict_and_one_entry_per_point() -> None:
    card = DECK.card("inference-performance-metrics")
    result = grade(card, "Latency, and accuracy too")
    assert isinstance(result, Grade)
    assert result.card_id == card.id
    assert result.score == pytest.approx(2 / 3)
    assert result.verdict == "partial"
    assert [point.point for point in result.points] == card.points
    assert [point.index for point in result.points] == [0, 1, 2]
    assert [point.matched for point in result.points] == [False, True, True]
    assert [point.text for point in result.credited] == ["accuracy", "latency"]
    assert [point.text for point in result.missed] == ["throughput"]
    assert result.points[2].evidence == "Latency"
    assert result.points[0].evidence is None
    assert result.points[0].missing_terms == ("throughput",)
    assert result.points[2].credited and result.points[0].missed


@pytest.mark.parametrize(
    ("card_id", "answer"),
    [
        ("data-parallelism", "Every worker gets a COPY of the model; the data is Partitioned."),
        ("allreduce-steps", "fwd/bwd, then Reduce-Scatter and finally ALL-GATHER"),
        ("tensor", "Ｍulti-dimensional  array\twith uniform\ntypes"),
        ("training-performance-metric", "« thruput »"),
    ],
)
def test_evidence_quotes_the_students_own_words(card_id: str, answer: str) -> None:
    result = graded(card_id, answer)
    assert result.credited
    for point in result.credited:
        assert point.evidence
        assert point.evidence in answer


def test_evidence_is_the_tightest_fragment_that_earned_the_point() -> None:
    result = graded("dnn-training-steps", "forward pass, backward pass, update weights")
    assert [point.evidence for point in result.points] == [
        "forward pass",
        "backward pass",
        "update weights",
    ]


def test_similarity_is_a_share_between_zero_and_one() -> None:
    result = graded("data-parallelism", "run copies of the model")
    assert all(0.0 <= point.similarity <= 1.0 for point in result.points)
    assert result.points[0].similarity > 0.0


def test_grading_is_deterministic() -> None:
    answer = "partition the data, copies of the model, sync weight updates"
    assert graded("data-parallelism", answer) == graded("data-parallelism", answer)


def test_point_weights_set_the_score() -> None:
    card = Card(
        id="weighted",
        question="What matters for serving?",
        points=[Point("low latency", weight=3.0), Point("high accuracy", weight=1.0)],
    )
    result = grade(card, "low latency")
    assert result.score == pytest.approx(0.75)
    assert result.verdict == "partial"


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("retrain, track data and code, capture dependencies", "correct"),
        ("retrain and audit", "partial"),
        ("nothing", "wrong"),
    ],
)
def test_pass_ratio_makes_enough_points_correct(answer: str, verdict: str) -> None:
    original = DECK.card("trained-model-limits")
    card = Card(id=original.id, question=original.question, points=original.points, pass_ratio=0.75)
    assert grade(card, answer).verdict == verdict


def test_a_hand_built_card_is_prepared_lazily() -> None:
    card = Card(id="x", question="What is latency?", points=[Point("time per request")])
    assert not card.cache
    assert grade(card, "the time each request takes").verdict == "correct"
    assert card.cache
    assert grade(card, "latency").verdict == "wrong"
    assert grade(card, "").verdict == "wrong"


def test_prepare_cards_stores_matching_data_once_per_card() -> None:
    cards = [
        Card(id="a", question="What is throughput?", points=[Point("samples per second")]),
        Card(id="b", question="What is latency?", points=[Point("seconds per request")]),
    ]
    prepare_cards(cards)
    prepared = [card.cache["grading"] for card in cards]
    assert grade(cards[0], "samples per second").verdict == "correct"
    assert [card.cache["grading"] for card in cards] == prepared


def test_point_grade_exposes_what_the_bot_shows() -> None:
    point = graded("tensor", "a multi-dimensional array").points[0]
    assert isinstance(point, PointGrade)
    assert point.text == "a multi-dimensional array"
    assert point.weight == 1.0
    assert point.credited and not point.missed
    assert point.matched_terms


def test_a_card_edited_after_preparation_is_prepared_again() -> None:
    card = Card(id="x", question="What is latency?", points=[Point("time per request")])
    prepare_cards([card])
    card.points.append(Point("network round trips"))
    result = grade(card, "time per request and network round trips")
    assert result.verdict == "correct"
    assert len(result.points) == 2


# --- rejections across a question mark or dash -------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "expected"),
    [
        ("inference-performance-metric", "latency? no, throughput", set()),
        ("inference-performance-metric", "latency? no, mainly throughput (QPS)", set()),
        ("inference-performance-metric", "latency - nope, throughput", set()),
        ("inference-performance-metric", "latency — no, throughput", set()),
        ("pipeline-parallelism", "pipeline parallelism? no, asynchronous training", set()),
        ("deep-neural-networks", "multiple hidden layers? no, just one wide layer", set()),
        ("inference-performance-metrics", "throughput? no. latency and accuracy", {1, 2}),
        ("inference-performance-metric", "latency? yes, latency", {0}),
        ("inference-performance-metric", "no it's latency", {0}),
    ],
)
def test_a_no_after_a_question_mark_or_dash_rejects_what_came_before(
    card_id: str, answer: str, expected: set[int]
) -> None:
    assert credited(card_id, answer) == expected


# --- stretched and doubled letters -------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "verdict"),
    [
        ("trained-model-is-output", "noo", "correct"),
        ("trained-model-is-output", "nooooo, the pipeline is", "correct"),
        ("trained-model-is-output", "yesss", "wrong"),
        ("pipeline-with-data-parallelism", "yesss", "correct"),
        ("pipeline-with-data-parallelism", "yeees of course", "correct"),
        ("pipeline-with-data-parallelism", "noooo", "wrong"),
        ("inference-performance-metric", "latencyyy", "correct"),
        ("training-performance-metric", "THROUGHPUTTTT!!!", "correct"),
    ],
)
def test_stretched_letters_read_as_the_word(card_id: str, answer: str, verdict: str) -> None:
    assert graded(card_id, answer).verdict == verdict


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        ("data-part-tasks", "plott the trends and anomalies", 3),
        ("feature-extraction-model-search-steps", "Feature extractn, model srch", 0),
        ("feature-extraction-model-search-steps", "Feature extractn, model srch", 1),
        ("dnn-training-steps", "fwd, bwd, weight upd8", 2),
    ],
)
def test_doubled_letters_dropped_vowels_and_texting_shorthand_are_typos(
    card_id: str, answer: str, point: int
) -> None:
    assert point in credited(card_id, answer)


# --- contrast ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "expected"),
    [
        ("sync-training-cost", "the cost is lower accuracy, not throughput", set()),
        ("sync-training-cost", "lower accuracy but not lower throughput", set()),
        ("inference-performance-metrics", "latency but not throughput", {2}),
        ("inference-performance-metric", "throughput isn't it, latency is", {0}),
        ("training-performance-metric", "latency isn't it, throughput is", {0}),
        ("training-performance-metric", "throughput isn't it, latency is", set()),
        ("preprocessing-performance-why", "it barely uses any CPU", set()),
        ("sync-training-cost", "not accuracy but throughput: it gets lower", {0}),
    ],
)
def test_a_contrast_credits_only_what_is_affirmed(
    card_id: str, answer: str, expected: set[int]
) -> None:
    assert credited(card_id, answer) == expected


# --- opposites and swapped roles ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "expected"),
    [
        # an opposite said of the point's own word
        ("model-parallelism", "every node has the whole model but a different batch", set()),
        ("traditional-model-parallelism-problem", "hardware utilisation is high", set()),
        ("tensor", "a multi-dimensional array whose elements can have different types", {0}),
        ("deep-neural-networks", "a neural network with exactly one hidden layer", set()),
        ("pipedream-issue", "the weights are always the same version everywhere", set()),
        ("dynamic-graph-advantages", "harder to debug, but it copes with control flow", {2}),
        # the roles of sibling points swapped
        ("single-node-training", "the GPU preprocesses the data and the CPU trains the model",
         set()),
        ("dnn-training-steps", "the forward pass computes the gradients, the backward pass "
         "computes the loss, then you update the weights", {2}),
        ("computation-graph", "a DAG where the nodes are tensors and the edges are operations",
         {0}),
        ("computation-graph", "edges are operations and nodes are the data", set()),
        # the card's words paired crosswise within one point
        ("data-parallelism", "partition the model and run multiple copies of the data", set()),
    ],
)  # fmt: skip
def test_a_point_said_the_other_way_round_earns_nothing(
    card_id: str, answer: str, expected: set[int]
) -> None:
    assert credited(card_id, answer) == expected


@pytest.mark.parametrize(
    ("card_id", "answer"),
    [
        ("single-node-training", "the CPU preprocesses the data and the GPU trains the model"),
        ("single-node-training", "GPU for training and CPU for preprocessing"),
        ("dnn-training-steps", "the backward pass computes gradients and the forward pass "
         "computes activations and loss, then the weights are updated"),
        ("dnn-training-steps", "forward pass to compute the loss, backward pass for the gradients, "
         "then update the weights"),
        ("computation-graph", "a DAG where nodes are operations and edges are the tensors flowing "
         "between them"),
        ("computation-graph", "DAG, nodes = math ops, edges = tensors flowing between ops"),
        ("deep-neural-networks", "neural networks with more than one hidden layer"),
        ("deep-neural-networks", "NN with >1 hidden layer"),
        ("data-parallelism", "copy the model to every GPU and split the data between them; sync "
         "the weights after each step"),
        ("data-parallelism", "every GPU gets a full copy of the model and a slice of the data, "
         "then the gradients are averaged"),
        ("tensor", "an n-dimensional array where all elements share the same type"),
        ("traditional-model-parallelism-problem", "low hardware utilization since the layers "
         "depend on each other sequentially"),
    ],
)  # fmt: skip
def test_the_same_words_paired_the_right_way_still_earn_everything(
    card_id: str, answer: str
) -> None:
    assert graded(card_id, answer).verdict == "correct"


def test_words_shared_with_a_sibling_point_cannot_earn_it_alone() -> None:
    # "compute" and "gradients" also belong to other points: "backward pass" is what tells
    assert 1 not in credited("dnn-training-steps", "it computes")
    assert 1 in credited("dnn-training-steps", "the backward pass computes gradients")


# --- synonyms, two-word verbs, the deck's own glossary -----------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        ("data-part-tasks", "gather data from various places", 0),
        ("data-part-tasks", "figure out which data sources to use", 0),
        ("feature-extraction-model-search-steps", "first pull the features out of the raw data", 0),
        ("parameter-server-worker", "ships the gradients off to the parameter server", 3),
        ("parameter-server-worker", "calculates gradients", 2),
        ("static-graph-advantages", "can optimize more since you see the whole graph first", 0),
        ("dnn-training-characteristics", "the datasets are massive", 2),
        ("data-parallelism", "each worker trains on its own piece of the data with a duplicate "
         "of the model", 0),
        ("model-parallelism", "the model is divided across several machines", 0),
    ],
)  # fmt: skip
def test_general_synonyms_and_two_word_verbs_credit_a_paraphrase(
    card_id: str, answer: str, point: int
) -> None:
    assert point in credited(card_id, answer)


def test_a_synonym_weighs_a_little_less_than_the_cards_own_word() -> None:
    own = graded("model-parallelism", "partition the model across multiple nodes").points[0]
    near = graded("model-parallelism", "partition the model across multiple machines").points[0]
    assert own.matched and near.matched
    assert near.similarity < own.similarity


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        ("parameter-server-worker", "it receives a part", 1),  # "gets a subset", synonyms only
        ("dnn-training-steps", "reduce-scatter, all-gather, broadcast", 2),  # no "minimise" in it
    ],
)
def test_synonyms_alone_never_earn_a_point_of_several_words(
    card_id: str, answer: str, point: int
) -> None:
    assert point not in credited(card_id, answer)


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        ("sync-training-cost", "you process fewer samples per second", 0),
        ("inference-step", "optimise for low response time", 2),
        ("single-node-training", "data preprocessing is done on the central processing unit", 0),
    ],
)
def test_a_deck_term_may_be_said_the_way_another_card_spells_it_out(
    card_id: str, answer: str, point: int
) -> None:
    assert point in credited(card_id, answer)


# --- implicit negation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "point", "earned"),
    [
        ("rewind-replay-challenges", "runs aren't deterministic", 0, True),
        ("rewind-replay-challenges", "training is non-reproducible", 0, True),
        ("rewind-replay-challenges", "runs are deterministic", 0, False),
        ("why-model-parallelism", "some models are too large to fit on a single device", 0, True),
        ("large-datasets-problem", "the dataset is too big for RAM", 0, True),
        ("large-datasets-problem", "the data fits in memory fine", 0, False),
    ],
)
def test_non_and_too_deny_like_not(card_id: str, answer: str, point: int, earned: bool) -> None:
    assert (point in credited(card_id, answer)) is earned


def one_point_card(text: str, aliases: tuple[str, ...] = ()) -> Card:
    card = Card(
        id="hand-built",
        question="What do you know about the topic?",
        points=[Point(text, aliases)],
    )
    prepare_cards([card])
    return card


@pytest.mark.parametrize(
    ("point", "answer", "earned"),
    [
        ("unlimited", "there is no limit", True),
        ("unlimited", "it is not limited at all", True),
        ("inefficient", "it's not efficient", True),
        ("nondeterministic", "the runs are not deterministic", True),
        ("unlimited", "there is a limit of one", False),
        ("inefficient", "it is efficient", False),
        ("unlimited", "unlimited", True),
        # a short word glued to a prefix makes another word: no "import" from "not port"
        ("import it", "it does not port it", False),
        ("input", "do not put it there", False),
        ("inform", "it does not form a loop", False),
    ],
)
def test_a_denied_word_says_its_denying_prefix_form(point: str, answer: str, earned: bool) -> None:
    assert grade(one_point_card(point), answer).points[0].matched is earned


@pytest.mark.parametrize(
    ("aliases", "answer", "earned"),
    [
        # the card offers the word with a "not" too: where the "not" goes is the student's call
        (("no base case",), "there is no base case", True),
        (("no base case",), "the base case is missing", True),
        # without such a wording, a short point the answer denies is still missed
        ((), "there is no base case", False),
        (("the stopping case",), "there is no base case", False),
    ],
)
def test_a_point_worded_with_a_not_may_be_said_either_way(
    aliases: tuple[str, ...], answer: str, earned: bool
) -> None:
    assert grade(one_point_card("base case", aliases), answer).points[0].matched is earned


# --- evidence ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card_id", "answer", "point", "evidence"),
    [
        ("allreduce-steps", "first <b>reduce scatter</b> & then", 1, "reduce scatter"),
        ("allreduce-steps", "reduce_scatter, then all_gather", 1, "reduce_scatter"),
        ("allreduce-steps", "reduce_scatter, then all_gather", 2, "all_gather"),
        ("model-parallelism", "we partition the big model across many nodes", 0,
         "partition the big model across many nodes"),
        ("data-parallelism", "partition the data, which is what everybody does first in these "
         "big training jobs anyway, and run copies of the model", 0,
         "partition the data … run copies of the model"),
    ],
)  # fmt: skip
def test_evidence_spans_the_matching_words_and_splits_when_far_apart(
    card_id: str, answer: str, point: int, evidence: str
) -> None:
    assert graded(card_id, answer).points[point].evidence == evidence


def test_a_word_that_only_begins_a_compound_is_not_the_compound() -> None:
    result = graded("allreduce-steps", "first reduce-scatter, then all-gather")
    assert result.points[1].evidence == "reduce-scatter"
    assert result.points[2].evidence == "all-gather"


@pytest.mark.parametrize(
    ("card_id", "answer", "verdict"),
    [
        ("sync-training-cost", "you don't get as much throughput", "correct"),
        ("sync-training-cost", "not as many samples per second", "correct"),
        ("training-performance-metric", "not as much latency as throughput", "correct"),
        ("sync-training-cost", "not throughput", "wrong"),
    ],
)
def test_not_as_much_says_less_not_none(card_id: str, answer: str, verdict: str) -> None:
    assert graded(card_id, answer).verdict == verdict
