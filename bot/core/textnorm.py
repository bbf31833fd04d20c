"""Text normalisation for grading: one tokenizer for card text and student answers alike.

Both sides go through the same steps (Unicode NFKC, casefolding, accents, stretched letters
("noooo"), British→American spelling, general shorthand, irregular past forms, Snowball
stemming), so a card word and an answer word meet as the same key. Every token keeps its
character offsets into the ORIGINAL text, so the bot can quote the student's own words as
evidence. Negation scopes are marked here too, because a term inside "not X" / "rather than
X" / "too big to X" / "X? no" must not earn credit.

The general vocabulary the grader leans on (near-synonyms, opposites, two-word verbs,
shorthand, irregular forms) lives in ``bot.core.lexicon``; this module holds the rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from wordfreq import zipf_frequency

from bot.core.lexicon import (
    ANTONYM_PAIRS,
    BRITISH_SPELLINGS,
    DEGREE_WORDS,
    EVALUATIVE_WORDS,
    EXCESS_LINKS,
    IRREGULAR_FORMS,
    IRREGULAR_PLURALS,
    ISE_WORDS,
    NEGATION_CANCELLERS,
    NEGATION_CUES,
    NEGATION_IDIOMS,
    NEGATION_PHRASES,
    NUMBER_WORDS,
    OPPOSING_PREFIXES,
    PHRASAL_VERBS,
    PRONOUNS,
    REJECTIONS,
    SCOPE_BREAKERS,
    SCOPE_JOINERS,
    SHORTHAND,
    STOPWORDS,
    SYNONYM_GROUPS,
    WORDNET_ANTONYMS,
    WORDNET_SYNONYMS,
)

#: Content tokens a negation cue reaches forward ("does not fit in GPU memory": fit, gpu, memory).
NEGATION_SCOPE = 3


#: Punctuation after which a rejection reaches back into the clause before it ("X? no").
REJECTED_BY = frozenset({"?", "-"})


_CUE_WORDS = NEGATION_CUES | {phrase[0] for phrase in NEGATION_PHRASES}


BOUND_SIGNS = frozenset("<>≥≤~")


#: Every irregular form (past tense or plural) -> the word it stems as.
_IRREGULAR: dict[str, str] = {**IRREGULAR_FORMS, **IRREGULAR_PLURALS}

#: How many words may stand between a phrasal verb and its particle.
PHRASAL_GAP = 2


_ISE_RE = re.compile(r"^([a-z]{3,})is(e|es|ed|ing|er|ers|ation|ations|ational|able)$")
_YSE_RE = re.compile(r"^([a-z]{2,})ys(e|es|ed|ing|er|ers)$")
_OUR_RE = re.compile(
    r"^(colo|behavio|favo|hono|labo|neighbo|humo|rumo|vapo|flavo|harbo|armo|endeavo|savo|odo|"
    r"rigo|vigo|valo|clamo|parlo|tumo)ur"
)
_TRE_RE = re.compile(r"^(cent|met|lit|fib|theat|spect|calib|sab|somb|lust|meag)re(s|d)?$")
_LL_RE = re.compile(
    r"^(model|label|travel|cancel|signal|channel|fuel|level|tunnel|marshal|total|counsel|dial|"
    r"funnel|pedal|shovel|jewel|rival|equal|libel|panel|parcel|pencil|quarrel|spiral|swivel|"
    r"towel|unravel|initial)l(ed|ing|er|ers)$"
)

#: Characters folded before tokenizing (typographic quotes and dashes used as separators).
_CHAR_FOLDS = {"’": "'", "‘": "'", "`": "'", "´": "'", "–": " - ", "—": " - ", "―": " - "}
#: Three or more of one letter in a row is a stretched word ("noooo", "latencyyy").
_STRETCHED_RE = re.compile(r"([^\W\d_])\1{2,}")
#: Doubled letters, squeezed to one for matching words typed with one too many ("plott").
_DOUBLED_RE = re.compile(r"([^\W\d_])\1+")

_TOKEN_RE = re.compile(
    r"(?P<short>(?<![^\W_])(?:w/out|w/o|b/c)(?![^\W_])|(?<![^\W_])w/|->|=>|[&+👍👎✅❌✔✓])"
    r"|(?P<pair>(?<![^\W_/])[^\W\d_]/[^\W\d_](?![^\W_/]))"
    r"|(?P<word>[^\W_]+(?:'[^\W_]+)*)"
    r"|(?P<punct>[.,;:!?()\[\]{}\"]|(?<=\s)--?(?=\s))"
)

#: Without one of these characters only the word and plain punctuation branches of
#: ``_TOKEN_RE`` can match: such a text (most answers) is split by the shorter pattern below,
#: which finds the very same tokens with fewer branches to try at every character.
_SPECIAL_RE = re.compile(r"[/\-=&+👍👎✅❌✔✓]")
_PLAIN_TOKEN_RE = re.compile(r"(?P<word>[^\W_]+(?:'[^\W_]+)*)|(?P<punct>[.,;:!?()\[\]{}\"])")

_STEMMER = snowballstemmer.stemmer("english")


@dataclass(slots=True)
class Token:
    """One normalised word with its place in the original text."""

    text: str  # casefolded, American spelling, shorthand expanded, no apostrophes
    stem: str
    start: int  # offsets into the ORIGINAL text
    end: int
    stop: bool  # a function word or negation cue: never a key term
    clause: int  # clause number: punctuation and "but" start a new one
    link: str  # "-" or "/" when glued to the previous token, else " "
    negated: bool = False
    after: str = ""  # the punctuation that ended the clause before (first token of a clause)


def americanize(word: str) -> str:
    """British→American spelling for the regular patterns (optimise, utilisation, colour...)."""
    if word in BRITISH_SPELLINGS:
        return BRITISH_SPELLINGS[word]
    match = _ISE_RE.match(word)
    if match and not match[1].endswith("w") and f"{match[1]}ise" not in ISE_WORDS:
        return f"{match[1]}iz{match[2]}"
    match = _YSE_RE.match(word)
    if match:
        return f"{match[1]}yz{match[2]}"
    if _OUR_RE.match(word):
        return _OUR_RE.sub(r"\1r", word)
    match = _TRE_RE.match(word)
    if match:
        return f"{match[1]}er{match[2] or ''}"
    match = _LL_RE.match(word)
    if match:
        return f"{match[1]}{match[2]}"
    return word


#: Zipf frequency (log10 of uses per billion words, plus 9) of a word carrying average weight,
#: and how much weight each step of it is worth: "model" (5.2) tells less than "throughput" (3.2).
AVERAGE_ZIPF = 4.5
ZIPF_STEP = 0.25
#: Bounds of that weight factor: a very common word still counts, a rare one does not dominate.
INFORMATIVENESS_RANGE = (0.5, 1.5)


@lru_cache(maxsize=65536)
def common_zipf(word: str) -> float:
    """How common a word is in English: log10 of its uses per billion words (0: unknown)."""
    return zipf_frequency(word, "en", wordlist="small")


@lru_cache(maxsize=65536)
def informativeness(phrase: str) -> float:
    """How much a word tells in general English, from corpus frequencies (``wordfreq``, offline):
    rarer words say more. A phrase counts as its rarest word; unknown words are rare."""
    words = [word for word in re.findall(r"[^\W\d_]+", phrase.casefold()) if len(word) > 1]
    if not words:
        return 1.0
    zipf = min(common_zipf(word) for word in words)
    low, high = INFORMATIVENESS_RANGE
    return min(high, max(low, 1.0 + (AVERAGE_ZIPF - zipf) * ZIPF_STEP))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter2) stem of an already normalised word, cached: stemming is the hot path."""
    return _STEMMER.stemWord(word)


def _word_index(lines: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """word or stem -> numbers of the lines (groups) it is in."""
    index: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        for word in line.split():
            for key in {word, stem(word)}:
                if number not in index.setdefault(key, []):
                    index[key].append(number)
    return {key: tuple(numbers) for key, numbers in index.items()}


_ANTONYM_SIDES: tuple[str, ...] = tuple(side for pair in ANTONYM_PAIRS for side in pair)
_ANTONYMS = _word_index(_ANTONYM_SIDES)
#: Every pair of opposite words and stems (sorted), hand-written and WordNet's.
_OPPOSED: frozenset[tuple[str, str]] = frozenset(
    (min(a, b), max(a, b))
    for first, second in (
        *WORDNET_ANTONYMS,
        *((x, y) for one, other in ANTONYM_PAIRS for x in one.split() for y in other.split()),
    )
    for a in (first, stem(first))
    for b in (second, stem(second))
    if a != b
)


def opposed(first: str, second: str) -> bool:
    """True for two words (or stems) of opposite meaning: they must never match each other."""
    return (min(first, second), max(first, second)) in _OPPOSED


def _consistent(group: str) -> str:
    """A synonym group without the words that oppose another of its words."""
    words = group.split()
    return " ".join(w for w in words if not any(opposed(w, o) for o in words if o != w))


#: The hand-written groups first (their numbers stay), then WordNet's.
ALL_SYNONYM_GROUPS: tuple[str, ...] = SYNONYM_GROUPS + tuple(
    kept for group in WORDNET_SYNONYMS if len((kept := _consistent(group)).split()) >= 2
)
_SYNONYMS = _word_index(ALL_SYNONYM_GROUPS)
#: Every word and stem with synonyms: a quick test before looking any up.
SYNONYM_WORDS = frozenset(_SYNONYMS)
#: Verbs that begin a two-word verb (by text and by stem).
_VERBS = {verb for verb, _ in PHRASAL_VERBS}
PHRASAL_HEADS = frozenset(
    {key for verb in _VERBS for key in (verb, stem(verb))}
    | {form for form, verb in IRREGULAR_FORMS.items() if verb in _VERBS}
)


def synonym_groups(text: str, word_stem: str) -> tuple[int, ...]:
    """The synonym groups a word is in (by its text or its stem), often none."""
    found = _SYNONYMS.get(text, ())
    more = _SYNONYMS.get(word_stem, ())
    return tuple(dict.fromkeys(found + more)) if more and more != found else found


def phrasal_groups(tokens: Sequence[Token], index: int) -> tuple[int, ...]:
    """Synonym groups of a two-word verb starting at ``index`` ("figure ... out"), if any."""
    verb = tokens[index]
    for cursor in range(index + 1, min(index + 2 + PHRASAL_GAP, len(tokens))):
        if tokens[cursor].clause != verb.clause:
            break
        meaning = PHRASAL_VERBS.get(
            (IRREGULAR_FORMS.get(verb.text, verb.text), tokens[cursor].text)
        )
        if meaning is None:
            meaning = PHRASAL_VERBS.get((verb.stem, tokens[cursor].text))
        if meaning is not None:
            return synonym_groups(meaning, stem(meaning))
    return ()


@lru_cache(maxsize=65536)
def synonyms_of(text: str, word_stem: str) -> frozenset[str]:
    """Every word and stem that stands in for this word, the word itself included."""
    keys = {text, word_stem}
    for group in synonym_groups(text, word_stem):
        for word in ALL_SYNONYM_GROUPS[group].split():
            keys.update((word, stem(word)))
    return frozenset(keys)


#: The shortest word that a prefix turns into its opposite ("safe" / "unsafe").
PREFIXED_OPPOSITE_MIN_LENGTH = 4


def prefixed_opposites(text: str) -> set[str]:
    """The word with an opposing prefix added or taken away: "reachable" <-> "unreachable"."""
    forms = (
        {prefix + text for prefix in OPPOSING_PREFIXES}
        if len(text) >= PREFIXED_OPPOSITE_MIN_LENGTH
        else set()
    )
    for prefix in OPPOSING_PREFIXES:
        if text.startswith(prefix) and len(text) - len(prefix) >= PREFIXED_OPPOSITE_MIN_LENGTH:
            forms.add(text[len(prefix) :])
    return forms


def opposites_of(text: str, word_stem: str) -> frozenset[str]:
    """Words and stems of the other side of every antonym pair this word is on, and the word
    with an opposing prefix added or taken away."""
    keys: set[str] = set()
    for word in prefixed_opposites(text):
        keys.update((word, stem(word)))
    for side in set(_ANTONYMS.get(text, ()) + _ANTONYMS.get(word_stem, ())):
        for word in _ANTONYM_SIDES[side ^ 1].split():
            keys.update((word, stem(word)))
    return frozenset(keys)


def antonym_side_of(text: str, word_stem: str) -> frozenset[str]:
    """Words and stems on the same side of an antonym pair as this word (itself included)."""
    keys = {text, word_stem}
    for side in set(_ANTONYMS.get(text, ()) + _ANTONYMS.get(word_stem, ())):
        for word in _ANTONYM_SIDES[side].split():
            keys.update((word, stem(word)))
    return frozenset(keys)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """NFKC, drop accents (combining marks), casefold: "Ｆ" -> "f", "é" -> "e", "ﬁ" -> "fi"."""
    if char in _CHAR_FOLDS:
        return _CHAR_FOLDS[char]
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", kept).casefold()


def fold(text: str) -> tuple[str, list[int] | None]:
    """Fold text for matching; return it with a map from each folded char to its original index.

    The map is None when folding kept every character in place (all ASCII), the common case.
    """
    if text.isascii():
        return text.lower(), None
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = char if char.isascii() else _fold_char(char)
        pieces.append(piece.lower() if char.isascii() else piece)
        origin.extend([index] * len(piece))
    return "".join(pieces), origin


@lru_cache(maxsize=65536)
def squeeze(word: str) -> str:
    """The word with every run of one letter cut to a single letter ("plott" -> "plot")."""
    return _DOUBLED_RE.sub(r"\1", word)


def _is_function_word(text: str) -> bool:
    """Stopwords, negation cues and single letters carry no content (single digits do)."""
    return text in STOPWORDS or text in NEGATION_CUES or (len(text) < 2 and not text.isdigit())


@lru_cache(maxsize=65536)
def _analyse_word(raw: str) -> tuple[tuple[str, str, bool, str, bool], ...]:
    """Expand, respell and stem one raw word: ((text, stem, stop, link, breaks), ...).

    ``breaks`` is True for a word that opens a new clause ("but", see SCOPE_BREAKERS).
    """
    word = raw.replace("'", "")
    if _STRETCHED_RE.search(word):  # no English word has three letters alike in a row
        word = _STRETCHED_RE.sub(r"\1", word)
        raw = word
    expansion = SHORTHAND.get(raw) or SHORTHAND.get(word)
    if expansion is None:
        words = [(americanize(word), " ")]
    else:
        words = []
        for part in expansion.split(" "):
            for sub_index, sub in enumerate(part.split("-")):
                words.append((sub, "-" if sub_index else " "))
    return tuple(
        (
            text,
            stem(_IRREGULAR.get(text, text)),
            _is_function_word(text),
            link,
            text in SCOPE_BREAKERS,
        )
        for text, link in ((NUMBER_WORDS.get(word, word), link) for word, link in words)
    )


def tokenize(text: str) -> list[Token]:
    """Split text into normalised tokens carrying offsets into the original text."""
    folded, origin = fold(text)
    tokens: list[Token] = []
    append = tokens.append
    analyse = _analyse_word
    clause = 0
    previous_end = -2
    ended = ""
    pattern = _TOKEN_RE if _SPECIAL_RE.search(folded) else _PLAIN_TOKEN_RE
    for match in pattern.finditer(folded):
        start, end = match.span()
        kind = match.lastgroup
        if kind == "punct":
            clause += 1
            previous_end = -2
            ended = match.group()[0]
            continue
        if start == previous_end + 1:
            glue = folded[previous_end]
            if glue == "_":  # snake_case is how programmers hyphenate: "all_gather"
                glue = "-"
            elif glue != "-" and glue != "/":
                glue = " "
        else:
            glue = " "
        previous_end = end
        raw = match.group()
        if kind == "pair":  # "I/O" is one word, not two letters
            raw = raw.replace("/", "")
        if origin:
            first, last = origin[start], origin[end - 1] + 1
            while last < len(text) and unicodedata.combining(text[last]):
                last += 1
        else:
            first, last = start, end
        analysed = analyse(raw)
        if len(analysed) == 1:  # one word, as most are: glued as found
            word, word_stem, stop, _, breaks = analysed[0]
            if breaks:
                clause += 1
            token = Token(word, word_stem, first, last, stop, clause, glue)
            if ended:
                if not tokens or tokens[-1].clause != clause:
                    token.after = ended
                ended = ""
            append(token)
            continue
        for index, (word, word_stem, stop, link, breaks) in enumerate(analysed):
            if breaks:
                clause += 1
            token = Token(word, word_stem, first, last, stop, clause, link if index else glue)
            if ended:
                if not tokens or tokens[-1].clause != clause:
                    token.after = ended
                ended = ""
            append(token)
    return tokens


def cue_length(tokens: Sequence[Token], index: int) -> int:
    """How many tokens the negation cue starting at ``index`` spans (0: no cue there)."""
    word = tokens[index].text
    if word not in _CUE_WORDS:
        return 0
    for phrase in NEGATION_PHRASES:
        if phrase[0] == word and all(
            index + offset < len(tokens) and tokens[index + offset].text == part
            for offset, part in enumerate(phrase)
        ):
            return len(phrase)
    if word not in NEGATION_CUES:
        return 0
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if following is not None and following.link == "-":  # "non-" style prefix, not a cue
        return 0
    if following is not None and (
        following.text in NEGATION_CANCELLERS or (word, following.text) in NEGATION_IDIOMS
    ):
        return 0
    if comparative(tokens, index):
        return 0
    return 1


def comparative(tokens: Sequence[Token], index: int) -> bool:
    """ "not as much X", "don't get as many X": a smaller amount of X, not no X."""
    for offset in (1, 2):
        at = index + offset
        if at + 1 < len(tokens) and tokens[at].text == "as":
            return tokens[at + 1].text in DEGREE_WORDS
    return False


def _opens_clause(tokens: Sequence[Token], index: int) -> bool:
    return index == 0 or tokens[index - 1].clause != tokens[index].clause


def _is_interjection(tokens: Sequence[Token], index: int) -> bool:
    """A bare "no" / "nope" answering something ("no, it's X"), not "no parameter server"."""
    if tokens[index].text not in REJECTIONS or not _opens_clause(tokens, index):
        return False
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    return (
        following is None
        or following.clause != tokens[index].clause
        or following.text in PRONOUNS
        or tokens[index].text != "no"
    )


def _previous_clause(tokens: Sequence[Token], index: int) -> list[Token]:
    """The clause just before the one token ``index`` opens, when a "?" or dash ended it."""
    if index == 0 or tokens[index].after not in REJECTED_BY:
        return []
    clause = tokens[index - 1].clause
    back = index - 1
    while back > 0 and tokens[back - 1].clause == clause:
        back -= 1
    return list(tokens[back:index])


def _excess(tokens: Sequence[Token], index: int) -> int:
    """Length of a "too X to" / "too X for" cue at ``index``, which denies what follows it
    like "not" ("too big to fit in memory", "too large for one GPU"); else 0."""
    if tokens[index].text != "too":
        return 0
    clause = tokens[index].clause
    for cursor in range(index + 2, min(index + 4, len(tokens))):
        if tokens[cursor].clause != clause:
            break
        if tokens[cursor].text in EXCESS_LINKS:
            return cursor - index + 1
    return 0


def mark_negations(
    tokens: Sequence[Token], restating: Iterable[str] = (), excess: bool = True
) -> None:
    """Flag tokens inside negation scopes, in place.

    A cue negates the next few content tokens of its clause. When those only judge or restate
    the question ("X is not important", "CPU isn't the bottleneck"), it negates backwards instead.
    ``restating`` holds stems that count as restating (the question's words). A "no" answering
    a question or a dash ("latency? no, throughput", "X - nope") rejects the clause before it.
    "too big to fit" denies like "not" unless ``excess`` is False.
    """
    backward_stems = set(restating)
    for token in tokens:
        token.negated = False
    index = 0
    while index < len(tokens):
        word = tokens[index].text
        if word in REJECTIONS and _is_interjection(tokens, index):
            for token in _previous_clause(tokens, index):
                token.negated = True
            index += 1
            continue
        length = cue_length(tokens, index) or (
            _excess(tokens, index) if excess and word == "too" else 0
        )
        if not length:
            index += 1
            continue
        clause = tokens[index].clause
        scope: list[Token] = []
        content = 0
        cursor = index + length
        while cursor < len(tokens) and tokens[cursor].clause == clause and content < NEGATION_SCOPE:
            if cue_length(tokens, cursor) or (content and tokens[cursor].text in SCOPE_JOINERS):
                break  # "aren't deterministic and saving state is costly": saving is not denied
            scope.append(tokens[cursor])
            content += not tokens[cursor].stop
            cursor += 1
        forward_content = [t for t in scope if not t.stop]
        if all(t.text in EVALUATIVE_WORDS or t.stem in backward_stems for t in forward_content):
            scope = []
            content = 0
            back = index - 1
            while back >= 0 and tokens[back].clause == clause and content < NEGATION_SCOPE:
                scope.append(tokens[back])
                content += not tokens[back].stop
                back -= 1
            if not scope and _opens_clause(tokens, index):  # "latency? not really"
                scope = _previous_clause(tokens, index)
        for token in scope:
            token.negated = True
        index = cursor if cursor > index + length else index + length
