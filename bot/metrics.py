"""Prometheus metrics of one app instance (its own registry, so several apps can coexist in tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
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
        # Fed by the store's local spool (records accepted while the database was unreachable).
        self.spool_pending = Gauge(
            "faqbot_db_spool_pending",
            "Records waiting in the local spool for the database",
            registry=self.registry,
        )
