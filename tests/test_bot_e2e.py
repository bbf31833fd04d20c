"""The real bot process in a private chat, against the fake Bot API, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e import ANSWERS, question_text, running_bot
from tests.fakebotapi import FakeBotApi, FakeUser

pytestmark = pytest.mark.e2e


def test_a_student_plays_a_whole_round_and_finds_the_score_afterwards(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    with running_bot(api, database_url, mini_cards):
        api.send_text(ann, "/start")
        welcome = api.wait_for_message(ann, contains="Hi Ann")
        assert welcome.button_texts == ["▶️ Start quiz"]
        assert [c["command"] for c in api.commands][:2] == ["quiz", "stop"]

        api.click_button(ann, welcome, "Start quiz")
        question = api.wait_for_message(ann, contains="Question 1/3")
        assert {"💡 Hint", "👀 Show answer", "⏭ Skip"} <= set(question.button_texts)
        for number in range(1, 4):
            api.send_text(ann, ANSWERS[question_text(question)])
            feedback = api.wait_for_message(ann, contains="Correct")
            assert "+10 points" in (feedback.text or "")
            label = "Finish round" if number == 3 else "Next"
            api.click_button(ann, feedback, label)
            if number < 3:
                question = api.wait_for_message(ann, contains=f"Question {number + 1}/3")
        summary = api.wait_for_message(ann, contains="Round over")
        assert "✅ 3" in (summary.text or "")
        assert "Points: 30 of 30" in (summary.text or "")

        api.send_text(ann, "/score")
        score = api.wait_for_message(ann, contains="your score")
        assert "Points: 30" in (score.text or "")
        assert "Daily streak: 1" in (score.text or "")


def test_feedback_quotes_the_students_words_and_names_the_missing_points(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    with running_bot(api, database_url, mini_cards):
        api.send_text(ann, "/quiz 3")
        question = api.wait_for_message(ann, contains="Question 1/3")
        while question_text(question) != "List the three steps of AllReduce.":
            api.click_button(ann, question, "Skip")
            question = api.wait_for_message(ann, contains="Question")
        api.send_text(ann, "first <b>reduce scatter</b> & then something")
        feedback = api.wait_for_message(ann, contains="Partly right")
        text = feedback.text or ""
        assert "✔️ reduce-scatter — “reduce" in text
        assert "✖️ missing: all-gather" in text
        assert "✖️ missing: workers compute forward/backward" in text
        assert "slide 30" in text
        assert "🙋 I was right" in feedback.button_texts


def test_hint_skip_show_answer_and_i_was_right_change_the_score_as_promised(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    with running_bot(api, database_url, mini_cards):
        api.send_text(ann, "/quiz 3")
        first = api.wait_for_message(ann, contains="Question 1/3")
        api.click_button(ann, first, "Hint")
        hinted = api.wait_for_edit(ann, first)
        assert "Hint 1:" in (hinted.text or "")
        api.send_text(ann, ANSWERS[question_text(first)])
        feedback = api.wait_for_message(ann, contains="Correct")
        assert "+8 points" in (feedback.text or "")
        api.click_button(ann, feedback, "Next")

        second = api.wait_for_message(ann, contains="Question 2/3")
        api.click_button(ann, second, "Skip")
        third = api.wait_for_message(ann, contains="Question 3/3")
        api.click_button(ann, third, "Show answer")
        shown = api.wait_for_message(ann, contains="counted as wrong")
        assert "Answer" in (shown.text or "")
        api.send_text(ann, "/stop")
        summary = api.wait_for_message(ann, contains="Round over")
        assert "⏭ 1" in (summary.text or "")
        assert "Points: 8 of 20" in (summary.text or "")

        api.send_text(ann, "/quiz 1")
        question = api.wait_for_message(ann, contains="Question 1/1")
        api.send_text(ann, "no idea at all")
        wrong = api.wait_for_message(ann, contains="Not quite")
        api.click_button(ann, wrong, "I was right")
        api.wait_for_edit(ann, wrong, timeout=10)
        assert "Counted as correct" in (api.message(ann, wrong.message_id).text or "")
        assert question.message_id < wrong.message_id
        api.send_text(ann, "/score")
        score = api.wait_for_message(ann, contains="your score")
        assert "Points: 18" in (score.text or "")


def test_a_restart_in_the_middle_of_a_round_loses_nothing_and_a_duplicate_scores_once(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    with running_bot(api, database_url, mini_cards) as bot:
        api.send_text(ann, "/quiz 2")
        question = api.wait_for_message(ann, contains="Question 1/2")
        bot.stop()
        assert bot.returncode == 0
        bot.start(wait_for_polling=api)
        answer_update = api.send_text(ann, ANSWERS[question_text(question)])
        feedback = api.wait_for_message(ann, contains="Correct")
        assert answer_update is not None
        api.redeliver(answer_update)
        api.wait_until_updates_consumed()
        api.send_text(ann, "/score")
        score = api.wait_for_message(ann, contains="your score")
        assert "Points: 10" in (score.text or "")
        assert "Answered: 1 " in (score.text or "")
        assert feedback.message_id < score.message_id


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        (lambda api, user: api.send_sticker(user), "send your answer as text"),
        (lambda api, user: api.send_photo_message(user), "send your answer as text"),
        (lambda api, user: api.send_voice(user), "send your answer as text"),
        (lambda api, user: api.send_text(user, "/frobnicate"), "don't know that command"),
        (lambda api, user: api.send_text(user, "hello"), "no question open"),
    ],
)
def test_odd_messages_get_a_short_friendly_answer(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path, send, expected: str
) -> None:
    with running_bot(api, database_url, mini_cards):
        send(api, ann)
        reply = api.wait_for_message(ann)
        assert expected in (reply.text or "").lower()


def test_html_in_what_users_type_is_escaped_never_rendered(
    api: FakeBotApi, database_url: str, mini_cards: Path
) -> None:
    mallory = api.add_user("<b>Mal & Co</b>", username="mal")
    with running_bot(api, database_url, mini_cards):
        api.send_text(mallory, "/start")
        welcome = api.wait_for_message(mallory, contains="Hi <b>Mal & Co</b>!")
        assert "Hi &lt;b&gt;Mal &amp; Co&lt;/b&gt;!" in (welcome.html or "")
        api.send_text(mallory, "/score")
        score = api.wait_for_message(mallory, contains="your score")
        assert "&lt;b&gt;Mal &amp; Co&lt;/b&gt;" in (score.html or "")


@pytest.mark.parametrize(
    ("code", "parameters"),
    [(429, {"retry_after": 1}), (500, None), (502, None)],
)
def test_a_telegram_error_on_a_reply_is_retried_and_the_reply_arrives(
    api: FakeBotApi,
    ann: FakeUser,
    database_url: str,
    mini_cards: Path,
    code: int,
    parameters: dict[str, int] | None,
) -> None:
    with running_bot(api, database_url, mini_cards):
        api.fail_next("sendMessage", code, parameters=parameters)
        api.send_text(ann, "/help")
        assert "Commands" in (api.wait_for_message(ann, contains="Commands").text or "")


def test_persistent_server_errors_are_logged_and_the_bot_keeps_running(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    with running_bot(api, database_url, mini_cards) as bot:
        api.fail_next("sendMessage", 500, count=6)
        api.send_text(ann, "/help")
        # The reply and then the apology are each tried three times, and all six fail.
        api.wait_for(lambda: len(api.calls("sendMessage")) >= 6, timeout=20)
        api.clear_faults()
        api.send_text(ann, "/score")
        api.wait_for_message(ann, contains="your score")
        assert bot.running
        assert "Internal Server Error" in bot.logs()


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3])
def test_a_sigkill_while_an_answer_is_in_flight_loses_nothing_and_counts_once(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path, delay: float
) -> None:
    with running_bot(api, database_url, mini_cards) as bot:
        api.send_text(ann, "/quiz 2")
        question = api.wait_for_message(ann, contains="Question 1/2")
        api.send_text(ann, ANSWERS[question_text(question)])
        time.sleep(delay)
        bot.kill()
        bot.start(wait_for_polling=api)
        api.wait_for_message(ann, contains="Correct", timeout=20)
        api.send_text(ann, "/score")
        score = api.wait_for_message(ann, contains="your score", timeout=20)
        assert "Points: 10" in (score.text or "")
        assert "Answered: 1 " in (score.text or "")
