"""What the grader looks for: each card's points reduced to weighted key terms, once per deck.

A point becomes alternative term sets (its text, its "head: tail" parts and comma items, each
alias); terms weigh by how distinctive they are across the deck (IDF), less when the question
already gives them or a sibling point shares them. The card's question framing, the opposites
its words have, and the terms of sibling cards are worked out here too, so that
``bot.core.grading`` only has to match an answer against them. This part changes when what a
deck's text means changes; matching changes when how students write changes.

``prepare_deck`` / ``prepare_cards`` store the result in ``card.cache`` (``prepared_card``
builds it on first use).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from bot.core.alignment import Rivals, Wording, answer_keys, build_rivals, make_wording
from bot.core.cards import Card, Deck, Point
from bot.core.lexicon import (
    ADJECTIVES,
    CONJUNCTIONS,
    NOUNS,
    PREPOSITIONS,
    STOPWORDS,
    VERBS,
    WORD_FAMILIES,
)
from bot.core.textnorm import (
    Token,
    antonym_side_of,
    common_zipf,
    cue_length,
    informativeness,
    mark_negations,
    opposites_of,
    squeeze,
    stem,
    synonym_groups,
    synonyms_of,
    tokenize,
)

#: Weight factor for a term the question already contains (the student gets it for free).
QUESTION_WEIGHT = 0.2
#: Weight factor for a term another point of the same card also has (it can't tell them apart).
SHARED_WEIGHT = 0.5
#: Weight factor for optional detail: "(in parentheses)", "e.g. an example".
OPTIONAL_WEIGHT = 0.35
#: Card words shorter than this are matched exactly (CPU is not GPU); longer ones may be misspelt.
FUZZY_MIN_LENGTH = 5
#: Longest run of question content words recognised as the question echoed back.
ECHO_WINDOW = 16
#: Look-ups remembered per card and per memo, so a word seen before costs one dict look-up.
FUZZY_CACHE_SIZE = 4096
#: Keyword dumps: a deck term is "distinctive" when at most this share of cards use it.
DUMP_TERM_SHARE = 0.2
#: Squeezed doubled letters ("plott" -> "plot") are tried on words at least this long.
SQUEEZE_MIN_LENGTH = 3
#: A word written without its vowels ("srch", "extractn") is read when this many letters remain.
SKELETON_MIN_LENGTH = 4
#: An opposite word is said of the content words this close to it ("utilisation is high").
NEIGHBOURS = 2


_OPTIONAL_RE = re.compile(
    r"\([^)]*\)"  # (a parenthesis)
    r"|\b(?:e\.\s?g\.|i\.\s?e\.|for example|for instance|such as|including)[^;,)]*"  # examples
    r"|(?:,\s*(?:not|never)|\b(?:rather than|instead of|as opposed to))\b[^;,)]*",  # contrasts
    re.IGNORECASE,
)
_SEGMENT_RE = re.compile(r"[,;]\s+")
_VOWELS_RE = re.compile(r"[aeiou]")
_PREPARED_KEY = "grading"
GLOSSARY_SOURCE = "glossary:"
_PREPARED_VERSION = 6


@dataclass(frozen=True, slots=True)
class Term:
    """A key term of a point: any of ``keys`` is an exact hit; ``forms`` are tried fuzzily."""

    label: str
    keys: frozenset[str]
    forms: tuple[str, ...]
    negated: bool
    optional: bool
    either: bool = False  # said in "too big for memory": either way round matches


@dataclass(frozen=True, slots=True)
class _TermSet:
    """One way to earn a point (its text, its head or tail, or an alias) with term weights."""

    source: str
    terms: tuple[int, ...]
    weights: tuple[float, ...]
    questions: tuple[bool, ...]  # the term is one of the question's words
    total: float
    needs_content: bool  # some term beyond the question's words must be found
    own: tuple[bool, ...]  # the point's own terms: not the question's, a sibling's, optional
    has_own: bool  # any of them
    entries: tuple[tuple[int, float, bool, bool], ...] = ()  # (term, weight, question, own)
    modifiers: frozenset[int] = frozenset()  # terms that only qualify another ("lower")
    heads: frozenset[int] = frozenset()  # terms such a word qualifies, not the question's


@dataclass(frozen=True, slots=True)
class PreparedPoint:
    polarity: str | None  # "yes" / "no" for a yes/no point, else None
    sets: tuple[_TermSet, ...]


@dataclass(frozen=True, slots=True)
class Question:
    """What the question gives away, so that repeating it earns nothing."""

    keys: frozenset[str]  # keys of the question's content words
    framing: frozenset[str]  # stems of question words no point uses ("parts", "bottleneck")
    grams: frozenset[tuple[str, ...]]  # runs of question content words holding a framing word
    gram_starts: frozenset[str]  # first stems of those runs, to skip the rest quickly
    prefixes: frozenset[tuple[str, ...]]  # every beginning of those runs
    negated: bool  # "What can't be done...": students answer in the negative too


_Opposite = tuple[int, frozenset[str], frozenset[str]]


@dataclass(frozen=True, slots=True)
class _Contrast:
    """Opposites of the points' words, to catch a point said the other way round.

    ``opposites`` maps an answer word (text or stem) to (point index, keys that say the
    point's own word, keys of the words next to it) for each point with a word it opposes:
    "high" -> (i, {"low", ...}, {"hw", "utilis", ...}).
    """

    opposites: dict[str, tuple[_Opposite, ...]]
    point_words: tuple[frozenset[str], ...]  # every word and stem of each point's wordings
    point_terms: tuple[tuple[int, ...], ...]  # term ids of each point, over all its sets
    point_keys: tuple[frozenset[str], ...]  # keys of those terms
    question_terms: frozenset[int]  # terms made of the question's words
    pairs: dict[tuple[int, int], tuple[int, ...]]  # terms said side by side -> their points
    apart: dict[tuple[int, int], tuple[int, ...]]  # terms of one wording never side by side
    partners: tuple[dict[int, frozenset[int]], ...]  # each point's term -> terms said with it
    term_points: dict[int, tuple[int, ...]]  # term -> the points using it
    linked: frozenset[int]  # terms said side by side with another
    own_terms: frozenset[int]  # terms of one point only, not the question's, with partners
    mirrors: dict[tuple[int, int], frozenset[tuple[int, int]]] = field(default_factory=dict)

    def mirror(self, a: int, b: int) -> frozenset[tuple[int, int]]:
        """Pairs of the partners of two points' own terms that would make a swap of them
        (remembered: a look-up after the first time)."""
        known = self.mirrors.get((a, b))
        if known is None:
            of_a = self.partners[self.term_points[a][0]][a]
            of_b = self.partners[self.term_points[b][0]][b]
            known = frozenset((min(c, d), max(c, d)) for c in of_b for d in of_a if c != d)
            if len(self.mirrors) < FUZZY_CACHE_SIZE:
                self.mirrors[(a, b)] = known
        return known


@dataclass(frozen=True, slots=True)
class PreparedCard:
    version: int
    source: tuple[str, tuple[Point, ...]]  # the question and points this was made from
    points: tuple[PreparedPoint, ...]
    terms: tuple[Term, ...]
    index: dict[str, tuple[int, ...]]
    fuzzy: dict[str, tuple[tuple[str, int], ...]]  # first letter -> (form, term id)
    compounds: tuple[tuple[str, int], ...]  # glued forms of compound terms, tried fuzzily
    compound_forms: frozenset[str]  # those forms: a word that only begins one is not it
    squeezed: dict[str, tuple[int, ...]]  # keys with doubled letters squeezed ("plott")
    skeletons: dict[str, tuple[tuple[int, int], ...]]  # consonants -> (term id, word length)
    synonyms: dict[int, tuple[int, ...]]  # synonym group -> term ids
    less: tuple[int, ...]  # terms meaning "less" ("lower"), said by "not as much"
    sorted_keys: tuple[str, ...]  # every key, sorted: finds keys a word begins
    question: Question
    deck_terms: frozenset[str]  # distinctive keys of the whole deck (shared, not copied)
    contrast: _Contrast
    wordings: tuple[tuple[Wording, ...], ...] = ()  # each point's wordings, for alignment
    acronyms: dict[str, tuple[int, ...]] = field(default_factory=dict)  # "ps" -> its terms
    #: the card's own acronyms, spelt out: initials ("dag") -> the terms written so ("DAG")
    expansions: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: hyphen compounds whose two words may be said apart, in any order, in any of their forms
    #: ("tolerant to errors" for "error-tolerance"): (term id, keys of each word)
    split_compounds: tuple[tuple[int, frozenset[str], frozenset[str]], ...] = ()
    rivals: Rivals | None = None  # every point of the deck, to tell near misses (alignment)
    card_number: int = -1  # this card's number in ``rivals``
    idf: dict[str, float] | None = None  # the deck's word weights, for aligning statements
    #: term -> the keys (synonyms too) of the words said right before it in some wording: the
    #: slot a different word of another card cannot fill ("inference pipeline" for "training
    #: pipeline", "datasets do not fit" for "models do not fit")
    slots: dict[int, Slot] = field(default_factory=dict)
    card_keys: frozenset[str] = frozenset()  # every key of the card's terms and question
    fuzzy_cache: dict[str, tuple[int, ...]] = field(default_factory=dict)
    head_cache: dict[str, bool] = field(default_factory=dict)
    word_cache: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=dict)
    foreign_cache: dict[str, bool] = field(default_factory=dict)  # word -> other cards' only
    weight_cache: dict[str, float] = field(default_factory=dict)  # word -> weight in a statement


@dataclass(slots=True)
class _Draft:
    """A card's terms before deck-wide weights are known."""

    card: Card
    terms: list[Term]
    sets: list[list[tuple[str, list[int]]]]  # per point: (source, term ids)
    polarities: list[str | None]
    question: Question
    opposites: dict[str, tuple[_Opposite, ...]]
    point_words: tuple[frozenset[str], ...]
    pairs: list[frozenset[tuple[int, int]]]
    registry: _Registry


class _Registry(dict[tuple, int]):
    """A card's term ids by signature, and the terms of each phrase it has read already."""

    def __init__(self) -> None:
        super().__init__()
        self.phrases: dict[str, tuple[list[int], list[int]]] = {}
        self.modifiers: set[int] = set()  # terms said right before a word they modify
        self.heads: set[int] = set()  # terms said as the word modified, or alone
        self.modified: dict[int, set[str]] = {}  # modifier -> keys of the words it modifies
        self.before: dict[int, set[int]] = {}  # term -> the terms said right before it


def word_keys(token: Token) -> tuple[str, ...]:
    """Exact-match keys of one word: stem, text, and the bare singular ("CPUs" -> "cpu")."""
    text = token.text
    if len(text) >= 4 and text.endswith("s") and not text.endswith("ss"):
        return (token.stem, text, text[:-1])
    return (token.stem, text)


def join_key(parts: Sequence[Token]) -> str:
    """Key of glued words: leading words as written, the last one stemmed ("all"+"gather")."""
    return "".join(token.text for token in parts[:-1]) + parts[-1].stem


def _unit_keys(parts: Sequence[Token]) -> set[str]:
    """Exact-match keys of one word or hyphen compound."""
    if len(parts) == 1:
        return set(word_keys(parts[0]))
    keys = {join_key(parts), stem("".join(token.text for token in parts))}
    content = [token for token in parts if not token.stop]
    if len(content) >= 2:
        keys.add(join_key(content))
    return keys


def _fuzzy_forms(parts: Sequence[Token]) -> set[str]:
    if len(parts) == 1:
        forms = {parts[0].text, parts[0].stem}
    else:
        forms = {"".join(token.text for token in parts)}
    return {form for form in forms if len(form) >= FUZZY_MIN_LENGTH and form.isalpha()}


def _groups(tokens: Sequence[Token]) -> list[list[Token]]:
    """Split tokens into units: words glued by "-" or "/" stay together."""
    groups: list[list[Token]] = []
    for token in tokens:
        if groups and token.link != " " and groups[-1][-1].clause == token.clause:
            groups[-1].append(token)
        else:
            groups.append([token])
    return groups


def _phrase_terms(
    text: str,
    terms: list[Term],
    registry: _Registry,
    statements: list[int] | None = None,
) -> list[int]:
    """Key terms of a card phrase (remembered per card: a card says a phrase once)."""
    known = registry.phrases.get(text)
    if known is None:
        found: list[int] = []
        known = (_new_phrase_terms(text, terms, registry, found), found)
        registry.phrases[text] = known
    if statements is not None:
        statements.extend(known[1])
    return list(known[0])


def _new_phrase_terms(
    text: str,
    terms: list[Term],
    registry: _Registry,
    statements: list[int],
) -> list[int]:
    """Key terms of a card phrase, added to ``terms`` (deduplicated); returns their ids.

    A hyphen compound is one term ("all-gather"); a slash offers alternatives ("GPUs/TPUs").
    ``statements``, when given, receives the number of the statement (clause, cut at "and",
    "or"...) each returned term is in.
    """
    tokens = tokenize(text)
    mark_negations(tokens, excess=False)
    plain = [token.negated for token in tokens]
    mark_negations(tokens)
    either = {id(token) for token, was in zip(tokens, plain, strict=True) if token.negated != was}
    optional_spans = [match.span() for match in _OPTIONAL_RE.finditer(text)]
    statement_of: dict[int, int] = {}
    number = 0
    for position, token in enumerate(tokens):
        if position and (
            (token.clause != tokens[position - 1].clause and token.after != ":")
            or joins(tokens, position)
        ):  # "forward pass: compute activations" is one statement
            number += 1
        statement_of[id(token)] = number
    ids: list[int] = []
    previous: tuple[int, int] | None = None  # (term, statement) of the last content word
    clause_of = -1
    groups = _groups(tokens)
    after = [*groups[1:], []]
    following = {id(group[0]): later for group, later in zip(groups, after, strict=True)}
    for group in groups:
        alternatives: list[list[Token]] = [[]]
        for token in group:
            if token.link == "/" and alternatives[-1]:
                alternatives.append([])
            alternatives[-1].append(token)
        keys: set[str] = set()
        forms: set[str] = set()
        for parts in alternatives:
            if all(token.stop for token in parts):
                continue
            keys |= _unit_keys(parts)
            forms |= _fuzzy_forms(parts)
        if not keys:
            if any(token.text in PREPOSITIONS for token in group):
                previous = None  # a new phrase begins
            continue
        content = [token for token in group if not token.stop]
        negated = content[-1].negated
        loose = id(content[-1]) in either  # "too big for memory": said either way
        start, end = group[0].start, group[-1].end
        optional = any(low <= start < high for low, high in optional_spans)
        signature = (frozenset(keys), negated, optional, loose)
        if signature not in registry:
            registry[signature] = len(terms)
            terms.append(
                Term(
                    text[start:end], frozenset(keys), tuple(sorted(forms)), negated, optional, loose
                )
            )
        term_id = registry[signature]
        statement = statement_of[id(group[0])]
        preposition = len(group) == 1 and group[0].text in PREPOSITIONS  # "before", "out"
        if (
            previous is not None
            and not preposition
            and previous[1] == statement
            and group[0].clause == clause_of
        ):
            registry.before.setdefault(term_id, set()).add(previous[0])
        previous, clause_of = (None if preposition else (term_id, statement)), group[-1].clause
        modified = following[id(group[0])]
        if _modifies(group, modified):
            registry.modifiers.add(term_id)
            registry.modified.setdefault(term_id, set()).update(word_keys(modified[0]))
        else:
            registry.heads.add(term_id)
        if term_id not in ids:
            ids.append(term_id)
            statements.append(statement_of[id(group[0])])
    return ids


def _modifies(group: Sequence[Token], following: Sequence[Token]) -> bool:
    """True for an adjective right before the noun it qualifies ("lower throughput",
    "sequential dependencies"): it says nothing without that noun. A word WordNet knows as an
    adjective and never as a noun, before a content word of its clause that is neither an
    adjective nor an adverb."""
    if not following or following[0].stop or following[0].clause != group[-1].clause:
        return False
    word, noun = group[-1], following[0]
    if word.stop or not is_adjective(word.text):
        return False
    return not is_adjective(noun.text) and not noun.text.endswith("ly")


def is_adjective(word: str) -> bool:
    """An adjective that is no common noun, or the comparative of one ("lower", "bigger")."""
    if word in ADJECTIVES and word not in NOUNS:
        return True
    for ending in ("er", "est"):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            base = word[: -len(ending)]
            for guess in (base, base[:-1], base + "e", base[:-1] + "y"):  # bigg-er, easi-er
                if guess in ADJECTIVES:
                    return True
    return False


def _polarity(point: Point) -> str | None:
    bare = re.sub(r"[^\w]", "", point.text).casefold()
    return bare if bare in ("yes", "no") and not point.aliases else None


def _point_sets(
    point: Point, terms: list[Term], registry: _Registry
) -> list[tuple[str, list[int]]]:
    """The alternative term sets of a point: full text, "head: tail" parts, and aliases."""
    sets: list[tuple[str, list[int]]] = []
    head, colon, tail = point.text.partition(": ")
    if colon:
        head_ids = _phrase_terms(head, terms, registry)
        tail_ids = _phrase_terms(tail, terms, registry)
        if len(head_ids) <= 1:  # a one-word label such as "problem:" names no content
            sets.append(("text", tail_ids))
        else:
            sets.append(("text", head_ids + [i for i in tail_ids if i not in head_ids]))
            sets.append(("head", head_ids))
            if len(tail_ids) >= 2:
                sets.append(("tail", tail_ids))
    else:
        sets.append(("text", _phrase_terms(point.text, terms, registry)))
        segments = [part for part in _SEGMENT_RE.split(point.text) if part.strip()]
        if len(segments) > 1:  # "intuitive, familiar execution model": each item may stand alone
            for segment in segments:
                first = tokenize(segment)[:1]
                if first and not first[0].stop:  # not a continuation ("then executes it")
                    sets.append(("segment", _phrase_terms(segment, terms, registry)))
    for alias in point.aliases:
        sets.append((f"alias:{alias}", _phrase_terms(alias, terms, registry)))
    return [(source, ids) for source, ids in sets if ids]


def _content_grams(tokens: Sequence[Token], width: int) -> Iterator[tuple[int, int]]:
    """(first, last) token indices of runs of ``width`` content words within one clause."""
    content = [i for i, token in enumerate(tokens) if not token.stop]
    for start in range(len(content) - width + 1):
        first, last = content[start], content[start + width - 1]
        if tokens[first].clause == tokens[last].clause:
            yield first, last


def _question(card: Card, terms: Sequence[Term]) -> Question:
    tokens = tokenize(card.question)
    keys: set[str] = set()
    for group in _groups(tokens):
        for parts in (group, *([token] for token in group)):
            if not all(token.stop for token in parts):
                keys |= _unit_keys(parts)
    point_keys = {key for term in terms for key in term.keys}
    framing = frozenset(
        token.stem
        for token in tokens
        if not token.stop and not point_keys.intersection(word_keys(token))
    )
    content_stems = [token.stem for token in tokens if not token.stop]
    grams = {
        tuple(content_stems[start : start + width])
        for width in range(2, ECHO_WINDOW + 1)
        for start in range(len(content_stems) - width + 1)
    }
    negated = any(cue_length(tokens, index) for index in range(len(tokens)))
    framing_grams = frozenset(gram for gram in grams if framing.intersection(gram))
    return Question(
        frozenset(keys),
        framing,
        framing_grams,
        frozenset(gram[0] for gram in framing_grams),
        frozenset(gram[:width] for gram in framing_grams for width in range(2, len(gram) + 1)),
        negated,
    )


def _draft(card: Card) -> _Draft:
    terms: list[Term] = []
    registry = _Registry()
    polarities = [_polarity(point) for point in card.points]
    sets = [
        [] if polarity else _point_sets(point, terms, registry)
        for point, polarity in zip(card.points, polarities, strict=True)
    ]
    opposites, point_words = _opposites(card, polarities)
    pairs = [
        _side_by_side(point, terms, registry) if polarity is None else frozenset()
        for point, polarity in zip(card.points, polarities, strict=True)
    ]
    return _Draft(
        card,
        terms,
        sets,
        polarities,
        _question(card, terms),
        opposites,
        point_words,
        pairs,
        registry,
    )


def _side_by_side(
    point: Point, terms: list[Term], registry: _Registry
) -> frozenset[tuple[int, int]]:
    """Pairs of a point's terms said side by side in one statement of one of its wordings."""
    pairs: set[tuple[int, int]] = set()
    for wording in (point.text, *point.aliases):
        statements: list[int] = []
        ids = _phrase_terms(wording, terms, registry, statements)
        for i, first in enumerate(ids):
            for j in range(i + 1, min(i + 1 + NEIGHBOURS, len(ids))):
                if statements[i] == statements[j]:
                    pairs.add((min(first, ids[j]), max(first, ids[j])))
    return frozenset(pairs)


def _opposites(
    card: Card, polarities: Sequence[str | None]
) -> tuple[dict[str, tuple[_Opposite, ...]], tuple[frozenset[str], ...]]:
    """Answer words that oppose a word of a point ("high" for "low utilisation"), per point.

    Each entry holds the point, the keys that say its own word, and the keys of the content
    words next to it (what it is said of: "utilisation"). A point that itself uses both sides
    ("forward and backward passes", "large" and "little") has no opposite there. Quantity
    words count although they are function words ("multiple" / "single").
    """
    found: dict[str, dict[_Opposite, None]] = {}
    point_words: list[frozenset[str]] = []
    for index, (point, polarity) in enumerate(zip(card.points, polarities, strict=True)):
        phrases: list[list[Token]] = []
        for wording in (point.text, *point.aliases) if polarity is None else ():
            phrase = tokenize(wording)
            mark_negations(phrase)
            phrases.append(phrase)
        words = frozenset(
            key for phrase in phrases for token in phrase for key in (token.text, token.stem)
        )
        point_words.append(words)
        for phrase in phrases:
            for position, token in enumerate(phrase):
                if token.negated or cue_length(phrase, position):
                    continue
                opposite = opposites_of(token.text, token.stem)
                if not opposite or opposite & words:
                    continue
                own = synonyms_of(token.text, token.stem) | antonym_side_of(token.text, token.stem)
                near = frozenset(
                    key
                    for i in neighbours(phrase, position, across_colon=True)
                    for key in word_keys(phrase[i])
                )
                for key in opposite:
                    found.setdefault(key, {})[(index, own, near)] = None
    return {key: tuple(entries) for key, entries in found.items()}, tuple(point_words)


def neighbours(tokens: Sequence[Token], position: int, across_colon: bool = False) -> list[int]:
    """Positions of the content words next to ``position`` in its statement: up to NEIGHBOURS
    on either side, not past "and", "or"... nor, unless ``across_colon``, other punctuation."""
    clause = tokens[position].clause
    found: list[int] = []
    for step in (-1, 1):
        cursor, count = position + step, 0
        while 0 <= cursor < len(tokens) and count < NEIGHBOURS:
            edge = cursor if step > 0 else cursor + 1  # the token that would open a new part
            if tokens[cursor].clause != clause and not (across_colon and tokens[edge].after == ":"):
                break
            if joins(tokens, edge):
                break
            clause = tokens[cursor].clause
            if not tokens[cursor].stop:
                found.append(cursor)
                count += 1
            cursor += step
    return found


def _finish(
    draft: _Draft,
    idf: dict[str, float] | None,
    deck_terms: frozenset[str] = frozenset(),
    number: int = -1,
) -> PreparedCard:
    """Weigh a draft's terms (IDF, question and sibling demotion) and index them."""
    terms = draft.terms
    point_keys = [
        {key for _, ids in sets for term_id in ids for key in terms[term_id].keys}
        for sets in draft.sets
    ]

    key_points: dict[str, set[int]] = {}  # key -> the points using it
    for index, keys in enumerate(point_keys):
        for key in keys:
            key_points.setdefault(key, set()).add(index)

    def shared(term: Term, point_index: int) -> bool:
        return any(key_points.get(key, set()) - {point_index} for key in term.keys)

    def base_weight(term: Term, point_index: int) -> float:
        weight = max((idf.get(key, 1.0) for key in term.keys), default=1.0) if idf else 1.0
        if term.optional:
            weight *= OPTIONAL_WEIGHT
        if shared(term, point_index):
            weight *= SHARED_WEIGHT
        return weight

    registry = draft.registry

    def modifiers_of(point_index: int) -> frozenset[int]:
        """The point's adjectives, but for those that tell it from a sibling point that says
        the same noun ("forward" in "forward pass" / "backward pass")."""
        return frozenset(
            term_id
            for term_id in registry.modifiers - registry.heads
            if not any(
                key_points.get(key, set()) - {point_index}
                for key in registry.modified.get(term_id, ())
            )
        )

    points: list[PreparedPoint] = []
    for point_index, (sets, polarity) in enumerate(zip(draft.sets, draft.polarities, strict=True)):
        prepared_sets: list[_TermSet] = []
        for source, ids in sets:
            questions = tuple(bool(terms[i].keys & draft.question.keys) for i in ids)
            weights = [base_weight(terms[i], point_index) for i in ids]
            needs_content = not all(questions)
            if needs_content:  # else: a point made only of question words keeps full weights
                weights = [
                    w * QUESTION_WEIGHT if q else w for w, q in zip(weights, questions, strict=True)
                ]
            own = tuple(
                not question and not terms[i].optional and not shared(terms[i], point_index)
                for i, question in zip(ids, questions, strict=True)
            )
            prepared_sets.append(
                _TermSet(
                    source,
                    tuple(ids),
                    tuple(weights),
                    questions,
                    sum(weights),
                    needs_content,
                    own,
                    any(own),
                    tuple(zip(ids, weights, questions, own, strict=True)),
                    frozenset(ids) & (modifiers := modifiers_of(point_index)),
                    frozenset(
                        i
                        for i, question in zip(ids, questions, strict=True)
                        if i not in modifiers and not question and not terms[i].optional
                    ),
                )
            )
        points.append(PreparedPoint(polarity, tuple(prepared_sets)))

    index: dict[str, list[int]] = {}
    fuzzy: dict[str, list[tuple[str, int]]] = {}
    compounds: list[tuple[str, int]] = []
    squeezed: dict[str, list[int]] = {}
    skeletons: dict[str, list[tuple[int, int]]] = {}
    synonyms: dict[int, list[int]] = {}
    for term_id, term in enumerate(terms):
        for key in term.keys | _family_keys(term):
            index.setdefault(key, []).append(term_id)
            if len(key) >= SQUEEZE_MIN_LENGTH and key.isalpha():
                _add(squeezed, squeeze(key), term_id)
            for group in synonym_groups(key, key):
                _add(synonyms, group, term_id)
        for form in term.forms:
            fuzzy.setdefault(form[0], []).append((form, term_id))
            bare = skeleton(form)
            if len(bare) >= SKELETON_MIN_LENGTH and (term_id, len(form)) not in skeletons.get(
                bare, ()
            ):
                skeletons.setdefault(bare, []).append((term_id, len(form)))
            if " " in term.label or "-" in term.label:
                compounds.append((form, term_id))
    acronyms = {
        acronym: ids
        for acronym, ids in _acronyms(draft.card, index, draft.question).items()
        if acronym not in index
    }
    for acronym, ids in acronyms.items():
        if common_zipf(acronym) < ACRONYM_MAX_ZIPF:
            index[acronym] = list(ids)
    question_terms = frozenset(
        term_id for term_id, term in enumerate(terms) if term.keys & draft.question.keys
    )
    point_terms = tuple(
        tuple(dict.fromkeys(term_id for _, ids in sets for term_id in ids)) for sets in draft.sets
    )
    pairs = tuple(draft.pairs)
    together = tuple(
        frozenset((min(a, b), max(a, b)) for _, ids in sets for a in ids for b in ids if a != b)
        for sets in draft.sets
    )
    partners: list[dict[int, frozenset[int]]] = []
    for point_pairs in pairs:
        linked: dict[int, set[int]] = {}
        for first, second in point_pairs:
            linked.setdefault(first, set()).add(second)
            linked.setdefault(second, set()).add(first)
        partners.append({term_id: frozenset(others) for term_id, others in linked.items()})
    term_points: dict[int, list[int]] = {}
    for point_index, ids in enumerate(point_terms):
        for term_id in ids:
            term_points.setdefault(term_id, []).append(point_index)
    own_terms = frozenset(
        term_id
        for term_id, points in term_points.items()
        if len(points) == 1 and term_id not in question_terms and partners[points[0]].get(term_id)
    )
    return PreparedCard(
        version=_PREPARED_VERSION,
        source=(draft.card.question, tuple(draft.card.points)),
        points=tuple(points),
        terms=tuple(terms),
        index={key: tuple(ids) for key, ids in index.items()},
        fuzzy={letter: tuple(forms) for letter, forms in fuzzy.items()},
        compounds=tuple(compounds),
        compound_forms=frozenset(form for form, _ in compounds),
        squeezed={key: tuple(ids) for key, ids in squeezed.items()},
        skeletons={key: tuple(ids) for key, ids in skeletons.items()},
        synonyms={group: tuple(ids) for group, ids in synonyms.items()},
        less=tuple(
            sorted({i for group in synonym_groups("less", "less") for i in synonyms.get(group, ())})
        ),
        sorted_keys=tuple(sorted(index)),
        question=draft.question,
        deck_terms=deck_terms,
        contrast=_Contrast(
            draft.opposites,
            draft.point_words,
            point_terms,
            tuple(frozenset(keys) for keys in point_keys),
            question_terms,
            _by_pair(pairs),
            _by_pair(tuple(together[i] - pairs[i] for i in range(len(pairs)))),
            tuple(partners),
            {term_id: tuple(points) for term_id, points in term_points.items()},
            frozenset(term_id for point_partners in partners for term_id in point_partners),
            own_terms,
        ),
        wordings=_card_wordings(draft, number, idf),
        acronyms=acronyms,
        expansions=_expansions(terms),
        split_compounds=_split_compounds(terms),
        card_number=number,
        idf=idf,
        slots=_slots(terms, registry.before),
        card_keys=frozenset(index) | draft.question.keys,
    )


#: Letters of an acronym the card writes that an answer may spell out ("DAG": "directed
#: acyclic graph"); two letters spell too many runs of words by chance.
EXPANDED_ACRONYM_LETTERS = range(3, 7)


def _expansions(terms: Sequence[Term]) -> dict[str, tuple[int, ...]]:
    """The card's words written in capitals ("DAG", "NAS"), by their letters: an answer that
    spells one out, word by word, says it."""
    found: dict[str, list[int]] = {}
    for term_id, term in enumerate(terms):
        label = term.label
        if label.isalpha() and label.isupper() and len(label) in EXPANDED_ACRONYM_LETTERS:
            found.setdefault(label.lower(), []).append(term_id)
    return {letters: tuple(ids) for letters, ids in found.items()}


def _slots(terms: Sequence[Term], before: dict[int, set[int]]) -> dict[int, Slot]:
    """term -> the words said right before it in a wording: their keys with their synonyms',
    and whether one of them is a noun, an adjective."""
    slots: dict[int, Slot] = {}
    for term_id, previous in before.items():
        keys: set[str] = set()
        noun = adjective = False
        for other in previous:
            term = terms[other]
            keys |= term.keys
            label = term.label.casefold()
            if label.isalpha():
                keys |= synonyms_of(label, stem(label))
                noun |= can_be_noun(label)
                adjective |= can_be_adjective(label)
        slots[term_id] = Slot(frozenset(keys), noun, adjective)
    return slots


@dataclass(frozen=True, slots=True)
class Slot:
    """The words a card says right before one of its terms (see ``PreparedCard.slots``)."""

    keys: frozenset[str]  # their keys and their synonyms'
    noun: bool  # one of them is a noun
    adjective: bool  # one of them is an adjective


def can_be_adjective(word: str) -> bool:
    """A word WordNet knows as an adjective (maybe a noun too), or its comparative."""
    return word in ADJECTIVES or is_adjective(word)


def can_be_noun(word: str) -> bool:
    """A word WordNet knows as a noun ("tables" too), or one it knows as no adjective, adverb,
    participle or verb: a term such as "datasets" is taken for a noun, "get", "using",
    "centralised" or "quickly" not."""
    if word in NOUNS:
        return True
    if word.endswith(("ed", "ing", "ly")) or can_be_adjective(word):
        return False
    bases = [word]
    for ending in ("s", "es"):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            bases.append(word[: -len(ending)])
    if any(base in NOUNS for base in bases):
        return True
    return not any(base in VERBS for base in bases)


#: Acronyms are read for runs of this many consecutive words of a wording.
ACRONYM_WORDS = (2, 3, 4)
#: An acronym that is this common an English word (Zipf frequency) is read as that word.
ACRONYM_MAX_ZIPF = 4.0


def _acronyms(
    card: Card, index: dict[str, list[int]], question: Question
) -> dict[str, tuple[int, ...]]:
    """Initials of words said side by side in a wording, standing for all of them ("DP" for
    "data parallelism", "PS" for "parameter server"); written in lower case, only those that
    spell no common word are read (see ACRONYM_MAX_ZIPF). Never a word of the question."""
    found: dict[str, tuple[int, ...]] = {}
    for point in card.points:
        for text in (point.text, *point.aliases):
            tokens = tokenize(text)
            runs: list[list[Token]] = []
            for position, token in enumerate(tokens):
                glued = position and token.clause == tokens[position - 1].clause
                if token.stop or not token.text[:1].isalpha():
                    runs.append([])
                elif glued and runs and runs[-1] and token.link == " ":
                    runs[-1].append(token)
                elif not (glued and token.link != " "):  # a hyphen compound is one word
                    runs.append([token])
            for run in runs:
                for width in ACRONYM_WORDS:
                    for start in range(len(run) - width + 1):
                        words = run[start : start + width]
                        acronym = "".join(token.text[0] for token in words)
                        ids = tuple(
                            dict.fromkeys(
                                term_id
                                for token in words
                                for key in word_keys(token)[:1]
                                for term_id in index.get(key, ())
                            )
                        )
                        if (
                            len(ids) >= width
                            and acronym not in STOPWORDS
                            and acronym not in question.keys
                        ):
                            found.setdefault(acronym, ids)
    return found


#: Words of a hyphen compound shorter than this are not read apart ("all-gather", "e2e").
SPLIT_COMPOUND_MIN_LENGTH = 4


def _split_compounds(
    terms: Sequence[Term],
) -> tuple[tuple[int, frozenset[str], frozenset[str]], ...]:
    """Two-word hyphen compounds of the card, each word with the keys of all its forms."""
    found: list[tuple[int, frozenset[str], frozenset[str]]] = []
    for term_id, term in enumerate(terms):
        parts = term.label.casefold().split("-")
        if len(parts) != 2 or not all(
            part.isalpha() and len(part) >= SPLIT_COMPOUND_MIN_LENGTH and part not in STOPWORDS
            for part in parts
        ):
            continue
        first, second = (
            frozenset(
                {part, stem(part)}
                | {key for word in WORD_FAMILIES.get(part, ()) for key in (word, stem(word))}
            )
            for part in parts
        )
        if not first & second:
            found.append((term_id, first, second))
    return tuple(found)


def _family_keys(term: Term) -> frozenset[str]:
    """Keys of the other forms of a one-word term's word ("accurate", "accurately" for
    "accuracy"): the same word said as another part of speech."""
    label = term.label.casefold()
    if not label.isalpha():
        return frozenset()
    related = WORD_FAMILIES.get(label, frozenset())
    return frozenset(key for word in related for key in (word, stem(word))) - term.keys


def _by_pair(
    per_point: Sequence[frozenset[tuple[int, int]]],
) -> dict[tuple[int, int], tuple[int, ...]]:
    """term pair -> the points holding it."""
    owners: dict[tuple[int, int], list[int]] = {}
    for point, point_pairs in enumerate(per_point):
        for pair in point_pairs:
            owners.setdefault(pair, []).append(point)
    return {pair: tuple(points) for pair, points in owners.items()}


def skeleton(word: str) -> str:
    """First letter and consonants, doubled letters squeezed: "extraction" -> "extrctn"."""
    return squeeze(word[:1] + _VOWELS_RE.sub("", word[1:]))


def _add(index: dict, key: object, term_id: int) -> None:
    ids = index.setdefault(key, [])
    if term_id not in ids:
        ids.append(term_id)


def prepare_cards(cards: Iterable[Card]) -> None:
    """Precompute every card's matching data, weighting terms by IDF across these cards.

    A word found on few cards ("partition") tells more than one found on most ("model").
    """
    drafts = [_draft(card) for card in cards]
    _use_glossary(drafts)
    document_frequency: dict[str, int] = {}
    for draft in drafts:
        keys = set(draft.question.keys)
        for term in draft.terms:
            keys |= term.keys
        for key in keys:
            document_frequency[key] = document_frequency.get(key, 0) + 1
    total = max(len(drafts), 1)
    idf = {key: 1.0 + math.log(total / count) for key, count in document_frequency.items()}
    deck_terms = frozenset(
        key for key, count in document_frequency.items() if count <= DUMP_TERM_SHARE * total
    )
    idf[""] = 1.0 + math.log(total + 1)  # a word no card uses
    prepared = [_finish(draft, idf, deck_terms, number) for number, draft in enumerate(drafts)]
    rivals = build_rivals(
        (said for card in prepared for wordings in card.wordings for said in wordings),
        [draft.question.keys for draft in drafts],
    )
    for draft, card in zip(drafts, prepared, strict=True):
        draft.card.cache[_PREPARED_KEY] = dataclasses.replace(card, rivals=rivals)


def _card_wordings(
    draft: _Draft, number: int, idf: dict[str, float] | None
) -> tuple[tuple[Wording, ...], ...]:
    """Each point's wordings (text and aliases) as weighted words, their synonyms included,
    for two-way alignment (yes/no points have none)."""
    unseen = idf.get("", 1.0) if idf else 1.0

    def weigh(token: Token) -> float:
        rarity = max(idf.get(key, unseen) for key in answer_keys(token)) if idf else 1.0
        return rarity * informativeness(token.text)

    def expand(token: Token) -> frozenset[str]:
        return synonyms_of(token.text, token.stem)

    wordings: list[tuple[Wording, ...]] = []
    for index, (point, polarity) in enumerate(
        zip(draft.card.points, draft.polarities, strict=True)
    ):
        texts = (point.text, *point.aliases) if polarity is None else ()
        made = (make_wording(number, index, text, weigh, expand) for text in texts)
        wordings.append(tuple(said for said in made if said is not None))
    return tuple(wordings)


def _use_glossary(drafts: Sequence[_Draft]) -> None:
    """Let every card say a deck term the ways the deck spells it out.

    A point that is one term with aliases ("throughput": "samples per second") defines that
    term for the whole deck: wherever another point's own wording uses it ("lower
    throughput"), the point can also be earned with the alias in its place ("fewer samples
    per second"), unless that leaves only the question's words.
    """
    glossary: list[tuple[frozenset[str], tuple[str, ...]]] = []
    for draft in drafts:
        for point, sets in zip(draft.card.points, draft.sets, strict=True):
            if point.aliases and sets and len(sets[0][1]) == 1:
                term = draft.terms[sets[0][1][0]]
                if not term.negated and not term.optional:
                    glossary.append((term.keys, point.aliases))
    if not glossary:
        return
    for draft in drafts:
        for point, sets in zip(draft.card.points, draft.sets, strict=True):
            own = {alias.casefold() for alias in point.aliases}
            added: list[tuple[str, list[int]]] = []
            for source, ids in sets:
                if source.startswith(("alias:", GLOSSARY_SOURCE)):
                    continue
                for position, term_id in enumerate(ids):
                    term = draft.terms[term_id]
                    if term.negated or term.optional:
                        continue
                    for keys, aliases in glossary:
                        if not keys & term.keys:
                            continue
                        for alias in aliases:
                            if alias.casefold() in own:
                                continue
                            spelled = _phrase_terms(alias, draft.terms, draft.registry)
                            new_ids = list(
                                dict.fromkeys(ids[:position] + spelled + ids[position + 1 :])
                            )
                            if (
                                new_ids != ids
                                and all(new_ids != other for _, other in sets + added)
                                and any(
                                    not draft.terms[i].keys & draft.question.keys for i in new_ids
                                )
                            ):
                                added.append((f"{GLOSSARY_SOURCE}{alias}", new_ids))
            sets.extend(added)


#: Decks up to this size are prepared whole when they load (about 1 ms per card). Larger ones
#: are prepared card by card when a card is first graded, so start-up stays fast and memory
#: bounded; their term weights come from a quick pass over the deck's words, without the deck
#: glossary.
EAGER_PREPARE_MAX_CARDS = 1000
#: Prepared cards kept per large deck; the least recently graded are dropped first.
LAZY_PREPARED_CARDS = 2000
_DECK_STATS_KEY = "grading-deck"
_WORD_RE = re.compile(r"[^\W_]+")


class _QuickIdf(dict[str, float]):
    """IDF from a quick pass; a key the pass never saw counts as rare (it is distinctive)."""

    def __init__(self, values: dict[str, float], unseen: float) -> None:
        super().__init__(values)
        self.unseen = unseen

    def get(self, key: str, default: float | None = None) -> float:  # type: ignore[override]
        return super().get(key, self.unseen)


@dataclass
class _LargeDeck:
    """Shared by the cards of a large deck: its weights and the recently prepared cards."""

    idf: _QuickIdf
    deck_terms: frozenset[str]
    prepared: dict[int, PreparedCard] = field(default_factory=dict)

    def prepare(self, card: Card) -> PreparedCard:
        key = id(card)
        found = self.prepared.pop(key, None)
        if found is None or found.source != (card.question, tuple(card.points)):
            found = _finish(_draft(card), self.idf, self.deck_terms)
        self.prepared[key] = found  # most recent last
        while len(self.prepared) > LAZY_PREPARED_CARDS:
            self.prepared.pop(next(iter(self.prepared)))
        return found


def _quick_stats(cards: Sequence[Card]) -> _LargeDeck:
    """Document frequencies of the deck's words (stems and forms), in one cheap pass."""
    frequency: dict[str, int] = {}
    for card in cards:
        texts = [card.question]
        for point in card.points:
            texts.append(point.text)
            texts.extend(point.aliases)
        words = set(_WORD_RE.findall(" ".join(texts).casefold()))
        keys = words | {stem(word) for word in words}
        for key in keys:
            frequency[key] = frequency.get(key, 0) + 1
    total = max(len(cards), 1)
    idf = {key: 1.0 + math.log(total / count) for key, count in frequency.items()}
    deck_terms = frozenset(
        key for key, count in frequency.items() if count <= DUMP_TERM_SHARE * total
    )
    return _LargeDeck(_QuickIdf(idf, 1.0 + math.log(total)), deck_terms)


def prepare_deck(deck: Deck) -> None:
    """Prepare a deck for grading, once, when it loads (see EAGER_PREPARE_MAX_CARDS)."""
    if len(deck.cards) <= EAGER_PREPARE_MAX_CARDS:
        prepare_cards(deck.cards)
        return
    stats = _quick_stats(deck.cards)
    for card in deck.cards:
        card.cache.pop(_PREPARED_KEY, None)
        card.cache[_DECK_STATS_KEY] = stats


def prepared_card(card: Card) -> PreparedCard:
    """The card's matching data; prepared alone (equal term weights) if the deck never was."""
    large = card.cache.get(_DECK_STATS_KEY)
    if isinstance(large, _LargeDeck):
        return large.prepare(card)
    prepared = card.cache.get(_PREPARED_KEY)
    if (
        not isinstance(prepared, PreparedCard)
        or prepared.version != _PREPARED_VERSION
        or prepared.source != (card.question, tuple(card.points))  # edited since: redo
    ):
        prepared = _finish(_draft(card), None)
        card.cache[_PREPARED_KEY] = prepared
    return prepared


# --- matching an answer ----------------------------------------------------------------------


def joins(tokens: Sequence[Token], index: int) -> bool:
    """True for a conjunction starting a new statement ("and", but not "and/or")."""
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    return tokens[index].text in CONJUNCTIONS and not (
        tokens[index].link == "/" or (following is not None and following.link == "/")
    )
