"""Two-way alignment of an answer's statements with the deck's points, to tell near misses.

A word a point shares with other cards ("lower", "workers", "model weights") says little on its
own: "lower accuracy" shares "lower" with "lower throughput", and "workers operate in lockstep"
shares "workers" with the asynchronous card's point although it is the synchronous card's. The
other cards' points are the best list of near misses a deck has, so each statement of an answer
is aligned both ways (Sultan et al. 2016: how much of a point the statement covers, and how much
of the statement aligns with the point) with the point it might earn and with every other
card's point it shares a word with. When another card's point is stated more fully, aligns
better overall, and explains words of the statement this point cannot, the statement states
that point, and earns this one nothing.

The rival points are prepared once per deck (``Rivals``); ``outshone`` runs per answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.textnorm import Token, mark_negations, tokenize

#: A rival must align this much better (in F1 of the two coverages) to take a statement.
RIVAL_MARGIN = 0.0


def answer_keys(token: Token) -> tuple[str, ...]:
    """Exact-match keys of one word: stem, text, and the bare singular ("CPUs" -> "cpu")."""
    text = token.text
    if len(text) >= 4 and text.endswith("s") and not text.endswith("ss"):
        return (token.stem, text, text[:-1])
    return (token.stem, text)


@dataclass(frozen=True, slots=True)
class Wording:
    """One way a point is said (its text or an alias), as weighted content words."""

    card: int  # number of the card in the deck
    point: int  # index of the point on its card
    keys: tuple[frozenset[str], ...]  # each content word's keys (its synonyms included)
    negated: tuple[bool, ...]  # the word is said with a "not" ("workers do not wait")
    weights: tuple[float, ...]
    total: float


@dataclass(frozen=True, slots=True)
class Rivals:
    """Every wording of every point of a deck, indexed by the keys of their words."""

    wordings: tuple[Wording, ...]
    by_key: dict[str, tuple[int, ...]]  # key -> numbers of the wordings holding it
    by_point: dict[tuple[int, int], tuple[int, ...]]  # (card, point) -> its wordings


def make_wording(
    card: int,
    point: int,
    text: str,
    weigh: callable,  # type: ignore[valid-type]
    expand: callable,  # type: ignore[valid-type]
) -> Wording | None:
    """A point's wording as weighted content words (None when it has none)."""
    keys: list[frozenset[str]] = []
    negated: list[bool] = []
    weights: list[float] = []
    tokens = tokenize(text)
    mark_negations(tokens)
    for token in tokens:
        if token.stop:
            continue
        word_keys = frozenset(answer_keys(token)) | expand(token)
        if word_keys in keys:
            continue
        keys.append(word_keys)
        negated.append(token.negated)
        weights.append(weigh(token))
    if not keys:
        return None
    return Wording(card, point, tuple(keys), tuple(negated), tuple(weights), sum(weights))


def build_rivals(wordings: Iterable[Wording]) -> Rivals:
    """Index wordings by their words' keys."""
    listed = tuple(wordings)
    by_key: dict[str, list[int]] = {}
    by_point: dict[tuple[int, int], list[int]] = {}
    for number, said in enumerate(listed):
        by_point.setdefault((said.card, said.point), []).append(number)
        for keys in said.keys:
            for key in keys:
                numbers = by_key.setdefault(key, [])
                if not numbers or numbers[-1] != number:
                    numbers.append(number)
    return Rivals(
        listed,
        {key: tuple(numbers) for key, numbers in by_key.items()},
        {point: tuple(numbers) for point, numbers in by_point.items()},
    )


def _align(
    said: Wording, statement: Sequence[tuple[int, frozenset[str], bool]]
) -> tuple[float, set[int]]:
    """(share of the wording's weight found in the statement, positions that align with it).

    A word aligns with a word of the same keys said the same way round (both denied or not).
    """
    covered = 0.0
    aligned: set[int] = set()
    for keys, negated, weight in zip(said.keys, said.negated, said.weights, strict=True):
        hit = [
            position for position, word, denied in statement if denied == negated and keys & word
        ]
        if hit:
            covered += weight
            aligned.update(hit)
    return covered / said.total, aligned


def _turned(
    wordings: Sequence[Wording],
    statement: Sequence[tuple[int, frozenset[str], bool]],
    tokens: Sequence[Token],
) -> bool:
    """True when the statement asserts a word the point only ever denies ("workers wait for
    each other" where every wording that has "wait" says "workers do not wait"), in a clause
    with another of the point's words: it says the point the other way round."""
    asserted = {
        key
        for said in wordings
        for keys, negated in zip(said.keys, said.negated, strict=True)
        if not negated
        for key in keys
    }
    for said in wordings:
        for keys, negated in zip(said.keys, said.negated, strict=True):
            if not negated or keys & asserted:
                continue
            for position, word, denied in statement:
                if denied or not keys & word:
                    continue
                clause = tokens[position].clause
                if any(
                    other != position
                    and tokens[other].clause == clause
                    and any(
                        other_keys & other_word
                        for other_keys in said.keys
                        if other_keys is not keys
                    )
                    for other, other_word, _ in statement
                ):
                    return True
    return False


def _f1(recall: float, precision: float) -> float:
    return 2 * recall * precision / (recall + precision) if recall + precision else 0.0


def outshone(
    rivals: Rivals,
    card: int,
    point: int,
    tokens: Sequence[Token],
    statement: Sequence[int],
    own_positions: set[int],
    own_share: float,
    given: frozenset[str],
    weigh: callable,  # type: ignore[valid-type]
) -> bool:
    """True when another card's point states this statement better than this point does.

    ``statement`` holds the token positions of one statement of the answer; ``own_positions``
    the positions where the grader found this point's words (fuzzily or through synonyms too);
    ``own_share`` how much of the point it found; ``given`` the keys of the question's words,
    which align with nothing (the question gives them away).
    """
    words = [
        (position, frozenset(answer_keys(tokens[position])), tokens[position].negated)
        for position in statement
        if not tokens[position].stop and not given.intersection(answer_keys(tokens[position]))
    ]
    if not words:
        return False
    weight_of = {position: weigh(tokens[position]) for position, _, _ in words}
    total = sum(weight_of.values())
    own_share_bag = 0.0
    own_aligned = set(own_positions)
    own_wordings = [rivals.wordings[number] for number in rivals.by_point.get((card, point), ())]
    if _turned(own_wordings, words, tokens):
        return True
    for said in own_wordings:
        share, aligned = _align(said, words)
        own_share_bag = max(own_share_bag, share)
        own_aligned |= aligned
    own_recall = max(own_share, own_share_bag)
    own_f1 = _f1(own_recall, sum(weight_of.get(position, 0.0) for position in own_aligned) / total)
    candidates = {
        number
        for _, keys, _ in words
        for key in keys
        for number in rivals.by_key.get(key, ())
        if rivals.wordings[number].card != card
    }
    for number in candidates:
        share, aligned = _align(rivals.wordings[number], words)
        if share <= own_recall or not aligned - own_aligned:
            continue  # it states this point as fully, or says nothing this point does not
        precision = sum(weight_of[position] for position in aligned) / total
        if _f1(share, precision) > own_f1 + RIVAL_MARGIN:
            return True
    return False
