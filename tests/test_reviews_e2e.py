"""Reminders, /due, /stats and practise-ahead end to end: the real bot process against the fake
Bot API, on SQLite and PostgreSQL.

The bot's clock is shifted with ``QUIZBOT_CLOCK_OFFSET_SECONDS`` so that a reminder falls due a
few seconds after start-up while the real JobQueue schedules it; reminders, users and card
states are seeded straight into the database through the repository.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.core.reminders import ReminderSpec
from bot.core.scheduling import Rating, make_scheduler, review
from bot.decks.loader import load_deck
from bot.services.quiz import QuizService
from bot.services.review import ReviewService, SpacedRepetition
from bot.storage.base import Store, UserProfile
from bot.storage.review import ReviewRepo, reminder_sends, reminders
from tests.e2e import ROOT, bot_env
from tests.fakebotapi import (
    BotProcess,
    ChatMessage,
    FakeBotApi,
    FakeChat,
    FakeUser,
    running_fake_bot_api,
)

pytestmark = pytest.mark.e2e

DECK = {
    "deck": "Mini",
    "id": "mini",
    "cards": [
        {"id": "latency", "question": "What matters most for inference?", "points": ["latency"]},
        {
            "id": "throughput",
            "question": "What matters most for training?",
            "points": ["throughput"],
            "tags": ["training"],
        },
        {
            "id": "allreduce",
            "question": "Name the two steps of ring AllReduce.",
            "points": ["reduce-scatter", "all-gather"],
            "tags": ["collectives"],
        },
    ],
}
ANSWERS = {
    "What matters most for inference?": "latency",
    "What matters most for training?": "throughput",
    "Name the two steps of ring AllReduce.": "reduce-scatter then all-gather",
}
#: Reminders in these tests fire at 09:00 UTC on Tuesday 1 December 2026.
FIRE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def cards(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(DECK), encoding="utf-8")
    return path


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


def offset_to(bot_now: datetime) -> str:
    """The clock offset that makes the bot's clock read ``bot_now`` at this moment."""
    return f"{(bot_now - datetime.now(UTC)).total_seconds():.3f}"


def bot_process(api: FakeBotApi, database_url: str, cards: Path, bot_now: datetime) -> BotProcess:
    env = bot_env(api, database_url, cards)
    env["QUIZBOT_FSRS_FUZZ"] = "0"
    env["QUIZBOT_CLOCK_OFFSET_SECONDS"] = offset_to(bot_now)
    return BotProcess(env, cwd=ROOT)


def question_text(message: ChatMessage) -> str:
    return next(line[2:] for line in (message.text or "").splitlines() if line.startswith("❓"))


# --- seeding and reading the database from the test ---------------------------------------


async def _with_service(database_url: str, cards: Path, work) -> object:
    store = await Store.open(database_url)
    try:
        quiz = QuizService(store, [load_deck(cards)], spaced=SpacedRepetition(fuzzing=False))
        return await work(ReviewService(store, quiz), store)
    finally:
        await store.close()


def seed_reminder(
    database_url: str,
    cards: Path,
    user: FakeUser,
    at: datetime,
    *,
    due_card: str | None = None,
    group: FakeChat | None = None,
) -> None:
    """A reminder at ``at`` (set a day earlier by ``user``), optionally with a card overdue.

    Private unless ``group`` is given, where ``user`` is the admin who set it.
    """

    async def work(service: ReviewService, store: Store) -> None:
        profile = UserProfile(user_id=user.id, first_name=user.first_name)
        await service.set_reminder(
            chat_id=user.id if group is None else group.id,
            chat_type="private" if group is None else "group",
            user=profile,
            spec=ReminderSpec(clock_time(at.hour, at.minute)),
            now=at - timedelta(days=1),
        )
        if due_card is not None:
            async with store.transaction() as tx:
                reviewed = at - timedelta(days=3)
                state = review(make_scheduler(fuzzing=False), None, Rating.Again, reviewed)
                await ReviewRepo(tx).save_card_state(
                    user.id, "mini", due_card, state, reviewed, reps=1, lapses=0
                )

    asyncio.run(_with_service(database_url, cards, work))


def send_statuses(database_url: str, cards: Path) -> dict[int, list[str]]:
    """Each chat's reminder send statuses, oldest first."""

    async def work(service: ReviewService, store: Store) -> dict[int, list[str]]:
        async with store.transaction() as tx:
            result = await tx.conn.execute(
                select(reminders.c.chat_id, reminder_sends.c.status)
                .join(reminders, reminders.c.reminder_id == reminder_sends.c.reminder_id)
                .order_by(reminder_sends.c.send_id)
            )
            statuses: dict[int, list[str]] = {}
            for row in result:
                statuses.setdefault(row.chat_id, []).append(row.status)
            return statuses

    return asyncio.run(_with_service(database_url, cards, work))  # type: ignore[return-value]


def reminder_enabled(database_url: str, cards: Path, chat_id: int) -> tuple[bool, str | None]:
    async def work(service: ReviewService, store: Store) -> tuple[bool, str | None]:
        view = await service.reminder(chat_id)
        assert view is not None
        return view.enabled, view.disabled_reason

    return asyncio.run(_with_service(database_url, cards, work))  # type: ignore[return-value]


def reminders_received(api: FakeBotApi, user: FakeUser) -> list[ChatMessage]:
    return [
        message for message in api.sent_messages(user) if "Time to review" in (message.text or "")
    ]


# --- the tests ----------------------------------------------------------------------------


def test_remind_timezone_settings_and_due_explain_themselves_and_refuse_bad_input(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann = api.add_user("Ann", username="ann")
    with bot_process(api, database_url, cards, FIRE) as bot:
        bot.start(wait_for_polling=api)
        assert {"due", "stats", "remind", "timezone", "settings"} <= {
            command["command"] for command in api.commands
        }
        api.send_text(ann, "/remind")
        assert "No daily reminder" in (api.wait_for_message(ann).text or "")
        api.send_text(ann, "/remind 25:00")
        assert "not a time of day" in (api.wait_for_message(ann).text or "")
        api.send_text(ann, "/remind 07:30 mon-fry")
        assert "not a day" in (api.wait_for_message(ann).text or "")

        api.send_text(ann, "/remind 07:30 mon-fri")
        set_reply = api.wait_for_message(ann, contains="Reminder set").text or ""
        assert "07:30 Mon–Fri" in set_reply
        assert "you have not set a time zone yet" in set_reply  # UTC until /timezone
        assert "Next: tomorrow at 07:30" in set_reply

        api.send_text(ann, "/timezone Europe/Berln")
        unknown = api.wait_for_message(ann).text or ""
        assert "don't know the time zone “Europe/Berln”" in unknown
        suggestions = [line for line in unknown.splitlines() if line.startswith("• /timezone ")]
        assert len(suggestions) == 3
        assert "• /timezone Europe/Berlin" in suggestions
        api.send_text(ann, "/timezone <b>&")
        assert "“<b>&”" in (api.wait_for_message(ann).text or "")  # escaped, not rendered

        api.send_text(ann, "/timezone europe/berlin")
        moved = api.wait_for_message(ann, contains="Time zone set").text or ""
        assert "Europe/Berlin" in moved and "next tomorrow at 07:30" in moved
        api.send_text(ann, "/remind")
        shown = api.wait_for_message(ann, contains="Your daily reminder").text or ""
        assert "Time zone: Europe/Berlin" in shown
        assert "Next: tomorrow at 07:30" in shown

        api.send_text(ann, "/settings new 500")
        assert "/settings new N" in (api.wait_for_message(ann).text or "")
        api.send_text(ann, "/settings new 15")
        assert "up to 15 new cards" in (api.wait_for_message(ann).text or "")
        api.send_text(ann, "/settings")
        settings = api.wait_for_message(ann, contains="Settings").text or ""
        assert "New cards per day: 15" in settings
        assert "Time zone: Europe/Berlin" in settings
        assert "Reminder: 07:30 Mon–Fri" in settings

        api.send_text(ann, "/due")
        due = api.wait_for_message(ann, contains="Due").text or ""
        assert "Due now: 0" in due and "New cards left today: 3" in due
        assert "Wed 2 Dec: 0" in due and "Tue 8 Dec: 0" in due  # the next seven days

        api.send_text(ann, "/stats")
        assert "No progress to show yet" in (api.wait_for_message(ann).text or "")

        api.send_text(ann, "/remind off")
        assert "Reminder off" in (api.wait_for_message(ann).text or "")
        api.send_text(ann, "/remind")
        assert "No daily reminder" in (api.wait_for_message(ann).text or "")


def test_a_due_reminder_brings_a_question_to_answer_by_typing_and_a_blocked_user_is_turned_off(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann = api.add_user("Ann", username="ann")
    bob = api.add_user("Bob", username="bob")
    seed_reminder(database_url, cards, ann, FIRE, due_card="allreduce")
    seed_reminder(database_url, cards, bob, FIRE)
    api.block_user(bob, notify=False)
    # Telegram's flood control answers the first reminder with 429 retry_after 1.
    api.fail_next("sendMessage", 429, parameters={"retry_after": 1})
    with bot_process(api, database_url, cards, FIRE - timedelta(seconds=4)) as bot:
        bot.start(wait_for_polling=api)
        reminder = api.wait_for_message(ann, contains="Time to review", timeout=20)
        text = reminder.text or ""
        assert "1 card due · 2 new cards for today" in text
        assert question_text(reminder) == "Name the two steps of ring AllReduce."  # the due one
        assert "▶️ Start review" in reminder.button_texts
        assert {"💡 Hint", "👀 Show answer", "⏭ Skip"} <= set(reminder.button_texts)
        assert any(call.status == 429 for call in api.calls("sendMessage"))

        api.send_text(ann, ANSWERS[question_text(reminder)])
        feedback = api.wait_for_message(ann, contains="Correct")
        assert "▶️ Next" in feedback.button_texts

        api.wait_for(
            lambda: reminder_enabled(database_url, cards, bob.id) == (False, "blocked"),
            timeout=15,
            description="Bob's reminder to be turned off",
        )
        assert "cannot be reached" in bot.logs()
        assert reminders_received(api, bob) == []
        assert send_statuses(database_url, cards) == {ann.id: ["sent"], bob.id: ["blocked"]}
        assert len(reminders_received(api, ann)) == 1


def test_a_user_who_blocks_the_bot_has_the_reminder_turned_off_at_once_and_no_send_is_tried(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann = api.add_user("Ann", username="ann")
    seed_reminder(database_url, cards, ann, FIRE)
    with bot_process(api, database_url, cards, FIRE - timedelta(hours=2)) as bot:
        bot.start(wait_for_polling=api)
        assert reminder_enabled(database_url, cards, ann.id) == (True, None)
        api.block_user(ann)  # Telegram tells the bot with a my_chat_member update
        api.wait_for(
            lambda: reminder_enabled(database_url, cards, ann.id) == (False, "blocked"),
            timeout=15,
            description="Ann's reminder to be turned off",
        )
        # The bot logs it after the change commits, so the log line may come a moment later.
        api.wait_for(lambda: "blocked the bot" in bot.logs(), timeout=5, description="the log line")
    assert send_statuses(database_url, cards) == {}
    assert api.calls("sendMessage") == []


def test_a_restart_between_claim_and_send_never_sends_twice_and_late_reminders_follow_the_rules(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann = api.add_user("Ann", username="ann")  # due at 09:00, after the restart
    bob = api.add_user("Bob", username="bob")  # due at 08:30: 28 minutes late at start-up
    cy = api.add_user("Cy", username="cy")  # due at 06:00: 3 hours late, skipped
    seed_reminder(database_url, cards, ann, FIRE)
    seed_reminder(database_url, cards, bob, FIRE - timedelta(minutes=30))
    seed_reminder(database_url, cards, cy, FIRE - timedelta(hours=3))
    api.delay_next("sendMessage", 5)  # Bob's reminder hangs in flight...
    # 08:58 on the bot's clock: Bob's reminder is 28 minutes late, Ann's two minutes away.
    with bot_process(api, database_url, cards, FIRE - timedelta(minutes=2)) as bot:
        mark = api.call_count()
        bot.start(wait_for_polling=api)
        api.wait_for_call(
            "sendMessage",
            lambda call: call.int_param("chat_id") == bob.id,
            after=mark,
            finished=False,
        )
        bot.kill()  # ...when the bot dies: claimed, maybe delivered, never confirmed
        assert send_statuses(database_url, cards)[bob.id] == ["claimed"]

        bot.env["QUIZBOT_CLOCK_OFFSET_SECONDS"] = offset_to(FIRE - timedelta(seconds=2))
        bot.start(wait_for_polling=api)
        api.wait_for_message(ann, contains="Time to review", timeout=20)
        api.wait_for(lambda: reminders_received(api, bob), description="the delayed message")
        api.send_text(bob, "/remind")
        assert "Next: tomorrow at 08:30" in (
            api.wait_for_message(bob, contains="reminder").text or ""
        )
        assert "not sent again" in bot.logs()

        bot.stop()  # one more restart: nothing is sent again
        bot.env["QUIZBOT_CLOCK_OFFSET_SECONDS"] = offset_to(FIRE + timedelta(minutes=1))
        bot.start(wait_for_polling=api)
        api.send_text(ann, "/remind")
        api.wait_for_message(ann, contains="Your daily reminder")
        time.sleep(0.5)

    assert [len(reminders_received(api, user)) for user in (ann, bob, cy)] == [1, 1, 0]
    statuses = send_statuses(database_url, cards)
    assert statuses == {ann.id: ["sent"], bob.id: ["unknown"], cy.id: ["missed"]}


def test_stats_sends_a_real_png_chart_and_quiz_offers_to_practise_ahead_when_all_caught_up(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ann = api.add_user("Ann", username="ann")
    with bot_process(api, database_url, cards, FIRE) as bot:
        bot.start(wait_for_polling=api)
        api.send_text(ann, "/settings new 2")
        api.wait_for_message(ann, contains="up to 2 new cards")
        api.send_text(ann, "/quiz")
        question = api.wait_for_message(ann, contains="Question 1/2")  # the daily limit
        for number in (1, 2):
            api.send_text(ann, ANSWERS[question_text(question)])  # right at once: Easy
            feedback = api.wait_for_message(ann, contains="Correct")
            api.click_button(ann, feedback, "Finish round" if number == 2 else "Next")
            if number == 1:
                question = api.wait_for_message(ann, contains="Question 2/2")
        api.wait_for_message(ann, contains="Round over")

        api.send_text(ann, "/quiz")
        offer = api.wait_for_message(ann, contains="All caught up")
        assert "Next card due:" in (offer.text or "")
        api.click_button(ann, offer, "Practise ahead")
        ahead = api.wait_for_message(ann, contains="Question 1/2")
        assert question_text(ahead) in ANSWERS

        mark = api.call_count()
        api.send_text(ann, "/stats")
        photo_call = api.wait_for_call("sendPhoto", after=mark, timeout=20)
        assert photo_call.ok
        photo = api.wait_for_message(ann, predicate=lambda message: message.kind == "photo")
        assert photo.upload is not None
        assert photo.upload.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(photo.upload) > 10_000
        assert "2 answers in the last 30 days" in (photo.caption or "")
        summary = api.wait_for_message(ann, contains="Your progress").text or ""
        assert "Daily streak: 1" in summary
        assert "Mastery by tag" in summary and "collectives" in summary
        assert "every card you tried, you got right" in summary
        assert bot.running


def test_a_group_question_of_the_day_is_answered_by_reply_and_scored_into_the_leaderboard(
    api: FakeBotApi, database_url: str, cards: Path
) -> None:
    ada = api.add_user("Ada", username="ada")
    ben = api.add_user("Ben", username="ben")
    group = api.add_group("Study group", members=[ben], admins=[ada])
    seed_reminder(database_url, cards, ada, FIRE, group=group)
    with bot_process(api, database_url, cards, FIRE - timedelta(seconds=3)) as bot:
        bot.start(wait_for_polling=api)
        api.send_text(ben, "/remind off", chat=group)
        assert "Only the group's admins" in (api.wait_for_message(group).text or "")

        daily = api.wait_for_message(group, contains="📅 Question of the day", timeout=20)
        assert "Reply to this message" in (daily.text or "")
        api.send_text(ben, ANSWERS[question_text(daily)], chat=group, reply_to=daily)
        graded = api.wait_for_message(group, contains="Ben").text or ""
        assert "Correct" in graded and "+10 points" in graded
        api.send_text(ben, "a second try", chat=group, reply_to=daily)
        assert "one try each" in (api.wait_for_message(group).text or "")
        api.send_text(ada, "/leaderboard", chat=group)
        board = api.wait_for_message(group, contains="Leaderboard").text or ""
        assert "Ben" in board and "10" in board
        api.send_text(ada, "/remind 09:00 mon-fri", chat=group)
        set_reply = api.wait_for_message(group, contains="Question of the day set").text or ""
        assert "09:00 Mon–Fri" in set_reply and "Next: tomorrow at 09:00" in set_reply

        # The next day's question closes this one, with the answer and who got it.
        bot.stop()
        bot.env["QUIZBOT_CLOCK_OFFSET_SECONDS"] = offset_to(FIRE + timedelta(days=1, seconds=-2))
        bot.start(wait_for_polling=api)
        closed = api.wait_for_message(group, contains="is closed", timeout=20).text or ""
        assert question_text(daily) in closed
        assert "✅ Ben +10" in closed
        following = api.wait_for_message(group, contains="📅 Question of the day", timeout=10)
        assert question_text(following) != question_text(daily)
    assert send_statuses(database_url, cards) == {group.id: ["sent", "sent"]}
