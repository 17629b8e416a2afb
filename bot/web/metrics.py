"""Prometheus metrics of one app instance (its own registry, so several apps can coexist in tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Every counter, histogram and gauge the app exports at /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "faqbot_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "faqbot_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.decisions = Counter(
            "faqbot_decisions", "Bot decisions", ["decision", "channel"], registry=self.registry
        )
        self.index = Gauge("faqbot_index_info", "Index version served", ["version"], registry=self.registry)
        self.errors = Counter(
            "faqbot_http_errors", "Responses with a 5xx status", ["route", "status"], registry=self.registry
        )
        self.exceptions = Counter(
            "faqbot_exceptions",
            "Unhandled exceptions (answered with a generic 500)",
            ["route", "exception"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "faqbot_rate_limited", "Requests refused with 429", ["kind"], registry=self.registry
        )
        self.rate_limit_fallbacks = Counter(
            "faqbot_rate_limit_fallbacks",
            "Rate-limit checks made on this process's own buckets because Redis was out of reach",
            ["kind"],
            registry=self.registry,
        )
        self.encode_batch = Histogram(
            "faqbot_query_encode_batch_size",
            "Customer queries encoded together in one model call (micro-batching)",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.query_cache_hits = Counter(
            "faqbot_query_cache_hits",
            "Customer queries whose vector came from the cache",
            registry=self.registry,
        )
        self.reload_failures = Counter(
            "faqbot_index_reload_failures",
            "Index versions that failed to load (the old version kept serving)",
            registry=self.registry,
        )
        # Fed by the store's local spool (records accepted while the database was unreachable).
        self.spool_pending = Gauge(
            "faqbot_db_spool_pending",
            "Records waiting in the local spool for the database",
            registry=self.registry,
        )
        self.messenger_send_failures = Counter(
            "faqbot_messenger_send_failures",
            "Messenger sends the Graph API refused or never answered, by Graph error code (or HTTP class)",
            ["code"],
            registry=self.registry,
        )
        self.messenger_outbox = Gauge(
            "faqbot_messenger_outbox_depth",
            "Messenger messages waiting in the outbox for the Graph API to take them",
            registry=self.registry,
        )
        # Per channel for the channels that came later (WhatsApp); Messenger keeps its own names.
        self.send_failures = Counter(
            "faqbot_channel_send_failures",
            "Sends the Graph API refused, never answered, or reported failed, by channel and error code",
            ["channel", "code"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "faqbot_channel_outbox_depth",
            "Messages waiting in the outbox for the Graph API to take them, by channel",
            ["channel"],
            registry=self.registry,
        )
