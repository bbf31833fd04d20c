"""No Docker engine runs here, so the image's structure is checked as text, and its install
steps are the ones CI runs in a fresh virtual environment (see .ci/run)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
INSTRUCTIONS = [
    line.strip()
    for line in DOCKERFILE.replace("\\\n", " ").splitlines()
    if line.strip() and not line.strip().startswith("#")
]


def instructions(keyword: str) -> list[str]:
    return [line for line in INSTRUCTIONS if line.upper().startswith(keyword + " ")]


def test_the_base_image_is_slim_and_pinned_to_an_exact_version() -> None:
    (base,) = instructions("FROM")
    assert re.fullmatch(r"FROM python:3\.\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base)


def test_the_bot_runs_as_a_non_root_user() -> None:
    users = instructions("USER")
    assert users
    assert users[-1].split()[1] not in {"root", "0"}


def test_sqlite_data_lives_in_a_data_volume() -> None:
    assert any("/data" in line for line in instructions("VOLUME"))
    assert any("sqlite+aiosqlite:////data/" in line for line in instructions("ENV"))


def test_there_is_a_healthcheck_that_runs_quizbot_health_within_its_timeout() -> None:
    """``quizbot health`` probes the running bot's /healthz in webhook mode (see
    tests/test_replicas_e2e.py) and the database with polling; it gives up before Docker does."""
    (check,) = instructions("HEALTHCHECK")
    command = json.loads(check[check.index("CMD") + 3 :])
    assert command[:2] == ["quizbot", "health"]
    docker_timeout = float(re.search(r"--timeout=(\d+)s", check).group(1))  # type: ignore[union-attr]
    assert float(command[command.index("--timeout") + 1]) < docker_timeout


def test_the_image_does_not_install_tornado_which_nothing_uses() -> None:
    """PTB's "webhooks" extra is tornado, for PTB's own webhook server; ours is aiohttp."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ptb = next(d for d in project["project"]["dependencies"] if d.startswith("python-telegram-bot"))
    assert "webhooks" not in ptb


def test_the_build_context_is_limited_by_dockerignore() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ignore[ignore.index("*")] == "*"  # everything is excluded by default...
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {part.rstrip("/") for line in instructions("COPY") for part in line.split()[1:-1]}
    assert copied <= allowed  # ...and only what the image copies is let back in
    assert not {".git", "tests", "bench", ".venv"} & allowed


def test_the_image_installs_the_project_the_way_ci_does() -> None:
    assert any(line.startswith("RUN pip install .") for line in INSTRUCTIONS)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m venv .venv" in ci
    assert "pip install" in ci


def test_compose_runs_the_bot_with_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    bot = compose["services"]["bot"]
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "db" in bot["depends_on"]
    assert compose["services"]["db"]["image"].startswith("postgres:")
