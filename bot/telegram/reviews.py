"""Telegram handlers for spaced repetition, reminders and /stats, and the reminder dispatcher.

Reminders live in the database; PTB's JobQueue only holds one wake-up job, re-created at
start-up and re-armed after every run and every /remind. Each run takes the deployment's bulk
lease (``bot.telegram.bulk``: one replica at a time sends), claims due reminders in small
batches (see ``ReviewService.claim_due_reminders``), and a few workers send them at the
lease's pace, under Telegram's limit for the whole deployment.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import ReviewOptions
from bot.core import quiz
from bot.core.reminders import USAGE, ReminderInputError, parse_hours, parse_remind
from bot.core.scheduling import MAX_NEW_PER_DAY
from bot.services.quiz import Notice
from bot.services.review import (
    ClosedQuestion,
    ReminderJob,
    ReviewService,
    SpacedRepetition,
)
from bot.storage.base import UserProfile
from bot.telegram import charts, render, render_reviews
from bot.telegram.bulk import BulkLease
from bot.telegram.render import Reply

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime

log = logging.getLogger("bot.reviews")

REVIEW_COMMANDS = [
    BotCommand("due", "Cards due now, today and this week"),
    BotCommand("stats", "Your progress chart, mastery per tag, weakest cards"),
    BotCommand("remind", "Daily reminder: /remind HH:MM [mon-fri] or /remind off"),
    BotCommand("timezone", "Your time zone for reminders: /timezone Area/City"),
    BotCommand("settings", "New cards per day and your other settings"),
]

#: Handlers that must see an update before the core's handlers (group 0): the /quiz gate, this
#: feature's buttons and replies to a question of the day. The core logs updates in group -3
#: and guards against floods in group -2, so these run after both, in group -1.
EARLY_GROUP = -1

#: Reminders claimed per transaction; also the most a crash can leave unsent (see README).
CLAIM_BATCH = 30
#: Concurrent sends.
SEND_WORKERS = 30
#: Extra rounds of waiting out a 429 after the rate limiter's own retries are spent.
RETRY_ROUNDS = 4
#: The dispatcher looks at the database at least this often, whatever it expects.
MAX_SLEEP_SECONDS = 300.0


def _markup(buttons: list[list[render.Button]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


def _retry_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for (PTB 22 warns when reading it the old way)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _profile(update: Update) -> UserProfile:
    user = update.effective_user
    assert user is not None
    return UserProfile(
        user_id=user.id,
        first_name=user.first_name or user.username or "friend",
        username=user.username,
        language_code=user.language_code,
    )


def shifted_clock(clock: Callable[[], datetime], seconds: float) -> Callable[[], datetime]:
    """A clock running ``seconds`` ahead (tests make reminders fall due with it)."""
    offset = timedelta(seconds=seconds)
    return lambda: clock() + offset


@dataclass
class SendResult:
    status: str  # sent | blocked | failed | unknown
    message: Message | None = None
    detail: str | None = None


class ReminderDispatcher:
    """Sends due reminders and closes questions of the day; one JobQueue job drives it."""

    JOB_NAME = "review-reminders"

    def __init__(
        self,
        application: Application,
        service: ReviewService,
        clock: Callable[[], datetime],
        bulk: BulkLease,
    ) -> None:
        self.application = application
        self.service = service
        self.clock = clock
        self.bulk = bulk
        self._lock = asyncio.Lock()
        self.sent = 0

    def arm(self, delay: float) -> None:
        """(Re)schedule the single wake-up job ``delay`` seconds from now."""
        job_queue = self.application.job_queue
        if job_queue is None:
            raise RuntimeError("reminders need PTB's job queue (python-telegram-bot[job-queue])")
        for job in job_queue.get_jobs_by_name(self.JOB_NAME):
            job.schedule_removal()
        job_queue.run_once(self._wake, when=max(0.0, delay), name=self.JOB_NAME)

    async def rearm(self) -> None:
        wake = await self.service.next_wake()
        # A few milliseconds late rather than early: due means next_fire_at <= now.
        delay = MAX_SLEEP_SECONDS if wake is None else (wake - self.clock()).total_seconds() + 0.02
        self.arm(min(MAX_SLEEP_SECONDS, max(0.0, delay)))

    async def _wake(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        ran = True
        try:
            ran = await self.run()
        except Exception:
            log.exception("the reminder run failed; retrying at the next wake-up")
        finally:
            if self.application.running:  # not while the bot shuts down
                await self._wake_again(ran)

    async def _wake_again(self, ran: bool) -> None:
        if not ran:  # another replica sends: look again when its lease may have run out
            self.arm(self.bulk.lease_seconds / 2)
            return
        try:
            await self.rearm()
        except Exception:
            log.exception("could not re-arm the reminders; retrying in a minute")
            self.arm(60.0)

    async def run(self) -> bool:
        """Close questions whose time is up, then fan out every reminder that is due.

        Only while holding the bulk lease; False (nothing done) while another replica has it.
        Sends claimed but never finished are then settled first: their sender has let the
        lease go, or lost it, so it is stopped or will not claim more.
        """
        async with self._lock:
            if not await self.bulk.try_acquire():
                return False
            try:
                await self.service.resolve_unfinished_sends(self.clock())
                for closed in await self.service.close_due_questions(self.clock()):
                    await self._send_closed(closed)
                await self._fan_out()
            finally:
                await self.bulk.release()
            return True

    async def _fan_out(self) -> None:
        queue: asyncio.Queue[ReminderJob] = asyncio.Queue(maxsize=CLAIM_BATCH)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(SEND_WORKERS)]
        try:
            # A shutdown stops the claiming; what is claimed already is still sent (a few
            # seconds' worth), so a deploy in the middle of a fan-out loses nothing.
            while self.application.running and self.bulk.held:
                claimed = await self.service.claim_due_reminders(self.clock(), CLAIM_BATCH)
                if claimed.examined == 0:
                    break
                for job in claimed.jobs:
                    await queue.put(job)
            await queue.join()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(self, queue: asyncio.Queue[ReminderJob]) -> None:
        while True:
            job = await queue.get()
            try:
                await self.deliver(job)
            except Exception:
                log.exception("reminder %d could not be delivered", job.reminder_id)
            finally:
                queue.task_done()

    async def send(self, chat_id: int, reply: Reply) -> SendResult:
        """Send one message, waiting out 429s; never retried after a time-out (it may be there)."""
        bot = self.application.bot
        for _ in range(RETRY_ROUNDS + 1):
            try:
                message = await bot.send_message(
                    chat_id, reply.html, reply_markup=_markup(reply.buttons)
                )
                return SendResult("sent", message)
            except RetryAfter as problem:
                wait = _retry_seconds(problem)
                log.info("Telegram asked to wait %.0f s before the next reminder", wait)
                await asyncio.sleep(wait + 0.1)
            except Forbidden as problem:
                return SendResult("blocked", detail=str(problem))
            except BadRequest as problem:
                if "chat not found" in str(problem).lower():
                    return SendResult("blocked", detail=str(problem))
                return SendResult("failed", detail=str(problem))
            except TimedOut as problem:
                return SendResult("unknown", detail=str(problem))
            except TelegramError as problem:
                return SendResult("failed", detail=str(problem))
        return SendResult("failed", detail="Telegram kept answering 429 Too Many Requests")

    async def deliver(self, job: ReminderJob) -> None:
        if job.closed is not None:
            await self._send_closed(job.closed)
        if job.chat_type == "private":
            reply = render_reviews.private_reminder(job)
        else:
            reply = render_reviews.daily_question(job, self.clock())
        await self.bulk.pace()
        result = await self.send(job.chat_id, reply)
        await self.service.finish_reminder(
            job,
            result.status,
            self.clock(),
            message_id=result.message.message_id if result.message else None,
            detail=result.detail,
        )
        if result.status == "sent":
            self.sent += 1
        elif result.status == "blocked":
            log.warning(
                "reminder %d turned off: chat %d cannot be reached (%s)",
                job.reminder_id,
                job.chat_id,
                result.detail,
            )
        else:
            log.warning(
                "reminder %d to chat %d: %s (%s)",
                job.reminder_id,
                job.chat_id,
                result.status,
                result.detail,
            )

    async def _send_closed(self, closed: ClosedQuestion) -> None:
        await self.bulk.pace()
        result = await self.send(closed.chat_id, render_reviews.closed_question(closed))
        if result.status != "sent":
            log.warning("could not post the closed question in %d: %s", closed.chat_id, result)


class ReviewFeature:
    """The handlers' shared state: the service and dispatcher exist once the store is open."""

    def __init__(self, runtime: Runtime, options: ReviewOptions) -> None:
        self.runtime = runtime
        self.options = options
        self.service: ReviewService | None = None
        self.dispatcher: ReminderDispatcher | None = None

    async def startup(self, application: Application, runtime: Runtime) -> None:
        """Open the service and schedule the reminders; the first run, under the bulk lease,
        settles sends a crash left open."""
        assert runtime.store is not None and runtime.service is not None
        runtime.service.spaced = SpacedRepetition(fuzzing=self.options.fuzzing)
        self.service = ReviewService(runtime.store, runtime.service)
        assert runtime.bulk is not None
        self.dispatcher = ReminderDispatcher(application, self.service, runtime.clock, runtime.bulk)
        # The first run is at once: reminders that fell due while the bot was down go out now
        # (if under two hours late) and every other one gets its wake-up.
        self.dispatcher.arm(0.0)

    def now(self) -> datetime:
        return self.runtime.clock()

    async def private_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A user who blocks the bot has the reminder turned off at once, not at the next send."""
        change = update.my_chat_member
        if change is None or change.new_chat_member.status != ChatMemberStatus.BANNED:
            return
        if await self.require().reminder_off(change.chat.id, self.now(), reason="blocked"):
            log.info("chat %d blocked the bot; its reminder is off", change.chat.id)

    def require(self) -> ReviewService:
        if self.service is None:
            raise RuntimeError("the review service is not running")
        return self.service

    async def reply(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply
    ) -> Message:
        return await context.bot.send_message(
            chat_id, reply.html, reply_markup=_markup(reply.buttons)
        )

    async def poke(self) -> None:
        """A reminder changed: wake up in time for it."""
        if self.dispatcher is not None:
            await self.dispatcher.rearm()

    # --- commands ---------------------------------------------------------------------------

    async def due_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        view = await self.require().due(_profile(update), self.now())
        await self.reply(context, update.effective_chat.id, render_reviews.due(view, self.now()))

    async def stats_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id
        view = await self.require().stats(_profile(update), self.now())
        if view is None:
            await context.bot.send_message(chat_id, render_reviews.NO_STATS)
            return
        await context.bot.send_chat_action(chat_id, "upload_photo")
        png = await asyncio.to_thread(charts.progress_png, view.days, view.trend, view.forecast)
        await context.bot.send_photo(
            chat_id, photo=png, caption=render_reviews.stats_caption(view), filename="progress.png"
        )
        await self.reply(context, chat_id, render_reviews.stats_summary(view))

    async def _is_admin(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        chat = update.effective_chat
        if chat.type == "private":
            return True
        member = await context.bot.get_chat_member(chat.id, update.effective_user.id)
        return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

    async def remind_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        service = self.require()
        chat = update.effective_chat
        now = self.now()
        try:
            command = parse_remind(" ".join(context.args or []))
        except ReminderInputError as problem:
            await context.bot.send_message(chat.id, f"{render.esc(str(problem))}\n\n{USAGE}")
            return
        if command.action == "show":
            view = await service.reminder(chat.id)
            await self.reply(context, chat.id, render_reviews.reminder(view, now))
            return
        if not await self._is_admin(update, context):
            await context.bot.send_message(chat.id, render_reviews.ADMINS_ONLY)
            return
        if command.action == "off":
            was_on = await service.reminder_off(chat.id, now)
            await self.reply(context, chat.id, render_reviews.reminder_off(was_on))
        else:
            assert command.spec is not None
            view = await service.set_reminder(
                chat_id=chat.id,
                chat_type="private" if chat.type == "private" else "group",
                user=_profile(update),
                spec=command.spec,
                now=now,
            )
            await self.reply(context, chat.id, render_reviews.reminder(view, now, just_set=True))
        await self.poke()

    async def timezone_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        service = self.require()
        chat = update.effective_chat
        now = self.now()
        typed = " ".join(context.args or []).strip()
        if not typed:
            view = await service.settings(chat.id, now)
            await self.reply(context, chat.id, render_reviews.timezone_current(view, now))
            return
        if not await self._is_admin(update, context):
            await context.bot.send_message(chat.id, render_reviews.ADMINS_ONLY)
            return
        result = await service.set_timezone(chat.id, typed, now)
        await self.reply(context, chat.id, render_reviews.timezone_result(result, typed, now))
        if result.name is not None:
            await self.poke()

    async def settings_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        service = self.require()
        chat = update.effective_chat
        group = chat.type != "private"
        now = self.now()
        args = [arg.lower() for arg in context.args or []]
        if not args:
            view = await service.settings(chat.id, now)
            await self.reply(context, chat.id, render_reviews.settings(view, now, group=group))
            return
        if group:
            await self._group_settings(update, context, args)
            return
        if args[0] != "new" or len(args) != 2 or not args[1].isdigit():
            await context.bot.send_message(chat.id, render_reviews.SETTINGS_USAGE)
            return
        count = int(args[1])
        if count > MAX_NEW_PER_DAY:
            await context.bot.send_message(chat.id, render_reviews.SETTINGS_USAGE)
            return
        view = await service.set_new_per_day(chat.id, count, now)
        await self.reply(context, chat.id, render_reviews.new_per_day_set(view))

    async def _group_settings(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]
    ) -> None:
        """``/settings hours N`` in a group: how long a question of the day stays open (admins)."""
        chat_id = update.effective_chat.id
        if args[0] != "hours" or len(args) != 2:
            await context.bot.send_message(chat_id, render_reviews.GROUP_SETTINGS_USAGE)
            return
        if not await self._is_admin(update, context):
            await context.bot.send_message(chat_id, render_reviews.ADMINS_ONLY)
            return
        try:
            hours = None if args[1] in {"off", "none", "next"} else parse_hours(args[1])
        except ReminderInputError as problem:
            await context.bot.send_message(chat_id, render.esc(str(problem)))
            return
        view = await self.require().set_question_hours(chat_id, hours, self.now())
        await self.reply(context, chat_id, render_reviews.question_hours_set(view))

    # --- the /quiz gate and this feature's buttons ------------------------------------------------

    async def _offer_practise_ahead(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> bool:
        """When a normal round would be empty, offer "Practise ahead" instead; True if offered."""
        nothing = await self.require().nothing_due(_profile(update), self.now())
        if nothing is None:
            return False
        if update.callback_query is not None:
            await update.callback_query.answer()
        await self.reply(
            context, update.effective_chat.id, render_reviews.nothing_due(nothing, self.now())
        )
        return True

    async def quiz_gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/quiz: let the core start the round unless there is nothing to study."""
        try:
            quiz.parse_round_size(" ".join(context.args or []) or None)
        except ValueError:
            return  # the core explains the round size
        if await self._offer_practise_ahead(update, context):
            raise ApplicationHandlerStop

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        if query.data == render_reviews.START_REVIEW:
            if await self._offer_practise_ahead(update, context):
                raise ApplicationHandlerStop
            return  # the core starts the round
        if query.data == render_reviews.PRACTISE_AHEAD:
            await query.answer()
            await self._practise_ahead(update, context)
            raise ApplicationHandlerStop

    async def _practise_ahead(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        from bot.telegram.runtime import send, send_question

        query = update.callback_query
        assert query is not None
        chat_id = query.message.chat.id if query.message else query.from_user.id
        if query.message is not None:
            try:
                await query.edit_message_reply_markup(reply_markup=None)
            except BadRequest as problem:
                log.debug("could not remove the button: %s", problem)
        quiz_service = self.runtime.service
        assert quiz_service is not None
        result = await quiz_service.start_round(
            _profile(update), chat_id, quiz.DEFAULT_ROUND_SIZE, self.now(), update.update_id
        )
        if isinstance(result, Notice):
            return
        if result.replaced is not None:
            await send(context, chat_id, render.summary(result.replaced))
        await send_question(context, chat_id, result.question)

    # --- groups: replies to the question of the day -----------------------------------------------

    async def daily_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        target = message.reply_to_message if message else None
        if target is None or target.from_user is None or target.from_user.id != context.bot.id:
            return
        service = self.require()
        if not await service.is_daily_question(message.chat.id, target.message_id):
            return  # a reply to some other bot message: the group feature's
        result = await service.answer_daily(
            message.chat.id,
            target.message_id,
            _profile(update),
            message.text or "",
            self.now(),
            update.update_id,
            display_name=update.effective_user.full_name,
        )
        if isinstance(result, str):
            notice = render_reviews.DAILY_NOTICES[result]
            if notice:
                await message.reply_text(notice)
        elif result is not None:
            await message.reply_text(render_reviews.daily_answer(result).html)
        raise ApplicationHandlerStop


class PrivateChatMemberHandler(ChatMemberHandler[ContextTypes.DEFAULT_TYPE, None]):
    """The bot's membership changes in private chats only (groups have their own handler)."""

    def check_update(self, update: object) -> bool:
        if not super().check_update(update):
            return False
        assert isinstance(update, Update)
        chat = update.effective_chat
        return chat is not None and chat.type == ChatType.PRIVATE


def register_review_handlers(application: Application, runtime: Runtime) -> None:
    """Add the review feature's handlers, commands and start-up work."""
    options = runtime.settings.reviews
    if options.clock_offset_seconds:
        log.warning(
            "QUIZBOT_CLOCK_OFFSET_SECONDS=%s: the bot's clock is shifted (tests only)",
            options.clock_offset_seconds,
        )
        runtime.clock = shifted_clock(runtime.clock, options.clock_offset_seconds)
    feature = ReviewFeature(runtime, options)
    runtime.services["reviews"] = feature
    runtime.commands.extend(REVIEW_COMMANDS)
    runtime.on_startup.append(feature.startup)

    messages = filters.UpdateType.MESSAGE
    private = messages & filters.ChatType.PRIVATE
    groups = messages & filters.ChatType.GROUPS
    for name, callback, where in [
        ("due", feature.due_command, private),
        ("stats", feature.stats_command, private),
        ("remind", feature.remind_command, messages),
        ("timezone", feature.timezone_command, messages),
        ("settings", feature.settings_command, messages),
    ]:
        application.add_handler(CommandHandler(name, callback, filters=where))

    application.add_handler(
        PrivateChatMemberHandler(feature.private_membership, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(CommandHandler("quiz", feature.quiz_gate, filters=private), EARLY_GROUP)
    application.add_handler(
        CallbackQueryHandler(
            feature.on_button,
            pattern=f"^({render_reviews.START_REVIEW}|{render_reviews.PRACTISE_AHEAD})$",
        ),
        EARLY_GROUP,
    )
    application.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & groups & filters.REPLY, feature.daily_reply
        ),
        EARLY_GROUP,
    )
