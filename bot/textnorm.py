"""Text normalisation for grading: one tokenizer for card text and student answers alike.

Both sides go through the same steps (Unicode NFKC, casefolding, accents, British→American
spelling, general shorthand, Snowball stemming), so a card word and an answer word meet as the
same key. Every token keeps its character offsets into the ORIGINAL text, so the bot can quote
the student's own words as evidence. Negation scopes are marked here too, because a term inside
"not X" / "rather than X" must not earn credit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

#: Content tokens a negation cue reaches forward ("does not fit in GPU memory": fit, gpu, memory).
NEGATION_SCOPE = 3

#: Function words: they carry no content of their own, so they never become key terms.
STOPWORDS = frozenset(
    """
    a about above across afterwards again against all almost along alongside already also
    although always am amid behind beyond inside outside throughout near
    among amongst an and another any anyhow anyone anything anyway anywhere are around as at be
    became because become becomes been being below beside besides between both but by can
    could did do does doing done down during each either else etc even ever every everyone
    everything for from further furthermore had has have having he hence her here hers herself him
    himself his how however i ie eg if in into is it its itself just let lets like may me might
    mine moreover most mostly much must my myself namely of off often on once only onto or
    other others otherwise our ours ourselves over per perhaps please quite rather really
    say says shall she should so some something sometimes somewhat such than that the their
    theirs them themselves then there thereby therefore these they thing things this those though
    through thus to too toward towards under until up upon us usually very via was we well were
    what whatever when whenever where whereas whereby wherever whether which while who whoever whole
    whom whose why will with within would yes yet you your yours yourself yourselves
    many multiple several various lot lots few certain basically generally typically simply
    actually kind sort way ways think guess maybe probably answer instead opposed
    able allow allows allowed
    """.split()
)

#: Words that negate what follows them (apostrophes are dropped before lookup: "don't" -> "dont").
NEGATION_CUES = frozenset(
    """
    not no never without nor neither none nothing nope nah cannot cant dont doesnt didnt isnt
    arent wasnt werent wont wouldnt shouldnt couldnt hasnt havent hadnt mustnt neednt aint
    dosnt dosent doesent didint
    unlike
    """.split()
)

#: Two- and three-word cues that negate what follows ("throughput rather than latency").
NEGATION_PHRASES: tuple[tuple[str, ...], ...] = (
    ("rather", "than"),
    ("instead", "of"),
    ("as", "opposed", "to"),
    ("other", "than"),
    ("no", "longer"),
)

_CUE_WORDS = NEGATION_CUES | {phrase[0] for phrase in NEGATION_PHRASES}

#: "not only X", "not just X" assert X: any cue is cancelled by these next words.
NEGATION_CANCELLERS = frozenset({"only", "just", "merely", "simply"})
#: Idioms that look negative but deny nothing: "no doubt", "no matter how".
NEGATION_IDIOMS = frozenset({("no", "doubt"), ("no", "matter"), ("nothing", "but")})

#: Words that end a negation scope early: "not X but Y" asserts Y.
SCOPE_BREAKERS = frozenset(
    {"but", "however", "although", "though", "whereas", "while", "instead", "then"}
)

#: Judgement words: when a cue reaches only these ("X is not important"), it negates backwards.
EVALUATIVE_WORDS = frozenset(
    """
    important relevant matter matters mattered needed necessary required essential crucial critical
    key main primary answer correct right true case point focus concern priority significant
    useful helpful issue problem goal aim idea thing involved used
    """.split()
)

#: General shorthand, expanded on both sides. Multi-word expansions joined by "-" form one
#: compound ("e2e" == "end-to-end"); card-specific shorthand belongs in a point's aliases.
SHORTHAND: dict[str, str] = {
    "w/": "with",
    "w/o": "without",
    "w/out": "without",
    "b/c": "because",
    "bc": "because",
    "bcs": "because",
    "bcz": "because",
    "cuz": "because",
    "coz": "because",
    "btw": "by the way",
    "e2e": "end-to-end",
    "p2p": "peer-to-peer",
    "&": "and",
    "+": "and",
    "👍": "yes",
    "✅": "yes",
    "✔": "yes",
    "✓": "yes",
    "👎": "no",
    "❌": "no",
    "->": "then",
    "=>": "then",
    "thru": "through",
    "thruput": "throughput",
    "tho": "though",
    "vs": "versus",
    "b4": "before",
    "sync": "synchronous",
    "async": "asynchronous",
    "param": "parameter",
    "params": "parameters",
    "hw": "hardware",
    "sw": "software",
    "perf": "performance",
    "mem": "memory",
    "info": "information",
    "approx": "approximately",
    "avg": "average",
    "fwd": "forward",
    "bwd": "backward",
    "grad": "gradient",
    "grads": "gradients",
    "calc": "calculate",
    "comm": "communication",
    "comms": "communication",
    "config": "configuration",
    "impl": "implementation",
    "nn": "neural network",
    "nns": "neural networks",
    "ppl": "people",
    "msg": "message",
    "req": "request",
    "reqs": "requests",
    "sec": "second",
    "secs": "seconds",
    "u": "you",
    "ur": "your",
    "r": "are",
}

#: Number words are written as digits, so "two children" meets "2 children".
NUMBER_WORDS: dict[str, str] = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}

#: Words ending in -ise that are not British spellings of an -ize verb (checked on the -ise form).
_ISE_WORDS = frozenset(
    """
    advertise advise anise apprise arise bruise chastise chemise circumcise comprise compromise
    concise cruise demise despise devise disguise enterprise excise exercise expertise franchise
    guise improvise incise merchandise mortise noise otherwise paradise poise porpoise praise
    precise premise promise raise reprise revise rise supervise surmise surprise televise tortoise
    treatise turquoise valise wise
    """.split()
)
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
_BRITISH_WORDS: dict[str, str] = {
    "defence": "defense",
    "offence": "offense",
    "licence": "license",
    "pretence": "pretense",
    "programme": "program",
    "programmes": "programs",
    "catalogue": "catalog",
    "analogue": "analog",
    "dialogue": "dialog",
    "grey": "gray",
    "judgement": "judgment",
    "acknowledgement": "acknowledgment",
    "ageing": "aging",
    "whilst": "while",
    "amongst": "among",
    "learnt": "learned",
}

#: Characters folded before tokenizing (typographic quotes and dashes used as separators).
_CHAR_FOLDS = {"’": "'", "‘": "'", "`": "'", "´": "'", "–": ",", "—": ",", "―": ","}

_TOKEN_RE = re.compile(
    r"(?P<short>(?<![^\W_])(?:w/out|w/o|b/c)(?![^\W_])|(?<![^\W_])w/|->|=>|[&+👍👎✅❌✔✓])"
    r"|(?P<pair>(?<![^\W_/])[^\W\d_]/[^\W\d_](?![^\W_/]))"
    r"|(?P<word>[^\W_]+(?:'[^\W_]+)*)"
    r"|(?P<punct>[.,;:!?()\[\]{}\"]|(?<=\s)-(?=\s))"
)

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


def americanize(word: str) -> str:
    """British→American spelling for the regular patterns (optimise, utilisation, colour...)."""
    if word in _BRITISH_WORDS:
        return _BRITISH_WORDS[word]
    match = _ISE_RE.match(word)
    if match and not match[1].endswith("w") and f"{match[1]}ise" not in _ISE_WORDS:
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


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter2) stem of an already normalised word, cached: stemming is the hot path."""
    return _STEMMER.stemWord(word)


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


def _is_function_word(text: str) -> bool:
    """Stopwords, negation cues and single letters carry no content (single digits do)."""
    return text in STOPWORDS or text in NEGATION_CUES or (len(text) < 2 and not text.isdigit())


@lru_cache(maxsize=65536)
def _analyse_word(raw: str) -> tuple[tuple[str, str, bool, str], ...]:
    """Expand, respell and stem one raw word: ((text, stem, stop, link), ...)."""
    word = raw.replace("'", "")
    expansion = SHORTHAND.get(raw) or SHORTHAND.get(word)
    if expansion is None:
        words = [(americanize(word), " ")]
    else:
        words = []
        for part in expansion.split(" "):
            for sub_index, sub in enumerate(part.split("-")):
                words.append((sub, "-" if sub_index else " "))
    return tuple(
        (text, stem(text), _is_function_word(text), link)
        for text, link in ((NUMBER_WORDS.get(word, word), link) for word, link in words)
    )


def tokenize(text: str) -> list[Token]:
    """Split text into normalised tokens carrying offsets into the original text."""
    folded, origin = fold(text)
    tokens: list[Token] = []
    clause = 0
    previous_end = -2
    for match in _TOKEN_RE.finditer(folded):
        start, end = match.span()
        kind = match.lastgroup
        if kind == "punct":
            clause += 1
            previous_end = -2
            continue
        glue = folded[previous_end] if start == previous_end + 1 else " "
        if glue not in "-/":
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
        for index, (word, word_stem, stop, link) in enumerate(_analyse_word(raw)):
            if word in SCOPE_BREAKERS:
                clause += 1
            tokens.append(
                Token(word, word_stem, first, last, stop, clause, link if index else glue)
            )
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
    return 1


def mark_negations(tokens: Sequence[Token], restating: Iterable[str] = ()) -> None:
    """Flag tokens inside negation scopes, in place.

    A cue negates the next few content tokens of its clause. When those only judge or restate
    the question ("X is not important", "CPU isn't the bottleneck"), it negates backwards instead.
    ``restating`` holds stems that count as restating (the question's words).
    """
    backward_stems = set(restating)
    for token in tokens:
        token.negated = False
    index = 0
    while index < len(tokens):
        length = cue_length(tokens, index)
        if not length:
            index += 1
            continue
        clause = tokens[index].clause
        scope: list[Token] = []
        content = 0
        cursor = index + length
        while cursor < len(tokens) and tokens[cursor].clause == clause and content < NEGATION_SCOPE:
            if cue_length(tokens, cursor):
                break
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
        for token in scope:
            token.negated = True
        index = cursor if cursor > index + length else index + length
