"""Deck files sent to the bot: detect the format, convert, validate, and refuse bad input.

Formats and limits (the text the README's "Your own decks" section can quote):

Send the bot a deck as a file. It understands

* our card bank YAML (``.yaml`` / ``.yml``), as ``quizbot check`` validates it;
* CSV and TSV tables with a question and an answer column, as Anki ("Notes in Plain Text") and
  Quizlet export them (``.csv``, ``.tsv``, or ``.txt`` holding a table); answers are split into
  points at line breaks, ``<br>`` and ``;``;
* plain-text flashcards (``.txt``): a title line, then each question followed by its answer lines
  or ``- `` bullets, as ``quizbot import`` reads them;
* Anki packages (``.apkg`` / ``.colpkg``): each note's first field is the question, its second the
  answer, with HTML stripped; cloze notes ask the text with gaps and expect the gaps. Images and
  sounds are ignored (the summary says how many); notes with nothing but media are skipped.
  Packages exported only in the newest Anki format (``collection.anki21b``) are refused: export
  with "Support older Anki versions" ticked.

Text must be UTF-8 (a UTF-16 file with a byte-order mark is fine too). A file may be at most
2 MB, unpack to at most 64 MB, and hold at most 5,000 cards; a question, point or note may be at
most 2,000 characters. YAML anchors, aliases and tags are refused. The deck's id is the YAML's
``id``, else the one the caller passes, else made from the file's name; its name is the YAML's
``deck`` (or a text file's title line, an Anki export's deck), else the caller's, else the file's
name. Every problem is listed with its line (YAML, text), row (CSV/TSV) or note (Anki), and a
file with any problem is not imported at all; only rows or notes with no question or no answer
are skipped, and the summary names them.

Everything here is pure file handling: bytes in, a validated deck and its YAML out. Nothing is
stored; the caller decides what to keep.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import itertools
import json
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import yaml

from bot.core.cards import Deck, DeckError
from bot.decks.counts import count, deck_counts
from bot.decks.importer import (
    ImportedCard,
    ImportedDeck,
    assign_ids,
    is_table,
    one_line,
    parse_table,
    parse_text,
    slugify,
    split_answer,
    to_yaml,
)
from bot.decks.loader import is_slug, parse_deck


@dataclass(frozen=True)
class UploadLimits:
    """How much one uploaded deck may hold; the defaults are what the chat allows."""

    max_bytes: int = 2 * 1024 * 1024  # the file as sent
    max_unpacked_bytes: int = 64 * 1024 * 1024  # total uncompressed size inside an .apkg
    max_cards: int = 5000
    max_text_chars: int = 2000  # one question / point / note


@dataclass(frozen=True)
class ParsedUpload:
    """The outcome of reading one file: a deck and its YAML, or every problem found."""

    deck: Deck | None
    yaml_text: str | None
    problems: tuple[str, ...]
    summary: str


#: Entries in a zip beyond this are refused before anything is unpacked (a real deck's media
#: rarely reach a few hundred files; we ignore media anyway).
MAX_ZIP_ENTRIES = 5000
#: An entry that unpacks to more than this many times its packed size is a zip bomb. SQLite
#: collections compress well (20-50x for mostly empty pages), nothing real comes near this.
MAX_ZIP_RATIO = 200
#: Entries smaller than this are not judged by their ratio (a few KB of zeros is harmless).
_RATIO_FLOOR = 1024 * 1024
MAX_NAME_CHARS = 200
#: How many skipped rows or notes the summary names before it says "and N more".
_SKIPS_SHOWN = 5

_PACKAGE_SUFFIXES = (".apkg", ".colpkg")
_YAML_SUFFIXES = (".yaml", ".yml")
_TABLE_SUFFIXES = (".csv", ".tsv", ".tab")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: File signatures of things people send by mistake, and what to call them.
_BINARY_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"(\xb5/\xfd", "a zstd-compressed file"),
)
#: Zip files that are documents, by an entry only they have.
_ZIP_DOCUMENTS = (
    ("xl/workbook.xml", "an Excel workbook; save it as CSV (File > Save As > CSV UTF-8)"),
    ("word/document.xml", "a Word document; save it as plain text (.txt)"),
    ("content.xml", "an OpenDocument file; save it as CSV or plain text"),
)
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_YAML_DECK_START = re.compile(r"(?:---\s*$|(?:deck|id|cards|description|language)\s*:)")
_LOADER_PREFIX = re.compile(r"^<text>:(\d+): ")
_CARD_LABEL = re.compile(r"card '([^']+)':")
_ANKI_MEDIA = re.compile(r"\[sound:[^\]]*\]")
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_FORMATS_HELP = "send a .yaml, .csv, .tsv, .txt or .apkg file"


class UploadRefused(Exception):
    """The file cannot become a deck; ``problems`` says why, each naming its place."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass
class _Converted:
    """A file turned into deck YAML, with what the summary must mention."""

    yaml_text: str
    where: Callable[[str, int | None], str]  # (card id, YAML line) -> "row 5" / "line 12"
    notes: list[str] = field(default_factory=list)

    def place(self, problem: str) -> str:
        """A loader message placed in the file the user sent: its line, row or note.

        '<text>:12: card 'x': ...' names line 12 of the YAML; for a converted file that
        YAML is ours, so the card's row or note in the user's file is named instead."""
        match = _LOADER_PREFIX.match(problem)
        if match is None:
            return "the file: " + problem.removeprefix("<text>:").strip()
        rest = problem[match.end() :]
        card = _CARD_LABEL.match(rest)
        place = self.where(card.group(1), int(match.group(1))) if card else None
        return f"{place or 'line ' + match.group(1)}: {rest}"


# --- the entry point --------------------------------------------------------------------------


def parse_upload(
    filename: str,
    data: bytes,
    *,
    deck_id: str | None = None,
    name: str | None = None,
    limits: UploadLimits = UploadLimits(),
) -> ParsedUpload:
    """Read a deck file sent by a user. Never raises: every failure is a problem in the result."""
    try:
        return _parse_upload(filename, data, deck_id, name, limits)
    except UploadRefused as refused:
        return _refused(refused.problems)
    except RecursionError:
        return _refused(["the file is nested too deeply to read"])
    except MemoryError:
        return _refused(["the file is too large to read"])
    except Exception as error:  # a bug must not take the chat down; say what we can
        return _refused([f"the file could not be read ({type(error).__name__})"])


def _refused(problems: list[str]) -> ParsedUpload:
    return ParsedUpload(None, None, tuple(problems), f"{count(len(problems), 'problem')}")


def _parse_upload(
    filename: str, data: bytes, deck_id: str | None, name: str | None, limits: UploadLimits
) -> ParsedUpload:
    if not data:
        raise UploadRefused("the file is empty")
    if len(data) > limits.max_bytes:
        raise UploadRefused(
            f"the file is {_size(len(data))}; the limit is {_size(limits.max_bytes)}"
        )
    if deck_id is not None and not is_slug(deck_id):
        raise UploadRefused(
            f"the deck id {deck_id!r} is not a slug (lowercase letters, digits and single '-' "
            "or '_' between them)"
        )
    default_id = deck_id or _slug_of_file(filename)
    converted = _convert(filename, data, default_id, name, limits)
    try:
        deck = parse_deck(converted.yaml_text)
    except DeckError as error:
        raise UploadRefused(*(converted.place(problem) for problem in error.problems)) from None
    problems = _over_limits(deck, converted.where, limits)
    if problems:
        raise UploadRefused(*problems)
    summary = ". ".join([deck_counts(deck, zero_aliases=False), *converted.notes])
    return ParsedUpload(deck, converted.yaml_text, (), summary)


def _convert(
    filename: str, data: bytes, deck_id: str, name: str | None, limits: UploadLimits
) -> _Converted:
    """Pick the format by content first (zip, binary), then by extension and content."""
    suffix = PurePath(filename).suffix.lower()
    if data.startswith(_ZIP_MAGIC):
        package = read_anki_package(data, limits)
        return _from_imported(
            package.deck, package.skipped, filename, deck_id, name, "note", limits, package.notes
        )
    if suffix in _PACKAGE_SUFFIXES:
        raise UploadRefused(f"the file is named {suffix} but is not an Anki package (not a zip)")
    text = decode_text(data)
    _refuse_control_characters(text)
    if suffix in _YAML_SUFFIXES or (
        suffix not in _TABLE_SUFFIXES and _YAML_DECK_START.match(_first_line(text))
    ):
        title = name or _name_of_file(filename) or deck_id
        return _Converted(_yaml_with_defaults(text, deck_id, title), _yaml_line)
    path = Path(PurePath(filename).name or "deck.txt")
    if is_table(path, text):
        imported, unit = parse_table(text, path, "\x00"), "row"
    else:
        imported, unit = parse_text(text, "\x00"), "line"
    skipped = [warning.replace("\x00:", f"{unit} ", 1) for warning in imported.warnings]
    return _from_imported(imported, skipped, filename, deck_id, name, unit, limits)


def _from_imported(
    imported: ImportedDeck,
    skipped: list[str],
    filename: str,
    deck_id: str,
    name: str | None,
    unit: str,
    limits: UploadLimits,
    notes: list[str] | None = None,
) -> _Converted:
    """YAML for an imported deck; its cards are named by their row, line or note in messages."""
    if not imported.cards:
        expected = {
            "row": "rows with a question and an answer column",
            "line": "questions, each followed by its answer lines",
            "note": "notes with a question and an answer field",
        }[unit]
        raise UploadRefused(f"the file has no cards; expected {expected}", *skipped)
    if len(imported.cards) > limits.max_cards:
        raise UploadRefused(_too_many_cards(len(imported.cards), limits))
    title = imported.name or name or _name_of_file(filename) or deck_id
    if len(title) > MAX_NAME_CHARS:
        title = title[: MAX_NAME_CHARS - 1].rstrip() + "…"
    yaml_text = to_yaml(imported, deck_id, title, PurePath(filename).name, by="the bot")
    origin = {card.id: card.line for card in imported.cards}
    said = [_skipped_note(skipped, unit)] if skipped else []
    said.extend(notes or [])

    def where(card_id: str, line: int | None) -> str:
        found = origin.get(card_id)
        return f"{unit} {found}" if found else f"line {line} of the converted deck"

    return _Converted(yaml_text, where, said)


def _skipped_note(skipped: list[str], unit: str) -> str:
    """'Skipped 2 rows (row 3: row without an answer; row 9: ...)', naming the first few."""
    shown = "; ".join(re.sub(r", skipped\b", "", reason) for reason in skipped[:_SKIPS_SHOWN])
    more = len(skipped) - _SKIPS_SHOWN
    tail = f"; and {more} more" if more > 0 else ""
    return f"Skipped {count(len(skipped), unit)} ({shown}{tail})"


def _yaml_line(_card_id: str, line: int | None) -> str:
    return f"line {line}"


# --- limits -----------------------------------------------------------------------------------


def _over_limits(
    deck: Deck, where: Callable[[str, int | None], str], limits: UploadLimits
) -> list[str]:
    if len(deck.cards) > limits.max_cards:
        return [_too_many_cards(len(deck.cards), limits)]
    problems: list[str] = []
    if len(deck.name) > MAX_NAME_CHARS:
        problems.append(
            f"the deck name is {len(deck.name):,} characters long; the limit is {MAX_NAME_CHARS}"
        )
    most = limits.max_text_chars
    if deck.description is not None and len(deck.description) > most:
        problems.append(
            f"the deck description is {len(deck.description):,} characters long; "
            f"the limit is {most:,}"
        )
    for card in deck.cards:
        texts = [("the question", card.question), ("the summary", card.summary)]
        texts.append(("the note", card.note))
        for number, point in enumerate(card.points, 1):
            texts.append((f"point {number}", point.text))
            texts.extend((f"point {number}, an alias", alias) for alias in point.aliases)
        for what, text in texts:
            if text is not None and len(text) > most:
                problems.append(
                    f"{where(card.id, card.line)}: card {card.id!r}: {what} is "
                    f"{len(text):,} characters long; the limit is {most:,}"
                )
    return problems


def _too_many_cards(cards: int, limits: UploadLimits) -> str:
    return f"the file has {cards:,} cards; the limit is {limits.max_cards:,}"


# --- text -------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), or UTF-16/32 with one.

    Binary files are named ("the file is a PDF document") rather than decoded into noise.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as error:
                raise UploadRefused(
                    f"the file starts like {label} text but is not valid {label} "
                    f"(at byte offset {error.start:,}); save it as UTF-8"
                ) from None
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise UploadRefused(f"the file is {what}, not a deck; {_FORMATS_HELP}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise UploadRefused(
            f"the file is binary, not text (a NUL byte at byte offset {nul:,}); {_FORMATS_HELP}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UploadRefused(
            f"line {line}: the file is not valid UTF-8 (byte {data[error.start]:#04x} at byte "
            f"offset {error.start:,}); save it as UTF-8"
        ) from None


def _refuse_control_characters(text: str) -> None:
    found = list(itertools.islice(_CONTROL.finditer(text), 5))
    if found:
        raise UploadRefused(
            *(
                f"line {text.count(chr(10), 0, match.start()) + 1}: the control character "
                f"U+{ord(match.group()):04X} is not allowed in a deck; remove it"
                for match in found
            )
        )


def _first_line(text: str) -> str:
    """The first line that is neither blank nor a comment (what a YAML deck starts with)."""
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line
    return ""


# --- YAML -------------------------------------------------------------------------------------


_OPENING = frozenset(
    (
        yaml.BlockMappingStartToken,
        yaml.BlockSequenceStartToken,
        yaml.FlowMappingStartToken,
        yaml.FlowSequenceStartToken,
    )
)
_CLOSING = frozenset((yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken))
_REFUSED_TOKENS = {yaml.AnchorToken: "anchor &", yaml.AliasToken: "alias *", yaml.TagToken: "tag "}
_SCANNER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_with_defaults(text: str, deck_id: str, name: str) -> str:
    """Refuse anchors, aliases and tags; add 'id' and 'deck' when the file has none.

    Anchors and aliases are refused before anything is composed, so an alias bomb costs
    nothing. The keys are added at the end, so every message keeps the file's line numbers.
    """
    text = text.removeprefix("\ufeff")
    top_keys: set[str] = set()
    root: type | None = None
    depth = documents = 0
    key_next = appendable = False
    try:
        for token in yaml.scan(text, Loader=_SCANNER):
            kind = type(token)  # exact classes, compared directly: this loop sees every token
            if kind is yaml.ScalarToken:
                if key_next:
                    top_keys.add(token.value)
                key_next = False
            elif kind is yaml.KeyToken:
                key_next = depth == 1
            elif kind in _OPENING:
                root = root or kind
                depth += 1
            elif kind in _CLOSING:
                depth -= 1
            elif kind in _REFUSED_TOKENS:
                value = token.value if isinstance(token.value, str) else "".join(token.value)
                raise UploadRefused(
                    f"line {token.start_mark.line + 1}: anchors and tags are not allowed in "
                    f"uploaded decks (found the {_REFUSED_TOKENS[kind]}{value}); "
                    "write the values out"
                )
            elif kind is yaml.DocumentStartToken:
                documents += 1
            elif kind is yaml.DocumentEndToken:
                documents += 2  # text after '...' would be another document
        appendable = root is yaml.BlockMappingStartToken and documents <= 1
    except yaml.YAMLError:
        pass  # the loader reports the syntax error, with its line
    additions = {"id": deck_id, "deck": name}
    missing = {key: value for key, value in additions.items() if key not in top_keys}
    if not appendable or not missing:
        return text
    added = yaml.safe_dump(missing, sort_keys=False, allow_unicode=True, width=1000)
    return f"{text.rstrip()}\n{added}"


# --- Anki packages ----------------------------------------------------------------------------


@dataclass
class AnkiPackage:
    """The notes of a package as cards, the notes skipped, and what the summary should add."""

    deck: ImportedDeck
    skipped: list[str]  # "note 7: no answer text, skipped"
    notes: list[str]  # "3 media files (images, sounds) ignored: ..."


def is_anki_package(filename: str, data: bytes) -> bool:
    """A zip, or a file named .apkg / .colpkg (which then had better be a zip)."""
    return data.startswith(_ZIP_MAGIC) or PurePath(filename).suffix.lower() in _PACKAGE_SUFFIXES


def read_anki_package(data: bytes, limits: UploadLimits) -> AnkiPackage:
    """The notes of an Anki package as cards, and the notes it skipped (each named 'note N').

    The collection is unpacked to a temporary file (SQLite cannot read from a zip) and opened
    read-only; sizes are checked before and while unpacking.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UploadRefused(
            "the file is not a valid zip archive (an Anki package is one)"
        ) from None
    with archive:
        infos = archive.infolist()
        _check_zip(infos, limits)
        names = {info.filename: info for info in infos}
        collection = names.get("collection.anki21") or names.get("collection.anki2")
        if "collection.anki21b" in names and "collection.anki21" not in names:
            raise UploadRefused(
                "the package uses the newest Anki format (collection.anki21b), which the bot "
                "cannot read; in Anki, export again with 'Support older Anki versions' ticked"
            )
        if collection is None:
            for entry, what in _ZIP_DOCUMENTS:
                if entry in names:
                    raise UploadRefused(f"the file is {what}")
            raise UploadRefused(
                "the file is a zip archive without an Anki collection (collection.anki2) in it"
            )
        media = [
            info
            for info in infos
            if not info.is_dir()
            and info.filename not in ("media", "meta")
            and not info.filename.startswith("collection.")
        ]
        with tempfile.TemporaryDirectory(prefix="quizbot-apkg-") as folder:
            path = Path(folder) / "collection.sqlite"
            _unpack(archive, collection, path, limits)
            deck, skipped = _read_collection(path, limits)
    ignored = f"{count(len(media), 'media file')} (images, sounds) ignored: the bot asks in text"
    return AnkiPackage(deck, skipped, [ignored] if media else [])


def _check_zip(infos: list[zipfile.ZipInfo], limits: UploadLimits) -> None:
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UploadRefused(
            f"the package has {len(infos):,} files in it; the limit is {MAX_ZIP_ENTRIES:,}"
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_unpacked_bytes:
        raise UploadRefused(
            f"the package unpacks to {_size(declared)}; the limit is "
            f"{_size(limits.max_unpacked_bytes)}"
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise UploadRefused("the package is password-protected; export it again without one")
        packed = max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * packed:
            raise UploadRefused(
                f"the package is a zip bomb: {info.filename} would unpack from "
                f"{_size(info.compress_size)} to {_size(info.file_size)}"
            )


def _unpack(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limits: UploadLimits
) -> None:
    """Copy one entry out, stopping as soon as it grows past what it declared or the limit."""
    allowed = min(info.file_size, limits.max_unpacked_bytes)
    written = 0
    try:
        with archive.open(info) as source, target.open("wb") as sink:
            while chunk := source.read(1 << 16):
                written += len(chunk)
                if written > allowed:
                    raise UploadRefused(
                        f"the package is a zip bomb: {info.filename} unpacks to more than the "
                        f"{_size(allowed)} it declares"
                    )
                sink.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError) as error:
        raise UploadRefused(
            f"the package is damaged: {info.filename} cannot be unpacked ({error})"
        ) from None


def _read_collection(path: Path, limits: UploadLimits) -> tuple[ImportedDeck, list[str]]:
    uri = f"{path.as_uri()}?mode=ro&immutable=1"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            connection.execute("PRAGMA trusted_schema = OFF")
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            columns = (
                {row[1] for row in connection.execute("PRAGMA table_info(notes)")}
                if "notes" in tables
                else set()
            )
            if not {"notes", "col"} <= tables or not {"id", "flds", "tags"} <= columns:
                raise UploadRefused(
                    "the package's collection has a schema the bot does not know (no notes "
                    "and col tables); export it again from Anki with 'Support older Anki "
                    "versions' ticked"
                )
            rows = connection.execute(
                "SELECT flds, tags FROM notes ORDER BY id LIMIT ?", (limits.max_cards + 1,)
            ).fetchall()
            if len(rows) > limits.max_cards:
                raise UploadRefused(
                    f"the package has more than {limits.max_cards:,} notes; the limit is "
                    f"{limits.max_cards:,}"
                )
            deck_name = _anki_deck_name(connection, tables)
    except sqlite3.Error as error:
        raise UploadRefused(
            f"the package's collection is not a readable Anki database ({error})"
        ) from None
    deck = ImportedDeck(name=deck_name, cards=[], kind="apkg")
    skipped: list[str] = []
    for number, (fields, tags) in enumerate(rows, 1):
        card, reason = _anki_card(str(fields or ""), str(tags or ""), number)
        if card is None:
            skipped.append(f"note {number}: {reason}, skipped")
        else:
            deck.cards.append(card)
    assign_ids(deck.cards)
    return deck, skipped


def _anki_card(fields: str, tags: str, number: int) -> tuple[ImportedCard | None, str]:
    """One note as a card: first field the question, second the answer (or a cloze's gaps)."""
    values = [_ANKI_MEDIA.sub(" ", value) for value in fields.split("\x1f")]
    front = values[0]
    if _CLOZE.search(front):
        # "Complete:" makes the gapped text a command, as card checks expect of a question.
        question = "Complete: " + one_line(_CLOZE.sub(_cloze_gap, front), html_mode=True)
        points = [
            point
            for match in _CLOZE.finditer(front)
            for point in split_answer(match.group(1), html_mode=True)
        ]
    else:
        question = one_line(front, html_mode=True)
        points = split_answer(values[1], html_mode=True) if len(values) > 1 else []
    if not question:
        return None, "no question text (only images or sounds?)"
    if not points:
        return None, "no answer text"
    card = ImportedCard(question=question, points=points, line=number)
    card.tags = [tag for tag in tags.split() if tag]
    return card, ""


def _cloze_gap(match: re.Match[str]) -> str:
    hint = match.group(2)
    return f"[{hint}]" if hint else "[...]"


def _anki_deck_name(connection: sqlite3.Connection, tables: set[str]) -> str:
    """The name of the deck most cards are in ('Biology::Cells' -> 'Cells'); '' if unknown."""
    if "cards" not in tables:
        return ""
    row = connection.execute(
        "SELECT did FROM cards GROUP BY did ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return ""
    name = ""
    if "decks" in tables:  # schema 18: a table of decks
        with contextlib.suppress(sqlite3.Error):
            found = connection.execute("SELECT name FROM decks WHERE id = ?", row).fetchone()
            name = str(found[0]) if found else ""
    if not name:
        with contextlib.suppress(sqlite3.Error, ValueError, TypeError, AttributeError):
            decks_json = connection.execute("SELECT decks FROM col").fetchone()[0]
            name = str(json.loads(decks_json).get(str(row[0]), {}).get("name", ""))
    name = " ".join(name.replace("\x1f", "::").split("::")[-1].split())
    return "" if name == "Default" else name


# --- names ------------------------------------------------------------------------------------


def _slug_of_file(filename: str) -> str:
    stem = PurePath(PurePath(filename).name).stem
    slug = slugify(stem, max_words=8, drop_stop_words=False)[:64].strip("-_")
    return slug or "deck"


def _name_of_file(filename: str) -> str:
    stem = PurePath(PurePath(filename).name).stem
    return " ".join(stem.replace("_", " ").replace("-", " ").split())


def _size(number: int) -> str:
    if number >= 1024 * 1024:
        return f"{number / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if number >= 1024:
        return f"{number / 1024:.0f} KB"
    return count(number, "byte")
