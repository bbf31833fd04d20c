"""The real bot process in group chats, against the fake Bot API, on SQLite and PostgreSQL.

Privacy mode is on, as for any bot without admin rights: the bot only hears commands and
replies to its own messages. Questions are short (QUIZBOT_MIN_QUESTION_SECONDS=2) so the
whole file stays quick.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from tests.e2e import ROOT, bot_env
from tests.fakebotapi import (
    BotProcess,
    ChatMessage,
    FakeBotApi,
    FakeChat,
    running_fake_bot_api,
)

pytestmark = pytest.mark.e2e

#: Two-point cards, so an answer can be full, partial or wrong whatever the card order.
DECK = {
    "deck": "Mini",
    "id": "mini",
    "cards": [
        {
            "id": "metrics",
            "question": "Which metric matters for training, and which for inference?",
            "points": [{"text": "throughput", "aliases": ["samples per second"]}, "latency"],
        },
        {
            "id": "allreduce",
            "question": "Name the two phases of ring AllReduce.",
            "points": ["reduce-scatter", "all-gather"],
        },
        {
            "id": "memory",
            "question": "What limits the batch size on one accelerator, and what speeds it up?",
            "points": ["memory", "bandwidth"],
        },
    ],
}
FULL = {
    "Which metric matters for training, and which for inference?": "throughput and latency",
    "Name the two phases of ring AllReduce.": "reduce-scatter then all-gather",
    "What limits the batch size on one accelerator, and what speeds it up?": "memory, bandwidth",
}
PARTIAL = {
    "Which metric matters for training, and which for inference?": "latency",
    "Name the two phases of ring AllReduce.": "all-gather",
    "What limits the batch size on one accelerator, and what speeds it up?": "memory",
}
REFERENCE = {
    card["question"]: [
        point if isinstance(point, str) else point["text"] for point in card["points"]
    ]
    for card in DECK["cards"]
}
FAST = {
    "QUIZBOT_MIN_QUESTION_SECONDS": "2",
    "QUIZBOT_GRACE_SECONDS": "1",
    "QUIZBOT_BREAK_SECONDS": "0.2",
}


@pytest.fixture
def cards(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(DECK), encoding="utf-8")
    return path


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


@contextmanager
def group_bot(api: FakeBotApi, database_url: str, cards: Path, **env: str) -> Iterator[BotProcess]:
    """The real bot with short questions; always stopped (its log is kept for failures)."""
    with BotProcess(bot_env(api, database_url, cards) | FAST | env, cwd=ROOT) as process:
        process.start(wait_for_polling=api)
        yield process


def question_of(message: ChatMessage) -> str:
    return next(line[2:] for line in (message.text or "").splitlines() if line.startswith("❓"))


def lines_of(message: ChatMessage) -> list[str]:
    return (message.text or "").splitlines()


def bot_messages(api: FakeBotApi, chat: FakeChat | int, contains: str) -> list[ChatMessage]:
    return [message for message in api.sent_messages(chat) if contains in (message.text or "")]


def test_a_group_plays_a_whole_challenge_answering_by_reply_and_by_slash_a(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann = api.add_user("Ann")
    bob = api.add_user("Bob", last_name="Stone")
    cy = api.add_user("<b>Cy</b> & Co")
    group = api.add_group("Study group", members=[ann, bob, cy])
    with group_bot(api, database_url, cards):
        # Long questions: a full answer closes each one after the grace, and the speed
        # bonuses are exact (5 for a full answer within 6 s, 2 for a half one within 24 s).
        api.send_text(ann, "/challenge 2 60", chat=group)
        intro = api.wait_for_message(group, contains="Group challenge!")
        assert "2 questions, 60 s each" in (intro.text or "")
        assert "reply" in (intro.text or "") and "/a" in (intro.text or "")
        first = api.wait_for_message(group, contains="Question 1/2")
        assert "60 s left" in (first.text or "")

        # Bob replies to the question (a partial answer), Ann uses /a (a full one), and
        # Bob's second try is refused.
        api.send_text(bob, PARTIAL[question_of(first)], chat=group, reply_to=first)
        api.send_text(ann, f"/a {FULL[question_of(first)]}", chat=group)
        api.send_text(bob, f"/a {FULL[question_of(first)]}", chat=group)
        refused = api.wait_for_message(group, contains="Only your first answer counts")
        bobs_second = [m for m in api.messages(group) if m.sender_id == bob.id][-1]
        assert refused.reply_to_message_id == bobs_second.message_id

        results = api.wait_for_message(group, contains="Question 1/2 — ⚡ answered")
        text = lines_of(results)
        assert "✅ Ann +17 full (10 +5 speed +2 ⚡first)" in text
        assert "🟡 Bob Stone +7 partial (5 +2 speed)" in text
        assert all(f"• {point}" in text for point in REFERENCE[question_of(first)])
        assert text[-3:] == ["Top 5", "1. Ann — 17 pts", "2. Bob Stone — 7 pts"]

        second = api.wait_for_message(group, contains="Question 2/2")
        api.send_text(cy, FULL[question_of(second)], chat=group, reply_to=second)
        api.send_text(ann, f"/a {FULL[question_of(second)]}", chat=group)
        api.send_text(bob, "/a no idea, sorry", chat=group)
        results = api.wait_for_message(group, contains="Question 2/2 — ⚡ answered")
        assert "✅ <b>Cy</b> & Co +17 full (10 +5 speed +2 ⚡first)" in lines_of(results)
        assert "&lt;b&gt;Cy&lt;/b&gt; &amp; Co" in (results.html or "")
        assert "✅ Ann +16 full (10 +5 speed +1 streak)" in lines_of(results)
        assert "❌ Bob Stone +0 wrong" in lines_of(results)

        final = api.wait_for_message(group, contains="Challenge over!")
        text = lines_of(final)
        assert text[3:6] == [
            "🥇 Ann — 33 pts",
            "🥈 <b>Cy</b> & Co — 17 pts",
            "🥉 Bob Stone — 7 pts",
        ]
        assert "👥 Participants: 3" in text
        assert f"🧠 Hardest card: {question_of(second)} (average 67%)" in text
        assert len(bot_messages(api, group, "Question 1/2 —")) == 1  # closed and posted once

        api.set_member_status(group, cy, "left")  # players who left still count
        api.send_text(bob, "/leaderboard", chat=group)
        board = api.wait_for_message(group, contains="Leaderboard — all time")
        assert lines_of(board)[2:5] == [
            "🥇 Ann — 33 pts",
            "🥈 <b>Cy</b> & Co — 17 pts",
            "🥉 Bob Stone — 7 pts",
        ]
        assert board.button_texts == ["• All time", "This week", "Today"]
        api.click_button(bob, board, "Today", chat=group)
        today = api.wait_for_edit(group, board, contains="Leaderboard — today")
        assert today.button_texts == ["All time", "This week", "• Today"]
        assert "🥇 Ann — 33 pts" in lines_of(today)

        api.send_text(bob, "/score", chat=group)
        score = api.wait_for_message(group, contains="Bob Stone")
        assert "#3 of 3 in this chat with 7 pts" in (score.text or "")
        assert str(bob.id) not in (score.text or "") + (board.text or "") + (final.text or "")

        api.send_text(ann, "/leaderboard")  # in private: where challenges happen, and her groups
        private = api.wait_for_message(ann, contains="group chats")
        assert "Study group — #1 of 3, 33 pts" in (private.text or "")


def test_a_question_nobody_answers_times_out_and_only_the_starter_or_an_admin_can_stop(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann, bob, carol = api.add_user("Ann"), api.add_user("Bob"), api.add_user("Carol")
    group = api.add_group("Study group", members=[ann, bob], admins=[carol])
    with group_bot(api, database_url, cards):
        api.send_text(ann, "/challenge 1 2", chat=group)
        question = api.wait_for_message(group, contains="Question 1/1")
        shown = time.monotonic()
        results = api.wait_for_message(group, contains="Question 1/1 — ⏱ time's up")
        assert time.monotonic() - shown >= 1.5
        assert "Nobody answered this one." in lines_of(results)
        final = api.wait_for_message(group, contains="Challenge over!")
        assert "Nobody scored this time." in lines_of(final)
        assert "👥 Participants: 0" in lines_of(final)
        api.send_text(bob, "latency", chat=group, reply_to=question)
        assert "That question has closed" in (api.wait_for_message(group, contains="⏱").text or "")

        api.send_text(bob, "/challenge 50", chat=group)
        assert "1 to 30 questions" in (
            api.wait_for_message(group, contains="Use /challenge").text or ""
        )
        api.send_text(bob, "/challenge 2 <b>biology</b>", chat=group)
        unknown = api.wait_for_message(group, contains="There is no deck called").text or ""
        assert "“<b>biology</b>”" in unknown  # the user's text, shown as text

        api.send_text(ann, "/challenge 3 60", chat=group)
        api.wait_for_message(group, contains="Question 1/3")
        api.send_text(bob, "/challenge", chat=group)
        api.wait_for_message(group, contains="already running here (started by Ann)")
        checks = len(api.calls("getChatMember"))
        api.send_text(bob, "/stop", chat=group)
        refused = api.wait_for_message(group, contains="can stop this challenge")
        assert "Only Ann (who started it) or a chat admin" in (refused.text or "")
        assert len(api.calls("getChatMember")) == checks + 1
        api.send_text(carol, "/stop", chat=group)
        stopped = api.wait_for_message(group, contains="Challenge stopped")
        assert "Challenge stopped by Carol after 1 of 3 questions." in (stopped.text or "")
        api.send_text(ann, "/stop", chat=group)
        api.wait_for_message(group, contains="No challenge is running")


def test_fifty_players_answering_within_a_second_are_all_graded_once(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    players = [api.add_user(f"Player {number:02d}") for number in range(50)]
    group = api.add_group("Big class", members=players)
    with group_bot(api, database_url, cards, QUIZBOT_GRACE_SECONDS="2"):
        api.send_text(players[0], "/challenge 1 30", chat=group)
        question = api.wait_for_message(group, contains="Question 1/1")
        answers = [FULL, PARTIAL, {}]  # every third is full, partial, wrong ("bananas")
        # The full answers go last: the first of them opens the 2-second grace window, which
        # must only cover the handling of the full answers behind it.
        order = sorted(range(50), key=lambda number: number % 3 == 0)
        started = time.monotonic()
        for number in order:
            text = answers[number % 3].get(question_of(question), "bananas")
            api.send_text(players[number], text, chat=group, reply_to=question)
        assert time.monotonic() - started < 1.0
        results = api.wait_for_message(group, contains="Question 1/1 —", timeout=20)
        graded = [
            line for line in lines_of(results) if re.match(r"^(✅|🟡|❌) Player \d\d \+", line)
        ]
        assert len(graded) == 50
        assert {line.split()[2] for line in graded} == {f"{n:02d}" for n in range(50)}
        assert sum("⚡first" in line for line in graded) == 1
        assert [line[0] for line in graded].count("✅") == 17
        final = api.wait_for_message(group, contains="Challenge over!")
        assert "👥 Participants: 50" in lines_of(final)
        assert len(bot_messages(api, group, "Question 1/1 —")) == 1
        assert not bot_messages(api, group, "Only your first answer counts")
        # The standings add up: the leaderboard's total is the sum of the points given.
        given = sum(int(re.search(r" \+(\d+) ", line).group(1)) for line in graded)
        api.send_text(players[1], "/leaderboard", chat=group)
        board = api.wait_for_message(group, contains="Leaderboard")
        assert "… 50 players in all" in lines_of(board)
        top = [
            int(found.group(1))
            for line in lines_of(board)
            if (found := re.search(r"— (\d+) pts$", line))
        ]
        assert top[0] == 17 and given == 17 + 16 * 15 + 17 * 7  # first, other full, partial


def test_a_restart_mid_challenge_resumes_and_closes_an_overdue_question_at_once(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann, bob = api.add_user("Ann"), api.add_user("Bob")
    group = api.add_group("Study group", members=[ann, bob])
    with group_bot(api, database_url, cards) as bot:
        api.send_text(ann, "/challenge 2 3", chat=group)
        first = api.wait_for_message(group, contains="Question 1/2")
        shown = time.monotonic()
        api.send_text(bob, PARTIAL[question_of(first)], chat=group, reply_to=first)
        api.wait_until_updates_consumed()
        bot.stop()
        assert bot.returncode == 0
        assert not bot_messages(api, group, "Question 1/2 —")
        time.sleep(max(0.0, shown + 3.5 - time.monotonic()))  # the deadline passes while down

        bot.start(wait_for_polling=api)
        restarted = time.monotonic()
        results = api.wait_for_message(group, contains="Question 1/2 —")
        assert time.monotonic() - restarted < 5  # closed at once, not a question time later
        # Bob's answer, given before the restart, is there (its speed bonus depends on timing).
        assert any(
            re.fullmatch(r"🟡 Bob \+[67] partial \(5 \+[12] speed\)", line)
            for line in lines_of(results)
        )
        second = api.wait_for_message(group, contains="Question 2/2")
        api.send_text(ann, FULL[question_of(second)], chat=group, reply_to=second)
        final = api.wait_for_message(group, contains="Challenge over!")
        assert "👥 Participants: 2" in lines_of(final)
        assert len(bot_messages(api, group, "Question 1/2 —")) == 1
        assert "resuming challenge" in bot.logs()


def test_a_group_upgraded_to_a_supergroup_keeps_its_challenge_and_scores(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann, bob = api.add_user("Ann"), api.add_user("Bob")
    group = api.add_group("Study group", members=[ann, bob])
    with group_bot(api, database_url, cards) as bot:
        api.send_text(ann, "/challenge 2 60", chat=group)
        first = api.wait_for_message(group, contains="Question 1/2")
        api.send_text(bob, PARTIAL[question_of(first)], chat=group, reply_to=first)
        api.wait_until_updates_consumed()

        upgraded = api.call_count()
        supergroup = api.migrate_chat(group)
        reposted = api.wait_for_message(supergroup, contains="now a supergroup")
        assert question_of(reposted) == question_of(first)
        api.send_text(ann, FULL[question_of(first)], chat=supergroup, reply_to=reposted)
        results = api.wait_for_message(supergroup, contains="Question 1/2 — ⚡ answered")
        assert "✅ Ann +17 full (10 +5 speed +2 ⚡first)" in lines_of(results)
        assert "🟡 Bob +7 partial (5 +2 speed)" in lines_of(results)
        api.wait_for_message(supergroup, contains="Question 2/2")
        api.send_text(ann, "/stop", chat=supergroup)
        stopped = api.wait_for_message(supergroup, contains="Challenge stopped by Ann")
        assert lines_of(stopped)[3:5] == ["🥇 Ann — 17 pts", "🥈 Bob — 7 pts"]

        api.send_text(bob, "/leaderboard", chat=supergroup)
        board = api.wait_for_message(supergroup, contains="Leaderboard")
        assert lines_of(board)[2:4] == ["🥇 Ann — 17 pts", "🥈 Bob — 7 pts"]
        after_upgrade = [call.params.get("chat_id") for call in api.calls()[upgraded:]]
        assert str(group.id) not in after_upgrade  # everything went to the supergroup
        assert "moved from chat" in bot.logs()


def test_a_send_to_a_group_upgraded_while_the_bot_was_down_follows_it_to_the_supergroup(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann, bob = api.add_user("Ann"), api.add_user("Bob")
    group = api.add_group("Study group", members=[ann, bob])
    with group_bot(api, database_url, cards) as bot:
        api.send_text(ann, "/challenge 1 2", chat=group)
        first = api.wait_for_message(group, contains="Question 1/1")
        shown = time.monotonic()
        api.send_text(bob, PARTIAL[question_of(first)], chat=group, reply_to=first)
        api.wait_until_updates_consumed()
        bot.stop()
        supergroup = api.migrate_chat(group)
        time.sleep(max(0.0, shown + 2.2 - time.monotonic()))  # the deadline passes while down

        # Hold the bot's first poll, so it posts the overdue results before it hears of the
        # upgrade: that send fails with "group chat was upgraded" (ChatMigrated).
        api.delay_next("getUpdates", 1.0)
        restarted = api.call_count()
        bot.start(wait_for_polling=api)
        results = api.wait_for_message(supergroup, contains="Question 1/1 —")
        assert any(line.startswith("🟡 Bob +") for line in lines_of(results))
        final = api.wait_for_message(supergroup, contains="Challenge over!")
        assert "👥 Participants: 1" in lines_of(final)
        to_old = [
            call for call in api.calls()[restarted:] if call.params.get("chat_id") == str(group.id)
        ]
        assert [(call.method, call.status) for call in to_old] == [("sendMessage", 400)]
        assert "moved from chat" in bot.logs()


def test_a_removed_bot_ends_the_challenge_cleanly_and_stops_writing(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann, bob = api.add_user("Ann"), api.add_user("Bob")
    kicked = api.add_group("Kicked group", members=[ann, bob])
    silent = api.add_group("Silent group", members=[ann, bob])
    with group_bot(api, database_url, cards) as bot:
        for group in (kicked, silent):
            api.send_text(ann, "/challenge 3 2", chat=group)
            api.wait_for_message(group, contains="Question 1/3")

        shown = time.monotonic()
        # Removed with the my_chat_member update Telegram sends...
        api.remove_bot_from_chat(kicked, by=ann)
        # ...and removed without the bot hearing of it: its next message gets 403 Forbidden.
        api.set_bot_status(silent, "left", notify=False)

        def sends(group: FakeChat) -> list[bool]:
            return [
                call.ok
                for call in api.calls("sendMessage")
                if call.params.get("chat_id") == str(group.id)
            ]

        api.wait_for(lambda: f"in chat {kicked.id} ended: the bot was removed" in bot.logs())
        api.wait_for(lambda: sends(silent) == [True, True, False])  # the results, refused
        api.wait_for(lambda: f"in chat {silent.id} ended: Telegram refused with 403" in bot.logs())
        time.sleep(max(1.0, shown + 3.0 - time.monotonic()))  # past both deadlines: no retries
        assert sends(kicked) == [True, True]  # the intro and question 1, nothing after
        assert sends(silent) == [True, True, False]
        assert bot.running
        api.send_text(ann, "/start")  # the bot carries on elsewhere
        api.wait_for_message(ann, contains="Hi Ann")


def test_only_a_group_admin_sets_how_long_the_question_of_the_day_stays_open(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann, carol = api.add_user("Ann"), api.add_user("Carol")
    group = api.add_group("Study group", members=[ann], admins=[carol])
    with group_bot(api, database_url, cards):
        api.send_text(ann, "/settings hours 3", chat=group)
        api.wait_for_message(group, contains="Only the group's admins")
        api.send_text(carol, "/settings new 5", chat=group)
        api.wait_for_message(group, contains="/settings hours N")
        api.send_text(carol, "/settings hours <b>99</b>", chat=group)
        api.wait_for_message(group, contains="whole hours from 1 to 24")
        api.send_text(carol, "/settings hours 3", chat=group)
        api.wait_for_message(group, contains="stay open for 3 h")
        api.send_text(carol, "/settings", chat=group)
        assert "Question of the day stays open: 3 h" in (
            api.wait_for_message(group, contains="stays open").text or ""
        )
        api.send_text(carol, "/settings hours off", chat=group)
        api.wait_for_message(group, contains="stay open until the next one")
