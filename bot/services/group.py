"""The group challenge service: one method per thing that happens in a group, one unit of work each.

Like ``bot.services.quiz`` it joins the pure rules (``bot.core.challenge``, grading) to the store
and knows nothing of Telegram: methods take ``now`` and the ``update_id`` (claimed in the same
transaction as the effects, so a redelivered update never counts twice) and return plain views or a
``GroupNotice``. The Telegram adapter drives a challenge by calling ``advance`` and doing what
the returned action says; because the whole state is stored, a restarted bot resumes that way.

Replicas: every replica may drive every challenge. ``advance`` hands out each group message (a
question, its results, the final standings) to one replica only, under a claim with a lease
(``bot.core.challenge.may_post``); the others get ``Wait`` until the lease ends, and take the
message over if it was not posted by then (the replica crashed). A replica whose send takes long
keeps its lease with ``renew_posting``.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core import challenge as rules
from bot.core.cards import Card, Deck, Point
from bot.core.challenge import AnswerPoints, ChallengeRequest, Period, Standing
from bot.core.grading import grade, prepare_deck
from bot.services.catalogue import DeckCatalogue
from bot.services.heap import freeze_long_lived
from bot.storage.base import Store, Tx
from bot.storage.decks import DeckQueries
from bot.storage.group import (
    CLOSED,
    OPEN,
    RUNNING,
    ChallengeRepo,
    ChallengeRow,
    GroupStanding,
    QuestionRow,
)
from bot.storage.updates import Note

#: The longest answer we store and grade; Telegram's own message limit.
MAX_ANSWER_CHARS = 4096
#: A close job that fires this early (clock skew) still closes the question.
CLOSE_TOLERANCE = timedelta(milliseconds=500)
#: How many players the final standings and the leaderboard list.
TABLE_SIZE = 10
#: How many players the running standings after each question list.
TOP_AFTER_QUESTION = 5


@dataclass(frozen=True)
class Player:
    """Who sent an update in a group, by their display name (never shown as an id)."""

    user_id: int
    name: str
    username: str | None = None


@dataclass(frozen=True)
class GroupNotice:
    """A situation to tell the group about instead of a normal result.

    kinds: duplicate, no_challenge, already_running, already_answered, too_late,
    closed_question, not_the_question, empty_answer, not_allowed, finishing.
    ``name`` is the challenge starter's name where it helps (already_running, not_allowed).
    """

    kind: str
    name: str = ""


@dataclass(frozen=True)
class ChallengeStarted:
    challenge_id: int
    chat_id: int
    questions: int
    requested: int
    seconds: int
    grace_seconds: float
    deck_name: str
    started_by: str


@dataclass(frozen=True)
class QuestionView:
    """A question as the group sees it, with its countdown state."""

    challenge_id: int
    question_id: int
    chat_id: int
    position: int
    total: int
    card: Card
    parent: Card | None
    seconds: int
    state: str
    message_id: int | None
    asked_at: datetime
    closes_at: datetime
    answered: int
    full_answer_in: bool
    running: bool = True


@dataclass(frozen=True)
class AnswerAccepted:
    """An answer was graded and recorded; ``grace_started`` moves the close to ``closes_at``."""

    challenge_id: int
    question_id: int
    verdict: str
    points: AnswerPoints
    grace_started: bool
    closes_at: datetime


@dataclass(frozen=True)
class AnswerLine:
    user_id: int
    name: str
    verdict: str
    points: AnswerPoints


@dataclass(frozen=True)
class ResultsView:
    """What the group sees when a question closes."""

    challenge_id: int
    question_id: int
    chat_id: int
    position: int
    total: int
    card: Card
    lines: list[AnswerLine]
    top: list[Standing]
    full_answer_in: bool


@dataclass(frozen=True)
class FinalView:
    """The end of a challenge: standings, participants and the hardest card."""

    challenge_id: int
    chat_id: int
    state: str  # finished | stopped | ended
    standings: list[Standing]
    participants: int
    hardest: Card | None
    hardest_mean: float
    asked: int
    total: int
    stopped_by: str | None = None


@dataclass(frozen=True)
class NotDue:
    """A close was asked for before the deadline: run it again at ``closes_at``."""

    closes_at: datetime


# What the driver does next for a challenge (see ``GroupService.advance``).


@dataclass(frozen=True)
class Idle:
    """The challenge is not running: nothing to do."""


@dataclass(frozen=True)
class ShowQuestion:
    """Send this question, then report its message with ``question_shown``."""

    question: QuestionView

    @property
    def step(self) -> str:
        """The claimed step; ``renew_posting`` it while the send lasts."""
        return rules.question_step(self.question.position)


@dataclass(frozen=True)
class WaitForClose:
    """The question is shown and open: close it at ``question.closes_at``."""

    question: QuestionView


@dataclass(frozen=True)
class Announce:
    """Post these results, then ``results_posted``; the next question follows after a pause."""

    results: ResultsView

    @property
    def step(self) -> str:
        return rules.results_step(self.results.position)


@dataclass(frozen=True)
class Finish:
    """Post the final standings, then ``complete``."""

    final: FinalView

    @property
    def step(self) -> str:
        return rules.FINAL_STEP


@dataclass(frozen=True)
class Wait:
    """Nothing to post before ``until``: the pause after results, or another replica is
    posting the next message (if its claim lapses, ``advance`` hands that message out again)."""

    until: datetime


Action = Idle | ShowQuestion | WaitForClose | Announce | Finish | Wait


@dataclass(frozen=True)
class RunningChallenge:
    challenge_id: int
    started_by: int
    started_by_name: str


@dataclass(frozen=True)
class LeaderboardView:
    chat_id: int
    period: Period
    standings: list[Standing]
    players: int


@dataclass(frozen=True)
class RankView:
    name: str
    standing: Standing | None
    players: int
    points: int
    answers: int
    full_answers: int
    week: Standing | None


@dataclass(frozen=True)
class Migration:
    """A group became a supergroup; ``reshow`` is an open question to post in the new chat."""

    old_chat_id: int
    new_chat_id: int
    challenge_id: int | None
    reshow: QuestionView | None


@dataclass
class GroupService:
    """Group challenges over the loaded decks and the store.

    ``replica`` names this process in posting claims; ``break_seconds`` is the pause between a
    question's results and what follows; ``lease_seconds`` how long a claim to post holds.
    """

    store: Store
    decks: Sequence[Deck]
    rng: random.Random = field(default_factory=random.Random)
    replica: str = field(default_factory=lambda: uuid.uuid4().hex)
    break_seconds: float = 0.0
    lease_seconds: float = rules.DEFAULT_POSTING_LEASE_SECONDS

    #: Users' decks as well as the bundled ones (shared with the quiz service).
    catalogue: DeckCatalogue | None = None

    def __post_init__(self) -> None:
        if not self.decks:
            raise ValueError("at least one deck is needed")
        self.decks = list(self.decks)
        unprepared = [deck for deck in self.decks if not all(card.cache for card in deck.cards)]
        for deck in unprepared:
            prepare_deck(deck)
        if unprepared:
            freeze_long_lived()  # prepared decks live on: keep full collections off them
        if self.catalogue is None:
            self.catalogue = DeckCatalogue(self.decks)

    def deck(self, deck_id: str | None = None) -> Deck:
        """The deck with this id, or the first deck (the one challenges use by default)."""
        assert self.catalogue is not None
        return self.catalogue.deck(deck_id)

    def decks_named(self, name: str) -> list[Deck]:
        """The decks a player may mean in /challenge: the one whose id or name it is, else
        every deck whose id or name starts so (one is a match; several, a question back)."""
        wanted = name.strip().casefold()
        for deck in self.decks:
            if wanted in (deck.id.casefold(), deck.name.casefold()):
                return [deck]
        return [
            deck
            for deck in self.decks
            if deck.id.casefold().startswith(wanted) or deck.name.casefold().startswith(wanted)
        ]

    def _card(self, deck_id: str, card_id: str) -> Card:
        card = self.deck(deck_id).by_id.get(card_id)
        if card is None:  # the deck changed under a running challenge
            return Card(
                id=card_id,
                question="(this card was removed from the deck)",
                points=[Point("(removed)")],
            )
        return card

    @staticmethod
    async def _lock_running(repo: ChallengeRepo, chat_id: int) -> ChallengeRow | None:
        """Lock the running challenge of this chat, or of the supergroup it became.

        Updates of different chats are handled concurrently, so an answer from the old group
        may meet a migration half-way: if the lock finds nothing, look up the id once more.
        """
        target = await repo.resolve_chat(chat_id)
        challenge = await repo.lock_running_in_chat(target)
        if challenge is None:
            moved = await repo.resolve_chat(chat_id)
            if moved != target:
                challenge = await repo.lock_running_in_chat(moved)
        return challenge

    # --- views -----------------------------------------------------------------------------

    async def _question_view(
        self, repo: ChallengeRepo, challenge: ChallengeRow, question: QuestionRow
    ) -> QuestionView:
        card = self._card(challenge.deck_id, question.card_id)
        return QuestionView(
            challenge_id=challenge.challenge_id,
            question_id=question.question_id,
            chat_id=challenge.chat_id,
            position=question.position,
            total=challenge.total,
            card=card,
            parent=self.deck(challenge.deck_id).parent_of(card),
            seconds=challenge.seconds,
            state=question.state,
            message_id=question.message_id,
            asked_at=question.asked_at,
            closes_at=question.closes_at,
            answered=await repo.answer_count(question.question_id),
            full_answer_in=question.first_full_user_id is not None,
            running=challenge.state == RUNNING,
        )

    async def _results(
        self, repo: ChallengeRepo, challenge: ChallengeRow, question: QuestionRow
    ) -> ResultsView:
        answers = await repo.question_answers(question.question_id)
        answers.sort(key=lambda answer: (-answer.points, answer.answered_at, answer.answer_id))
        lines = [
            AnswerLine(
                user_id=answer.user_id,
                name=answer.name,
                verdict=answer.verdict,
                points=AnswerPoints(
                    answer.base_points, answer.speed_bonus, answer.streak_bonus, answer.first_bonus
                ),
            )
            for answer in answers
        ]
        standings = rules.rank_entries(await repo.challenge_entries(challenge.challenge_id))
        return ResultsView(
            challenge_id=challenge.challenge_id,
            question_id=question.question_id,
            chat_id=challenge.chat_id,
            position=question.position,
            total=challenge.total,
            card=self._card(challenge.deck_id, question.card_id),
            lines=lines,
            top=standings[:TOP_AFTER_QUESTION],
            full_answer_in=question.first_full_user_id is not None,
        )

    async def _final(self, repo: ChallengeRepo, challenge: ChallengeRow, state: str) -> FinalView:
        entries = await repo.challenge_entries(challenge.challenge_id)
        stats = await repo.card_stats(challenge.challenge_id)
        hardest = rules.hardest_card(stats)
        return FinalView(
            challenge_id=challenge.challenge_id,
            chat_id=challenge.chat_id,
            state=state,
            standings=rules.rank_entries(entries),
            participants=len(entries),
            hardest=self._card(challenge.deck_id, hardest.card_id) if hardest else None,
            hardest_mean=hardest.mean if hardest else 0.0,
            asked=len(stats),
            total=challenge.total,
            stopped_by=challenge.stopped_by_name,
        )

    # --- starting and driving --------------------------------------------------------------

    async def _claim(
        self, repo: ChallengeRepo, challenge: ChallengeRow, step: str, now: datetime
    ) -> Wait | None:
        """Claim the posting of ``step`` for this replica; a ``Wait`` when another has it."""
        if rules.may_post(challenge.posting, step, now) and await repo.claim_posting(
            challenge.challenge_id,
            step,
            self.replica,
            rules.lease_until(now, self.lease_seconds),
            now,
        ):
            return None
        held = challenge.posting
        return Wait(held.until if held is not None else rules.lease_until(now, self.lease_seconds))

    async def start_challenge(
        self,
        chat_id: int,
        chat_title: str | None,
        player: Player,
        request: ChallengeRequest,
        now: datetime,
        update_id: int | None = None,
        *,
        grace_seconds: float = rules.DEFAULT_GRACE_SECONDS,
        deck_id: str | None = None,
    ) -> ChallengeStarted | GroupNotice:
        """Create a running challenge (one per chat); ``advance`` then asks question 1.

        Without ``deck_id`` the challenge uses the deck a chat admin picked for the group,
        else the deck the starter chose for themselves.
        """
        async with self.store.transaction() as tx:
            return await tx.once(
                update_id,
                now,
                lambda: self._create_challenge(
                    tx, chat_id, chat_title, player, request, now, grace_seconds, deck_id
                ),
                group_note,
                lambda note: self._outcome_again(tx, note),
            )

    async def _outcome_again(self, tx: Tx, note: Note | None) -> Any:
        """What a redelivered start or answer gets: its noted outcome if the reply never went
        out, else "duplicate"; a start is announced again only while its challenge runs."""
        result = group_from_note(note)
        if isinstance(result, ChallengeStarted):
            running = await ChallengeRepo(tx).running_in_chat(result.chat_id)
            if running is None or running.challenge_id != result.challenge_id:
                return GroupNotice("duplicate")
        return result

    async def _create_challenge(
        self,
        tx: Tx,
        chat_id: int,
        chat_title: str | None,
        player: Player,
        request: ChallengeRequest,
        now: datetime,
        grace_seconds: float,
        deck_id: str | None,
    ) -> ChallengeStarted | GroupNotice:
        if deck_id is None:
            deck_id = await DeckQueries(tx.conn).chat_deck(chat_id)
        if deck_id is None:
            starter = await tx.get_user(player.user_id)
            deck_id = starter.deck_id if starter is not None else None
        deck = self.deck(deck_id)
        count = min(request.questions, len(deck.cards))
        card_ids = [card.id for card in self.rng.sample(deck.cards, count)]
        repo = ChallengeRepo(tx)
        chat_id = await repo.resolve_chat(chat_id)
        await repo.touch_chat(chat_id, chat_title, now)
        challenge_id = await repo.create_challenge(
            chat_id=chat_id,
            started_by=player.user_id,
            started_by_name=player.name[:256],
            deck_id=deck.id,
            card_ids=card_ids,
            seconds=request.seconds,
            grace_seconds=grace_seconds,
            started_at=now,
        )
        if challenge_id is None:
            running = await repo.running_in_chat(chat_id)
            return GroupNotice("already_running", running.started_by_name if running else "")
        return ChallengeStarted(
            challenge_id=challenge_id,
            chat_id=chat_id,
            questions=count,
            requested=request.questions,
            seconds=request.seconds,
            grace_seconds=grace_seconds,
            deck_name=deck.name,
            started_by=player.name,
        )

    async def advance(self, challenge_id: int, now: datetime) -> Action:
        """Take the challenge one step on from its stored state and say what to send.

        Opens the next question when the last one was announced (after the pause), closes a
        question whose deadline passed (e.g. while the bot was down), and otherwise reports what
        is pending. Each message to post (ShowQuestion, Announce, Finish) is claimed for this
        replica first: another replica calling meanwhile gets ``Wait`` until the claim's lease
        ends. Safe to call any number of times: every change in here is conditional.
        """
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            challenge = await repo.lock_challenge(challenge_id)
            if challenge is None or challenge.state != RUNNING:
                return Idle()
            question = (
                await repo.question_at(challenge_id, challenge.position)
                if challenge.position >= 0
                else None
            )
            if question is not None and question.state == OPEN:
                if question.message_id is None:
                    step = rules.question_step(question.position)
                    return await self._claim(repo, challenge, step, now) or ShowQuestion(
                        await self._question_view(repo, challenge, question)
                    )
                if question.closes_at > now + CLOSE_TOLERANCE:
                    return WaitForClose(await self._question_view(repo, challenge, question))
                await repo.close_question(question.question_id, now)
                question = await repo.question(question.question_id)
                assert question is not None
            if question is not None and question.state == CLOSED:
                step = rules.results_step(question.position)
                return await self._claim(repo, challenge, step, now) or Announce(
                    await self._results(repo, challenge, question)
                )
            if challenge.paused_until is not None and challenge.paused_until > now:
                return Wait(challenge.paused_until)
            position = challenge.position + 1
            if position >= challenge.total:
                return await self._claim(repo, challenge, rules.FINAL_STEP, now) or Finish(
                    await self._final(repo, challenge, "finished")
                )
            waiting = await self._claim(repo, challenge, rules.question_step(position), now)
            if waiting is not None:  # cannot happen under the lock: the question is new
                return waiting
            question = await repo.open_question(
                challenge_id=challenge_id,
                position=position,
                card_id=challenge.card_ids[position],
                asked_at=now,
                closes_at=now + timedelta(seconds=challenge.seconds),
            )
            await repo.set_position(challenge_id, position)
            return ShowQuestion(await self._question_view(repo, challenge, question))

    async def question_shown(
        self, question_id: int, chat_id: int, message_id: int, now: datetime
    ) -> QuestionView | None:
        """Keep the message that shows the question; the clock starts when it is first shown.

        A question re-posted (after a migration) keeps its deadline; replies to either message
        count.
        """
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            question = await repo.question(question_id)
            if question is None:
                return None
            challenge = await repo.lock_challenge(question.challenge_id)
            assert challenge is not None
            question = await repo.question(question_id)
            assert question is not None
            # (A reply that raced the recording may have answered already: the clock still
            # starts now, when players can first see the question.)
            first_show = (
                question.message_id is None
                and question.state == OPEN
                and question.first_full_user_id is None
            )
            if first_show:
                await repo.set_question_shown(
                    question_id,
                    message_id,
                    asked_at=now,
                    closes_at=now + timedelta(seconds=challenge.seconds),
                )
            else:
                await repo.set_question_shown(question_id, message_id)
            await repo.remember_message(chat_id, message_id, question_id)
            await repo.posted(challenge.challenge_id, rules.question_step(question.position))
            question = await repo.question(question_id)
            assert question is not None
            return await self._question_view(repo, challenge, question)

    async def close_question(self, question_id: int, now: datetime) -> bool | NotDue:
        """Close the question if it is due: True for the one caller that closed it.

        Two triggers may race (the grace close and the timeout): the conditional update
        lets exactly one of them close it; the others get False.
        """
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            question = await repo.question(question_id)
            if question is None:
                return False
            await repo.lock_challenge(question.challenge_id)
            question = await repo.question(question_id)
            assert question is not None
            if question.state != OPEN:
                return False
            if question.closes_at > now + CLOSE_TOLERANCE:
                return NotDue(question.closes_at)
            return await repo.close_question(question_id, now)

    async def results_posted(self, question_id: int, now: datetime) -> None:
        """The results were posted: what follows waits ``break_seconds`` from ``now``."""
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            question = await repo.question(question_id)
            if question is not None:
                await repo.lock_challenge(question.challenge_id)
                if await repo.mark_announced(question_id):
                    await repo.posted(
                        question.challenge_id,
                        rules.results_step(question.position),
                        paused_until=now + timedelta(seconds=self.break_seconds),
                    )

    async def renew_posting(self, challenge_id: int, step: str, now: datetime) -> bool:
        """This replica is still sending ``step`` (rate limits, flood waits): its lease runs
        ``lease_seconds`` from ``now`` again. False when it no longer holds that claim."""
        async with self.store.transaction() as tx:
            return await ChallengeRepo(tx).renew_posting(
                challenge_id, step, self.replica, rules.lease_until(now, self.lease_seconds)
            )

    async def posting_failed(self, challenge_id: int) -> bool:
        """Sending what ``advance`` handed out failed: give the claim back, so the retry (by
        this replica or another) posts it without waiting for the lease to end."""
        async with self.store.transaction() as tx:
            return await ChallengeRepo(tx).give_back(challenge_id, self.replica)

    async def complete(self, challenge_id: int, now: datetime) -> bool:
        """The final standings were posted: the challenge is finished (once)."""
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            await repo.lock_challenge(challenge_id)
            await repo.posted(challenge_id, rules.FINAL_STEP)
            return await repo.end_challenge(challenge_id, state="finished", now=now)

    async def question_status(self, question_id: int, now: datetime) -> QuestionView | None:
        """The question's current countdown state (for the edits of its message)."""
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            question = await repo.question(question_id)
            if question is None:
                return None
            challenge = await repo.lock_challenge(question.challenge_id)
            assert challenge is not None
            return await self._question_view(repo, challenge, question)

    async def running_challenges(self) -> list[int]:
        """Challenges to resume after a restart."""
        async with self.store.transaction() as tx:
            return await ChallengeRepo(tx).running_ids()

    async def running_in_chat(self, chat_id: int) -> RunningChallenge | None:
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            challenge = await repo.running_in_chat(await repo.resolve_chat(chat_id))
        if challenge is None:
            return None
        return RunningChallenge(
            challenge.challenge_id, challenge.started_by, challenge.started_by_name
        )

    # --- answers ---------------------------------------------------------------------------

    async def answer(
        self,
        chat_id: int,
        player: Player,
        text: str,
        now: datetime,
        update_id: int | None = None,
        *,
        reply_to: int | None = None,
        reply_sent_at: datetime | None = None,
    ) -> AnswerAccepted | GroupNotice:
        """Grade a player's first answer to the open question and record it, exactly once.

        ``reply_to`` is the message the player replied to (None for ``/a``), sent at
        ``reply_sent_at``: only a reply to the open question counts.
        """
        answer_text = text.strip()[:MAX_ANSWER_CHARS]
        async with self.store.transaction() as tx:
            return await tx.once(
                update_id,
                now,
                lambda: self._grade_and_record(
                    tx, chat_id, player, answer_text, now, update_id, reply_to, reply_sent_at
                ),
                group_note,
                lambda note: self._outcome_again(tx, note),
            )

    async def _grade_and_record(
        self,
        tx: Tx,
        chat_id: int,
        player: Player,
        answer_text: str,
        now: datetime,
        update_id: int | None,
        reply_to: int | None,
        reply_sent_at: datetime | None,
    ) -> AnswerAccepted | GroupNotice:
        repo = ChallengeRepo(tx)
        challenge = await self._lock_running(repo, chat_id)
        replied = (
            await repo.question_for_message(chat_id, reply_to) if reply_to is not None else None
        )
        question = (
            await repo.question_at(challenge.challenge_id, challenge.position)
            if challenge is not None and challenge.position >= 0
            else None
        )
        if reply_to is not None and replied is None:
            # The question may be out with its message id not recorded yet (a quick reply
            # raced question_shown): a reply to a bot message sent since the question was
            # opened can only be to it. Telegram dates are whole seconds, hence the second.
            racing = (
                question is not None
                and question.state == OPEN
                and question.message_id is None
                and reply_sent_at is not None
                and reply_sent_at >= question.asked_at - timedelta(seconds=1)
            )
            if not racing:
                return GroupNotice("not_the_question")  # a reply to another bot message
            assert question is not None
            replied = question.question_id
        if challenge is None:
            return GroupNotice("closed_question" if replied else "no_challenge")
        if replied is not None and (question is None or replied != question.question_id):
            return GroupNotice("closed_question")
        if question is None or question.state != OPEN:
            return GroupNotice("too_late")
        if await repo.has_answered(question.question_id, player.user_id):
            return GroupNotice("already_answered")
        if now > question.closes_at:
            return GroupNotice("too_late")
        if not answer_text:
            return GroupNotice("empty_answer")

        card = self._card(challenge.deck_id, question.card_id)
        result = grade(card, answer_text)
        full = result.verdict == "correct"
        elapsed = max(0.0, (now - question.asked_at).total_seconds())
        run = rules.run_before(
            await repo.full_positions(challenge.challenge_id, player.user_id),
            question.position,
        )
        points = rules.score_answer(
            score=result.score,
            verdict=result.verdict,
            elapsed=elapsed,
            question_seconds=challenge.seconds,
            full_answers_before=run,
            first_full=False,
        )
        answer_id = await repo.add_answer(
            question_id=question.question_id,
            challenge_id=challenge.challenge_id,
            position=question.position,
            chat_id=challenge.chat_id,
            user_id=player.user_id,
            answer_text=answer_text,
            verdict=result.verdict,
            score=result.score,
            base_points=points.base,
            speed_bonus=points.speed,
            streak_bonus=points.streak,
            first_bonus=0,
            points=points.total,
            grade=[
                {"text": point.text, "matched": hit.matched, "evidence": hit.evidence}
                for point, hit in zip(card.points, result.points, strict=True)
            ],
            update_id=update_id,
            answered_at=now,
            elapsed_seconds=elapsed,
        )
        if answer_id is None:  # the unique constraint: they answered already
            return GroupNotice("already_answered")
        closes_at = question.closes_at
        grace_started = False
        if full:
            grace_close = min(question.closes_at, now + timedelta(seconds=challenge.grace_seconds))
            if await repo.claim_first_full(question.question_id, player.user_id, grace_close):
                points = AnswerPoints(
                    points.base, points.speed, points.streak, rules.FIRST_FULL_BONUS
                )
                await repo.add_first_bonus(answer_id, rules.FIRST_FULL_BONUS)
                closes_at, grace_started = grace_close, True
        await repo.add_to_player(
            chat_id=challenge.chat_id,
            user_id=player.user_id,
            name=player.name,
            username=player.username,
            points=points.total,
            full=full,
            now=now,
        )
        return AnswerAccepted(
            challenge_id=challenge.challenge_id,
            question_id=question.question_id,
            verdict=result.verdict,
            points=points,
            grace_started=grace_started,
            closes_at=closes_at,
        )

    # --- ending ------------------------------------------------------------------------------

    async def stop_challenge(
        self,
        chat_id: int,
        player: Player,
        now: datetime,
        update_id: int | None = None,
        *,
        is_admin: bool = False,
    ) -> FinalView | GroupNotice:
        """/stop: only the starter or a chat admin (checked by the caller) may end it."""
        async with self.store.transaction() as tx:
            if not await tx.claim_update(update_id, now):
                return GroupNotice("duplicate")
            repo = ChallengeRepo(tx)
            challenge = await self._lock_running(repo, chat_id)
            if challenge is None:
                return GroupNotice("no_challenge")
            if player.user_id != challenge.started_by and not is_admin:
                return GroupNotice("not_allowed", challenge.started_by_name)
            if rules.is_posting(challenge.posting, rules.FINAL_STEP, now):
                return GroupNotice("finishing")  # its final standings are being posted
            await repo.end_challenge(
                challenge.challenge_id, state="stopped", now=now, stopped_by_name=player.name
            )
            await repo.close_all_open(challenge.challenge_id, now, announced=True)
            stopped = await repo.lock_challenge(challenge.challenge_id)
            assert stopped is not None
            return await self._final(repo, stopped, "stopped")

    async def end_in_chat(self, chat_id: int, reason: str, now: datetime) -> int | None:
        """The bot was removed (or refused with 403): end the chat's challenge, if any."""
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            await repo.mark_bot_absent(chat_id, now)
            challenge = await repo.lock_running_in_chat(chat_id)
            if challenge is None:
                return None
            await repo.end_challenge(challenge.challenge_id, state="ended", now=now, reason=reason)
            await repo.close_all_open(challenge.challenge_id, now, announced=True)
            return challenge.challenge_id

    async def abandon(self, challenge_id: int, reason: str, now: datetime) -> int | None:
        """End a challenge that cannot go on (Telegram keeps refusing a step); its chat id."""
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            challenge = await repo.lock_challenge(challenge_id)
            if challenge is None:
                return None
            if await repo.end_challenge(challenge_id, state="ended", now=now, reason=reason):
                await repo.close_all_open(challenge_id, now, announced=True)
            return challenge.chat_id

    async def bot_added(
        self, chat_id: int, title: str | None, now: datetime, update_id: int | None = None
    ) -> bool:
        """The bot joined a group; False for a redelivered update (greet only once)."""
        async with self.store.transaction() as tx:
            if not await tx.claim_update(update_id, now):
                return False
            await ChallengeRepo(tx).touch_chat(chat_id, title, now)
            return True

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int, now: datetime) -> Migration:
        """Move a group's scores and running challenge to its supergroup id (idempotent)."""
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            moving = await repo.lock_running_in_chat(old_chat_id)
            if moving is not None and await repo.lock_running_in_chat(new_chat_id) is not None:
                # The supergroup started its own challenge already: that one wins.
                await repo.end_challenge(
                    moving.challenge_id, state="ended", now=now, reason="migrated"
                )
                await repo.close_all_open(moving.challenge_id, now, announced=True)
                moving = None
            await repo.move_chat(old_chat_id, new_chat_id, now)
            reshow = None
            if moving is not None:
                moved = await repo.lock_challenge(moving.challenge_id)
                assert moved is not None
                question = await repo.question_at(moved.challenge_id, moved.position)
                if question is not None and question.state == OPEN and question.message_id:
                    reshow = await self._question_view(repo, moved, question)
            return Migration(
                old_chat_id,
                new_chat_id,
                moving.challenge_id if moving is not None else None,
                reshow,
            )

    # --- leaderboards ------------------------------------------------------------------------

    async def leaderboard(
        self, chat_id: int, period: Period, now: datetime, limit: int = TABLE_SIZE
    ) -> LeaderboardView:
        """The chat's table: all time, this week or today (UTC)."""
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            chat_id = await repo.resolve_chat(chat_id)
            since = rules.period_start(period, now)
            entries = (
                await repo.all_time_entries(chat_id)
                if since is None
                else await repo.entries_since(chat_id, since)
            )
        standings = rules.rank_entries(entries)
        return LeaderboardView(chat_id, period, standings[:limit], len(standings))

    async def rank(self, chat_id: int, player: Player, now: datetime) -> RankView:
        """The caller's place in this chat (all time, and this week)."""
        async with self.store.transaction() as tx:
            repo = ChallengeRepo(tx)
            chat_id = await repo.resolve_chat(chat_id)
            row = await repo.player(chat_id, player.user_id)
            everyone = rules.rank_entries(await repo.all_time_entries(chat_id))
            week_start = rules.period_start(Period.WEEK, now)
            assert week_start is not None
            week = rules.rank_entries(await repo.entries_since(chat_id, week_start))
        mine = next((s for s in everyone if s.user_id == player.user_id), None)
        this_week = next((s for s in week if s.user_id == player.user_id), None)
        return RankView(
            name=row.display_name if row else player.name,
            standing=mine,
            players=len(everyone),
            points=row.points if row else 0,
            answers=row.answers if row else 0,
            full_answers=row.full_answers if row else 0,
            week=this_week,
        )


async def group_standings_for_user(store: Store, user_id: int) -> list[GroupStanding]:
    """The user's rank and points in every group chat they scored in, best first.

    For the private /score: render the result with ``bot.telegram.render_group.group_standings``.
    """
    async with store.transaction() as tx:
        return await ChallengeRepo(tx).standings_for_user(user_id)


def group_note(result: ChallengeStarted | AnswerAccepted | GroupNotice) -> Note:
    """What a start's or an answer's outcome was, kept with its claim: a redelivery whose reply
    never went out announces the start or tells the player again, or moves the close for the
    grace window the answer started."""
    if isinstance(result, GroupNotice):
        return {"kind": "notice", "notice": result.kind, "name": result.name}
    if isinstance(result, ChallengeStarted):
        return {"kind": "started", **dataclasses.asdict(result)}
    points = result.points
    return {
        "kind": "accepted",
        "challenge_id": result.challenge_id,
        "question_id": result.question_id,
        "verdict": result.verdict,
        "points": [points.base, points.speed, points.streak, points.first],
        "grace_started": result.grace_started,
        "closes_at": result.closes_at.isoformat(),
    }


def group_from_note(note: Note | None) -> ChallengeStarted | AnswerAccepted | GroupNotice:
    """The outcome ``group_note`` kept, or "duplicate" (nothing noted, or the reply went out)."""
    if note is None:
        return GroupNotice("duplicate")
    note = dict(note)
    kind = note.pop("kind")
    if kind == "notice":
        return GroupNotice(note["notice"], note["name"])
    if kind == "started":
        return ChallengeStarted(**note)
    return AnswerAccepted(
        challenge_id=note["challenge_id"],
        question_id=note["question_id"],
        verdict=note["verdict"],
        points=AnswerPoints(*note["points"]),
        grace_started=note["grace_started"],
        closes_at=datetime.fromisoformat(note["closes_at"]),
    )
