"""Webhook mode: Telegram POSTs updates to us instead of our polling for them.

A small aiohttp server receives them, checks Telegram's secret token header, keeps each
update in the durable inbox (``UpdatePump.accept``) and only then answers 200, so an update
is never acknowledged before it is safe. ``/healthz`` reports whether the database answers,
for load balancers and container health checks. Several replicas can run behind a load
balancer on one PostgreSQL database: all state is in the database.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from bot.telegram.pump import DATABASE_ERRORS

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.telegram.runtime import Runtime

log = logging.getLogger("bot.telegram.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Telegram's updates are small; anything far bigger is not from Telegram.
MAX_BODY_BYTES = 1 << 20


def webhook_path(webhook_url: str) -> str:
    """The path part of the public webhook URL; the server listens on the same path."""
    path = urlsplit(webhook_url).path
    return path if path and path != "/" else "/telegram"


def build_web_app(
    application: Application, runtime: Runtime, secret: str, path: str
) -> web.Application:
    """The HTTP side: the webhook endpoint and the health check."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("Refused a webhook request without the right secret token")
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        try:
            payload = json.loads(await request.read())
            update = Update.de_json(payload, application.bot)
        except (ValueError, TypeError, KeyError) as problem:
            log.warning("Refused a malformed webhook update: %s", problem.__class__.__name__)
            return web.json_response({"ok": False, "error": "bad update"}, status=400)
        if update is None or runtime.pump is None:
            return web.json_response({"ok": False, "error": "not ready"}, status=503)
        await runtime.pump.accept([update])
        return web.json_response({"ok": True})

    async def healthz(request: web.Request) -> web.Response:
        try:
            assert runtime.store is not None
            await runtime.store.ping()
        except (AssertionError, *DATABASE_ERRORS) as problem:
            return web.json_response(
                {"status": "unhealthy", "database": problem.__class__.__name__}, status=503
            )
        return web.json_response({"status": "ok", "database": "ok"})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", healthz)
    return app
