"""Admin commands, /reload of a broken deck, broadcasts and flood control, end to end."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e import question_text, running_bot
from tests.fakebotapi import FakeBotApi, FakeUser

pytestmark = pytest.mark.e2e


def admin_env(admin: FakeUser) -> dict[str, str]:
    return {"QUIZBOT_ADMINS": str(admin.id)}


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/reload", "for the bot's admins"),
        ("/broadcast hello", "for the bot's admins"),
        # Everyone else sees the overrides on their own uploaded decks only.
        ("/overrides", "No “I was right” overrides on your decks yet."),
    ],
)
def test_admin_commands_are_refused_to_everyone_else(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path, command: str, answer: str
) -> None:
    boss = api.add_user("Boss")
    with running_bot(api, database_url, mini_cards, admin_env(boss)):
        api.send_text(ann, command)
        assert answer in (api.wait_for_message(ann).text or "")
        assert not [m for m in api.sent_messages(boss) if "📣" in (m.text or "")]


def test_a_broken_deck_is_refused_on_reload_and_the_old_decks_stay_live(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.yaml"
    shutil.copy(mini_cards, good)
    with running_bot(api, database_url, mini_cards, admin_env(ann)):
        mini_cards.write_text("deck: Mini\nid: mini\ncards: [\n  - id: broken\n", "utf-8")
        api.send_text(ann, "/reload")
        refused = api.wait_for_message(ann, contains="Reload refused")
        assert "mini.yaml" in (refused.text or "")
        api.send_text(ann, "/quiz 1")
        api.wait_for_message(ann, contains="Question 1/1")

        text = good.read_text("utf-8").replace("What matters most for inference?", "Why care?")
        mini_cards.write_text(text, "utf-8")
        api.send_text(ann, "/reload")
        assert "Reloaded 1 deck(s), 3 cards" in (
            api.wait_for_message(ann, contains="✅").text or ""
        )


def test_overrides_show_what_students_claimed_per_card_escaped(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    with running_bot(api, database_url, mini_cards, admin_env(ann)):
        api.send_text(ann, "/quiz 1")
        api.wait_for_message(ann, contains="Question 1/1")
        api.send_text(ann, "it's <i>obviously</i> right & done")
        feedback = api.wait_for_message(ann, contains="Not quite")
        api.click_button(ann, feedback, "I was right")
        api.wait_for_edit(ann, feedback)
        api.send_text(ann, "/overrides")
        report = api.wait_for_message(ann, contains="overrides")
        assert "“it's <i>obviously</i> right & done”" in (report.text or "")
        assert "&lt;i&gt;obviously&lt;/i&gt; right &amp; done" in (report.html or "")


def test_a_broadcast_reaches_every_user_and_counts_those_who_blocked_the_bot(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    students = [api.add_user(f"S{i}") for i in range(5)]
    with running_bot(api, database_url, mini_cards, admin_env(ann)):
        for student in students:
            api.send_text(student, "/start")
            api.wait_for_message(student, contains="Hi")
        api.block_user(students[0])
        api.send_text(ann, "/broadcast Exam on <Friday> & bring snacks")
        done = api.wait_for_message(ann, contains="Broadcast done", timeout=30)
        assert "4 sent, 1 failed" in (done.text or "")
        for student in students[1:]:
            message = api.wait_for_message(student, contains="📣")
            assert "Exam on <Friday> & bring snacks" in (message.text or "")


def test_a_flooding_user_is_throttled_politely_and_others_are_unaffected(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    bob = api.add_user("Bob")
    with running_bot(api, database_url, mini_cards):
        api.send_text(ann, "/quiz 3")
        question = api.wait_for_message(ann, contains="Question 1/3")
        for index in range(30):
            api.send_text(ann, f"spam {index}")
        api.send_text(bob, "/help")
        assert "Commands" in (api.wait_for_message(bob, contains="Commands").text or "")
        api.wait_until_updates_consumed()
        api.wait_for(
            lambda: any("very fast" in (m.text or "") for m in api.sent_messages(ann)), timeout=20
        )
        replies = [m.text or "" for m in api.sent_messages(ann)]
        assert sum("very fast" in text for text in replies) == 1
        assert len(replies) < 25
        assert question_text(question)
