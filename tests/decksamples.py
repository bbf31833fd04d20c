"""Deck files as users send them: YAML, CSV, TSV, plain text and real Anki packages (.apkg).

The .apkg is a real one, built by ``tests.anki_package`` the way Anki writes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from tests.anki_package import package


def apkg(notes: Sequence[tuple[str, str]], deck_name: str = "Anki Deck") -> bytes:
    """An Anki package whose notes have these (front, back) fields, HTML allowed."""
    return package([((front, back), "") for front, back in notes], deck=deck_name)


def numbered_notes(count: int) -> list[tuple[str, str]]:
    """``count`` distinct question/answer pairs with two points each."""
    return [
        (f"What are the two parts of item {number}?", f"alpha {number}<br>beta {number}")
        for number in range(1, count + 1)
    ]


def csv_deck(notes: Sequence[tuple[str, str]], delimiter: str = ",") -> bytes:
    lines = ["question" + delimiter + "answer"]
    for front, back in notes:
        cells = [front, back.replace("<br>", "; ")]
        lines.append(delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in cells))
    return ("\n".join(lines) + "\n").encode()


def yaml_deck(deck_id: str, name: str, cards: list[dict[str, object]]) -> bytes:
    return yaml.safe_dump({"deck": name, "id": deck_id, "cards": cards}, sort_keys=False).encode()


PLAIN_TEXT = """Cell biology

What is the powerhouse of the cell?
- mitochondria

Which organelle holds the DNA?
- nucleus
"""
