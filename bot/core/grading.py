"""Grade a free-text answer point by point, the way a fair teacher would.

Each point of a card is reduced to key terms: its text, its "head: tail" parts and comma
items, and each alias, as alternative term sets. A point is credited when at least
CREDIT_THRESHOLD of one set's weight is found in the answer: exactly after normalisation and
stemming (see ``bot.core.textnorm``), glued ("all gather" = "allgather"), fuzzily for typos
(misspelt, doubled letters, written without vowels), or, a little lower, through a general
synonym ("quick" for "fast", "figure out" for "identify"). A deck term that one card spells
out in aliases ("throughput": "samples per second") may be spelt that way on every card.
Terms weigh by how distinctive they are across the deck (IDF); a term the question already
gives, or another point of the card shares, weighs less, and words echoing the question's
framing earn nothing; words shared that way cannot earn a point alone.

A point said the other way round earns nothing: a term inside a negation ("rather than
latency", "latency? no", "too big to fit") does not count and a term said only the other way
round blocks its set, though a denied word says its denying-prefix form ("no limit" earns
"unlimited"); a short point whose word the answer denies is missed, unless the card words it
with a "not" too; a statement that pairs a point's word with an opposite ("utilisation is
high" for "low utilisation", "the GPU preprocesses" for "preprocessing on the CPU") or pairs
the card's words crosswise ("partition the model ... copies of the data") cannot earn it.
Yes/no points read the reply's first decisive word; a bare keyword dump earns nothing.

A point's words must be said, or replaced by an equivalent, not by another card's word: a
distinctive word of another card right before a point's word, where the card says a word of
its own ("the inference pipeline" for "training pipeline"), vetoes the point there. A
statement that states another card's point more fully earns this one nothing
(``bot.core.alignment``), also when only a short alias of this point is said in full.

``grade`` is pure and deterministic (its memo caches never change a result). The per-card
work (key terms, weights, contrast with sibling points and cards) is done once by
``bot.core.keyterms``; ``prepare_deck`` and ``prepare_cards`` are re-exported from there.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import attrgetter, itemgetter
from typing import Any, Literal

from rapidfuzz.distance import OSA

from bot.core.alignment import (
    Statement,
    answer_keys,
    outshone,
    statement_words,
    two_way,
)
from bot.core.cards import Card, Point
from bot.core.keyterms import (
    EAGER_PREPARE_MAX_CARDS,
    ECHO_WINDOW,
    FUZZY_CACHE_SIZE,
    FUZZY_MIN_LENGTH,
    NEIGHBOURS,
    SKELETON_MIN_LENGTH,
    SQUEEZE_MIN_LENGTH,
    PreparedCard,
    PreparedPoint,
    Question,
    Term,
    can_be_adjective,
    can_be_noun,
    is_adjective,
    joins,
    neighbours,
    prepare_cards,
    prepare_deck,
    prepared_card,
    skeleton,
    word_keys,
)
from bot.core.lexicon import (
    AFFIRMING_VERBS,
    BOUND_WORDS,
    CONJUNCTIONS,
    DENYING_PREFIXES,
    DISTRIBUTIVE_WORDS,
    IGNORANCE_PHRASES,
    IGNORANCE_WORDS,
    NEGATING_HYPHENS,
    NEGATING_PREFIXES,
    NO_WORDS,
    PREPOSITIONS,
    SINGLE_WORDS,
    YES_WORDS,
)
from bot.core.textnorm import (
    BOUND_SIGNS,
    NEGATION_CUES,
    PHRASAL_HEADS,
    SYNONYM_WORDS,
    Token,
    common_zipf,
    comparative,
    informativeness,
    mark_negations,
    opposed,
    phrasal_groups,
    squeeze,
    synonym_groups,
    synonyms_of,
    tokenize,
)

__all__ = [
    "EAGER_PREPARE_MAX_CARDS",
    "Grade",
    "PointGrade",
    "alignment",
    "grade",
    "prepare_cards",
    "prepare_deck",
    "verdict_for",
]

#: A term set earns its point when this share of its weight is found in the answer.
CREDIT_THRESHOLD = 0.5
#: ... and this share when the answer is a single word (see ``_grade_point``).
LONE_WORD_SHARE = 2 / 3
#: Only the start of an answer is read: longer texts are cut here (Telegram's message limit).
MAX_ANSWER_CHARS = 4096
#: Answer words shorter than this are never taken for a misspelling ("lowr" is "lower").
FUZZY_MIN_ANSWER_LENGTH = 4
#: (shortest reference length, edits allowed): "latancy" is one edit from "latency".
FUZZY_EDITS: tuple[tuple[int, int], ...] = ((12, 3), (8, 2), (FUZZY_MIN_LENGTH, 1))
#: Letters of a word that may shorten a word of the card ("dev", "grads").
ABBREVIATION_LETTERS = range(3, 6)
#: ...if it is no more common in English than this (Zipf): "ten", "pre", "art" are words.
ABBREVIATION_MAX_ZIPF = 4.0
#: ...and the card's word is at least this many letters longer.
ABBREVIATION_REST = 3
#: A stem this long that begins another word is the same root ("replic"-ate / "replica").
PREFIX_MIN_LENGTH = 6
#: Adjacent answer words are also tried glued together ("all gather" == "allgather").
JOIN_WINDOW = 3
#: At most this many hits are tried as the centre of a point's evidence.
EVIDENCE_ANCHORS = 4
#: ...and an answer with at most this share of function words (a bare list of words)...
DUMP_MAX_FUNCTION_SHARE = 0.15
#: ...naming at least this many distinctive terms of other cards...
DUMP_MIN_FOREIGN = 5
#: ...more than this many times the words that matched this card, is a shotgun list.
DUMP_RATIO = 2.0
#: Weight factor for a term found only through a synonym ("quick" for "fast"): a little less.
SYNONYM_WEIGHT = 0.8
#: Evidence hits further apart than this many words are quoted as separate fragments...
EVIDENCE_GAP = 5
#: ...joined by this.
EVIDENCE_JOINER = " … "
#: A point with at most this many words of its own names one thing: denying one denies it.
SHORT_POINT_TERMS = 2
#: The two words of a hyphen compound said apart are at most this many words from each other.
SPLIT_COMPOUND_REACH = 3
#: Punctuation that ends a statement, for telling which card's point it states.
SENTENCE_ENDS = frozenset(".!?;")
#: A statement of at most this many content words makes one claim (see ``_taken_by_rivals``).
ONE_CLAIM_WORDS = 12
#: Shorter words are never read as a word of another card in a point's slot ("ML").
SLOT_MIN_LENGTH = 3
#: Float slack for comparing shares against thresholds.
EPSILON = 1e-9

#: The same words with doubled letters squeezed, to read stretched replies ("noo", "yess").
SQUEEZED_YES = frozenset(squeeze(word) for word in YES_WORDS)
SQUEEZED_NO = frozenset(squeeze(word) for word in NO_WORDS)
#: How many leading tokens may hold that affirming verb (the first one never does).
AFFIRMING_REACH = 3


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
    #: best share found of the point's own wording (its text and parts, not an alias): an
    #: alias said in full is no proof that no other card's point is said more fully
    wording_similarity: float = 0.0

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


def _close(word: str, form: str, prefix: bool = True) -> bool:
    """A misspelling or another form of the same root, within a length-dependent tolerance.

    With ``prefix``, a word sharing a long beginning is the same root ("replic"-ate/replica);
    never for a glued compound: "reduce" alone is not "reduce-scatter".
    """
    if (
        prefix
        and min(len(word), len(form)) >= PREFIX_MIN_LENGTH
        and (word.startswith(form) or form.startswith(word))
    ):
        return True
    allowed = _allowed_edits(len(form))
    if not allowed or abs(len(word) - len(form)) > allowed:
        return False
    if OSA.distance(word, form, score_cutoff=allowed) > allowed:
        return False
    longer, shorter = (word, form) if len(word) > len(form) else (form, word)
    return not _negates(longer, shorter) and not opposed(word, form)  # "increase"/"decrease"


def _fuzzy_hits(
    prepared: PreparedCard, words: Sequence[str], candidates: Iterable[tuple[str, int]]
) -> tuple[int, ...]:
    """Term ids with a form close to one of ``words`` (remembered per card)."""
    cached = prepared.fuzzy_cache.get(words[0])
    if cached is not None:
        return cached
    found: list[int] = []
    glued = prepared.compound_forms
    for form, term_id in candidates:
        if term_id not in found and any(_close(word, form, form not in glued) for word in words):
            found.append(term_id)
    hits = tuple(found)
    if len(prepared.fuzzy_cache) < FUZZY_CACHE_SIZE:
        prepared.fuzzy_cache[words[0]] = hits
    return hits


@dataclass(slots=True)
class _Hit:  # never changed once made: one serves every term its words stand for
    first: int  # token indices of the answer words that matched
    last: int
    negated: bool
    echo: bool  # part of a phrase copied from the question
    synonym: bool = False  # found through a synonym, not the card's own word


def _echoes(question: Question, tokens: Sequence[Token]) -> list[bool]:
    """Flag answer words that copy the question's framing ("the parts of model development").

    Such words earn nothing, even on a point made only of question words. A run that names
    points only ("feature extraction and model search") is an answer, not an echo.
    """
    echo = [False] * len(tokens)
    starts = question.gram_starts
    if not starts or starts.isdisjoint([token.stem for token in tokens]):
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


def _word_hits(prepared: PreparedCard, token: Token) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Terms one answer word stands for: as the card's own word, and through a synonym.

    Exactly (stem, text, singular), else fuzzily or with doubled letters squeezed ("plott"),
    else through a synonym ("quick" for "fast"). Function words only ever through a synonym
    ("whole" for "full").
    """
    text = token.text
    found: set[int] = set()
    if not token.stop:
        found = {term_id for key in word_keys(token) for term_id in prepared.index.get(key, ())}
        if len(text) >= FUZZY_MIN_ANSWER_LENGTH and text.isalpha():
            bucket = prepared.fuzzy.get(text[0], ())
            found.update(_fuzzy_hits(prepared, (text, token.stem), bucket))
        if not found and len(text) >= SQUEEZE_MIN_LENGTH and text.isalpha():
            found.update(prepared.squeezed.get(squeeze(text), ()))
            bare = skeleton(text)
            if not found and len(bare) >= SKELETON_MIN_LENGTH:  # "srch", "extractn"
                found.update(
                    term_id
                    for term_id, length in prepared.skeletons.get(bare, ())
                    if length > len(text)
                )
            if not found and len(text) in ABBREVIATION_LETTERS:
                found.update(_abbreviated(prepared, text))
    similar: set[int] = set()
    if prepared.synonyms:
        for group in synonym_groups(text, token.stem):
            similar.update(prepared.synonyms.get(group, ()))
    hits = (tuple(sorted(found)), tuple(sorted(similar - found)))
    if len(prepared.word_cache) < FUZZY_CACHE_SIZE:
        prepared.word_cache[text] = hits
    return hits


def _abbreviated(prepared: PreparedCard, text: str) -> set[int]:
    """Terms whose word this one shortens ("dev" for "development", "grads" for "gradients"):
    a short word that is no common English word on its own and begins one word of the card,
    at least ABBREVIATION_REST letters longer (every key it begins is that word's forms)."""
    if not text.isalpha() or common_zipf(text) >= ABBREVIATION_MAX_ZIPF:
        return set()
    root = text[:-1] if text.endswith("s") and len(text) > min(ABBREVIATION_LETTERS) else text
    keys = prepared.sorted_keys
    compounds = prepared.compound_forms  # "gpu" shortens no "GPU-GPU"
    begun = []
    for key in keys[bisect.bisect_left(keys, root) :]:
        if not key.startswith(root):
            break
        if len(key) >= len(root) + ABBREVIATION_REST and key.isalpha() and key not in compounds:
            begun.append(key)
    family = {key[: len(root) + ABBREVIATION_REST - 1] for key in begun}
    if len(family) != 1:
        return set()  # none, or words of different families ("val": value, validate)
    return {term_id for key in begun for term_id in prepared.index.get(key, ())}


def _in_compound(tokens: Sequence[Token], index: int) -> bool:
    """True for a word glued to a neighbour by a hyphen or slash ("all-gather")."""
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    return tokens[index].link != " " or (following is not None and following.link != " ")


def _begins_longer_key(prepared: PreparedCard, head: str) -> bool:
    """True when some key of the card starts with ``head`` and goes on ("all" -> "allgather")."""
    known = prepared.head_cache.get(head)
    if known is None:
        keys = prepared.sorted_keys
        position = bisect.bisect_right(keys, head)
        known = position < len(keys) and keys[position].startswith(head)
        if len(prepared.head_cache) < FUZZY_CACHE_SIZE:
            prepared.head_cache[head] = known
    return known


def _find_terms(
    prepared: PreparedCard, tokens: Sequence[Token], answer: str = ""
) -> dict[int, list[_Hit]]:
    """Every card term found in the answer: where, whether negated, whether echoed.

    A word written in capitals ("PS", "MP") may be the initials of a run of the card's words
    ("parameter server", "model parallelism"), even when it also spells a common word."""
    hits: dict[int, list[_Hit]] = {}
    index = prepared.index
    echo = _echoes(prepared.question, tokens)

    def record(
        term_ids: Iterable[int], first: int, last: int, negated: bool, synonym: bool = False
    ) -> None:
        hit = _Hit(first, last, negated, all(echo[first : last + 1]), synonym)
        for term_id in term_ids:
            hits.setdefault(term_id, []).append(hit)

    cache = prepared.word_cache
    compounds = prepared.compounds
    less = prepared.less
    for i, token in enumerate(tokens):
        text = token.text
        if token.stop and text not in SYNONYM_WORDS:
            if less and text in NEGATION_CUES and comparative(tokens, i):  # "not as much" = less
                hit = _Hit(i, i, False, echo[i], True)
                for term_id in less:
                    hits.setdefault(term_id, []).append(hit)
            continue
        found = cache.get(text)
        if found is None:
            found = _word_hits(prepared, token)
        exact, similar = found
        phrasal = text in PHRASAL_HEADS or token.stem in PHRASAL_HEADS
        if not exact and not similar and not phrasal and not token.negated:
            continue
        negated = token.negated
        if i and token.link == "-" and tokens[i - 1].text in NEGATING_HYPHENS:
            negated = not negated  # "non-reproducible" says "not reproducible"
        echoed = echo[i]
        if exact:
            hit = _Hit(i, i, negated, echoed)
            for term_id in exact:
                hits.setdefault(term_id, []).append(hit)
        if similar or phrasal:
            by_synonym = _Hit(i, i, negated, echoed, True)
            if similar and not _in_compound(tokens, i):  # "reduce-scatter" is no "minimise"
                for term_id in similar:
                    hits.setdefault(term_id, []).append(by_synonym)
            if phrasal:  # "figure out" is "identify"
                groups = phrasal_groups(tokens, i)
                synonyms = prepared.synonyms
                meant = {t for group in groups for t in synonyms.get(group, ())} - set(exact)
                for term_id in sorted(meant):
                    hits.setdefault(term_id, []).append(by_synonym)
        if token.negated and not token.stop and text.isalpha() and len(token.stem) >= 5:
            # (Short words glue into others: "not port" is no "import", "not put" no "input".)
            for prefix in DENYING_PREFIXES:  # "no limit" says "unlimited"
                ids = index.get(prefix + token.stem) or index.get(prefix + text)
                if ids:
                    record(ids, i, i, False)
            if compounds:
                for prefix in NEGATING_HYPHENS:  # "not deterministic" says "non-deterministic"
                    ids = _fuzzy_hits(prepared, (prefix + text,), compounds)
                    if ids:
                        record(ids, i, i, False)

    for term_id, first_keys, second_keys in prepared.split_compounds:
        if term_id in hits:
            continue
        said = [
            (i, bool(first_keys.intersection(keys)), bool(second_keys.intersection(keys)))
            for i, token in enumerate(tokens)
            if not token.stop
            and (keys := word_keys(token))
            and (first_keys.intersection(keys) or second_keys.intersection(keys))
        ]
        for i, is_first, _ in said:
            partner = next(
                (
                    j
                    for j, _, is_second in said
                    if j != i
                    and (is_second if is_first else True)
                    and abs(j - i) <= SPLIT_COMPOUND_REACH
                    and tokens[j].clause == tokens[i].clause
                ),
                None,
            )
            if is_first and partner is not None:
                low, high = min(i, partner), max(i, partner)
                record((term_id,), low, high, tokens[i].negated or tokens[partner].negated)
                break

    acronyms = prepared.acronyms
    if acronyms and answer:
        for i, token in enumerate(tokens):
            if token.text not in acronyms:
                continue
            raw = answer[token.start : token.end]
            if raw.isupper() and raw.isalpha():
                record(acronyms[token.text], i, i, token.negated)

    if prepared.expansions:
        _spelt_out(prepared.expansions, tokens, record)

    # Glued neighbours: "all gather" -> "allgather". Only windows whose first word begins a
    # longer key of the card are built, which skips almost all of them.
    heads = prepared.head_cache
    starts = []
    for i, token in enumerate(tokens):
        known = heads.get(token.text)
        if known is None:
            known = _begins_longer_key(prepared, token.text)
        if known:
            starts.append(i)
    if not starts:
        return _prune(hits)
    content = [i for i, token in enumerate(tokens) if not token.stop]
    content_at = {position: number for number, position in enumerate(content)}
    for positions in (range(len(tokens)), content):
        for first in starts:
            start = first if positions is not content else content_at.get(first)
            if start is None:
                continue
            clause = tokens[first].clause
            leading = tokens[first].text  # the window's words before its last, as written
            for width in range(2, min(JOIN_WINDOW, len(positions) - start) + 1):
                if width > 2 and not _begins_longer_key(prepared, leading):
                    break  # no key of the card begins so: no wider window is one either
                last = positions[start + width - 1]
                last_token = tokens[last]
                if last_token.clause != clause:
                    break
                found = index.get(leading + last_token.stem, ())  # ``join_key``
                if not found and width == 2 and compounds:
                    glued = leading + last_token.text
                    if glued.isalpha():
                        found = _fuzzy_hits(prepared, (glued,), compounds)
                leading += last_token.text
                if found:
                    record(found, first, last, last_token.negated)
    return _prune(hits)


def _spelt_out(
    expansions: dict[str, tuple[int, ...]],
    tokens: Sequence[Token],
    record: Callable[[Iterable[int], int, int, bool], None],
) -> None:
    """Record the card's acronyms that the answer spells out: a run of content words in one
    clause whose initials are the acronym's letters ("directed acyclic graph" for "DAG")."""
    beginnings = {letters[:size] for letters in expansions for size in range(1, len(letters))}
    for first, token in enumerate(tokens):
        if token.stop or token.text[:1] not in beginnings:
            continue
        initials = ""
        for last in range(first, len(tokens)):
            word = tokens[last]
            if word.stop or word.clause != token.clause:
                break
            initials += word.text[:1]
            ids = expansions.get(initials)
            if ids and last > first:
                record(ids, first, last, any(tokens[i].negated for i in range(first, last + 1)))
            if initials not in beginnings:
                break


_BY_SYNONYM = attrgetter("synonym")


def _prune(hits: dict[int, list[_Hit]]) -> dict[int, list[_Hit]]:
    """Drop synonym hits of a term the answer also says in the card's own word, the same way
    round: they add nothing but work."""
    for term_id, term_hits in hits.items():
        if len(term_hits) > 1 and any(map(_BY_SYNONYM, term_hits)):
            said = {hit.negated for hit in term_hits if not hit.synonym}
            if said:
                hits[term_id] = [
                    hit for hit in term_hits if not hit.synonym or hit.negated not in said
                ]
    return hits


def _decisive(word: str) -> str | None:
    """ "yes" or "no" when the word says so, also stretched ("noo", "yesss")."""
    if word in NO_WORDS:
        return "no"
    if word in YES_WORDS:
        return "yes"
    if word.isalpha() and len(word) > 2:
        squeezed = squeeze(word)
        if squeezed != word:
            return "no" if squeezed in SQUEEZED_NO else "yes" if squeezed in SQUEEZED_YES else None
    return None


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
        said = _decisive(token.text)
        if said == "no":
            return "no", token
        if said == "yes":
            following = tokens[position + 1] if position + 1 < len(tokens) else None
            if following is not None and _decisive(following.text) == "no":
                return "no", following
            return "yes", token
    if not asks and not any(token.negated for token in tokens):
        for token in tokens[1:AFFIRMING_REACH]:  # after a subject: "Can ..." is a question
            if token.text in AFFIRMING_VERBS:
                return "yes", token
    return None, None


def _evidence(
    found: list[list[_Hit]], tokens: Sequence[Token], clauses: Sequence[int], answer: str
) -> str | None:
    """The student's words that earned a point: the tightest span holding one hit per term.

    Around each of a few hits of the rarest term, every other term's nearest hit is taken (in
    the same clause first, the longer on a tie). Hits close together are quoted as one
    fragment, from the first matching word to the last ("reduce scatter"); hits far apart as
    separate fragments joined by " … ".
    """
    if not found:
        return None
    best: list[_Hit] = []
    best_width = 0
    for anchor in min(found, key=len)[:EVIDENCE_ANCHORS]:
        at = anchor.first
        clause = clauses[at]
        chosen: list[_Hit] = []
        for term_hits in found:
            nearest = term_hits[0]
            if len(term_hits) > 1:  # nearest: in the same clause first, the longer on a tie
                first = nearest.first
                key = (clauses[first] != clause, abs(first - at), first - nearest.last)
                for hit in term_hits:
                    first = hit.first
                    other = (clauses[first] != clause, abs(first - at), first - hit.last)
                    if other < key:
                        nearest, key = hit, other
            chosen.append(nearest)
        width = max([hit.last for hit in chosen]) - min([hit.first for hit in chosen])
        if not best or width < best_width:
            best, best_width = chosen, width
    fragments: list[list[int]] = []
    for first, last in sorted((hit.first, hit.last) for hit in best):
        if fragments and first - fragments[-1][1] - 1 <= EVIDENCE_GAP:
            fragments[-1][1] = max(fragments[-1][1], last)
        else:
            fragments.append([first, last])
    return EVIDENCE_JOINER.join(
        answer[tokens[first].start : tokens[last].end] for first, last in fragments
    )


@dataclass(slots=True)
class _Seen:
    """How a term showed up in an answer, sorted out once for every set that uses it."""

    agreeing: list[_Hit]  # hits whose polarity agrees with the card's
    agreeing_fresh: list[_Hit]  # ...of those, the ones not echoing the question
    fresh: bool  # some hit does not echo the question
    exact: bool  # some agreeing hit is the card's own word, not a synonym
    exact_fresh: bool  # ...and does not echo the question


def _sort_out(prepared: PreparedCard, hits: dict[int, list[_Hit]]) -> dict[int, _Seen]:
    any_polarity = prepared.question.negated  # "What can't be done?": "can't retrain" is right
    terms = prepared.terms
    seen: dict[int, _Seen] = {}
    for term_id, term_hits in hits.items():
        term = terms[term_id]
        either = any_polarity or term.either
        agreeing: list[_Hit] = []
        fresh: list[_Hit] = []
        any_fresh = exact = exact_fresh = False
        for hit in term_hits:
            any_fresh |= not hit.echo
            if either or hit.negated == term.negated:
                agreeing.append(hit)
                exact |= not hit.synonym
                if not hit.echo:
                    fresh.append(hit)
                    exact_fresh |= not hit.synonym
        seen[term_id] = _Seen(agreeing, fresh, any_fresh, exact, exact_fresh)
    return seen


def _grade_point(
    index: int,
    point: Point,
    prepared: PreparedCard,
    plan: PreparedPoint,
    tokens: Sequence[Token],
    clauses: Sequence[int],  # each token's clause number
    hits: dict[int, _Seen],
    answer: str,
    reply: tuple[str | None, Token | None],
    bare_word: bool,
    doubtful: frozenset[int],
    conjuncts: _Conjuncts,
) -> PointGrade:
    if plan.polarity is not None:
        said, token = reply
        if said == plan.polarity and token is not None:
            return PointGrade(index, point, True, answer[token.start : token.end], 1.0, (said,))
        return PointGrade(index, point, False, None, 0.0, (), (plan.polarity,))

    # the best set so far: credited, its share, (weight, term, hits) of the terms it found
    best_credited, best_share = False, 0.0
    best_found: list[tuple[float, int, list[_Hit]]] = []
    best_wording = 0.0  # ...of the sets that are no alias
    denied = bool(plan.sets) and _denied(prepared, plan, hits)
    said = hits.keys()
    for term_set in plan.sets:
        if best_credited and best_share >= 1.0:
            break  # credited in full: no other set can do better
        if said.isdisjoint(term_set.terms):
            continue  # nothing of it said: it cannot beat what is already best
        covered = 0.0
        content_found = contradicted = own_word = False
        found: list[tuple[float, int, list[_Hit]]] = []
        # Words shared with the question or other points cannot tell the points apart: one of
        # the point's own must be found, or, when it has none, every word beyond the question's.
        own_found = not term_set.has_own
        missed_shared = False
        for term_id, weight, is_question, is_own in term_set.entries:
            seen = hits.get(term_id)
            agreeing = (seen.agreeing_fresh if is_question else seen.agreeing) if seen else []
            if not agreeing and not is_question:
                missed_shared = True
            if seen is None:
                continue
            if agreeing:
                if seen.exact_fresh if is_question else seen.exact:
                    own_word = True
                else:
                    weight *= SYNONYM_WEIGHT
                covered += weight
                found.append((weight, term_id, agreeing))
                content_found |= not is_question
                own_found |= is_own
            elif seen.fresh if is_question else True:
                contradicted = True  # said only the other way round: "the data, not the model"
        share = covered / term_set.total if term_set.total else 0.0
        # A word that only qualifies another ("lower" in "lower throughput") earns nothing
        # without the word it qualifies: "lower accuracy" is not "lower throughput".
        headless = bool(term_set.modifiers) and not any(
            entry[1] in term_set.heads for entry in found
        )
        # A one-word answer earns a wording of several words only when that word carries most
        # of its weight: "second" alone is not "requests per second", but "cleaning" is "clean
        # data". In a sentence, one word may do ("samples ... per unit of time").
        # So does one word of a statement that misstates the card ("an array where every
        # element may have a different type"): that shared word shows no knowledge of the point.
        lone = (
            bare_word or (len(found) == 1 and all(hit.first in doubtful for hit in found[0][2]))
        ) and len(term_set.entries) > 1
        credited = (
            share + EPSILON >= CREDIT_THRESHOLD
            and (not lone or share + EPSILON >= LONE_WORD_SHARE)
            and not contradicted
            and (content_found or not term_set.needs_content)
            and (own_word or len(term_set.terms) == 1)  # synonyms alone only for one word
            and own_found
            and (term_set.has_own or not missed_shared)
            and not denied
            and not (headless and term_set.heads)
            and (len(found) < 2 or not conjuncts.scatters(index, found, term_set.total))
        )
        if credited and not term_set.source.startswith("alias:"):
            best_wording = max(best_wording, share)
        if credited > best_credited or (credited == best_credited and share > best_share):
            best_credited, best_share, best_found = credited, share, found

    credited, share = best_credited, best_share
    best_found.sort(key=itemgetter(0), reverse=True)  # heaviest first, ties as found (stable)
    evidence = (
        _evidence([entry[2] for entry in best_found], tokens, clauses, answer) if credited else None
    )
    terms = prepared.terms
    labels = tuple([terms[entry[1]].label for entry in best_found])
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
    return PointGrade(
        index, point, credited, evidence, round(share, 4), labels, missing, best_wording
    )


class _Conjuncts:
    """The answer's statements (clauses cut at "and", "or"...) and which points' own words
    each position says, to tell a point stated from one assembled out of other statements.
    Read only when a point would be earned by words found in several places."""

    def __init__(
        self, prepared: PreparedCard, tokens: Sequence[Token], hits: dict[int, list[_Hit]]
    ) -> None:
        self._prepared = prepared
        self._tokens = tokens
        self._hits = hits
        self._number: list[int] | None = None
        self._owners: dict[int, set[int]] = {}

    def _read(self) -> list[int]:
        number = self._number
        if number is None:
            tokens = self._tokens
            number = []
            statement = 0
            clause = tokens[0].clause if tokens else 0
            for index, token in enumerate(tokens):
                if token.clause != clause or (
                    token.text in CONJUNCTIONS and index and joins(tokens, index)
                ):
                    statement += 1
                    clause = token.clause
                number.append(statement)
            contrast = self._prepared.contrast
            term_points, question_terms = contrast.term_points, contrast.question_terms
            owners = self._owners
            for term_id, term_hits in self._hits.items():
                if term_id in question_terms:
                    continue
                for hit in term_hits:
                    if not hit.echo:
                        owners.setdefault(hit.first, set()).update(term_points.get(term_id, ()))
            self._number = number
        return number

    def scatters(
        self, point: int, found: Sequence[tuple[float, int, list[_Hit]]], total: float
    ) -> bool:
        """True when the point's words found lie in several statements, none holding enough
        of them to earn it, and each of those statements says another point's own word: "the
        GPU preprocesses the data and the CPU trains the model" does not say "training on
        GPUs"."""
        number = self._read()
        said_in = {number[hit.first] for _, _, hits in found for hit in hits}
        if len(said_in) == 1:
            return False  # one statement says every word found (the usual case)
        places = [{number[hit.first] for hit in hits} for _, _, hits in found]
        if set.intersection(*places):
            return False  # ...or one holds some place of each
        said: dict[int, float] = {}
        for (weight, _, _), statements in zip(found, places, strict=True):
            for statement in statements:
                said[statement] = said.get(statement, 0.0) + weight
        if max(said.values()) + EPSILON >= LONE_WORD_SHARE * total:
            return False  # one statement says enough of it; the rest only adds
        busy = {
            number[position] for position, points in self._owners.items() if point not in points
        }
        return said_in <= busy


def _misstated(
    prepared: PreparedCard,
    tokens: Sequence[Token],
    hits: dict[int, list[_Hit]],
    barred: dict[int, set[int]] | None,
) -> frozenset[int]:
    """Positions of the answer's sentences that misstate the card: a point said the other way
    round there (``barred``: swaps, opposite modifiers, crossed pairs) or one of its words said
    only the other way ("the CPU, not the GPU"). A lone shared word in such a sentence is no
    evidence of another point: the student is saying something else."""
    wrong: set[int] = set()
    for positions in (barred or {}).values():
        wrong |= positions
    if not prepared.question.negated:  # else either polarity may be right
        terms = prepared.terms
        agreeing: set[int] = set()
        disagreeing: set[int] = set()
        for term_id, term_hits in hits.items():
            term = terms[term_id]
            for hit in term_hits:
                if term.either or hit.negated == term.negated:
                    agreeing.add(hit.first)
                elif not hit.echo:
                    disagreeing.add(hit.first)
        wrong |= disagreeing - agreeing  # a word no wording of the card says that way round
    if not wrong:
        return frozenset()
    statements = _statements(tokens)
    said_wrong = {statements[position] for position in wrong}
    return frozenset(i for i, number in enumerate(statements) if number in said_wrong)


def _denied(prepared: PreparedCard, plan: PreparedPoint, hits: dict[int, _Seen]) -> bool:
    """A short point ("lower throughput") is denied when the answer says "not" to one of its
    own words and never says that word the card's way ("lower accuracy, not throughput"),
    unless another wording of the point says that word with a "not" too (an alias "no base
    case" for "base case"): then the answer may say it either way."""
    text_set = plan.sets[0]
    if sum(text_set.own) > SHORT_POINT_TERMS:
        return False
    terms = prepared.terms
    for term_id, own in zip(text_set.terms, text_set.own, strict=True):
        seen = hits.get(term_id)
        if (
            own
            and seen is not None
            and not seen.agreeing
            and not terms[term_id].negated
            and seen.fresh
            and not any(
                terms[other].negated and terms[other].keys & terms[term_id].keys
                for term_set in plan.sets[1:]
                for other in term_set.terms
            )
        ):
            return True
    return False


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
    prepared: PreparedCard, tokens: Sequence[Token], hits: dict[int, list[_Hit]]
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
        and any(key in prepared.deck_terms for key in word_keys(token))
    )
    return foreign >= DUMP_MIN_FOREIGN and foreign > DUMP_RATIO * len(on_card)


def _conjunct(tokens: Sequence[Token], index: int) -> range:
    """Token positions of the statement holding ``index``: its clause, cut at "and", "or"..."""
    clause = tokens[index].clause
    first = index
    while first > 0 and tokens[first - 1].clause == clause and not joins(tokens, first):
        first -= 1
    last = index
    while (
        last + 1 < len(tokens) and tokens[last + 1].clause == clause and not joins(tokens, last + 1)
    ):
        last += 1
    return range(first, last + 1)


def _contested(
    prepared: PreparedCard, tokens: Sequence[Token], hits: dict[int, list[_Hit]], answer: str
) -> dict[int, set[int]] | None:
    """Answer positions each point may not use, because there the point is said the other way.

    A statement that pairs a point's word with the opposite of another of its words states the
    point wrongly, and the point earns nothing from that statement (its clause, up to "and",
    "or"...). Two kinds:

    - a swap: the opposite word is a sibling point's own word ("the GPU preprocesses the data"
      for "preprocessing on the CPU" when another point says "training on GPUs"). The point's
      word anchoring it may be anywhere in the statement (a question's word too), but not one
      it shares with that sibling ("pass" in "forward pass, backward pass"). The opposite word
      then serves that statement, so the sibling cannot use it either ("the CPU trains the
      model": the CPU does not count for "preprocessing on the CPU");
    - a modifier: the opposite word is said of the same word as the point's ("hardware
      utilisation is high" for "low HW utilisation", "the whole model" for "partition the
      model"): the anchor, said in the card's own word, must be next to it, and next to the
      point's word on the card. "a full copy of the model" does not contradict "partition the
      data".

    A number is no amount after "more than" or ">" ("more than one layer"), nor in "one copy
    per worker"; an opposite that is one of the question's words is the question's.
    """
    contrast = prepared.contrast
    opposites = contrast.opposites
    question_keys = prepared.question.keys
    terms = prepared.terms
    barred: dict[int, set[int]] = {}
    for position, token in enumerate(tokens):
        entries = opposites.get(token.text) or opposites.get(token.stem)
        if not entries or token.negated or question_keys.intersection(word_keys(token)):
            continue
        if position and tokens[position - 1].text in BOUND_WORDS:  # "more than one"
            continue
        span = _conjunct(tokens, position)
        if token.text in SINGLE_WORDS and (
            answer[: token.start].rstrip()[-1:] in BOUND_SIGNS  # ">1"
            or any(tokens[i].text in DISTRIBUTIVE_WORDS for i in span)  # "one copy per worker"
        ):
            continue
        owners = [
            other
            for other, words in enumerate(contrast.point_words)
            if token.text in words or token.stem in words
        ]
        foreign = frozenset().union(*(contrast.point_keys[other] for other in owners))
        nearby = set(neighbours(tokens, position)) if not owners else set()
        for point, own, near in entries:
            if any(tokens[i].text in own or tokens[i].stem in own for i in span):
                continue  # the point's own word is said too: "low, not high" is no swap
            anchored = False
            for term_id in contrast.point_terms[point]:
                term = terms[term_id]
                if term.keys & foreign or (not owners and term_id in contrast.question_terms):
                    continue
                for hit in hits.get(term_id, ()):
                    if hit.first == position or not (term.either or hit.negated == term.negated):
                        continue
                    if owners:
                        anchored = hit.first in span
                    else:
                        anchored = (
                            hit.first in nearby
                            and not hit.synonym
                            and bool(
                                near.intersection(word_keys(tokens[hit.first])) or near & term.keys
                            )
                        )
                    if anchored:
                        break
                if anchored:
                    break
            if anchored:
                barred.setdefault(point, set()).update(span)
                for other in owners:
                    if other != point:
                        barred.setdefault(other, set()).add(position)
    return barred or None


def _crossed(
    prepared: PreparedCard, tokens: Sequence[Token], hits: dict[int, list[_Hit]]
) -> dict[int, set[int]] | None:
    """Statements that pair up the card's words the wrong way round, per point they misstate.

    The card says "partition the data and run copies of the model"; an answer saying
    "partition the model ... copies of the data" has every word but pairs them crosswise. A
    statement pairs two words when they stand close in one clause with a function word between
    them ("nodes are tensors"; a bare list such as "fwd bwd" pairs nothing). A pair the card
    never makes, whose words are paired nowhere in the answer the way the card pairs them, is
    crossed: the points of both words earn nothing from that statement. Both words must be
    their point's alone, not the question's. Within one point they must come from one of its
    wordings (synonyms too), and the mirror of the swap ("copies of the data") is barred with
    it. Across points each must be said as the card says it, and the swap must be seen from
    both sides: "nodes are tensors" with "edges are operations".
    """
    contrast = prepared.contrast
    terms = prepared.terms
    own_said = contrast.own_terms.intersection(hits)
    if len(own_said) < 2:
        return None
    own_exact, own_at = _places(terms, hits, own_said)
    counts = _running_counts(tokens)
    candidates: list[tuple[int, int, int, int]] = []  # (term, term, position, position)
    across: list[tuple[int, int, int, int]] = []  # two points' words said together
    for first, second, linked in _close_pairs(tokens, sorted(own_at), counts):
        if not linked:
            continue
        for a in own_at[first]:
            for b in own_at[second]:
                if a == b:
                    continue
                if contrast.term_points[a] == contrast.term_points[b]:
                    if (min(a, b), max(a, b)) in contrast.apart:
                        candidates.append((a, b, first, second))
                elif a in own_exact.get(first, ()) and b in own_exact.get(second, ()):
                    across.append((a, b, first, second))
    swaps: list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]] = []
    if len(across) > 1:  # only a swap seen from both sides is one: "nodes are tensors" with
        # "edges are operations" (the partners of each word paired crosswise too)
        by_pair: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}
        for crossing in across:
            by_pair.setdefault(_ordered(crossing[0], crossing[1]), []).append(crossing)
        for pair, crossings in by_pair.items():
            for mirror in contrast.mirror(*pair).intersection(by_pair):
                swaps.extend((one, other) for one in crossings for other in by_pair[mirror])
    wanted: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    if across and not swaps:  # the other side may pair a question's word the card pairs with
        # a point's own word ("the training on CPUs" for "training on GPUs")
        own = contrast.own_terms
        wanted = {
            pair: one
            for one in across
            for pair in contrast.mirror(*_ordered(one[0], one[1]))
            if pair[0] in hits and pair[1] in hits and not (pair[0] in own and pair[1] in own)
        }
    if not candidates and not swaps and not wanted:
        return None
    _, at = _places(terms, hits, contrast.linked.intersection(hits))
    close = _close_pairs(tokens, sorted(at), counts)
    if wanted:
        swaps = _question_side_swaps(wanted, at, close)
    if not candidates and not swaps:
        return None
    pairs = contrast.pairs
    beside: dict[int, list[int]] = {}  # position -> the positions said with it
    for first, second, _ in close:
        beside.setdefault(first, []).append(second)
        beside.setdefault(second, []).append(first)

    def unpaired(point: int, term_id: int, position: int) -> bool:
        """The card pairs this word with others, and the answer pairs the word said here with
        none of the point's words."""
        point_partners = contrast.partners[point]
        if not point_partners.get(term_id):
            return False
        return not any(
            b in partners
            for a in at[position]
            if (partners := point_partners.get(a))
            for other in beside.get(position, ())
            for b in at[other]
        )

    def mirrored(a: int, b: int, point: int) -> list[int]:
        """Where a partner of ``b`` is said with a partner of ``a``: the swap's other half
        ("copies of the data" for "partition the model")."""
        partners = contrast.partners[point]
        mirrors = {
            (c, d)
            for c in partners.get(b, ())
            for d in partners.get(a, ())
            if c != d and (min(c, d), max(c, d)) not in pairs
        }
        return [
            first
            for first, second, _ in close
            if any(
                (c in at[first] and d in at[second]) or (d in at[first] and c in at[second])
                for c, d in mirrors
            )
        ]

    barred: dict[int, set[int]] = {}
    for one, other in swaps:
        crossings = (one, other)
        if all(
            unpaired(contrast.term_points[term_id][0], term_id, position)
            for a, b, first, second in crossings
            for term_id, position in ((a, first), (b, second))
        ):
            points = (contrast.term_points[one[0]][0], contrast.term_points[one[1]][0])
            _bar(barred, tokens, points, [one[2], other[2]])
    for low, high, first, second in candidates:
        point = contrast.term_points[low][0]
        if unpaired(point, low, first) and unpaired(point, high, second):
            _bar(barred, tokens, (point,), [first, *mirrored(low, high, point)])
    return barred or None


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _question_side_swaps(
    wanted: dict[tuple[int, int], tuple[int, int, int, int]],
    at: dict[int, list[int]],
    close: list[tuple[int, int, bool]],
) -> list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """Swaps of two points' own words whose other side is said with a word the card pairs
    with one of them, a question's word included: "preprocessing runs on GPUs and the training
    on CPUs" for "preprocessing on the CPU", "training on GPUs" when "training" is asked.
    ``wanted`` maps each mirror pair to the crossing it mirrors, ``at`` holds the card's paired
    words by position, ``close`` the pairs said together."""
    swaps = []
    for first, second, linked in close:
        if not linked:
            continue
        for c in at[first]:
            for d in at[second]:
                one = wanted.get((c, d) if c < d else (d, c)) if c != d else None
                if one is not None and first not in one[2:] and second not in one[2:]:
                    swaps.append((one, (c, d, first, second)))
    return swaps


def _places(
    terms: Sequence[Term], hits: dict[int, list[_Hit]], term_ids: Iterable[int]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Where these terms are said the card's way round: position -> term ids, for the card's
    own words only and for all (a word the card uses is not read as a synonym there)."""
    exact: dict[int, list[int]] = {}
    similar: dict[int, list[int]] = {}
    for term_id in term_ids:
        term = terms[term_id]
        either, negated = term.either, term.negated
        for hit in hits[term_id]:
            if either or hit.negated == negated:
                (similar if hit.synonym else exact).setdefault(hit.first, []).append(term_id)
    return exact, {**similar, **exact}


def _running_counts(tokens: Sequence[Token]) -> tuple[list[int], list[int]]:
    """Function words, and conjunctions that open a new statement, before each position (one
    more entry at the end): what stands between two words is then a subtraction."""
    function = [0, *accumulate(token.stop for token in tokens)]
    opening = [0] * (len(tokens) + 1)
    openings = 0
    for index, token in enumerate(tokens):
        if token.stop and token.text in CONJUNCTIONS and joins(tokens, index):
            openings += 1
        opening[index + 1] = openings
    return function, opening


def _close_pairs(
    tokens: Sequence[Token], positions: Sequence[int], counts: tuple[list[int], list[int]]
) -> list[tuple[int, int, bool]]:
    """Pairs of these (sorted) positions said in one statement, at most NEIGHBOURS content
    words apart, and whether a function word links them ("nodes are tensors"; a bare list such
    as "fwd bwd" pairs nothing). ``counts`` are the answer's ``_running_counts``."""
    function, opening = counts
    close: list[tuple[int, int, bool]] = []
    for number, first in enumerate(positions):
        clause = tokens[first].clause
        after = first + 1
        # content words apart: ``first`` itself, then those from ``after`` to ``second``
        # (the words there less the function words), ``second - function[second]`` per pair
        base = (not tokens[first].stop) - after + function[after]
        for second in positions[number + 1 :]:
            if tokens[second].clause != clause:
                break
            if opening[second] != opening[after]:  # a new statement begins between them
                break
            if base + second - function[second] > NEIGHBOURS:
                break
            close.append((first, second, function[second] != function[after]))
    return close


def _slots_taken(
    prepared: PreparedCard, tokens: Sequence[Token], hits: dict[int, list[_Hit]]
) -> dict[int, set[int]] | None:
    """Where a word of another card stands right before a point's word, in the place where the
    point says a word of its own: the point may not use its word there.

    "the inference pipeline" is not "training pipeline", nor "datasets do not fit on one
    device" "models do not fit": the word before ("inference", "datasets") is a distinctive
    word of the deck that this card never uses, of the same kind (noun, adjective) as the
    word the card says there, no synonym of it, and the card's own word is said nowhere in the
    answer. It names something else the deck knows. A word of no other card ("the whole
    pipeline", "first") is left alone.
    """
    slots = prepared.slots
    distinctive = prepared.deck_terms
    if not slots or not distinctive:
        return None
    card_keys = prepared.card_keys
    cache = prepared.foreign_cache
    foreign: set[int] = set()  # positions of distinctive words of other cards only
    for position, token in enumerate(tokens):
        if token.stop or token.negated or token.text in PREPOSITIONS:
            continue
        known = cache.get(token.text)
        if known is None:
            keys = word_keys(token)
            known = (
                len(token.text) >= SLOT_MIN_LENGTH
                and token.text.isalpha()
                and any(key in distinctive for key in keys)
                and not card_keys.intersection(keys)
            )
            if len(cache) < FUZZY_CACHE_SIZE:
                cache[token.text] = known
        if known:
            foreign.add(position)
    if not foreign:
        return None
    before_of: dict[int, int] = {}  # position -> the foreign word right before it
    for position in foreign:
        following = _word_after(tokens, position)
        if following is not None:
            before_of[following] = position
    said: set[int] | None = None  # positions of the card's words, once needed
    answer_words: set[str] = set()  # ...and the keys of every answer word
    barred: dict[int, set[int]] = {}
    for term_id, term_hits in hits.items():
        slot = slots.get(term_id)
        if slot is None:
            continue
        for hit in term_hits:
            before = before_of.get(hit.first)
            if before is None:
                continue
            word = tokens[before]
            if not (
                (slot.noun and can_be_noun(word.text))
                or (slot.adjective and can_be_adjective(word.text))
            ) or slot.keys.intersection(synonyms_of(word.text, word.stem)):
                continue
            if said is None:
                said = set()
                for any_hits in hits.values():
                    for any_hit in any_hits:
                        said.update(range(any_hit.first, any_hit.last + 1))
                answer_words = set().union(*map(word_keys, tokens))
            if before in said or slot.keys & answer_words:
                continue  # a word of the card there, or the card's own word said elsewhere
            _bar(barred, tokens, prepared.contrast.term_points.get(term_id, ()), [hit.first])
    return barred or None


def _word_after(tokens: Sequence[Token], position: int) -> int | None:
    """The content word right after ``position`` in its statement (function words skipped; a
    preposition begins another phrase, "figure out which data"), not glued to it by a hyphen."""
    clause = tokens[position].clause
    cursor = position + 1
    while cursor < len(tokens) and tokens[cursor].clause == clause:
        token = tokens[cursor]
        if joins(tokens, cursor) or token.text in PREPOSITIONS:
            return None
        if not token.stop:
            return cursor if cursor != position + 1 or token.link == " " else None
        cursor += 1
    return None


def _bar(
    barred: dict[int, set[int]], tokens: Sequence[Token], points: Iterable[int], at: list[int]
) -> None:
    """Bar these points from the statements holding these positions."""
    for position in at:
        span = _conjunct(tokens, position)
        for point in points:
            barred.setdefault(point, set()).update(span)


def _without(hits: dict[int, list[_Hit]], positions: set[int]) -> dict[int, list[_Hit]]:
    """The hits that do not touch these answer positions."""
    kept: dict[int, list[_Hit]] = {}
    for term_id, term_hits in hits.items():
        remaining = [
            hit
            for hit in term_hits
            if (
                hit.first not in positions
                if hit.first == hit.last
                else positions.isdisjoint(range(hit.first, hit.last + 1))
            )
        ]
        if remaining:
            kept[term_id] = remaining
    return kept


def grade(card: Card, answer: str) -> Grade:
    """Grade a student's free-text answer against the card's points (pure, deterministic)."""
    prepared = prepared_card(card)
    text = answer[:MAX_ANSWER_CHARS] if isinstance(answer, str) else ""
    tokens = tokenize(text)
    mark_negations(tokens, prepared.question.framing)
    hits = _find_terms(prepared, tokens, text)
    if _is_keyword_dump(prepared, tokens, hits):
        hits = {}
    reply = (
        _yes_no(tokens, text.rstrip().endswith("?"))
        if any(plan.polarity for plan in prepared.points)
        else (None, None)
    )
    seen = _sort_out(prepared, hits)
    barred = _contested(prepared, tokens, hits, text) if prepared.contrast.opposites else None
    crossed = _crossed(prepared, tokens, hits)
    clauses = [token.clause for token in tokens]
    bare_word = sum(not token.stop for token in tokens) == 1
    for more in (crossed, _slots_taken(prepared, tokens, hits)):
        if more:
            barred = barred or {}
            for point_index, positions in more.items():
                barred.setdefault(point_index, set()).update(positions)
    doubtful = _misstated(prepared, tokens, hits, barred)
    conjuncts = _Conjuncts(prepared, tokens, hits)

    point_terms = prepared.contrast.point_terms

    def grade_point(i: int, point: Point, plan: PreparedPoint) -> PointGrade:
        if barred and i in barred:  # (a point reads only its own terms: the terms of its sets)
            own = {term_id: hits[term_id] for term_id in point_terms[i] if term_id in hits}
            found = _sort_out(prepared, _without(own, barred[i]))
        else:
            found = seen
        return _grade_point(
            i,
            point,
            prepared,
            plan,
            tokens,
            clauses,
            found,
            text,
            reply,
            bare_word,
            doubtful,
            conjuncts,
        )

    points = [
        grade_point(i, point, plan)
        for i, (point, plan) in enumerate(zip(card.points, prepared.points, strict=True))
    ]
    if prepared.rivals is not None:
        statements = _statements(tokens)
        read: dict[int, Any] = {}  # statement number -> Statement; -1: the card's words
        for i, (point, plan) in enumerate(zip(card.points, prepared.points, strict=True)):
            if not points[i].matched or plan.polarity is not None:
                continue
            taken = _taken_by_rivals(prepared, tokens, hits, i, points[i], statements, read)
            if taken:
                barred = barred or {}
                barred.setdefault(i, set()).update(taken)
                points[i] = grade_point(i, point, plan)
    score, verdict = verdict_for(card, [point.matched for point in points])
    return Grade(card.id, answer, score, verdict, tuple(points))


def alignment(card: Card, answer: str) -> float:
    """How well an answer and the card's points align both ways, 0..1: how much of each point
    it covers (the grader's share found, or the point's words said) and how much of the answer
    aligns with some point (Sultan et al. 2016; see ``bot.core.alignment.two_way``). A finer
    measure than ``Grade.score`` of how much of the card an answer says, for ranking answers
    against a teacher's marks; it credits nothing and gives no verdict."""
    graded = grade(card, answer)
    prepared = prepared_card(card)
    tokens = tokenize(answer[:MAX_ANSWER_CHARS] if isinstance(answer, str) else "")
    mark_negations(tokens, prepared.question.framing)
    hits = _find_terms(prepared, tokens, answer)
    words = [
        (position, keys | synonyms_of(tokens[position].text, tokens[position].stem), denied)
        for position, keys, denied in statement_words(
            tokens, range(len(tokens)), prepared.question.keys
        )
    ]
    weigh = _weigher(prepared)
    weight_of = {position: weigh(tokens[position]) for position, _, _ in words}
    matched = {
        position
        for term_hits in hits.values()
        for hit in term_hits
        if not hit.echo
        for position in range(hit.first, hit.last + 1)
    }
    return round(
        two_way(
            prepared.wordings,
            [point.weight for point in graded.points],
            [point.similarity for point in graded.points],
            words,
            weight_of,
            matched,
            prepared.question.keys,
        ),
        4,
    )


def _weigher(prepared: PreparedCard) -> Callable[[Token], float]:
    """How much an answer word tells: its rarity in the deck and in English."""
    idf = prepared.idf or {}
    unseen = idf.get("", 1.0)
    known = prepared.weight_cache

    def weigh(token: Token) -> float:
        text = token.text  # (a token's stem follows from its text)
        weight = known.get(text)
        if weight is None:
            rarity = max(idf.get(key, unseen) for key in answer_keys(token)) if idf else 1.0
            weight = rarity * informativeness(text)
            if len(known) < FUZZY_CACHE_SIZE:
                known[text] = weight
        return weight

    return weigh


def _statements(tokens: Sequence[Token]) -> list[int]:
    """The number of the statement each token is in: sentences, cut at ".", "!", "?", ";"."""
    numbers: list[int] = []
    number = 0
    for index, token in enumerate(tokens):
        if index and token.clause != tokens[index - 1].clause and token.after in SENTENCE_ENDS:
            number += 1
        numbers.append(number)
    return numbers


def _said_the_cards_way(terms: Sequence[Term], hits: dict[int, list[_Hit]]) -> set[int]:
    """Positions of the card's words said its way round (in the order the hits list them)."""
    positions: set[int] = set()
    for term_id, term_hits in hits.items():
        term = terms[term_id]
        either, negated = term.either, term.negated
        for hit in term_hits:
            if either or hit.negated == negated:
                if hit.first == hit.last:
                    positions.add(hit.first)
                else:
                    positions.update(range(hit.first, hit.last + 1))
    return positions


def _taken_by_rivals(
    prepared: PreparedCard,
    tokens: Sequence[Token],
    hits: dict[int, list[_Hit]],
    point: int,
    graded: PointGrade,
    statements: list[int],
    read: dict[int, Any],
) -> set[int]:
    """Positions of the answer's statements that state another card's point better than this
    one (see ``bot.core.alignment``): the point earns nothing there. ``statements`` numbers
    each token's statement; ``read`` remembers what was read for other points."""
    rivals = prepared.rivals
    share = graded.similarity
    # Said in full, no other point can be said more fully; but an alias is often short ("built
    # while running"), and another card's point said as fully may explain the same words
    # better: when only an alias is said in full (the point's own text less), one claim is
    # still weighed against the rest.
    by_alias_only = share >= 1.0 and graded.wording_similarity < 1.0
    if (
        share >= 1.0
        and not by_alias_only
        and (prepared.card_number, point) not in rivals.denied_only
    ):
        return set()
    card_words = read.get(-1)
    if card_words is None:  # words of any point of the card said its way: an answer lists all
        card_words = read[-1] = _said_the_cards_way(prepared.terms, hits)
    own: set[int] = set()  # the statements holding this point's words
    for term_id in prepared.contrast.point_terms[point]:
        for hit in hits.get(term_id, ()):
            own.update(statements[hit.first : hit.last + 1])
    taken: set[int] = set()
    for number in sorted(own):
        statement = read.get(number)
        positions = (
            statement.positions
            if statement is not None
            else [i for i, said in enumerate(statements) if said == number]
        )
        if by_alias_only and sum(not tokens[i].stop for i in positions) > ONE_CLAIM_WORDS:
            continue  # a long statement lists things: an alias said in full there stands
        if statement is None:
            statement = Statement(tokens, positions, frozenset(), _weigher(prepared))
            read[number] = statement
        if outshone(
            rivals,
            prepared.card_number,
            point,
            statement,
            card_words.intersection(positions),
            share,
            lambda token: is_adjective(token.text),
            prepared.question.keys,
        ):
            taken.update(positions)
    return taken
