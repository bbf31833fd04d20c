"""Flood control: a user who sends too much too fast is slowed down politely.

Pure logic over a monotonic clock that the caller passes in; the adapter drops what is refused.
Other users are never affected: each user has a window of their own. ``FloodGuard`` counts in
one process; ``judge_arrivals`` judges a window the replicas share (kept in the database), so
a flooder gets the same allowance however many replicas their updates are spread over.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

#: At most this many updates per user in ``WINDOW_SECONDS``.
LIMIT = 20
WINDOW_SECONDS = 10.0


class Decision(StrEnum):
    ALLOW = "allow"
    WARN = "warn"  # the first refused update in a window: tell the user once
    DROP = "drop"


@dataclass
class FloodGuard:
    limit: int = LIMIT
    window: float = WINDOW_SECONDS
    _recent: dict[int, deque[float]] = field(default_factory=dict)
    _warned_at: dict[int, float] = field(default_factory=dict)

    def check(self, user_id: int, now: float) -> Decision:
        """Record one update from ``user_id`` at ``now`` (seconds, monotonic) and judge it."""
        recent = self._recent.setdefault(user_id, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) < self.limit:
            recent.append(now)
            self._warned_at.pop(user_id, None)
            return Decision.ALLOW
        warned = self._warned_at.get(user_id)
        if warned is not None and now - warned < self.window:
            return Decision.DROP
        self._warned_at[user_id] = now
        return Decision.WARN

    def forget_idle(self, now: float) -> None:
        """Drop users with no recent updates, so memory stays bounded."""
        for user_id in [
            uid
            for uid, times in self._recent.items()
            if not times or now - times[-1] >= self.window
        ]:
            self._recent.pop(user_id, None)
            self._warned_at.pop(user_id, None)


def judge_arrivals(
    counted_before: int, arrivals: int, warned: bool, limit: int = LIMIT
) -> list[Decision]:
    """Decisions for ``arrivals`` updates from one user in a shared window that had counted
    ``counted_before`` updates before them: the first over the limit warns, unless the window
    warned already; the rest are dropped."""
    decisions: list[Decision] = []
    for number in range(counted_before + 1, counted_before + arrivals + 1):
        if number <= limit:
            decisions.append(Decision.ALLOW)
        elif not warned:
            decisions.append(Decision.WARN)
            warned = True
        else:
            decisions.append(Decision.DROP)
    return decisions
