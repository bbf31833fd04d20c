"""Normalising and tokenizing for the grader: spelling, shorthand, offsets and negation scopes."""

from __future__ import annotations

import random

import pytest

from bot.core import textnorm
from bot.core.textnorm import (
    ANTONYM_PAIRS,
    PHRASAL_VERBS,
    SYNONYM_GROUPS,
    americanize,
    mark_negations,
    opposites_of,
    phrasal_groups,
    squeeze,
    stem,
    synonym_groups,
    tokenize,
)


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("optimise", "optimize"),
        ("optimised", "optimized"),
        ("optimising", "optimizing"),
        ("utilisation", "utilization"),
        ("synchronise", "synchronize"),
        ("quantisation", "quantization"),
        ("visualisation", "visualization"),
        ("minimise", "minimize"),
        ("analyse", "analyze"),
        ("colour", "color"),
        ("behaviour", "behavior"),
        ("modelling", "modeling"),
        ("labelled", "labeled"),
        ("centre", "center"),
        ("defence", "defense"),
        ("programme", "program"),
    ],
)
def test_british_spellings_become_american(british: str, american: str) -> None:
    assert americanize(british) == american


@pytest.mark.parametrize(
    "word",
    ["advise", "promise", "exercise", "noise", "otherwise", "pairwise", "raise", "precise",
     "supervised", "surprising", "revision", "analysis", "four", "hour", "telling", "size"],
)  # fmt: skip
def test_words_that_only_look_british_are_left_alone(word: str) -> None:
    assert americanize(word) == word


def words(text: str) -> list[str]:
    return [token.text for token in tokenize(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("w/o waiting", ["without", "waiting"]),
        ("w/ gradients", ["with", "gradients"]),
        ("b/c it's slow", ["because", "its", "slow"]),
        ("e2e time", ["end", "to", "end", "time"]),
        ("data & model", ["data", "and", "model"]),
        ("data + model", ["data", "and", "model"]),
        ("dev -> prod", ["dev", "then", "prod"]),
        ("overlap I/O", ["overlap", "io"]),
        ("GPUs/TPUs", ["gpus", "tpus"]),
        ("two GPUs", ["2", "gpus"]),
        ("don't", ["dont"]),
        ("ＧＰＵ", ["gpu"]),
        ("naïve café", ["naive", "cafe"]),
        ("ﬁne-tuning", ["fine", "tuning"]),
    ],
)
def test_tokens_are_normalised_and_shorthand_expanded(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Ｍulti-dimensional array", "naïve café — ok", "e\u0301tape", "w/o ﬁxing it", "GPU/TPU"],
)
def test_token_offsets_point_into_the_original_text(text: str) -> None:
    for token in tokenize(text):
        fragment = text[token.start : token.end]
        assert fragment
        assert fragment.strip() == fragment


def test_hyphen_and_slash_glue_are_remembered() -> None:
    links = [(token.text, token.link) for token in tokenize("all-gather on GPU/TPU now")]
    assert links == [("all", " "), ("gather", "-"), ("on", " "), ("gpu", " "), ("tpu", "/"),
                     ("now", " ")]  # fmt: skip


def negated(text: str, restating: tuple[str, ...] = ()) -> list[str]:
    tokens = tokenize(text)
    mark_negations(tokens, restating)
    return [token.text for token in tokens if token.negated and not token.stop]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not throughput", ["throughput"]),
        ("throughput rather than latency", ["latency"]),
        ("latency instead of throughput", ["throughput"]),
        ("latency, not throughput", ["throughput"]),
        ("not latency but throughput", ["latency"]),
        ("it isn't latency", ["latency"]),
        ("it doesn't fit in memory", ["fit", "memory"]),
        ("never the CPU", ["cpu"]),
        ("without waiting", ["waiting"]),
        ("not only latency", []),
        ("no matter what, latency", []),
        ("throughput is not important", ["throughput"]),
        ("latency", []),
    ],
)
def test_negation_scopes(text: str, expected: list[str]) -> None:
    assert negated(text) == expected


def test_a_negation_that_only_restates_the_question_reaches_back() -> None:
    assert negated("the CPU is not the bottleneck", ("bottleneck",)) == ["cpu"]
    assert negated("the CPU is not the bottleneck") == ["bottleneck"]


# --- stretched letters, snake_case, shorthand, irregular forms ----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latencyyy", ["latency"]),
        ("noooo", ["no"]),
        ("yesss!!", ["yes"]),
        ("weight upd8", ["weight", "update"]),
        ("diff data", ["different", "data"]),
        ("1000 GPUs", ["1000", "gpus"]),
    ],
)
def test_stretched_letters_and_texting_shorthand_are_read_as_the_word(
    text: str, expected: list[str]
) -> None:
    assert words(text) == expected


def test_snake_case_glues_words_like_a_hyphen() -> None:
    links = [(token.text, token.link) for token in tokenize("reduce_scatter then all_gather")]
    assert links == [("reduce", " "), ("scatter", "-"), ("then", " "), ("all", " "),
                     ("gather", "-")]  # fmt: skip


@pytest.mark.parametrize(("form", "verb"), [("built", "build"), ("sent", "send"), ("ran", "run")])
def test_irregular_past_forms_stem_as_their_verb(form: str, verb: str) -> None:
    assert tokenize(form)[0].stem == tokenize(verb)[0].stem


@pytest.mark.parametrize(
    ("plural", "singular"),
    [("children", "child"), ("indices", "index"), ("vertices", "vertex"), ("matrices", "matrix")],
)
def test_irregular_plurals_stem_as_their_singular(plural: str, singular: str) -> None:
    assert tokenize(plural)[0].stem == tokenize(singular)[0].stem


@pytest.mark.parametrize("word", ["leaves", "bases", "axes"])
def test_plurals_that_are_also_other_words_keep_their_own_stem(word: str) -> None:
    assert tokenize(word)[0].stem == stem(word)


@pytest.mark.parametrize(("word", "squeezed"), [("plott", "plot"), ("noo", "no"), ("all", "al")])
def test_squeeze_cuts_every_run_of_a_letter_to_one(word: str, squeezed: str) -> None:
    assert squeeze(word) == squeezed


# --- negation: rejections, hedges, excess, idioms ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latency? no, throughput", ["latency"]),
        ("latency? nope", ["latency"]),
        ("latency - no, throughput", ["latency"]),
        ("latency — no, throughput", ["latency"]),
        ("latency? not really. throughput", ["latency"]),
        ("no it's latency", []),
        ("no, latency", []),
        ("it barely uses any CPU", ["uses", "cpu"]),
        ("hardly any memory", ["memory"]),
        ("too big to fit in memory", ["fit", "memory"]),
        ("too large for one GPU", ["1", "gpu"]),
        ("no more than two children", []),
        ("not as much throughput", []),
        ("you don't get as many samples", []),
        ("not deterministic and saving state is costly", ["deterministic"]),
    ],
)
def test_rejections_hedges_and_excess_deny_what_they_reach(text: str, expected: list[str]) -> None:
    assert negated(text) == expected


# --- the general vocabulary ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "other"),
    [("quickly", "fast"), ("huge", "large"), ("shard", "partition"), ("machine", "node"),
     ("ram", "memory"), ("infinite", "unlimited"), ("calculates", "compute"), ("ships", "send")],
)  # fmt: skip
def test_near_synonyms_share_a_group(word: str, other: str) -> None:
    assert set(synonym_groups(word, stem(word))) & set(synonym_groups(other, stem(other)))


@pytest.mark.parametrize(
    ("word", "opposite"),
    [("low", "high"), ("whole", "partition"), ("same", "different"), ("cpu", "gpu"),
     ("multiple", "single"), ("easier", "harder")],
)  # fmt: skip
def test_opposites_are_known_both_ways(word: str, opposite: str) -> None:
    assert opposite in opposites_of(word, stem(word))
    assert word in opposites_of(opposite, stem(opposite))


@pytest.mark.parametrize(
    ("text", "index", "meaning"),
    [("figure out the sources", 0, "identify"), ("pull the features out", 0, "extract"),
     ("look for a model", 0, "search")],
)  # fmt: skip
def test_two_word_verbs_mean_one_word(text: str, index: int, meaning: str) -> None:
    assert set(phrasal_groups(tokenize(text), index)) & set(synonym_groups(meaning, stem(meaning)))


def test_synonym_and_opposite_tables_stay_small_and_general() -> None:
    words_in_groups = {word for line in SYNONYM_GROUPS for word in line.split()}
    assert len(words_in_groups) < 600
    assert len(ANTONYM_PAIRS) < 80


def test_every_two_word_verb_means_a_word_of_the_synonym_table() -> None:
    for meaning in PHRASAL_VERBS.values():
        assert synonym_groups(meaning, stem(meaning)), meaning


def test_text_without_special_characters_splits_the_same_by_the_plain_pattern() -> None:
    """Most answers are split by the shorter pattern; it must find exactly what the full one
    finds wherever none of the characters only the full one needs occurs."""
    alphabet = [*"abxyz09 .,;:!?()[]{}\"'_\t\néüß中ﬁ", "  ", "''", "._", "a'b", "don't"]
    rng = random.Random(7)
    texts = ["it's 2 GPUs", "snake_case_words", "a.b,c", "naïve café", "(e.g. this)"]
    texts += [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30))) for _ in range(3000)
    ]
    for text in texts:
        assert not textnorm._SPECIAL_RE.search(text)
        full = [(m.span(), m.lastgroup) for m in textnorm._TOKEN_RE.finditer(text)]
        plain = [(m.span(), m.lastgroup) for m in textnorm._PLAIN_TOKEN_RE.finditer(text)]
        assert plain == full, text
