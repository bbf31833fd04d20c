"""The grader's general principles, on small made-up decks (never the bundled one).

Contrast with the deck's other cards, adjectives that need their noun, points said the other
way round, antonyms that never match, WordNet synonyms, initials, and the two-way alignment
score: each is shown on decks it was not written for, so it generalises.
"""

from __future__ import annotations

import pytest

from bot.core.cards import Card, Point
from bot.core.grading import alignment, grade, prepare_cards
from bot.core.keyterms import can_be_noun
from bot.core.lexicon import ADJECTIVES, NOUNS, WORDNET_ANTONYMS, WORDNET_SYNONYMS
from bot.core.textnorm import informativeness, opposed, opposites_of, synonyms_of


def make_deck(*cards: tuple[str, str, list[str]]) -> dict[str, Card]:
    """Cards (id, question, point texts), prepared together as one deck."""
    made = [
        Card(id=card_id, question=question, points=[Point(text) for text in points])
        for card_id, question, points in cards
    ]
    prepare_cards(made)
    return {card.id: card for card in made}


SCALING = make_deck(
    ("horizontal", "What is horizontal scaling?", ["add more machines to the pool"]),
    ("vertical", "What is vertical scaling?", ["add more CPU and RAM to one machine"]),
    ("mutex", "What is a mutex?", ["only one thread enters the critical section at a time"]),
    ("semaphore", "What is a semaphore?", ["a counter lets several threads enter at once"]),
    ("cache-cost", "What does a cache cost?", ["higher memory use"]),
    ("cache-gain", "What does a cache give?", ["lower latency"]),
    ("tcp", "What does TCP guarantee?", ["ordered delivery", "retransmission of lost packets"]),
    ("udp", "What does UDP offer instead?", ["no ordering guarantees", "lower overhead"]),
)


@pytest.mark.parametrize(
    ("card_id", "answer", "verdict"),
    [
        # another card's answer earns nothing, though it shares words with this card's point
        ("horizontal", "add more CPU and RAM to one machine", "wrong"),
        ("vertical", "add more machines to the pool", "wrong"),
        ("semaphore", "only one thread enters the critical section at a time", "wrong"),
        ("mutex", "several threads enter at once", "wrong"),
        # ...while this card's own answer, in other words, still earns it
        ("horizontal", "add more machines", "correct"),
        ("horizontal", "put extra servers in the pool", "correct"),
        ("vertical", "a bigger machine with more RAM and CPU", "correct"),
        ("semaphore", "a counter that lets several threads in", "correct"),
        ("mutex", "just one thread at a time in the critical section", "correct"),
    ],
)
def test_an_answer_that_states_another_cards_point_earns_nothing(
    card_id: str, answer: str, verdict: str
) -> None:
    assert grade(SCALING[card_id], answer).verdict == verdict


@pytest.mark.parametrize(
    ("card_id", "answer", "verdict"),
    [
        ("cache-cost", "higher latency", "wrong"),  # "higher" without "memory"
        ("cache-cost", "higher memory use", "correct"),
        ("cache-cost", "it uses more memory", "correct"),
        ("cache-gain", "lower memory use", "wrong"),  # "lower" without "latency"
        ("cache-gain", "latency gets lower", "correct"),
        ("udp", "lower reliability", "partial"),  # "no ordering" is not said: nothing more
        ("udp", "no ordering guarantees and lower overhead", "correct"),
    ],
)
def test_an_adjective_earns_nothing_without_the_noun_it_qualifies(
    card_id: str, answer: str, verdict: str
) -> None:
    graded = grade(SCALING[card_id], answer)
    assert graded.verdict == verdict or (verdict == "partial" and graded.verdict == "wrong")


def test_credited_points_still_quote_the_students_words() -> None:
    graded = grade(SCALING["horizontal"], "You put extra servers in the pool.")
    assert graded.points[0].evidence == "extra servers in the pool"


TRAINING = make_deck(
    ("async", "What is asynchronous training?", ["workers do not wait for each other"]),
    ("sync", "What is synchronous training?", ["all workers wait at a barrier every step"]),
    ("ps", "What does a parameter server do?", ["aggregates the gradients of all workers"]),
    ("dp", "What are the two kinds of parallelism?", ["data parallelism", "model parallelism"]),
)


@pytest.mark.parametrize(
    ("answer", "credited"),
    [
        ("workers wait for each other", False),  # what the point denies, asserted
        ("the workers never wait for each other", True),
        ("workers do not wait for the others", True),
    ],
)
def test_a_statement_that_asserts_what_the_point_denies_earns_nothing(
    answer: str, credited: bool
) -> None:
    assert grade(TRAINING["async"], answer).points[0].matched is credited


@pytest.mark.parametrize(
    ("answer", "credited"),
    [
        ("DP and MP", [True, True]),
        ("dp", [True, False]),  # spells no common word: read in lower case too
        ("MP", [False, True]),  # a common word ("mp") only in capitals
        ("mp", [False, False]),
    ],
)
def test_initials_stand_for_the_words_of_a_point(answer: str, credited: list[bool]) -> None:
    assert [point.matched for point in grade(TRAINING["dp"], answer).points] == credited


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("increase", "decrease"),
        ("lower", "higher"),
        ("synchronous", "asynchronous"),
        ("import", "export"),
        ("fast", "slow"),
        ("input", "output"),
    ],
)
def test_antonyms_are_opposed_either_way_round(first: str, second: str) -> None:
    assert opposed(first, second)
    assert opposed(second, first)


@pytest.mark.parametrize("word", ["slow", "fast", "lower", "higher", "large", "small"])
def test_no_synonym_of_a_word_is_its_antonym(word: str) -> None:
    assert not any(opposed(word, other) for other in synonyms_of(word, word))


ORDERS = make_deck(
    ("counter", "What happens to the counter?", ["increase the counter"]),
    ("budget", "What does the manager do?", ["advise the team", "achieve the goals"]),
    ("sizes", "What kind of input is slow?", ["a large input"]),
)


@pytest.mark.parametrize(
    ("card_id", "answer", "credited"),
    [
        ("counter", "decrease the counter", [False]),  # two edits away, but the opposite
        ("counter", "increse the counter", [True]),  # a typo still earns it
        ("budget", "counsel the team and attain the goals", [True, True]),  # WordNet synonyms
        ("sizes", "a big input", [True]),
        ("sizes", "a small input", [False]),
    ],
)
def test_antonyms_never_match_and_wordnet_synonyms_do(
    card_id: str, answer: str, credited: list[bool]
) -> None:
    assert [point.matched for point in grade(ORDERS[card_id], answer).points] == credited


def test_the_wordnet_table_is_shipped_and_general() -> None:
    assert len(WORDNET_SYNONYMS) > 1000
    assert ("decrease", "increase") in WORDNET_ANTONYMS
    assert "attain" in synonyms_of("achieve", "achiev")
    assert "memory" in NOUNS
    assert "sequential" in ADJECTIVES


@pytest.mark.parametrize(
    ("rare", "common"),
    [("throughput", "the"), ("latency", "model"), ("allreduce", "data")],
)
def test_rarer_english_words_tell_more(rare: str, common: str) -> None:
    assert informativeness(rare) > informativeness(common)


REPLICATION = make_deck(
    (
        "replication",
        "Why replicate a database?",
        ["survive the failure of a server", "serve more reads in parallel"],
    ),
    ("sharding", "Why shard a database?", ["store more data than one server holds"]),
)


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        (
            "to survive a server failure and to serve more reads in parallel",
            "to survive a server failure",
        ),
        ("to survive a server failure", "to store more data than one server can hold"),
        ("to survive a server failure", "because databases are nice"),
        (
            "to survive the failure of a server",
            "to survive the failure of a server, and also my cat likes to sleep on keyboards",
        ),
    ],
)
def test_the_two_way_alignment_ranks_answers_by_what_they_say(better: str, worse: str) -> None:
    card = REPLICATION["replication"]
    assert alignment(card, better) > alignment(card, worse)


@pytest.mark.parametrize("answer", ["", "?", "idk", "why replicate a database"])
def test_the_alignment_of_an_empty_or_echoed_answer_is_zero(answer: str) -> None:
    assert alignment(REPLICATION["replication"], answer) == 0.0


def test_a_card_graded_alone_still_aligns() -> None:
    card = Card(
        id="alone", question="What is a tensor?", points=[Point("a multi-dimensional array")]
    )
    assert alignment(card, "a multi-dimensional array") > alignment(card, "a list")


FORMS = make_deck(
    ("metric", "What matters most for a classifier?", ["accuracy"]),
    ("habit", "What should a reviewer show?", ["tolerance"]),
)


@pytest.mark.parametrize(
    ("card_id", "answer", "credited"),
    [
        ("metric", "how accurate it is", True),
        ("metric", "how accurately it predicts", True),
        ("metric", "how inaccurate it is", False),  # the antonym is no form of the word
        ("habit", "be tolerant", True),
    ],
)
def test_other_forms_of_a_word_earn_it(card_id: str, answer: str, credited: bool) -> None:
    assert grade(FORMS[card_id], answer).points[0].matched is credited


COMPOUNDS = make_deck(
    ("robust", "What makes a network protocol robust?", ["fault-tolerance"]),
    ("speed", "What makes a cache fast?", ["memory-locality"]),
)


@pytest.mark.parametrize(
    ("card_id", "answer", "credited"),
    [
        ("robust", "it tolerates faults", True),  # the compound's words apart, other forms
        ("robust", "faults are tolerated", True),
        ("robust", "it has faults", False),
        ("speed", "locality of memory accesses", True),
        ("speed", "memory", False),
    ],
)
def test_a_hyphen_compound_said_in_other_words_order_earns_it(
    card_id: str, answer: str, credited: bool
) -> None:
    assert grade(COMPOUNDS[card_id], answer).points[0].matched is credited


def make_aliased_deck(*cards: tuple[str, str, list[tuple[str, list[str]]]]) -> dict[str, Card]:
    """Cards (id, question, (point text, aliases)), prepared together as one deck."""
    made = [
        Card(
            id=card_id,
            question=question,
            points=[Point(text, tuple(aliases)) for text, aliases in points],
        )
        for card_id, question, points in cards
    ]
    prepare_cards(made)
    return {card.id: card for card in made}


BAKERY = make_aliased_deck(
    (
        "ahead",
        "How does a bakery bake ahead?",
        [("the kitchen first bakes the bread, then sells it", ["bake the loaves before selling"])],
    ),
    (
        "on-demand",
        "How does a bakery bake on demand?",
        [("the kitchen bakes the bread as it is being sold", ["baked while selling"])],
    ),
    ("quality", "What do customers judge a bakery by?", [("freshness", ["how fresh it is"])]),
    ("cost", "What do owners judge a bakery by?", [("margin", ["profit per loaf"])]),
)


@pytest.mark.parametrize(
    ("card_id", "answer", "credited"),
    [
        # a short alias said in full does not shield the point from the sibling card's
        # wording that explains the same words and more
        ("on-demand", "bake the loaves first, then sell them", False),
        ("on-demand", "baked while selling", True),
        ("ahead", "bake the loaves before selling them", True),
        # two cards' points named side by side, each in its own words: a list of both
        ("quality", "freshness and margin", True),
        ("cost", "freshness and margin", True),
    ],
)
def test_an_alias_said_in_full_is_outshone_by_a_sibling_that_explains_its_words(
    card_id: str, answer: str, credited: bool
) -> None:
    assert grade(BAKERY[card_id], answer).points[0].matched is credited


SLOTS = make_deck(
    ("night-shift", "What does a bakery's night shift produce?", ["bread dough"]),
    ("pastry-chef", "What does the pastry chef make?", ["pastry cream"]),
    ("why-shard", "Why shard a database?", ["the tables do not fit on one server"]),
    ("why-cache", "Why add a cache in front of a database?", ["repeated queries are slow"]),
    ("replica", "Why add a replica?", ["survive a crash of the primary"]),
    ("index", "Why add an index?", ["find rows without a full scan"]),
)


@pytest.mark.parametrize(
    ("card_id", "answer", "verdict"),
    [
        # another card's word in the place of the point's own word names something else
        ("pastry-chef", "the bread cream", "wrong"),
        ("why-shard", "the queries do not fit on one server", "wrong"),
        # the point's own word there, or a word no card of the deck uses, is left alone
        ("night-shift", "the bread dough", "correct"),
        ("night-shift", "dough for bread", "correct"),
        ("why-shard", "the tables don't fit on one server", "correct"),
        ("why-shard", "the records do not fit on one server", "correct"),
    ],
)
def test_a_word_of_another_card_in_the_place_of_the_points_word_vetoes_it(
    card_id: str, answer: str, verdict: str
) -> None:
    assert grade(SLOTS[card_id], answer).verdict == verdict


@pytest.mark.parametrize(
    ("word", "noun"),
    [("tables", True), ("datasets", True), ("get", False), ("using", False), ("quickly", False)],
)
def test_words_are_told_nouns_from_verbs_adverbs_and_participles(word: str, noun: bool) -> None:
    assert can_be_noun(word) is noun


RENDERING = make_deck(
    (
        "one-box",
        "How is single-machine rendering done?",
        ["scene parsing done on the CPU", "rendering on GPUs"],
    ),
    ("farm", "How is distributed rendering done?", ["split the frames across many machines"]),
    ("cache", "Why cache textures?", ["avoid loading them twice"]),
)


@pytest.mark.parametrize(
    ("answer", "credited"),
    [
        # the roles swapped, the other side pairing a word of the question ("rendering")
        ("parsing runs on GPUs and the rendering on CPUs", [False, False]),
        ("scene parsing on the CPU and rendering on GPUs", [True, True]),
        ("parsing on the CPU, rendering on the GPU", [True, True]),
        ("the CPU parses the scene, the GPU renders", [True, True]),
    ],
)
def test_a_role_swap_is_seen_when_one_side_pairs_a_word_of_the_question(
    answer: str, credited: list[bool]
) -> None:
    assert [point.matched for point in grade(RENDERING["one-box"], answer).points] == credited


TWINS = make_aliased_deck(
    (
        "ahead",
        "What is batch baking of bread?",
        [("the kitchen first bakes the bread, then sells it", ["bake the loaves before selling"])],
    ),
    (
        "on-demand",
        "What is on-demand baking of bread?",
        [("the kitchen bakes the bread as it is being sold", [])],
    ),
    ("quality", "What do customers judge a bakery by?", [("freshness", ["how fresh it is"])]),
    ("cost", "What do owners judge a bakery by?", [("margin", ["profit per loaf"])]),
)


@pytest.mark.parametrize(
    ("answer", "credited"),
    [
        # a word only the near-twin card's wordings say, and none only this point's: the
        # twin's claim, even when the twin is said less fully than this point
        ("the kitchen first bakes the whole batch and only then sells it", False),
        ("the kitchen bakes it first and sells it later", False),
        ("the kitchen bakes it as it is being sold", True),
    ],
)
def test_a_word_only_a_near_twin_says_takes_the_statement(answer: str, credited: bool) -> None:
    assert grade(TWINS["on-demand"], answer).points[0].matched is credited


MISSTATING = make_deck(
    (
        "tuple",
        "What is a Python tuple?",
        ["an immutable sequence", "elements having a uniform type"],
    ),
    (
        "gc",
        "What does a tracing garbage collector do?",
        ["finds unreachable objects", "frees their memory"],
    ),
)


@pytest.mark.parametrize(
    ("card_id", "answer", "verdict"),
    [
        # one shared word, in a sentence that says the card's other point the other way round
        ("tuple", "a sequence where every element may have a different type", "wrong"),
        ("gc", "it frees reachable objects", "wrong"),
        # the same word earns its share where nothing is misstated
        ("tuple", "a sequence whose elements share one type", "correct"),
        ("gc", "it finds unreachable objects and frees them", "correct"),
    ],
)
def test_a_lone_shared_word_in_a_sentence_that_misstates_the_card_earns_nothing(
    card_id: str, answer: str, verdict: str
) -> None:
    assert grade(MISSTATING[card_id], answer).verdict == verdict


@pytest.mark.parametrize(
    ("word", "opposite"),
    [("reachable", "unreachable"), ("linear", "nonlinear"), ("unsafe", "safe")],
)
def test_a_word_and_its_un_or_non_form_are_opposites(word: str, opposite: str) -> None:
    assert opposite in opposites_of(word, word)


@pytest.mark.parametrize("word", ["crease", "side", "play"])
def test_words_that_only_look_prefixed_get_no_opposite_from_in_or_dis(word: str) -> None:
    assert not {"in" + word, "dis" + word} & opposites_of(word, word)


KIOSK = make_deck(
    (
        "kiosk",
        "How does a kiosk work?",
        ["the screen shows menus", "the card reader takes payments"],
    ),
    ("flowchart", "What is a flowchart?", ["boxes are actions", "arrows are transitions"]),
)


@pytest.mark.parametrize(
    "answer",
    [
        # "takes payments" comes from one statement and "card reader" from another, and each
        # of those statements says the other point's words
        "the screen takes payments and the card reader shows menus",
        "the card reader shows the menus, and the screen takes the payments",
    ],
)
def test_a_point_pieced_together_from_statements_about_other_points_is_not_earned(
    answer: str,
) -> None:
    assert not grade(KIOSK["kiosk"], answer).points[1].matched


@pytest.mark.parametrize(
    "answer",
    [
        "the screen shows menus and the card reader takes payments",
        "it has a screen that shows menus, and a card reader that takes payments",
    ],
)
def test_points_said_statement_by_statement_are_both_earned(answer: str) -> None:
    assert grade(KIOSK["kiosk"], answer).verdict == "correct"


SHORTENED = make_deck(
    ("dns", "What does DNS do?", ["maps names to IP addresses", "uses a distributed database"]),
    ("ci", "What does a CI server do?", ["runs the test suite", "reports failures to developers"]),
    ("wal", "Where does a database write commits first?", ["the WAL"]),
    ("build", "What does a build produce?", ["an artifact"]),
    ("schema", "What does a schema check do?", ["it can validate each value"]),
)


@pytest.mark.parametrize(
    ("card_id", "answer", "point"),
    [
        # an acronym the card writes, spelt out word by word
        ("wal", "to the write ahead log", 0),
        # a short form that is no English word, of one word of the card
        ("ci", "runs the tests and reports failures to devs", 1),
        ("dns", "a distrib database", 1),
    ],
)
def test_a_spelt_out_acronym_or_a_shortened_word_says_the_cards_word(
    card_id: str, answer: str, point: int
) -> None:
    assert grade(SHORTENED[card_id], answer).points[point].matched


@pytest.mark.parametrize(
    ("card_id", "answer"),
    [
        # the initials run across two clauses
        ("wal", "to the write, ahead log"),
        # a common English word that begins a word of the card is that word ("art")
        ("build", "art"),
        # a short form of two words of the card ("val": validate, value) tells neither
        ("schema", "it can val each"),
    ],
)
def test_words_that_only_look_like_a_cards_short_form_earn_nothing(
    card_id: str, answer: str
) -> None:
    assert grade(SHORTENED[card_id], answer).verdict != "correct"


COMPILERS = {
    card.id: card
    for card in [
        Card(
            id="jit",
            question="What does a JIT compiler do?",
            points=[
                Point(
                    "code is compiled as the program is being executed", ("compiled while running",)
                )
            ],
        ),
        Card(
            id="aot",
            question="What does an AOT compiler do?",
            points=[
                Point(
                    "all the code is translated first, then it runs",
                    ("compile the code before running it",),
                )
            ],
        ),
        Card(
            id="prefetch",
            question="What does a prefetcher do?",
            points=[Point("loads the next batch while the GPU computes")],
        ),
    ]
}
prepare_cards(COMPILERS.values())


@pytest.mark.parametrize(
    ("card_id", "answer", "verdict"),
    [
        # one thing after the other is not one thing while the other happens
        ("prefetch", "loads the next batch before the GPU computes", "wrong"),
        ("prefetch", "loads the next batch during the GPU computation", "correct"),
        # a short alias said in full does not stand when another card's alias says the answer
        # more fully ("first, then" is the other card's order)
        ("jit", "compile the code first, then run it", "wrong"),
        ("jit", "it compiles the code while running", "correct"),
        ("aot", "compile the code first, then run it", "correct"),
    ],
)
def test_the_order_of_two_things_tells_cards_apart(card_id: str, answer: str, verdict: str) -> None:
    assert grade(COMPILERS[card_id], answer).verdict == verdict
