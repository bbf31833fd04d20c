"""Text normalisation for grading: one tokenizer for card text and student answers alike.

Both sides go through the same steps (Unicode NFKC, casefolding, accents, stretched letters
("noooo"), British→American spelling, general shorthand, irregular past forms, Snowball
stemming), so a card word and an answer word meet as the same key. Every token keeps its
character offsets into the ORIGINAL text, so the bot can quote the student's own words as
evidence. Negation scopes are marked here too, because a term inside "not X" / "rather than
X" / "too big to X" / "X? no" must not earn credit.

The general vocabulary the grader leans on lives here as well: near-synonyms
(``SYNONYM_GROUPS``), opposites (``ANTONYM_PAIRS``) and two-word verbs (``PHRASAL_VERBS``).
They were written from general knowledge of English and everyday computing, not taken from
any answer set, and are meant to stay small and general-purpose.
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
    unlike barely hardly scarcely
    """.split()
)

#: Interjections that reject what was just asked or said: "latency? no, throughput".
REJECTIONS = frozenset({"no", "nope", "nah"})
#: Punctuation after which a rejection reaches back into the clause before it ("X? no").
REJECTED_BY = frozenset({"?", "-"})
#: After a bare "no", these start a new statement, so it negates nothing ahead ("no it's X").
_PRONOUNS = frozenset("it its thats that this they i we you he she theres".split())

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
NEGATION_IDIOMS = frozenset(
    {
        ("no", "doubt"),
        ("no", "matter"),
        ("nothing", "but"),
        ("no", "more"),  # "no more than two" is a bound: "at most two"
        ("not", "more"),
        ("no", "less"),
        ("not", "less"),
        ("no", "fewer"),
    }
)

#: After "not as", these make a comparison ("not as much throughput" is less, not none).
DEGREE_WORDS = frozenset("much many high fast quick good well big large often efficient".split())

#: Words that end a negation scope early: "not X but Y" asserts Y.
SCOPE_BREAKERS = frozenset(
    {"but", "however", "although", "though", "whereas", "while", "instead", "then"}
)

#: After a denied word, these start a new statement: "not deterministic and costly to save".
SCOPE_JOINERS = frozenset({"and"})

#: "too X to Y", "too X for Y" deny Y: "too big to fit", "too large for one GPU".
EXCESS_LINKS = frozenset({"to", "for"})

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
    "upd8": "update",
    "w8": "wait",
    "l8r": "later",
    "gr8": "great",
    "diff": "different",
    "smth": "something",
    "sth": "something",
    "abt": "about",
    "btwn": "between",
    "secs": "seconds",
    "u": "you",
    "ur": "your",
    "r": "are",
}

#: Near-synonyms of general English and everyday computing, one group a line: a word of a group
#: stands in for any other (at a slightly lower weight than the card's own word). Written from
#: general knowledge of English, not from any answer set; keep it general-purpose and short.
#: A word may sit in several groups ("lower" is "reduce" and "less").
SYNONYM_GROUPS: tuple[str, ...] = (
    "quick quickly fast faster fastest rapid rapidly swift speedy speed quicker",
    "slow slowly slower sluggish",
    "big bigger large larger huge enormous massive vast giant significant substantial "
    "considerable heavy",
    "small smaller little tiny minor",
    "copy replica duplicate clone replicate replication",
    "split partition divide shard chunk piece portion part slice segment subset fragment",
    "machine node server device host",
    "node vertex",
    "memory ram",
    "unlimited infinite unbounded endless limitless",
    "grow expand increase raise enlarge extend boost maximize",
    "shrink reduce decrease lower lessen diminish cut minimize",
    "less fewer lower",
    "more greater higher additional extra",
    "error bug fault defect mistake glitch",
    "crash failure fail",
    "begin beginning start outset",
    "first before initially beforehand upfront ahead advance beginning",
    "end finish complete conclude terminate",
    "whole full entire complete total",
    "send transmit ship push dispatch deliver distribute broadcast",
    "receive get obtain fetch retrieve acquire",
    "combine merge join integrate unify consolidate",
    "aggregate gather collect accumulate sum combine",
    "use utilize employ usage utilization",
    "consume use spend expend burn",
    "compute calculate computation calculation",
    "run execute",
    "build construct create generate produce assemble",
    "find identify locate discover detect spot recognize catch",
    "fix repair resolve solve patch",
    "check verify validate test confirm evaluate assess",
    "change modify alter adjust edit tweak update",
    "inspect examine view see observe watch",
    "search seek hunt explore",
    "show display plot visualize chart draw depict",
    "need require depend rely",
    "important crucial critical essential vital",
    "hard difficult tough tricky",
    "easy simple straightforward effortless",
    "problem issue trouble difficulty challenge",
    "cost price expense",
    "expensive costly pricey",
    "cheap inexpensive",
    "benefit advantage gain upside",
    "trade tradeoff sacrifice exchange",
    "share exchange swap",
    "immediately instantly promptly straightaway",
    "wait stall block pause",
    "independent independently separately individually",
    "latency delay lag",
    "app application",
    "infer inference predict prediction forecast",
    "respond reply response return",
    "request query",
    "save store persist checkpoint snapshot",
    "record log track capture trace",
    "network net",
    "uniform same identical consistent homogeneous equal",
    "different distinct diverse heterogeneous varied mixed",
    "version revision",
    "stale old outdated obsolete",
    "real live actual",
    "alternate interleave",
    "simultaneous simultaneously concurrent concurrently overlap",
    "sequential sequentially serial consecutive successive",
    "debug troubleshoot diagnose",
    "random stochastic",
    "reproducible repeatable",
    "complex complicated intricate",
    "programmer developer coder",
    "source origin",
    "clean cleanse scrub sanitize",
    "remove delete eliminate discard erase",
    "trend pattern tendency",
    "anomaly outlier abnormality irregularity",
    "extract derive",
    "improve enhance refine",
    "support handle accommodate",
    "step stage phase",
    "task job",
    "output result outcome",
    "limit bound cap restrict",
    "talk communicate",
    "function method procedure routine subroutine",
    "argument parameter",
    "element item entry",
    "minimum smallest least lowest min",
    "maximum largest biggest greatest highest max",
    "size length",
    "store hold contain keep",
    "insert add append",
    "delete remove free deallocate",
    "call invoke",
    "traverse visit walk",
    "order sequence",
    "variable changeable flexible resizable",
    "constant fixed unchangeable",
    "memory storage space",
)

#: Opposites: a word of one side said where the card says a word of the other ("hardware
#: utilisation is high" for "low utilisation") states the point the other way round.
#: General English and everyday computing, from the same general knowledge as the synonyms.
ANTONYM_PAIRS: tuple[tuple[str, str], ...] = (
    ("low lower", "high higher"),
    ("less fewer", "more greater"),
    ("small smaller little tiny", "big bigger large larger huge"),
    ("slow slower", "fast faster quick quicker rapid"),
    ("same uniform identical homogeneous", "different distinct heterogeneous varied mixed"),
    ("easy easier simple simpler", "hard harder difficult"),
    ("cheap cheaper inexpensive", "expensive costly"),
    ("whole full entire complete", "part partial partition split shard piece portion fragment"),
    ("multiple many several numerous", "single sole 1"),
    ("increase grow raise", "decrease reduce shrink lower"),
    ("before first beforehand upfront", "after afterwards later"),
    ("start begin beginning", "end finish"),
    ("static", "dynamic"),
    ("forward", "backward"),
    ("cpu", "gpu tpu"),
    ("send push", "receive pull"),
    ("input", "output"),
    ("local", "remote global"),
    ("always", "never"),
    ("correct", "wrong incorrect"),
    ("simple", "complex complicated"),
    ("early earlier", "late later"),
    ("include", "exclude"),
    ("new fresh", "old stale outdated"),
    ("good better", "bad worse"),
    ("strong", "weak"),
    ("read", "write"),
    ("success", "failure"),
)

#: Before one of these a number is a bound or a result, not an amount: "more than 1 layer",
#: "at least 1", "merged into 1 dataset"; so are these characters right before it (">1").
BOUND_WORDS = frozenset({"than", "least", "most", "over", "beyond", "into"})
BOUND_SIGNS = frozenset("<>≥≤~")

#: Irregular past forms stem as their verb, so "built" meets "build" and "sent" meets "send".
#: (Forms that are also common other words, such as "left" or "found", are left alone.)
IRREGULAR_FORMS: dict[str, str] = {
    form: verb
    for verb, forms in (
        ("build", "built"),
        ("run", "ran"),
        ("make", "made"),
        ("send", "sent"),
        ("get", "got gotten"),
        ("hold", "held"),
        ("keep", "kept"),
        ("take", "took taken"),
        ("give", "gave given"),
        ("bring", "brought"),
        ("think", "thought"),
        ("catch", "caught"),
        ("spend", "spent"),
        ("lose", "lost"),
        ("choose", "chose chosen"),
        ("write", "wrote written"),
        ("feed", "fed"),
        ("mean", "meant"),
        ("pay", "paid"),
        ("sell", "sold"),
        ("tell", "told"),
        ("understand", "understood"),
        ("begin", "began begun"),
        ("become", "became"),
        ("break", "broke broken"),
        ("draw", "drew drawn"),
        ("grow", "grew grown"),
        ("know", "knew known"),
        ("show", "shown"),
        ("see", "saw seen"),
        ("go", "went gone"),
        ("fall", "fell fallen"),
        ("throw", "threw thrown"),
        ("teach", "taught"),
        ("seek", "sought"),
        ("buy", "bought"),
        ("deal", "dealt"),
        ("stick", "stuck"),
        ("speak", "spoke spoken"),
    )
    for form in forms.split()
}

#: Irregular plurals stem as their singular, so "children" meets "child" (plurals that are
#: also other words, such as "leaves" or "bases", are left alone).
IRREGULAR_PLURALS: dict[str, str] = {
    "children": "child",
    "indices": "index",
    "vertices": "vertex",
    "matrices": "matrix",
    "appendices": "appendix",
    "criteria": "criterion",
    "phenomena": "phenomenon",
    "hypotheses": "hypothesis",
    "people": "person",
    "mice": "mouse",
    "geese": "goose",
    "teeth": "tooth",
    "women": "woman",
}
#: Every irregular form (past tense or plural) -> the word it stems as.
_IRREGULAR: dict[str, str] = {**IRREGULAR_FORMS, **IRREGULAR_PLURALS}

#: Two-word verbs that mean one word of the synonym table ("figure out" is "identify"); the
#: particle may follow the verb or its object ("pull the features out"). General English.
PHRASAL_VERBS: dict[tuple[str, str], str] = {
    ("figure", "out"): "identify",
    ("find", "out"): "discover",
    ("pull", "out"): "extract",
    ("take", "out"): "remove",
    ("throw", "away"): "discard",
    ("get", "rid"): "remove",
    ("look", "for"): "search",
    ("look", "at"): "examine",
    ("give", "up"): "sacrifice",
    ("carry", "out"): "execute",
    ("put", "together"): "combine",
    ("break", "down"): "split",
    ("break", "up"): "split",
    ("add", "up"): "sum",
    ("hand", "out"): "distribute",
    ("keep", "track"): "track",
    ("back", "up"): "save",
    ("use", "up"): "consume",
    ("scale", "up"): "grow",
    ("shut", "down"): "terminate",
}
#: How many words may stand between a phrasal verb and its particle.
PHRASAL_GAP = 2

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


def _word_index(lines: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """word or stem -> numbers of the lines (groups) it is in."""
    index: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        for word in line.split():
            for key in {word, stem(word)}:
                if number not in index.setdefault(key, []):
                    index[key].append(number)
    return {key: tuple(numbers) for key, numbers in index.items()}


_SYNONYMS = _word_index(SYNONYM_GROUPS)
#: Every word and stem with synonyms: a quick test before looking any up.
SYNONYM_WORDS = frozenset(_SYNONYMS)
#: Verbs that begin a two-word verb (by text and by stem).
_VERBS = {verb for verb, _ in PHRASAL_VERBS}
PHRASAL_HEADS = frozenset(
    {key for verb in _VERBS for key in (verb, stem(verb))}
    | {form for form, verb in IRREGULAR_FORMS.items() if verb in _VERBS}
)
_ANTONYM_SIDES: tuple[str, ...] = tuple(side for pair in ANTONYM_PAIRS for side in pair)
_ANTONYMS = _word_index(_ANTONYM_SIDES)


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


def synonyms_of(text: str, word_stem: str) -> frozenset[str]:
    """Every word and stem that stands in for this word, the word itself included."""
    keys = {text, word_stem}
    for group in synonym_groups(text, word_stem):
        for word in SYNONYM_GROUPS[group].split():
            keys.update((word, stem(word)))
    return frozenset(keys)


def opposites_of(text: str, word_stem: str) -> frozenset[str]:
    """Words and stems of the other side of every antonym pair this word is on."""
    keys: set[str] = set()
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
    for match in _TOKEN_RE.finditer(folded):
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
        for index, (word, word_stem, stop, link, breaks) in enumerate(analyse(raw)):
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
        or following.text in _PRONOUNS
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
