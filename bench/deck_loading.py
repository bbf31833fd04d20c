"""Benchmark: how long a large card bank takes to load and validate.

Generates a deck of 10,000 cards (``--quick``: 1,000) in a temporary folder, loads it several
times with ``bot.decks.loader.load_deck`` and prints one ``name: value`` figure per line, so CI
can run it with ``--quick`` and a person can compare runs by eye.

    python bench/deck_loading.py [--quick] [--cards N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from bot.decks.loader import load_deck


def write_deck(path: Path, cards: int) -> None:
    """Write a realistic deck: mixed string and mapping points, aliases, tags and follow-ups."""
    lines = [
        "deck: Benchmark deck",
        "id: benchmark",
        "description: Generated for bench/deck_loading.py.",
        "language: en",
        "pass_ratio: 0.6",
        "cards:",
    ]
    for number in range(cards):
        lines += [
            f"  - id: card-{number}",
            f"    question: What are the parts of generated topic number {number}?",
            f"    summary: summary of topic {number}",
            "    points:",
            f"      - first part of topic {number}",
            f"      - text: second part of topic {number}",
            f"        aliases: [second bit {number}, another way to say it {number}]",
            "      - text: third part, with a lower weight",
            "        weight: 0.5",
            "    tags: [generated, benchmark]",
        ]
        if number % 5:
            lines.append(f"    follows: card-{number - 1}")
        if number % 7 == 0:
            lines.append(f"    note: slide {number}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small, fast run (for CI)")
    parser.add_argument("--cards", type=int, help="cards in the generated deck")
    parser.add_argument("--repeat", type=int, help="how many times to load it")
    args = parser.parse_args(argv)
    cards = args.cards or (1_000 if args.quick else 10_000)
    repeat = args.repeat or (3 if args.quick else 7)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.yaml"
        write_deck(path, cards)
        timings: list[float] = []
        for _ in range(repeat):
            started = time.perf_counter()
            deck = load_deck(path)
            timings.append(time.perf_counter() - started)
        size = path.stat().st_size
    assert len(deck.cards) == cards, "every generated card must load"

    median = statistics.median(timings)
    print(f"yaml_c_loader: {int(hasattr(yaml, 'CSafeLoader'))}")
    print(f"file_kib: {size / 1024:.0f}")
    print(f"load_{cards}_cards_seconds_median: {median:.3f}")
    print(f"load_{cards}_cards_seconds_min: {min(timings):.3f}")
    print(f"cards_per_second: {cards / median:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
