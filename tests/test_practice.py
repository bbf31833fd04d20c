"""``quizbot practice`` driven through stdin, as a student in a terminal would use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.e2e import MINI_DECK

ROOT = Path(__file__).resolve().parents[1]


def practise(tmp_path: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    deck = tmp_path / "mini.yaml"
    deck.write_text(yaml.safe_dump(MINI_DECK), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", "practice", "--deck", str(deck), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )


def test_a_practice_round_grades_typed_answers_and_keeps_history(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    # Card order is random, so one answer names every card's points; Enter moves on.
    stdin = "latency, thruput; compute fwd/bwd then reduce-scatter and all-gather\n\n" * 3
    result = practise(tmp_path, stdin, "-n", "3", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Question ") == 3
    assert result.stdout.count("✅ Correct") == 3
    assert "Points: 30 of 30" in result.stdout
    assert "Traceback" not in result.stderr
    again = practise(tmp_path, ":stop\n", "-n", "1", "--db", str(db))
    assert again.returncode == 0, again.stderr
    assert "All time: 30 points, 3 answered, 100% accuracy" in again.stdout


def test_practice_hints_skips_and_i_was_right_work_from_the_keyboard(tmp_path: Path) -> None:
    stdin = ":hint\nsomething vague\n:right\n\n:skip\n:show\n:stop\n"
    result = practise(tmp_path, stdin, "-n", "3", "--db", str(tmp_path / "h.db"))
    assert result.returncode == 0, result.stderr
    assert "💡" in result.stdout
    assert "Counted as correct" in result.stdout
    assert "counted as wrong" in result.stdout
    assert "Round over" in result.stdout


def test_practice_ends_cleanly_when_input_runs_out(tmp_path: Path) -> None:
    result = practise(tmp_path, "", "-n", "2", "--db", str(tmp_path / "e.db"))
    assert result.returncode == 0, result.stderr
    assert "Round over" in result.stdout


def test_practice_on_a_broken_deck_lists_the_problems_without_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("deck: x\nid: x\ncards:\n  - id: a\n    question: [unclosed\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "practice", "--deck", str(broken)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "broken.yaml" in result.stderr
    assert "Traceback" not in result.stderr
