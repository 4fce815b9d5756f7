"""Router paths with the real policy engine and a scripted proposer."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from needle_router import Decision, Proposal, ToolCall, Toolset
from needle_router.lexical import LexicalProposer
from needle_router.policies import Policy
from needle_router.router import MAX_QUERY_CHARS, Router, make_proposer
from needle_router.types import Alternative, EscalationAnswer

DECISION_KEYS = {"decision", "source", "calls", "confidence", "proposal", "reasons", "missing", "latency_ms", "usage"}


class Scripted:
    """A proposer that returns a fixed proposal: isolates the router from any model."""

    def __init__(self, proposal: Proposal | Exception) -> None:
        self.proposal = proposal
        self.seen: list[str] = []

    def propose(self, query, toolset, context=None):
        self.seen.append(query)
        if isinstance(self.proposal, Exception):
            raise self.proposal
        return self.proposal


class Teacher:
    def __init__(self, answer: EscalationAnswer) -> None:
        self.answer = answer
        self.calls = 0

    def ask(self, query, toolset, context=None):
        self.calls += 1
        return self.answer

    async def aask(self, query, toolset, context=None):
        return self.ask(query, toolset, context)


def _confident(name: str, args: dict, conf: float = 0.99) -> Proposal:
    return Proposal(
        calls=[ToolCall(name=name, arguments=args)],
        confidence=conf,
        alternatives=[Alternative(name=name, score=conf), Alternative(name=None, score=1 - conf)],
        call_confidences=[conf],
        argument_confidences=[{k: conf for k in args}],
    )


def test_confident_valid_call_runs_locally(weather_tools):
    router = Router(weather_tools, proposer=Scripted(_confident("get_weather", {"city": "Paris"})))
    d = router.route("weather in Paris")
    assert d.decision == "call" and d.source == "local"
    assert d.calls[0].name == "get_weather" and d.calls[0].arguments == {"city": "Paris"}
    assert set(json.loads(d.to_json())) == DECISION_KEYS
    assert d.latency_ms > 0


def test_low_confidence_without_key_stays_escalate(weather_tools):
    router = Router(weather_tools, proposer=Scripted(_confident("get_weather", {"city": "Paris"}, conf=0.3)))
    d = router.route("weather in Paris")
    assert d.decision == "escalate" and d.calls == []
    assert "low_confidence" in d.reason_codes()
    assert "no_api_key" in d.reason_codes()
    assert d.proposal is not None and d.proposal.calls[0].name == "get_weather"


def test_teacher_answer_passes_the_same_policy(weather_tools):
    good = Teacher(EscalationAnswer(outcome="calls", calls=[ToolCall(name="set_timer", arguments={"minutes": 5})]))
    router = Router(weather_tools, proposer=Scripted(Proposal(confidence=0.1)), escalator=good)
    d = router.route("five minute timer please")
    assert d.decision == "call" and d.source == "gemini" and good.calls == 1
    bad = Teacher(EscalationAnswer(outcome="calls", calls=[ToolCall(name="set_timer", arguments={"minutes": 9999})]))
    router = Router(weather_tools, proposer=Scripted(Proposal(confidence=0.1)), escalator=bad)
    d = router.route("timer")
    assert d.decision != "call"


def test_teacher_text_means_refuse(weather_tools):
    teacher = Teacher(EscalationAnswer(outcome="text", text="I can't help with that."))
    router = Router(weather_tools, proposer=Scripted(Proposal(confidence=0.1)), escalator=teacher)
    d = router.route("write me a poem")
    assert d.decision == "refuse" and d.source == "gemini"


def test_empty_and_huge_queries_get_explicit_decisions(weather_tools):
    proposer = Scripted(_confident("get_weather", {"city": "Paris"}))
    router = Router(weather_tools, proposer=proposer)
    for q in ("", "   \n"):
        d = router.route(q)
        assert d.decision == "refuse" and d.reason_codes() == ["empty_query"]
    d = router.route("weather " * (MAX_QUERY_CHARS // 4))
    assert d.decision == "escalate" and "query_too_long" in d.reason_codes()
    assert proposer.seen == []  # neither reached the model


def test_broken_proposer_escalates_instead_of_crashing(weather_tools):
    router = Router(weather_tools, proposer=Scripted(RuntimeError("boom")), policy=_no_escalation())
    d = router.route("weather in Paris")
    assert d.decision == "escalate" and "proposer_error" in d.reason_codes()


def test_force_escalate_goes_to_teacher_even_when_confident(weather_tools):
    call = ToolCall(name="get_weather", arguments={"city": "Rome"})
    teacher = Teacher(EscalationAnswer(outcome="calls", calls=[call]))
    router = Router(weather_tools, proposer=Scripted(_confident("get_weather", {"city": "Paris"})), escalator=teacher)
    d = router.route("weather in Rome", force_escalate=True)
    assert d.source == "gemini" and d.calls[0].arguments == {"city": "Rome"}
    assert d.proposal.calls[0].arguments == {"city": "Paris"}  # the local proposal is kept


def test_budget_exhausted_outcome(weather_tools):
    pol = Policy.preset("default")
    esc = pol.escalation.model_copy(update={"budget_per_minute": 1, "on_budget_exhausted": "refuse"})
    pol = pol.model_copy(update={"escalation": esc})
    teacher = Teacher(EscalationAnswer(outcome="text", text="no"))
    router = Router(weather_tools, proposer=Scripted(Proposal(confidence=0.1)), policy=pol, escalator=teacher)
    router.route("first")
    d = router.route("second")
    assert teacher.calls == 1
    assert d.decision == "refuse" and "budget_exhausted" in d.reason_codes()


def test_async_and_batch_agree_with_route(weather_tools):
    router = Router(weather_tools, proposer=LexicalProposer(), policy=_no_escalation())
    queries = ["weather in Paris in celsius", "set a timer for 10 minutes", "tell me a joke", ""]
    sync = [router.route(q) for q in queries]
    batch = router.route_batch(queries)
    asynced = asyncio.run(_gather(router, queries))
    strip = lambda ds: [d.model_dump(exclude={"latency_ms"}) for d in ds]  # noqa: E731
    assert strip(sync) == strip(batch) == strip(asynced)


async def _gather(router: Router, queries: list[str]) -> list[Decision]:
    return list(await asyncio.gather(*(router.aroute(q) for q in queries)))


def test_thread_safe(weather_tools):
    router = Router(weather_tools, proposer=LexicalProposer(), policy=_no_escalation())
    queries = [f"set a timer for {i % 50 + 1} minutes" for i in range(64)] + ["weather in Oslo"] * 16
    expected = [router.route(q).model_dump(exclude={"latency_ms"}) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda q: router.route(q).model_dump(exclude={"latency_ms"}), queries))
    assert got == expected


def test_context_reaches_the_proposer(weather_tools):
    seen = {}

    class Spy:
        def propose(self, query, toolset, context=None):
            seen.update(context or {})
            return Proposal(confidence=0.9)

    router = Router(weather_tools, proposer=Spy(), policy=_no_escalation(), context={"locale": "fr-FR"})
    router.route("bonjour", context={"date": "2026-11-25"})
    assert seen == {"locale": "fr-FR", "date": "2026-11-25"}


def test_make_proposer_choices(tmp_path):
    assert isinstance(make_proposer("lexical"), LexicalProposer)
    from needle_router.errors import ModelError

    with pytest.raises(ModelError):
        make_proposer(tmp_path / "nope")


def test_unknown_tool_from_proposer_is_never_called(weather_tools):
    router = Router(weather_tools, proposer=Scripted(_confident("delete_everything", {})), policy=_no_escalation())
    d = router.route("delete it all")
    assert d.decision != "call" and d.calls == []
    assert Toolset.load(weather_tools).get("delete_everything") is None


def _no_escalation() -> Policy:
    pol = Policy.preset("default")
    return pol.model_copy(update={"escalation": pol.escalation.model_copy(update={"enabled": False})})


def test_end_to_end_escalation_through_the_real_sdk(weather_tools, fake_gemini, monkeypatch):
    """A user who only sets GEMINI_API_KEY (and here the SDK's own base-URL variable) gets Gemini."""
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-test-key-never-logged")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_gemini.url)
    fake_gemini.function_call("set_timer", {"minutes": 12.0})  # Gemini sends integers as floats
    router = Router(weather_tools, proposer=Scripted(Proposal(confidence=0.1)))
    d = router.route("a twelve minute timer")
    assert d.decision == "call" and d.source == "gemini"
    assert d.calls[0].arguments == {"minutes": 12}
    assert d.usage.requests == 1 and d.usage.total_tokens > 0
    assert "AIza-test-key-never-logged" not in d.to_json()
    (req,) = fake_gemini.requests
    assert req.headers.get("x-goog-api-key") == "AIza-test-key-never-logged"


def test_default_model_batches_natively_with_the_same_decisions(weather_tools):
    router = Router(weather_tools, policy=_no_escalation())  # the bundled Needle model
    assert callable(getattr(router.proposer, "propose_batch", None))
    queries = ["weather in Paris in celsius", "set a timer for 10 minutes", "tell me a joke", "", "x" * 9000,
               "What's the weather in Oslo tomorrow?"]
    # Batched and single forwards differ a little: fp32 in the last float digits, the int8 decoder
    # steps by up to a rounding step (README, "int8 decoder steps"). Everything else is equal:
    # decisions, calls, reasons (their codes: a message quotes a confidence).
    for b, s in zip(router.route_batch(queries), [router.route(q) for q in queries], strict=True):
        _assert_close(b.model_dump(exclude={"latency_ms"}), s.model_dump(exclude={"latency_ms"}), 5e-3)


def _assert_close(a, b, tol: float, where: str = "") -> None:
    if isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) <= tol, (where, a, b)
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            if k != "message":
                _assert_close(a[k], b[k], tol, f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close(x, y, tol, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


class BrokenBatch(Scripted):
    def propose_batch(self, queries, toolset, context=None):
        raise RuntimeError("batch path exploded")

    def propose(self, query, toolset, context=None):
        raise RuntimeError("single path exploded")


def test_a_failing_batch_path_becomes_decisions_not_a_crash(weather_tools):
    router = Router(weather_tools, proposer=BrokenBatch(Proposal()), policy=_no_escalation())
    out = router.route_batch(["weather in Paris", "hi"])
    assert [d.decision for d in out] == ["escalate", "escalate"]
    assert all("proposer_error" in d.reason_codes() for d in out)


def test_router_signature_names_what_it_accepts() -> None:
    """`tools` and `policy` are named aliases (needle_router._types), not Any."""
    import inspect
    import typing
    from pathlib import Path

    from needle_router import PolicyLike, ToolsLike

    params = inspect.signature(Router.__init__).parameters
    assert params["tools"].annotation == "ToolsLike" and params["policy"].annotation == "PolicyLike | None"
    assert {str, Path, bytes} <= set(typing.get_args(ToolsLike))
    assert {str, Path} <= set(typing.get_args(PolicyLike))
