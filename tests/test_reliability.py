"""Issue 9: faults found by trying the router as a new user and as an attacker would.

Real components throughout: real jsonschema, the real google-genai SDK over real HTTP to the fake
Gemini server on 127.0.0.1 (tests/fake_gemini.py), the installed CLI in a subprocess.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from fake_gemini import FakeGemini

from needle_router import Proposal, Router, ToolCall
from needle_router.escalation import GeminiEscalator
from needle_router.types import Alternative

KEY = "AIzaSyFAKE-reliability-key"


class Scripted:
    """A proposer with a fixed proposal: isolates the router from any model."""

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal

    def propose(self, query: str, toolset: Any, context: Any = None) -> Proposal:
        return self.proposal


def unsure() -> Scripted:
    return Scripted(Proposal(confidence=0.1, alternatives=[Alternative(name=None, score=0.1)]))


def confident(name: str, args: dict[str, Any], conf: float = 0.99) -> Scripted:
    return Scripted(
        Proposal(
            calls=[ToolCall(name=name, arguments=args)],
            confidence=conf,
            alternatives=[Alternative(name=name, score=conf), Alternative(name=None, score=1 - conf)],
        )
    )


def escalator(fake: FakeGemini, **kw: Any) -> GeminiEscalator:
    opts: dict[str, Any] = {"api_key": KEY, "base_url": fake.url, "timeout_s": 2, "backoff_base_s": 0.01}
    return GeminiEscalator(**{**opts, **kw})


# -- 1. the escalation deadline is a total deadline -----------------------------------------------


def test_deadline_holds_against_a_trickling_server_sync(fake_gemini: FakeGemini, weather_tools: list[dict]) -> None:
    # One byte every 0.2 s: every read beats the 2 s per-request timeout, so before the fix the
    # request ran for the whole ~2,500-byte answer (minutes). Now it ends at the 1.5 s deadline.
    fake_gemini.trickle(0.2).trickle(0.2).trickle(0.2)
    router = Router(weather_tools, proposer=unsure(), escalator=escalator(fake_gemini, deadline_s=1.5))
    start = time.monotonic()
    d = router.route("weather in Paris")
    elapsed = time.monotonic() - start
    assert elapsed < 3.0, elapsed
    assert d.decision == "escalate" and "teacher_timeout" in d.reason_codes(), d.reasons


def test_deadline_holds_against_a_trickling_server_async(fake_gemini: FakeGemini, weather_tools: list[dict]) -> None:
    fake_gemini.trickle(0.2).trickle(0.2).trickle(0.2)
    router = Router(weather_tools, proposer=unsure(), escalator=escalator(fake_gemini, deadline_s=1.5))
    start = time.monotonic()
    d = asyncio.run(router.aroute("weather in Paris"))
    elapsed = time.monotonic() - start
    assert elapsed < 3.0, elapsed
    assert d.decision == "escalate" and "teacher_timeout" in d.reason_codes(), d.reasons


def test_deadline_covers_the_repair_request(fake_gemini: FakeGemini, weather_tools: list[dict]) -> None:
    # An invalid first answer, then a trickling repair: the repair gets what is left, not a fresh deadline.
    fake_gemini.function_call("set_timer", {"minutes": 9999}).trickle(0.2)
    esc = escalator(fake_gemini, deadline_s=1.5)
    start = time.monotonic()
    answer = esc.ask("timer for 9999 minutes", Router(weather_tools, proposer=unsure()).toolset)
    assert time.monotonic() - start < 3.0
    assert answer.outcome == "unavailable" and answer.reasons[0].code == "teacher_timeout"
