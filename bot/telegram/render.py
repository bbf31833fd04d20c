"""Turn service results into the HTML text and buttons users see.

Pure functions: no Telegram import. Everything a user typed passes through ``html.escape``;
deck text is escaped too, since a card may well contain "<" or "&".
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core import quiz
from bot.core.cards import Deck
from bot.services.quiz import FeedbackView, QuestionView, ScoreView, SummaryView, deck_key

#: Telegram's limit on one message's text.
MESSAGE_LIMIT = 4096
#: How much of a student's own words we quote back as evidence.
EVIDENCE_CHARS = 120

VERDICT_MARKS = {"correct": "✅", "partial": "🟡", "wrong": "❌"}
VERDICT_WORDS = {"correct": "Correct", "partial": "Partly right", "wrong": "Not quite"}

Button = tuple[str, str]  # (label, callback data)


@dataclass(frozen=True)
class Reply:
    """A message to send: HTML text and rows of inline buttons."""

    html: str
    buttons: list[list[Button]] = field(default_factory=list)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fit(text: str) -> str:
    """Keep a message within Telegram's limit (counted on the text, tags included, to be safe)."""
    if len(text) <= MESSAGE_LIMIT:
        return text
    plain = re.sub(r"<[^>]+>", "", text)
    return esc(clip(html.unescape(plain), MESSAGE_LIMIT - 10))


# --- callback data ------------------------------------------------------------------------
# Buttons carry the round and position they belong to, so a press on an old question is seen.

HINT, SHOW, SKIP, NEXT = "h", "a", "s", "n"


def question_data(action: str, round_id: int, position: int) -> str:
    return f"q:{action}:{round_id}:{position}"


def override_data(answer_id: int) -> str:
    return f"r:{answer_id}"


START_QUIZ = "start"


def deck_data(deck: Deck) -> str:
    return f"d:{deck_key(deck)}"


# --- private quiz -------------------------------------------------------------------------


def welcome(first_name: str) -> Reply:
    text = (
        f"Hi {esc(first_name)}! I quiz you on flashcards and grade what you type, "
        "point by point.\n\n"
        "• Tap <b>Start quiz</b> or send /quiz (or <code>/quiz 5</code> for five cards).\n"
        "• Just type your answer in your own words. Typos and shorthand are fine.\n"
        "• I tell you which points you got and which you missed.\n"
        "• Think I graded you unfairly? Tap <b>I was right</b>.\n\n"
        "/help lists everything I can do."
    )
    return Reply(text, [[("▶️ Start quiz", START_QUIZ)]])


HELP = (
    "<b>Commands</b>\n"
    "/quiz [N] — start a round of N cards (default 10)\n"
    "/stop — end the round and see the summary\n"
    "/score — your points, accuracy and daily streak\n"
    "/deck — see the decks and choose one\n"
    "/decks — your own decks: send me a file (YAML, CSV, TSV, TXT, .apkg) to add one\n"
    "/due — cards due now, today and this week\n"
    "/stats — your progress chart, mastery per tag, weakest cards\n"
    "/remind HH:MM [mon-fri] — a daily reminder (/remind off to stop)\n"
    "/timezone Area/City — your time zone for reminders\n"
    "/settings — new cards per day (/settings new 15)\n"
    "/help — this list\n\n"
    "<b>Answering</b>: type your answer as a normal message. Use the buttons under a question "
    "for a hint (costs points), to see the answer (counts as wrong) or to skip (not scored)."
)


def question(view: QuestionView) -> Reply:
    lines = [f"<b>Question {view.position + 1}/{view.total}</b>"]
    if view.parent is not None:
        lines.append(f"<i>Follows on from: {esc(view.parent.question)}</i>")
    lines.append("")
    lines.append(f"❓ {esc(view.card.question)}")
    if view.hints:
        lines.append("")
        for number, hint in enumerate(view.hints, start=1):
            lines.append(f"💡 Hint {number}: <code>{esc(hint)}</code>")
        lines.append(f"<i>Each hint costs {quiz.HINT_PENALTY} points.</i>")
    lines.append("")
    lines.append("<i>Type your answer.</i>")
    row: list[Button] = []
    if view.can_hint:
        row.append(("💡 Hint", question_data(HINT, view.round_id, view.position)))
    row.append(("👀 Show answer", question_data(SHOW, view.round_id, view.position)))
    row.append(("⏭ Skip", question_data(SKIP, view.round_id, view.position)))
    return Reply(fit("\n".join(lines)), [row])


def _points_word(points: int) -> str:
    return f"{points} point" if points == 1 else f"{points} points"


def feedback(view: FeedbackView) -> Reply:
    card = view.card
    if view.outcome == "revealed":
        head = "👀 <b>The answer</b> (counted as wrong)"
    elif view.overridden:
        head = "✅ <b>Counted as correct</b> — you said you were right."
    else:
        head = f"{VERDICT_MARKS[view.verdict]} <b>{VERDICT_WORDS[view.verdict]}</b>"
    lines = [head, ""]
    if view.outcome == "answered":
        for result in view.results:
            if result.matched:
                quote = (
                    f" — “{esc(clip(result.evidence, EVIDENCE_CHARS))}”" if result.evidence else ""
                )
                lines.append(f"✔️ {esc(result.text)}{quote}")
            else:
                lines.append(f"✖️ <i>missing:</i> {esc(result.text)}")
        lines.append("")
    lines.append("<b>Answer</b>")
    lines.extend(f"• {esc(point.text)}" for point in card.points)
    if card.summary:
        lines.append(f"<i>In short: {esc(card.summary)}</i>")
    if card.note:
        lines.append(f"📝 {esc(card.note)}")
    lines.append("")
    hint_note = f" ({view.hints} hint{'s' if view.hints != 1 else ''} used)" if view.hints else ""
    lines.append(f"<b>+{_points_word(view.points)}</b>{hint_note}")
    buttons: list[Button] = [
        (
            "🏁 Finish round" if view.is_last else "▶️ Next",
            question_data(NEXT, view.round_id, view.position),
        )
    ]
    if view.outcome == "answered" and not view.overridden and view.verdict != "correct":
        buttons.append(("🙋 I was right", override_data(view.answer_id)))
    return Reply(fit("\n".join(lines)), [buttons])


def summary(view: SummaryView) -> Reply:
    totals = view.summary
    lines = [
        "🏁 <b>Round over</b>",
        "",
        f"Cards: {totals.cards}",
        f"✅ {totals.correct}   🟡 {totals.partial}   ❌ {totals.wrong}   ⏭ {totals.skipped}",
        f"Points: <b>{totals.points}</b> of {totals.max_points}",
    ]
    if view.weakest:
        lines.append("")
        lines.append("<b>To review</b>")
        lines.extend(f"• {esc(card.question)}" for card in view.weakest)
    return Reply(fit("\n".join(lines)), [[("▶️ New round", START_QUIZ)]])


def score(view: ScoreView) -> Reply:
    lines = [
        f"📊 <b>{esc(view.first_name)}, your score</b>",
        "",
        f"Points: <b>{view.points}</b>",
        f"Answered: {view.answered} (✅ {view.correct}  🟡 {view.partial}  ❌ {view.wrong})",
        f"Accuracy: {view.accuracy:.0%}",
        f"Daily streak: {view.streak_current} (best {view.streak_best})",
    ]
    return Reply("\n".join(lines))


def deck_list(decks: Sequence[Deck], current: Deck) -> Reply:
    lines = ["📚 <b>Decks</b>", ""]
    for deck in decks:
        mark = "▶️" if deck is current else "•"
        lines.append(f"{mark} <b>{esc(deck.name)}</b> — {len(deck.cards)} cards")
        if deck.description:
            lines.append(f"   <i>{esc(clip(deck.description, 200))}</i>")
    if len(decks) > 1:
        lines.append("")
        lines.append("Choose the deck for your next rounds:")
        buttons = [[(clip(deck.name, 40), deck_data(deck))] for deck in decks]
        return Reply(fit("\n".join(lines)), buttons)
    return Reply(fit("\n".join(lines)))


NOTICES = {
    "no_round": "There is no question open. Send /quiz to start a round.",
    "awaiting_next": "Tap <b>Next</b> under my last message for the next question, or /stop.",
    "stale": "That question is closed.",
    "duplicate": "",
    "empty_answer": "Your answer was empty. Type it as a normal message.",
    "no_more_hints": "No more hints: every point is shown.",
    "already_overridden": "You can use “I was right” once per answer.",
    "not_yours": "That button is not for you.",
    "unknown_deck": "That deck is no longer available. Send /deck to see the decks.",
}

NOT_TEXT = "Please send your answer as text. I can't read stickers, photos or voice messages."
EDITED = "I grade the first version of an answer. Send a new message instead of editing."
UNKNOWN_COMMAND = "I don't know that command. /help lists the ones I know."
SLOW_DOWN = "You're sending messages very fast. I'll ignore a few; try again in a few seconds."
TRY_AGAIN = "Sorry, something went wrong on my side. Please try again in a moment."
