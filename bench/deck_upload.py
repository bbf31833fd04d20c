"""Deck upload through the chat, end to end: a 5,000-card CSV and a 5,000-note .apkg.

The real bot process (``python -m bot run``) against the fake Bot API: a user sends the file
as a document, the bot fetches it with getFile, downloads it, parses and validates it, stores
it, prepares it for grading and answers. Timed from sending the document to the bot's reply;
then the first question of a round on the new deck. Also the time another replica needs to
load the stored deck (parse and prepare, in-process). One figure per line.

    python bench/deck_upload.py [--quick] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.decks.upload import parse_upload  # noqa: E402
from bot.services.catalogue import load_user_deck  # noqa: E402
from tests.decksamples import apkg, csv_deck, numbered_notes  # noqa: E402
from tests.e2e import running_bot  # noqa: E402
from tests.fakebotapi import FakeBotApi, running_fake_bot_api  # noqa: E402

VERDICTS = "✅🔁❌📦⏳📚"


def timed_upload(api: FakeBotApi, user: int, data: bytes, file_name: str) -> tuple[float, str]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 cards instead of 5,000 (CI)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    cards = 500 if args.quick else 5000
    notes = numbered_notes(cards)
    files = {"csv": (csv_deck(notes), "lecture.csv"), "apkg": (apkg(notes), "lecture-anki.apkg")}
    with tempfile.TemporaryDirectory() as folder, running_fake_bot_api() as api:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        limits = {"QUIZBOT_UPLOADS_PER_HOUR": "100"}
        print(f"cards: {cards}")
        with running_bot(api, url, extra_env=limits):
            for kind, (data, file_name) in files.items():
                user = api.add_user(f"Uploader {kind}").id
                seconds, reply = timed_upload(api, user, data, file_name)
                if not reply.startswith("✅"):
                    print(f"upload failed: {reply}", file=sys.stderr)
                    return 1
                print(f"{kind}_file_kb: {len(data) / 1024:.0f}")
                print(f"{kind}_upload_to_reply_s: {seconds:.2f}")
                print(f"{kind}_first_question_s: {timed_first_question(api, user):.3f}")
        parsed = parse_upload("lecture.csv", files["csv"][0])
        assert parsed.yaml_text is not None
        started = time.perf_counter()
        load_user_deck("user:1", parsed.yaml_text, "Lecture")
        print(f"replica_load_s: {time.perf_counter() - started:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
