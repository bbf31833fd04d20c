"""``quizbot check``: summaries, every problem listed, warnings, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.cli import main
from bot.decks.loader import BUNDLED_CARDS, CARDS_SETTING, load_deck
from bot.decks.tools import card_warnings

ROOT = Path(__file__).resolve().parents[1]
DECKS = Path(__file__).parent / "data" / "decks"
ALPHA = DECKS / "valid" / "alpha.yaml"
BETA = DECKS / "valid" / "beta.yml"


def check(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[str]]:
    code = main(["check", *map(str, paths)])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out.splitlines()


def test_check_summarises_a_valid_deck_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert check(capsys, ALPHA) == (
        0,
        [
            f"{ALPHA}: deck 'Alpha' (id alpha): 3 cards, 7 points, 1 follow-up, 2 aliases",
            "OK: 1 deck, 3 cards, 0 warnings",
        ],
    )


def test_check_without_paths_uses_the_bundled_deck(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CARDS_SETTING, raising=False)
    code, lines = check(capsys)
    assert code == 0
    assert lines[0] == (
        f"{BUNDLED_CARDS}: deck 'Systems for ML' (id systems-for-ml): 49 cards, 98 points, "
        "17 follow-ups, 535 aliases"
    )
    assert lines[-1] == "OK: 1 deck, 49 cards, 0 warnings"


def test_check_without_paths_uses_quizbot_cards(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        CARDS_SETTING, f"{DECKS / 'valid'},{DECKS / 'duplicate_deck_id' / 'one.yaml'}"
    )
    code, lines = check(capsys)
    assert code == 0
    assert [line.split(": deck ")[0] for line in lines[:-1]] == [
        str(ALPHA),
        str(BETA),
        str(DECKS / "duplicate_deck_id" / "one.yaml"),
    ]
    assert lines[-1] == "OK: 3 decks, 5 cards, 0 warnings"


def test_check_lists_every_problem_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    broken = DECKS / "broken" / "many_problems.yaml"
    code, lines = check(capsys, broken)
    assert code == 1
    assert len(lines) == 10
    assert lines[0] == (f"{broken}:4: card 'data-parallelism': missing 'question'")
    assert lines[1] == (
        f"{broken}:5: card 'data-parallelism': unknown key 'qustion' (did you mean 'question'?)"
    )
    assert lines[-1] == "FAILED: 9 problems; fix and check again"


def test_check_reports_good_decks_and_problems_of_broken_ones_together(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = check(capsys, ALPHA, DECKS / "broken", DECKS / "duplicate_deck_id")
    assert code == 1
    assert lines[0].startswith(f"{ALPHA}: deck 'Alpha'")
    assert lines[1].startswith(f"{DECKS / 'duplicate_deck_id' / 'one.yaml'}: deck 'One'")
    problems = lines[2:-1]
    assert len(problems) == 14
    assert problems[-1] == (
        f"{DECKS / 'duplicate_deck_id' / 'two.yaml'}:2: deck id 'same' is already used by "
        f"{DECKS / 'duplicate_deck_id' / 'one.yaml'}:2"
    )
    assert lines[-1] == "FAILED: 14 problems; fix and check again"


def test_check_reports_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert check(capsys, tmp_path / "nope.yaml") == (
        1,
        [f"{tmp_path / 'nope.yaml'}: no such file", "FAILED: 1 problem; fix and check again"],
    )


def test_check_on_a_broken_file_prints_no_traceback() -> None:
    broken = DECKS / "broken" / "syntax_error.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout
    assert result.stdout.splitlines()[0].startswith(f"{broken}:6: YAML syntax error")


# --- warnings ---------------------------------------------------------------------------------


def deck_with(tmp_path: Path, card_yaml: str) -> Path:
    path = tmp_path / "deck.yaml"
    body = textwrap.indent(textwrap.dedent(card_yaml).strip("\n"), "  ")
    path.write_text(f"deck: Test\nid: test\ncards:\n{body}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("question", "warns"),
    [
        ("What is a tensor?", False),
        ("AllReduce seems like a lot of communication. Why is it possible?", False),
        ("List the three steps of AllReduce.", False),
        ("Name the two kinds of parallelism", False),
        ("Explain why debugging matters for ML.", False),
        ("There are two approaches to distributed training. Describe them.", False),
        ("Compare static and dynamic graphs:", False),
        ("The three steps of AllReduce.", True),
        ("Data parallelism", True),
        ("Listing the steps of AllReduce.", True),
    ],
)
def test_a_question_without_a_question_mark_or_a_command_is_a_warning(
    tmp_path: Path, question: str, warns: bool
) -> None:
    path = deck_with(tmp_path, f"- id: a\n  question: {json.dumps(question)}\n  points: [x]\n")
    deck = load_deck(path)
    expected = [
        f"{path}:4: card 'a': warning: the question has no '?' and does not start with a "
        "command such as List, Name, Explain or Describe"
    ]
    assert card_warnings(deck, deck.cards[0]) == (expected if warns else [])


@pytest.mark.parametrize(
    ("points", "repeated"),
    [
        (["clean data", "Clean  data."], "point 2 repeats point 1 ('Clean  data.')"),
        (["all-reduce", "All reduce"], None),
        (["AllReduce", "parameter server", "allreduce!"], "point 3 repeats point 1 ('allreduce!')"),
        (["latency", "throughput"], None),
    ],
)
def test_a_point_repeated_within_a_card_is_a_warning(
    tmp_path: Path, points: list[str], repeated: str | None
) -> None:
    listed = "".join(f"\n    - {json.dumps(point)}" for point in points)
    path = deck_with(tmp_path, f"- id: a\n  question: What?\n  points:{listed}\n")
    deck = load_deck(path)
    expected = [f"{path}:4: card 'a': warning: {repeated}"] if repeated else []
    assert card_warnings(deck, deck.cards[0]) == expected


def test_warnings_are_printed_but_check_still_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = deck_with(
        tmp_path,
        """
        - id: a
          question: The stages of the ML ecosystem
          points: [training, Training]
        """,
    )
    code, lines = check(capsys, path)
    assert code == 0
    assert lines[1:] == [
        f"{path}:4: card 'a': warning: point 2 repeats point 1 ('Training')",
        f"{path}:4: card 'a': warning: the question has no '?' and does not start with a command "
        "such as List, Name, Explain or Describe",
        "OK: 1 deck, 1 card, 2 warnings",
    ]
