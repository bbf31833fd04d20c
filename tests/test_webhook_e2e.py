"""Webhook mode: the real bot behind Telegram's POSTs, its secret check, health, and replicas."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e import ANSWERS, ROOT, bot_env, question_text
from tests.fakebotapi import BotProcess, FakeBotApi, FakeUser

pytestmark = pytest.mark.e2e

PUBLIC_URL = "https://quiz.example.test/telegram-hook"
SECRET = "s3cret-token_for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def webhook_bot(api: FakeBotApi, database_url: str, cards: Path, port: int) -> Iterator[BotProcess]:
    env = bot_env(api, database_url, cards) | {
        "WEBHOOK_URL": PUBLIC_URL,
        "WEBHOOK_SECRET": SECRET,
        "QUIZBOT_LISTEN": "127.0.0.1",
        "PORT": str(port),
    }
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
