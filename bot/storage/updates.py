"""Telegram updates: claims that make each count once, reply marks that make each answered
once, the inbox, the bulk-send lease, and the bot's own state."""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, case, or_, select, update

from bot.storage.schema import (
    Queries,
    bot_state,
    flood_windows,
    inbox,
    per_dialect,
    processed_updates,
    send_leases,
)


def _mark_replied(insert: Callable[[Table], Any]) -> Any:
    statement = insert(processed_updates).values(
        update_id=bindparam("update_id"),
        processed_at=bindparam("now"),
        replied_at=bindparam("now"),
    )
    return statement.on_conflict_do_update(
        index_elements=["update_id"], set_={"replied_at": statement.excluded.replied_at}
    )


def _take_lease(insert: Callable[[Table], Any]) -> Any:
    """Insert the lease, or take it over when it is ours already or has run out."""
    statement = insert(send_leases).values(
        name=bindparam("name"), holder=bindparam("holder"), held_until=bindparam("until")
    )
    return statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": statement.excluded.holder, "held_until": statement.excluded.held_until},
        where=or_(
            send_leases.c.holder == statement.excluded.holder,
            send_leases.c.held_until < bindparam("now"),
        ),
    )


def _count_arrivals(insert: Callable[[Table], Any]) -> Any:
    """Add a user's new updates to their window, or start a new window if it is over."""
    statement = insert(flood_windows).values(
        user_id=bindparam("user_id"),
        window_start=bindparam("now"),
        counted=bindparam("arrivals"),
        warned=False,
    )
    current = flood_windows.c.window_start > bindparam("window_opened_after")
    return statement.on_conflict_do_update(
        index_elements=["user_id"],
        set_={
            "counted": case(
                (current, flood_windows.c.counted + statement.excluded.counted),
                else_=statement.excluded.counted,
            ),
            "warned": case((current, flood_windows.c.warned), else_=False),
            "window_start": case(
                (current, flood_windows.c.window_start), else_=statement.excluded.window_start
            ),
        },
    ).returning(flood_windows.c.counted, flood_windows.c.warned)


_COUNT_ARRIVALS = per_dialect(_count_arrivals)
_MARK_REPLIED = per_dialect(_mark_replied)
_TAKE_LEASE = per_dialect(_take_lease)
_CLAIM_UPDATE = per_dialect(
    lambda insert: (
        insert(processed_updates)
        .values(update_id=bindparam("update_id"), processed_at=bindparam("processed_at"))
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
)


#: What an update's unit of work returns: a view to reply with, or a notice.
Result = TypeVar("Result")
#: What a reply shows, in a few ids and words (JSON): enough to render it again.
Note = dict[str, Any]


class UpdateQueries(Queries):
    """Which updates were handled, which wait in the inbox, and small key-value state."""

    async def claim_update(self, update_id: int | None, now: datetime) -> bool:
        """Record that this update is being handled; False if it was handled before.

        Telegram redelivers updates after a crash; claiming inside the same transaction as the
        update's effects makes every update count exactly once.
        """
        if update_id is None:
            return True
        result = await self.conn.execute(
            _CLAIM_UPDATE[self.conn.dialect.name], {"update_id": update_id, "processed_at": now}
        )
        return result.rowcount == 1

    async def once(
        self,
        update_id: int | None,
        now: datetime,
        work: Callable[[], Awaitable[Result]],
        note: Callable[[Result], Note],
        again: Callable[[Note | None], Awaitable[Result]],
    ) -> Result:
        """Run ``work`` (the update's effects, in this unit of work) once per update, and note
        with its claim what its reply shows (``note``). A redelivery runs ``again`` instead,
        with that note when the reply was never marked sent (the replica died between the
        effects and the send), else with None (say nothing)."""
        if not await self.claim_update(update_id, now):
            noted = await self.unsent_reply(update_id)
            return await again(json.loads(noted) if noted is not None else None)
        result = await work()
        await self.note_reply(update_id, json.dumps(note(result)))
        return result

    async def note_reply(self, update_id: int | None, reply: str) -> None:
        """Note what this claimed update replies, in the unit of work of its effects, so that a
        redelivery after a crash before the send can send it (see ``unsent_reply``)."""
        if update_id is not None:
            await self.conn.execute(
                update(processed_updates)
                .where(processed_updates.c.update_id == update_id)
                .values(reply=reply)
            )

    async def unsent_reply(self, update_id: int | None) -> str | None:
        """The reply noted for this claimed update if it was never marked sent, else None."""
        if update_id is None:
            return None
        return (
            await self.conn.execute(
                select(processed_updates.c.reply).where(
                    processed_updates.c.update_id == update_id,
                    processed_updates.c.replied_at.is_(None),
                )
            )
        ).scalar_one_or_none()

    async def mark_replied(self, update_id: int, now: datetime) -> None:
        """Record that this update's reply went out, so a redelivery is not answered again.

        Updates whose handler claimed nothing (/help, say) get a claim row here too.
        """
        await self.conn.execute(
            _MARK_REPLIED[self.conn.dialect.name], {"update_id": update_id, "now": now}
        )

    async def replied_among(self, update_ids: Iterable[int]) -> set[int]:
        """Which of these updates were answered already."""
        ids = list(update_ids)
        if not ids:
            return set()
        rows = await self.conn.execute(
            select(processed_updates.c.update_id).where(
                processed_updates.c.update_id.in_(ids), processed_updates.c.replied_at.is_not(None)
            )
        )
        return {row.update_id for row in rows}

    async def was_replied(self, update_id: int | None) -> bool:
        return update_id is not None and bool(await self.replied_among([update_id]))

    async def forget_claims(self, before: datetime, batch: int = 5000) -> int:
        """Drop up to ``batch`` of the oldest update claims made before ``before``.

        Telegram redelivers an update for at most a day, so an older claim is never needed
        again. Update ids grow with time, so the oldest claims are the lowest keys: walking
        the primary key from the start finds them without an index on the time.
        """
        rows = (
            await self.conn.execute(
                select(processed_updates.c.update_id, processed_updates.c.processed_at)
                .order_by(processed_updates.c.update_id)
                .limit(batch)
            )
        ).all()
        old = list(itertools.takewhile(lambda row: row.processed_at < before, rows))
        if old:
            # A claim whose update still waits in the inbox (the bot was down all that time)
            # is kept until that update has been handled again.
            await self.conn.execute(
                processed_updates.delete().where(
                    processed_updates.c.update_id <= old[-1].update_id,
                    processed_updates.c.update_id.not_in(select(inbox.c.update_id)),
                )
            )
        return len(old)

    # the inbox: updates kept until handled, so a crash loses none of them

    async def keep_updates(self, updates: list[tuple[int, str]], now: datetime) -> None:
        if not updates:
            return
        await self.conn.execute(
            self.insert(inbox)
            .values(
                [
                    {"update_id": update_id, "payload": payload, "received_at": now}
                    for update_id, payload in updates
                ]
            )
            .on_conflict_do_nothing(index_elements=["update_id"])
        )

    async def kept_updates(
        self, limit: int = 1000, received_before: datetime | None = None
    ) -> list[tuple[int, str]]:
        query = select(inbox.c.update_id, inbox.c.payload).order_by(inbox.c.update_id).limit(limit)
        if received_before is not None:
            query = query.where(inbox.c.received_at < received_before)
        result = await self.conn.execute(query)
        return [(row.update_id, row.payload) for row in result]

    async def forget_updates(self, update_ids: list[int]) -> None:
        await self.conn.execute(inbox.delete().where(inbox.c.update_id.in_(update_ids)))

    async def get_state(self, key: str) -> str | None:
        row = (
            await self.conn.execute(select(bot_state.c.value).where(bot_state.c.key == key))
        ).first()
        return row.value if row else None

    async def set_state(self, key: str, value: str) -> None:
        statement = self.insert(bot_state).values(key=key, value=value)
        await self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=["key"], set_={"value": statement.excluded.value}
            )
        )

    # flood control shared by the replicas

    async def count_arrivals(
        self, user_id: int, arrivals: int, now: datetime, window_opened_after: datetime
    ) -> tuple[int, bool]:
        """Count ``arrivals`` updates into the user's window (a new one if the current one
        opened at or before ``window_opened_after``); return the count before them and whether
        the window has warned the user."""
        row = (
            await self.conn.execute(
                _COUNT_ARRIVALS[self.conn.dialect.name],
                {
                    "user_id": user_id,
                    "arrivals": arrivals,
                    "now": now,
                    "window_opened_after": window_opened_after,
                },
            )
        ).one()
        return row.counted - arrivals, bool(row.warned)

    async def note_warned(self, user_ids: Iterable[int]) -> None:
        ids = list(user_ids)
        if ids:
            await self.conn.execute(
                update(flood_windows).where(flood_windows.c.user_id.in_(ids)).values(warned=True)
            )

    # the bulk-send lease: one replica at a time sends reminders and broadcasts

    async def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease ``name`` until ``until``; False while another holds it."""
        result = await self.conn.execute(
            _TAKE_LEASE[self.conn.dialect.name],
            {"name": name, "holder": holder, "until": until, "now": now},
        )
        return result.rowcount == 1

    async def release_lease(self, name: str, holder: str) -> None:
        await self.conn.execute(
            send_leases.delete().where(send_leases.c.name == name, send_leases.c.holder == holder)
        )

    async def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        row = (
            await self.conn.execute(
                select(send_leases.c.holder, send_leases.c.held_until).where(
                    send_leases.c.name == name
                )
            )
        ).first()
        return (row.holder, row.held_until) if row else None
