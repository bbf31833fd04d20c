"""Benchmark: how long the bot takes to read an uploaded deck file (no chat, no database).

Builds a 5,000-card CSV, a 5,000-note Anki package and the YAML the upload turns them into,
then times ``bot.decks.upload.parse_upload`` on each (detection, conversion, validation,
limits). The chat's end-to-end figure adds the download and the database on top of this.

    python bench/deck_upload.py [--quick] [--cards N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.decks.upload import parse_upload
from tests.anki_package import package


def csv_deck(cards: int) -> bytes:
    rows = ["Front,Back"]
    rows += [
        f'"What are the parts of topic {n}?","first part {n}; second part {n}; third {n}"'
        for n in range(cards)
    ]
    return ("\n".join(rows) + "\n").encode()


def anki_deck(cards: int) -> bytes:
    notes = [
        ([f"What are the parts of <b>topic {n}</b>?", f"first part {n}<br>second part {n}"], "t")
        for n in range(cards)
    ]
    return package(notes, deck="Benchmark::Upload")


def timed(filename: str, data: bytes, repeat: int) -> tuple[float, int]:
    """The median seconds of ``repeat`` runs, and the cards read."""
    times, cards = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        parsed = parse_upload(filename, data)
        times.append(time.perf_counter() - started)
        if parsed.deck is None:
            raise SystemExit(f"{filename}: {parsed.problems[:3]}")
        cards = len(parsed.deck.cards)
    return statistics.median(times), cards


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small, fast run (for CI)")
    parser.add_argument("--cards", type=int, help="cards per generated deck (default 5000)")
    parser.add_argument("--repeat", type=int, help="runs per format; the median is printed")
    args = parser.parse_args(argv)
    cards = args.cards or (500 if args.quick else 5000)
    repeat = args.repeat or (1 if args.quick else 5)

    csv_data, apkg_data = csv_deck(cards), anki_deck(cards)
    yaml_text = parse_upload("bench.csv", csv_data).yaml_text or ""
    print(f"cards: {cards}")
    for label, filename, data in (
        ("csv", "bench.csv", csv_data),
        ("apkg", "bench.apkg", apkg_data),
        ("yaml", "bench.yaml", yaml_text.encode()),
    ):
        seconds, read = timed(filename, data, repeat)
        print(f"{label}_bytes: {len(data)}")
        print(f"{label}_cards_read: {read}")
        print(f"{label}_parse_seconds: {seconds:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
