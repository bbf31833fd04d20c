"""Pure rules of group study challenges: arguments, limits, scoring, rankings, periods.

No I/O and no Telegram here (``ChallengeLimits.from_env`` only reads the mapping it is given):
the service layer feeds in stored answers and ``now``, so every rule is testable on its own.

Scoring, per answer (a player answers each question once):

* wrong (no point credited): 0, and the player's streak ends;
* base: ``round(10 × grade.score)`` (half up);
* speed: ``round(5 × grade.score × (1 − elapsed / question time))``, so 0..5, falling linearly
  from the moment the question is shown to its full time (a grace close does not shrink it);
* streak: only for a fully correct answer, +1 for each fully correct answer the player gave to
  the questions just before this one, at most +3 (2nd full answer in a row +1, 3rd +2, 4th on
  +3); a partial, wrong or missing answer ends the run;
* first: +2 for the one answer that is the first fully correct answer to the question.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = 10
MIN_QUESTIONS = 1
MAX_QUESTIONS = 30
DEFAULT_SECONDS = 30
MIN_SECONDS = 10
MAX_SECONDS = 300
#: After the first fully correct answer the others get this long before the question closes.
DEFAULT_GRACE_SECONDS = 3.0
#: Pause between a question's results and the next question, to read the results.
DEFAULT_BREAK_SECONDS = 3.0
#: The question message is edited (countdown) at most this often.
COUNTDOWN_EDIT_SECONDS = 10
#: A replica that claimed a group message has this long to post it before another may take
#: over: short enough to cover a crash. A send may take longer (rate limits, flood waits):
#: the replica renews its lease every third of it while it sends.
DEFAULT_POSTING_LEASE_SECONDS = 60.0
#: The shortest lease QUIZBOT_POSTING_LEASE_SECONDS may set: replicas look for challenges to
#: adopt once per lease, and renew a lease three times per lease, which must stay cheap.
MIN_POSTING_LEASE_SECONDS = 3.0

MIN_SECONDS_ENV = "QUIZBOT_MIN_QUESTION_SECONDS"
GRACE_SECONDS_ENV = "QUIZBOT_GRACE_SECONDS"
BREAK_SECONDS_ENV = "QUIZBOT_BREAK_SECONDS"
POSTING_LEASE_ENV = "QUIZBOT_POSTING_LEASE_SECONDS"

BASE_POINTS = 10
SPEED_POINTS = 5
STREAK_CAP = 3
FIRST_FULL_BONUS = 2
#: The most one answer can earn: base, speed, streak and first-full bonus together.
MAX_ANSWER_POINTS = BASE_POINTS + SPEED_POINTS + STREAK_CAP + FIRST_FULL_BONUS


# --- limits and arguments ---------------------------------------------------------------------


def _env_number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    """A number from the environment; a bad value is logged and the default used instead."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, raw, default)
        return default
    if not math.isfinite(value) or value < minimum:
        log.warning("%s=%r is below %s; using %s", name, raw, minimum, default)
        return default
    return value


@dataclass(frozen=True)
class ChallengeLimits:
    """How long and how big a challenge may be, and the timing between questions."""

    min_questions: int = MIN_QUESTIONS
    max_questions: int = MAX_QUESTIONS
    default_questions: int = DEFAULT_QUESTIONS
    min_seconds: int = MIN_SECONDS
    max_seconds: int = MAX_SECONDS
    default_seconds: int = DEFAULT_SECONDS
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    break_seconds: float = DEFAULT_BREAK_SECONDS
    posting_lease_seconds: float = DEFAULT_POSTING_LEASE_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ChallengeLimits:
        """Read the test and tuning knobs (QUIZBOT_MIN_QUESTION_SECONDS and friends) from
        ``env``; ``bot.config.Settings.from_env`` hands it the environment."""
        minimum = int(_env_number(env, MIN_SECONDS_ENV, MIN_SECONDS, 1))
        limits = cls(
            min_seconds=min(minimum, MAX_SECONDS),
            grace_seconds=_env_number(env, GRACE_SECONDS_ENV, DEFAULT_GRACE_SECONDS, 0),
            break_seconds=_env_number(env, BREAK_SECONDS_ENV, DEFAULT_BREAK_SECONDS, 0),
            posting_lease_seconds=_env_number(
                env, POSTING_LEASE_ENV, DEFAULT_POSTING_LEASE_SECONDS, MIN_POSTING_LEASE_SECONDS
            ),
        )
        if limits.default_seconds < limits.min_seconds:
            limits = replace(limits, default_seconds=limits.min_seconds)
        return limits


@dataclass(frozen=True)
class ChallengeRequest:
    """What ``/challenge [N] [seconds] [deck]`` asked for, within the limits."""

    questions: int
    seconds: int
    deck: str | None = None  # a deck's id or name, as typed; None: the starter's own deck


def usage(limits: ChallengeLimits) -> str:
    return (
        f"Use /challenge [questions] [seconds] [deck], for example /challenge 5 20: "
        f"{limits.min_questions}–{limits.max_questions} questions "
        f"(default {limits.default_questions}), {limits.min_seconds}–{limits.max_seconds} "
        f"seconds each (default {limits.default_seconds}); the deck is yours unless you name one."
    )


def _whole_number(text: str, unit: str = "") -> int | None:
    text = text.strip().lower()
    if unit and text.endswith(unit):
        text = text[: -len(unit)]
    return int(text) if text.isdigit() else None


def parse_challenge_args(args: Sequence[str], limits: ChallengeLimits) -> ChallengeRequest:
    """Read ``/challenge [N] [seconds] [deck]``; raise ValueError with a message for the group.

    Numbers come first (questions, then seconds, "20s" too); the words after them name a deck.
    """
    count = 0
    while count < min(2, len(args)) and _whole_number(args[count], "s") is not None:
        count += 1
    numbers, words = args[:count], args[count:]
    if words and _whole_number(words[0], "s") is not None:
        raise ValueError(usage(limits))  # a third number
    questions, seconds = limits.default_questions, limits.default_seconds
    if numbers:
        number = _whole_number(numbers[0])
        if number is None:
            raise ValueError(usage(limits))
        if not limits.min_questions <= number <= limits.max_questions:
            raise ValueError(
                f"A challenge has {limits.min_questions} to {limits.max_questions} questions. "
                + usage(limits)
            )
        questions = number
    if len(numbers) == 2:
        number = _whole_number(numbers[1], "s")
        assert number is not None
        if not limits.min_seconds <= number <= limits.max_seconds:
            raise ValueError(
                f"Each question runs {limits.min_seconds} to {limits.max_seconds} seconds. "
                + usage(limits)
            )
        seconds = number
    deck = " ".join(words).strip() or None
    return ChallengeRequest(questions=questions, seconds=seconds, deck=deck)


# --- scoring ----------------------------------------------------------------------------------


def round_half_up(value: float) -> int:
    """Round .5 up (Python's round() sends 2.5 to 2, which players would call unfair)."""
    return math.floor(value + 0.5 + 1e-9)


@dataclass(frozen=True)
class AnswerPoints:
    """How one answer's points add up, shown to the players."""

    base: int = 0
    speed: int = 0
    streak: int = 0
    first: int = 0

    @property
    def total(self) -> int:
        return self.base + self.speed + self.streak + self.first


def speed_bonus(score: float, elapsed: float, question_seconds: float) -> int:
    """Up to +5, falling linearly to 0 over the question's time, scaled by the answer's score."""
    if question_seconds <= 0 or score <= 0:
        return 0
    remaining = min(1.0, max(0.0, 1.0 - elapsed / question_seconds))
    return round_half_up(SPEED_POINTS * min(score, 1.0) * remaining)


def streak_bonus(full_answers_before: int) -> int:
    """+1 per fully correct answer in a row before this one, capped at +3."""
    return min(STREAK_CAP, max(0, full_answers_before))


def run_before(full_positions: Iterable[int], position: int) -> int:
    """How many questions just before ``position`` the player answered fully correctly."""
    full = set(full_positions)
    run = 0
    while position - run - 1 in full:
        run += 1
    return run


def score_answer(
    *,
    score: float,
    verdict: str,
    elapsed: float,
    question_seconds: float,
    full_answers_before: int,
    first_full: bool,
) -> AnswerPoints:
    """The points for one graded answer (see the module docstring for the rules)."""
    if verdict == "wrong" or score <= 0:
        return AnswerPoints()
    full = verdict == "correct"
    return AnswerPoints(
        base=round_half_up(BASE_POINTS * min(score, 1.0)),
        speed=speed_bonus(score, elapsed, question_seconds),
        streak=streak_bonus(full_answers_before) if full else 0,
        first=FIRST_FULL_BONUS if full and first_full else 0,
    )


# --- standings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A player's points in some table (a challenge, a chat, a period)."""

    user_id: int
    name: str
    points: int


@dataclass(frozen=True)
class Standing:
    """A ranked entry: equal points share a rank (1, 2, 2, 4)."""

    rank: int
    user_id: int
    name: str
    points: int


def rank_entries(entries: Iterable[Entry]) -> list[Standing]:
    """Order by points (high first), then name and id for a stable order; ties share a rank."""
    ordered = sorted(
        entries, key=lambda entry: (-entry.points, entry.name.casefold(), entry.user_id)
    )
    standings: list[Standing] = []
    for index, entry in enumerate(ordered):
        if standings and standings[-1].points == entry.points:
            rank = standings[-1].rank
        else:
            rank = index + 1
        standings.append(Standing(rank, entry.user_id, entry.name, entry.points))
    return standings


# --- periods ----------------------------------------------------------------------------------


class Period(StrEnum):
    """Leaderboard windows, in UTC (a group's members may live in several time zones)."""

    ALL = "all"
    WEEK = "week"
    TODAY = "today"


PERIOD_TITLES = {Period.ALL: "all time", Period.WEEK: "this week", Period.TODAY: "today"}


def period_start(period: Period, now: datetime) -> datetime | None:
    """Where the window starts: midnight UTC today, Monday midnight UTC, or None (all time)."""
    if period is Period.ALL:
        return None
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.TODAY:
        return midnight
    return midnight - timedelta(days=now.weekday())


def parse_period(text: str) -> Period | None:
    try:
        return Period(text)
    except ValueError:
        return None


# --- posting, across replicas -----------------------------------------------------------------
#
# Every message a challenge posts in its group (each question, each question's results, the
# final standings) is one *step*. Replicas drive the same challenge from the database, so a
# replica claims a step before posting it; the claim is a lease: if the replica crashes before
# it has posted, another one may take the step over once the lease has run out. A replica whose
# send is still under way (waiting out rate limits) renews its lease, so it is not taken over.

#: The step that posts the final standings.
FINAL_STEP = "final"


def question_step(position: int) -> str:
    """The step that posts the question at ``position`` (0-based)."""
    return f"question {position + 1}"


def results_step(position: int) -> str:
    """The step that posts the results of the question at ``position`` (0-based)."""
    return f"results {position + 1}"


@dataclass(frozen=True)
class PostingClaim:
    """Who is posting which step of a challenge, until when."""

    step: str
    replica: str
    until: datetime


def is_posting(claim: PostingClaim | None, step: str, now: datetime) -> bool:
    """Someone holds ``step`` and their lease still runs."""
    return claim is not None and claim.step == step and claim.until > now


def may_post(claim: PostingClaim | None, step: str, now: datetime) -> bool:
    """``step`` may be claimed: nobody holds it with a lease still running (a claim on another
    step is stale). Not even the holder may claim it again: a message is handed out once per
    lease, and a replica whose send failed gives its claim back to retry at once."""
    return not is_posting(claim, step, now)


def lease_until(now: datetime, lease_seconds: float) -> datetime:
    return now + timedelta(seconds=lease_seconds)


def renewal_interval(lease_seconds: float) -> float:
    """How often a replica still sending a message renews its lease: three times per lease,
    so one late or failed renewal does not let the lease run out."""
    return lease_seconds / 3


# --- the end of a challenge -------------------------------------------------------------------


@dataclass(frozen=True)
class CardStat:
    """How one asked question went: every answer's score (missing answers are not counted)."""

    position: int
    card_id: str
    scores: tuple[float, ...]

    @property
    def mean(self) -> float:
        """The mean answer score; a question nobody answered counts as 0."""
        return sum(self.scores) / len(self.scores) if self.scores else 0.0


def hardest_card(stats: Sequence[CardStat]) -> CardStat | None:
    """The asked card with the lowest mean score (the earliest one on a tie)."""
    if not stats:
        return None
    return min(stats, key=lambda stat: (stat.mean, stat.position))


def seconds_left(closes_at: datetime, now: datetime) -> int:
    """Whole seconds until the close, rounded up, never negative (for the countdown line)."""
    return max(0, math.ceil((closes_at - now).total_seconds() - 1e-6))
