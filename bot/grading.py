"""Grade a free-text answer point by point, the way a fair teacher would.

Each point of a card is reduced to key terms: its text, its "head: tail" parts and comma
items, and each alias, as alternative term sets. A point is credited when at least
CREDIT_THRESHOLD of one set's weight is found in the answer: exactly after normalisation and
stemming (see ``bot.textnorm``), glued ("all gather" = "allgather"), or fuzzily for typos.
Terms weigh by how distinctive they are across the deck (IDF); a term the question already
gives, or another point of the card shares, weighs less, and words echoing the question's
framing earn nothing. A term inside a negation ("rather than latency") does not count and a
term said only the other way round blocks its set. Yes/no points read the reply's first
decisive word; a bare keyword dump earns nothing.

``grade`` is pure and deterministic (its memo caches never change a result);
``prepare_deck`` / ``prepare_cards`` do the per-card work once and store it in ``card.cache``.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz.distance import OSA

from bot.cards import Card, Deck, Point
from bot.textnorm import Token, cue_length, mark_negations, stem, tokenize

#: A term set earns its point when this share of its weight is found in the answer.
CREDIT_THRESHOLD = 0.5
#: Weight factor for a term the question already contains (the student gets it for free).
QUESTION_WEIGHT = 0.2
#: Weight factor for a term another point of the same card also has (it can't tell them apart).
SHARED_WEIGHT = 0.5
#: Weight factor for optional detail: "(in parentheses)", "e.g. an example".
OPTIONAL_WEIGHT = 0.35
#: Only the start of an answer is read: longer texts are cut here (Telegram's message limit).
MAX_ANSWER_CHARS = 4096
#: Card words shorter than this are matched exactly (CPU is not GPU); longer ones may be misspelt.
FUZZY_MIN_LENGTH = 5
#: Answer words shorter than this are never taken for a misspelling ("lowr" is "lower").
FUZZY_MIN_ANSWER_LENGTH = 4
#: (shortest reference length, edits allowed): "latancy" is one edit from "latency".
FUZZY_EDITS: tuple[tuple[int, int], ...] = ((12, 3), (8, 2), (FUZZY_MIN_LENGTH, 1))
#: A stem this long that begins another word is the same root ("replic"-ate / "replica").
PREFIX_MIN_LENGTH = 6
#: Prefixes that reverse a word's meaning: "asynchronous" is never a typo of "synchronous".
NEGATING_PREFIXES: tuple[str, ...] = ("a", "an", "un", "non", "in", "im", "ir", "il", "dis", "anti")
#: Adjacent answer words are also tried glued together ("all gather" == "allgather").
JOIN_WINDOW = 3
#: Longest run of question content words recognised as the question echoed back.
ECHO_WINDOW = 16
#: At most this many hits are tried as the centre of a point's evidence.
EVIDENCE_ANCHORS = 8
#: Look-ups remembered per card and per memo, so a word seen before costs one dict look-up.
FUZZY_CACHE_SIZE = 4096
#: Keyword dumps: a deck term is "distinctive" when at most this share of cards use it...
DUMP_TERM_SHARE = 0.2
#: ...and an answer with at most this share of function words (a bare list of words)...
DUMP_MAX_FUNCTION_SHARE = 0.15
#: ...naming at least this many distinctive terms of other cards...
DUMP_MIN_FOREIGN = 5
#: ...more than this many times the words that matched this card, is a shotgun list.
DUMP_RATIO = 2.0
#: Float slack for comparing shares against thresholds.
EPSILON = 1e-9

#: Answers that say "I don't know"; they never affirm or deny anything.
IGNORANCE_WORDS = frozenset({"idk", "dunno", "unsure", "pass", "skip"})
IGNORANCE_PHRASES: tuple[tuple[str, ...], ...] = (
    ("no", "idea"),
    ("no", "clue"),
    ("not", "sure"),
    ("dont", "know"),
    ("do", "not", "know"),
)
YES_WORDS = frozenset(
    "yes ye yeh yah yep yeah yup ya yea yess sure certainly definitely absolutely indeed "
    "correct true affirmative ok okay aye course".split()
)
NO_WORDS = frozenset(
    "no nope nah nay not never false negative incorrect cannot cant dont doesnt isnt arent "
    "wont wouldnt couldnt impossible".split()
)
#: Without a yes or no word, a reply whose subject is followed by one of these ("they can",
#: "it is") affirms a yes/no question.
AFFIRMING_VERBS = frozenset("can could is are does do will would may works possible".split())
#: How many leading tokens may hold that affirming verb (the first one never does).
AFFIRMING_REACH = 3

_OPTIONAL_RE = re.compile(
    r"\([^)]*\)"  # (a parenthesis)
    r"|\b(?:e\.\s?g\.|i\.\s?e\.|for example|for instance|such as|including)[^;,)]*"  # examples
    r"|(?:,\s*(?:not|never)|\b(?:rather than|instead of|as opposed to))\b[^;,)]*",  # contrasts
    re.IGNORECASE,
)
_SEGMENT_RE = re.compile(r"[,;]\s+")
_PREPARED_KEY = "grading"
_PREPARED_VERSION = 1

Verdict = Literal["correct", "partial", "wrong"]


@dataclass(frozen=True, slots=True)
class PointGrade:
    """How one point of the card fared: credited with the student's words, or missed."""

    index: int
    point: Point
    matched: bool
    evidence: str | None  # the student's own words that earned the point
    similarity: float  # best weighted share of a term set found in the answer, 0..1
    matched_terms: tuple[str, ...] = ()  # key terms found (as the card spells them)
    missing_terms: tuple[str, ...] = ()  # key terms of the point text not found

    @property
    def text(self) -> str:
        return self.point.text

    @property
    def weight(self) -> float:
        return self.point.weight

    @property
    def credited(self) -> bool:
        return self.matched

    @property
    def missed(self) -> bool:
        return not self.matched


@dataclass(frozen=True, slots=True)
class Grade:
    """The result of grading one answer: score, verdict and one PointGrade per card point."""

    card_id: str
    answer: str
    score: float
    verdict: Verdict
    points: tuple[PointGrade, ...]

    @property
    def credited(self) -> list[PointGrade]:
        return [point for point in self.points if point.matched]

    @property
    def missed(self) -> list[PointGrade]:
        return [point for point in self.points if not point.matched]

    @property
    def is_correct(self) -> bool:
        return self.verdict == "correct"


# --- prepared matching data ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Term:
    """A key term of a point: any of ``keys`` is an exact hit; ``forms`` are tried fuzzily."""

    label: str
    keys: frozenset[str]
    forms: tuple[str, ...]
    negated: bool
    optional: bool


@dataclass(frozen=True, slots=True)
class _TermSet:
    """One way to earn a point (its text, its head or tail, or an alias) with term weights."""

    source: str
    terms: tuple[int, ...]
    weights: tuple[float, ...]
    questions: tuple[bool, ...]  # the term is one of the question's words
    total: float
    needs_content: bool  # some term beyond the question's words must be found


@dataclass(frozen=True, slots=True)
class _PreparedPoint:
    polarity: str | None  # "yes" / "no" for a yes/no point, else None
    sets: tuple[_TermSet, ...]


@dataclass(frozen=True, slots=True)
class _Question:
    """What the question gives away, so that repeating it earns nothing."""

    keys: frozenset[str]  # keys of the question's content words
    framing: frozenset[str]  # stems of question words no point uses ("parts", "bottleneck")
    grams: frozenset[tuple[str, ...]]  # runs of question content words holding a framing word
    gram_starts: frozenset[str]  # first stems of those runs, to skip the rest quickly
    prefixes: frozenset[tuple[str, ...]]  # every beginning of those runs
    negated: bool  # "What can't be done...": students answer in the negative too


@dataclass(frozen=True, slots=True)
class _PreparedCard:
    version: int
    source: tuple[str, tuple[Point, ...]]  # the question and points this was made from
    points: tuple[_PreparedPoint, ...]
    terms: tuple[_Term, ...]
    index: dict[str, tuple[int, ...]]
    fuzzy: dict[str, tuple[tuple[str, int], ...]]  # first letter -> (form, term id)
    compounds: tuple[tuple[str, int], ...]  # glued forms of compound terms, tried fuzzily
    sorted_keys: tuple[str, ...]  # every key, sorted: finds keys a word begins
    question: _Question
    deck_terms: frozenset[str]  # distinctive keys of the whole deck (shared, not copied)
    fuzzy_cache: dict[str, tuple[int, ...]] = field(default_factory=dict)
    head_cache: dict[str, bool] = field(default_factory=dict)
    word_cache: dict[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(slots=True)
class _Draft:
    """A card's terms before deck-wide weights are known."""

    card: Card
    terms: list[_Term]
    sets: list[list[tuple[str, list[int]]]]  # per point: (source, term ids)
    polarities: list[str | None]
    question: _Question


def _word_keys(token: Token) -> tuple[str, ...]:
    """Exact-match keys of one word: stem, text, and the bare singular ("CPUs" -> "cpu")."""
    text = token.text
    if len(text) >= 4 and text.endswith("s") and not text.endswith("ss"):
        return (token.stem, text, text[:-1])
    return (token.stem, text)


def _join_key(parts: Sequence[Token]) -> str:
    """Key of glued words: leading words as written, the last one stemmed ("all"+"gather")."""
    return "".join(token.text for token in parts[:-1]) + parts[-1].stem


def _unit_keys(parts: Sequence[Token]) -> set[str]:
    """Exact-match keys of one word or hyphen compound."""
    if len(parts) == 1:
        return set(_word_keys(parts[0]))
    keys = {_join_key(parts), stem("".join(token.text for token in parts))}
    content = [token for token in parts if not token.stop]
    if len(content) >= 2:
        keys.add(_join_key(content))
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


def _phrase_terms(text: str, terms: list[_Term], registry: dict[tuple, int]) -> list[int]:
    """Key terms of a card phrase, added to ``terms`` (deduplicated); returns their ids.

    A hyphen compound is one term ("all-gather"); a slash offers alternatives ("GPUs/TPUs").
    """
    tokens = tokenize(text)
    mark_negations(tokens)
    optional_spans = [match.span() for match in _OPTIONAL_RE.finditer(text)]
    ids: list[int] = []
    for group in _groups(tokens):
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
            continue
        content = [token for token in group if not token.stop]
        negated = content[-1].negated
        start, end = group[0].start, group[-1].end
        optional = any(low <= start < high for low, high in optional_spans)
        signature = (frozenset(keys), negated, optional)
        if signature not in registry:
            registry[signature] = len(terms)
            terms.append(
                _Term(text[start:end], frozenset(keys), tuple(sorted(forms)), negated, optional)
            )
        term_id = registry[signature]
        if term_id not in ids:
            ids.append(term_id)
    return ids


def _polarity(point: Point) -> str | None:
    bare = re.sub(r"[^\w]", "", point.text).casefold()
    return bare if bare in ("yes", "no") and not point.aliases else None


def _point_sets(
    point: Point, terms: list[_Term], registry: dict[tuple, int]
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


def _question(card: Card, terms: Sequence[_Term]) -> _Question:
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
        if not token.stop and not point_keys.intersection(_word_keys(token))
    )
    content_stems = [token.stem for token in tokens if not token.stop]
    grams = {
        tuple(content_stems[start : start + width])
        for width in range(2, ECHO_WINDOW + 1)
        for start in range(len(content_stems) - width + 1)
    }
    negated = any(cue_length(tokens, index) for index in range(len(tokens)))
    framing_grams = frozenset(gram for gram in grams if framing.intersection(gram))
    return _Question(
        frozenset(keys),
        framing,
        framing_grams,
        frozenset(gram[0] for gram in framing_grams),
        frozenset(gram[:width] for gram in framing_grams for width in range(2, len(gram) + 1)),
        negated,
    )


def _draft(card: Card) -> _Draft:
    terms: list[_Term] = []
    registry: dict[tuple, int] = {}
    polarities = [_polarity(point) for point in card.points]
    sets = [
        [] if polarity else _point_sets(point, terms, registry)
        for point, polarity in zip(card.points, polarities, strict=True)
    ]
    return _Draft(card, terms, sets, polarities, _question(card, terms))


def _finish(
    draft: _Draft, idf: dict[str, float] | None, deck_terms: frozenset[str] = frozenset()
) -> _PreparedCard:
    """Weigh a draft's terms (IDF, question and sibling demotion) and index them."""
    terms = draft.terms
    point_keys = [
        {key for _, ids in sets for term_id in ids for key in terms[term_id].keys}
        for sets in draft.sets
    ]

    def base_weight(term: _Term, point_index: int) -> float:
        weight = max((idf.get(key, 1.0) for key in term.keys), default=1.0) if idf else 1.0
        if term.optional:
            weight *= OPTIONAL_WEIGHT
        others = (keys for index, keys in enumerate(point_keys) if index != point_index)
        if any(term.keys & keys for keys in others):
            weight *= SHARED_WEIGHT
        return weight

    points: list[_PreparedPoint] = []
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
            prepared_sets.append(
                _TermSet(source, tuple(ids), tuple(weights), questions, sum(weights), needs_content)
            )
        points.append(_PreparedPoint(polarity, tuple(prepared_sets)))

    index: dict[str, list[int]] = {}
    fuzzy: dict[str, list[tuple[str, int]]] = {}
    compounds: list[tuple[str, int]] = []
    for term_id, term in enumerate(terms):
        for key in term.keys:
            index.setdefault(key, []).append(term_id)
        for form in term.forms:
            fuzzy.setdefault(form[0], []).append((form, term_id))
            if " " in term.label or "-" in term.label:
                compounds.append((form, term_id))
    return _PreparedCard(
        version=_PREPARED_VERSION,
        source=(draft.card.question, tuple(draft.card.points)),
        points=tuple(points),
        terms=tuple(terms),
        index={key: tuple(ids) for key, ids in index.items()},
        fuzzy={letter: tuple(forms) for letter, forms in fuzzy.items()},
        compounds=tuple(compounds),
        sorted_keys=tuple(sorted(index)),
        question=draft.question,
        deck_terms=deck_terms,
    )


def prepare_cards(cards: Iterable[Card]) -> None:
    """Precompute every card's matching data, weighting terms by IDF across these cards.

    A word found on few cards ("partition") tells more than one found on most ("model").
    """
    drafts = [_draft(card) for card in cards]
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
    for draft in drafts:
        draft.card.cache[_PREPARED_KEY] = _finish(draft, idf, deck_terms)


def prepare_deck(deck: Deck) -> None:
    """Precompute matching data for every card of the deck (call once when the deck loads)."""
    prepare_cards(deck.cards)


def _prepared(card: Card) -> _PreparedCard:
    """The card's matching data; prepared alone (equal term weights) if the deck never was."""
    prepared = card.cache.get(_PREPARED_KEY)
    if (
        not isinstance(prepared, _PreparedCard)
        or prepared.version != _PREPARED_VERSION
        or prepared.source != (card.question, tuple(card.points))  # edited since: redo
    ):
        prepared = _finish(_draft(card), None)
        card.cache[_PREPARED_KEY] = prepared
    return prepared


# --- matching an answer ----------------------------------------------------------------------


def _allowed_edits(length: int) -> int:
    for shortest, edits in FUZZY_EDITS:
        if length >= shortest:
            return edits
    return 0


def _negates(longer: str, shorter: str) -> bool:
    """True when ``longer`` is ``shorter`` behind a negating prefix (asynchronous/synchronous)."""
    return any(
        longer.startswith(prefix) and longer[len(prefix) :].startswith(shorter[:4])
        for prefix in NEGATING_PREFIXES
        if len(longer) - len(prefix) >= len(shorter) - 1
    )


def _close(word: str, form: str) -> bool:
    """A misspelling or another form of the same root, within a length-dependent tolerance."""
    if min(len(word), len(form)) >= PREFIX_MIN_LENGTH and (
        word.startswith(form) or form.startswith(word)
    ):
        return True
    allowed = _allowed_edits(len(form))
    if not allowed or abs(len(word) - len(form)) > allowed:
        return False
    if OSA.distance(word, form, score_cutoff=allowed) > allowed:
        return False
    longer, shorter = (word, form) if len(word) > len(form) else (form, word)
    return not _negates(longer, shorter)


def _fuzzy_hits(
    prepared: _PreparedCard, words: Sequence[str], candidates: Iterable[tuple[str, int]]
) -> tuple[int, ...]:
    """Term ids with a form close to one of ``words`` (remembered per card)."""
    cached = prepared.fuzzy_cache.get(words[0])
    if cached is not None:
        return cached
    found: list[int] = []
    for form, term_id in candidates:
        if term_id not in found and any(_close(word, form) for word in words):
            found.append(term_id)
    hits = tuple(found)
    if len(prepared.fuzzy_cache) < FUZZY_CACHE_SIZE:
        prepared.fuzzy_cache[words[0]] = hits
    return hits


@dataclass(slots=True)
class _Hit:
    first: int  # token indices of the answer words that matched
    last: int
    negated: bool
    echo: bool  # part of a phrase copied from the question


def _echoes(question: _Question, tokens: Sequence[Token]) -> list[bool]:
    """Flag answer words that copy the question's framing ("the parts of model development").

    Such words earn nothing, even on a point made only of question words. A run that names
    points only ("feature extraction and model search") is an answer, not an echo.
    """
    echo = [False] * len(tokens)
    starts = question.gram_starts
    if not starts or not any(token.stem in starts for token in tokens):
        return echo
    content = [i for i, token in enumerate(tokens) if not token.stop]
    for start, first in enumerate(content):
        if tokens[first].stem not in starts:
            continue
        gram: tuple[str, ...] = (tokens[first].stem,)
        longest = 0
        for width in range(2, min(ECHO_WINDOW, len(content) - start) + 1):
            last = content[start + width - 1]
            if tokens[last].clause != tokens[first].clause:
                break
            gram += (tokens[last].stem,)
            if gram not in question.prefixes:
                break
            if gram in question.grams:
                longest = last
        if longest:
            echo[first : longest + 1] = [True] * (longest + 1 - first)
    return echo


def _word_hits(prepared: _PreparedCard, token: Token) -> tuple[int, ...]:
    """Terms one answer word stands for: exactly (stem, text, singular), else fuzzily."""
    found = {term_id for key in _word_keys(token) for term_id in prepared.index.get(key, ())}
    if len(token.text) >= FUZZY_MIN_ANSWER_LENGTH and token.text.isalpha():
        bucket = prepared.fuzzy.get(token.text[0], ())
        found.update(_fuzzy_hits(prepared, (token.text, token.stem), bucket))
    ids = tuple(sorted(found))
    if len(prepared.word_cache) < FUZZY_CACHE_SIZE:
        prepared.word_cache[token.text] = ids
    return ids


def _begins_longer_key(prepared: _PreparedCard, head: str) -> bool:
    """True when some key of the card starts with ``head`` and goes on ("all" -> "allgather")."""
    known = prepared.head_cache.get(head)
    if known is None:
        keys = prepared.sorted_keys
        position = bisect.bisect_right(keys, head)
        known = position < len(keys) and keys[position].startswith(head)
        if len(prepared.head_cache) < FUZZY_CACHE_SIZE:
            prepared.head_cache[head] = known
    return known


def _find_terms(prepared: _PreparedCard, tokens: Sequence[Token]) -> dict[int, list[_Hit]]:
    """Every card term found in the answer: where, whether negated, whether echoed."""
    hits: dict[int, list[_Hit]] = {}
    index = prepared.index
    echo = _echoes(prepared.question, tokens)

    def record(term_ids: Iterable[int], first: int, last: int, negated: bool) -> None:
        echoed = all(echo[first : last + 1])
        for term_id in term_ids:
            hits.setdefault(term_id, []).append(_Hit(first, last, negated, echoed))

    content = [i for i, token in enumerate(tokens) if not token.stop]
    for i in content:
        token = tokens[i]
        ids = prepared.word_cache.get(token.text)
        if ids is None:
            ids = _word_hits(prepared, token)
        if ids:
            record(ids, i, i, token.negated)

    # Glued neighbours: "all gather" -> "allgather". Only windows whose first word begins a
    # longer key of the card are built, which skips almost all of them.
    for positions in (range(len(tokens)), content):
        positions = list(positions)
        for start in range(len(positions) - 1):
            head = tokens[positions[start]].text
            if not _begins_longer_key(prepared, head):
                continue
            for width in range(2, min(JOIN_WINDOW, len(positions) - start) + 1):
                window = [tokens[p] for p in positions[start : start + width]]
                if window[0].clause != window[-1].clause:
                    break
                last = positions[start + width - 1]
                found = index.get(_join_key(window), ())
                if not found and width == 2 and prepared.compounds:
                    glued = head + window[1].text
                    if glued.isalpha():
                        found = _fuzzy_hits(prepared, (glued,), prepared.compounds)
                if found:
                    record(found, positions[start], last, tokens[last].negated)
    return hits


def _yes_no(tokens: Sequence[Token], asks: bool) -> tuple[str | None, Token | None]:
    """Read a yes/no reply: the first decisive word wins ("nope", "yes, you can", "sure").

    Without one, "they can", "it is" affirm; a reply that asks back (``asks``) does not.
    """
    words = [token.text for token in tokens]
    if any(word in IGNORANCE_WORDS for word in words) or any(
        tuple(words[i : i + len(phrase)]) == phrase
        for phrase in IGNORANCE_PHRASES
        for i in range(len(words))
    ):
        return None, None
    for position, token in enumerate(tokens):
        if token.text in NO_WORDS:
            return "no", token
        if token.text in YES_WORDS:
            following = tokens[position + 1] if position + 1 < len(tokens) else None
            if following is not None and following.text in NO_WORDS:
                return "no", following
            return "yes", token
    if not asks and not any(token.negated for token in tokens):
        for token in tokens[1:AFFIRMING_REACH]:  # after a subject: "Can ..." is a question
            if token.text in AFFIRMING_VERBS:
                return "yes", token
    return None, None


def _evidence(found: list[list[_Hit]], tokens: Sequence[Token], answer: str) -> str | None:
    """The student's words that earned a point: the tightest span holding one hit per term."""
    if not found:
        return None
    rarest = min(found, key=len)
    best: tuple[int, int] | None = None
    for anchor in rarest[:EVIDENCE_ANCHORS]:
        clause = tokens[anchor.first].clause

        def nearness(hit: _Hit, anchor: _Hit = anchor, clause: int = clause) -> tuple[bool, int]:
            return tokens[hit.first].clause != clause, abs(hit.first - anchor.first)

        chosen = [min(term_hits, key=nearness) for term_hits in found]
        span = (min(hit.first for hit in chosen), max(hit.last for hit in chosen))
        if best is None or span[1] - span[0] < best[1] - best[0]:
            best = span
    assert best is not None
    return answer[tokens[best[0]].start : tokens[best[1]].end]


@dataclass(slots=True)
class _Seen:
    """How a term showed up in an answer, sorted out once for every set that uses it."""

    agreeing: list[_Hit]  # hits whose polarity agrees with the card's
    agreeing_fresh: list[_Hit]  # ...of those, the ones not echoing the question
    fresh: bool  # some hit does not echo the question


def _sort_out(prepared: _PreparedCard, hits: dict[int, list[_Hit]]) -> dict[int, _Seen]:
    any_polarity = prepared.question.negated  # "What can't be done?": "can't retrain" is right
    seen: dict[int, _Seen] = {}
    for term_id, term_hits in hits.items():
        negated = prepared.terms[term_id].negated
        agreeing = [hit for hit in term_hits if any_polarity or hit.negated == negated]
        seen[term_id] = _Seen(
            agreeing,
            [hit for hit in agreeing if not hit.echo],
            any(not hit.echo for hit in term_hits),
        )
    return seen


def _grade_point(
    index: int,
    point: Point,
    prepared: _PreparedCard,
    plan: _PreparedPoint,
    tokens: Sequence[Token],
    hits: dict[int, _Seen],
    answer: str,
    reply: tuple[str | None, Token | None],
) -> PointGrade:
    if plan.polarity is not None:
        said, token = reply
        if said == plan.polarity and token is not None:
            return PointGrade(index, point, True, answer[token.start : token.end], 1.0, (said,))
        return PointGrade(index, point, False, None, 0.0, (), (plan.polarity,))

    best: tuple[bool, float, list[list[_Hit]], list[int]] = (False, 0.0, [], [])
    for term_set in plan.sets:
        covered = 0.0
        content_found = contradicted = False
        found: list[tuple[float, int, list[_Hit]]] = []
        for term_id, weight, is_question in zip(
            term_set.terms, term_set.weights, term_set.questions, strict=True
        ):
            seen = hits.get(term_id)
            if seen is None:
                continue
            agreeing = seen.agreeing_fresh if is_question else seen.agreeing
            if agreeing:
                covered += weight
                found.append((weight, term_id, agreeing))
                content_found |= not is_question
            elif seen.fresh if is_question else True:
                contradicted = True  # said only the other way round: "the data, not the model"
        share = covered / term_set.total if term_set.total else 0.0
        credited = (
            share + EPSILON >= CREDIT_THRESHOLD
            and not contradicted
            and (content_found or not term_set.needs_content)
        )
        if (credited, share) > (best[0], best[1]):
            found.sort(key=lambda entry: -entry[0])
            best = (credited, share, [entry[2] for entry in found], [entry[1] for entry in found])

    credited, share, found_hits, found_ids = best
    evidence = _evidence(found_hits, tokens, answer) if credited else None
    labels = tuple(prepared.terms[term_id].label for term_id in found_ids)
    text_set = plan.sets[0] if plan.sets else None
    missing = (
        tuple(
            prepared.terms[term_id].label
            for term_id in text_set.terms
            if term_id not in hits and not prepared.terms[term_id].optional
        )
        if text_set is not None and not credited
        else ()
    )
    return PointGrade(index, point, credited, evidence, round(share, 4), labels, missing)


def verdict_for(card: Card, credited: Sequence[bool]) -> tuple[float, Verdict]:
    """Score (credited share of point weights) and verdict for these credited flags.

    Shared with the benches, so labelled answers get their verdicts by the very same rule.
    """
    total = sum(point.weight for point in card.points)
    earned = sum(point.weight for point, ok in zip(card.points, credited, strict=True) if ok)
    score = earned / total if total > 0 else 0.0
    if not any(credited):
        return 0.0, "wrong"
    if all(credited) or (card.pass_ratio is not None and score + EPSILON >= card.pass_ratio):
        return score, "correct"
    return score, "partial"


def _is_keyword_dump(
    prepared: _PreparedCard, tokens: Sequence[Token], hits: dict[int, list[_Hit]]
) -> bool:
    """A shotgun list of the deck's jargon earns nothing, even where it names this card's terms.

    A dump is a list with hardly any function words, most of whose words are distinctive terms
    of other cards. Needs a prepared deck (a lone card knows no other cards); yes/no cards are
    read differently and are left alone.
    """
    if not prepared.deck_terms or any(plan.polarity for plan in prepared.points):
        return False
    function_words = sum(token.stop for token in tokens)
    if function_words > DUMP_MAX_FUNCTION_SHARE * len(tokens):
        return False
    on_card = {hit.first for term_hits in hits.values() for hit in term_hits}
    foreign = sum(
        1
        for i, token in enumerate(tokens)
        if not token.stop
        and i not in on_card
        and any(key in prepared.deck_terms for key in _word_keys(token))
    )
    return foreign >= DUMP_MIN_FOREIGN and foreign > DUMP_RATIO * len(on_card)


def grade(card: Card, answer: str) -> Grade:
    """Grade a student's free-text answer against the card's points (pure, deterministic)."""
    prepared = _prepared(card)
    text = answer[:MAX_ANSWER_CHARS] if isinstance(answer, str) else ""
    tokens = tokenize(text)
    mark_negations(tokens, prepared.question.framing)
    hits = _find_terms(prepared, tokens)
    if _is_keyword_dump(prepared, tokens, hits):
        hits = {}
    reply = (
        _yes_no(tokens, text.rstrip().endswith("?"))
        if any(plan.polarity for plan in prepared.points)
        else (None, None)
    )
    seen = _sort_out(prepared, hits)
    points = tuple(
        _grade_point(i, point, prepared, plan, tokens, seen, text, reply)
        for i, (point, plan) in enumerate(zip(card.points, prepared.points, strict=True))
    )
    score, verdict = verdict_for(card, [point.matched for point in points])
    return Grade(card.id, answer, score, verdict, points)
