"""Webhook mode: the real bot behind Telegram's POSTs, its secret check, health, and replicas."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e import ANSWERS, PUBLIC_URL, ROOT, SECRET, free_port, question_text, webhook_env
from tests.fakebotapi import BotProcess, ChatMessage, FakeBotApi, FakeUser

pytestmark = pytest.mark.e2e


@contextmanager
def webhook_bot(
    api: FakeBotApi, database_url: str, cards: Path, port: int, **extra: str
) -> Iterator[BotProcess]:
    env = webhook_env(api, database_url, cards, port, **extra)
    with BotProcess(env, cwd=ROOT) as process:
        mark = api.call_count()
        process.start()
        api.wait_for_call("setWebhook", after=mark, timeout=30)
        yield process


def local_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/telegram-hook"


def test_in_webhook_mode_updates_arrive_by_post_and_the_bot_answers(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    port = free_port()
    with webhook_bot(api, database_url, mini_cards, port):
        info = api.webhook_info()
        assert info is not None
        assert info["url"] == PUBLIC_URL
        assert info["secret_token"] == SECRET
        api.route_webhook_to(local_url(port))
        api.send_text(ann, "/quiz 1")
        question = api.wait_for_message(ann, contains="Question 1/1", timeout=20)
        api.send_text(ann, ANSWERS[question_text(question)])
        assert "+10 points" in (api.wait_for_message(ann, contains="Correct").text or "")
        assert not api.calls("getUpdates")


@pytest.mark.parametrize("header", [None, "wrong", SECRET + "x", ""])
def test_the_webhook_refuses_a_request_without_the_right_secret(
    api: FakeBotApi, database_url: str, mini_cards: Path, header: str | None
) -> None:
    port = free_port()
    with webhook_bot(api, database_url, mini_cards, port):
        headers = {} if header is None else {"X-Telegram-Bot-Api-Secret-Token": header}
        response = httpx.post(local_url(port), json={"update_id": 1}, headers=headers)
        assert response.status_code == 403


def test_the_webhook_rejects_malformed_updates_and_stays_up(
    api: FakeBotApi, ann: FakeUser, database_url: str, mini_cards: Path
) -> None:
    port = free_port()
    with webhook_bot(api, database_url, mini_cards, port) as bot:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        bad = httpx.post(local_url(port), content=b"{not json", headers=headers)
        assert bad.status_code == 400
        api.route_webhook_to(local_url(port))
        api.send_text(ann, "/help")
        api.wait_for_message(ann, contains="Commands", timeout=20)
        assert bot.running


def test_healthz_reports_the_database(api: FakeBotApi, database_url: str, mini_cards: Path) -> None:
    port = free_port()
    with webhook_bot(api, database_url, mini_cards, port):
        response = httpx.get(f"http://127.0.0.1:{port}/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}


def test_two_replicas_on_one_postgres_database_lose_and_duplicate_nothing(
    api: FakeBotApi, fresh_postgres_url: str, mini_cards: Path
) -> None:
    """Updates are spread over two bot processes, as a load balancer would; a round played
    across both counts every answer exactly once, even when one update reaches both."""
    users = [api.add_user(f"Student{i}") for i in range(4)]
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            stack.enter_context(webhook_bot(api, fresh_postgres_url, mini_cards, port))
        turn = 0

        def deliver_next(user: FakeUser, text: str) -> int | None:
            nonlocal turn
            api.route_webhook_to(local_url(ports[turn % 2]))
            turn += 1
            update_id = api.send_text(user, text)
            api.wait_until_updates_consumed(timeout=20)
            return update_id

        for user in users:
            deliver_next(user, "/quiz 3")
            question = api.wait_for_message(user, contains="Question 1/3", timeout=20)
            for number in range(1, 4):
                update_id = deliver_next(user, ANSWERS[question_text(question)])
                feedback = api.wait_for_message(user, contains="Correct", timeout=20)
                assert update_id is not None
                # The same update reaches the other replica too: it must not count again.
                api.route_webhook_to(local_url(ports[turn % 2]))
                api.redeliver(update_id)
                api.wait_until_updates_consumed(timeout=20)
                label = "Finish round" if number == 3 else "Next"
                api.route_webhook_to(local_url(ports[turn % 2]))
                turn += 1
                api.click_button(user, feedback, label)
                if number < 3:
                    question = api.wait_for_message(
                        user, contains=f"Question {number + 1}/3", timeout=20
                    )
            api.wait_for_message(user, contains="Round over", timeout=20)
            deliver_next(user, "/score")
            score = api.wait_for_message(user, contains="your score", timeout=20)
            assert "Points: 30" in (score.text or "")
            assert "Answered: 3 " in (score.text or "")
        time.sleep(0.2)


#: Short questions and pauses, and a short posting lease, so that a replica that lost a race
#: to post wakes up (and would post again if the claims let it) well within the test.
FAST_GROUPS = {
    "QUIZBOT_MIN_QUESTION_SECONDS": "2",
    "QUIZBOT_GRACE_SECONDS": "1",
    "QUIZBOT_BREAK_SECONDS": "0.2",
    "QUIZBOT_POSTING_LEASE_SECONDS": "3",
}


def test_a_group_challenge_across_two_replicas_posts_every_message_exactly_once(
    api: FakeBotApi, fresh_postgres_url: str, mini_cards: Path
) -> None:
    """The answers of a group challenge are spread over two bot processes on one database:
    both keep close jobs and drive the challenge, yet each question, each question's results
    and the final standings are sent once."""
    players = [api.add_user(f"Player{i}") for i in range(4)]
    group = api.add_group("Study group", members=players)
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        bots = [
            stack.enter_context(
                webhook_bot(api, fresh_postgres_url, mini_cards, port, **FAST_GROUPS)
            )
            for port in ports
        ]
        turn = 0

        def deliver(user: FakeUser, text: str, reply_to: ChatMessage | None = None) -> None:
            nonlocal turn
            api.route_webhook_to(local_url(ports[turn % 2]))
            turn += 1
            api.send_text(user, text, chat=group, reply_to=reply_to)
            api.wait_until_updates_consumed(timeout=20)

        deliver(players[0], "/challenge 3 4")
        for number in range(1, 4):
            question = api.wait_for_message(
                group, predicate=lambda m, n=number: f"Question {n}/3" in lines(m), timeout=30
            )
            for index, player in enumerate(players):
                # Replies and /a alternate too; on question 2 the last answer is a full one,
                # which starts the grace (the others are in before it).
                full = number == 2 and index == len(players) - 1
                text = ANSWERS[question_text(question)] if full else "bananas"
                if index % 2:
                    deliver(player, text, reply_to=question)
                else:
                    deliver(player, f"/a {text}")
            results = api.wait_for_message(group, contains=f"Question {number}/3 —", timeout=30)
            graded = [line for line in lines(results) if line.startswith(("✅", "❌"))]
            assert len(graded) == 4, results.text
        final = api.wait_for_message(group, contains="Challenge over!", timeout=30)
        assert "👥 Participants: 4" in lines(final)
        time.sleep(float(FAST_GROUPS["QUIZBOT_POSTING_LEASE_SECONDS"]) + 1.5)  # losers wake up

        sent = [
            call.params.get("text") or ""
            for call in api.calls("sendMessage")
            if call.params.get("chat_id") == str(group.id) and call.ok
        ]
        for number in range(1, 4):
            assert sum(text.startswith(f"<b>Question {number}/3</b>\n") for text in sent) == 1
            assert sum(text.startswith(f"<b>Question {number}/3</b> — ") for text in sent) == 1
        assert sum("Challenge over!" in text for text in sent) == 1
        assert sum("Group challenge!" in text for text in sent) == 1
        # No answer was refused (each counted once, in time, whichever replica had it).
        assert not [text for text in sent if "Only your first answer counts" in text]
        assert not [text for text in sent if "Too late" in text]
        assert all(bot.running for bot in bots)


def lines(message: ChatMessage) -> list[str]:
    return (message.text or "").splitlines()
