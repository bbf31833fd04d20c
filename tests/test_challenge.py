"""The pure rules of group challenges: arguments and limits, scoring, rankings, periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import challenge as rules
from bot.core.challenge import (
    AnswerPoints,
    CardStat,
    ChallengeLimits,
    ChallengeRequest,
    Entry,
    Period,
    Standing,
)

LIMITS = ChallengeLimits()
SATURDAY = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ChallengeRequest(10, 30)),
        (["5"], ChallengeRequest(5, 30)),
        (["5", "20"], ChallengeRequest(5, 20)),
        (["5", "20s"], ChallengeRequest(5, 20)),
        (["1", "10"], ChallengeRequest(1, 10)),
        (["30", "300"], ChallengeRequest(30, 300)),
        (["5", "20", "systems-for-ml"], ChallengeRequest(5, 20, "systems-for-ml")),
        (["5", "Systems", "for", "ML"], ChallengeRequest(5, 30, "Systems for ML")),
        (["biology"], ChallengeRequest(10, 30, "biology")),
    ],
)
def test_challenge_arguments_within_the_limits_are_read(
    args: list[str], expected: ChallengeRequest
) -> None:
    assert rules.parse_challenge_args(args, LIMITS) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0"], "1 to 30 questions"),
        (["31"], "1 to 30 questions"),
        (["5", "9"], "10 to 300 seconds"),
        (["5", "301"], "10 to 300 seconds"),
        (["5s"], "Use /challenge [questions] [seconds] [deck]"),
        (["1", "2", "3"], "Use /challenge [questions] [seconds] [deck]"),
        (["1", "20", "30", "deck"], "Use /challenge [questions] [seconds] [deck]"),
    ],
)
def test_out_of_range_or_malformed_arguments_get_a_clear_message(
    args: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=r".") as problem:
        rules.parse_challenge_args(args, LIMITS)
    assert message in str(problem.value)
    assert "/challenge 5 20" in str(problem.value)


@pytest.mark.parametrize(
    ("env", "min_seconds", "default_seconds", "grace", "pause"),
    [
        ({}, 10, 30, 3.0, 3.0),
        ({"QUIZBOT_MIN_QUESTION_SECONDS": "2"}, 2, 30, 3.0, 3.0),
        ({"QUIZBOT_MIN_QUESTION_SECONDS": "45"}, 45, 45, 3.0, 3.0),
        ({"QUIZBOT_GRACE_SECONDS": "0.5", "QUIZBOT_BREAK_SECONDS": "0"}, 10, 30, 0.5, 0.0),
        ({"QUIZBOT_MIN_QUESTION_SECONDS": "soon", "QUIZBOT_GRACE_SECONDS": "-1"}, 10, 30, 3.0, 3.0),
    ],
)
def test_limits_come_from_the_environment_with_safe_defaults(
    env: dict[str, str], min_seconds: int, default_seconds: int, grace: float, pause: float
) -> None:
    limits = ChallengeLimits.from_env(env)
    assert (limits.min_seconds, limits.default_seconds) == (min_seconds, default_seconds)
    assert (limits.grace_seconds, limits.break_seconds) == (grace, pause)


def test_the_minimum_question_time_from_the_environment_allows_two_second_questions() -> None:
    limits = ChallengeLimits.from_env({"QUIZBOT_MIN_QUESTION_SECONDS": "2"})
    assert rules.parse_challenge_args(["3", "2"], limits) == ChallengeRequest(3, 2)
    with pytest.raises(ValueError, match="2 to 300 seconds"):
        rules.parse_challenge_args(["3", "1"], limits)


@pytest.mark.parametrize(
    ("score", "elapsed", "seconds", "bonus"),
    [
        (1.0, 0.0, 30, 5),
        (1.0, 3.0, 30, 5),  # 4.5 rounds half up
        (1.0, 6.0, 30, 4),
        (1.0, 15.0, 30, 3),  # 2.5 rounds half up
        (1.0, 24.0, 30, 1),
        (1.0, 29.0, 30, 0),
        (1.0, 30.0, 30, 0),
        (1.0, 45.0, 30, 0),  # answered in a grace window after the time: never negative
        (0.5, 0.0, 30, 3),  # a half answer earns half the speed bonus (2.5 -> 3)
        (0.5, 15.0, 30, 1),
        (0.0, 0.0, 30, 0),
    ],
)
def test_the_speed_bonus_decays_linearly_over_the_question_time(
    score: float, elapsed: float, seconds: int, bonus: int
) -> None:
    assert rules.speed_bonus(score, elapsed, seconds) == bonus


@pytest.mark.parametrize(
    ("verdict", "score", "elapsed", "before", "first", "expected"),
    [
        ("wrong", 0.0, 0.0, 2, False, AnswerPoints(0, 0, 0, 0)),
        ("partial", 0.5, 0.0, 2, False, AnswerPoints(5, 3, 0, 0)),
        ("partial", 0.67, 30.0, 0, False, AnswerPoints(7, 0, 0, 0)),
        ("correct", 1.0, 30.0, 0, False, AnswerPoints(10, 0, 0, 0)),
        ("correct", 1.0, 0.0, 0, True, AnswerPoints(10, 5, 0, 2)),
        ("correct", 1.0, 15.0, 1, False, AnswerPoints(10, 3, 1, 0)),
        ("correct", 1.0, 15.0, 2, False, AnswerPoints(10, 3, 2, 0)),
        ("correct", 1.0, 15.0, 3, False, AnswerPoints(10, 3, 3, 0)),
        ("correct", 1.0, 15.0, 9, False, AnswerPoints(10, 3, 3, 0)),  # the streak is capped
        ("correct", 1.0, 0.0, 9, True, AnswerPoints(10, 5, 3, 2)),  # the most an answer earns
        ("correct", 0.75, 0.0, 0, True, AnswerPoints(8, 4, 0, 2)),  # correct by pass ratio
    ],
)
def test_an_answer_scores_base_speed_streak_and_first_full_bonus(
    verdict: str, score: float, elapsed: float, before: int, first: bool, expected: AnswerPoints
) -> None:
    points = rules.score_answer(
        score=score,
        verdict=verdict,
        elapsed=elapsed,
        question_seconds=30,
        full_answers_before=before,
        first_full=first,
    )
    assert points == expected
    assert points.total <= rules.MAX_ANSWER_POINTS == 20


@pytest.mark.parametrize(
    ("full_positions", "position", "run"),
    [
        (set(), 0, 0),
        ({0}, 1, 1),
        ({0, 1, 2}, 3, 3),
        ({0, 1, 2, 3, 4}, 5, 5),
        ({0, 2}, 3, 1),  # question 1 was missed or partial: the run restarts
        ({1}, 3, 0),
        ({4}, 3, 0),  # later questions never count
    ],
)
def test_the_streak_counts_full_answers_in_a_row_just_before_this_question(
    full_positions: set[int], position: int, run: int
) -> None:
    assert rules.run_before(full_positions, position) == run


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([], []),
        (
            [Entry(1, "Bob", 10), Entry(2, "ann", 10), Entry(3, "Cy", 12)],
            [Standing(1, 3, "Cy", 12), Standing(2, 2, "ann", 10), Standing(2, 1, "Bob", 10)],
        ),
        (
            [Entry(1, "A", 5), Entry(2, "B", 5), Entry(3, "C", 5), Entry(4, "D", 1)],
            [
                Standing(1, 1, "A", 5),
                Standing(1, 2, "B", 5),
                Standing(1, 3, "C", 5),
                Standing(4, 4, "D", 1),
            ],
        ),
        (
            [Entry(9, "Same", 0), Entry(8, "Same", 0)],  # same name: the id keeps it stable
            [Standing(1, 8, "Same", 0), Standing(1, 9, "Same", 0)],
        ),
    ],
)
def test_standings_order_by_points_and_ties_share_a_rank(
    entries: list[Entry], expected: list[Standing]
) -> None:
    assert rules.rank_entries(entries) == expected


@pytest.mark.parametrize(
    ("period", "now", "start"),
    [
        (Period.ALL, SATURDAY, None),
        (Period.TODAY, SATURDAY, datetime(2026, 11, 28, tzinfo=UTC)),
        (Period.WEEK, SATURDAY, datetime(2026, 11, 23, tzinfo=UTC)),  # Monday
        (
            Period.WEEK,
            datetime(2026, 11, 23, 0, 0, 1, tzinfo=UTC),
            datetime(2026, 11, 23, tzinfo=UTC),
        ),
        (
            Period.WEEK,
            datetime(2026, 11, 22, 23, 59, tzinfo=UTC),  # Sunday: still last week
            datetime(2026, 11, 16, tzinfo=UTC),
        ),
        (
            Period.TODAY,
            datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_leaderboard_periods_start_at_midnight_utc_today_or_on_monday(
    period: Period, now: datetime, start: datetime | None
) -> None:
    assert rules.period_start(period, now) == start


@pytest.mark.parametrize(
    ("text", "period"), [("all", Period.ALL), ("week", Period.WEEK), ("x", None)]
)
def test_period_names_from_buttons_are_read_safely(text: str, period: Period | None) -> None:
    assert rules.parse_period(text) is period


@pytest.mark.parametrize(
    ("stats", "hardest"),
    [
        ([], None),
        ([CardStat(0, "a", (1.0, 0.5)), CardStat(1, "b", (0.2,))], "b"),
        ([CardStat(0, "a", (1.0,)), CardStat(1, "b", ())], "b"),  # nobody answered: 0
        ([CardStat(0, "a", (0.5,)), CardStat(1, "b", (0.0, 1.0))], "a"),  # a tie: the earlier
    ],
)
def test_the_hardest_card_has_the_lowest_mean_score(
    stats: list[CardStat], hardest: str | None
) -> None:
    found = rules.hardest_card(stats)
    assert (found.card_id if found else None) == hardest


@pytest.mark.parametrize(
    ("value", "rounded"), [(0.5, 1), (1.5, 2), (2.5, 3), (2.4999, 2), (0.0, 0), (9.5, 10)]
)
def test_points_round_half_up_unlike_pythons_bankers_rounding(value: float, rounded: int) -> None:
    assert rules.round_half_up(value) == rounded


@pytest.mark.parametrize(
    ("seconds", "left"), [(20.0, 20), (19.2, 20), (0.4, 1), (0.0, 0), (-3.0, 0)]
)
def test_the_countdown_shows_whole_seconds_left_rounded_up(seconds: float, left: int) -> None:
    assert rules.seconds_left(SATURDAY + timedelta(seconds=seconds), SATURDAY) == left


def test_the_posting_lease_comes_from_the_environment_and_is_never_below_three_seconds() -> None:
    assert ChallengeLimits().posting_lease_seconds == 60.0
    for good in ("3", "5", "120"):
        limits = ChallengeLimits.from_env({"QUIZBOT_POSTING_LEASE_SECONDS": good})
        assert limits.posting_lease_seconds == float(good)
    for bad in ("2.9", "1", "0.5", "soon", "-3"):
        limits = ChallengeLimits.from_env({"QUIZBOT_POSTING_LEASE_SECONDS": bad})
        assert limits.posting_lease_seconds == 60.0


def test_a_lease_still_being_used_is_renewed_three_times_per_lease() -> None:
    assert rules.renewal_interval(60) == 20
    assert rules.renewal_interval(rules.MIN_POSTING_LEASE_SECONDS) == 1


def test_each_group_message_of_a_challenge_is_its_own_step() -> None:
    steps = [rules.question_step(0), rules.results_step(0), rules.question_step(1)]
    assert steps == ["question 1", "results 1", "question 2"]
    assert len({*steps, rules.FINAL_STEP}) == 4


def test_a_step_may_be_claimed_only_when_nobody_holds_it_with_a_running_lease() -> None:
    lease_end = SATURDAY + timedelta(seconds=60)
    held = rules.PostingClaim("results 2", "replica-a", lease_end)
    assert rules.may_post(None, "results 2", SATURDAY)
    assert not rules.may_post(held, "results 2", SATURDAY)  # not even by replica-a again
    assert not rules.may_post(held, "results 2", lease_end - timedelta(microseconds=1))
    assert rules.may_post(held, "results 2", lease_end)  # the lease ran out: take it over
    assert rules.may_post(held, "question 3", SATURDAY)  # a claim on another step is stale
    assert rules.is_posting(held, "results 2", SATURDAY)
    assert not rules.is_posting(held, rules.FINAL_STEP, SATURDAY)
    assert rules.lease_until(SATURDAY, 60) == lease_end
