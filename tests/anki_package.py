"""Real Anki packages for tests: the schema-11 SQLite collection Anki 2.1 exports, zipped.

An ``.apkg`` is a zip holding ``collection.anki2`` (or ``collection.anki21``), an SQLite
database with Anki's tables, plus a ``media`` JSON map and the media files named 0, 1, ...
The tables and columns here are Anki's own (``col``, ``notes``, ``cards``, ``revlog``,
``graves``); notes keep their fields in ``flds``, separated by the 0x1f character.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

SCHEMA_11 = """
CREATE TABLE col (
    id integer PRIMARY KEY, crt integer NOT NULL, mod integer NOT NULL, scm integer NOT NULL,
    ver integer NOT NULL, dty integer NOT NULL, usn integer NOT NULL, ls integer NOT NULL,
    conf text NOT NULL, models text NOT NULL, decks text NOT NULL, dconf text NOT NULL,
    tags text NOT NULL
);
CREATE TABLE notes (
    id integer PRIMARY KEY, guid text NOT NULL, mid integer NOT NULL, mod integer NOT NULL,
    usn integer NOT NULL, tags text NOT NULL, flds text NOT NULL, sfld integer NOT NULL,
    csum integer NOT NULL, flags integer NOT NULL, data text NOT NULL
);
CREATE TABLE cards (
    id integer PRIMARY KEY, nid integer NOT NULL, did integer NOT NULL, ord integer NOT NULL,
    mod integer NOT NULL, usn integer NOT NULL, type integer NOT NULL, queue integer NOT NULL,
    due integer NOT NULL, ivl integer NOT NULL, factor integer NOT NULL, reps integer NOT NULL,
    lapses integer NOT NULL, left integer NOT NULL, odue integer NOT NULL, odid integer NOT NULL,
    flags integer NOT NULL, data text NOT NULL
);
CREATE TABLE revlog (
    id integer PRIMARY KEY, cid integer NOT NULL, usn integer NOT NULL, ease integer NOT NULL,
    ivl integer NOT NULL, lastIvl integer NOT NULL, factor integer NOT NULL,
    time integer NOT NULL, type integer NOT NULL
);
CREATE TABLE graves (usn integer NOT NULL, oid integer NOT NULL, type integer NOT NULL);
"""

#: A note as (fields, tags): ``(["What is a cell?", "the unit of life"], "biology")``.
Note = tuple[Sequence[str], str]

BASIC_MODEL_ID = 1342697561419
DECK_ID = 1700000000000


def collection(
    notes: Sequence[Note], deck: str = "Biology::Cells", schema: str = SCHEMA_11
) -> bytes:
    """The bytes of an SQLite collection holding these notes, each with one card in ``deck``."""
    models = {
        str(BASIC_MODEL_ID): {
            "id": BASIC_MODEL_ID,
            "name": "Basic",
            "type": 0,
            "flds": [{"name": "Front", "ord": 0}, {"name": "Back", "ord": 1}],
            "tmpls": [{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}", "ord": 0}],
        }
    }
    decks = {"1": {"id": 1, "name": "Default"}, str(DECK_ID): {"id": DECK_ID, "name": deck}}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collection.anki2"
        database = sqlite3.connect(path)
        try:
            database.executescript(schema)
            if "CREATE TABLE col" in schema:
                database.execute(
                    "INSERT INTO col VALUES (1, 0, 0, 0, 11, 0, 0, 0, '{}', ?, ?, '{}', '{}')",
                    (json.dumps(models), json.dumps(decks)),
                )
            for number, (fields, tags) in enumerate(notes, 1):
                note_id = 1_600_000_000_000 + number
                database.execute(
                    "INSERT INTO notes VALUES (?, ?, ?, 0, -1, ?, ?, ?, 0, 0, '')",
                    (
                        note_id,
                        f"guid{number}",
                        BASIC_MODEL_ID,
                        tags,
                        "\x1f".join(fields),
                        fields[0],
                    ),
                )
                database.execute(
                    "INSERT INTO cards VALUES (?, ?, ?, 0, 0, -1, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0, "
                    "0, '')",
                    (note_id, note_id, DECK_ID, number),
                )
            database.commit()
        finally:
            database.close()
        return path.read_bytes()


def package(
    notes: Sequence[Note],
    *,
    deck: str = "Biology::Cells",
    entry: str = "collection.anki2",
    media: dict[str, bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """An ``.apkg`` as Anki writes it: the collection, the ``media`` map and the media files."""
    media = media or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(entry, collection(notes, deck))
        archive.writestr("media", json.dumps({str(i): name for i, name in enumerate(media)}))
        for number, content in enumerate(media.values()):
            archive.writestr(str(number), content)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    """A plain zip of these entries (for packages that are not quite Anki's)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()
