"""Reminder rules, pure: reading ``/remind`` and ``/timezone``, and when a reminder fires next.

Reminder times are wall-clock times in the chat's time zone (default UTC), so "09:00" stays
09:00 across daylight-saving changes. Every instant handed in or out is aware UTC.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EVERY_DAY = 0b1111111
WEEKDAYS = 0b0011111
WEEKEND = 0b1100000
DEFAULT_TIMEZONE = "UTC"

USAGE = (
    "Use <code>/remind HH:MM [days]</code>, for example <code>/remind 08:30</code>, "
    "<code>/remind 19:00 mon-fri</code> or <code>/remind 10:00 sat,sun</code>. "
    "<code>/remind off</code> turns it off; <code>/remind</code> alone shows it."
)

_DAY_ALIASES = {
    "daily": EVERY_DAY,
    "everyday": EVERY_DAY,
    "every-day": EVERY_DAY,
    "all": EVERY_DAY,
    "weekdays": WEEKDAYS,
    "weekday": WEEKDAYS,
    "workdays": WEEKDAYS,
    "weekends": WEEKEND,
    "weekend": WEEKEND,
}
_TIME = re.compile(r"^(\d{1,2})[:.h](\d{2})$")


class ReminderInputError(ValueError):
    """What the user typed cannot be understood; the message says how to fix it."""


@dataclass(frozen=True)
class ReminderSpec:
    """A daily reminder: a local wall-clock time on some weekdays (bit 0 = Monday)."""

    at: time
    days: int = EVERY_DAY

    def runs_on(self, day: date) -> bool:
        return bool(self.days & (1 << day.weekday()))


@dataclass(frozen=True)
class RemindCommand:
    """A parsed /remind: ``show`` the setting, turn it ``off``, or ``set`` ``spec``."""

    action: str
    spec: ReminderSpec | None = None


def parse_time(text: str) -> time:
    """``HH:MM`` in 24-hour time (``8:30``, ``08:30`` and ``08.30`` all work)."""
    match = _TIME.match(text.strip().lower())
    if not match:
        raise ReminderInputError(f"“{text}” is not a time. Write it as HH:MM, e.g. 08:30.")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ReminderInputError(f"“{text}” is not a time of day: hours 0–23, minutes 0–59.")
    return time(hour, minute)


_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day_index(word: str) -> int:
    """Monday is 0; any unambiguous prefix of two letters or more names a day."""
    word = word.strip().lower()
    matches = [
        index
        for index, full in enumerate(_FULL_DAY_NAMES)
        if len(word) >= 2 and full.startswith(word)
    ]
    if len(matches) != 1:
        raise ReminderInputError(f"“{word}” is not a day. Use mon, tue, wed, thu, fri, sat, sun.")
    return matches[0]


def parse_days(text: str) -> int:
    """``mon-fri``, ``sat,sun``, ``mon wed fri``, ``fri-mon`` (wraps), ``daily``, ``weekdays``."""
    text = text.strip().lower()
    if not text:
        return EVERY_DAY
    mask = 0
    for part in re.split(r"[,\s]+", text):
        if not part:
            continue
        if part in _DAY_ALIASES:
            mask |= _DAY_ALIASES[part]
            continue
        if "-" in part:
            start_text, _, end_text = part.partition("-")
            start, end = _day_index(start_text), _day_index(end_text)
            index = start
            while True:
                mask |= 1 << index
                if index == end:
                    break
                index = (index + 1) % 7
            continue
        mask |= 1 << _day_index(part)
    if not mask:
        raise ReminderInputError("Name at least one day, e.g. mon-fri.")
    return mask


def parse_remind(argument: str) -> RemindCommand:
    """Read the text after ``/remind``."""
    text = argument.strip()
    if not text:
        return RemindCommand("show")
    if text.lower() in {"off", "stop", "none", "disable", "cancel"}:
        return RemindCommand("off")
    first, _, rest = text.partition(" ")
    return RemindCommand("set", ReminderSpec(at=parse_time(first), days=parse_days(rest)))


def describe_days(mask: int) -> str:
    """``every day``, ``Mon–Fri``, ``Sat, Sun`` or ``Mon, Wed, Fri``."""
    if mask & EVERY_DAY == EVERY_DAY:
        return "every day"
    days = [index for index in range(7) if mask & (1 << index)]
    runs: list[tuple[int, int]] = []
    for index in days:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    parts = []
    for start, end in runs:
        if end - start >= 2:
            parts.append(f"{DAY_LABELS[start]}–{DAY_LABELS[end]}")
        else:
            parts.extend(DAY_LABELS[index] for index in range(start, end + 1))
    return ", ".join(parts)


def describe_spec(spec: ReminderSpec) -> str:
    return f"{spec.at:%H:%M} {describe_days(spec.days)}"


# --- time zones ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=1)
def _zone_by_lower() -> dict[str, str]:
    return {name.lower(): name for name in _zone_names()}


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The zone of a stored name; UTC if the name became unknown (e.g. tzdata changed)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def resolve_timezone(name: str) -> str | None:
    """The canonical IANA name for ``name`` (case and spaces forgiven), or None."""
    wanted = name.strip().replace(" ", "_")
    if not wanted or len(wanted) > 64:
        return None
    return _zone_by_lower().get(wanted.lower())


def suggest_timezones(name: str, count: int = 3) -> list[str]:
    """The ``count`` valid names closest to ``name``, by difflib similarity.

    A bare city ("berlin") is compared with each name's last part as well, so it still finds
    "Europe/Berlin".
    """
    wanted = name.strip().replace(" ", "_").lower()[:64]
    names = _zone_names()
    lowered = [zone_name.lower() for zone_name in names]
    full = difflib.get_close_matches(wanted, lowered, n=count * 4, cutoff=0.0)
    city = difflib.get_close_matches(
        wanted.rsplit("/", 1)[-1], [item.rsplit("/", 1)[-1] for item in lowered], n=count * 4
    )

    def score(candidate: str) -> float:
        whole = difflib.SequenceMatcher(None, wanted, candidate).ratio()
        last = difflib.SequenceMatcher(
            None, wanted.rsplit("/", 1)[-1], candidate.rsplit("/", 1)[-1]
        ).ratio()
        return max(whole, last)

    pool = set(full) | {item for item in lowered if item.rsplit("/", 1)[-1] in city}
    ranked = sorted(pool, key=lambda candidate: (-score(candidate), candidate))
    by_lower = _zone_by_lower()
    return [by_lower[candidate] for candidate in ranked[:count]]


# --- when a reminder fires ------------------------------------------------------------------


def local_date(at: datetime, zone_name: str) -> date:
    """The calendar day of ``at`` in the zone: the day a reminder "belongs" to."""
    return at.astimezone(zone(zone_name)).date()


def fire_time_on(spec: ReminderSpec, day: date, zone_name: str) -> datetime:
    """The UTC instant of the reminder on ``day``.

    A wall-clock time skipped by a daylight-saving jump fires just after the jump; a time that
    happens twice fires the first time.
    """
    local = datetime.combine(day, spec.at, tzinfo=zone(zone_name))
    return local.astimezone(UTC)


def next_fire(
    spec: ReminderSpec,
    zone_name: str,
    after: datetime,
    *,
    skip_dates: Collection[date] = (),
) -> datetime:
    """The first fire time strictly after ``after`` on a chosen weekday, skipping some dates.

    ``skip_dates`` are local days whose reminder went out already (at most one a day).
    """
    start = local_date(after, zone_name) - timedelta(days=1)
    for offset in range(0, 16):
        day = start + timedelta(days=offset)
        if not spec.runs_on(day) or day in skip_dates:
            continue
        fire = fire_time_on(spec, day, zone_name)
        if fire > after:
            return fire
    raise ValueError("a reminder needs at least one weekday")  # unreachable with days != 0


def describe_when(at: datetime, now: datetime, zone_name: str) -> str:
    """``today at 09:00``, ``tomorrow at 09:00`` or ``Mon 7 Dec at 09:00`` in the zone."""
    local = at.astimezone(zone(zone_name))
    today = now.astimezone(zone(zone_name)).date()
    if local.date() == today:
        day = "today"
    elif local.date() == today + timedelta(days=1):
        day = "tomorrow"
    else:
        day = f"{DAY_LABELS[local.weekday()]} {local.day} {local:%b}"
    return f"{day} at {local:%H:%M}"


def parse_hours(text: str) -> int:
    """A duration in whole hours: ``6``, ``6h``, ``12 hours`` (1 to 24)."""
    match = re.match(r"^\s*(\d{1,2})\s*(h|hr|hrs|hour|hours)?\s*$", text.lower())
    if not match or not 1 <= int(match.group(1)) <= 24:
        raise ReminderInputError("Give the time in whole hours from 1 to 24, e.g. 6h.")
    return int(match.group(1))
