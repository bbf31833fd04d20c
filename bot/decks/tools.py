"""``quizbot check`` and ``quizbot import``: validate card banks and convert other decks.

Both print plain, precise lines (``file:line: card 'id': message``) and return an exit code;
a bad deck file is a normal outcome here, never a traceback.
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.decks.counts import count, deck_counts
from bot.decks.importer import (
    IMPERATIVE_VERBS,
    ImportedDeck,
    is_table,
    parse_table,
    parse_text,
    slugify,
    to_yaml,
)
from bot.decks.loader import (
    Card,
    Deck,
    DeckError,
    collect_decks,
    is_slug,
    parse_deck,
)
from bot.decks.upload import (
    UploadLimits,
    UploadRefused,
    decode_text,
    is_anki_package,
    parse_upload,
    read_anki_package,
)

_PUNCTUATION = str.maketrans("", "", string.punctuation + "“”‘’…–—")


def _normalise(text: str) -> str:
    return " ".join(text.casefold().translate(_PUNCTUATION).split())


def card_warnings(deck: Deck, card: Card) -> list[str]:
    """Likely authoring mistakes that still load: repeated points, a question that isn't one."""
    where = f"{deck.source or deck.id}:{card.line}: card {card.id!r}: warning:"
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for number, point in enumerate(card.points, 1):
        key = _normalise(point.text)
        if key in seen:
            warnings.append(f"{where} point {number} repeats point {seen[key]} ({point.text!r})")
        else:
            seen[key] = number
    if not _asks(card.question):
        warnings.append(
            f"{where} the question has no '?' and does not start with a command such as "
            "List, Name, Explain or Describe"
        )
    return warnings


def _asks(question: str) -> bool:
    """A question mark, or a sentence that starts with an imperative verb ("List the ...")."""
    if "?" in question:
        return True
    sentences = re.split(r"(?<=[.!:;])\s+", question)
    return any(
        sentence.split()[0].strip(string.punctuation).casefold() in IMPERATIVE_VERBS
        for sentence in sentences
        if sentence.split()
    )


def summarise(deck: Deck) -> str:
    """One line per deck: what a person checks at a glance after editing a bank."""
    return f"{deck.source or '<text>'}: deck {deck.name!r} (id {deck.id}): {deck_counts(deck)}"


#: Files ``quizbot check`` converts as the bot does an upload, instead of loading them as YAML.
CONVERTED_SUFFIXES = (".apkg", ".colpkg", ".csv", ".tsv", ".tab", ".txt")
#: The command line reads the owner's own files: no upload limits, but the zip bomb guard stays.
CLI_LIMITS = UploadLimits(
    max_bytes=1 << 40, max_unpacked_bytes=4 << 30, max_cards=10**9, max_text_chars=10**9
)


def located(path: str | Path, problem: str) -> str:
    """An upload problem as a command-line line: 'line 12: x' -> 'deck.txt:12: x'."""
    match = re.match(r"(?:line|row) (\d+): ", problem)
    if match:
        return f"{path}:{match.group(1)}: {problem[match.end() :]}"
    return f"{path}: {problem}"


def run_check(paths: Sequence[str | Path], out: TextIO) -> int:
    """Validate decks, print a summary per deck, warnings, and every problem; 1 on problems.

    YAML files and folders are loaded as the bot loads its decks; Anki packages, CSV/TSV and
    text files are converted and validated as the bot does an upload of them.
    The caller resolves the paths (``quizbot check`` falls back to the configured decks)."""
    converted = [Path(path) for path in paths if Path(path).suffix.lower() in CONVERTED_SUFFIXES]
    decks, problems = collect_decks([path for path in paths if Path(path) not in converted])
    warnings = [
        warning for deck in decks for card in deck.cards for warning in card_warnings(deck, card)
    ]
    lines = [summarise(deck) for deck in decks]
    for path in converted:
        deck, found = _check_converted(path, lines)
        problems.extend(found)
        if deck is not None:
            decks.append(deck)
    for line in lines:
        print(line, file=out)
    for warning in warnings:
        print(warning, file=out)
    if problems:
        for problem in problems:
            print(problem, file=out)
        print(f"FAILED: {count(len(problems), 'problem')}; fix and check again", file=out)
        return 1
    cards = sum(len(deck.cards) for deck in decks)
    totals = [count(len(decks), "deck"), count(cards, "card"), count(len(warnings), "warning")]
    print("OK: " + ", ".join(totals), file=out)
    return 0


def _check_converted(path: Path, lines: list[str]) -> tuple[Deck | None, list[str]]:
    """Convert one non-YAML deck file; add its summary line, return the deck or its problems."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, [f"{path}: cannot read the file: {error.strerror or error}"]
    parsed = parse_upload(path.name, data, limits=CLI_LIMITS)
    if parsed.deck is None:
        return None, [located(path, problem) for problem in parsed.problems]
    lines.append(f"{path}: deck {parsed.deck.name!r} (id {parsed.deck.id}): {parsed.summary}")
    return parsed.deck, []


def run_import(
    file: str | Path,
    output: str | Path | None,
    deck_id: str | None,
    name: str | None,
    out: TextIO,
    err: TextIO | None = None,
) -> int:
    """Convert a text, CSV, TSV or Anki deck to card bank YAML (to ``output``, else to ``out``).

    Messages go to ``err`` (stderr by default) so that ``quizbot import x.txt > x.yaml`` keeps
    the YAML clean. The YAML is validated before it is written; returns 1 if anything fails.
    """
    err = err if err is not None else sys.stderr
    if deck_id is not None and not is_slug(deck_id):
        print(
            f"--deck-id {deck_id!r} is not a slug (lowercase letters, digits and single '-' or "
            f"'_' between them, e.g. {slugify(deck_id, max_words=8, drop_stop_words=False)!r})",
            file=err,
        )
        return 1
    path = Path(file)
    try:
        imported, warnings = _read_for_import(path)
    except FileNotFoundError:
        print(f"{path}: no such file", file=err)
        return 1
    except OSError as error:
        print(f"{path}: cannot read the file: {error.strerror or error}", file=err)
        return 1
    except UploadRefused as refused:
        for problem in refused.problems:
            print(located(path, problem), file=err)
        return 1
    for warning in warnings:
        print(f"warning: {warning}", file=err)
    if not imported.cards:
        print(f"{path}: no cards found (expected questions followed by answers)", file=err)
        return 1
    deck_id = deck_id or slugify(path.stem, max_words=8, drop_stop_words=False) or "imported"
    name = name or imported.name or path.stem.replace("_", " ").replace("-", " ").strip()
    yaml_text = to_yaml(imported, deck_id, name or deck_id, path.name)

    target = str(output) if output else "<output>"
    try:
        deck = parse_deck(yaml_text, target)
    except DeckError as error:
        for problem in error.problems:
            print(problem, file=err)
        print("FAILED: the converted deck does not pass quizbot check", file=err)
        return 1
    if output:
        try:
            Path(output).write_text(yaml_text, encoding="utf-8")
        except OSError as error:
            print(f"{output}: cannot write the file: {error.strerror or error}", file=err)
            return 1
    else:
        out.write(yaml_text)
    follow_ups = sum(1 for card in deck.cards if card.follows)
    print(
        f"Imported {len(deck.cards)} cards ({follow_ups} follow-ups) from {path} "
        f"into {target}: deck {deck.name!r}, id {deck.id}",
        file=out if output else err,
    )
    return 0


def _read_for_import(path: Path) -> tuple[ImportedDeck, list[str]]:
    """The cards of a text, CSV/TSV or Anki file, and warnings; the bot's uploads read them so.

    Raises OSError when the file cannot be read and UploadRefused when it is no deck file."""
    data = path.read_bytes()
    if is_anki_package(path.name, data):
        package = read_anki_package(data, CLI_LIMITS)
        return package.deck, [located(path, text) for text in [*package.skipped, *package.notes]]
    text = decode_text(data)
    if is_table(path, text):
        imported = parse_table(text, path, str(path))
    else:
        imported = parse_text(text, str(path))
    return imported, imported.warnings
