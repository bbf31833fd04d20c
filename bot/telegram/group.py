"""Telegram handlers for group study challenges, and the driver that runs them on the JobQueue.

Works with privacy mode on and without admin rights: in a group the bot only hears commands and
replies to its own messages, so players answer by replying to the question or with ``/a``.

A challenge is driven from its stored state (``GroupService.advance``): a close job per question
at its stored deadline, a pause job before the next question, and a countdown job editing the
question message on a 10-second grid. None of these jobs hold state of their own, so after a
restart ``resume`` re-creates them from the database.

Replicas (webhook mode on PostgreSQL) each drive the challenges they hear of: the one that
answers ``/challenge``, any that takes an answer (it keeps a close job too), and, every posting
lease, any running challenge it has no job for. ``advance`` hands each group message to one
replica only (a claim with a lease), so a message is posted once; the others wait and take it
over if its claim lapses unposted. While a send lasts (rate limits and flood waits can outlast a
lease) the replica renews its claim's lease, so nobody takes over a message still on its way.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Job,
    JobQueue,
    MessageHandler,
    filters,
)

from bot.core.cards import Deck
from bot.core.challenge import (
    COUNTDOWN_EDIT_SECONDS,
    ChallengeLimits,
    ChallengeRequest,
    Period,
    parse_challenge_args,
    parse_period,
    renewal_interval,
)
from bot.services.group import (
    Announce,
    AnswerAccepted,
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
from bot.telegram import render_group
from bot.telegram.render import Reply, esc

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime

log = logging.getLogger("bot.group")

SERVICE_KEY = "group"
DRIVER_KEY = "group_driver"
#: After a failed send or a database error, the challenge is driven again this much later.
RETRY_SECONDS = 5.0
#: After flood control (429) outlasted the rate limiter's own retries.
FLOOD_RETRY_SECONDS = 30.0
#: A step Telegram refuses (400) this many times in a row ends the challenge.
MAX_FAILURES = 3
#: Jobs always run, however late (e.g. the loop was busy); the state decides what they do.
JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True}

GROUPS = filters.ChatType.GROUPS
PRIVATE = filters.ChatType.PRIVATE

#: Added to the bot's menu (setMyCommands) next to the private commands.
MENU_COMMANDS = [
    BotCommand("challenge", "In a group: a live challenge for everyone"),
    BotCommand("leaderboard", "Your groups' leaderboards (in a group: its table)"),
]
#: The menu shown in group chats.
GROUP_COMMANDS = [
    BotCommand("challenge", "Start a live challenge: /challenge [N] [seconds] [deck]"),
    BotCommand("a", "Answer the open question: /a <answer>"),
    BotCommand("stop", "End the challenge (starter or admins)"),
    BotCommand("leaderboard", "This chat's leaderboard"),
    BotCommand("score", "Your place in this chat"),
    BotCommand("help", "How group challenges work"),
]

T = TypeVar("T")


def player_of(update: Update) -> Player:
    user = update.effective_user
    assert user is not None
    return Player(
        user_id=user.id, name=user.full_name or user.username or "someone", username=user.username
    )


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in reply.buttons
        ]
    )


def _not_modified(problem: BadRequest) -> bool:
    return "not modified" in problem.message.lower()


class ChallengeDriver:
    """Runs challenges: does what ``GroupService.advance`` says and keeps their jobs.

    One asyncio lock per challenge keeps this process from driving a challenge twice at once;
    the database's conditional updates keep replicas (and racing jobs) correct. Resuming and
    adopting drive each challenge in a task of its own, so one that waits holds up no other.
    """

    def __init__(self, application: Application, runtime: Runtime, limits: ChallengeLimits) -> None:
        self.application = application
        self.runtime = runtime
        self.limits = limits
        self._locks: dict[int, asyncio.Lock] = {}
        self._failures: dict[int, int] = {}
        #: Drives started by ``resume`` and ``adopt``, by challenge, while they run.
        self._background: dict[int, asyncio.Task[None]] = {}
        #: Lease renewals of the claims being sent (kept so they are not garbage-collected).
        self._heartbeats: set[asyncio.Task[None]] = set()

    @property
    def service(self) -> GroupService:
        service = self.runtime.services.get(SERVICE_KEY)
        if service is None:  # post_init failed or has not run
            raise RuntimeError("the group service is not running")
        return service

    def now(self) -> datetime:
        return self.runtime.clock()

    @property
    def jobs(self) -> JobQueue[Any]:
        job_queue = self.application.job_queue
        if job_queue is None:
            raise RuntimeError(
                "group challenges need PTB's JobQueue (python-telegram-bot[job-queue])"
            )
        return job_queue

    # --- sending -----------------------------------------------------------------------------

    async def in_chat(
        self, chat_id: int, call: Callable[[int], Awaitable[T]], *, moved: bool = False
    ) -> T | None:
        """Make a Bot API call for a group: follow a migration, stop cleanly when removed.

        Returns None when the bot may no longer write there (403): the chat's challenge has
        then ended and is logged, and nothing retries.
        """
        try:
            return await call(chat_id)
        except ChatMigrated as migrated:
            if moved:
                raise
            await self.follow_migration(chat_id, migrated.new_chat_id)
            return await self.in_chat(migrated.new_chat_id, call, moved=True)
        except Forbidden as refused:
            await self.chat_gone(chat_id, f"Telegram refused with 403 ({refused.message})")
            return None

    async def send(
        self, chat_id: int, reply: Reply, *, reply_to: int | None = None
    ) -> Message | None:
        if not reply.html:
            return None

        async def call(target: int) -> Message:
            return await self.application.bot.send_message(
                target,
                reply.html,
                reply_markup=markup(reply),
                reply_parameters=(
                    ReplyParameters(reply_to, allow_sending_without_reply=True)
                    if reply_to is not None and target == chat_id
                    else None
                ),
            )

        return await self.in_chat(chat_id, call)

    async def edit(self, chat_id: int, message_id: int, reply: Reply) -> bool:
        """Edit a message; False when it could not be (gone, unchanged, chat gone)."""

        async def call(target: int) -> bool:
            await self.application.bot.edit_message_text(
                reply.html, chat_id=target, message_id=message_id, reply_markup=markup(reply)
            )
            return True

        try:
            return bool(await self.in_chat(chat_id, call))
        except BadRequest as problem:
            if not _not_modified(problem):
                log.debug("could not edit message %d in chat %d: %s", message_id, chat_id, problem)
            return False

    @asynccontextmanager
    async def _keeping_claim(self, challenge_id: int, step: str) -> AsyncIterator[None]:
        """Renew this replica's lease on ``step`` while the body (its send) runs, however that
        ends: a send held up by rate limits is not taken over by another replica meanwhile."""
        done = asyncio.Event()
        heartbeat = asyncio.create_task(
            self._renew_lease(challenge_id, step, done), name=f"challenge:{challenge_id}:lease"
        )
        self._heartbeats.add(heartbeat)
        heartbeat.add_done_callback(self._heartbeats.discard)
        try:
            yield
        finally:
            # The heartbeat stops at its next look; a renewal under way is not cancelled
            # mid-query, nor waited for: it finds no claim to renew once the step is reported.
            done.set()

    async def _renew_lease(self, challenge_id: int, step: str, done: asyncio.Event) -> None:
        interval = renewal_interval(self.service.lease_seconds)
        while True:
            try:
                await asyncio.wait_for(done.wait(), interval)
                return
            except TimeoutError:
                pass
            try:
                renewed = await self.service.renew_posting(challenge_id, step, self.now())
            except Exception as problem:  # the database is down: try again next time
                log.warning(
                    "challenge %d: could not renew the claim on %s: %s", challenge_id, step, problem
                )
                continue
            if not renewed:
                if not done.is_set():  # (once the send is over, the claim is gone by rights)
                    log.warning(
                        "challenge %d: lost the claim on %s while still sending it",
                        challenge_id,
                        step,
                    )
                return

    async def _post(
        self, challenge_id: int, step: str, chat_id: int, reply: Reply
    ) -> Message | None:
        """Send the message of a claimed step, keeping the claim for as long as that takes."""
        async with self._keeping_claim(challenge_id, step):
            return await self.send(chat_id, reply)

    # --- the life of a challenge -------------------------------------------------------------

    def _lock(self, challenge_id: int) -> asyncio.Lock:
        return self._locks.setdefault(challenge_id, asyncio.Lock())

    async def drive(self, challenge_id: int, *, countdown: bool = False) -> None:
        """Do whatever the challenge's stored state says comes next (idempotent).

        ``countdown``: also edit the open question's countdown (after a restart). The replica
        that posts a question edits it anyway; others only keep a close job.

        Network and database trouble is retried a little later, for as long as it lasts; a
        step Telegram keeps refusing (400) ends the challenge after a few tries.
        """
        async with self._lock(challenge_id):
            try:
                await self._drive(challenge_id, countdown=countdown)
            except (NetworkError, RetryAfter) as problem:  # timeouts, flood control: transient
                # The rate limiter already waited out retry_after three times: back off longer.
                delay = FLOOD_RETRY_SECONDS if isinstance(problem, RetryAfter) else RETRY_SECONDS
                log.warning("challenge %d: %s; retrying in %gs", challenge_id, problem, delay)
                await self._retry(challenge_id, delay)
            except TelegramError as problem:
                failures = self._failures[challenge_id] = self._failures.get(challenge_id, 0) + 1
                if failures < MAX_FAILURES:
                    log.warning("challenge %d: Telegram refused a step: %s", challenge_id, problem)
                    await self._retry(challenge_id, RETRY_SECONDS)
                    return
                chat_id = await self.service.abandon(
                    challenge_id, f"Telegram refused {failures} times: {problem}", self.now()
                )
                self.cancel_jobs(challenge_id)
                log.error("challenge %d in chat %s ended: %s", challenge_id, chat_id, problem)
            except Exception:
                log.exception(
                    "challenge %d: a step failed; retrying in %gs", challenge_id, RETRY_SECONDS
                )
                await self._retry(challenge_id, RETRY_SECONDS)
            else:
                self._failures.pop(challenge_id, None)

    async def _retry(self, challenge_id: int, delay: float) -> None:
        """Give back this replica's claim to post (the step failed), and drive again later."""
        try:
            await self.service.posting_failed(challenge_id)
        except Exception as problem:  # the database is down: the claim's lease runs out instead
            log.debug("challenge %d: could not give back its claim: %s", challenge_id, problem)
        self.schedule_drive(challenge_id, delay)

    async def _drive(self, challenge_id: int, *, countdown: bool) -> None:
        for _ in range(4):
            action = await self.service.advance(challenge_id, self.now())
            if isinstance(action, Idle):
                self.cancel_jobs(challenge_id, keep_countdown=True)
                self._locks.pop(challenge_id, None)
                return
            if isinstance(action, Wait):  # the pause, or another replica is posting
                self.schedule_drive(challenge_id, max(action.until, self.now()))
                return
            if isinstance(action, ShowQuestion):
                await self._show(action)
                return
            if isinstance(action, WaitForClose):
                self.schedule_question(action.question, countdown=countdown)
                return
            if isinstance(action, Announce):
                results = action.results
                sent = await self._post(
                    challenge_id, action.step, results.chat_id, render_group.results(results)
                )
                if sent is None:
                    return
                await self.service.results_posted(results.question_id, self.now())
                continue  # Wait for the pause, then the next question
            if isinstance(action, Finish):
                sent = await self._post(
                    challenge_id,
                    action.step,
                    action.final.chat_id,
                    render_group.final(action.final),
                )
                if sent is None:
                    return
                await self.service.complete(challenge_id, self.now())
                log.info(
                    "challenge %d in chat %d finished: %d participants",
                    challenge_id,
                    action.final.chat_id,
                    action.final.participants,
                )
                continue  # the next advance is Idle: clean up

    async def _show(self, action: ShowQuestion) -> None:
        view = action.question
        message = await self._post(
            view.challenge_id, action.step, view.chat_id, render_group.question(view, self.now())
        )
        if message is None:
            return
        shown = await self.service.question_shown(
            view.question_id, message.chat_id, message.message_id, self.now()
        )
        if shown is not None:
            self.schedule_question(shown)

    def _job_prefix(self, challenge_id: int) -> str:
        return f"challenge:{challenge_id}:"

    def _replace_job(
        self,
        name: str,
        callback: Callable[[CallbackContext], Awaitable[None]],
        when: datetime | float,
        data: dict[str, int],
    ) -> None:
        for job in self.jobs.get_jobs_by_name(name):
            job.schedule_removal()
        self.jobs.run_once(callback, when=when, data=data, name=name, job_kwargs=JOB_KWARGS)

    def schedule_question(self, view: QuestionView, *, countdown: bool = True) -> None:
        """The close job at the stored deadline, and the countdown edits of its message."""
        data = {"challenge_id": view.challenge_id, "question_id": view.question_id}
        prefix = self._job_prefix(view.challenge_id)
        self._replace_job(f"{prefix}close", close_job, max(view.closes_at, self.now()), data)
        name = f"{prefix}countdown:{view.question_id}"
        if countdown and view.message_id is not None and not self.jobs.get_jobs_by_name(name):
            # Edits on a fixed 10-second grid from when the question was shown: never closer.
            elapsed = (self.now() - view.asked_at).total_seconds()
            ticks = max(1, math.floor(elapsed / COUNTDOWN_EDIT_SECONDS) + 1)
            first = view.asked_at + timedelta(seconds=ticks * COUNTDOWN_EDIT_SECONDS)
            self.jobs.run_repeating(
                countdown_job,
                interval=COUNTDOWN_EDIT_SECONDS,
                first=first,
                data={**data, "chat_id": view.chat_id},
                name=name,
                job_kwargs=JOB_KWARGS,
            )

    def reschedule_close(self, challenge_id: int, question_id: int, closes_at: datetime) -> None:
        """A full answer started the grace window: close earlier (any older job finds it closed)."""
        data = {"challenge_id": challenge_id, "question_id": question_id}
        self._replace_job(
            f"{self._job_prefix(challenge_id)}close", close_job, max(closes_at, self.now()), data
        )

    def schedule_drive(self, challenge_id: int, delay: float | datetime) -> None:
        self._replace_job(
            f"{self._job_prefix(challenge_id)}drive",
            drive_job,
            delay,
            {"challenge_id": challenge_id},
        )

    def cancel_jobs(self, challenge_id: int, *, keep_countdown: bool = False) -> None:
        """Drop the challenge's jobs (a countdown may stay to mark its question closed)."""
        for job in self.jobs.jobs(f"^{self._job_prefix(challenge_id)}"):
            if keep_countdown and ":countdown:" in (job.name or ""):
                continue
            job.schedule_removal()

    async def close(self, challenge_id: int, question_id: int) -> None:
        """The close job: close once (whoever races), then follow on: whichever replica
        claims the results posts them, the others wait for what comes next."""
        outcome = await self.service.close_question(question_id, self.now())
        if isinstance(outcome, NotDue):
            self.reschedule_close(challenge_id, question_id, outcome.closes_at)
        else:
            await self.drive(challenge_id)

    async def countdown(self, job: Job[Any]) -> None:
        """Edit the question message with the time left; mark it closed once, then stop."""
        view = await self.service.question_status(job.data["question_id"], self.now())
        if view is None or view.message_id is None:
            job.schedule_removal()
            return
        finished = view.state != "open" or not view.running
        reply = render_group.question(view, self.now())
        if reply.html != job.data.get("last"):
            await self.edit(view.chat_id, view.message_id, reply)
            job.data["last"] = reply.html
        if finished:
            job.schedule_removal()

    # --- chats coming and going --------------------------------------------------------------

    async def chat_gone(self, chat_id: int, reason: str) -> None:
        """The bot can no longer write here: end the chat's challenge once, log it, stop jobs."""
        challenge_id = await self.service.end_in_chat(chat_id, reason, self.now())
        if challenge_id is None:
            log.info("chat %d: %s (no challenge was running)", chat_id, reason)
            return
        self.cancel_jobs(challenge_id)
        log.warning("challenge %d in chat %d ended: %s", challenge_id, chat_id, reason)

    async def follow_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its scores and challenge move to the new id."""
        migration = await self.service.migrate_chat(old_chat_id, new_chat_id, self.now())
        if migration.challenge_id is not None:
            log.info(
                "challenge %d moved from chat %d to supergroup %d",
                migration.challenge_id,
                old_chat_id,
                new_chat_id,
            )
        view = migration.reshow
        if view is None:
            return
        # The old question message stays behind in the old chat: post it again here.
        message = await self.send(new_chat_id, render_group.question(view, self.now(), moved=True))
        if message is not None:
            shown = await self.service.question_shown(
                view.question_id, message.chat_id, message.message_id, self.now()
            )
            if shown is not None:
                self.schedule_question(shown)

    async def resume(self) -> None:
        """After a restart: re-create every running challenge's jobs from the database."""
        try:
            await self.application.bot.set_my_commands(
                GROUP_COMMANDS, scope=BotCommandScopeAllGroupChats()
            )
        except TelegramError as problem:
            log.warning("could not set the group commands: %s", problem)
        for challenge_id in await self.service.running_challenges():
            log.info("resuming challenge %d", challenge_id)
            self._drive_in_background(challenge_id, countdown=True)

    async def adopt(self) -> None:
        """Drive every running challenge this replica has no job for: another replica may have
        started it and gone, leaving a claim to take over or a question to close.

        Each drive runs in a task of its own, so a challenge waiting on its lock or a flood wait
        holds up neither the others nor the next adoption; one whose drive is still under way
        in this replica is left to it.
        """
        for challenge_id in await self.service.running_challenges():
            if self._driving(challenge_id) or self.jobs.jobs(f"^{self._job_prefix(challenge_id)}"):
                continue
            self._drive_in_background(challenge_id)

    def _driving(self, challenge_id: int) -> bool:
        """A drive of this challenge is under way (or about to start) in this replica."""
        lock = self._locks.get(challenge_id)
        return challenge_id in self._background or (lock is not None and lock.locked())

    def _drive_in_background(self, challenge_id: int, *, countdown: bool = False) -> None:
        task = self.application.create_task(
            self.drive(challenge_id, countdown=countdown), name=f"challenge:{challenge_id}:drive"
        )
        self._background[challenge_id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._background.get(challenge_id) is done:
                del self._background[challenge_id]

        task.add_done_callback(forget)


# --- jobs -------------------------------------------------------------------------------------


def driver_of(context: CallbackContext) -> ChallengeDriver:
    return context.application.bot_data[DRIVER_KEY]


async def close_job(context: CallbackContext) -> None:
    data = context.job.data
    driver = driver_of(context)
    try:
        await driver.close(data["challenge_id"], data["question_id"])
    except Exception:
        log.exception("closing a question of challenge %d failed; retrying", data["challenge_id"])
        driver.schedule_drive(data["challenge_id"], RETRY_SECONDS)


async def drive_job(context: CallbackContext) -> None:
    await driver_of(context).drive(context.job.data["challenge_id"])


async def countdown_job(context: CallbackContext) -> None:
    try:
        await driver_of(context).countdown(context.job)
    except Exception:
        log.exception("countdown of question %d failed", context.job.data["question_id"])


async def resume_job(context: CallbackContext) -> None:
    await driver_of(context).resume()


async def adopt_job(context: CallbackContext) -> None:
    try:
        await driver_of(context).adopt()
    except Exception:
        log.exception("looking for challenges to drive failed; trying again later")


# --- handlers ---------------------------------------------------------------------------------


def _driver(context: ContextTypes.DEFAULT_TYPE) -> ChallengeDriver:
    return context.application.bot_data[DRIVER_KEY]


async def _reply(
    context: ContextTypes.DEFAULT_TYPE, update: Update, html: str, reply: Reply | None = None
) -> Message | None:
    message = update.effective_message
    chat = update.effective_chat
    if chat is None or not (html or reply):
        return None
    return await _driver(context).send(
        chat.id,
        reply or Reply(html),
        reply_to=message.message_id if message is not None else None,
    )


def _named_deck(driver: ChallengeDriver, name: str | None) -> tuple[Deck | None, str]:
    """The deck ``/challenge`` names (None: the starter's choice), or the HTML saying why not."""
    if not name:
        return None, ""
    named = driver.service.decks_named(name)
    if len(named) == 1:
        return named[0], ""
    if named:
        return None, render_group.ambiguous_deck(name, [deck.name for deck in named])
    return None, render_group.unknown_deck(name, [deck.name for deck in driver.service.decks])


def _challenge_request(
    driver: ChallengeDriver, args: list[str]
) -> tuple[ChallengeRequest | None, Deck | None, str]:
    """What ``/challenge`` asks for and the deck it names, or the HTML saying what is wrong."""
    try:
        request = parse_challenge_args(args, driver.limits)
    except ValueError as problem:
        return None, None, esc(str(problem))
    deck, problem_html = _named_deck(driver, request.deck)
    return (None if problem_html else request), deck, problem_html


async def challenge_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    driver = _driver(context)
    chat = update.effective_chat
    request, deck, problem_html = _challenge_request(driver, context.args or [])
    if request is None:
        await _reply(context, update, problem_html)
        return
    result = await driver.service.start_challenge(
        chat.id,
        chat.title,
        player_of(update),
        request,
        driver.now(),
        update.update_id,
        grace_seconds=driver.limits.grace_seconds,
        deck_id=deck.id if deck is not None else None,
    )
    if isinstance(result, GroupNotice):
        await _reply(context, update, render_group.notice(result))
        return
    log.info(
        "challenge %d started in chat %d: %d questions, %d s",
        result.challenge_id,
        chat.id,
        result.questions,
        result.seconds,
    )
    await driver.send(chat.id, render_group.started(result))
    await driver.drive(result.challenge_id)


async def _answer(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    text: str,
    reply_to: Message | None,
) -> None:
    driver = _driver(context)
    message = update.effective_message
    chat = update.effective_chat
    if message.sender_chat is not None:  # an anonymous admin or a channel: no one to score
        await _reply(context, update, render_group.NOTICES["anonymous"])
        return
    result = await driver.service.answer(
        chat.id,
        player_of(update),
        text,
        driver.now(),
        update.update_id,
        reply_to=reply_to.message_id if reply_to is not None else None,
        reply_sent_at=reply_to.date if reply_to is not None else None,
    )
    if isinstance(result, AnswerAccepted):
        # Also on a replica that did not post the question: it then closes the question too
        # if the one that did is gone (whichever closes first, it closes once).
        driver.reschedule_close(result.challenge_id, result.question_id, result.closes_at)
        return
    await _reply(context, update, render_group.notice(result))


async def answer_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/a <answer>``: the raw text after the command, punctuation and all."""
    text = update.effective_message.text or ""
    parts = text.split(maxsplit=1)
    await _answer(update, context, parts[1] if len(parts) > 1 else "", None)


async def reply_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to one of the bot's messages: an answer, if it replies to the open question."""
    message = update.effective_message
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != context.bot.id:
        return
    await _answer(update, context, message.text or "", target)


async def _is_admin(context: ContextTypes.DEFAULT_TYPE, update: Update) -> bool:
    """Ask Telegram (getChatMember) whether the sender administers this chat."""
    message = update.effective_message
    chat = update.effective_chat
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous admin writes as the group itself
    try:
        member = await context.bot.get_chat_member(chat.id, update.effective_user.id)
    except TelegramError as problem:
        log.warning("could not check admin status in chat %d: %s", chat.id, problem)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    driver = _driver(context)
    chat = update.effective_chat
    player = player_of(update)
    running = await driver.service.running_in_chat(chat.id)
    if running is None:
        await _reply(context, update, render_group.notice(GroupNotice("no_challenge")))
        return
    is_admin = player.user_id != running.started_by and await _is_admin(context, update)
    result = await driver.service.stop_challenge(
        chat.id, player, driver.now(), update.update_id, is_admin=is_admin
    )
    if isinstance(result, GroupNotice):
        await _reply(context, update, render_group.notice(result))
        return
    driver.cancel_jobs(result.challenge_id, keep_countdown=True)
    log.info("challenge %d in chat %d stopped", result.challenge_id, chat.id)
    await driver.send(chat.id, render_group.final(result))


async def leaderboard_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    driver = _driver(context)
    chat = update.effective_chat
    view = await driver.service.leaderboard(chat.id, Period.ALL, driver.now())
    await driver.send(chat.id, render_group.leaderboard(view))


async def leaderboard_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The all time / this week / today buttons under a leaderboard."""
    driver = _driver(context)
    query = update.callback_query
    period = parse_period((query.data or "").removeprefix(render_group.LEADERBOARD_PREFIX))
    message = query.message
    if period is None or message is None:
        await query.answer("That button no longer works.")
        return
    view = await driver.service.leaderboard(message.chat.id, period, driver.now())
    await query.answer()
    await driver.edit(message.chat.id, message.message_id, render_group.leaderboard(view))


async def score_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    driver = _driver(context)
    view = await driver.service.rank(update.effective_chat.id, player_of(update), driver.now())
    await _reply(context, update, "", render_group.rank(view))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _driver(context).send(update.effective_chat.id, Reply(render_group.GROUP_HELP))


async def quiz_in_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply(context, update, render_group.QUIZ_IN_GROUP)


async def private_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/challenge or /leaderboard in private: where challenges happen, and the user's groups."""
    driver = _driver(context)
    standings = await group_standings_for_user(driver.service.store, update.effective_user.id)
    text = render_group.PRIVATE_HINT
    listing = render_group.group_standings(standings)
    await context.bot.send_message(
        update.effective_chat.id, f"{text}\n\n{listing}" if listing else text
    )


async def migration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram's service message when a group becomes a supergroup (in both chats)."""
    message = update.effective_message
    driver = _driver(context)
    if message.migrate_to_chat_id:
        await driver.follow_migration(message.chat.id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await driver.follow_migration(message.migrate_from_chat_id, message.chat.id)


async def my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added to or removed from a group."""
    change: ChatMemberUpdated = update.my_chat_member
    chat = change.chat
    driver = _driver(context)
    old, new = change.old_chat_member.status, change.new_chat_member.status
    if new in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await driver.chat_gone(chat.id, f"the bot was removed ({new})")
    elif old in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED) and await driver.service.bot_added(
        chat.id, chat.title, driver.now(), update.update_id
    ):
        log.info("added to chat %d", chat.id)
        await driver.send(chat.id, Reply(render_group.GROUP_HELP))


# --- wiring -----------------------------------------------------------------------------------


class GroupChatMemberHandler(ChatMemberHandler[ContextTypes.DEFAULT_TYPE, None]):
    """The bot's own membership changes in groups only: private ones (a user blocking the
    bot) stay free for other handlers, since only the first matching handler of a group runs.
    """

    def check_update(self, update: object) -> bool:
        if not super().check_update(update):
            return False
        assert isinstance(update, Update)
        chat = update.effective_chat
        return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def _add_before_catch_alls(application: Application, handler: BaseHandler[Any, Any, Any]) -> None:
    """Put a callback handler in front of the private one, which answers every button.

    ``bot.telegram.app`` registers its CallbackQueryHandler without a pattern before calling us,
    so ours must come first in handler group 0 to see the leaderboard buttons.
    """
    application.add_handler(handler)
    handlers = application.handlers[0]
    handlers.remove(handler)
    handlers.insert(0, handler)


async def start_group_service(application: Application, runtime: Runtime) -> None:
    """post_init hook: the service over the open store; resuming runs once polling starts."""
    assert runtime.store is not None
    limits: ChallengeLimits = application.bot_data[DRIVER_KEY].limits
    service = GroupService(
        runtime.store,
        runtime.decks,
        catalogue=runtime.service.catalogue if runtime.service is not None else None,
        break_seconds=limits.break_seconds,
        lease_seconds=limits.posting_lease_seconds,
    )
    runtime.services[SERVICE_KEY] = service
    log.info("group challenges: this replica posts as %s", service.replica)
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("group challenges need PTB's JobQueue (python-telegram-bot[job-queue])")
    job_queue.run_once(resume_job, when=0, name="groups:resume", job_kwargs=JOB_KWARGS)
    job_queue.run_repeating(
        adopt_job,
        interval=limits.posting_lease_seconds,
        first=limits.posting_lease_seconds,
        name="groups:adopt",
        job_kwargs=JOB_KWARGS,
    )


def register_group_handlers(application: Application, runtime: Runtime) -> None:
    """Add the group handlers, menu commands and the start-up hook that resumes challenges."""
    limits = runtime.settings.challenges
    application.bot_data[DRIVER_KEY] = ChallengeDriver(application, runtime, limits)
    runtime.commands.extend(MENU_COMMANDS)
    runtime.on_startup.append(start_group_service)

    group_messages = GROUPS & filters.UpdateType.MESSAGE
    for name, callback in [
        ("challenge", challenge_command),
        ("a", answer_command),
        ("stop", stop_command),
        ("leaderboard", leaderboard_command),
        ("score", score_command),
        ("help", help_command),
        ("start", help_command),
        ("quiz", quiz_in_group),
    ]:
        application.add_handler(CommandHandler(name, callback, filters=group_messages))
    private_messages = PRIVATE & filters.UpdateType.MESSAGE
    for name in ("challenge", "leaderboard"):
        application.add_handler(CommandHandler(name, private_hint, filters=private_messages))
    application.add_handler(
        MessageHandler(
            group_messages & filters.TEXT & ~filters.COMMAND & filters.REPLY, reply_answer
        )
    )
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, migration))
    application.add_handler(
        GroupChatMemberHandler(my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    _add_before_catch_alls(
        application,
        CallbackQueryHandler(leaderboard_button, pattern=f"^{render_group.LEADERBOARD_PREFIX}"),
    )
