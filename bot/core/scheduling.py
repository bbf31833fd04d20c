"""Spaced repetition rules, pure: how an answer becomes an FSRS rating, which cards a round
takes, what falls due when, and the progress figures behind /stats.

The memory model is py-fsrs's (the reference FSRS implementation); this module only decides
what to feed it. No I/O: the service layer passes in stored states and ``now``. Every datetime
is timezone-aware UTC, which py-fsrs insists on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from bot.core.cards import Card
from bot.core.quiz import Streak

#: "Easy" needs a correct answer, no hint, and a reply within this many seconds plus
#: ``EASY_SECONDS_PER_CHAR`` per character of the reference answer (its points joined by "; ").
#: Reading the question and typing a short answer takes a few seconds; a long answer takes
#: roughly as long again as typing it at a slow three characters a second.
EASY_BASE_SECONDS = 5.0
EASY_SECONDS_PER_CHAR = 0.3

#: New cards a user meets per day unless ``/settings new N`` says otherwise.
DEFAULT_NEW_PER_DAY = 10
MAX_NEW_PER_DAY = 200
#: Days /due and the chart look ahead; days of history the chart shows.
FORECAST_DAYS = 7
HISTORY_DAYS = 30


# --- ratings ------------------------------------------------------------------------------


def reference_length(card: Card) -> int:
    """Characters in the reference answer: the card's points joined as one line."""
    return len("; ".join(point.text for point in card.points))


def easy_time_limit(reference_chars: int) -> float:
    """Seconds within which a correct, unhinted answer counts as Easy."""
    return EASY_BASE_SECONDS + EASY_SECONDS_PER_CHAR * max(0, reference_chars)


def rating_for(
    *,
    outcome: str,
    verdict: str,
    hints: int,
    response_seconds: float | None,
    reference_chars: int,
    overridden: bool = False,
) -> Rating | None:
    """The FSRS rating of one answer, or None when it must not touch the schedule.

    answered wrong, "Show answer", or a skip after a hint → Again; partial → Hard;
    correct → Good, or Easy when unhinted and within ``easy_time_limit``; "I was right" → Good;
    a skip without a hint → None (the user did not try, so nothing was learnt about memory).
    """
    if overridden:
        return Rating.Good
    if outcome == "skipped":
        return Rating.Again if hints > 0 else None
    if outcome == "revealed":
        return Rating.Again
    if verdict == "partial":
        return Rating.Hard
    if verdict != "correct":
        return Rating.Again
    quick = response_seconds is not None and response_seconds <= easy_time_limit(reference_chars)
    return Rating.Easy if hints == 0 and quick else Rating.Good


# --- the FSRS state of one card --------------------------------------------------------------


@dataclass(frozen=True)
class CardState:
    """One user's FSRS memory state for one card, exactly the fields py-fsrs keeps."""

    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None


def make_scheduler(*, fuzzing: bool = True) -> Scheduler:
    """py-fsrs with its default parameters; fuzzing spreads out reviews that fall on one day."""
    return Scheduler(enable_fuzzing=fuzzing)


def _to_fsrs(state: CardState | None, when: datetime) -> FsrsCard:
    # card_id is passed: without one py-fsrs derives it from the clock and sleeps a millisecond.
    if state is None:
        return FsrsCard(card_id=0, due=when)
    return FsrsCard(
        card_id=0,
        state=State(state.state),
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=state.due.astimezone(UTC),
        last_review=state.last_review.astimezone(UTC) if state.last_review else None,
    )


def review(
    scheduler: Scheduler, state: CardState | None, rating: Rating, when: datetime
) -> CardState:
    """The state after one review at ``when``; ``None`` is a card never reviewed before."""
    when = when.astimezone(UTC)
    card, _ = scheduler.review_card(_to_fsrs(state, when), rating, review_datetime=when)
    return CardState(
        state=int(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
    )


def retrievability(scheduler: Scheduler, state: CardState | None, now: datetime) -> float:
    """FSRS's predicted chance of recalling the card now (0 for a card never reviewed)."""
    if state is None:
        return 0.0
    return float(scheduler.get_card_retrievability(_to_fsrs(state, now), now.astimezone(UTC)))


# --- choosing the cards of a round --------------------------------------------------------


@dataclass(frozen=True)
class RoundChoice:
    """The cards of a round and why each was picked."""

    card_ids: list[str]
    due: int = 0
    new: int = 0
    ahead: int = 0


def choose_round(
    deck_order: Sequence[str],
    due_at: Mapping[str, datetime],
    now: datetime,
    size: int,
    new_allowance: int,
    new_order: Sequence[str] | None = None,
    *,
    allow_ahead: bool = True,
) -> RoundChoice:
    """Due cards first (most overdue first), then new cards up to today's allowance.

    ``due_at`` holds the cards the user has reviewed; the deck's other cards are new, taken in
    ``new_order`` (default: deck order). When nothing is due and no new card is left, the
    round practises ahead: the cards that fall due soonest (unless ``allow_ahead`` is off).
    """
    size = max(0, size)
    position = {card_id: index for index, card_id in enumerate(deck_order)}
    reviewed = [card_id for card_id in deck_order if card_id in due_at]
    due = sorted(
        (card_id for card_id in reviewed if due_at[card_id] <= now),
        key=lambda card_id: (due_at[card_id], position[card_id]),
    )[:size]
    order = new_order if new_order is not None else deck_order
    unseen = [card_id for card_id in order if card_id in position and card_id not in due_at]
    new = unseen[: max(0, min(size - len(due), new_allowance))]
    if due or new or not allow_ahead:
        return RoundChoice(due + new, due=len(due), new=len(new))
    # Ahead: the cards due soonest; with nothing reviewed yet, more new cards than today's.
    ahead = sorted(reviewed, key=lambda card_id: (due_at[card_id], position[card_id]))[:size]
    ahead = ahead or unseen[:size]
    return RoundChoice(ahead, ahead=len(ahead))


def new_allowance(limit: int, introduced_today: int, unseen: int) -> int:
    """New cards the user may still meet today."""
    return max(0, min(limit - introduced_today, unseen))


# --- days in the user's time zone ----------------------------------------------------------


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_today(now: datetime, zone: tzinfo) -> date:
    return now.astimezone(zone).date()


@dataclass(frozen=True)
class DueForecast:
    """What /due shows: due now, due by the end of today, then each of the next days."""

    now: int
    today: int
    days: list[tuple[date, int]]


def forecast(
    dues: Iterable[datetime], now: datetime, zone: tzinfo, days: int = FORECAST_DAYS
) -> DueForecast:
    """Count due times into now / rest of today / each following local day."""
    today = local_today(now, zone)
    following = [today + timedelta(days=offset) for offset in range(1, days + 1)]
    counts = dict.fromkeys(following, 0)
    due_now = due_today = 0
    for due in dues:
        if due <= now:
            due_now += 1
        day = due.astimezone(zone).date()
        if day <= today:
            due_today += 1
        elif day in counts:
            counts[day] += 1
    return DueForecast(now=due_now, today=due_today, days=[(day, counts[day]) for day in following])


# --- streaks and progress ------------------------------------------------------------------


def streak_at_risk(streak: Streak, today: date) -> bool:
    """A streak that ends tonight unless the user answers something today."""
    return streak.current > 0 and streak.last_day == today - timedelta(days=1)


@dataclass(frozen=True)
class DayCounts:
    day: date
    correct: int = 0
    partial: int = 0
    wrong: int = 0

    @property
    def total(self) -> int:
        return self.correct + self.partial + self.wrong

    @property
    def accuracy(self) -> float | None:
        """Share of correct answers that day (partial counts half); None on a day off."""
        if not self.total:
            return None
        return (self.correct + 0.5 * self.partial) / self.total


def daily_counts(
    answers: Iterable[tuple[datetime, str]], now: datetime, zone: tzinfo, days: int = HISTORY_DAYS
) -> list[DayCounts]:
    """Answers per local day over the last ``days`` days (today last), by verdict."""
    today = local_today(now, zone)
    first = today - timedelta(days=days - 1)
    tally: dict[date, dict[str, int]] = {
        first + timedelta(days=offset): {"correct": 0, "partial": 0, "wrong": 0}
        for offset in range(days)
    }
    for answered_at, verdict in answers:
        day = answered_at.astimezone(zone).date()
        if day in tally and verdict in tally[day]:
            tally[day][verdict] += 1
    return [DayCounts(day, **counts) for day, counts in sorted(tally.items())]


def rolling_accuracy(days: Sequence[DayCounts], window: int = 7) -> list[float | None]:
    """Accuracy over the trailing ``window`` days at each day (None before any answer)."""
    trend: list[float | None] = []
    for index in range(len(days)):
        span = days[max(0, index - window + 1) : index + 1]
        total = sum(day.total for day in span)
        scored = sum(day.correct + 0.5 * day.partial for day in span)
        trend.append(scored / total if total else None)
    return trend


@dataclass(frozen=True)
class TagMastery:
    tag: str
    mastery: float  # mean predicted recall over the tag's cards, unseen cards counting 0
    cards: int
    seen: int


UNTAGGED = "other"


def tag_mastery(cards: Sequence[Card], recall: Mapping[str, float]) -> list[TagMastery]:
    """Mastery per tag: the average FSRS recall probability of its cards, weakest tag first."""
    groups: dict[str, list[str]] = {}
    for card in cards:
        for tag in card.tags or (UNTAGGED,):
            groups.setdefault(tag, []).append(card.id)
    result = [
        TagMastery(
            tag=tag,
            mastery=sum(recall.get(card_id, 0.0) for card_id in ids) / len(ids),
            cards=len(ids),
            seen=sum(card_id in recall for card_id in ids),
        )
        for tag, ids in groups.items()
    ]
    return sorted(result, key=lambda item: (item.mastery, item.tag))
