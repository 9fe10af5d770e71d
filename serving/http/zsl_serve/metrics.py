"""Prometheus metrics of one server process: requests, latency, batch sizes, classes.

Each app gets its own registry, so several apps in one process (tests, Ray replicas sharing a
worker) do not add into each other's counts.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

ROUTES = ("/", "/health", "/metrics", "/classes", "/classes/{name}", "/predict", "/reload")
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def route_of(path: str) -> str:
    """The route template of ``path`` (a bounded label set: unknown paths are ``other``)."""
    if path in ROUTES:
        return path
    if path.startswith("/classes/"):
        return "/classes/{name}"
    return "other"


class Metrics:
    """The counters and histograms ``GET /metrics`` exposes."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "zsl_serve_requests",
            "HTTP requests answered, by route, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "zsl_serve_request_seconds",
            "Time from a request's arrival to its response, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "zsl_serve_batch_rows",
            "Rows (feature rows or images) per onnxruntime run of the dynamic batcher.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.classes = Gauge(
            "zsl_serve_classes", "Classes the served model scores.", registry=self.registry
        )

    def observe(self, path: str, method: str, status: int, seconds: float) -> None:
        route = route_of(path)
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
