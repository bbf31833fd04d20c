"""``quizbot run`` as an operator meets it: missing token, unreachable database, quiet logs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e import bot_env, running_bot
from tests.fakebotapi import FakeBotApi

ROOT = Path(__file__).resolve().parents[1]


def run_quizbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=60,
        check=False,
    )


def test_without_a_token_run_explains_how_to_get_one_and_exits_without_a_traceback() -> None:
    result = run_quizbot({}, "run")
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "quizbot practice" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_at_start_up_is_a_clear_error_and_exit_code(
    api: FakeBotApi,
) -> None:
    env = bot_env(api, "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    result = run_quizbot(env, "run")
    assert result.returncode == 3
    assert "cannot use the database at postgresql+asyncpg://postgres@127.0.0.1:1/nowhere" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_broken_card_bank_stops_start_up_with_the_problems_listed(
    api: FakeBotApi, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("deck: x\nid: x\ncards: [\n")
    env = bot_env(api, f"sqlite+aiosqlite:///{tmp_path / 'q.db'}", cards=broken)
    result = run_quizbot(env, "run")
    assert result.returncode == 1
    assert "broken.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_flags_override_the_environment(api: FakeBotApi, tmp_path: Path) -> None:
    env = bot_env(api, "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    env["TELEGRAM_BOT_TOKEN"] = "0:wrong"
    result = run_quizbot(
        env,
        "run",
        "--token",
        api.token,
        "--database-url",
        "postgresql+asyncpg://postgres@127.0.0.1:2/flag",
    )
    assert result.returncode == 3
    assert "127.0.0.1:2/flag" in result.stderr


def test_the_log_has_one_line_per_update_and_never_the_token(
    api: FakeBotApi, tmp_path: Path
) -> None:
    ann = api.add_user("Ann")
    with running_bot(api, f"sqlite+aiosqlite:///{tmp_path / 'q.db'}") as bot:
        first = api.send_text(ann, "/help")
        api.wait_for_message(ann, contains="Commands")
        second = api.send_text(ann, "/score")
        api.wait_for_message(ann, contains="your score")
        bot.stop()
        logs = bot.logs()
    assert api.token not in logs
    assert api.token.split(":")[1] not in logs
    for update_id in (first, second):
        assert sum(f"update {update_id} " in line for line in logs.splitlines()) == 1


def test_a_token_telegram_rejects_gives_a_clear_error_that_does_not_echo_it(
    api: FakeBotApi, tmp_path: Path
) -> None:
    env = bot_env(api, f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    env["TELEGRAM_BOT_TOKEN"] = "999999:NOT-the-right-token"
    result = run_quizbot(env, "run")
    assert result.returncode == 2
    assert "rejected the bot token" in result.stderr
    assert "NOT-the-right-token" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
