"""The review feature's messages: settings, reminders, /due, /stats and questions of the day.

Pure functions that return ``render.Reply``; everything users or deck authors typed is escaped.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.reminders import DAY_LABELS, USAGE, describe_spec, describe_when, zone
from bot.core.scheduling import MAX_NEW_PER_DAY
from bot.services.review import (
    ClosedQuestion,
    DailyAnswer,
    DueView,
    NothingDue,
    ReminderJob,
    ReminderView,
    SettingsView,
    StatsView,
    TimezoneResult,
)
from bot.telegram import render
from bot.telegram.render import Button, Reply, esc, fit

PRACTISE_AHEAD = "rv:ahead"
START_REVIEW = render.START_QUIZ

SETTINGS_USAGE = (
    f"Use <code>/settings new N</code> to meet N new cards a day (0–{MAX_NEW_PER_DAY}), "
    "e.g. <code>/settings new 15</code>."
)
GROUP_SETTINGS_USAGE = (
    "Use <code>/settings hours N</code> to keep the question of the day open for N hours "
    "(1–24), or <code>/settings hours off</code> to keep it open until the next one."
)
TIMEZONE_USAGE = (
    "Send <code>/timezone Area/City</code>, for example <code>/timezone Europe/Berlin</code> "
    "or <code>/timezone America/New_York</code>."
)
NO_STATS = (
    "📊 No progress to show yet: answer a few cards first. Send /quiz to start a round, and "
    "come back to /stats for your chart."
)
ADMINS_ONLY = "Only the group's admins can change its reminder and settings."
GROUP_ONLY_REMINDER = "In a group, the daily reminder posts a question of the day."

DAILY_NOTICES = {
    "duplicate": "",
    "closed": "That question of the day is closed. Wait for the next one!",
    "answered": "You have answered this question of the day already: one try each.",
    "empty_answer": "Reply with your answer as text.",
}


def _count(count: int, word: str = "card", plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _zone_note(timezone: str, timezone_set: bool) -> str:
    if timezone_set:
        return esc(timezone)
    return (
        f"{esc(timezone)} (you have not set a time zone yet: "
        "<code>/timezone Area/City</code>, e.g. <code>/timezone Europe/Berlin</code>)"
    )


# --- reminders and settings -------------------------------------------------------------------


def reminder(view: ReminderView | None, now: datetime, *, just_set: bool = False) -> Reply:
    """What /remind shows: the setting and when it fires next."""
    if view is None or not view.enabled:
        lines = ["⏰ <b>No daily reminder is set.</b>"]
        if view is not None and view.disabled_reason == "blocked":
            lines.append("It was turned off because the bot could not reach this chat.")
        lines.append("")
        lines.append(USAGE)
        return Reply("\n".join(lines))
    head = "⏰ <b>Reminder set</b>" if just_set else "⏰ <b>Your daily reminder</b>"
    if view.chat_type != "private":
        head = "⏰ <b>Question of the day set</b>" if just_set else "⏰ <b>Question of the day</b>"
    lines = [
        head,
        f"When: <b>{esc(describe_spec(view.spec))}</b>",
        f"Time zone: {_zone_note(view.timezone, view.timezone_set)}",
    ]
    if view.next_fire_at is not None:
        lines.append(f"Next: {esc(describe_when(view.next_fire_at, now, view.timezone))}")
    if view.chat_type == "private":
        lines.append("")
        lines.append(
            "<i>It comes only when cards are due (or your streak is at risk), with the first "
            "question ready to answer.</i>"
        )
    lines.append("<code>/remind off</code> turns it off.")
    return Reply("\n".join(lines))


def reminder_off(was_on: bool) -> Reply:
    if was_on:
        return Reply("🔕 Reminder off. <code>/remind HH:MM</code> sets it again.")
    return Reply("There was no reminder to turn off. " + USAGE)


def settings(view: SettingsView, now: datetime, *, group: bool = False) -> Reply:
    lines = ["⚙️ <b>Settings</b>", ""]
    if not group:
        lines.append(f"New cards per day: <b>{view.new_per_day}</b>")
    lines.append(
        f"Time zone: <b>{esc(view.timezone)}</b>" + ("" if view.timezone_set else " (default)")
    )
    reminder_view = view.reminder
    if reminder_view is not None and reminder_view.enabled:
        when = esc(describe_spec(reminder_view.spec))
        nxt = (
            f", next {esc(describe_when(reminder_view.next_fire_at, now, reminder_view.timezone))}"
            if reminder_view.next_fire_at
            else ""
        )
        lines.append(f"Reminder: {when}{nxt}")
    else:
        lines.append("Reminder: off")
    if group:
        hours = view.question_hours
        lines.append(
            "Question of the day stays open: "
            + (f"{hours} h" if hours else "until the next question")
        )
    lines.append("")
    lines.append(GROUP_SETTINGS_USAGE if group else SETTINGS_USAGE)
    lines.append(f"{TIMEZONE_USAGE} <code>/remind HH:MM [days]</code> sets the reminder.")
    return Reply("\n".join(lines))


def new_per_day_set(view: SettingsView) -> Reply:
    return Reply(f"✅ You will meet up to <b>{view.new_per_day}</b> new cards a day.")


def question_hours_set(view: SettingsView) -> Reply:
    if view.question_hours:
        return Reply(f"✅ Questions of the day stay open for {view.question_hours} h.")
    return Reply("✅ Questions of the day stay open until the next one.")


def timezone_result(result: TimezoneResult, typed: str, now: datetime) -> Reply:
    if result.name is None:
        lines = [f"I don't know the time zone “{esc(typed)}”."]
        if result.suggestions:
            lines.append("Did you mean:")
            lines.extend(f"• <code>/timezone {esc(name)}</code>" for name in result.suggestions)
        lines.append("")
        lines.append(TIMEZONE_USAGE)
        return Reply(fit("\n".join(lines)))
    local = now.astimezone(zone(result.name))
    lines = [f"🌍 Time zone set to <b>{esc(result.name)}</b> (it is {local:%H:%M} there now)."]
    if result.reminder is not None and result.reminder.enabled and result.reminder.next_fire_at:
        lines.append(
            f"Your reminder now fires at {esc(describe_spec(result.reminder.spec))} there; next "
            f"{esc(describe_when(result.reminder.next_fire_at, now, result.name))}."
        )
    return Reply("\n".join(lines))


def timezone_current(view: SettingsView, now: datetime) -> Reply:
    local = now.astimezone(zone(view.timezone))
    state = "" if view.timezone_set else " (the default)"
    return Reply(
        f"🌍 Your time zone is <b>{esc(view.timezone)}</b>{state}; it is {local:%H:%M} there.\n"
        + TIMEZONE_USAGE
    )


def _question_buttons(round_id: int, position: int) -> list[Button]:
    return [
        ("💡 Hint", render.question_data(render.HINT, round_id, position)),
        ("👀 Show answer", render.question_data(render.SHOW, round_id, position)),
        ("⏭ Skip", render.question_data(render.SKIP, round_id, position)),
    ]


def private_reminder(job: ReminderJob) -> Reply:
    """The daily nudge: what is due, the streak, and the first question, answerable here."""
    lines = ["⏰ <b>Time to review</b>"]
    parts = []
    if job.due:
        parts.append(f"{_count(job.due)} due")
    if job.new:
        parts.append(f"{_count(job.new, 'new card')} for today")
    if parts:
        lines.append("📚 " + " · ".join(parts))
    if job.streak_at_risk:
        lines.append(f"🔥 Your {job.streak}-day streak ends tonight: one answer keeps it going.")
    buttons: list[list[Button]] = [[("▶️ Start review", START_REVIEW)]]
    if job.card is not None and job.round_id is not None:
        lines.append("")
        lines.append(f"<b>Question 1/{job.round_size}</b>")
        lines.append(f"❓ {esc(job.card.question)}")
        lines.append("")
        lines.append("<i>Type your answer right here, or tap Start review.</i>")
        buttons.append(_question_buttons(job.round_id, 0))
    elif job.round_open:
        lines.append("")
        lines.append("<i>Your round is still open: answer its question, or tap Start review.</i>")
    return Reply(fit("\n".join(lines)), buttons)


def daily_question(job: ReminderJob, now: datetime) -> Reply:
    """A group's question of the day, answered by replying to it."""
    assert job.card is not None
    lines = ["📅 <b>Question of the day</b>", "", f"❓ {esc(job.card.question)}", ""]
    if job.closes_at is not None:
        local = job.closes_at.astimezone(zone(job.timezone))
        lines.append(
            f"<i>Reply to this message with your answer — one try each, open until "
            f"{DAY_LABELS[local.weekday()]} {local:%H:%M} ({esc(job.timezone)}).</i>"
        )
    else:
        lines.append(
            "<i>Reply to this message with your answer — one try each, open until the next "
            "question.</i>"
        )
    return Reply(fit("\n".join(lines)))


def closed_question(view: ClosedQuestion) -> Reply:
    lines = ["🔔 <b>The question of the day is closed</b>", f"❓ {esc(view.card.question)}", ""]
    lines.append("<b>Answer</b>")
    lines.extend(f"• {esc(point.text)}" for point in view.card.points)
    lines.append("")
    if view.results:
        marks = render.VERDICT_MARKS
        lines.append(
            " · ".join(
                f"{marks.get(verdict, '•')} {esc(name)} +{points}"
                for name, verdict, points in view.results
            )
        )
    else:
        lines.append("Nobody answered this one.")
    return Reply(fit("\n".join(lines)))


def daily_answer(answer: DailyAnswer) -> Reply:
    """The reply to a member's answer. Missing points stay hidden until the question closes."""
    mark = render.VERDICT_MARKS[answer.verdict]
    word = render.VERDICT_WORDS[answer.verdict]
    text = f"{mark} {esc(answer.first_name)}: <b>{word}</b>, +{answer.points} points."
    if answer.verdict != "correct":
        text += f" ({len(answer.matched)} of {len(answer.card.points)} points found.)"
    return Reply(text)


# --- /quiz with nothing due, and /due -----------------------------------------------------------


def nothing_due(view: NothingDue, now: datetime) -> Reply:
    lines = [
        "🎉 <b>All caught up!</b>",
        f"Nothing is due, and you have met today's {_count(view.new_per_day, 'new card')}.",
    ]
    if view.next_due_at is not None:
        lines.append(f"Next card due: {esc(describe_when(view.next_due_at, now, view.timezone))}.")
    lines.append("")
    lines.append(
        "Tap <b>Practise ahead</b> for the cards due soonest, or raise the daily limit with "
        "<code>/settings new N</code>."
    )
    return Reply("\n".join(lines), [[("⏩ Practise ahead", PRACTISE_AHEAD)]])


def due(view: DueView, now: datetime) -> Reply:
    forecast = view.forecast
    lines = [
        f"📅 <b>Due</b> — {esc(view.deck.name)}",
        "",
        f"Due now: <b>{forecast.now}</b>",
        f"Due today: <b>{forecast.today}</b>",
        f"New cards left today: {view.new_left} (limit {view.new_per_day})",
        "",
        "<b>Next 7 days</b>",
    ]
    for day, count in forecast.days:
        lines.append(f"{DAY_LABELS[day.weekday()]} {day.day} {day:%b}: {count}")
    if not forecast.now and view.next_due_at is not None:
        lines.append("")
        lines.append(f"Next card due {esc(describe_when(view.next_due_at, now, view.timezone))}.")
    lines.append("")
    lines.append(f"<i>Days in {esc(view.timezone)}. /quiz starts with the due cards.</i>")
    return Reply("\n".join(lines))


# --- /stats ---------------------------------------------------------------------------------


def stats_caption(view: StatsView) -> str:
    total = sum(day.total for day in view.days)
    return (
        f"📊 <b>{esc(view.first_name)}</b>: {total} answers in the last 30 days · "
        f"{view.forecast.today} due today"
    )


def _bar(share: float, width: int = 10) -> str:
    filled = round(max(0.0, min(1.0, share)) * width)
    return "▓" * filled + "░" * (width - filled)


def stats_summary(view: StatsView) -> Reply:
    lines = [
        f"📊 <b>Your progress</b> — {esc(view.deck.name)}",
        "",
        f"Answered: {view.answered} · accuracy {view.accuracy:.0%}",
        f"🔥 Daily streak: {view.streak_current} (best {view.streak_best})",
        "",
        "<b>Mastery by tag</b> <i>(chance you recall a card now)</i>",
    ]
    for item in view.mastery[:10]:
        lines.append(
            f"<code>{_bar(item.mastery)}</code> {item.mastery:.0%} {esc(item.tag)} "
            f"({item.seen}/{item.cards} seen)"
        )
    if len(view.mastery) > 10:
        lines.append(f"… and {len(view.mastery) - 10} more tags")
    lines.append("")
    if view.weakest:
        lines.append("<b>Five weakest cards</b>")
        for weak in view.weakest:
            lines.append(
                f"• {esc(render._clip(weak.card.question, 90))} "
                f"<i>({weak.mean_score:.0%} over {_count(weak.attempts, 'try', 'tries')})</i>"
            )
    else:
        lines.append("<b>Weakest cards</b>: none — every card you tried, you got right. 💪")
    return Reply(fit("\n".join(lines)))
