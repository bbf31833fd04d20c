"""The deck loader: reads YAML card banks into ``bot.core.cards`` data classes.

The data classes live in ``bot.core.cards``; this module does the file reading.
The loader is strict on purpose: a typo in a deck file must surface as a precise message
(``cards.yaml:57: card 'data-parallelism': unknown key 'qustion' (did you mean 'question'?)``)
when the deck is checked, not as a wrong grade in front of a student.
"""

from __future__ import annotations

import difflib
import gc
import math
import multiprocessing
import os
import re
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.cards import Card, Deck, DeckError, Point


def _bundled_cards() -> Path:
    """The deck that ships with the project: beside the package in a checkout (or an editable
    install), else where ``pip install .`` puts it (``<prefix>/share/quizbot``)."""
    beside_package = Path(__file__).resolve().parents[2] / "cards.yaml"
    installed = Path(sys.prefix) / "share" / "quizbot" / "cards.yaml"
    return installed if not beside_package.exists() and installed.exists() else beside_package


BUNDLED_CARDS = _bundled_cards()

#: The environment setting naming the card banks to load (files or folders).
CARDS_SETTING = "QUIZBOT_CARDS"


# --- settings ---------------------------------------------------------------------------------


def parse_cards_setting(value: str) -> list[Path]:
    """Split a ``QUIZBOT_CARDS`` value into paths.

    Entries are separated by ``os.pathsep`` (like ``PATH``) or by commas, because a comma is
    what people type in a ``.env`` file; blanks are ignored and ``~`` is expanded.
    """
    entries = re.split(f"[{re.escape(os.pathsep)},]", value)
    return [Path(entry.strip()).expanduser() for entry in entries if entry.strip()]


# --- YAML node helpers ------------------------------------------------------------------------

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _MERGE = (
    _TAG + name for name in ("str", "int", "float", "bool", "null", "merge")
)

# The C loader composes a 10,000-card file several times faster than the pure-Python one.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SEQ, _MAP = _TAG + "seq", _TAG + "map"


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader with a faster tag resolver; the tags it gives are SafeLoader's.

    Resolving every plain scalar by regular expressions, plus the path-resolver bookkeeping
    around every node, took a third of composing time for a 10,000-card bank. Most scalars
    start with a character no implicit type can start with ("What ...", "card-12"): those are
    text at once; the rest repeat a lot ("text", "follows", "tags") and are memoised.
    """

    _typed_first = frozenset(_SafeLoader.yaml_implicit_resolvers)

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._plain_tags: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0] or (value and value[0] not in self._typed_first):
                return _STR  # quoted, block, or plain text that cannot be a number/bool/null
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = self._plain_tags[value] = super().resolve(kind, value, implicit)
            return tag
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Nothing to track: safe loaders have no path resolvers."""

    def ascend_resolver(self) -> None:
        """Nothing to track: safe loaders have no path resolvers."""


# The shortcuts hold only while nobody registers global wildcard or path resolvers.
_LOADER: Any = (
    _Loader
    if None not in _SafeLoader.yaml_implicit_resolvers and not _SafeLoader.yaml_path_resolvers
    else _SafeLoader
)
_SCALARS = yaml.constructor.SafeConstructor()

# Dicts, not tuples: ordered for messages, and a hashed lookup for every key of every card.
_DECK_KEYS = dict.fromkeys(("deck", "id", "description", "language", "pass_ratio", "cards"))
_CARD_KEYS = dict.fromkeys(
    ("id", "question", "points", "summary", "note", "tags", "follows", "pass_ratio")
)
_POINT_KEYS = dict.fromkeys(("text", "aliases", "weight"))

_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*\Z")
_SLUG_HELP = "lowercase letters, digits and single '-' or '_' between them"


def is_slug(value: str) -> bool:
    """Ids are slugs: lowercase letters, digits and single '-' or '_' between them."""
    return bool(_SLUG.match(value))


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _describe(node: Node) -> str:
    """Name a YAML value's type the way a deck author thinks of it."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    tag = node.tag
    if tag == _BOOL:
        return f"a yes/no value ({node.value}); put it in quotes to keep it as text"
    if tag in (_INT, _FLOAT):
        return f"a number ({node.value}); put it in quotes to keep it as text"
    if tag == _TAG + "timestamp":
        return f"a date ({node.value}); put it in quotes to keep it as text"
    if tag == _NULL:
        return "empty"
    if tag == _STR:
        return "text"
    return f"a value tagged {tag}"


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


class _Report:
    """Collects messages for one file, each prefixed with ``file:line:`` and the card."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems

    def add(self, line: int | None, message: str, card: str | None = None) -> None:
        where = f"{self.source}:{line}:" if line is not None else f"{self.source}:"
        subject = f" {card}:" if card else ""
        self.problems.append(f"{where}{subject} {message}")


def _fields(
    node: MappingNode,
    allowed: dict[str, None],
    report: _Report,
    card: str | None,
    point: int | None = None,
) -> dict[str, tuple[Node, Node]]:
    """Index a mapping's keys, reporting unknown and repeated ones (YAML would keep the last)."""
    found: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if key_node.tag == _STR and key in allowed and key not in found:
            found[key] = (key_node, value_node)  # the common case, kept cheap for big banks
            continue
        line = _line(key_node)
        prefix = f"point {point}: " if point is not None else ""
        if key_node.tag == _MERGE:
            report.add(line, f"{prefix}'<<' merge keys are not supported; write keys out", card)
            continue
        if key_node.tag != _STR or not isinstance(key_node, ScalarNode):
            shown = _describe(key_node).split(";")[0]
            report.add(line, f"{prefix}unknown key: {shown} (keys must be plain names)", card)
            continue
        if key in found:
            first = _line(found[key][0])
            report.add(line, f"{prefix}duplicate key {key!r} (first on line {first})", card)
            continue
        hint = _did_you_mean(key, allowed) or f" (expected one of: {', '.join(allowed)})"
        report.add(line, f"{prefix}unknown key {key!r}{hint}", card)
    return found


def _text(
    entry: tuple[Node, Node] | None,
    name: str,
    report: _Report,
    card: str | None,
    *,
    required: bool = False,
) -> str | None:
    """A stripped text value, or None (reported when required, or when not text)."""
    if entry is None:
        return None
    key_node, node = entry
    if node.tag == _STR and type(node) is ScalarNode:
        text = node.value.strip()
        if text:
            return text  # the common case
    if isinstance(node, ScalarNode) and node.tag == _NULL and not required:
        return None
    if not isinstance(node, ScalarNode) or node.tag != _STR:
        if node.tag == _NULL:
            report.add(_line(key_node), f"{name!r} is empty", card)
        else:
            report.add(_line(node), f"{name!r} must be text, not {_describe(node)}", card)
        return None
    text = node.value.strip()
    if not text:
        report.add(_line(node), f"{name!r} is blank; fill it in or remove the key", card)
        return None
    return text


def _text_list(
    entry: tuple[Node, Node] | None, name: str, report: _Report, card: str | None
) -> tuple[str, ...]:
    """A list of non-blank texts (tags, aliases)."""
    if entry is None:
        return ()
    node = entry[1]
    if type(node) is SequenceNode:
        values = tuple([item.value.strip() for item in node.value if item.tag == _STR])
        if len(values) == len(node.value) and all(values):
            return values  # the common case: every entry is non-blank text
    elif isinstance(node, ScalarNode) and node.tag == _NULL:
        return ()
    if not isinstance(node, SequenceNode):
        report.add(_line(node), f"{name!r} must be a list of texts, not {_describe(node)}", card)
        return ()
    texts: list[str] = []
    for index, item in enumerate(node.value, 1):
        if not isinstance(item, ScalarNode) or item.tag != _STR:
            report.add(
                _line(item), f"{name!r} entry {index} must be text, not {_describe(item)}", card
            )
        elif not item.value.strip():
            report.add(_line(item), f"{name!r} entry {index} is blank", card)
        else:
            texts.append(item.value.strip())
    return tuple(texts)


def _number(node: Node) -> float | None:
    """The value of a YAML int/float scalar, or None for anything else (booleans included)."""
    if not isinstance(node, ScalarNode) or node.tag not in (_INT, _FLOAT):
        return None
    try:
        if node.tag == _INT:
            return float(_SCALARS.construct_yaml_int(node))
        return float(_SCALARS.construct_yaml_float(node))
    except (ValueError, TypeError, OverflowError, yaml.YAMLError):
        return None


def _pass_ratio(entry: tuple[Node, Node] | None, report: _Report, card: str | None) -> float | None:
    if entry is None or (isinstance(entry[1], ScalarNode) and entry[1].tag == _NULL):
        return None
    node = entry[1]
    value = _number(node)
    if value is None or not 0 < value <= 1:
        shown = node.value if isinstance(node, ScalarNode) else _describe(node)
        report.add(
            _line(node),
            f"'pass_ratio' must be a number greater than 0 and at most 1, not {shown}",
            card,
        )
        return None
    return value


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a deck's node tree is built and walked.

    Composing allocates hundreds of thousands of small objects for a 10,000-card bank; the
    collector then rescans the growing tree again and again, which made loading 4-8 times slower
    (about 3 s instead of 0.6 s). The tree holds no cycles worth collecting mid-load.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- parsing ----------------------------------------------------------------------------------


@dataclass
class _Parsed:
    deck: Deck | None
    id_line: int | None


def _compose(text: str, report: _Report) -> Node | None:
    """Compose the YAML node tree (no Python objects are built), reporting syntax errors."""
    last_line = text.count("\n") + (0 if text.endswith("\n") else 1)
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        detail = error.problem or error.context or "invalid YAML"
        started = f" on line {error.context_mark.line + 1}" if error.context_mark else ""
        if error.problem and error.context and error.context.startswith("while "):
            detail += f" ({error.context} that starts{started})"
        elif error.problem and error.context:  # e.g. "found duplicate anchor; first occurrence"
            detail = f"{error.context}{started}, {error.problem}"
        if mark is None:
            report.add(None, f"YAML syntax error: {detail}")
        elif mark.line + 1 > last_line:
            report.add(last_line, f"YAML syntax error at the end of the file: {detail}")
        else:
            report.add(mark.line + 1, f"YAML syntax error, column {mark.column + 1}: {detail}")
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, max(error.position, 0)) + 1
        code = ord(error.character) if isinstance(error.character, str) else error.character
        shown = f"U+{code:04X}" if isinstance(code, int) else repr(code)
        report.add(line, f"YAML does not allow the control character {shown}; remove it")
    except yaml.YAMLError as error:
        report.add(None, f"YAML error: {error}")
    except RecursionError:
        report.add(None, "YAML is nested too deeply")
    return None


def _parse(text: str, source: str, path: Path | None, problems: list[str]) -> _Parsed:
    """Validate one deck's text; append every problem and return the deck if it is clean."""
    report = _Report(source, problems)
    before = len(problems)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        report.add(1, "the file is empty; expected a mapping with 'deck', 'id' and 'cards'")
        return _Parsed(None, None)
    root = _compose(text, report)
    if root is None:
        if len(problems) == before:
            report.add(1, "the file has no content; expected 'deck', 'id' and 'cards'")
        return _Parsed(None, None)
    if not isinstance(root, MappingNode):
        report.add(
            _line(root),
            f"the top level must be a mapping with 'deck', 'id' and 'cards', not {_describe(root)}",
        )
        return _Parsed(None, None)

    top = _fields(root, _DECK_KEYS, report, None)
    name = _text(top.get("deck"), "deck", report, None, required=True)
    deck_id = _text(top.get("id"), "id", report, None, required=True)
    id_line = _line(top["id"][1]) if "id" in top else None
    for key, what in (("deck", "the deck's name"), ("id", "the deck's id, a slug")):
        if key not in top:
            report.add(_line(root), f"missing {key!r} ({what})")
    if deck_id is not None and not _SLUG.match(deck_id):
        report.add(id_line, _bad_slug("deck id", deck_id))
    description = _text(top.get("description"), "description", report, None)
    language = _text(top.get("language"), "language", report, None)
    deck_pass_ratio = _pass_ratio(top.get("pass_ratio"), report, None)

    cards = _parse_cards(top.get("cards"), root, deck_id or "", deck_pass_ratio, report)
    if len(problems) != before:
        problems[before:] = sorted(problems[before:], key=_line_of_message)
        return _Parsed(None, id_line)
    assert name is not None
    assert deck_id is not None
    deck = Deck(
        id=deck_id,
        name=name,
        cards=cards,
        description=description,
        language=language,
        pass_ratio=deck_pass_ratio,
        source=path,
    )
    return _Parsed(deck, id_line)


def _line_of_message(message: str) -> int:
    """Sort key: the line number after ``file:`` (messages of one file are read top-down)."""
    match = re.search(r":(\d+): ", message)
    return int(match.group(1)) if match else 0


def _bad_slug(what: str, value: str) -> str:
    suggestion = _slugify(value)
    example = f", e.g. {suggestion!r}" if suggestion else ""
    return f"{what} {value!r} is not a slug ({_SLUG_HELP}{example})"


def _parse_cards(
    entry: tuple[Node, Node] | None,
    root: MappingNode,
    deck_id: str,
    deck_pass_ratio: float | None,
    report: _Report,
) -> list[Card]:
    if entry is None:
        report.add(_line(root), "missing 'cards' (the list of cards)")
        return []
    key_node, node = entry
    if not isinstance(node, SequenceNode):
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            report.add(_line(key_node), "'cards' is empty; add at least one card")
        else:
            report.add(_line(node), f"'cards' must be a list of cards, not {_describe(node)}")
        return []
    if not node.value:
        report.add(_line(key_node), "'cards' is empty; add at least one card")
        return []

    cards: list[Card] = []
    first_line: dict[str, int] = {}
    follows_at: list[tuple[str, str, int]] = []  # (card id, follows, line of the follows value)
    for number, card_node in enumerate(node.value, 1):
        item = _parse_card(number, card_node, deck_id, deck_pass_ratio, report)
        if item.id is None:
            continue
        # Broken cards still count here, so their duplicates and follow-ups are checked too.
        if item.id in first_line:
            first = first_line[item.id]
            message = f"duplicate id {item.id!r} (first used on line {first})"
            report.add(item.line, message, f"card {item.id!r}")
        else:
            first_line[item.id] = item.line
        if item.follows is not None:
            follows_at.append((item.id, item.follows, item.follows_line))
        if item.card is not None:
            cards.append(item.card)
    _check_follows(follows_at, first_line, report)
    return cards


@dataclass
class _CardEntry:
    """What the deck-wide checks need to know about one card, even a broken one."""

    id: str | None
    line: int
    follows: str | None = None
    follows_line: int = 0
    card: Card | None = None


def _parse_card(
    number: int, node: Node, deck_id: str, deck_pass_ratio: float | None, report: _Report
) -> _CardEntry:
    """Validate one card; the Card is built only when its own fields are usable."""
    if not isinstance(node, MappingNode):
        report.add(
            _line(node),
            f"must be a mapping with 'id', 'question' and 'points', not {_describe(node)}",
            f"card #{number}",
        )
        return _CardEntry(None, _line(node))
    # Name the card in messages by its id as soon as we know it, else by its position.
    first_key, id_node = node.value[0] if node.value else (None, None)
    if first_key is None or first_key.value != "id":
        id_node = next((value for key, value in node.value if key.value == "id"), None)
    label = (
        f"card {id_node.value.strip()!r}"
        if isinstance(id_node, ScalarNode) and id_node.tag == _STR and id_node.value.strip()
        else f"card #{number}"
    )
    line = _line(node)
    keys = _fields(node, _CARD_KEYS, report, label)
    card_id = _text(keys.get("id"), "id", report, label, required=True)
    if "id" not in keys:
        report.add(line, "missing 'id' (a stable slug such as 'data-parallelism')", label)
    elif card_id is not None and not _SLUG.match(card_id):
        report.add(_line(keys["id"][1]), _bad_slug("id", card_id), label)
    question = _text(keys.get("question"), "question", report, label, required=True)
    if "question" not in keys:
        report.add(line, "missing 'question'", label)
    points = _parse_points(keys.get("points"), node, report, label)
    summary = _text(keys.get("summary"), "summary", report, label)
    note = _text(keys.get("note"), "note", report, label)
    tags = _text_list(keys.get("tags"), "tags", report, label)
    follows = _text(keys.get("follows"), "follows", report, label)
    pass_ratio = _pass_ratio(keys.get("pass_ratio"), report, label)
    entry = _CardEntry(card_id, line, follows)
    if follows is not None:
        entry.follows_line = _line(keys["follows"][1])
    if card_id is not None and question is not None and points:
        entry.card = Card(
            id=card_id,
            question=question,
            points=points,
            summary=summary,
            note=note,
            tags=tags,
            follows=follows,
            pass_ratio=pass_ratio if pass_ratio is not None else deck_pass_ratio,
            deck_id=deck_id,
            line=line,
        )
    return entry


def _parse_points(
    entry: tuple[Node, Node] | None, card_node: MappingNode, report: _Report, label: str
) -> list[Point]:
    if entry is None:
        report.add(_line(card_node), "missing 'points' (what a full answer must contain)", label)
        return []
    key_node, node = entry
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        report.add(_line(key_node), "'points' is empty; list at least one point", label)
        return []
    if not isinstance(node, SequenceNode):
        report.add(_line(node), f"'points' must be a list, not {_describe(node)}", label)
        return []
    if not node.value:
        report.add(_line(node), "'points' is empty; list at least one point", label)
        return []
    points: list[Point] = []
    for index, item in enumerate(node.value, 1):
        if item.tag == _STR and type(item) is ScalarNode:
            text = item.value.strip()
            if text:
                points.append(Point(text))
            else:
                report.add(_line(item), f"point {index} is blank", label)
        elif type(item) is MappingNode:
            point = _parse_point(index, item, report, label)
            if point is not None:
                points.append(point)
        elif isinstance(item, ScalarNode) and item.tag == _NULL:
            report.add(_line(item), f"point {index} is empty", label)
        elif isinstance(item, ScalarNode):
            report.add(_line(item), f"point {index} must be text, not {_describe(item)}", label)
        else:
            report.add(
                _line(item),
                f"point {index} must be text or a mapping with 'text', not {_describe(item)}",
                label,
            )
    return points


def _parse_point(index: int, node: MappingNode, report: _Report, label: str) -> Point | None:
    """A point written as a mapping: ``text`` with optional ``aliases`` and ``weight``."""
    keys = _fields(node, _POINT_KEYS, report, label, index)
    entry = keys.get("text")
    if entry is None:
        report.add(_line(node), f"point {index}: missing 'text'", label)
        text = None
    elif entry[1].tag == _STR and type(entry[1]) is ScalarNode and entry[1].value.strip():
        text = entry[1].value.strip()
    else:
        text = _text(entry, f"point {index} text", report, label, required=True)
    entry = keys.get("aliases")
    aliases = _text_list(entry, f"point {index} aliases", report, label) if entry else ()
    weight = 1.0
    entry = keys.get("weight")
    if entry is not None:
        weight_node = entry[1]
        value = _number(weight_node)
        if value is None or value <= 0 or not math.isfinite(value):
            shown = (
                weight_node.value if isinstance(weight_node, ScalarNode) else _describe(weight_node)
            )
            report.add(
                _line(weight_node),
                f"point {index}: 'weight' must be a positive number, not {shown}",
                label,
            )
        else:
            weight = value
    return Point(text, aliases, weight) if text is not None else None


def _check_follows(
    follows_at: list[tuple[str, str, int]], first_line: dict[str, int], report: _Report
) -> None:
    """Every ``follows`` must name another card of the deck, and the chains must end."""
    parent: dict[str, str] = {}
    for card_id, target, line in follows_at:
        label = f"card {card_id!r}"
        if target == card_id:
            report.add(line, "follows itself; 'follows' names the card this one continues", label)
        elif target not in first_line:
            hint = _did_you_mean(target, first_line)
            report.add(
                line, f"follows {target!r}, but the deck has no card with that id{hint}", label
            )
        else:
            parent.setdefault(card_id, target)
    # Walk each chain once; a chain that comes back to a card on the current walk is a cycle.
    done: set[str] = set()
    for start, _target, line in follows_at:
        walk: list[str] = []
        on_walk: set[str] = set()
        current: str | None = start
        while current is not None and current not in done:
            if current in on_walk:
                cycle = [*walk[walk.index(current) :], current]
                head = cycle[0]
                report.add(
                    first_line.get(head, line),
                    "follow-up cycle: " + " -> ".join(cycle),
                    f"card {head!r}",
                )
                break
            walk.append(current)
            on_walk.add(current)
            current = parent.get(current)
        done.update(walk)


# --- files ------------------------------------------------------------------------------------


def _read_text(path: Path, report: _Report) -> str | None:
    """The file's text, or None with the reason reported (missing, unreadable, not UTF-8)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        report.add(None, "no such file")
        return None
    except IsADirectoryError:
        report.add(None, "is a folder, not a YAML file")
        return None
    except OSError as error:
        report.add(None, f"cannot read the file: {error.strerror or error}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - line_start + 1
        report.add(
            line,
            f"not valid UTF-8 (byte {data[error.start]:#04x} at column {column}); "
            "save the file as UTF-8",
        )
        return None


#: Card banks larger than this are parsed in a short-lived child process. The YAML parser's
#: node tree takes several times the deck's own memory, and a long-running bot would keep
#: that high-water mark for good; a child gives it back to the system when it exits.
CHILD_PARSE_MIN_BYTES = 2_000_000


def _load(path: Path, problems: list[str], isolate_large: bool = False) -> _Parsed:
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if isolate_large and size >= CHILD_PARSE_MIN_BYTES:
        context = multiprocessing.get_context("spawn")  # no fork: the bot has threads
        try:
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
                parsed, found = child.submit(_load_here, path).result()
        except (OSError, BrokenProcessPool):
            pass  # no child process to be had: parse here instead
        else:
            problems.extend(found)
            return parsed
    return _load_here(path, problems)[0]


def _load_here(path: Path, problems: list[str] | None = None) -> tuple[_Parsed, list[str]]:
    problems = [] if problems is None else problems
    source = str(path)
    text = _read_text(path, _Report(source, problems))
    if text is None:
        return _Parsed(None, None), problems
    with _gc_paused():
        return _parse(text, source, path, problems), problems


def parse_deck(text: str, source: str | Path = "<text>") -> Deck:
    """Validate deck YAML held in memory (``quizbot import`` checks its own output with it)."""
    problems: list[str] = []
    with _gc_paused():
        parsed = _parse(text, str(source), Path(source) if source != "<text>" else None, problems)
    if problems or parsed.deck is None:
        raise DeckError(problems)
    return parsed.deck


def load_deck(path: str | Path) -> Deck:
    """Load one YAML deck with safe YAML; raise DeckError naming file, line and card."""
    problems: list[str] = []
    parsed = _load(Path(path), problems)
    if problems or parsed.deck is None:
        raise DeckError(problems)
    return parsed.deck


def deck_files(paths: Iterable[str | Path], problems: list[str]) -> list[Path]:
    """Expand folders into their ``*.yaml`` / ``*.yml`` files (sorted), each file once."""
    files: list[Path] = []
    seen: set[Path] = set()
    for entry in map(Path, paths):
        if entry.is_dir():
            found = sorted(
                child
                for child in entry.iterdir()
                if child.suffix in (".yaml", ".yml")
                and child.is_file()
                and not child.name.startswith(".")
            )
            if not found:
                problems.append(f"{entry}: no *.yaml or *.yml files in this folder")
        else:
            found = [entry]
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


def collect_decks(
    paths: Iterable[str | Path], isolate_large: bool = False
) -> tuple[list[Deck], list[str]]:
    """Load every deck it can and gather every problem, for tools that report both.

    ``isolate_large`` parses big banks in a child process (see CHILD_PARSE_MIN_BYTES): the
    long-running bot wants that; one-shot tools do not need it.
    """
    problems: list[str] = []
    decks: list[Deck] = []
    owner: dict[str, str] = {}  # deck id -> "file:line" that first used it
    for file in deck_files(paths, problems):
        parsed = _load(file, problems, isolate_large)
        deck = parsed.deck
        if deck is None:
            continue
        where = f"{file}:{parsed.id_line}"
        if deck.id in owner:
            problems.append(f"{where}: deck id {deck.id!r} is already used by {owner[deck.id]}")
            continue
        owner[deck.id] = where
        decks.append(deck)
    return decks, problems


def load_decks(paths: Iterable[str | Path], isolate_large: bool = False) -> list[Deck]:
    """Load every deck found in these files and folders (folders: their *.yaml / *.yml).

    Every problem in every file is collected first, so one run shows all of them.
    """
    decks, problems = collect_decks(paths, isolate_large)
    if problems:
        raise DeckError(problems)
    return decks
