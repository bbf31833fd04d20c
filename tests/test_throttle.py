"""Flood control rules with a fake clock."""

from __future__ import annotations

import pytest

from bot.core.throttle import Decision, FloodGuard, judge_arrivals


def test_a_normal_pace_is_never_throttled() -> None:
    guard = FloodGuard(limit=20, window=10)
    decisions = [guard.check(1, second * 1.0) for second in range(100)]
    assert set(decisions) == {Decision.ALLOW}


def test_thirty_messages_in_ten_seconds_are_throttled_with_one_warning() -> None:
    guard = FloodGuard(limit=20, window=10)
    decisions = [guard.check(1, index / 3) for index in range(30)]
    assert decisions[:20] == [Decision.ALLOW] * 20
    assert decisions[20] == Decision.WARN
    assert decisions[21:] == [Decision.DROP] * 9


def test_other_users_are_unaffected_by_a_flooder() -> None:
    guard = FloodGuard(limit=5, window=10)
    for index in range(50):
        guard.check(1, index / 10)
    assert guard.check(2, 5.0) == Decision.ALLOW


@pytest.mark.parametrize("pause", [10.0, 30.0])
def test_a_throttled_user_is_served_again_after_a_quiet_window(pause: float) -> None:
    guard = FloodGuard(limit=3, window=10)
    for index in range(6):
        guard.check(1, index * 0.1)
    assert guard.check(1, 0.6 + pause) == Decision.ALLOW


def test_idle_users_are_forgotten() -> None:
    guard = FloodGuard(limit=3, window=10)
    guard.check(1, 0.0)
    guard.check(2, 15.0)
    guard.forget_idle(20.0)
    assert set(guard._recent) == {2}


@pytest.mark.parametrize(
    ("counted_before", "arrivals", "warned", "expected"),
    [
        (0, 3, False, "allow allow allow"),
        (19, 1, False, "allow"),
        (19, 3, False, "allow warn drop"),
        (20, 2, False, "warn drop"),
        (20, 2, True, "drop drop"),  # another replica warned already
        (40, 1, True, "drop"),
    ],
)
def test_a_window_shared_by_replicas_allows_the_limit_then_warns_once(
    counted_before: int, arrivals: int, warned: bool, expected: str
) -> None:
    decisions = judge_arrivals(counted_before, arrivals, warned, limit=20)
    assert " ".join(decisions) == expected
