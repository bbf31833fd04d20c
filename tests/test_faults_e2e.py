"""Faults the bot must survive: the database going away mid-run, a locked SQLite file."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.e2e import ANSWERS, question_text, running_bot
from tests.fakebotapi import FakeBotApi, FakeUser
from tests.tcpproxy import tcp_proxy

pytestmark = pytest.mark.e2e


def test_a_database_outage_mid_run_gets_try_again_then_the_answer_counts_once(
    api: FakeBotApi, ann: FakeUser, fresh_postgres_url: str, mini_cards: Path
) -> None:
    real = make_url(fresh_postgres_url)
    with tcp_proxy(real.host or "127.0.0.1", real.port or 5432) as proxy:
        proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        with running_bot(api, proxied, mini_cards) as bot:
            api.send_text(ann, "/quiz 2")
            question = api.wait_for_message(ann, contains="Question 1/2")
            proxy.cut()
            api.send_text(ann, ANSWERS[question_text(question)])
            api.wait_for_message(ann, contains="try again in a moment", timeout=30)
            proxy.restore()
            feedback = api.wait_for_message(ann, contains="Correct", timeout=60)
            assert "+10 points" in (feedback.text or "")
            api.send_text(ann, "/score")
            score = api.wait_for_message(ann, contains="your score", timeout=30)
            assert "Points: 10" in (score.text or "")
            assert "Answered: 1 " in (score.text or "")
            assert bot.running
            texts = [message.text or "" for message in api.sent_messages(ann)]
            assert sum("try again in a moment" in text for text in texts) == 1


def test_a_sqlite_file_locked_by_another_process_for_a_while_only_delays_the_answer(
    api: FakeBotApi, ann: FakeUser, tmp_path: Path, mini_cards: Path
) -> None:
    path = tmp_path / "quizbot.db"
    with running_bot(api, f"sqlite+aiosqlite:///{path}", mini_cards):
        api.send_text(ann, "/quiz 1")
        question = api.wait_for_message(ann, contains="Question 1/1")
        locker = sqlite3.connect(path, timeout=1, check_same_thread=False)
        locker.execute("BEGIN EXCLUSIVE")
        released = threading.Event()

        def release_later() -> None:
            time.sleep(2)
            locker.rollback()
            locker.close()
            released.set()

        threading.Thread(target=release_later, daemon=True).start()
        api.send_text(ann, ANSWERS[question_text(question)])
        feedback = api.wait_for_message(ann, contains="Correct", timeout=30)
        assert released.is_set()
        assert "+10 points" in (feedback.text or "")
