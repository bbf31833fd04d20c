"""Users bring their own decks: the real bot process against the fake Bot API, on both databases.

Files arrive as Telegram documents; the bot fetches them with getFile and downloads them from
``/file/bot<token>/<file_path>``, as it would from Telegram.
"""

from __future__ import annotations

import re
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from tests.decksamples import PLAIN_TEXT, apkg, csv_deck, numbered_notes, yaml_deck
from tests.e2e import question_text, running_bot
from tests.fakebotapi import ChatMessage, FakeBotApi, FakeUser
from tests.test_webhook_e2e import free_port, local_url, webhook_bot

pytestmark = pytest.mark.e2e

#: A two-card deck whose answers a test knows.
CARDS = [
    {"id": "capital-fr", "question": "What is the capital of France?", "points": ["Paris"]},
    {"id": "capital-it", "question": "What is the capital of Italy?", "points": ["Rome"]},
]
ANSWERS = {"What is the capital of France?": "Paris", "What is the capital of Italy?": "Rome"}


def upload(api: FakeBotApi, user: FakeUser, data: bytes, file_name: str) -> ChatMessage:
    """Send a file and return the bot's verdict on it (added, replaced, or refused)."""
    api.send_document(user, data, file_name)
    return api.wait_for_message(
        user, predicate=lambda message: (message.text or "")[:1] in "✅🔁❌📦⏳📚", timeout=20
    )


def deck_panel(api: FakeBotApi, user: FakeUser, name: str) -> ChatMessage:
    api.send_text(user, "/decks")
    listing = api.wait_for_message(user, contains="📚 Decks")
    api.click_button(user, listing, f"⚙️ {name}")
    return api.wait_for_message(user, contains=f"⚙️ {name}")


def play_round(api: FakeBotApi, user: FakeUser, cards: int) -> ChatMessage:
    """Answer every question right and return the round's summary."""
    api.send_text(user, "/quiz")
    for number in range(1, cards + 1):
        question = api.wait_for_message(user, contains=f"Question {number}/{cards}")
        api.send_text(user, ANSWERS[question_text(question)])
        feedback = api.wait_for_message(user, contains="Correct")
        api.click_button(user, feedback, "Finish round" if number == cards else "Next")
    return api.wait_for_message(user, contains="Round over")


def test_every_format_uploads_and_a_broken_file_changes_nothing(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    files = [
        ("geo.yaml", yaml_deck("geo", "Geography", CARDS), "Geography", "2 cards, 2 points"),
        ("maths.csv", csv_deck(numbered_notes(3)), "maths", "3 cards, 6 points"),
        ("words.tsv", csv_deck(numbered_notes(4), "\t"), "words", "4 cards, 8 points"),
        ("cells.txt", PLAIN_TEXT.encode(), "Cell biology", "2 cards, 2 points"),
        ("bio.apkg", apkg(numbered_notes(5), "Biology::Cells"), "Cells", "5 cards, 10 points"),
    ]
    with running_bot(api, database_url, mini_cards):
        for file_name, data, name, summary in files:
            reply = upload(api, ann, data, file_name)
            assert reply.text is not None and reply.text.startswith("✅ Added"), reply.text
            assert f"Added {name}: {summary}" in reply.text
        assert [call.params["file_id"] for call in api.calls("getFile")]

        broken = "deck: Broken\nid: geo\ncards:\n  - id: x\n    question: Why?\n"
        refused = upload(api, ann, broken.encode(), "geo.yaml")
        assert refused.text is not None and refused.text.startswith("❌ geo.yaml was not imported")
        assert "line" in refused.text and "points" in refused.text
        binary = upload(api, ann, bytes(range(256)) * 4, "sneaky.csv")
        assert binary.text is not None and binary.text.startswith("❌")

        api.send_text(ann, "/decks")
        listing = api.wait_for_message(ann, contains="📚 Decks")
        text = listing.text or ""
        for name in ("Geography", "maths", "words", "Cell biology", "Cells"):
            assert name in text
        assert "Geography — 2 cards, 2 points" in text  # the broken geo.yaml replaced nothing
        assert "Broken" not in text and "sneaky" not in text


def test_a_shared_deck_is_played_replaced_with_history_kept_and_deleted(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    bob = api.add_user("Bob", username="bob")
    with running_bot(api, database_url, mini_cards):
        upload(api, ann, yaml_deck("geo", "Geography", CARDS), "geo.yaml")
        panel = deck_panel(api, ann, "Geography")
        api.click_button(ann, panel, "Share link")
        shared = api.wait_for_message(ann, contains="Anyone who opens this link")
        link = re.search(r"https://t\.me/(\w+)\?start=(deck_[\w-]+)", shared.text or "")
        assert link is not None and link.group(1) == api.bot_username

        api.send_text(bob, f"/start {link.group(2)}")
        added = api.wait_for_message(bob, contains="Added")
        assert "Geography</b> (2 cards)" in (added.html or "") or "Geography (2 cards)" in (
            added.text or ""
        )
        summary = play_round(api, bob, 2)
        assert "Points: 20 of 20" in (summary.text or "")

        # Replace: France stays, Italy goes, Spain comes; Bob's history of France stays.
        replaced_cards = [
            CARDS[0],
            {"id": "capital-es", "question": "What is the capital of Spain?", "points": ["Madrid"]},
        ]
        reply = upload(api, ann, yaml_deck("geo", "Geography", replaced_cards), "geo-v2.yaml")
        assert reply.text is not None and reply.text.startswith("🔁 Replaced Geography")
        assert "kept for 1 card(s); 1 card(s) left the deck" in reply.text
        api.send_text(bob, "/quiz")
        question = api.wait_for_message(bob, contains="Question 1/")
        # France keeps Bob's review schedule (not due again yet); Spain is new: a round of one.
        assert "Question 1/1" in (question.text or "")
        assert question_text(question) == "What is the capital of Spain?"
        api.send_text(bob, "/stop")
        api.wait_for_message(bob, contains="Round over")

        # Delete, with a confirmation button; Bob loses it, and the link stops working.
        panel = deck_panel(api, ann, "Geography")
        api.click_button(ann, panel, "Delete")
        confirm = api.wait_for_message(ann, contains="Delete")
        api.click_button(ann, confirm, "Yes, delete it")
        api.wait_for_message(ann, contains="🗑 Deleted")
        api.send_text(ann, "/decks")
        assert "Geography" not in (api.wait_for_message(ann, contains="📚 Decks").text or "")
        api.send_text(bob, f"/start {link.group(2)}")
        assert "does not work" in (api.wait_for_message(bob, contains="link").text or "")


def test_the_owner_renames_downloads_revokes_and_reads_overrides(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    bob = api.add_user("Bob", username="bob")
    with running_bot(api, database_url, mini_cards):
        upload(api, ann, yaml_deck("geo", "Geography", CARDS), "geo.yaml")
        panel = deck_panel(api, ann, "Geography")
        api.click_button(ann, panel, "Rename")
        prompt = api.wait_for_message(ann, contains="New name for deck")
        api.send_text(ann, "Capitals <of> Europe", reply_to=prompt)
        assert "Capitals &lt;of&gt; Europe" in (
            api.wait_for_message(ann, contains="Renamed").html or ""
        )

        panel = deck_panel(api, ann, "Capitals <of> Europe")
        api.click_button(ann, panel, "Download YAML")
        document = api.wait_for_message(ann, predicate=lambda m: m.kind == "document")
        assert document.file_name == "geo.yaml" and document.upload is not None
        downloaded = yaml.safe_load(document.upload)
        assert downloaded["deck"] == "Capitals <of> Europe" and len(downloaded["cards"]) == 2

        api.click_button(ann, panel, "Share link")
        link = re.search(
            r"start=(deck_[\w-]+)", api.wait_for_message(ann, contains="t.me").text or ""
        )
        assert link is not None
        api.send_text(bob, f"/start {link.group(1)}")
        api.wait_for_message(bob, contains="Added")
        api.send_text(bob, "/quiz 1")
        question = api.wait_for_message(bob, contains="Question 1/1")
        api.send_text(bob, "I would say <b>Lutetia</b>")
        feedback = api.wait_for_message(bob, contains="Not quite")
        api.click_button(bob, feedback, "I was right")
        api.wait_for_edit(bob, feedback)  # counted as correct

        api.send_text(ann, "/overrides")
        overrides = api.wait_for_message(ann, contains="I was right")
        assert "Capitals &lt;of&gt; Europe" in (overrides.html or "")
        assert "Lutetia" in (overrides.text or "") and "<b>Lutetia" in (overrides.text or "")
        assert question_text(question)

        panel = deck_panel(api, ann, "Capitals <of> Europe")
        api.click_button(ann, panel, "Revoke link")
        api.wait_for_message(ann, contains="no longer works")
        carl = api.add_user("Carl")
        api.send_text(carl, f"/start {link.group(1)}")
        assert "does not work" in (api.wait_for_message(carl, contains="link").text or "")


def test_a_group_admin_picks_a_deck_and_challenge_uses_it(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    bob = api.add_user("Bob", username="bob")
    group = api.add_group("Geo club", members=[bob], admins=[ann])
    with running_bot(api, database_url, mini_cards):
        upload(api, ann, yaml_deck("geo", "Geography", CARDS), "geo.yaml")
        api.send_text(bob, "/deck", chat=group)
        choice = api.wait_for_message(group, contains="This group's deck")
        api.click_button(bob, choice, "Mini")  # Bob is no admin
        assert api.wait_for_call("answerCallbackQuery").params.get("show_alert") in (True, "true")

        api.send_text(ann, "/deck", chat=group)
        choice = api.wait_for_message(group, contains="This group's deck")
        api.click_button(ann, choice, "Geography")
        api.wait_for_message(group, contains="picked Geography")

        api.send_text(bob, "/challenge 2 10", chat=group)
        question = api.wait_for_message(group, contains="capital of", timeout=15)
        assert "France" in (question.text or "") or "Italy" in (question.text or "")


def test_limits_get_clear_messages(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    limits = {
        "QUIZBOT_MAX_DECKS_PER_USER": "1",
        "QUIZBOT_UPLOADS_PER_HOUR": "3",
        "QUIZBOT_MAX_UPLOAD_BYTES": "5000",
    }
    with running_bot(api, database_url, mini_cards, extra_env=limits):
        too_big = upload(api, ann, csv_deck(numbered_notes(200)), "big.csv")
        assert (too_big.text or "").startswith("📦 That file is too big")
        assert not api.calls("getFile")  # refused before downloading

        upload(api, ann, yaml_deck("geo", "Geography", CARDS), "geo.yaml")
        second = upload(api, ann, csv_deck(numbered_notes(2)), "maths.csv")
        assert (second.text or "").startswith("📚 You have 1 deck(s), the most one person")
        replaced = upload(api, ann, yaml_deck("geo", "Geography", CARDS[:1]), "geo.yaml")
        assert (replaced.text or "").startswith("🔁 Replaced")  # a replacement is no new deck
        fourth = upload(api, ann, yaml_deck("geo", "Geography", CARDS), "geo.yaml")
        assert (fourth.text or "").startswith("⏳ You have uploaded many decks in the last hour")
        assert "Try again in 60 minute(s)" in (fourth.text or "")


def test_two_replicas_serve_the_newest_version_of_a_deck_uploaded_through_either(
    api: FakeBotApi, ann: FakeUser, fresh_postgres_url: str, mini_cards: Path
) -> None:
    """Updates alternate between two webhook replicas on one PostgreSQL database: a deck
    uploaded or replaced through one is played, in its newest version, through the other."""
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            stack.enter_context(webhook_bot(api, fresh_postgres_url, mini_cards, port))

        def through(replica: int) -> None:
            api.route_webhook_to(local_url(ports[replica]))
            time.sleep(0.3)  # longer than a replica's look at the database stays good

        through(0)
        upload(api, ann, yaml_deck("geo", "Geography", CARDS), "geo.yaml")
        through(1)
        summary = play_round(api, ann, 2)
        assert "Points: 20 of 20" in (summary.text or "")

        through(0)
        spain = {
            "id": "capital-es",
            "question": "What is the capital of Spain?",
            "points": ["Madrid"],
        }
        reply = upload(api, ann, yaml_deck("geo", "Geography", [*CARDS, spain]), "geo.yaml")
        assert (reply.text or "").startswith("🔁 Replaced")
        through(1)
        api.send_text(ann, "/quiz")
        question = api.wait_for_message(ann, contains="Question 1/1", timeout=20)
        assert question_text(question) == "What is the capital of Spain?"
