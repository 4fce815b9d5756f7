"""Load: 8 threads and 200 concurrent `aroute`s against one Router, escalating every request to the
fake Gemini on 127.0.0.1 (the real SDK over real HTTP) while 30% of its answers are 5xx/429.

Every request must end in a Decision (no exception, nothing lost or mixed up between requests),
and memory must stay flat over 10,000 routes (the long run is marked slow).
"""

from __future__ import annotations

import asyncio
import gc
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fake_gemini import FakeGemini, RecordedRequest, Reply, candidate, response_body

from needle_router import Decision, Proposal, Router
from needle_router.escalation import GeminiEscalator
from needle_router.types import Alternative

TOOLS = [
    {
        "name": "set_timer",
        "description": "Start a countdown timer.",
        "parameters": {
            "type": "object",
            "properties": {"minutes": {"type": "integer", "minimum": 1, "maximum": 100000}},
            "required": ["minutes"],
        },
    }
]
FAILURE_RATE = 0.3
LATENCY_S = 0.05  # each answer takes this long, so concurrent requests really overlap at the server


class Unsure:
    """Never confident: every request escalates."""

    def propose(self, query: str, toolset: Any, context: Any = None) -> Proposal:
        return Proposal(confidence=0.05, alternatives=[Alternative(name=None, score=0.05)])


def flaky_gemini(fake: FakeGemini, seed: int = 0) -> None:
    """30% of answers fail (503, 500 or 429); the rest call set_timer with the request's number."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def answer(req: RecordedRequest) -> Reply:
        with lock:
            fail = rng.random() < FAILURE_RATE
            status = rng.choice([503, 500, 429])
        if fail:
            error = {"code": status, "message": "scripted", "status": "UNAVAILABLE"}
            return Reply(status=status, body={"error": error}, delay_s=LATENCY_S)
        text = " ".join(t for t in req.user_texts())
        minutes = int(re.findall(r"\d+", text)[0])
        parts = [{"functionCall": {"name": "set_timer", "args": {"minutes": minutes}, "id": "c0"}}]
        return Reply(body=response_body([candidate(parts)]), delay_s=LATENCY_S)

    fake.default = answer
    fake.record = False


def make_router(fake: FakeGemini) -> Router:
    escalator = GeminiEscalator(
        api_key="AIza-load-test", base_url=fake.url, timeout_s=10, max_attempts=3, deadline_s=30,
        backoff_base_s=0.01, backoff_max_s=0.05,
    )
    policy = {"escalation": {"budget_per_minute": None, "budget_per_day": None}}
    return Router(TOOLS, proposer=Unsure(), escalator=escalator, policy=policy)


def check(n: int, decision: Any) -> str:
    assert isinstance(decision, Decision), decision
    if decision.decision == "call":
        assert decision.source == "gemini" and decision.calls[0].arguments == {"minutes": n}  # not another's
    else:
        assert decision.decision == "escalate" and "teacher_unreachable" in decision.reason_codes(), decision
    return decision.decision


def hammer(router: Router, threads: int, per_thread: int, concurrent: int, offset: int = 1) -> list[str]:
    """`threads` threads routing synchronously while `concurrent` aroutes run at once."""
    outcomes: list[str] = []

    def worker(t: int) -> list[str]:
        base = offset + t * per_thread
        return [check(n, router.route(f"set a timer for {n} minutes")) for n in range(base, base + per_thread)]

    async def many() -> list[str]:
        base = offset + threads * per_thread
        numbers = range(base, base + concurrent)
        decisions = await asyncio.gather(*(router.aroute(f"set a timer for {n} minutes") for n in numbers))
        return [check(n, d) for n, d in zip(numbers, decisions, strict=True)]

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(worker, t) for t in range(threads)]
        outcomes += asyncio.run(many())
        for f in futures:
            outcomes += f.result()
    return outcomes


def test_load_8_threads_and_200_concurrent_aroutes_with_30pct_failures(fake_gemini: FakeGemini) -> None:
    flaky_gemini(fake_gemini)
    router = make_router(fake_gemini)
    outcomes = hammer(router, threads=8, per_thread=25, concurrent=200)
    assert len(outcomes) == 400
    print(f"{outcomes.count('call')} call / {outcomes.count('escalate')} escalate; "
          f"{len(fake_gemini.requests) or 'unrecorded'} requests; at most {fake_gemini.max_in_flight} in flight")
    # With 3 attempts a request fails only if all three do (~2.7%): nearly all end as calls.
    assert outcomes.count("call") >= 360, outcomes.count("escalate")
    assert fake_gemini.max_in_flight > 20, fake_gemini.max_in_flight  # the aroutes really overlapped


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
def test_memory_stays_flat_over_10000_routes(fake_gemini: FakeGemini) -> None:
    flaky_gemini(fake_gemini, seed=1)
    router = make_router(fake_gemini)
    hammer(router, threads=8, per_thread=125, concurrent=200, offset=1)  # 1,200 routes: warm up
    gc.collect()
    start = _rss_mb()
    total = 1200
    samples = []
    while total < 10_000:
        total += len(hammer(router, threads=8, per_thread=125, concurrent=200, offset=total + 1))
        gc.collect()
        samples.append(_rss_mb())
    growth = samples[-1] - start
    print(f"{total} routes; RSS {start:.0f} MB after warm-up -> {samples[-1]:.0f} MB ({growth:+.1f} MB): {samples}")
    assert growth < 15, samples


def test_aroute_under_a_new_event_loop_each_time_leaks_no_clients_or_sockets(fake_gemini: FakeGemini) -> None:
    # Found by the memory run: one SDK client (and its open sockets) was kept per event loop ever
    # used, so `asyncio.run(router.aroute(...))` per request leaked ~40 sockets per loop.
    import os

    flaky_gemini(fake_gemini)
    router = make_router(fake_gemini)

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def burst(base: int) -> None:
        await asyncio.gather(*(router.aroute(f"set a timer for {n} minutes") for n in range(base, base + 20)))

    asyncio.run(burst(1))
    gc.collect()
    before = fds()
    for i in range(5):
        asyncio.run(burst(100 + 20 * i))
    gc.collect()
    assert len(router.escalator.client._async) == 1  # type: ignore[union-attr]
    assert fds() <= before + 5, (before, fds())
