"""HTML for group challenges: questions with their countdown, results, standings, leaderboards.

Pure functions, like ``bot.telegram.render``: every name and answer users typed goes through
``esc``, and deck text too. Names are display names, never user ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core import challenge as rules
from bot.core.challenge import PERIOD_TITLES, AnswerPoints, Period, Standing
from bot.services.group import (
    ChallengeStarted,
    FinalView,
    GroupNotice,
    LeaderboardView,
    QuestionView,
    RankView,
    ResultsView,
)
from bot.storage.group import GroupStanding
from bot.telegram.render import Button, Reply, esc, fit

#: Longest name shown in a table; longer ones end with "…".
NAME_CHARS = 32
#: Per-question results list at most this many players, then "… and N more".
RESULT_LINES = 50

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
VERDICT_MARKS = {"correct": "✅", "partial": "🟡", "wrong": "❌"}
VERDICT_WORDS = {"correct": "full", "partial": "partial", "wrong": "wrong"}

LEADERBOARD_PREFIX = "glb:"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def name(text: str) -> str:
    return esc(_clip(text or "someone", NAME_CHARS))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _points(points: int) -> str:
    return f"{points} pt" if points == 1 else f"{points} pts"


def scoring_rules(grace_seconds: float) -> str:
    grace = f"{grace_seconds:g}"
    return (
        f"<b>Scoring</b>: up to {rules.BASE_POINTS} for the answer (point by point), up to "
        f"+{rules.SPEED_POINTS} for speed, +1 for each fully correct answer in a row before "
        f"this one (at most +{rules.STREAK_CAP}), and ⚡ +{rules.FIRST_FULL_BONUS} for the first "
        f"full answer, which closes the question {grace} s later."
    )


HOW_TO_ANSWER = (
    "<b>Answer</b> by replying to the question message, or with <code>/a your answer</code>. "
    "Only your first answer to each question counts."
)


def _deck_list(names: Sequence[str]) -> str:
    return ", ".join(f"<b>{esc(name)}</b>" for name in names)


def unknown_deck(asked: str, names: Sequence[str]) -> str:
    """/challenge named a deck that is not loaded: say which ones are."""
    return f"There is no deck called “{esc(_clip(asked, 60))}”. The decks are: {_deck_list(names)}."


def ambiguous_deck(asked: str, names: Sequence[str]) -> str:
    """/challenge named the start of several decks: ask which."""
    return f"“{esc(_clip(asked, 60))}” could be {_deck_list(names)}. Which one?"


def started(view: ChallengeStarted) -> Reply:
    capped = (
        f" (the deck has only {_plural(view.questions, 'card')})"
        if view.questions < view.requested
        else ""
    )
    lines = [
        "🎯 <b>Group challenge!</b>",
        f"{_plural(view.questions, 'question')}{capped}, {view.seconds} s each, from "
        f"<b>{esc(view.deck_name)}</b>. Started by {name(view.started_by)}.",
        "",
        HOW_TO_ANSWER,
        scoring_rules(view.grace_seconds),
        "",
        "/stop ends it early (whoever started it, or a chat admin).",
    ]
    return Reply(fit("\n".join(lines)))


def countdown(view: QuestionView, now: datetime) -> str:
    """The question message's status line; it changes at most every 10 seconds."""
    answered = f" · 👥 {view.answered} answered" if view.answered else ""
    if view.state != "open" or not view.running:
        return f"⏱ <b>Closed</b>{answered}"
    if view.full_answer_in:
        return f"⚡ <b>Full answer in!</b> Closing in a moment{answered}"
    left = rules.seconds_left(view.closes_at, now)
    return f"⏳ <b>{left} s</b> left{answered}"


def question(view: QuestionView, now: datetime, *, moved: bool = False) -> Reply:
    lines = []
    if moved:
        lines.append("<i>This group is now a supergroup: the challenge goes on here.</i>")
    lines.append(f"<b>Question {view.position + 1}/{view.total}</b>")
    if view.parent is not None:
        lines.append(f"<i>Follows on from: {esc(view.parent.question)}</i>")
    lines += ["", f"❓ {esc(view.card.question)}", ""]
    lines.append(countdown(view, now))
    if view.state == "open" and view.running:
        lines.append("<i>Reply to this message, or send /a followed by your answer.</i>")
    return Reply(fit("\n".join(lines)))


def _breakdown(points: AnswerPoints) -> str:
    parts = [str(points.base)]
    if points.speed:
        parts.append(f"+{points.speed} speed")
    if points.streak:
        parts.append(f"+{points.streak} streak")
    if points.first:
        parts.append(f"+{points.first} ⚡first")
    return f" ({' '.join(parts)})" if len(parts) > 1 else ""


def table(standings: Sequence[Standing], *, medals: bool = True) -> list[str]:
    lines = []
    for standing in standings:
        mark = MEDALS.get(standing.rank) if medals else None
        prefix = mark or f"{standing.rank}."
        lines.append(f"{prefix} {name(standing.name)} — {_points(standing.points)}")
    return lines


def results(view: ResultsView) -> Reply:
    card = view.card
    head = "⚡ answered" if view.full_answer_in else "⏱ time's up"
    lines = [f"<b>Question {view.position + 1}/{view.total}</b> — {head}", ""]
    lines.append(f"❓ {esc(card.question)}")
    lines.append("<b>Answer</b>")
    lines.extend(f"• {esc(point.text)}" for point in card.points)
    if card.summary:
        lines.append(f"<i>In short: {esc(card.summary)}</i>")
    lines.append("")
    if not view.lines:
        lines.append("Nobody answered this one.")
    else:
        lines.append("<b>Points</b>")
        for line in view.lines[:RESULT_LINES]:
            mark = VERDICT_MARKS.get(line.verdict, "•")
            word = VERDICT_WORDS.get(line.verdict, line.verdict)
            lines.append(
                f"{mark} {name(line.name)} +{line.points.total} {word}{_breakdown(line.points)}"
            )
        if len(view.lines) > RESULT_LINES:
            lines.append(f"… and {len(view.lines) - RESULT_LINES} more")
    if view.top:
        lines += ["", "<b>Top 5</b>"]
        lines.extend(table(view.top, medals=False))
    return Reply(fit("\n".join(lines)))


def final(view: FinalView) -> Reply:
    if view.state == "stopped":
        by = f" by {name(view.stopped_by)}" if view.stopped_by else ""
        total = _plural(view.total, "question")
        head = f"⏹ <b>Challenge stopped</b>{by} after {view.asked} of {total}."
    else:
        head = "🏁 <b>Challenge over!</b>"
    lines = [head, ""]
    if view.standings:
        lines.append("<b>Final standings</b>")
        lines.extend(table(view.standings[:10]))
        if len(view.standings) > 10:
            lines.append(f"… and {len(view.standings) - 10} more")
    else:
        lines.append("Nobody scored this time.")
    lines.append("")
    lines.append(f"👥 Participants: {view.participants}")
    if view.hardest is not None and view.asked:
        lines.append(
            f"🧠 Hardest card: {esc(view.hardest.question)} (average {view.hardest_mean:.0%})"
        )
    lines += ["", "/leaderboard shows this chat's standings over time. /challenge plays again."]
    return Reply(fit("\n".join(lines)))


def leaderboard_data(period: Period) -> str:
    return f"{LEADERBOARD_PREFIX}{period.value}"


def leaderboard(view: LeaderboardView) -> Reply:
    lines = [f"🏆 <b>Leaderboard — {PERIOD_TITLES[view.period]}</b>", ""]
    if view.standings:
        lines.extend(table(view.standings))
        if view.players > len(view.standings):
            lines.append(f"… {view.players} players in all")
    else:
        lines.append("No points yet. Start a challenge with /challenge.")
    buttons: list[Button] = [
        (
            ("• " if period is view.period else "") + PERIOD_TITLES[period].capitalize(),
            leaderboard_data(period),
        )
        for period in Period
    ]
    return Reply(fit("\n".join(lines)), [buttons])


def rank(view: RankView) -> Reply:
    if view.standing is None:
        return Reply(
            f"📊 {name(view.name)}, you have no points in this chat yet. Join the next /challenge!"
        )
    week = (
        f"\nThis week: #{view.week.rank}, {_points(view.week.points)}"
        if view.week is not None
        else ""
    )
    return Reply(
        f"📊 <b>{name(view.name)}</b>: #{view.standing.rank} of {view.players} in this chat "
        f"with <b>{_points(view.points)}</b> "
        f"({view.answers} answers, {view.full_answers} fully correct).{week}"
    )


def group_standings(standings: Sequence[GroupStanding]) -> str:
    """The private /score's section on group challenges ("" when the user has none)."""
    if not standings:
        return ""
    lines = ["<b>Group challenges</b>"]
    for standing in standings[:20]:
        gone = " <i>(I'm no longer there)</i>" if not standing.bot_present else ""
        lines.append(
            f"• {esc(_clip(standing.title, 48))} — #{standing.rank} of {standing.players}, "
            f"{_points(standing.points)}{gone}"
        )
    return "\n".join(lines)


GROUP_HELP = (
    "<b>Group challenges</b>\n"
    "/challenge [N] [seconds] [deck] — a live round of N questions (default 10, 30 s each) "
    "from the one named, the group's deck, or your own\n"
    "/deck — the group's deck (a chat admin picks it)\n"
    "/a &lt;answer&gt; — answer the open question (or reply to the question message)\n"
    "/stop — end the challenge (whoever started it, or an admin)\n"
    "/leaderboard — this chat's standings: all time, this week, today\n"
    "/score — your place in this chat\n\n"
    f"{HOW_TO_ANSWER}\n{scoring_rules(rules.DEFAULT_GRACE_SECONDS)}"
)

PRIVATE_HINT = (
    "Challenges are played in group chats: add me to a group and send /challenge there. "
    "Here in private, /quiz starts a round just for you."
)

QUIZ_IN_GROUP = (
    "In a group, play a live challenge with /challenge. For a round just for you, "
    "talk to me in private and send /quiz."
)

NOTICES = {
    "duplicate": "",
    "no_challenge": "No challenge is running. Start one with /challenge.",
    "already_running": "A challenge is already running here (started by {name}). "
    "Answer along, or /stop it first.",
    "already_answered": "Only your first answer counts.",
    "too_late": "⏱ Too late: that question has closed.",
    "closed_question": "⏱ That question has closed.",
    "not_the_question": "",
    "empty_answer": "Write your answer after /a, for example <code>/a latency</code>.",
    "not_allowed": "Only {name} (who started it) or a chat admin can stop this challenge.",
    "anonymous": "Anonymous admins can't play: switch to your own account to answer.",
    "finishing": "The challenge is over: its final standings are on their way.",
}


def notice(result: GroupNotice) -> str:
    return NOTICES.get(result.kind, "").format(name=name(result.name))
