"""Prometheus metrics of one server (one registry per app, so tests and embedders never collide).

Labels are closed vocabularies (decision kinds, sources, reason codes, endpoint names, status
codes): nothing a client sends, and nothing secret, ever becomes a label value.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from needle_router.types import Decision

# Reason codes that say why an escalation did not get Gemini's answer.
FAILURE_CODES = (
    "no_api_key",
    "teacher_unreachable",
    "teacher_timeout",
    "teacher_blocked",
    "teacher_error",
    "teacher_malformed_call",
    "teacher_invalid",
    "budget_exhausted",
    "escalation_disabled",
)
_LOCAL_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0)
_ESCALATED_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.decisions = Counter(
            "needle_router_decisions",
            "Final decisions by kind and source.",
            ["endpoint", "decision", "source"],
            registry=r,
        )
        self.latency_local = Histogram(
            "needle_router_local_latency_seconds",
            "Server-side time of requests answered without Gemini.",
            ["endpoint"],
            buckets=_LOCAL_BUCKETS,
            registry=r,
        )
        self.latency_escalated = Histogram(
            "needle_router_escalated_latency_seconds",
            "Server-side time of requests that escalated to Gemini.",
            ["endpoint"],
            buckets=_ESCALATED_BUCKETS,
            registry=r,
        )
        self.escalation_failures = Counter(
            "needle_router_escalation_failures",
            "Escalations that got no usable answer, by reason.",
            ["reason"],
            registry=r,
        )
        self.gemini_tokens = Counter(
            "needle_router_gemini_tokens", "Gemini tokens spent, by kind.", ["kind"], registry=r
        )
        self.gemini_requests = Counter(
            "needle_router_gemini_requests", "Billed Gemini requests (repairs included).", registry=r
        )
        self.model_load = Gauge(
            "needle_router_model_load_seconds", "Time to load the local model at startup.", registry=r
        )
        self.http = Counter(
            "needle_router_http_responses",
            "HTTP responses by endpoint and status code.",
            ["endpoint", "status"],
            registry=r,
        )
        self.rejected = Counter(
            "needle_router_rejected_requests",
            "Requests turned away before routing, by reason.",
            ["reason"],
            registry=r,
        )
        self.in_flight = Gauge("needle_router_in_flight_requests", "Requests being routed now.", registry=r)

    def observe(self, endpoint: str, decision: Decision, seconds: float, *, escalated: bool) -> None:
        """Count one final decision (and what its escalation cost or why it failed)."""
        self.decisions.labels(endpoint, decision.decision, decision.source).inc()
        hist = self.latency_escalated if escalated else self.latency_local
        hist.labels(endpoint).observe(seconds)
        usage = decision.usage
        if usage.requests:
            self.gemini_requests.inc(usage.requests)
            self.gemini_tokens.labels("prompt").inc(usage.prompt_tokens)
            self.gemini_tokens.labels("output").inc(usage.output_tokens)
            self.gemini_tokens.labels("total").inc(usage.total_tokens)
        for code in dict.fromkeys(decision.reason_codes()):
            if code in FAILURE_CODES:
                self.escalation_failures.labels(code).inc()

    def failure(self, reason: str) -> None:
        self.escalation_failures.labels(reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
