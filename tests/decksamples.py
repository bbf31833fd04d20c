"""Deck files as users send them: YAML, CSV, TSV, plain text and real Anki packages (.apkg).

The .apkg is built the way Anki writes one: a zip holding ``collection.anki2``, an SQLite
database with Anki's ``col``, ``notes`` and ``cards`` tables (fields joined by 0x1f), and a
``media`` map. Shared by the end-to-end tests and ``bench/deck_upload.py``.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import yaml

#: Anki's table definitions (schema 11, "Support older Anki versions"), the parts we fill.
_ANKI_SCHEMA = """
CREATE TABLE col (id integer primary key, crt integer not null, mod integer not null,
  scm integer not null, ver integer not null, dty integer not null, usn integer not null,
  ls integer not null, conf text not null, models text not null, decks text not null,
  dconf text not null, tags text not null);
CREATE TABLE notes (id integer primary key, guid text not null, mid integer not null,
  mod integer not null, usn integer not null, tags text not null, flds text not null,
  sfld integer not null, csum integer not null, flags integer not null, data text not null);
CREATE TABLE cards (id integer primary key, nid integer not null, did integer not null,
  ord integer not null, mod integer not null, usn integer not null, type integer not null,
  queue integer not null, due integer not null, ivl integer not null, factor integer not null,
  reps integer not null, lapses integer not null, left integer not null, odue integer not null,
  odid integer not null, flags integer not null, data text not null);
"""
_DECK_ID = 1700000000001


def apkg(notes: Sequence[tuple[str, str]], deck_name: str = "Anki Deck") -> bytes:
    """An Anki package whose notes have these (front, back) fields, HTML allowed."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collection.anki2"
        connection = sqlite3.connect(path)
        connection.executescript(_ANKI_SCHEMA)
        decks = {str(_DECK_ID): {"id": _DECK_ID, "name": deck_name}}
        connection.execute(
            "INSERT INTO col VALUES (1, 0, 0, 0, 11, 0, 0, 0, '{}', '{}', ?, '{}', '{}')",
            (json.dumps(decks),),
        )
        for number, (front, back) in enumerate(notes, 1):
            connection.execute(
                "INSERT INTO notes VALUES (?, ?, 1, 0, 0, '', ?, ?, 0, 0, '')",
                (number, f"guid{number}", f"{front}\x1f{back}", front),
            )
            connection.execute(
                "INSERT INTO cards VALUES (?, ?, ?, 0, 0, 0, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0, 0, '')",
                (number, number, _DECK_ID, number),
            )
        connection.commit()
        connection.close()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, "collection.anki2")
            archive.writestr("media", "{}")
        return buffer.getvalue()


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
