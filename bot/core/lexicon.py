"""The grader's word tables: general English and everyday computing, nothing from one deck.

They live apart from the rules that read them (``bot.core.textnorm`` and ``bot.core.grading``)
because they change for another reason: a word is added when English needs it, not when an
algorithm changes. Each table says in one line why it exists. None was taken from an answer
set; they are meant to stay small and general-purpose.
"""

from __future__ import annotations

import pkgutil

# --- read by textnorm ------------------------------------------------------

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

#: Prepositions: each begins a phrase of its own, so a word before one is in another phrase
#: ("serve the model in real time": "model" is no word of "real time").
PREPOSITIONS = frozenset(
    """
    about above across after against along alongside amid among amongst around as at before
    behind below beneath beside besides between beyond by despite down during except for from
    in inside into like near of off on onto out outside over past per since than through
    throughout till to toward towards under underneath until unto up upon via with within
    without
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

#: After a bare "no", these start a new statement, so it negates nothing ahead ("no it's X").
PRONOUNS = frozenset("it its thats that this they i we you he she theres".split())

#: Two- and three-word cues that negate what follows ("throughput rather than latency").
NEGATION_PHRASES: tuple[tuple[str, ...], ...] = (
    ("rather", "than"),
    ("instead", "of"),
    ("as", "opposed", "to"),
    ("other", "than"),
    ("no", "longer"),
)

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
    # one thing happening at the time of another, against one after the other
    ("while during meanwhile simultaneously concurrently", "before beforehand upfront after"),
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

#: Number words are written as digits, so "two children" meets "2 children".
NUMBER_WORDS: dict[str, str] = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}

#: Words ending in -ise that are not British spellings of an -ize verb (checked on the -ise form).
ISE_WORDS = frozenset(
    """
    advertise advise anise apprise arise bruise chastise chemise circumcise comprise compromise
    concise cruise demise despise devise disguise enterprise excise exercise expertise franchise
    guise improvise incise merchandise mortise noise otherwise paradise poise porpoise praise
    precise premise promise raise reprise revise rise supervise surmise surprise televise tortoise
    treatise turquoise valise wise
    """.split()
)

#: British spellings no suffix rule covers, so "defence" meets "defense".
BRITISH_SPELLINGS: dict[str, str] = {
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


# --- read by grading -------------------------------------------------------

#: Prefixes that reverse a word's meaning: "asynchronous" is never a typo of "synchronous".
NEGATING_PREFIXES: tuple[str, ...] = ("a", "an", "un", "non", "in", "im", "ir", "il", "dis", "anti")

#: Hyphenated prefixes that deny the word they join: "non-determinism" is "not determinism".
NEGATING_HYPHENS: tuple[str, ...] = ("non",)

#: Prefixes whose word is the plain word's opposite, whatever the word ("reachable" /
#: "unreachable", "linear" / "nonlinear"); "in-" and "dis-" are left out, as they also begin
#: words of their own ("increase", "display").
OPPOSING_PREFIXES: tuple[str, ...] = ("un", "non")

#: A denied word is also read as its denying-prefix form: "no limit" says "unlimited",
#: "not efficient" says "inefficient".
DENYING_PREFIXES: tuple[str, ...] = ("un", "non", "in", "im")

#: Words that join two statements in one clause: "the GPU trains and the CPU preprocesses".
CONJUNCTIONS = frozenset({"and", "or", "nor", "while", "whereas", "plus"})

#: "one copy per worker" counts out one for each, not one in all.
DISTRIBUTIVE_WORDS = frozenset({"per", "each", "every"})

#: Numbers that state a single one ("exactly one hidden layer").
SINGLE_WORDS = frozenset({"1", "single", "sole"})

#: Answers that say "I don't know"; they never affirm or deny anything.
IGNORANCE_WORDS = frozenset({"idk", "dunno", "unsure", "pass", "skip"})

#: The same, said in more than one word ("no idea", "not sure").
IGNORANCE_PHRASES: tuple[tuple[str, ...], ...] = (
    ("no", "idea"),
    ("no", "clue"),
    ("not", "sure"),
    ("dont", "know"),
    ("do", "not", "know"),
)

#: Replies that affirm, for yes/no cards ("Can X do Y?").
YES_WORDS = frozenset(
    "yes ye yeh yah yep yeah yup ya yea yess sure certainly definitely absolutely indeed "
    "correct true affirmative ok okay aye course".split()
)

#: Replies that deny, for yes/no cards.
NO_WORDS = frozenset(
    "no nope nah nay not never false negative incorrect cannot cant dont doesnt isnt arent "
    "wont wouldnt couldnt impossible".split()
)

#: Without a yes or no word, a reply whose subject is followed by one of these ("they can",
#: "it is") affirms a yes/no question.
AFFIRMING_VERBS = frozenset("can could is are does do will would may works possible".split())


# --- derived from WordNet ----------------------------------------------------------------------


def _wordnet_table() -> tuple[
    tuple[str, ...],
    frozenset[tuple[str, str]],
    frozenset[str],
    frozenset[str],
    dict[str, frozenset[str]],
    frozenset[str],
]:
    """Synonym groups, antonym pairs and nouns of common English words, from WordNet.

    ``wordnet.tsv`` is derived once by ``tools/derive_wordnet.py`` and shipped as package data:
    it is read like a module, once at import, never written (no NLTK at run time).
    """
    raw = pkgutil.get_data(__name__.rpartition(".")[0], "wordnet.tsv")
    groups: list[str] = []
    antonyms: set[tuple[str, str]] = set()
    nouns: set[str] = set()
    adjectives: set[str] = set()
    verbs: set[str] = set()
    families: dict[str, set[str]] = {}
    for line in (raw or b"").decode("utf-8").splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "s":
            groups.append(rest)
        elif kind == "a":
            first, _, second = rest.partition("\t")
            antonyms.add((first, second))
        elif kind == "n":
            nouns.update(rest.split())
        elif kind == "j":
            adjectives.update(rest.split())
        elif kind == "v":
            verbs.update(rest.split())
        elif kind == "d":
            family = rest.split()
            for word in family:
                families.setdefault(word, set()).update(w for w in family if w != word)
    return (
        tuple(groups),
        frozenset(antonyms),
        frozenset(nouns),
        frozenset(adjectives),
        {word: frozenset(others) for word, others in families.items()},
        frozenset(verbs),
    )


#: WordNet's synonym groups (each word's most frequent sense, see tools/derive_wordnet.py), its
#: antonym pairs (sorted pairs: an opposite never matches), words that can be nouns, words
#: that can be adjectives, each word's family (forms derived from it: "accuracy" for
#: "accurate"), and words that can be verbs.
WORDNET_SYNONYMS, WORDNET_ANTONYMS, NOUNS, ADJECTIVES, WORD_FAMILIES, VERBS = _wordnet_table()
