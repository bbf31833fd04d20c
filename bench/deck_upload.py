"""Benchmark: a 5,000-card CSV and a 5,000-note .apkg, read alone and through the chat.

First the file reading alone: a 5,000-card CSV, a 5,000-note Anki package and the YAML the
upload turns them into, timed through ``bot.decks.upload.parse_upload`` (detection, conversion,
validation, limits). Then end to end: the real bot process (``python -m bot run``) against the
fake Bot API; a user sends each file as a document, the bot fetches it with getFile, downloads,
parses, stores and prepares it, and replies; timed from sending to the reply, then ``/quiz`` to
the first question on the new deck. Last, what another replica spends loading the stored deck.

    python bench/deck_upload.py [--quick] [--cards N] [--repeat N] [--database-url URL]
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

from bot.decks.upload import parse_upload
from bot.services.catalogue import load_user_deck
from tests.anki_package import package
from tests.e2e import running_bot
from tests.fakebotapi import FakeBotApi, running_fake_bot_api

#: The first character of each reply the bot gives to an uploaded file.
VERDICTS = "✅🔁❌📦⏳📚"


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


def timed_upload(api: FakeBotApi, user: int, data: bytes, file_name: str) -> tuple[float, str]:
    """Seconds from sending the document to the bot's verdict, and the verdict."""
    started = time.perf_counter()
    api.send_document(user, data, file_name)
    reply = api.wait_for_message(
        user, predicate=lambda message: (message.text or "")[:1] in VERDICTS, timeout=300
    )
    return time.perf_counter() - started, reply.text or ""


def timed_first_question(api: FakeBotApi, user: int) -> float:
    started = time.perf_counter()
    api.send_text(user, "/quiz")
    api.wait_for_message(user, contains="Question 1/", timeout=120)
    return time.perf_counter() - started


def through_the_chat(files: dict[str, tuple[str, bytes]], database_url: str | None) -> int:
    """Upload each file in the chat of the real bot process; print the figures."""
    with tempfile.TemporaryDirectory() as folder, running_fake_bot_api() as api:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        with running_bot(api, url, extra_env={"QUIZBOT_UPLOADS_PER_HOUR": "100"}):
            for label, (filename, data) in files.items():
                user = api.add_user(f"Uploader {label}").id
                seconds, reply = timed_upload(api, user, data, filename)
                if not reply.startswith("✅"):
                    print(f"{filename}: upload failed: {reply}", file=sys.stderr)
                    return 1
                print(f"{label}_chat_upload_seconds: {seconds:.2f}")
                print(f"{label}_chat_first_question_seconds: {timed_first_question(api, user):.3f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small, fast run (for CI)")
    parser.add_argument("--cards", type=int, help="cards per generated deck (default 5000)")
    parser.add_argument("--repeat", type=int, help="runs per format; the median is printed")
    parser.add_argument("--database-url", help="the chat part's database (default: SQLite)")
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
    started = time.perf_counter()
    load_user_deck("user:1", yaml_text, "Benchmark")
    print(f"replica_load_seconds: {time.perf_counter() - started:.2f}")
    files = {"csv": ("lecture.csv", csv_data), "apkg": ("lecture.apkg", apkg_data)}
    return through_the_chat(files, args.database_url)


if __name__ == "__main__":
    raise SystemExit(main())
