"""The service layer: one method per thing a user can do, each one unit of work.

It joins the pure core (cards, grading, round rules) to the store. Both the Telegram adapter
and ``quizbot practice`` call it, so they behave the same. Every method takes ``now`` and the
Telegram ``update_id`` (None outside Telegram) so that a redelivered update never counts twice.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core import quiz
from bot.core.cards import Card, Deck, Point
from bot.core.grading import grade, prepare_deck
from bot.core.scheduling import Rating
from bot.services.catalogue import DeckCatalogue, deck_hash
from bot.services.heap import freeze_long_lived
from bot.services.review import SpacedRepetition
from bot.storage.base import AnswerRow, RoundRow, Store, Tx, UserProfile
from bot.storage.decks import DeckQueries, user_deck_id
from bot.storage.updates import Note, Result

#: The longest answer we store and grade; Telegram's own message limit.
MAX_ANSWER_CHARS = 4096


@dataclass(frozen=True)
class Notice:
    """A situation the user should hear about instead of a normal result.

    kinds: no_round, awaiting_next, stale, duplicate, empty_answer, no_more_hints,
    already_overridden, not_yours, unknown_deck.
    """

    kind: str


@dataclass(frozen=True)
class QuestionView:
    round_id: int
    position: int
    total: int
    card: Card
    parent: Card | None
    hints: list[str]
    can_hint: bool


@dataclass(frozen=True)
class PointResult:
    text: str
    matched: bool
    evidence: str | None


@dataclass(frozen=True)
class FeedbackView:
    answer_id: int
    round_id: int
    position: int
    total: int
    card: Card
    outcome: str  # answered | revealed
    verdict: str
    score: float
    points: int
    hints: int
    results: list[PointResult]
    overridden: bool
    is_last: bool
    duplicate: bool = False


@dataclass(frozen=True)
class SummaryView:
    round_id: int
    deck: Deck
    summary: quiz.RoundSummary
    weakest: list[Card]


@dataclass(frozen=True)
class ScoreView:
    first_name: str
    points: int
    answered: int
    correct: int
    partial: int
    wrong: int
    streak_current: int
    streak_best: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class RoundStart:
    question: QuestionView
    replaced: SummaryView | None = None


#: A short, stable token for a deck that fits in Telegram's 64-byte callback data.
deck_key = deck_hash


@dataclass
class QuizService:
    """Private-chat quizzing over the loaded decks and the store."""

    store: Store
    decks: Sequence[Deck]
    rng: random.Random = field(default_factory=random.Random)
    #: FSRS scheduling: chooses each round's cards and reviews every answered card.
    spaced: SpacedRepetition = field(default_factory=SpacedRepetition)

    #: The bundled decks and users' decks; built from ``decks`` when not given.
    catalogue: DeckCatalogue | None = None

    def __post_init__(self) -> None:
        if self.catalogue is None:
            self.catalogue = DeckCatalogue(self.decks)
        self.replace_decks(self.decks)

    def replace_decks(self, decks: Sequence[Deck]) -> None:
        """Swap in freshly loaded decks (prepared for grading once, here, not per answer)."""
        if not decks:
            raise ValueError("at least one deck is needed")
        for deck in decks:
            prepare_deck(deck)
        freeze_long_lived()  # prepared decks live on: keep full collections off them
        self.decks = list(decks)
        assert self.catalogue is not None
        self.catalogue.replace_bundled(self.decks)

    def deck(self, deck_id: str | None) -> Deck:
        """The deck with this id, or the first deck when it is unknown (e.g. removed)."""
        assert self.catalogue is not None
        return self.catalogue.deck(deck_id)

    def deck_by_key(self, key: str) -> Deck | None:
        assert self.catalogue is not None
        return self.catalogue.by_hash(key)

    # --- views -----------------------------------------------------------------------------

    def _question(self, round_: RoundRow) -> QuestionView:
        deck = self.deck(round_.deck_id)
        card = self._card(deck, round_.current_card_id or "")
        return QuestionView(
            round_id=round_.round_id,
            position=round_.position,
            total=len(round_.card_ids),
            card=card,
            parent=deck.parent_of(card),
            hints=quiz.hints_for(card, round_.hints_used),
            can_hint=quiz.can_hint(card, round_.hints_used),
        )

    @staticmethod
    def _card(deck: Deck, card_id: str) -> Card:
        card = deck.by_id.get(card_id)
        if card is None:  # the deck changed under an open round: show a placeholder card
            return Card(
                id=card_id,
                question="(this card was removed from the deck)",
                points=[Point("(removed)")],
            )
        return card

    def _feedback(
        self, answer: AnswerRow, round_: RoundRow, *, duplicate: bool = False
    ) -> FeedbackView:
        deck = self.deck(answer.deck_id)
        return FeedbackView(
            answer_id=answer.answer_id,
            round_id=answer.round_id,
            position=answer.position,
            total=len(round_.card_ids),
            card=self._card(deck, answer.card_id),
            outcome=answer.outcome,
            verdict=answer.verdict,
            score=answer.score,
            points=answer.points,
            hints=answer.hints,
            results=[PointResult(**entry) for entry in answer.grade],
            overridden=answer.overridden,
            is_last=answer.position >= len(round_.card_ids) - 1,
            duplicate=duplicate,
        )

    async def _summary(self, tx: Tx, round_: RoundRow) -> SummaryView:
        deck = self.deck(round_.deck_id)
        recorded = {answer.position: answer for answer in await tx.round_answers(round_.round_id)}
        outcomes = [
            quiz.AnsweredCard(
                card_id=answer.card_id,
                verdict="skipped" if answer.outcome == "skipped" else answer.verdict,
                score=1.0 if answer.overridden else answer.score,
                points=answer.points,
            )
            for _, answer in sorted(recorded.items())
        ]
        summary = quiz.summarise_round(outcomes)
        return SummaryView(
            round_id=round_.round_id,
            deck=deck,
            summary=summary,
            weakest=[self._card(deck, card_id) for card_id in summary.weakest],
        )

    # --- users and decks -------------------------------------------------------------------

    async def register(self, user: UserProfile, now: datetime) -> None:
        async with self.store.transaction() as tx:
            await tx.upsert_user(user, now)

    async def user_deck(self, user: UserProfile) -> Deck:
        async with self.store.transaction() as tx:
            row = await tx.get_user(user.user_id)
        return self.deck(row.deck_id if row else None)

    async def choose_deck(self, user: UserProfile, key: str, now: datetime) -> Deck | Notice:
        deck = self.deck_by_key(key)
        if deck is None:
            return Notice("unknown_deck")
        async with self.store.transaction() as tx:
            number = user_deck_id(deck.id)  # a user's deck: only for its owner and those added
            if number is not None and not await DeckQueries(tx.conn).has_access(
                user.user_id, number
            ):
                return Notice("unknown_deck")
            await tx.upsert_user(user, now)
            await tx.set_user_deck(user.user_id, deck.id)
        return deck

    async def score(self, user: UserProfile, now: datetime) -> ScoreView:
        async with self.store.transaction() as tx:
            row = await tx.get_user(user.user_id)
            today = await self.spaced.today(tx, user.user_id, now)
        if row is None:
            return ScoreView(user.first_name, 0, 0, 0, 0, 0, 0, 0)
        return ScoreView(
            first_name=row.first_name,
            points=row.points,
            answered=row.answered,
            correct=row.correct,
            partial=row.partial,
            wrong=row.wrong,
            streak_current=quiz.current_streak(row.streak, today),
            streak_best=row.streak.best,
        )

    # --- one unit of work per update, and its reply ---------------------------------------

    async def _once(
        self, update_id: int | None, now: datetime, work: Callable[[Tx], Awaitable[Result]]
    ) -> Result:
        """Run ``work`` as this update's one unit of work (``Tx.once``): a redelivery counts
        nothing again, and gets the reply noted with the claim, rendered again from the stored
        state, if it never went out; else the "duplicate" notice, which shows nothing."""
        async with self.store.transaction() as tx:
            return await tx.once(
                update_id,
                now,
                lambda: work(tx),
                reply_note,
                lambda note: self._reply_again(tx, note),
            )

    async def _reply_again(self, tx: Tx, note: Note | None) -> Any:
        """The view a noted reply shows, or the "duplicate" notice.

        A question is shown again only while it is still open at that step: if the user has
        moved on since, the old question would only mislead.
        """
        if note is None:
            return Notice("duplicate")
        kind = note["kind"]
        if kind == "notice":
            return Notice(note["notice"])
        if kind == "feedback":
            answer = await tx.get_answer(note["answer_id"])
            round_ = await tx.get_round(answer.round_id) if answer is not None else None
            if answer is None or round_ is None:
                return Notice("duplicate")
            return self._feedback(answer, round_, duplicate=True)
        round_ = await tx.get_round(note["round_id"])
        if round_ is None:
            return Notice("duplicate")
        if kind == "summary":
            return await self._summary(tx, round_)
        if round_.state != "asking" or round_.position != note["position"]:
            return Notice("duplicate")
        if kind == "question":
            return self._question(round_)
        replaced = await tx.get_round(note["replaced"]) if note.get("replaced") else None
        return RoundStart(
            question=self._question(round_),
            replaced=await self._summary(tx, replaced) if replaced is not None else None,
        )

    # --- the round -------------------------------------------------------------------------

    async def start_round(
        self,
        user: UserProfile,
        chat_id: int,
        size: int,
        now: datetime,
        update_id: int | None = None,
    ) -> RoundStart | Notice:
        """Open a new round (closing one that was still open) and return its first question."""

        async def work(tx: Tx) -> RoundStart:
            await tx.upsert_user(user, now)
            row = await tx.get_user(user.user_id)
            deck = self.deck(row.deck_id if row else None)
            replaced = None
            previous = await tx.open_round(chat_id, user.user_id)
            if previous is not None:
                await tx.update_round(previous.round_id, state="stopped", finished_at=now)
                if await tx.round_answers(previous.round_id):
                    replaced = await self._summary(tx, previous)
            choice = await self.spaced.choose(
                tx, user.user_id, deck, size, now, seed=self.rng.randrange(2**32)
            )
            round_ = await tx.create_round(
                chat_id=chat_id,
                user_id=user.user_id,
                deck_id=deck.id,
                card_ids=choice.card_ids,
                now=now,
            )
            return RoundStart(question=self._question(round_), replaced=replaced)

        return await self._once(update_id, now, work)

    async def current_question(self, user: UserProfile, chat_id: int) -> QuestionView | None:
        async with self.store.transaction() as tx:
            round_ = await tx.open_round(chat_id, user.user_id)
        if round_ is None or round_.state != "asking":
            return None
        return self._question(round_)

    async def remember_question_message(self, round_id: int, message_id: int) -> None:
        """Keep the id of the message that shows the question, so hints can edit it."""
        async with self.store.transaction() as tx:
            await tx.update_round(round_id, question_message_id=message_id)

    async def answer(
        self,
        user: UserProfile,
        chat_id: int,
        text: str,
        now: datetime,
        update_id: int | None = None,
    ) -> FeedbackView | Notice:
        """Grade a typed answer against the open question and record it, exactly once."""

        async def work(tx: Tx) -> FeedbackView | Notice:
            round_ = await tx.open_round(chat_id, user.user_id)
            if round_ is None:
                return Notice("no_round")
            if round_.state != "asking":
                return Notice("awaiting_next")
            answer_text = text.strip()[:MAX_ANSWER_CHARS]
            if not answer_text:
                return Notice("empty_answer")
            deck = self.deck(round_.deck_id)
            card = self._card(deck, round_.current_card_id or "")
            result = grade(card, answer_text)
            points = quiz.answer_points(result.score, round_.hints_used)
            return await self._record(
                tx,
                round_,
                card,
                now=now,
                update_id=update_id,
                outcome="answered",
                answer_text=answer_text,
                verdict=result.verdict,
                score=result.score,
                points=points,
                grade=[
                    {"text": point.text, "matched": hit.matched, "evidence": hit.evidence}
                    for point, hit in zip(card.points, result.points, strict=True)
                ],
            )

        return await self._once(update_id, now, work)

    async def _record(
        self, tx: Tx, round_: RoundRow, card: Card, *, now: datetime, **values: Any
    ) -> FeedbackView:
        response_seconds = (now - round_.asked_at).total_seconds() if round_.asked_at else None
        answer_id = await tx.add_answer(
            round_id=round_.round_id,
            position=round_.position,
            user_id=round_.user_id,
            chat_id=round_.chat_id,
            deck_id=round_.deck_id,
            card_id=card.id,
            hints=round_.hints_used,
            asked_at=round_.asked_at,
            answered_at=now,
            response_seconds=response_seconds,
            **values,
        )
        await self.spaced.record(
            tx,
            answer_id=answer_id,
            user_id=round_.user_id,
            deck_id=round_.deck_id,
            card=card,
            outcome=values["outcome"],
            verdict=values["verdict"],
            hints=round_.hints_used,
            response_seconds=response_seconds,
            now=now,
        )
        await tx.add_to_totals(
            round_.user_id,
            points=values["points"],
            verdict=values["verdict"],
            today=await self.spaced.today(tx, round_.user_id, now),
        )
        await tx.update_round(round_.round_id, state="reviewing")
        answer = await tx.get_answer(answer_id)
        assert answer is not None
        return self._feedback(answer, round_)

    async def _open_at(
        self, tx: Tx, user: UserProfile, chat_id: int, round_id: int, position: int, state: str
    ) -> RoundRow | Notice:
        """The open round, if a button press is on its current question in this state; else the
        "stale" notice (a press on a question that is no longer current)."""
        round_ = await tx.open_round(chat_id, user.user_id)
        if round_ is None or round_.round_id != round_id or round_.position != position:
            return Notice("stale")
        if round_.state != state:
            return Notice("stale")
        return round_

    async def hint(
        self,
        user: UserProfile,
        chat_id: int,
        round_id: int,
        position: int,
        now: datetime,
        update_id: int | None = None,
    ) -> QuestionView | Notice:
        """Reveal the next point as its first letters; each hint lowers the points."""

        async def work(tx: Tx) -> QuestionView | Notice:
            round_ = await self._open_at(tx, user, chat_id, round_id, position, "asking")
            if isinstance(round_, Notice):
                return round_
            card = self._card(self.deck(round_.deck_id), round_.current_card_id or "")
            if not quiz.can_hint(card, round_.hints_used):
                return Notice("no_more_hints")
            await tx.update_round(round_.round_id, hints_used=round_.hints_used + 1)
            updated = await tx.get_round(round_.round_id)
            assert updated is not None
            return self._question(updated)

        return await self._once(update_id, now, work)

    async def reveal(
        self,
        user: UserProfile,
        chat_id: int,
        round_id: int,
        position: int,
        now: datetime,
        update_id: int | None = None,
    ) -> FeedbackView | Notice:
        """ "Show answer": the card counts as wrong, and the answer is shown."""

        async def work(tx: Tx) -> FeedbackView | Notice:
            round_ = await self._open_at(tx, user, chat_id, round_id, position, "asking")
            if isinstance(round_, Notice):
                return round_
            card = self._card(self.deck(round_.deck_id), round_.current_card_id or "")
            return await self._record(
                tx,
                round_,
                card,
                now=now,
                update_id=None,
                outcome="revealed",
                answer_text=None,
                verdict="wrong",
                score=0.0,
                points=0,
                grade=[
                    {"text": point.text, "matched": False, "evidence": None}
                    for point in card.points
                ],
            )

        return await self._once(update_id, now, work)

    async def skip(
        self,
        user: UserProfile,
        chat_id: int,
        round_id: int,
        position: int,
        now: datetime,
        update_id: int | None = None,
    ) -> QuestionView | SummaryView | Notice:
        """Move on without scoring."""

        async def work(tx: Tx) -> QuestionView | SummaryView | Notice:
            round_ = await self._open_at(tx, user, chat_id, round_id, position, "asking")
            if isinstance(round_, Notice):
                return round_
            answer_id = await tx.add_answer(
                round_id=round_.round_id,
                position=round_.position,
                user_id=round_.user_id,
                chat_id=round_.chat_id,
                deck_id=round_.deck_id,
                card_id=round_.current_card_id or "",
                outcome="skipped",
                verdict="wrong",
                score=0.0,
                points=0,
                hints=round_.hints_used,
                asked_at=round_.asked_at,
                answered_at=now,
            )
            # A skip after a hint is a failed recall (Again); a plain skip leaves FSRS alone.
            await self.spaced.record(
                tx,
                answer_id=answer_id,
                user_id=round_.user_id,
                deck_id=round_.deck_id,
                card=self._card(self.deck(round_.deck_id), round_.current_card_id or ""),
                outcome="skipped",
                verdict="wrong",
                hints=round_.hints_used,
                response_seconds=None,
                now=now,
            )
            return await self._advance(tx, round_, now)

        return await self._once(update_id, now, work)

    async def next_question(
        self,
        user: UserProfile,
        chat_id: int,
        round_id: int,
        position: int,
        now: datetime,
        update_id: int | None = None,
    ) -> QuestionView | SummaryView | Notice:
        """After feedback: the next question, or the summary when the round is done."""

        async def work(tx: Tx) -> QuestionView | SummaryView | Notice:
            round_ = await self._open_at(tx, user, chat_id, round_id, position, "reviewing")
            if isinstance(round_, Notice):
                return round_
            return await self._advance(tx, round_, now)

        return await self._once(update_id, now, work)

    async def _advance(self, tx: Tx, round_: RoundRow, now: datetime) -> QuestionView | SummaryView:
        if round_.is_last:
            await tx.update_round(round_.round_id, state="finished", finished_at=now)
            return await self._summary(tx, round_)
        await tx.update_round(
            round_.round_id,
            position=round_.position + 1,
            state="asking",
            hints_used=0,
            asked_at=now,
            question_message_id=None,
        )
        updated = await tx.get_round(round_.round_id)
        assert updated is not None
        return self._question(updated)

    async def stop_round(
        self, user: UserProfile, chat_id: int, now: datetime, update_id: int | None = None
    ) -> SummaryView | Notice:
        """End the round early; the summary covers what was answered."""

        async def work(tx: Tx) -> SummaryView | Notice:
            round_ = await tx.open_round(chat_id, user.user_id)
            if round_ is None:
                return Notice("no_round")
            await tx.update_round(round_.round_id, state="stopped", finished_at=now)
            return await self._summary(tx, round_)

        return await self._once(update_id, now, work)

    async def override(
        self,
        user: UserProfile,
        answer_id: int,
        now: datetime,
        update_id: int | None = None,
    ) -> FeedbackView | Notice:
        """ "I was right": count the answer as correct, once, and keep it for deck authors."""

        async def work(tx: Tx) -> FeedbackView | Notice:
            answer = await tx.get_answer(answer_id)
            if answer is None or answer.user_id != user.user_id:
                return Notice("not_yours")
            if answer.overridden or answer.outcome != "answered":
                return Notice("already_overridden")
            new_points = quiz.override_points(answer.hints)
            await tx.mark_overridden(answer_id, points=new_points, now=now)
            # Re-rate the FSRS review as Good from its stored starting state (no second review).
            await self.spaced.rerate(tx, answer_id, Rating.Good, now)
            await tx.move_verdict(
                user.user_id,
                old=answer.verdict,
                new="correct",
                extra_points=new_points - answer.points,
            )
            round_ = await tx.get_round(answer.round_id)
            updated = await tx.get_answer(answer_id)
            assert round_ is not None
            assert updated is not None
            return self._feedback(updated, round_)

        return await self._once(update_id, now, work)


def reply_note(result: object) -> Note:
    """What a reply shows, in a few ids: kept with the update's claim, so the reply can be
    rendered again from the stored state (``QuizService._reply_again``)."""
    if isinstance(result, RoundStart):
        replaced = result.replaced.round_id if result.replaced is not None else None
        return {
            "kind": "start",
            "round_id": result.question.round_id,
            "position": result.question.position,
            "replaced": replaced,
        }
    if isinstance(result, QuestionView):
        return {"kind": "question", "round_id": result.round_id, "position": result.position}
    if isinstance(result, FeedbackView):
        return {"kind": "feedback", "answer_id": result.answer_id}
    if isinstance(result, SummaryView):
        return {"kind": "summary", "round_id": result.round_id}
    assert isinstance(result, Notice), result
    return {"kind": "notice", "notice": result.kind}
