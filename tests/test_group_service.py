"""Group challenges on a real store (SQLite and PostgreSQL), without Telegram.

The concurrency tests run every answer in its own transaction at once (asyncio.gather), as
replicas or concurrent update processing would.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bot.core import challenge as rules
from bot.core.challenge import ChallengeRequest, Period
from bot.decks.loader import Card, Deck, Point
from bot.services.group import (
    Action,
    Announce,
    AnswerAccepted,
    ChallengeStarted,
    FinalView,
    Finish,
    GroupNotice,
    GroupService,
    Idle,
    NotDue,
    Player,
    QuestionView,
    ShowQuestion,
    Wait,
    WaitForClose,
    group_standings_for_user,
)
from bot.storage.base import SCHEMA_VERSION, Store, UserProfile
from bot.storage.group import challenge_answers, group_players

CHAT = -4001
ANN = Player(1, "Ann", "ann")
BOB = Player(2, "Bob")
CAROL = Player(3, "Carol")

#: Cards whose answers we know: a full, a partial and a wrong answer for each.
DECK = Deck(
    id="mini",
    name="Mini",
    cards=[
        Card(
            id="metrics",
            question="Which metric matters for training, and which for inference?",
            points=[Point("throughput", ("samples per second",)), Point("latency")],
        ),
        Card(
            id="allreduce",
            question="Name the two phases of ring AllReduce.",
            points=[Point("reduce-scatter"), Point("all-gather")],
        ),
        Card(
            id="memory",
            question="What limits the batch size on one accelerator, and what speeds it up?",
            points=[Point("memory"), Point("bandwidth")],
        ),
    ],
)
ANSWERS = {
    "metrics": ("throughput and latency", "latency", "bananas"),
    "allreduce": ("reduce-scatter then all-gather", "all-gather", "bananas"),
    "memory": ("memory and bandwidth", "memory", "bananas"),
}
FULL, PARTIAL, WRONG = 0, 1, 2


@pytest.fixture
def service(store: Store) -> GroupService:
    return GroupService(store, [DECK], rng=random.Random(7))


class Updates:
    """Fresh update ids, as Telegram hands them out."""

    def __init__(self) -> None:
        self.next_id = 1

    def __call__(self) -> int:
        self.next_id += 1
        return self.next_id


@pytest.fixture
def updates() -> Updates:
    return Updates()


async def start(
    service: GroupService,
    now: datetime,
    updates: Updates,
    *,
    questions: int = 3,
    seconds: int = 30,
    chat: int = CHAT,
    by: Player = ANN,
) -> ChallengeStarted:
    started = await service.start_challenge(
        chat, "Study group", by, ChallengeRequest(questions, seconds), now, updates()
    )
    assert isinstance(started, ChallengeStarted)
    return started


async def ask(
    service: GroupService, challenge_id: int, now: datetime, message_id: int, chat: int = CHAT
) -> QuestionView:
    """Drive to the next question and show it, as the Telegram driver does."""
    action = await service.advance(challenge_id, now)
    assert isinstance(action, ShowQuestion), action
    shown = await service.question_shown(action.question.question_id, chat, message_id, now)
    assert shown is not None
    return shown


def answer_for(view: QuestionView, kind: int) -> str:
    return ANSWERS[view.card.id][kind]


async def finish_question(service: GroupService, challenge_id: int, now: datetime) -> Announce:
    action = await service.advance(challenge_id, now)
    assert isinstance(action, Announce), action
    await service.results_posted(action.results.question_id, now)
    return action


async def totals_are_consistent(store: Store, chat_id: int) -> dict[int, int]:
    """Every player's stored total equals the sum of their answers' points; returns totals."""
    async with store.transaction() as tx:
        summed = dict(
            (
                await tx.conn.execute(
                    select(challenge_answers.c.user_id, func.sum(challenge_answers.c.points))
                    .where(challenge_answers.c.chat_id == chat_id)
                    .group_by(challenge_answers.c.user_id)
                )
            ).all()
        )
        stored = dict(
            (
                await tx.conn.execute(
                    select(group_players.c.user_id, group_players.c.points).where(
                        group_players.c.chat_id == chat_id
                    )
                )
            ).all()
        )
    assert {user: int(points) for user, points in summed.items()} == stored
    return stored


# --- concurrency ------------------------------------------------------------------------------


async def test_fifty_players_answering_at_once_are_all_graded_and_the_round_closes_once(
    service: GroupService, store: Store, now: datetime, updates: Updates
) -> None:
    started = await start(service, now, updates)
    question = await ask(service, started.challenge_id, now, message_id=10)
    players = [Player(1000 + number, f"Player {number}") for number in range(50)]
    kinds = [(FULL, PARTIAL, WRONG)[number % 3] for number in range(50)]
    answered_at = now + timedelta(seconds=2)

    results = await asyncio.gather(
        *[
            service.answer(CHAT, player, answer_for(question, kind), answered_at, updates())
            for player, kind in zip(players, kinds, strict=True)
        ]
    )

    assert all(isinstance(result, AnswerAccepted) for result in results), results
    accepted = [result for result in results if isinstance(result, AnswerAccepted)]
    verdicts = [result.verdict for result in accepted]
    assert verdicts.count("correct") == 17 and verdicts.count("wrong") == 16
    assert sum(result.points.first for result in accepted) == 2  # exactly one +2
    assert sum(result.grace_started for result in accepted) == 1

    closes = await asyncio.gather(
        *[
            service.close_question(question.question_id, now + timedelta(seconds=31))
            for _ in range(5)
        ]
    )
    assert sorted(closes) == [False, False, False, False, True]

    announce = await finish_question(service, started.challenge_id, now + timedelta(seconds=31))
    lines = announce.results.lines
    assert len(lines) == 50 and {line.user_id for line in lines} == {p.user_id for p in players}
    assert sum(1 for line in lines if line.points.first) == 1
    assert lines[0].points.first == 2  # the first full answer tops the list
    totals = await totals_are_consistent(store, CHAT)
    assert sum(totals.values()) == sum(result.points.total for result in accepted)
    assert announce.results.top[0].points == max(totals.values())


async def test_two_challenges_started_at_once_in_one_chat_give_one_challenge(
    service: GroupService, now: datetime, updates: Updates
) -> None:
    results = await asyncio.gather(
        *[
            service.start_challenge(
                CHAT, "Study group", player, ChallengeRequest(2, 30), now, updates()
            )
            for player in (ANN, BOB, CAROL)
        ]
    )
    started = [result for result in results if isinstance(result, ChallengeStarted)]
    refused = [result for result in results if isinstance(result, GroupNotice)]
    assert len(started) == 1
    assert [notice.kind for notice in refused] == ["already_running"] * 2
    assert {notice.name for notice in refused} == {started[0].started_by}


async def test_a_grace_close_and_the_timeout_racing_close_the_question_once(
    service: GroupService, now: datetime, updates: Updates
) -> None:
    started = await start(service, now, updates)
    question = await ask(service, started.challenge_id, now, 10)
    accepted = await service.answer(CHAT, ANN, answer_for(question, FULL), now, updates())
    assert isinstance(accepted, AnswerAccepted) and accepted.grace_started
    assert accepted.closes_at == now + timedelta(seconds=3)
    early = await service.close_question(question.question_id, now + timedelta(seconds=1))
    assert early == NotDue(now + timedelta(seconds=3))
    grace, timeout = await asyncio.gather(
        service.close_question(question.question_id, now + timedelta(seconds=3)),
        service.close_question(question.question_id, now + timedelta(seconds=30)),
    )
    assert sorted([grace, timeout]) == [False, True]


# --- answering --------------------------------------------------------------------------------


async def test_each_player_answers_once_and_a_second_answer_does_not_count(
    service: GroupService, store: Store, now: datetime, updates: Updates
) -> None:
    started = await start(service, now, updates)
    question = await ask(service, started.challenge_id, now, 10)
    first = await service.answer(CHAT, BOB, answer_for(question, PARTIAL), now, updates())
    second = await service.answer(CHAT, BOB, answer_for(question, FULL), now, updates())
    assert isinstance(first, AnswerAccepted) and first.verdict == "partial"
    assert second == GroupNotice("already_answered")
    just_late = await service.answer(  # after the deadline, before the close job ran
        CHAT, BOB, answer_for(question, FULL), now + timedelta(seconds=31), updates()
    )
    assert just_late == GroupNotice("already_answered")
    assert await totals_are_consistent(store, CHAT) == {BOB.user_id: first.points.total}


@pytest.mark.parametrize("answered_late", [False, True])
async def test_a_redelivered_answer_counts_once_and_is_told_again_only_if_it_never_was(
    service: GroupService, store: Store, now: datetime, updates: Updates, answered_late: bool
) -> None:
    """Redelivered before its reply went out (the replica died), an answer gets the same outcome
    again: a notice to send, or the accepted answer's grace close to schedule. Once replied
    to, it gets nothing."""
    started = await start(service, now, updates)
    question = await ask(service, started.challenge_id, now, 10)
    update_id = updates()
    at = now + timedelta(seconds=31 if answered_late else 5)
    first = await service.answer(CHAT, ANN, answer_for(question, FULL), at, update_id)
    assert isinstance(first, GroupNotice if answered_late else AnswerAccepted)
    again = await service.answer(CHAT, ANN, answer_for(question, FULL), at, update_id)
    assert again == first
    async with store.transaction() as tx:
        await tx.mark_replied(update_id, at)
    third = await service.answer(CHAT, ANN, answer_for(question, FULL), at, update_id)
    assert third == GroupNotice("duplicate")
    scores = {} if answered_late else {ANN.user_id: first.points.total}
    assert await totals_are_consistent(store, CHAT) == scores


async def test_a_start_redelivered_before_its_announcement_went_out_is_announced_once(
    service: GroupService, store: Store, now: datetime, updates: Updates
) -> None:
    """Announced again (and so driven on) while the reply is owed and the challenge runs; a
    second /challenge's refusal is owed the same way; nothing once replied, or once stopped."""
    request = ChallengeRequest(3, 30)
    started = await service.start_challenge(CHAT, "Study group", ANN, request, now, 50)
    refused = await service.start_challenge(CHAT, "Study group", BOB, request, now, 51)
    assert isinstance(started, ChallengeStarted)
    assert refused == GroupNotice("already_running", "Ann")
    for update_id, first in ((50, started), (51, refused)):
        again = await service.start_challenge(CHAT, "Study group", ANN, request, now, update_id)
        assert again == first
    async with store.transaction() as tx:
        await tx.mark_replied(51, now)
    assert await service.start_challenge(CHAT, "Study group", BOB, request, now, 51) == (
        GroupNotice("duplicate")
    )
    assert not isinstance(await service.stop_challenge(CHAT, ANN, now, updates()), GroupNotice)
    again = await service.start_challenge(CHAT, "Study group", ANN, request, now, 50)
    assert again == GroupNotice("duplicate")


async def past_question_one(
    service: GroupService, now: datetime, updates: Updates
) -> ChallengeStarted:
    """A challenge whose question 1 (message 10) closed and had its results at 30 s."""
    started = await start(service, now, updates)
    first = await ask(service, started.challenge_id, now, 10)
    await service.close_question(first.question_id, now + timedelta(seconds=30))
    await finish_question(service, started.challenge_id, now + timedelta(seconds=30))
    return started


async def test_only_a_reply_to_the_open_question_counts_as_an_answer(
    service: GroupService, now: datetime, updates: Updates
) -> None:
    started = await past_question_one(service, now, updates)
    later = now + timedelta(seconds=35)
    second = await ask(service, started.challenge_id, later, 20)
    old_reply = await service.answer(CHAT, ANN, "latency", later, updates(), reply_to=10)
    other_reply = await service.answer(CHAT, ANN, "gg", later, updates(), reply_to=15)
    right_reply = await service.answer(
        CHAT, ANN, answer_for(second, FULL), later, updates(), reply_to=20
    )
    assert old_reply == GroupNotice("closed_question")
    assert other_reply == GroupNotice("not_the_question")
    assert isinstance(right_reply, AnswerAccepted)


async def test_a_reply_that_beats_the_recording_of_the_question_message_still_counts(
    service: GroupService, now: datetime, updates: Updates
) -> None:
    started = await past_question_one(service, now, updates)
    results_sent = now + timedelta(seconds=30)
    later = now + timedelta(seconds=35)
    action = await service.advance(started.challenge_id, later)
    assert isinstance(action, ShowQuestion)
    # The question goes out slowly (flood control); message 20 is it, sent 20 s later.
    sent = later + timedelta(seconds=20)
    # Bob replies to the old results message meanwhile: that is no answer to question 2 ...
    to_results = await service.answer(
        CHAT, BOB, "gg", sent, updates(), reply_to=19, reply_sent_at=results_sent
    )
    # ... while Ann, quicker than the bot's bookkeeping, replies to the new question.
    quick = await service.answer(
        CHAT,
        ANN,
        answer_for(action.question, PARTIAL),
        sent,
        updates(),
        reply_to=20,
        reply_sent_at=sent.replace(microsecond=0),  # Telegram dates are whole seconds
    )
    shown = await service.question_shown(action.question.question_id, CHAT, 20, sent)
    late_old = await service.answer(CHAT, BOB, "latency", sent, updates(), reply_to=10)
    other = await service.answer(CHAT, BOB, "gg", sent, updates(), reply_to=15)
    assert to_results == GroupNotice("not_the_question")
    assert isinstance(quick, AnswerAccepted) and quick.verdict == "partial"
    assert shown is not None
    assert shown.closes_at == sent + timedelta(seconds=30)  # the clock starts when it is seen
    assert late_old == GroupNotice("closed_question")  # once recorded, the old rules hold
    assert other == GroupNotice("not_the_question")


OTHER_DECK = Deck(
    id="hardware",
    name="Hardware basics",
    cards=[Card(id="tpu", question="Google's accelerator?", points=[Point("TPU")])],
)


@pytest.mark.parametrize(
    ("named", "found"),
    [
        ("hardware", ["hardware"]),
        ("Hardware Basics", ["hardware"]),
        ("hard", ["hardware"]),  # a unique start
        (DECK.id, [DECK.id]),
        ("h", ["hardware", "history"]),  # the start of two: a question back
        ("biology", []),
    ],
)
def test_a_deck_is_found_by_id_name_or_the_start_of_one(
    store: Store, named: str, found: list[str]
) -> None:
    history = Deck(id="history", name="History", cards=OTHER_DECK.cards)
    service = GroupService(store, [DECK, OTHER_DECK, history])
    assert [deck.id for deck in service.decks_named(named)] == found


async def test_a_challenge_uses_the_named_deck_else_the_starters_own_deck(
    store: Store, now: datetime, updates: Updates
) -> None:
    service = GroupService(store, [DECK, OTHER_DECK], rng=random.Random(7))
    named = await service.start_challenge(
        CHAT, "Study group", ANN, ChallengeRequest(3, 30), now, updates(), deck_id="hardware"
    )
    assert isinstance(named, ChallengeStarted) and named.deck_name == "Hardware basics"
    assert named.questions == 1  # the deck has one card

    async with store.transaction() as tx:  # Bob chose the hardware deck in his private chat
        await tx.upsert_user(UserProfile(user_id=BOB.user_id, first_name="Bob"), now)
        await tx.set_user_deck(BOB.user_id, "hardware")
    his = await start(service, now, updates, chat=CHAT - 1, by=BOB)
    hers = await start(service, now, updates, chat=CHAT - 2, by=ANN)
    assert his.deck_name == "Hardware basics"
    assert hers.deck_name == DECK.name  # no choice made: the first deck


async def test_answers_after_the_deadline_or_without_a_challenge_are_refused(
    service: GroupService, now: datetime, updates: Updates
) -> None:
    assert await service.answer(CHAT, ANN, "latency", now, updates()) == GroupNotice("no_challenge")
    started = await start(service, now, updates, seconds=30)
    question = await ask(service, started.challenge_id, now, 10)
    late = now + timedelta(seconds=31)
    assert await service.answer(CHAT, BOB, "latency", late, updates()) == GroupNotice("too_late")
    assert await service.answer(CHAT, BOB, "  ", now, updates()) == GroupNotice("empty_answer")
    await service.close_question(question.question_id, late)
    assert await service.answer(CHAT, BOB, "latency", late, updates()) == GroupNotice("too_late")


async def test_streaks_speed_and_the_first_full_bonus_add_up_over_a_challenge(
    service: GroupService, now: datetime, updates: Updates
) -> None:
    started = await start(service, now, updates, questions=3, seconds=30)
    clock = now
    earned: list[tuple[int, int, int, int]] = []
    for _ in range(3):
        question = await ask(service, started.challenge_id, clock, 10)
        bob = await service.answer(
            CHAT, BOB, answer_for(question, FULL), clock + timedelta(seconds=3), updates()
        )
        ann = await service.answer(  # inside the 3-second grace window Bob's answer opened
            CHAT, ANN, answer_for(question, FULL), clock + timedelta(seconds=6), updates()
        )
        assert isinstance(bob, AnswerAccepted) and isinstance(ann, AnswerAccepted)
        earned.append((bob.points.total, bob.points.streak, ann.points.total, ann.points.streak))
        clock += timedelta(seconds=30)
        await service.close_question(question.question_id, clock)
        await finish_question(service, started.challenge_id, clock)
    # Bob answers first, after 3 s of 30: 10 + 5 speed (4.5 rounds up) + 2 first, then streaks.
    # Ann answers in the grace window, after 6 s: 10 + 4 speed, and the same streaks.
    assert earned == [(17, 0, 14, 0), (18, 1, 15, 1), (19, 2, 16, 2)]
    action = await service.advance(started.challenge_id, clock)
    assert isinstance(action, Finish)
    final = action.final
    assert [(s.rank, s.name, s.points) for s in final.standings] == [(1, "Bob", 54), (2, "Ann", 45)]
    assert final.participants == 2 and final.asked == 3
    assert await service.complete(started.challenge_id, clock)
    assert isinstance(await service.advance(started.challenge_id, clock), Idle)


# --- stopping, removal, migration, restart ------------------------------------------------------


async def test_only_the_starter_or_an_admin_can_stop_a_challenge(
    service: GroupService, now: datetime, updates: Updates
) -> None:
    started = await start(service, now, updates, by=ANN)
    question = await ask(service, started.challenge_id, now, 10)
    await service.answer(CHAT, BOB, answer_for(question, PARTIAL), now, updates())
    refused = await service.stop_challenge(CHAT, BOB, now, updates())
    assert refused == GroupNotice("not_allowed", "Ann")
    stopped = await service.stop_challenge(CHAT, CAROL, now, updates(), is_admin=True)
    assert isinstance(stopped, FinalView)
    assert (stopped.state, stopped.stopped_by, stopped.asked, stopped.total) == (
        "stopped",
        "Carol",
        1,
        3,
    )
    assert [s.name for s in stopped.standings] == ["Bob"]
    assert await service.stop_challenge(CHAT, ANN, now, updates()) == GroupNotice("no_challenge")
    assert isinstance(await service.advance(started.challenge_id, now), Idle)
    assert await service.close_question(question.question_id, now + timedelta(minutes=1)) is False


async def test_removing_the_bot_ends_the_challenge_and_keeps_the_scores(
    service: GroupService, store: Store, now: datetime, updates: Updates
) -> None:
    started = await start(service, now, updates)
    question = await ask(service, started.challenge_id, now, 10)
    await service.answer(CHAT, ANN, answer_for(question, FULL), now, updates())
    assert await service.end_in_chat(CHAT, "kicked", now) == started.challenge_id
    assert await service.end_in_chat(CHAT, "kicked", now) is None  # once
    assert isinstance(await service.advance(started.challenge_id, now), Idle)
    assert await totals_are_consistent(store, CHAT) == {ANN.user_id: 17}
    standings = await group_standings_for_user(store, ANN.user_id)
    assert [(s.title, s.rank, s.points, s.bot_present) for s in standings] == [
        ("Study group", 1, 17, False)
    ]


async def test_a_supergroup_migration_moves_scores_and_the_open_challenge(
    service: GroupService, store: Store, now: datetime, updates: Updates
) -> None:
    supergroup = -1_000_000_004_001
    # Bob already played in the new supergroup (someone answered there first): scores merge.
    other = await start(service, now, updates, chat=supergroup, questions=1, by=BOB)
    question = await ask(service, other.challenge_id, now, 5, chat=supergroup)
    await service.answer(supergroup, BOB, answer_for(question, FULL), now, updates())
    await service.close_question(question.question_id, now + timedelta(seconds=30))
    await finish_question(service, other.challenge_id, now + timedelta(seconds=30))
    await service.complete(other.challenge_id, now)

    started = await start(service, now, updates)
    question = await ask(service, started.challenge_id, now, 10)
    await service.answer(CHAT, ANN, answer_for(question, PARTIAL), now, updates())
    await service.answer(CHAT, BOB, answer_for(question, PARTIAL), now, updates())

    moved = await service.migrate_chat(CHAT, supergroup, now)
    assert moved.challenge_id == started.challenge_id
    assert moved.reshow is not None and moved.reshow.chat_id == supergroup
    assert moved.reshow.closes_at == question.closes_at  # the deadline stays
    again = await service.migrate_chat(CHAT, supergroup, now)  # the second service message
    assert (again.challenge_id, again.reshow) == (None, None)

    reshown = await service.question_shown(
        question.question_id, supergroup, 77, now + timedelta(seconds=1)
    )
    assert reshown is not None and reshown.closes_at == question.closes_at
    after = await service.answer(
        supergroup, CAROL, answer_for(question, FULL), now, updates(), reply_to=77
    )
    assert isinstance(after, AnswerAccepted)
    # Updates of the two chats are handled concurrently: an answer sent in the old group, by
    # reply to the old question message, may be handled after the move. It still counts.
    dan = Player(4, "Dan")
    late = await service.answer(CHAT, dan, answer_for(question, WRONG), now, updates(), reply_to=10)
    assert isinstance(late, AnswerAccepted) and late.question_id == question.question_id
    assert await service.running_in_chat(CHAT) == await service.running_in_chat(supergroup)

    board = await service.leaderboard(supergroup, Period.ALL, now)
    assert [(s.name, s.points) for s in board.standings] == [
        ("Bob", 25),
        ("Carol", 17),
        ("Ann", 8),
        ("Dan", 0),
    ]
    assert await service.leaderboard(CHAT, Period.ALL, now) == board  # the old id follows
    totals = await totals_are_consistent(store, supergroup)
    assert totals == {BOB.user_id: 25, CAROL.user_id: 17, ANN.user_id: 8, dan.user_id: 0}


async def before_a_stop(
    database_url: str, now: datetime, updates: Updates, *, seconds: int, answered_at: datetime
) -> ChallengeStarted:
    """A bot that starts a 2-question challenge, shows question 1, takes Ann's partial answer
    at ``answered_at``, and stops (its store is closed)."""
    store = await Store.open(database_url)
    try:
        service = GroupService(store, [DECK], rng=random.Random(7))
        started = await start(service, now, updates, questions=2, seconds=seconds)
        question = await ask(service, started.challenge_id, now, 10)
        await service.answer(CHAT, ANN, answer_for(question, PARTIAL), answered_at, updates())
        return started
    finally:
        await store.close()


async def test_after_a_restart_an_open_challenge_resumes_with_its_deadline(
    database_url: str, now: datetime, updates: Updates
) -> None:
    started = await before_a_stop(
        database_url, now, updates, seconds=20, answered_at=now + timedelta(seconds=4)
    )

    store = await Store.open(database_url)  # the bot restarts: a new store and service
    try:
        service = GroupService(store, [DECK], rng=random.Random(8))
        assert await service.running_challenges() == [started.challenge_id]
        before = await service.advance(started.challenge_id, now + timedelta(seconds=10))
        assert isinstance(before, WaitForClose)
        assert before.question.closes_at == now + timedelta(seconds=20)
        assert before.question.answered == 1

        # Down past the deadline: the question closes at once, with the answer given before.
        after = await service.advance(started.challenge_id, now + timedelta(minutes=5))
        assert isinstance(after, Announce)
        assert [(line.name, line.verdict) for line in after.results.lines] == [("Ann", "partial")]
        await service.results_posted(after.results.question_id, now + timedelta(minutes=5))
        following = await service.advance(started.challenge_id, now + timedelta(minutes=5))
        assert isinstance(following, ShowQuestion) and following.question.position == 1
        # Shown for the first time only now: its clock starts when it is shown.
        shown = await service.question_shown(
            following.question.question_id, CHAT, 11, now + timedelta(minutes=6)
        )
        assert shown is not None and shown.closes_at == now + timedelta(minutes=6, seconds=20)
    finally:
        await store.close()


# --- leaderboards -------------------------------------------------------------------------------


async def test_leaderboards_cover_all_time_this_week_and_today(
    service: GroupService, store: Store, now: datetime, updates: Updates
) -> None:
    async def play(at: datetime, player: Player, kind: int) -> None:
        started = await start(service, at, updates, questions=1)
        question = await ask(service, started.challenge_id, at, 10)
        await service.answer(CHAT, player, answer_for(question, kind), at, updates())
        await service.close_question(question.question_id, at + timedelta(seconds=30))
        await finish_question(service, started.challenge_id, at + timedelta(seconds=30))
        await service.complete(started.challenge_id, at)

    await play(now - timedelta(days=10), ANN, FULL)  # 17, long ago
    await play(now - timedelta(days=4), BOB, PARTIAL)  # Tuesday this week
    await play(now, CAROL, PARTIAL)  # today
    await play(now, BOB, WRONG)  # today, no points: still on today's table

    boards = {
        period: [
            (s.rank, s.name, s.points)
            for s in (await service.leaderboard(CHAT, period, now)).standings
        ]
        for period in Period
    }
    assert boards[Period.ALL] == [(1, "Ann", 17), (2, "Bob", 8), (2, "Carol", 8)]
    assert boards[Period.WEEK] == [(1, "Bob", 8), (1, "Carol", 8)]
    assert boards[Period.TODAY] == [(1, "Carol", 8), (2, "Bob", 0)]

    rank = await service.rank(CHAT, BOB, now)
    assert rank.standing is not None and (rank.standing.rank, rank.players, rank.points) == (
        2,
        3,
        8,
    )
    assert rank.week is not None and rank.week.rank == 1
    nobody = await service.rank(CHAT, Player(99, "Newcomer"), now)
    assert nobody.standing is None and nobody.players == 3
    assert [
        (s.rank, s.players, s.points) for s in await group_standings_for_user(store, BOB.user_id)
    ] == [(2, 3, 8)]


async def test_the_final_standings_name_the_participants_and_the_hardest_card(
    service: GroupService, now: datetime, updates: Updates
) -> None:
    started = await start(service, now, updates, questions=3)
    clock = now
    kinds = {0: (FULL, FULL), 1: (WRONG, PARTIAL), 2: (FULL, PARTIAL)}
    hardest_card = ""
    for position in range(3):
        question = await ask(service, started.challenge_id, clock, 10 + position)
        if position == 1:
            hardest_card = question.card.question
        for player, kind in zip((ANN, BOB), kinds[position], strict=True):
            await service.answer(CHAT, player, answer_for(question, kind), clock, updates())
        clock += timedelta(seconds=30)
        await service.close_question(question.question_id, clock)
        await finish_question(service, started.challenge_id, clock)
    action = await service.advance(started.challenge_id, clock)
    assert isinstance(action, Finish)
    assert action.final.participants == 2
    assert action.final.hardest is not None and action.final.hardest.question == hardest_card
    assert action.final.hardest_mean == pytest.approx(0.25)


# --- replicas: every group message posted once ----------------------------------------------------


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[tuple[GroupService, GroupService]]:
    """Two bot replicas, each with its own store (connection pool) on the one database."""
    stores = [await Store.open(database_url) for _ in range(2)]
    try:
        yield (
            GroupService(stores[0], [DECK], rng=random.Random(7), replica="a", break_seconds=3),
            GroupService(stores[1], [DECK], rng=random.Random(7), replica="b", break_seconds=3),
        )
    finally:
        for store in stores:
            await store.close()


class Poster:
    """What the Telegram driver does with ``advance``: post what it is handed, then report it.

    ``posted`` is every group message handed out for posting, in order, across replicas.
    """

    def __init__(self, challenge_id: int) -> None:
        self.challenge_id = challenge_id
        self.posted: list[str] = []
        self.message_id = 100

    async def drive(self, replica: GroupService, at: datetime) -> Action:
        action = await replica.advance(self.challenge_id, at)
        if isinstance(action, ShowQuestion):
            self.posted.append(f"question {action.question.position + 1}")
            self.message_id += 1
            await asyncio.sleep(0)  # the send: others run meanwhile
            await replica.question_shown(action.question.question_id, CHAT, self.message_id, at)
        elif isinstance(action, Announce):
            self.posted.append(f"results {action.results.position + 1}")
            await asyncio.sleep(0)
            await replica.results_posted(action.results.question_id, at)
        elif isinstance(action, Finish):
            self.posted.append("final")
            await asyncio.sleep(0)
            assert await replica.complete(self.challenge_id, at)
        return action


async def test_two_replicas_racing_to_drive_a_challenge_hand_out_each_message_once(
    replicas: tuple[GroupService, GroupService], now: datetime, updates: Updates
) -> None:
    a, b = replicas
    started = await start(a, now, updates, questions=3, seconds=30)
    poster = Poster(started.challenge_id)
    players = [ANN, BOB, CAROL, Player(4, "Dan")]
    clock = now
    for position in range(3):
        # Both replicas' drive jobs fire at once, twice each: one of them shows the question.
        actions = await asyncio.gather(*[poster.drive(r, clock) for r in (a, b, a, b)])
        shown = [action for action in actions if isinstance(action, ShowQuestion)]
        assert len(shown) == 1 and shown[0].question.position == position, actions
        assert all(isinstance(x, ShowQuestion | Wait | WaitForClose) for x in actions), actions
        view = await a.question_status(shown[0].question.question_id, clock)
        assert view is not None and view.message_id is not None

        # Answers arrive at both replicas at once (a load balancer spreads them).
        answered = await asyncio.gather(
            *[
                (a, b)[number % 2].answer(
                    CHAT,
                    player,
                    answer_for(view, (PARTIAL, WRONG)[number % 2]),
                    clock + timedelta(seconds=5),
                    updates(),
                )
                for number, player in enumerate(players)
            ]
        )
        assert all(isinstance(result, AnswerAccepted) for result in answered), answered

        # At the deadline both replicas' close jobs and drive jobs race.
        clock += timedelta(seconds=30)
        outcomes = await asyncio.gather(
            a.close_question(view.question_id, clock),
            b.close_question(view.question_id, clock),
            *[poster.drive(r, clock) for r in (a, b, a, b)],
        )
        closed = [outcome for outcome in outcomes[:2] if isinstance(outcome, bool)]
        assert closed.count(True) <= 1
        announced = [x for x in outcomes[2:] if isinstance(x, Announce)]
        assert len(announced) == 1
        assert len(announced[0].results.lines) == 4  # every answer, from either replica
        # The pause after the results holds on both replicas.
        pauses = await asyncio.gather(
            a.advance(started.challenge_id, clock),
            b.advance(started.challenge_id, clock + timedelta(seconds=2)),
        )
        assert pauses == [Wait(clock + timedelta(seconds=3))] * 2
        clock += timedelta(seconds=3)

    finals = await asyncio.gather(*[poster.drive(r, clock) for r in (a, b, a, b)])
    assert sum(isinstance(action, Finish) for action in finals) == 1
    assert all(isinstance(action, Finish | Wait | Idle) for action in finals), finals
    assert poster.posted == [
        "question 1",
        "results 1",
        "question 2",
        "results 2",
        "question 3",
        "results 3",
        "final",
    ]
    assert [await r.advance(started.challenge_id, clock) for r in (a, b)] == [Idle(), Idle()]


async def test_a_message_claimed_by_a_replica_that_crashed_is_taken_over_after_the_lease(
    replicas: tuple[GroupService, GroupService], now: datetime, updates: Updates
) -> None:
    a, b = replicas
    lease = timedelta(seconds=a.lease_seconds)
    started = await start(a, now, updates, questions=1, seconds=30)
    challenge_id = started.challenge_id

    # A claims question 1, then dies before posting it. B waits out A's lease, then shows it.
    claimed = await a.advance(challenge_id, now)
    assert isinstance(claimed, ShowQuestion)
    # Handed out once per lease, even to the replica holding it (two of its jobs racing).
    assert await a.advance(challenge_id, now + timedelta(seconds=5)) == Wait(now + lease)
    assert await b.advance(challenge_id, now + timedelta(seconds=10)) == Wait(now + lease)
    clock = now + lease
    taken = await b.advance(challenge_id, clock)
    assert isinstance(taken, ShowQuestion)
    assert taken.question.question_id == claimed.question.question_id
    assert await a.advance(challenge_id, clock) == Wait(clock + lease)  # A is back: B has it
    shown = await b.question_shown(taken.question.question_id, CHAT, 10, clock)
    assert shown is not None and shown.closes_at == clock + timedelta(seconds=30)
    await a.answer(CHAT, ANN, answer_for(shown, PARTIAL), clock, updates())

    # The results: B claims them and dies; A posts them once B's lease is over.
    clock += timedelta(seconds=30)
    results = await b.advance(challenge_id, clock)
    assert isinstance(results, Announce)
    assert await a.advance(challenge_id, clock + lease - timedelta(seconds=1)) == Wait(
        clock + lease
    )
    clock += lease
    again = await a.advance(challenge_id, clock)
    assert isinstance(again, Announce) and again.results == results.results
    await a.results_posted(again.results.question_id, clock)

    # The final standings: A claims them and dies; B takes over, and only B's post counts.
    clock += timedelta(seconds=3)
    final = await a.advance(challenge_id, clock)
    assert isinstance(final, Finish)
    assert await b.advance(challenge_id, clock) == Wait(clock + lease)
    clock += lease
    taken_final = await b.advance(challenge_id, clock)
    assert isinstance(taken_final, Finish) and taken_final.final == final.final
    assert await b.complete(challenge_id, clock)
    assert await a.advance(challenge_id, clock) == Idle()
    assert await a.complete(challenge_id, clock) is False


async def test_a_stop_while_the_final_standings_are_being_posted_does_not_post_them_again(
    replicas: tuple[GroupService, GroupService], now: datetime, updates: Updates
) -> None:
    a, b = replicas
    started = await start(a, now, updates, questions=1, by=ANN)
    question = await ask(a, started.challenge_id, now, 10)
    await b.answer(CHAT, BOB, answer_for(question, FULL), now, updates())
    clock = now + timedelta(seconds=30)
    await finish_question(a, started.challenge_id, clock)
    clock += timedelta(seconds=3)
    assert isinstance(await a.advance(started.challenge_id, clock), Finish)
    assert await b.stop_challenge(CHAT, ANN, clock, updates()) == GroupNotice("finishing")
    assert await a.complete(started.challenge_id, clock)
    assert await b.stop_challenge(CHAT, ANN, clock, updates()) == GroupNotice("no_challenge")


async def test_a_challenge_running_in_a_version_5_database_goes_on_after_the_upgrade(
    database_url: str, now: datetime, updates: Updates
) -> None:
    started = await before_a_stop(database_url, now, updates, seconds=30, answered_at=now)
    store = await Store.open(database_url)
    try:  # back to schema version 5: no posting columns
        async with store.engine.begin() as conn:
            for column in ("posting_step", "posting_by", "posting_until", "paused_until"):
                await conn.execute(text(f"ALTER TABLE challenges DROP COLUMN {column}"))
            await conn.execute(text("DELETE FROM schema_versions WHERE version > 5"))
    finally:
        await store.close()

    store = await Store.open(database_url)
    try:
        assert await store.schema_version() == SCHEMA_VERSION
        service = GroupService(store, [DECK], rng=random.Random(7), break_seconds=3)
        clock = now + timedelta(seconds=30)
        results = await service.advance(started.challenge_id, clock)
        assert isinstance(results, Announce)
        assert [(line.name, line.verdict) for line in results.results.lines] == [("Ann", "partial")]
        await service.results_posted(results.results.question_id, clock)
        assert await service.advance(started.challenge_id, clock) == Wait(
            clock + timedelta(seconds=3)
        )
        following = await service.advance(started.challenge_id, clock + timedelta(seconds=3))
        assert isinstance(following, ShowQuestion) and following.question.position == 1
    finally:
        await store.close()


async def test_a_replica_whose_send_failed_gives_its_claim_back_so_the_retry_posts_at_once(
    replicas: tuple[GroupService, GroupService], now: datetime, updates: Updates
) -> None:
    a, b = replicas
    started = await start(a, now, updates, questions=1)
    claimed = await a.advance(started.challenge_id, now)
    assert isinstance(claimed, ShowQuestion)
    assert await b.posting_failed(started.challenge_id) is False  # not B's claim to give
    assert isinstance(await b.advance(started.challenge_id, now), Wait)
    assert await a.posting_failed(started.challenge_id) is True
    retried = await b.advance(started.challenge_id, now + timedelta(seconds=5))
    assert isinstance(retried, ShowQuestion)
    assert retried.question.question_id == claimed.question.question_id


async def test_a_holder_renewing_its_claim_keeps_other_replicas_waiting_until_the_new_end(
    replicas: tuple[GroupService, GroupService], now: datetime, updates: Updates
) -> None:
    a, b = replicas
    lease = timedelta(seconds=a.lease_seconds)
    started = await start(a, now, updates, questions=1)
    claimed = await a.advance(started.challenge_id, now)
    assert isinstance(claimed, ShowQuestion) and claimed.step == "question 1"

    renewed_at = now + timedelta(seconds=40)
    assert await a.renew_posting(started.challenge_id, claimed.step, renewed_at)
    # Past the first lease B still waits, for the renewed lease; then it takes over.
    assert await b.advance(started.challenge_id, now + lease) == Wait(renewed_at + lease)
    taken = await b.advance(started.challenge_id, renewed_at + lease)
    assert isinstance(taken, ShowQuestion) and taken.question == claimed.question


async def test_a_renewal_by_another_replica_or_for_another_step_leaves_the_lease_as_it_was(
    replicas: tuple[GroupService, GroupService], now: datetime, updates: Updates
) -> None:
    a, b = replicas
    lease = timedelta(seconds=a.lease_seconds)
    started = await start(a, now, updates, questions=2)
    claimed = await a.advance(started.challenge_id, now)
    assert isinstance(claimed, ShowQuestion)

    later = now + timedelta(seconds=40)
    assert not await b.renew_posting(started.challenge_id, "question 1", later)
    assert not await a.renew_posting(started.challenge_id, "question 2", later)
    assert not await a.renew_posting(started.challenge_id, "results 1", later)
    assert await b.advance(started.challenge_id, later) == Wait(now + lease)
    taken = await b.advance(started.challenge_id, now + lease)
    assert isinstance(taken, ShowQuestion)
    # A's claim is gone now: it cannot renew it back from under B.
    assert not await a.renew_posting(started.challenge_id, "question 1", now + lease)
    assert await a.advance(started.challenge_id, now + lease) == Wait(now + lease + lease)


async def test_a_posted_message_has_no_claim_left_to_renew(
    replicas: tuple[GroupService, GroupService], now: datetime, updates: Updates
) -> None:
    a, _ = replicas
    started = await start(a, now, updates, questions=1)
    claimed = await a.advance(started.challenge_id, now)
    assert isinstance(claimed, ShowQuestion)
    await a.question_shown(claimed.question.question_id, CHAT, 10, now)
    assert not await a.renew_posting(started.challenge_id, claimed.step, now)


async def test_a_send_outlasting_its_lease_while_the_holder_renews_it_is_posted_once(
    replicas: tuple[GroupService, GroupService], now: datetime, updates: Updates
) -> None:
    """A's send waits out rate limits for three leases; renewing every third of a lease (as
    the driver does while it sends) keeps B waiting all along, and B never gets the message."""
    a, b = replicas
    lease = a.lease_seconds
    started = await start(a, now, updates, questions=1)
    claimed = await a.advance(started.challenge_id, now)
    assert isinstance(claimed, ShowQuestion)

    beat = timedelta(seconds=rules.renewal_interval(lease))
    clock = now
    while clock < now + timedelta(seconds=3 * lease):
        clock += beat
        assert await a.renew_posting(started.challenge_id, claimed.step, clock)
        # B's adopt and drive jobs look in just before A's next renewal.
        waiting = await b.advance(started.challenge_id, clock + beat - timedelta(seconds=1))
        assert waiting == Wait(clock + timedelta(seconds=lease))

    await a.question_shown(claimed.question.question_id, CHAT, 10, clock)
    assert isinstance(await b.advance(started.challenge_id, clock), WaitForClose)
