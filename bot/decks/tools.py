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
from bot.decks.importer import IMPERATIVE_VERBS, is_table, parse_table, parse_text, slugify, to_yaml
from bot.decks.loader import (
    Card,
    Deck,
    DeckError,
    collect_decks,
    is_slug,
    parse_deck,
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


def run_check(paths: Sequence[str | Path], out: TextIO) -> int:
    """Validate decks, print a summary per deck, warnings, and every problem; 1 on problems.

    The caller resolves the paths (``quizbot check`` falls back to the configured decks)."""
    decks, problems = collect_decks(list(paths))
    warnings = [
        warning for deck in decks for card in deck.cards for warning in card_warnings(deck, card)
    ]
    for deck in decks:
        print(summarise(deck), file=out)
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


def run_import(
    file: str | Path,
    output: str | Path | None,
    deck_id: str | None,
    name: str | None,
    out: TextIO,
    err: TextIO | None = None,
) -> int:
    """Convert a text, CSV or TSV deck to card bank YAML (to ``output``, else to ``out``).

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
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        print(f"{path}: no such file", file=err)
        return 1
    except OSError as error:
        print(f"{path}: cannot read the file: {error.strerror or error}", file=err)
        return 1
    except UnicodeDecodeError as error:
        print(f"{path}: not valid UTF-8 (byte offset {error.start}); save it as UTF-8", file=err)
        return 1

    imported = (
        parse_table(text, path, str(path)) if is_table(path, text) else parse_text(text, str(path))
    )
    for warning in imported.warnings:
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
