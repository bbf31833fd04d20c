"""The pure reminder rules: /remind parsing, days, fire times across time zones and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.core.reminders import (
    EVERY_DAY,
    WEEKDAYS,
    WEEKEND,
    ReminderInputError,
    ReminderSpec,
    describe_days,
    describe_when,
    local_date,
    next_fire,
    parse_days,
    parse_hours,
    parse_remind,
    parse_time,
    resolve_timezone,
    suggest_timezones,
)


@pytest.mark.parametrize(
    ("argument", "action", "at", "days"),
    [
        ("", "show", None, None),
        ("  ", "show", None, None),
        ("off", "off", None, None),
        ("OFF", "off", None, None),
        ("09:00", "set", time(9, 0), EVERY_DAY),
        ("7:05 mon-fri", "set", time(7, 5), WEEKDAYS),
        ("21.30 sat,sun", "set", time(21, 30), WEEKEND),
        ("06:00 Mon, Wed, Fri", "set", time(6, 0), 0b0010101),
        ("23:59 fri-mon", "set", time(23, 59), 0b1110001),
        ("00:00 weekdays", "set", time(0, 0), WEEKDAYS),
        ("12:00 daily", "set", time(12, 0), EVERY_DAY),
        ("12:00 tuesday thurs", "set", time(12, 0), 0b0001010),
    ],
)
def test_remind_reads_a_time_and_optional_days(
    argument: str, action: str, at: time | None, days: int | None
) -> None:
    command = parse_remind(argument)
    assert command.action == action
    if at is None:
        assert command.spec is None
    else:
        assert command.spec == ReminderSpec(at=at, days=days or EVERY_DAY)


@pytest.mark.parametrize(
    ("argument", "reason"),
    [
        ("25:00", "not a time of day"),
        ("9:60", "not a time of day"),
        ("nine", "not a time"),
        ("9", "not a time"),
        ("09:00 someday", "not a day"),
        ("09:00 t", "not a day"),  # tue or thu?
        ("09:00 s-m", "not a day"),
    ],
)
def test_bad_remind_input_gets_a_reason_the_user_can_act_on(argument: str, reason: str) -> None:
    with pytest.raises(ReminderInputError, match=reason):
        parse_remind(argument)


@pytest.mark.parametrize(
    ("mask", "text"),
    [
        (EVERY_DAY, "every day"),
        (WEEKDAYS, "Mon–Fri"),
        (WEEKEND, "Sat, Sun"),
        (0b0010101, "Mon, Wed, Fri"),
        (0b0001111, "Mon–Thu"),
        (parse_days("fri-mon"), "Mon, Fri–Sun"),
    ],
)
def test_days_are_described_compactly(mask: int, text: str) -> None:
    assert describe_days(mask) == text


def test_times_accept_common_spellings() -> None:
    assert parse_time("8:30") == parse_time("08:30") == parse_time("08.30") == time(8, 30)
    assert parse_hours("6h") == parse_hours("6") == parse_hours("6 hours") == 6
    with pytest.raises(ReminderInputError):
        parse_hours("30h")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


NINE = ReminderSpec(time(9, 0))


@pytest.mark.parametrize(
    ("spec", "zone_name", "after", "expected"),
    [
        # later today, or (at or after the time) tomorrow, in UTC
        (NINE, "UTC", utc(2026, 12, 1, 8, 0), utc(2026, 12, 1, 9, 0)),
        (NINE, "UTC", utc(2026, 12, 1, 9, 0), utc(2026, 12, 2, 9, 0)),
        # 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer
        (NINE, "Europe/Berlin", utc(2026, 12, 1, 7, 59), utc(2026, 12, 1, 8, 0)),
        (NINE, "Europe/Berlin", utc(2026, 7, 1, 6, 0), utc(2026, 7, 1, 7, 0)),
        # weekdays only: Friday after the time → Monday (4 Dec 2026 is a Friday)
        (ReminderSpec(time(8, 0), WEEKDAYS), "UTC", utc(2026, 12, 4, 9, 0), utc(2026, 12, 7, 8, 0)),
        # Wednesdays at 07:00 in Tokyo: 22:00 UTC on the Tuesday
        (
            ReminderSpec(time(7, 0), 1 << 2),
            "Asia/Tokyo",
            utc(2026, 12, 1, 12),
            utc(2026, 12, 1, 22),
        ),
        # spring forward: 02:30 does not exist on 29 March in Berlin; it fires at 03:30 CEST
        (ReminderSpec(time(2, 30)), "Europe/Berlin", utc(2026, 3, 29, 0), utc(2026, 3, 29, 1, 30)),
        # fall back: 02:30 happens twice on 25 October; it fires the first time (CEST)
        (
            ReminderSpec(time(2, 30)),
            "Europe/Berlin",
            utc(2026, 10, 24, 12),
            utc(2026, 10, 25, 0, 30),
        ),
    ],
)
def test_the_next_fire_time_is_the_local_wall_clock_time_on_a_chosen_day(
    spec: ReminderSpec, zone_name: str, after: datetime, expected: datetime
) -> None:
    assert next_fire(spec, zone_name, after) == expected


def test_a_day_whose_reminder_went_out_is_skipped() -> None:
    spec = ReminderSpec(time(18, 0))
    after = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert next_fire(spec, "UTC", after, skip_dates={date(2026, 12, 1)}) == datetime(
        2026, 12, 2, 18, 0, tzinfo=UTC
    )


def test_a_reminder_belongs_to_its_local_day() -> None:
    moment = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    assert local_date(moment, "Asia/Tokyo") == date(2026, 12, 2)
    assert local_date(moment, "America/New_York") == date(2026, 12, 1)
    assert describe_when(moment, moment, "Asia/Tokyo") == "today at 07:00"
    assert (
        describe_when(moment, datetime(2026, 11, 30, 12, tzinfo=UTC), "UTC") == "tomorrow at 22:00"
    )


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("America/New York", "America/New_York"),
        ("UTC", "UTC"),
        ("Europe/Berln", None),
        ("Berlin", None),
        ("", None),
        ("../../etc/passwd", None),
    ],
)
def test_time_zones_are_validated_against_the_zone_database(
    typed: str, canonical: str | None
) -> None:
    assert resolve_timezone(typed) == canonical


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Europe/Berln", "Europe/Berlin"),
        ("berlin", "Europe/Berlin"),
        ("Amercia/New_Yrok", "America/New_York"),
        ("Asia/Tokio", "Asia/Tokyo"),
    ],
)
def test_an_unknown_time_zone_gets_three_close_valid_names(typed: str, expected: str) -> None:
    suggestions = suggest_timezones(typed)
    assert len(suggestions) == 3
    assert expected in suggestions
    assert all(resolve_timezone(name) == name for name in suggestions)
