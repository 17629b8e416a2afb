"""The FastAPI app factory: health, readiness, metrics, limits and errors; channels add routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.config import Settings
from bot.durability.replay import Replayer
from bot.durability.spool import SpoolUnavailable
from bot.index.artefacts import IndexError_
from bot.index.reload import IndexWatcher
from bot.service.chat import ChatService
from bot.service.outbound import Outbound
from bot.storage.database import StoreUnavailable
from bot.web.logs import log_config, stamp_request_ids
from bot.web.metrics import Metrics
from bot.web.middleware import BodyLimit, RateLimitByAddress, RequestContext, TrustedProxies, charge_address
from bot.web.ratelimit import Limiter, RateLimiter
from bot.web.streams import StreamSlots

log = logging.getLogger("faqbot.index")

RETRY_AFTER_SECONDS = (
    5  # what a client is told to wait when neither the database nor the spool can take a write
)


def create_app(settings: Settings | None = None, chat: ChatService | None = None) -> FastAPI:
    """The web app. Without `chat`, the bot and the store are loaded from settings at start-up."""
    settings = settings or Settings()
    metrics = Metrics()
    stamp_request_ids()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.chat = None
        running: dict[str, Any] = {"loop": asyncio.get_running_loop()}
        waiting = None
        try:
            service = chat or _load_chat(settings)
        except IndexError_ as exc:  # stay up, say so on /readyz, and serve the first version that loads
            log.error("no index version loads (%s): /readyz answers 503 until one does", exc)
            waiting = _wait_for_index(app, settings, metrics, running)
        else:
            _start(app, service, settings, metrics, running)
        yield
        if waiting is not None:
            waiting.set()
        if app.state.chat is not None:
            await app.state.chat.live.stop()
        if app.state.messenger is not None:
            app.state.messenger.stop(app.state.outbound)
        if app.state.whatsapp is not None:
            app.state.whatsapp.stop(app.state.outbound)
        if app.state.instagram is not None:
            app.state.instagram.stop(app.state.outbound)
        for part in ("watcher", "replayer"):
            if running.get(part) is not None:
                running[part].stop()  # the replayer: one last replay; the rest stays on disk
        service = app.state.chat
        if chat is None and service is not None:
            service.store.close()
            if service.offline is not None:
                service.offline.spool.close()

    # No Swagger UI or ReDoc: they load scripts from a CDN; the OpenAPI document stays at /openapi.json.
    app = FastAPI(title="faqbot", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.outbound = Outbound()  # channels that push staff replies register here
    app.state.messenger = None
    app.state.stream_slots = StreamSlots(settings.max_streams, settings.max_streams_per_address)
    app.state.whatsapp = None
    app.state.instagram = None
    ip_limiter, app.state.conversation_limiter = _limiters(settings, metrics)
    # webhooks charge the address's bucket for a request that does not verify
    app.state.charge_address = None if ip_limiter is None else partial(charge_address, ip_limiter)
    # add_middleware wraps: the last one added is the outermost.
    upload = {"/admin/import/preview": (settings.max_import_bytes, max(60.0, settings.body_timeout))}
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout, wider=upload
    )
    app.add_middleware(RateLimitByAddress, limiter=ip_limiter, metrics=metrics)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-Request-ID"],
        expose_headers=["Retry-After", "X-Request-ID"],
        allow_credentials=False,
    )
    app.add_middleware(TrustedProxies, trusted=settings.trusted_proxies)
    app.add_middleware(RequestContext, metrics=metrics)
    _errors(app)
    _outage(app)
    _health(app, metrics)

    from bot.channels.instagram.webhook import router as instagram_router
    from bot.channels.messenger.webhook import router as messenger_router
    from bot.channels.whatsapp.webhook import router as whatsapp_router
    from bot.web.admin.api import router as admin_router
    from bot.web.admin.article_pages import router as article_pages_router
    from bot.web.admin.articles_api import router as articles_router
    from bot.web.admin.console import router as console_router
    from bot.web.admin.events import api as admin_events
    from bot.web.admin.events import router as console_events
    from bot.web.admin.imports import router as imports_router
    from bot.web.chat_api import router as web_router
    from bot.web.handoff_api import router as handoff_router

    app.include_router(web_router)
    app.include_router(handoff_router)
    app.include_router(messenger_router)
    app.include_router(whatsapp_router)
    app.include_router(instagram_router)
    app.include_router(admin_router)
    app.include_router(articles_router)
    app.include_router(console_router)
    app.include_router(console_events)
    app.include_router(admin_events)
    app.include_router(article_pages_router)
    app.include_router(imports_router)
    return app


def _start(app: FastAPI, service: ChatService, settings: Settings, metrics: Metrics, running: dict) -> None:
    """Serve `service`: hot reload, the spool's replay and the channels start with it."""
    metrics.index.labels(service.bot.retriever.version).set(1)
    _observe_encoder(service, metrics)
    running["watcher"] = _watch(app, service, settings, metrics)
    running["replayer"] = _replay(service, settings, metrics)
    service.inbox.outbound = app.state.outbound
    # the live bus's listener runs on the server's loop (this may run on the wait-for-index thread)
    asyncio.run_coroutine_threadsafe(service.live.start(), running["loop"])
    app.state.messenger = _messenger(settings, service, app.state.outbound, metrics)
    app.state.whatsapp = _whatsapp(settings, service, app.state.outbound, metrics)
    app.state.instagram = _instagram(settings, service, app.state.outbound, metrics)
    app.state.chat = service  # last: a request sees the service only once all of it runs


def _wait_for_index(app: FastAPI, settings: Settings, metrics: Metrics, running: dict) -> threading.Event:
    """Try to load the index every few seconds until a version loads (a build publishes one), so a
    replica started before any good version stays up instead of crash-looping. Set the returned
    event to stop trying."""
    stop = threading.Event()
    every = settings.reload_interval if settings.reload_interval > 0 else 5.0

    def wait() -> None:
        while not stop.wait(every):
            try:
                service = _load_chat(settings)
            except IndexError_ as exc:
                log.debug("still no index version loads: %s", exc)
                continue
            log.warning("index version %s loaded: serving", service.bot.retriever.version)
            _start(app, service, settings, metrics, running)
            return

    threading.Thread(target=wait, name="faqbot-wait-for-index", daemon=True).start()
    return stop


def _watch(app: FastAPI, service: ChatService, settings: Settings, metrics: Metrics) -> IndexWatcher | None:
    """Start hot reload (polling, SIGHUP, admin endpoint) unless turned off."""
    app.state.watcher = None
    if settings.reload_interval <= 0:
        return None

    def swapped(old: str, new: str) -> None:
        metrics.index.remove(old)
        metrics.index.labels(new).set(1)

    def failed(_version: str, _why: str) -> None:
        metrics.reload_failures.inc()

    watcher = IndexWatcher(
        service.bot, settings.index_path, settings.reload_interval, swapped, failed
    ).start()
    app.state.watcher = watcher
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, watcher.trigger)
    return watcher


def _observe_encoder(service: ChatService, metrics: Metrics) -> None:
    """Micro-batch sizes and cache hits of the query encoder (kept across index reloads)."""
    from bot.retrieval.query_encoder import QueryEncoder

    retriever = service.bot.retriever
    for encoder in (retriever.embedder, retriever.switch.base):  # a tuned model, and the configured one
        if isinstance(encoder, QueryEncoder):
            encoder.on_batch = metrics.encode_batch.observe
            encoder.on_hit = metrics.query_cache_hits.inc


def _load_chat(settings: Settings) -> ChatService:
    from bot.compose import load_chat
    from bot.retrieval.compute import serving_threads, tune_threads

    # Before the model loads: its thread pools are sized once, from this process's share of the cores.
    tune_threads(serving_threads(settings.threads, settings.server_processes))
    return load_chat(settings)


def _replay(service: ChatService, settings: Settings, metrics: Metrics) -> Replayer | None:
    """Replay the spool in the background, and report its size; None without a spool."""
    if service.offline is None:
        return None
    spool = service.offline.spool
    metrics.spool_pending.set_function(spool.pending)
    return Replayer(service.store, spool, settings.replay_interval).start()


def _outage(app: FastAPI) -> None:
    """Neither the database nor the spool can take the write: 503, and when to try again."""

    async def unavailable(_request: Request, exc: Exception) -> JSONResponse:
        detail = "the service cannot record this right now; try again shortly"
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return JSONResponse({"detail": detail}, status_code=503, headers=headers)

    app.add_exception_handler(StoreUnavailable, unavailable)
    app.add_exception_handler(SpoolUnavailable, unavailable)


def _health(app: FastAPI, metrics: Metrics) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz(request: Request) -> JSONResponse:
        chat: ChatService | None = getattr(request.app.state, "chat", None)
        if chat is None or chat.bot.retriever.corpus is None:
            return JSONResponse({"status": "loading"}, status_code=503)
        retriever = chat.bot.retriever
        return JSONResponse(
            {
                "status": "ready",
                "index_version": retriever.version,
                "articles": len(retriever.corpus.articles),
                "model": retriever.manifest.model,
            }
        )

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _limiters(settings: Settings, metrics: Metrics) -> tuple[Limiter | None, Limiter | None]:
    """The per-address and per-conversation limits (None when off): in this process's memory, or
    shared by every replica in Redis when FAQBOT_REDIS_URL is set."""
    limits = {
        "address": (settings.rate_limit_ip, settings.rate_limit_ip_burst),
        "conversation": (settings.rate_limit_conversation, settings.rate_limit_conversation_burst),
    }
    client = None
    if settings.redis_url is not None:
        from bot.web.ratelimit_redis import connect

        client = connect(settings.redis_url.get_secret_value(), settings.redis_timeout)
    made: list[Limiter | None] = []
    for kind, (per_minute, burst) in limits.items():
        if per_minute <= 0:
            made.append(None)
            continue
        local = RateLimiter(per_minute, burst, settings.rate_limit_keys)
        if client is None:
            made.append(local)
            continue
        from bot.web.ratelimit_redis import SharedRateLimiter

        counter = metrics.rate_limit_fallbacks.labels(kind)
        made.append(SharedRateLimiter(client, kind, local, counter.inc))
    return made[0], made[1]


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    from bot.web.server_protocol import bounded

    """How `faqbot serve` runs uvicorn: JSON logs, our own access log, no proxy headers believed
    except through FAQBOT_TRUSTED_PROXIES, and timeouts for idle and slow connections."""
    return {
        "log_config": log_config(settings.log_level, settings.log_format),
        "access_log": False,  # RequestContext logs each request, with its request id
        "proxy_headers": False,  # TrustedProxies decides, from settings
        "server_header": False,
        "timeout_keep_alive": settings.keepalive_timeout,
        "limit_concurrency": settings.max_concurrency,
        "http": bounded(settings.max_header_bytes),  # 431 for a head over FAQBOT_MAX_HEADER_BYTES
        "timeout_graceful_shutdown": 30,
    }


def _errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with one readable reason per problem ("body.text: Field required")."""
        reasons = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            reasons.append(f"{where}: {error.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(reasons) or "invalid request"}, status_code=422)


def _messenger(settings: Settings, service: ChatService, outbound: Outbound, metrics: Metrics):
    """The Messenger channel, running when configured (its webhook answers 503 otherwise)."""
    from bot.channels.messenger.channel import start_messenger

    def observe(turn) -> None:
        metrics.decisions.labels(turn.reply.decision, "messenger").inc()

    def failed(code: str) -> None:
        metrics.messenger_send_failures.labels(code).inc()

    messenger = start_messenger(settings, service, outbound, observe, failed)
    if messenger is not None:
        metrics.messenger_outbox.set_function(messenger.sender.depth)
    return messenger


def _whatsapp(settings: Settings, service: ChatService, outbound: Outbound, metrics: Metrics):
    """The WhatsApp channel, running when configured (its webhook answers 404 otherwise)."""
    from bot.channels.whatsapp.channel import start_whatsapp

    return _labelled_channel("whatsapp", start_whatsapp, settings, service, outbound, metrics)


def _instagram(settings: Settings, service: ChatService, outbound: Outbound, metrics: Metrics):
    """The Instagram channel, running when configured (its webhook answers 404 otherwise)."""
    from bot.channels.instagram.channel import start_instagram

    return _labelled_channel("instagram", start_instagram, settings, service, outbound, metrics)


def _labelled_channel(name: str, start, settings: Settings, service: ChatService, outbound, metrics: Metrics):
    """Start a channel counted under the channel-labelled metrics: its decisions, send failures and
    outbox depth."""

    def observe(turn) -> None:
        metrics.decisions.labels(turn.reply.decision, name).inc()

    def failed(code: str) -> None:
        metrics.send_failures.labels(name, code).inc()

    channel = start(settings, service, outbound, observe, failed)
    if channel is not None:
        metrics.outbox.labels(name).set_function(channel.sender.depth)
    return channel
