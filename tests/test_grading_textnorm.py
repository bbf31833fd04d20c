"""Normalising and tokenizing for the grader: spelling, shorthand, offsets and negation scopes."""

from __future__ import annotations

import pytest

from bot.textnorm import americanize, mark_negations, tokenize


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
