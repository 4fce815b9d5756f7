"""Shadow mode, the decision log, the escalation log (flywheel records) and `shadow-report`.

The local side is a scripted proposer (the tests are about what the router does with a local
decision, not about a model); the Gemini side is the real google-genai SDK talking to the fake
Gemini server on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_gemini import RecordedRequest, Reply, candidate, response_body

from needle_router import Decision, Policy, Router, ShadowConfig
from needle_router.adapters.gemini import to_gemini_json_schema
from needle_router.data.records import load_records, read_records
from needle_router.errors import NeedleRouterError
from needle_router.escalation import GeminiEscalator
from needle_router.eval.shadow_report import band_of, recommend_threshold, shadow_report
from needle_router.shadow import ShadowWarning
from needle_router.types import Alternative, Proposal, ToolCall

KEY = "AIzaSyFAKE-shadow-key-0123456789-SECRET"
OPENAI_TOOLS = Path(__file__).resolve().parents[1] / "examples" / "tools" / "openai.json"

# What the local model "thinks" per request: (calls, confidence). Anything else: unsure (escalates).
LOCAL = {
    "set a timer for 10 minutes": ([("set_timer", {"minutes": 10})], 0.97),
    "weather in Paris": ([("get_weather", {"city": "Paris"})], 0.92),
    "tell me a joke": ([], 0.99),
}
# What Gemini answers per request: calls, or text.
GEMINI: dict[str, list[tuple[str, dict[str, Any]]] | str] = {
    "set a timer for 10 minutes": [("set_timer", {"minutes": 10.0})],  # Gemini sends integers as floats
    "weather in Paris": [("get_weather", {"city": "Paris", "unit": "celsius"})],  # more than asked: disagrees
    "tell me a joke": "I can't tell jokes with these tools.",
    "a twelve minute timer please, 12": [("set_timer", {"minutes": 12})],
    "what's the time in Lima": "None of the tools tells the time.",
    "weather somewhere nice": [("get_weather", {"city": "Nice"})],  # "Nice" is grounded
    "weather where I am": [("get_weather", {"city": "Reykjavik"})],  # made up: not grounded -> clarify
    "Set a timer for 25 minutes": [("set_timer", {"minutes": 25})],  # the server tests' request
    "start a timer": "How many minutes should the timer run?",  # a question, not a refusal
}


class Scripted:
    """A proposer with fixed answers per request (any other request: no call, unsure)."""

    def propose(self, query: str, toolset: Any, context: Any = None) -> Proposal:
        calls, conf = LOCAL.get(query, ([], 0.3))
        top = calls[0][0] if calls else None
        return Proposal(
            calls=[ToolCall(name=n, arguments=a) for n, a in calls],
            confidence=conf,
            alternatives=[Alternative(name=top, score=conf), Alternative(name="other", score=0.0)],
            call_confidences=[conf] * len(calls),
            argument_confidences=[{k: conf for k in a} for _, a in calls],
            proposer="scripted",
        )


def gemini_reply(request: RecordedRequest, delay_s: float = 0.0) -> Reply:
    """The fake server's answer, chosen by the request text (shadow and escalation requests
    arrive from different threads, so a queue in order would race)."""
    query = request.user_texts()[-1]
    said = GEMINI.get(query)
    if said is None:  # anything else: Gemini fails
        return Reply(status=500, body={"error": {"code": 500, "message": "boom", "status": "INTERNAL"}})
    if isinstance(said, str):
        parts = [{"text": said}]
    else:
        parts = [{"functionCall": {"name": n, "args": a, "id": f"c{i}"}} for i, (n, a) in enumerate(said)]
    return Reply(body=response_body([candidate(parts)], prompt=40, output=8), delay_s=delay_s)


def escalator(url: str) -> GeminiEscalator:
    return GeminiEscalator(api_key=KEY, base_url=url, timeout_s=3, max_attempts=1, deadline_s=5)


def make_router(tools: Any, url: str, **kw: Any) -> Router:
    return Router(tools, proposer=Scripted(), escalator=escalator(url), **kw)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def strip(d: Decision) -> dict[str, Any]:
    return d.model_dump(exclude={"latency_ms"})


LOCAL_QUERIES = ["set a timer for 10 minutes", "weather in Paris", "tell me a joke"]


# -- shadow mode -------------------------------------------------------------------------------------


def test_sample_one_logs_every_local_decision_with_both_answers(weather_tools, fake_gemini, tmp_path):
    fake_gemini.default = gemini_reply
    log = tmp_path / "shadow.jsonl"
    with make_router(weather_tools, fake_gemini.url, shadow=ShadowConfig(sample=1.0, log=log)) as router:
        decisions = [router.route(q) for q in [*LOCAL_QUERIES, "a twelve minute timer please, 12"]]
    assert [d.source for d in decisions] == ["local", "local", "local", "gemini"]
    rows = {r["query"]: r for r in lines(log)}
    assert set(rows) == set(LOCAL_QUERIES)  # the escalated request was not shadowed
    timer, weather, joke = (rows[q] for q in LOCAL_QUERIES)
    assert timer["local"] == {
        "decision": "call",
        "calls": [{"name": "set_timer", "arguments": {"minutes": 10}}],
        "confidence": 0.97,
    }
    assert timer["gemini"] == {"outcome": "calls", "calls": [{"name": "set_timer", "arguments": {"minutes": 10}}]}
    assert timer["agree"] is True and timer["error"] is None and timer["tools"] == ["get_weather", "set_timer"]
    assert weather["agree"] is False and weather["gemini"]["calls"][0]["arguments"]["unit"] == "celsius"
    assert joke["local"]["decision"] == "refuse" and joke["gemini"] == {"outcome": "text", "calls": []}
    assert joke["agree"] is True
    assert all(r["ts"].endswith("Z") for r in rows.values())
    assert router.shadow is not None and router.shadow.stats.logged == 3 and router.shadow.stats.errors == 0
    assert KEY not in log.read_text()


def test_sample_zero_logs_nothing_and_never_asks(weather_tools, fake_gemini, tmp_path):
    fake_gemini.default = gemini_reply
    log = tmp_path / "shadow.jsonl"
    with make_router(weather_tools, fake_gemini.url, shadow=ShadowConfig(sample=0.0, log=log)) as router:
        for q in LOCAL_QUERIES:
            router.route(q)
    assert lines(log) == [] and fake_gemini.requests == []


def test_seeded_sample_is_reproducible_and_near_the_rate(weather_tools, fake_gemini, tmp_path):
    fake_gemini.default = gemini_reply
    picked = []
    for run in range(2):
        log = tmp_path / f"s{run}.jsonl"
        cfg = ShadowConfig(sample=0.3, log=log, seed=7, max_pending=200)
        with make_router(weather_tools, fake_gemini.url, shadow=cfg) as router:
            for i in range(60):
                router.route(LOCAL_QUERIES[i % 3])
        picked.append(router.shadow.stats.sampled)  # type: ignore[union-attr]
    assert picked[0] == picked[1] and 8 <= picked[0] <= 30


@pytest.mark.parametrize("failure", ["http_500", "server_down"])
def test_a_failing_gemini_never_changes_the_decision(weather_tools, fake_gemini, tmp_path, failure):
    url = fake_gemini.url
    if failure == "http_500":
        fake_gemini.default = Reply(status=500, body={"error": {"code": 500, "message": "boom", "status": "INTERNAL"}})
    else:
        fake_gemini.close()  # nothing listens there any more
    plain = Router(weather_tools, proposer=Scripted(), escalator=escalator(url))
    log = tmp_path / "shadow.jsonl"
    with make_router(weather_tools, url, shadow=ShadowConfig(sample=1.0, log=log)) as router:
        got = [router.route(q) for q in LOCAL_QUERIES]
    assert [strip(d) for d in got] == [strip(plain.route(q)) for q in LOCAL_QUERIES]
    rows = lines(log)
    assert len(rows) == 3
    assert all(r["error"] and r["agree"] is False and r["gemini"]["outcome"] == "unavailable" for r in rows)
    assert KEY not in log.read_text()


def test_an_escalator_that_raises_is_logged_as_an_error(weather_tools, tmp_path):
    class Broken:
        available = True

        def ask(self, query: str, toolset: Any, context: Any = None) -> Any:
            raise RuntimeError(f"boom with {KEY}")

        async def aask(self, query: str, toolset: Any, context: Any = None) -> Any:
            raise RuntimeError(f"boom with {KEY}")

    log = tmp_path / "shadow.jsonl"
    with Router(weather_tools, proposer=Scripted(), escalator=Broken(), shadow=ShadowConfig(sample=1, log=log)) as r:
        assert r.route("set a timer for 10 minutes").decision == "call"
    (row,) = lines(log)
    assert row["error"] == "escalator_error: the escalator raised RuntimeError" and KEY not in log.read_text()


def test_route_does_not_wait_for_gemini_and_a_full_queue_drops(weather_tools, fake_gemini, tmp_path):
    fake_gemini.default = lambda req: gemini_reply(req, delay_s=1.0)
    log = tmp_path / "shadow.jsonl"
    router = make_router(weather_tools, fake_gemini.url, shadow=ShadowConfig(sample=1.0, log=log, max_pending=2))
    start = time.perf_counter()
    for _ in range(5):
        assert router.route("set a timer for 10 minutes").decision == "call"
    assert time.perf_counter() - start < 0.5  # five routes while one Gemini answer takes 1 s
    assert router.shadow is not None and router.shadow.stats.dropped == 3 and router.shadow.pending == 2
    start = time.perf_counter()
    router.close()
    assert 0.9 < time.perf_counter() - start < 4.0  # close drained the two pending (1 s each)
    assert len(lines(log)) == 2 and all(r["agree"] for r in lines(log))


def test_close_is_bounded_and_drops_what_is_still_queued(weather_tools, fake_gemini, tmp_path):
    fake_gemini.default = lambda req: gemini_reply(req, delay_s=3.0)
    router = make_router(weather_tools, fake_gemini.url, shadow=ShadowConfig(sample=1.0, log=tmp_path / "s.jsonl"))
    for _ in range(3):
        router.route("set a timer for 10 minutes")
    start = time.perf_counter()
    router.close(timeout_s=0.3)
    assert time.perf_counter() - start < 1.5
    assert router.shadow is not None and router.shadow.stats.cancelled == 2  # one was already in flight
    assert router.route("tell me a joke").decision == "refuse"  # a closed shadow still routes, silently
    assert router.shadow.stats.dropped == 1


def test_aroute_shadows_in_a_task_without_waiting(weather_tools, fake_gemini, tmp_path):
    fake_gemini.default = lambda req: gemini_reply(req, delay_s=1.0)
    log = tmp_path / "shadow.jsonl"

    async def main() -> list[float]:
        took = []
        async with make_router(weather_tools, fake_gemini.url, shadow=ShadowConfig(sample=1.0, log=log)) as router:
            for q in LOCAL_QUERIES:
                start = time.perf_counter()
                d = await router.aroute(q)
                took.append(time.perf_counter() - start)
                assert d.source == "local"
            assert router.shadow is not None and router.shadow.pending == 3  # in flight side by side
        return took

    took = asyncio.run(main())
    assert max(took) < 0.5
    rows = {r["query"]: r["agree"] for r in lines(log)}
    assert rows == {"set a timer for 10 minutes": True, "weather in Paris": False, "tell me a joke": True}


def test_without_a_key_shadow_warns_and_does_nothing(weather_tools, tmp_path):
    log = tmp_path / "shadow.jsonl"
    with pytest.warns(ShadowWarning, match="no Gemini API key"):
        router = Router(weather_tools, proposer=Scripted(), shadow=ShadowConfig(sample=1.0, log=log))
    assert router.shadow is None
    assert router.route("set a timer for 10 minutes").decision == "call"
    router.close()
    assert not log.exists() or lines(log) == []


@pytest.mark.parametrize(
    "kw", [{"sample": 1.5}, {"sample": True}, {"sample": -0.1}, {"max_pending": 0}, {"log": ""}, {"seed": "x"}]
)
def test_shadow_config_rejects_bad_values(kw, tmp_path):
    with pytest.raises(NeedleRouterError, match="shadow"):
        ShadowConfig(**{"log": tmp_path / "s.jsonl", **kw})


# -- the decision log --------------------------------------------------------------------------------


def test_decision_log_lines_parse_and_estimate_prompt_tokens(weather_tools, fake_gemini, tmp_path):
    fake_gemini.default = gemini_reply
    path = tmp_path / "decisions.jsonl"
    router = make_router(weather_tools, fake_gemini.url, decision_log=path)
    queries = ["set a timer for 10 minutes", "a twelve minute timer please, 12", "", "tell me a joke"]
    routed = [router.route(q) for q in queries[:3]]
    routed.append(asyncio.run(router.aroute(queries[3])))
    routed += router.route_batch(LOCAL_QUERIES[:2])
    rows = lines(path)
    assert len(rows) == 6
    chars = len(json.dumps(to_gemini_json_schema(weather_tools), ensure_ascii=False, separators=(",", ":")))
    for row, query, decision in zip(rows, [*queries, *LOCAL_QUERIES[:2]], routed, strict=True):
        assert row.pop("prompt_tokens_estimate") == (chars + len(query)) // 4
        assert row.pop("ts").endswith("Z")
        assert Decision.model_validate(row) == decision  # the Decision itself, latency included
    assert [r["source"] for r in rows] == ["local", "gemini", "local", "local", "local", "local"]


def test_a_decision_log_in_a_directory_that_is_a_file_fails_at_construction(weather_tools, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NeedleRouterError, match="decision log"):
        Router(weather_tools, proposer=Scripted(), decision_log=blocker / "decisions.jsonl")


# -- the escalation log (flywheel records) -------------------------------------------------------------


def test_escalation_log_keeps_only_answers_that_passed_the_policy(weather_tools, fake_gemini, tmp_path):
    fake_gemini.default = gemini_reply
    path = tmp_path / "escalations.jsonl"
    policy = Policy.load({"escalation_log": str(path)})
    router = make_router(weather_tools, fake_gemini.url, policy=policy, context={"date": "2025-05-01"})
    kept = [
        "a twelve minute timer please, 12", "what's the time in Lima", "weather somewhere nice", "weather where I am"
    ]
    for q in [*kept, "start a timer", "something Gemini will not answer well"]:
        router.route(q)
    router.route("a twelve minute timer please, 12", force_escalate=True)  # forced: not kept
    records = load_records(path)
    assert [r["query"] for r in records] == kept
    timer, clock, nice, here = records
    assert timer["answers"] == [{"name": "set_timer", "arguments": {"minutes": 12}}]
    assert (timer["category"], timer["expected"], timer["origin"]) == ("positive", "call", "escalation")
    assert (clock["answers"], clock["category"], clock["expected"]) == ([], "irrelevant", "refuse")
    assert nice["context"] == {"date": "2025-05-01"} and timer["tools"] == weather_tools
    # A value Gemini made up becomes a "missing" record: the call without it, so that the local
    # model learns to propose the tool and let the policy ask (not to refuse).
    assert (here["answers"], here["category"], here["expected"], here["missing"]) == (
        [{"name": "get_weather", "arguments": {}}], "missing", "clarify", ["city"])
    typed = list(read_records(path))
    assert [r.expected for r in typed] == ["call", "refuse", "call", "clarify"]


def test_shadow_pairs_are_kept_as_records_when_gemini_answered_validly(weather_tools, fake_gemini, tmp_path):
    fake_gemini.default = gemini_reply
    path = tmp_path / "escalations.jsonl"
    policy = Policy.load({"escalation_log": str(path)})
    shadow = ShadowConfig(sample=1.0, log=tmp_path / "shadow.jsonl")
    with make_router(weather_tools, fake_gemini.url, policy=policy, shadow=shadow) as router:
        for q in LOCAL_QUERIES:
            router.route(q)
    records = sorted(load_records(path), key=lambda r: r["query"])
    assert [(r["query"], r["origin"], r["expected"]) for r in records] == [
        ("set a timer for 10 minutes", "shadow", "call"),
        ("tell me a joke", "shadow", "refuse"),
        ("weather in Paris", "shadow", "call"),
    ]
    assert records[2]["answers"] == [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]


def test_escalation_log_is_a_validated_policy_field():
    assert Policy.preset("default").escalation_log is None
    with pytest.raises(NeedleRouterError, match="escalation_log"):
        Policy.load({"escalation_log": ""})
    assert "escalation_log: /tmp/x.jsonl" in Policy.load("escalation_log: /tmp/x.jsonl\n").to_yaml()


# -- shadow-report -------------------------------------------------------------------------------------


def _line(query: str, decision: str, calls: list[str], conf: float, agree: bool, error: str | None = None) -> dict:
    local_calls = [{"name": n, "arguments": {}} for n in calls]
    return {
        "ts": "2025-05-01T00:00:00.000Z",
        "query": query,
        "tools": ["get_weather", "set_timer"],
        "local": {"decision": decision, "calls": local_calls, "confidence": conf},
        "gemini": {"outcome": "error" if error else "calls", "calls": local_calls if agree else []},
        "agree": agree and error is None,
        "error": error,
    }


HAND_WRITTEN = [
    _line("t1", "call", ["set_timer"], 0.99, True),
    _line("t2", "call", ["set_timer"], 0.95, True),
    _line("w1", "call", ["get_weather"], 0.91, True),
    _line("w2", "call", ["get_weather"], 0.85, False),
    _line("w3", "call", ["get_weather"], 0.82, True),
    _line("w4", "call", ["get_weather"], 0.81, False),
    _line("r1", "refuse", [], 0.97, True),
    _line("r2", "refuse", [], 0.96, False),
    _line("e1", "call", ["set_timer"], 0.99, False, error="unavailable: teacher_unreachable: down"),
]


def test_shadow_report_counts_a_hand_written_log():
    report = shadow_report(HAND_WRITTEN, target_agreement=0.75)
    assert (report["lines"], report["compared"], report["errors"]) == (9, 8, 1)
    assert report["error_kinds"] == {"unavailable": 1}
    assert report["agreement"] == {"n": 8, "agree": 5, "rate": 0.625}
    assert report["by_tool"] == {
        "(no call)": {"n": 2, "agree": 1, "rate": 0.5},
        "get_weather": {"n": 4, "agree": 2, "rate": 0.5},
        "set_timer": {"n": 2, "agree": 2, "rate": 1.0},
    }
    assert report["by_band"] == {
        "[0.8,0.9)": {"n": 3, "agree": 1, "rate": 0.3333},
        "[0.9,1.0]": {"n": 5, "agree": 4, "rate": 0.8},
    }
    assert [d["query"] for d in report["disagreements"]] == ["r2", "w2", "w4"]
    # calls by confidence: .81 x, .82 ok, .85 x, .91 ok, .95 ok, .99 ok: from .82 up 4/5 = 0.8 >= 0.75
    assert report["recommended_threshold"] == {"threshold": 0.82, "agreement": 0.8, "coverage": 0.8333}
    assert report["recommended_refuse_threshold"] == {"threshold": 0.97, "agreement": 1.0, "coverage": 0.5}
    assert shadow_report(HAND_WRITTEN, target_agreement=1.0)["recommended_threshold"]["threshold"] == 0.91


def test_recommend_threshold_edges():
    assert recommend_threshold([], 0.9) == {"threshold": None, "agreement": None, "coverage": 0.0}
    assert recommend_threshold([(0.9, False), (0.95, False)], 0.5)["threshold"] is None
    # ties: a threshold keeps every pair of its confidence
    assert recommend_threshold([(0.9, True), (0.9, False), (0.95, True)], 0.9)["threshold"] == 0.95
    assert [band_of(c) for c in (0.2, 0.5, 0.89, 0.9, 1.0)] == [
        "[0.0,0.5)",
        "[0.5,0.6)",
        "[0.8,0.9)",
        "[0.9,1.0]",
        "[0.9,1.0]",
    ]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
    return subprocess.run(
        [sys.executable, "-m", "needle_router.cli", *args],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "160"},
        timeout=120,
    )


def test_shadow_report_command(tmp_path):
    log = tmp_path / "shadow.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in HAND_WRITTEN))
    res = _cli("shadow-report", str(log), "--json", "--target-agreement", "0.75")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == json.loads(json.dumps(shadow_report(HAND_WRITTEN, 0.75)))
    human = _cli("shadow-report", str(log))
    assert human.returncode == 0, human.stderr
    assert "exact call agreement 62.5% (5/8)" in human.stdout
    assert "recommended call threshold: 0.9100 (agreement 100.0% at or above it, keeping 50.0%" in human.stdout
    assert "get_weather" in human.stdout and "[0.8,0.9)" in human.stdout and "failed shadow requests: 1" in human.stdout
    log.write_text('{"query": "x"}\n')
    bad = _cli("shadow-report", str(log))
    assert bad.returncode == 2 and "shadow.jsonl:1" in bad.stderr and "Traceback" not in bad.stderr


# -- serve --shadow ------------------------------------------------------------------------------------


def test_serve_shadows_through_the_real_server(fake_gemini, tmp_path):
    from serve_support import escalator_for, live

    fake_gemini.default = gemini_reply
    log, decisions = tmp_path / "shadow.jsonl", tmp_path / "decisions.jsonl"
    shadow = ShadowConfig(sample=1.0, log=log)
    with live(fake_gemini, escalator=escalator_for(fake_gemini), shadow=shadow, decision_log=decisions) as server:
        r = httpx.post(f"{server.url}/v1/route", json={"query": "Set a timer for 25 minutes"}, timeout=10)
        assert r.json()["decision"] == "call"
        chat = {"model": "m", "messages": [{"role": "user", "content": "Set a timer for 25 minutes"}]}
        c = httpx.post(f"{server.url}/v1/chat/completions", json=chat, timeout=10)
        assert c.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "set_timer"
        deadline = time.monotonic() + 10
        while len(lines(log)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    rows = lines(log)
    assert len(rows) == 2 and all(r["local"]["decision"] == "call" and r["error"] is None for r in rows)
    # The shadow task ran outside the chat request's context: Gemini got the router's one-request
    # prompt, not the conversation (and the chat turn's answer was not overwritten).
    assert all("You are the tool router" in req.system_text() for req in fake_gemini.requests)
    assert [json.loads(x)["decision"] for x in decisions.read_text().splitlines()] == ["call", "call"]


def test_server_shutdown_waits_for_shadow_requests_in_flight(fake_gemini, tmp_path):
    from serve_support import SCRIPT, Scripted, escalator_for
    from starlette.testclient import TestClient

    from needle_router.serve import ServeConfig, create_app

    fake_gemini.default = lambda req: gemini_reply(req, delay_s=0.5)
    log = tmp_path / "shadow.jsonl"
    config = ServeConfig(tools=OPENAI_TOOLS, warm_up=False, shadow=ShadowConfig(sample=1.0, log=log))
    app = create_app(config, proposer=Scripted(SCRIPT), escalator=escalator_for(fake_gemini))
    with TestClient(app) as client:  # runs the app's lifespan: shutdown closes the shadow runtime
        assert client.post("/v1/route", json={"query": "Set a timer for 25 minutes"}).json()["source"] == "local"
        assert lines(log) == []  # answered before Gemini was
    assert [r["agree"] for r in lines(log)] == [True]


def test_serve_command_checks_the_shadow_flags(tmp_path):
    from typer.testing import CliRunner

    from needle_router.cli import app

    tools = OPENAI_TOOLS
    runner = CliRunner()
    alone = runner.invoke(app, ["serve", "--tools", str(tools), "--model", "lexical", "--shadow", "0.5"])
    assert alone.exit_code == 2 and "--shadow-log" in alone.output
    bad = runner.invoke(
        app,
        [
            "serve",
            "--tools",
            str(tools),
            "--model",
            "lexical",
            "--shadow",
            "1.5",
            "--shadow-log",
            str(tmp_path / "s.jsonl"),
        ],
    )
    assert bad.exit_code == 2 and "shadow sample must be a number from 0.0 to 1.0" in bad.output
