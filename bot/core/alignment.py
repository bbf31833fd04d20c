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

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter

from bot.core.textnorm import Token, mark_negations, tokenize

#: A rival must align this much better (in F1 of the two coverages) to take a statement.
RIVAL_MARGIN = 1e-9
#: The answer's alignment score weighs covering the points this many times as much as saying
#: nothing else (F-beta): a teacher docks less for extra words than for missing content.
ALIGNMENT_BETA = 3.0


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
    keys: tuple[frozenset[str], ...]  # each content word's keys
    negated: tuple[bool, ...]  # the word is said with a "not" ("workers do not wait")
    weights: tuple[float, ...]
    total: float
    similar: tuple[frozenset[str], ...] = ()  # each word's keys with its synonyms'


@dataclass(frozen=True, slots=True)
class Rivals:
    """Every wording of every point of a deck, indexed by the keys of their words."""

    wordings: tuple[Wording, ...]
    by_key: dict[tuple[str, bool], tuple[tuple[int, int], ...]]  # (key, denied) -> (wording,
    # word) of each word holding it
    by_point: dict[tuple[int, int], tuple[int, ...]]  # (card, point) -> its wordings
    denied_only: frozenset[tuple[int, int]] = frozenset()  # points with a word only ever denied
    #: (card, point) -> its near twins on other cards: (the twin's text wording, the keys of
    #: the words only the twin says, the keys of the words only this point says)
    twins: dict[tuple[int, int], tuple[Twin, ...]] = field(default_factory=dict)
    #: card -> the cards whose question asks what one of its points names ("What is data
    #: parallelism?" for the point "data parallelism"): their answers state that point
    defining: dict[int, frozenset[int]] = field(default_factory=dict)
    #: each wording's heaviest word's share of its weight: how much any one word found can add
    top_shares: tuple[float, ...] = field(init=False, default=())
    cards: tuple[int, ...] = field(init=False, default=())  # each wording's card

    def __post_init__(self) -> None:
        object.__setattr__(self, "top_shares", tuple(_top_share(said) for said in self.wordings))
        object.__setattr__(self, "cards", tuple(said.card for said in self.wordings))


def make_wording(
    card: int,
    point: int,
    text: str,
    weigh: Callable[[Token], float],
    expand: Callable[[Token], frozenset[str]],
) -> Wording | None:
    """A point's wording as weighted content words (None when it has none)."""
    keys: list[frozenset[str]] = []
    similar: list[frozenset[str]] = []
    negated: list[bool] = []
    weights: list[float] = []
    tokens = tokenize(text)
    mark_negations(tokens)
    for token in tokens:
        if token.stop:
            continue
        word_keys = frozenset(answer_keys(token))
        if word_keys in keys:
            continue
        keys.append(word_keys)
        similar.append(word_keys | expand(token))
        negated.append(token.negated)
        weights.append(weigh(token))
    if not keys:
        return None
    return Wording(
        card, point, tuple(keys), tuple(negated), tuple(weights), sum(weights), tuple(similar)
    )


def build_rivals(wordings: Iterable[Wording], questions: Sequence[frozenset[str]] = ()) -> Rivals:
    """Index wordings by their words' keys and polarity."""
    listed = tuple(wordings)
    by_key: dict[tuple[str, bool], list[tuple[int, int]]] = {}
    by_point: dict[tuple[int, int], list[int]] = {}
    for number, said in enumerate(listed):
        by_point.setdefault((said.card, said.point), []).append(number)
        for word, (keys, negated) in enumerate(
            zip(said.similar or said.keys, said.negated, strict=True)
        ):
            for key in keys:
                by_key.setdefault((key, negated), []).append((number, word))
    return Rivals(
        listed,
        {key: tuple(entries) for key, entries in by_key.items()},
        {point: tuple(numbers) for point, numbers in by_point.items()},
        frozenset(
            point
            for point, numbers in by_point.items()
            if _denied_only([listed[number] for number in numbers])
        ),
        _twins(listed, by_point),
        _defining(listed, by_point, questions),
    )


def _top_share(said: Wording) -> float:
    """The largest share of the wording's weight one of its words holds (without a positive
    total there is no bound: such a wording is always summed)."""
    return max(said.weights, default=0.0) / said.total if said.total > 0 else math.inf


def _defining(
    wordings: Sequence[Wording],
    by_point: dict[tuple[int, int], list[int]],
    questions: Sequence[frozenset[str]],
) -> dict[int, frozenset[int]]:
    """card -> the other cards whose question names one of its points, every word of it.

    Questions are looked up by key, so a deck of thousands of cards is not read pairwise."""
    asking: dict[str, set[int]] = {}
    for number, asked in enumerate(questions):
        for key in asked:
            asking.setdefault(key, set()).add(number)
    found: dict[int, set[int]] = {}
    for (card, _), numbers in by_point.items():
        candidates: set[int] | None = None
        for keys in wordings[numbers[0]].keys:
            naming = set().union(*(asking.get(key, ()) for key in keys))
            candidates = naming if candidates is None else candidates & naming
            if not candidates:
                break
        candidates = (candidates or set()) - {card}
        if candidates:
            found.setdefault(card, set()).update(candidates)
    return {card: frozenset(others) for card, others in found.items()}


#: Two points' texts are near twins when at least this share of their words is shared.
TWIN_OVERLAP = 0.5
#: Twins are found through the words they share that at most this many points say: in a deck of
#: thousands of cards a common word would pair every point with every other (quadratic time).
TWIN_KEY_MAX_POINTS = 64

Twin = tuple[int, tuple[frozenset[str], ...], tuple[frozenset[str], ...]]


def _twins(
    wordings: Sequence[Wording], by_point: dict[tuple[int, int], list[int]]
) -> dict[tuple[int, int], tuple[Twin, ...]]:
    """Points of different cards whose texts say nearly the same words ("the framework first
    builds the graph, then executes it" / "... builds the graph as it is executed"): the words
    that tell them apart decide which of the two an answer states."""
    texts = [(point, wordings[numbers[0]]) for point, numbers in by_point.items() if numbers]
    # Only points that share a word can be twins: find them by key, not by reading all pairs,
    # and only through words few points say (a word in every other point tells no two apart).
    saying: dict[str, set[int]] = {}
    for number, (_, said) in enumerate(texts):
        for keys in said.keys:
            for key in keys:
                saying.setdefault(key, set()).add(number)
    found: dict[tuple[int, int], list[Twin]] = {}
    for point, said in texts:
        sharing: set[int] = set()
        for keys in said.keys:
            for key in keys:
                if len(saying[key]) <= TWIN_KEY_MAX_POINTS:
                    sharing |= saying[key]
        for number in sorted(sharing):
            other_point, other = texts[number]
            if other_point[0] == point[0]:
                continue
            shared = [keys for keys in said.keys if any(keys & theirs for theirs in other.keys)]
            union = len(said.keys) + len(other.keys) - len(shared)
            if not shared or len(shared) < TWIN_OVERLAP * union:
                continue
            only_mine = tuple(k for k in said.keys if not any(k & theirs for theirs in other.keys))
            # the twin's words that no wording of this point says, its aliases' too
            mine_all = [k for number in by_point[point] for k in wordings[number].keys]
            only_theirs = tuple(
                dict.fromkeys(
                    k
                    for number in by_point[other_point]
                    for k in wordings[number].keys
                    if not any(k & mine for mine in mine_all)
                )
            )
            if only_theirs or only_mine:
                found.setdefault(point, []).append(
                    (by_point[other_point][0], only_theirs, only_mine)
                )
    return {point: tuple(twins) for point, twins in found.items()}


def _denied_only(wordings: Sequence[Wording]) -> list[frozenset[str]]:
    """The keys of a point's words that its wordings only ever say denied ("wait" in "workers
    do not wait")."""
    asserted = {
        key
        for said in wordings
        for keys, negated in zip(said.keys, said.negated, strict=True)
        if not negated
        for key in keys
    }
    return [
        keys
        for said in wordings
        for keys, negated in zip(said.keys, said.negated, strict=True)
        if negated and not keys & asserted
    ]


Said = Sequence[tuple[int, frozenset[str], bool]]  # (position, keys, denied) of answer words
Index = dict[tuple[str, bool], list[int]]  # (key, denied) -> positions of the answer words


def index_words(words: Said) -> Index:
    """Answer words by key and polarity, so a wording aligns in a few look-ups."""
    index: Index = {}
    for position, keys, denied in words:
        for key in keys:
            index.setdefault((key, denied), []).append(position)
    return index


def _align(
    said: Wording, index: Index, given: frozenset[str] = frozenset(), similar: bool = False
) -> tuple[float, set[int]]:
    """(share of the wording's weight found in the statement, positions that align with it).

    A word aligns with a word of the same keys said the same way round (both denied or not).
    Words in ``given`` (the question's) are left out of the wording; ``similar`` lets a word
    align through its synonyms too.
    """
    covered = 0.0
    total = said.total
    aligned: set[int] = set()
    words = said.similar if similar and said.similar else said.keys
    for keys, negated, weight in zip(words, said.negated, said.weights, strict=True):
        if given and not given.isdisjoint(keys):
            total -= weight
            continue
        found = False
        for key in keys:
            positions = index.get((key, negated))
            if positions:
                aligned.update(positions)
                found = True
        if found:
            covered += weight
    return (covered / total if total > 0 else 0.0), aligned


def _turned(wordings: Sequence[Wording], statement: Said, tokens: Sequence[Token]) -> bool:
    """True when the statement asserts a word the point only ever denies ("workers wait for
    each other" where every wording that has "wait" says "workers do not wait"), in a clause
    with another of the point's words: it says the point the other way round."""
    for keys in _denied_only(wordings):
        for position, word, denied in statement:
            if denied or not keys & word:
                continue
            clause = tokens[position].clause
            for other, other_word, _ in statement:
                if other == position or tokens[other].clause != clause:
                    continue
                if any(
                    other_keys is not keys and other_keys & other_word
                    for said in wordings
                    for other_keys in said.keys
                ):
                    return True
    return False


def _said(keys: frozenset[str], index: Index) -> bool:
    """True when the statement says a word with these keys, not denied."""
    return any((key, False) in index for key in keys)


def _said_beyond(keys: frozenset[str], index: Index, own_positions: set[int]) -> bool:
    """True when the statement says a word with these keys, not denied, where the grader found
    none of this point's words (an alias of the point may say the twin's word too)."""
    return any(
        position not in own_positions for key in keys for position in index.get((key, False), ())
    )


def _f1(recall: float, precision: float) -> float:
    return 2 * recall * precision / (recall + precision) if recall + precision else 0.0


def statement_words(
    tokens: Sequence[Token], positions: Iterable[int], given: frozenset[str]
) -> list[tuple[int, frozenset[str], bool]]:
    """(position, keys, denied) of the content words at these positions, the question's
    words left out (the question gives them away)."""
    words = []
    for position in positions:
        token = tokens[position]
        if token.stop:
            continue
        keys = answer_keys(token)
        if given and not given.isdisjoint(keys):
            continue
        words.append((position, frozenset(keys), token.negated))
    return words


def two_way(
    wordings: Sequence[Sequence[Wording]],
    point_weights: Sequence[float],
    found: Sequence[float],
    words: Sequence[tuple[int, frozenset[str], bool]],
    weight_of: dict[int, float],
    matched: set[int],
    given: frozenset[str],
) -> float:
    """How well an answer and a card's points align, both ways (Sultan et al. 2016), 0..1.

    Coverage of the points: each point's best share found (``found``, from the grader, or its
    wordings' words found in the answer), weighted like the points; coverage of the answer:
    the share of its words' weight that align with a word of some point (or that the grader
    ``matched``). Combined as an F-beta that favours coverage of the points.
    """
    total_weight = sum(point_weights)
    if not total_weight:
        return 0.0
    covered = 0.0
    aligned = set(matched)
    index = index_words(words)
    for said_ways, weight, share in zip(wordings, point_weights, found, strict=True):
        best = share
        for said in said_ways:
            coverage, positions = _align(said, index, given, similar=True)
            best = max(best, coverage)
            aligned |= positions
        covered += weight * min(best, 1.0)
    recall = covered / total_weight
    total = sum(weight_of[position] for position, _, _ in words)
    precision = (
        sum(weight_of[position] for position, _, _ in words if position in aligned) / total
        if total
        else 0.0
    )
    beta2 = ALIGNMENT_BETA**2
    denominator = beta2 * precision + recall
    return (1 + beta2) * precision * recall / denominator if denominator else 0.0


#: Relative slack on the bound that rules a wording out before its share is summed: float
#: rounding moves a share by far less, so a wording near the bound is always summed.
SHARE_BOUND_SLACK = 1e-6


#: Each word's ``answer_keys`` as a set, by its text (a token's stem follows from its text),
#: remembered for this many words: statements read the same words answer after answer.
KEY_SETS_SIZE = 65536
_KEY_SETS: dict[str, frozenset[str]] = {}


class Statement:
    """One statement of an answer, read once for every point that might be earned there."""

    def __init__(
        self,
        tokens: Sequence[Token],
        positions: Sequence[int],
        given: frozenset[str],
        weigh: Callable[[Token], float],
    ) -> None:
        self.tokens = tokens
        self.positions = positions
        # ``statement_words``, their weights and ``index_words`` in one pass over the words
        words: list[tuple[int, frozenset[str], bool]] = []
        weight_of: dict[int, float] = {}
        index: Index = {}
        key_weights: dict[tuple[str, bool], float] = {}  # the weight of each key's positions
        self.words, self.weight_of, self.index = words, weight_of, index
        self._key_weights = key_weights
        key_sets = _KEY_SETS
        for position in positions:
            token = tokens[position]
            if token.stop:
                continue
            word_keys = key_sets.get(token.text)
            if word_keys is None:
                word_keys = frozenset(answer_keys(token))
                if len(key_sets) < KEY_SETS_SIZE:
                    key_sets[token.text] = word_keys
            if given and not given.isdisjoint(word_keys):
                continue
            denied = token.negated
            words.append((position, word_keys, denied))
            weight_of[position] = weight = weigh(token)
            for key in word_keys:
                said = (key, denied)
                index.setdefault(said, []).append(position)
                key_weights[said] = key_weights.get(said, 0.0) + weight
        self.total = sum(weight_of.values())
        self._found: dict[int, set[int]] | None = None
        self._shares: dict[int, float] = {}
        self._precisions: dict[int, float] = {}
        self._precision_bounds: dict[int, float] = {}
        self._candidates: dict[int, list[tuple[float, int]]] = {}  # card -> ``_bounded``
        self._hits: dict[int, list[tuple[str, bool]]] = {}
        self._aligned: dict[int, set[int]] = {}

    def rivals(self, rivals: Rivals) -> dict[int, set[int]]:
        """wording number -> its words found, for every wording of the deck sharing a word
        with the statement (one pass over the statement's keys; shares and positions are
        worked out only for the wordings asked about)."""
        found = self._found
        if found is None:
            found = self._found = {}
            hits = self._hits
            by_key = rivals.by_key
            for key in self.index:
                entries = by_key.get(key)
                if entries is None:
                    continue
                for number, word in entries:
                    words = found.get(number)
                    if words is None:
                        found[number] = {word}
                        hits[number] = [key]
                    else:
                        words.add(word)
                        hits[number].append(key)
        return found

    def share(self, rivals: Rivals, number: int) -> float:
        """The share of wording ``number``'s weight found in the statement (after ``rivals``)."""
        share = self._shares.get(number)
        if share is None:
            said = rivals.wordings[number]
            assert self._found is not None
            share = sum(map(said.weights.__getitem__, self._found[number])) / said.total
            self._shares[number] = share
        return share

    def stated_more_fully(
        self, rivals: Rivals, card: int, defining: frozenset[int], own_share: float
    ) -> list[tuple[int, float]]:
        """(wording number, share) of other cards' wordings (not of the ``defining`` cards)
        stated more fully than ``own_share``, or in full, in no particular order."""
        candidates = self._candidates.get(card)
        if candidates is None:
            candidates = self._candidates[card] = self._bounded(rivals, card, defining)
        wordings, shares = rivals.wordings, self._shares
        # A wording whose words found could not make up more than this share, even at their
        # heaviest, cannot be stated more fully: the rest of the list is never summed.
        floor = min(own_share, 1.0) * (1.0 - SHARE_BOUND_SLACK)
        others = []
        for bound, number in candidates:
            if bound < floor:
                break
            share = shares.get(number)
            if share is None:
                said = wordings[number]
                words = self._found[number]  # type: ignore[index]
                share = shares[number] = sum(map(said.weights.__getitem__, words)) / said.total
            if share > own_share or share >= 1.0:
                others.append((number, share))
        return others

    def _bounded(
        self, rivals: Rivals, card: int, defining: frozenset[int]
    ) -> list[tuple[float, int]]:
        """(most the share can be, wording number) of the other cards' wordings found, the
        highest bound first: the words found, each at its wording's heaviest word's share."""
        cards, top_shares = rivals.cards, rivals.top_shares
        bounded = [
            (len(words) * top_shares[number], number)
            for number, words in self.rivals(rivals).items()
            if cards[number] != card and cards[number] not in defining
        ]
        bounded.sort(key=itemgetter(0), reverse=True)  # (ties in any order: see ``outshone``)
        return bounded

    def precision(self, number: int) -> float:
        """The share of the statement's weight that aligns with wording ``number``."""
        precision = self._precisions.get(number)
        if precision is None:
            weight_of = self.weight_of
            precision = sum(map(weight_of.__getitem__, self.aligned(number))) / self.total
            self._precisions[number] = precision
        return precision

    def precision_at_most(self, number: int) -> float:
        """A bound ``precision`` never exceeds (word weights are never negative), cheaper to
        work out: the weight of the positions of every key that matched the wording, summed
        key by key (a position counts once per key and word of the wording it matched)."""
        bound = self._precision_bounds.get(number)
        if bound is None:
            keys = self._hits.get(number, ())
            bound = sum(map(self._key_weights.__getitem__, keys)) / self.total
            self._precision_bounds[number] = bound
        return bound

    def aligned(self, number: int) -> set[int]:
        """The statement's positions where the words of wording ``number`` were found."""
        positions = self._aligned.get(number)
        if positions is None:
            positions = set()
            for key in self._hits.get(number, ()):
                positions.update(self.index[key])
            self._aligned[number] = positions
        return positions


def outshone(
    rivals: Rivals,
    card: int,
    point: int,
    statement: Statement,
    own_positions: set[int],
    own_share: float,
    qualifier: Callable[[Token], bool],
    asked: frozenset[str] = frozenset(),
) -> bool:
    """True when another card's point states this statement better than this point does.

    ``own_positions`` are the statement's positions where the grader found the card's words
    (fuzzily or through synonyms too); ``own_share`` how much of the point it found;
    ``qualifier`` tells words that only qualify another ("full"), which alone make no other
    claim, and ``asked`` holds the keys of this card's question, whose words make none either.
    The question's words count here: saying them ties the statement to this card.
    """
    words, tokens, total = statement.words, statement.tokens, statement.total
    if not words:
        return False
    weight_of = statement.weight_of
    own_wordings = [rivals.wordings[number] for number in rivals.by_point.get((card, point), ())]
    if (card, point) in rivals.denied_only and _turned(own_wordings, words, tokens):
        return True
    found = statement.rivals(rivals)
    for number, only_theirs, only_mine in rivals.twins.get((card, point), ()):
        if number not in found:
            continue
        share, aligned = statement.share(rivals, number), statement.aligned(number)
        mine = any(_said(keys, statement.index) for keys in only_mine) or bool(
            own_positions - aligned  # the grader found more of this card than the twin says
        )
        if mine:
            continue
        if any(_said_beyond(keys, statement.index, own_positions) for keys in only_theirs):
            return True  # a word only the twin's wordings say, and nothing only this point's
        if share >= own_share and only_mine and share >= 1.0 > own_share:
            return True  # the twin in full, this point not
    own_share_bag = 0.0
    own_aligned = set(own_positions)
    for said in own_wordings:
        share, aligned = _align(said, statement.index)
        own_share_bag = max(own_share_bag, share)
        own_aligned |= aligned
    own_recall = max(own_share, own_share_bag)
    own_f1 = -1.0  # once needed
    half_own = -1.0  # half the weight of the words that earned this point, once needed
    # Other cards' points stated more fully than this one is found here (its share, or its
    # words in the statement, whichever is more), or in full; the order they are weighed in
    # does not matter: any one that passes every test below takes the statement.
    defining = rivals.defining.get(card, frozenset())
    for number, share in statement.stated_more_fully(rivals, card, defining, own_recall):
        if share < own_recall or (share == own_recall and share < 1.0):
            continue
        if own_f1 < 0:
            own_precision = sum(map(weight_of.get, own_aligned, repeat(0.0))) / total
            own_f1 = _f1(own_recall, own_precision)
        # F1 grows with precision: a rival that cannot beat this point even at the bound of its
        # precision is passed over before its positions are gathered (slack far above rounding)
        bound = min(1.0, statement.precision_at_most(number) * (1.0 + SHARE_BOUND_SLACK))
        if _f1(share, bound) + SHARE_BOUND_SLACK <= own_f1 + RIVAL_MARGIN:
            continue
        precision = statement.precision(number)
        if _f1(share, precision) <= own_f1 + RIVAL_MARGIN:
            continue
        aligned = statement.aligned(number)
        if all(
            qualifier(tokens[position]) or not asked.isdisjoint(answer_keys(tokens[position]))
            for position in aligned - own_aligned
        ):
            continue  # it adds only a qualifier ("full") or the question's words
        if own_recall >= 1.0:  # both said in full: the rival must explain this point's words
            if half_own < 0:
                half_own = sum(weight_of.get(position, 0.0) for position in own_positions) / 2
            if (
                sum(weight_of.get(position, 0.0) for position in aligned & own_positions)
                <= half_own
            ):
                continue  # ...else the two are said side by side, in words of their own: a list
        return True
    return False
