"""Run the bot: long polling, or a webhook server when WEBHOOK_URL is set; stop on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import LinkPreviewOptions, Update
from aiogram.utils.token import TokenValidationError, validate_token
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot import health
from bot.settings import Settings, SettingsError
from bot.shared import SharedState
from bot.stats import StatsStore, open_stats
from bot.telegram.dispatcher import build_dispatcher
from bot.telegram.logs import redact_secrets
from bot.telegram.polling import Poller
from bot.telegram.session import build_session
from bot.wiring import build_service

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
"""Liveness: the process serves HTTP."""
READY_PATH = "/readyz"
"""Readiness: Redis and the statistics database answer (503 if one that is set does not)."""
SHUTDOWN_TIMEOUT = 1.0
"""Seconds the webhook server waits for open requests when stopping (updates in progress have
had most of SHUTDOWN_GRACE already: a request still open then only waits for its 200)."""


def _token(settings: Settings) -> str:
    """Return the token, checked for the shape Telegram gives tokens."""
    if settings.bot_token is None:
        raise SettingsError("BOT_TOKEN is not set; get a token from @BotFather and set BOT_TOKEN")
    token = settings.bot_token.get_secret_value()
    try:
        validate_token(token)
    except TokenValidationError:
        raise SettingsError("BOT_TOKEN does not look like a bot token (expected 123456:ABC-...)") from None
    return token


def build_bot(settings: Settings) -> Bot:
    """Return the Bot: the one place where the token is unwrapped for use."""
    return Bot(
        _token(settings),
        session=build_session(settings.telegram_api_url),
        default=DefaultBotProperties(
            parse_mode=ParseMode.HTML,
            link_preview=LinkPreviewOptions(is_disabled=True),
            allow_sending_without_reply=True,
        ),
    )


def webhook_target(settings: Settings) -> str:
    """Return the public URL for setWebhook: WEBHOOK_URL, plus WEBHOOK_PATH when it names no path."""
    url = settings.webhook_url or ""
    return url.rstrip("/") + settings.webhook_path if urlsplit(url).path in ("", "/") else url


class CheckedRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler, answering 400 to a body that is not a Telegram update.

    Without this, malformed JSON gave HTTP 500 with a traceback, and a well-formed body
    that is not an update failed later in a background task, logged with its payload.
    """

    async def handle(self, request: web.Request) -> web.Response:
        """Refuse what is not an update (after the secret check); hand the rest to aiogram."""
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if self.verify_secret(secret, self.bot):
            try:
                payload = await request.json(loads=self.bot.session.json_loads)
                Update.model_validate(payload, context={"bot": self.bot})
            except ValueError as exc:  # JSON errors and pydantic's ValidationError alike
                logger.warning(
                    "webhook: refused a request that is not a Telegram update (%s)", type(exc).__name__
                )
                return web.Response(status=400, text="Bad Request")
        return await super().handle(request)


def _state(answers: bool, configured: bool) -> str:
    return "not set" if not configured else "ok" if answers else "down"


def build_webhook_app(bot: Bot, dispatcher: Dispatcher, settings: Settings, secret: str) -> web.Application:
    """Return the aiohttp app: the webhook (secret token checked) and a health endpoint."""
    app = web.Application()

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(_: web.Request) -> web.Response:
        shared: SharedState = dispatcher["shared"]
        stats: StatsStore = dispatcher["stats"]
        redis = await shared.ping()
        database = await asyncio.to_thread(stats.ready)
        body = {
            "status": "ready" if redis and database else "not ready",
            "redis": _state(redis, shared.configured),
            "database": _state(database, settings.database_url is not None),
        }
        return web.json_response(body, status=200 if redis and database else 503)

    app.router.add_get(HEALTH_PATH, health)
    app.router.add_get(READY_PATH, ready)
    # Registered before the request handler, so that updates in progress finish
    # (dispatcher shutdown) before the handler closes the bot session.
    setup_application(app, dispatcher, bot=bot)
    CheckedRequestHandler(dispatcher, bot, secret_token=secret).register(app, path=settings.webhook_path)
    return app


async def _poll(bot: Bot, dispatcher: Dispatcher, settings: Settings, stop: asyncio.Event) -> None:
    """Long-poll with our Poller (confirms only handled updates), around aiogram's startup and shutdown."""
    await bot.delete_webhook(drop_pending_updates=False)
    await dispatcher.emit_startup(bot=bot, dispatcher=dispatcher, bots=[bot], **dispatcher.workflow_data)
    try:
        poller = Poller(bot, dispatcher, grace=settings.shutdown_grace, state_dir=settings.data_dir)
        await poller.run(stop)
    finally:
        await dispatcher.emit_shutdown(bot=bot, dispatcher=dispatcher, bots=[bot], **dispatcher.workflow_data)


async def _serve_webhook(bot: Bot, dispatcher: Dispatcher, settings: Settings, stop: asyncio.Event) -> None:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    # Without a configured secret a random one still keeps strangers from posting updates.
    secret = secret or secrets.token_urlsafe(32)
    app = build_webhook_app(bot, dispatcher, settings, secret)
    # No access log: it would only hold Telegram's addresses, and a path that may hold a secret.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        where = f"{settings.webhook_host}:{settings.webhook_port}"
        try:
            await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
        except OSError as exc:
            raise SettingsError(f"WEBHOOK_PORT: cannot listen on {where}: {exc.strerror}") from None
        try:
            await bot.set_webhook(
                webhook_target(settings),
                secret_token=secret,
                allowed_updates=dispatcher.resolve_used_update_types(),
            )
        except TelegramBadRequest as exc:
            raise SettingsError(f"WEBHOOK_URL was refused by Telegram: {exc.message}") from None
        logger.info("webhook mode: listening on %s", where)
        await stop.wait()
    finally:
        await runner.cleanup()


async def serve(bot: Bot, dispatcher: Dispatcher, settings: Settings, stop: asyncio.Event) -> None:
    """Serve updates until `stop` is set: by webhook if WEBHOOK_URL is set, else by long polling."""
    heartbeat = asyncio.create_task(health.beat(settings.data_dir))
    try:
        me = await bot.get_me()
        mode = "webhook" if settings.webhook_url else "polling"
        logger.info("bot @%s starting in %s mode", me.username, mode)
        if settings.webhook_url:
            await _serve_webhook(bot, dispatcher, settings, stop)
        else:
            await _poll(bot, dispatcher, settings, stop)
    finally:
        heartbeat.cancel()
        await bot.session.close()


async def _main(settings: Settings, stats: StatsStore) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    service = await asyncio.to_thread(build_service, settings)
    if stop.is_set():
        return 0
    bot = build_bot(settings)
    dispatcher = build_dispatcher(settings, service, stats)
    try:
        await serve(bot, dispatcher, settings, stop)
    except TelegramUnauthorizedError:
        raise SettingsError("BOT_TOKEN was refused by Telegram (401 Unauthorized)") from None
    except TelegramNetworkError as exc:
        logger.error("cannot reach the Telegram Bot API: %s", exc.message)
        return 1
    logger.info("stopped")
    return 0


def run_telegram(settings: Settings) -> int:
    """Run the bot until SIGTERM or SIGINT; return the exit code."""
    # Checked before anything starts, so that a bad token is one line, not a log.
    _token(settings)
    redact_secrets(settings)
    database_url = settings.database_url.get_secret_value() if settings.database_url else None
    stats = open_stats(settings.data_dir, settings.retention_days, database_url)
    try:
        return asyncio.run(_main(settings, stats))
    finally:
        stats.close()
