"""Issue 9: faults found by trying the router as a new user and as an attacker would.

Real components throughout: real jsonschema, the real google-genai SDK over real HTTP to the fake
Gemini server on 127.0.0.1 (tests/fake_gemini.py), the installed CLI in a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fake_gemini import FakeGemini

from needle_router import (
    NeedleRouterError,
    Policy,
    PolicyError,
    PolicyWarning,
    Proposal,
    QueryError,
    Router,
    Tool,
    ToolCall,
    Toolset,
)
from needle_router.errors import ToolSchemaError
from needle_router.escalation import GeminiEscalator
from needle_router.types import Alternative
from needle_router.validation import check_call

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


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if "API_KEY" not in k}


def cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it: a subprocess, no Gemini key."""
    return subprocess.run(
        [sys.executable, "-m", "needle_router.cli", *args],
        capture_output=True, text=True, env=_env(), input=stdin, cwd=cwd, timeout=120,
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


# -- 2. $ref stays inside the tool's own schema; nothing is ever retrieved ------------------------


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        _Recorder.hits.append(self.path)
        body = b'{"type": "string", "description": "FETCHED-SECRET"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def ref_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.hits = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _ref_tool(ref: str) -> list[dict[str, Any]]:
    props = {"to": {"$ref": ref}}
    return [{"name": "send", "description": "Send.", "parameters": {"type": "object", "properties": props}}]


def test_remote_and_file_refs_are_rejected_at_load_and_never_fetched(ref_server: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"type": "string", "description": "FILE-SECRET"}')
    for ref in (f"{ref_server}/x.json", secret.as_uri(), "other.json#/x", "#/$defs/missing"):
        with pytest.raises(ToolSchemaError) as info:
            Toolset.load(_ref_tool(ref))
        assert info.value.tool == "send" and info.value.path.endswith("properties.to.$ref"), info.value
    assert _Recorder.hits == []
    # the CLI says the same in one line
    bad = tmp_path / "tools.json"
    bad.write_text(json.dumps(_ref_tool(secret.as_uri())))
    res = cli("validate-tools", str(bad))
    assert res.returncode == 2 and "$ref" in res.stderr and "Traceback" not in res.stderr


def test_local_refs_still_work_and_validation_never_retrieves(ref_server: str) -> None:
    schema = {
        "type": "object",
        "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
        "properties": {"head": {"$ref": "#/$defs/node"}},
    }
    toolset = Toolset.load([{"name": "walk", "parameters": schema}])
    assert check_call(ToolCall(name="walk", arguments={"head": {"next": {}}}), toolset).ok
    assert not check_call(ToolCall(name="walk", arguments={"head": {"next": 3}}), toolset).ok
    # A Tool built by hand cannot smuggle a remote $ref past the check either.
    with pytest.raises(ToolSchemaError):
        Toolset([Tool(name="t", parameters=_ref_tool(f"{ref_server}/x.json")[0]["parameters"])])
    # And if a schema somehow holds one, checking a call reports it instead of fetching or crashing.
    rogue = Toolset([Tool(name="t")])
    rogue.tools[0].parameters = {"type": "object", "properties": {"to": {"$ref": f"{ref_server}/y.json"}}}
    result = check_call(ToolCall(name="t", arguments={"to": "x"}), rogue)
    assert not result.ok and "unresolvable" in result.issues[0].message
    assert _Recorder.hits == []


# -- 3. predict: one output line per input line --------------------------------------------------


def test_predict_writes_one_line_per_input_line_whatever_the_line(tmp_path: Path, weather_tools: list[dict]) -> None:
    deep = "[" * 5000 + "]" * 5000
    good = json.dumps({"query": "timer for 4 minutes"})
    lines = [
        good.encode(),
        json.dumps({"query": "timer for 4 minutes", "context": "text"}).encode(),
        json.dumps({"query": "timer for 4 minutes", "context": [1, 2]}).encode(),
        deep.encode(),
        b"",
        b"   ",
        json.dumps({"query": None}).encode(),
        b'{"query": "timer for \xff\xfe minutes"}',
        json.dumps({"query": 5}).encode(),
        good.encode(),
    ]
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"\n".join(lines) + b"\n")
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(weather_tools))
    out = tmp_path / "out.jsonl"
    res = cli("predict", "--data", str(data), "--out", str(out), "--tools", str(tools), "--model", "lexical",
              "--no-escalate", "--threshold", "0.2", "--context", '{"today": "2026-11-30"}')
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(lines)
    assert rows[0]["decision"] == "call" and rows[-1] == rows[0] | {"latency_ms": rows[-1]["latency_ms"]}
    for i in range(1, 9):
        assert set(rows[i]) == {"error"} and rows[i]["error"].startswith(f"line {i + 1}:"), (i, rows[i])
    assert "context" in rows[1]["error"] and "context" in rows[2]["error"]
    assert "nested" in rows[3]["error"] and "blank" in rows[4]["error"] and "blank" in rows[5]["error"]
    assert "string" in rows[6]["error"] and "UTF-8" in rows[7]["error"] and "string" in rows[8]["error"]


# -- 4. one line and exit 2, typed errors in the API ---------------------------------------------


def _nested_schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    node = schema
    for _ in range(levels):
        child: dict[str, Any] = {"type": "object", "properties": {}}
        node["properties"]["a"] = child
        node = child
    return schema


def test_bad_utf8_and_deep_nesting_are_one_line_errors(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.json"
    latin.write_bytes('[{"name": "caf\xe9", "parameters": {"type": "object"}}]'.encode("latin-1"))
    deep = tmp_path / "deep.json"
    level = '{"type": "object", "properties": {"a": '
    deep.write_text('[{"name": "t", "parameters": ' + level * 3000 + "{}" + "}}" * 3000 + "}]")
    policy = tmp_path / "policy.yaml"
    policy.write_bytes("description: caf\xe9\n".encode("latin-1"))
    for args, needle in (
        (["validate-tools", str(latin)], "UTF-8"),
        (["route", "hi", "--tools", str(latin), "--model", "lexical"], "UTF-8"),
        (["validate-tools", str(deep)], "nested"),
        (["route", "hi", "--tools", str(deep), "--model", "lexical"], "nested"),
        (["validate-policy", str(policy)], "UTF-8"),
    ):
        res = cli(*args)
        assert res.returncode == 2 and "Traceback" not in res.stderr, (args, res.stderr)
        assert needle in res.stderr and len(res.stderr.strip().splitlines()) == 1, (args, res.stderr)
    with pytest.raises(ToolSchemaError, match="UTF-8"):
        Toolset.load(latin)
    with pytest.raises(ToolSchemaError, match="nested"):
        Toolset.load(deep)
    with pytest.raises(ToolSchemaError, match="nested"):
        Toolset.load([{"name": "t", "parameters": _nested_schema(3000)}])
    with pytest.raises(ToolSchemaError, match="nested"):
        Toolset([Tool(name="t", parameters=_nested_schema(200))])
    with pytest.raises(PolicyError, match="UTF-8"):
        Policy.load(policy)
    deep_yaml = tmp_path / "deep.yaml"
    deep_yaml.write_text("allow: " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(PolicyError):
        Policy.load(deep_yaml)


# -- 5. tool names in a policy must name tools ---------------------------------------------------


def test_policy_naming_a_missing_tool_is_an_error(weather_tools: list[dict], tmp_path: Path) -> None:
    for field, value in (
        ("deny", ["set_timr"]),
        ("allow", ["get_weather", "set_timr"]),
        ("never_local", ["set_timr"]),
        ("require_confirmation", ["set_timr"]),
        ("tool_min_confidence", {"set_timr": 0.9}),
        ("grounding_exempt", {"set_timr": ["minutes"]}),
    ):
        with pytest.raises(PolicyError, match="set_timr") as info:
            Router(weather_tools, proposer=unsure(), policy={field: value})
        assert "did you mean 'set_timer'" in str(info.value) and field in str(info.value)
    # A policy shared by many toolsets can relax it; a glob that matches nothing only warns.
    with pytest.warns(PolicyWarning, match="set_timr"):
        Router(weather_tools, proposer=unsure(), policy={"deny": ["set_timr"], "unknown_tool_names": "warn"})
    with pytest.warns(PolicyWarning, match="delete_"):
        Router(weather_tools, proposer=unsure(), policy={"deny": ["delete_*"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Router(weather_tools, proposer=unsure(), policy={"deny": ["set_*"], "grounding_exempt": {"*": ["city"]}})
    # validate-policy --tools checks the same
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(weather_tools))
    pol = tmp_path / "p.yaml"
    pol.write_text("deny: [set_timr]\n")
    res = cli("validate-policy", str(pol), "--tools", str(tools))
    assert res.returncode == 2 and "set_timr" in res.stderr and "Traceback" not in res.stderr
    assert cli("validate-policy", str(pol)).returncode == 0  # without tools there is nothing to compare
    pol.write_text("deny: [delete_*]\n")
    res = cli("validate-policy", str(pol), "--tools", str(tools))
    assert res.returncode == 0 and res.stderr.startswith("warning:") and "delete_*" in res.stderr


def test_duplicate_yaml_keys_and_non_finite_numbers_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="duplicate key 'deny'"):
        Policy.load("deny: [set_timer]\nmin_confidence: 0.9\ndeny: []\n")
    with pytest.raises(PolicyError, match="duplicate key 'timeout_s'"):
        Policy.load("escalation:\n  timeout_s: 2\n  timeout_s: 3\n")
    for text in ("escalation:\n  deadline_s: .inf\n", "min_confidence: .nan\n", "escalation:\n  timeout_s: .inf\n"):
        with pytest.raises(PolicyError, match="finite"):
            Policy.load(text)
    with pytest.raises(PolicyError, match="finite"):
        Policy.load({"escalation": {"deadline_s": float("inf")}})


# -- 6. a clarify decision carries no call that fails its schema ---------------------------------


def test_clarify_carries_no_schema_failing_call() -> None:
    tools = Toolset.load("examples/tools/openai.json")
    router = Router(tools, proposer=confident("set_thermostat", {}), escalator=None)
    d = router.route("set the thermostat")
    assert d.decision == "clarify" and d.calls == [] and d.missing
    assert d.proposal is not None and d.proposal.calls[0].name == "set_thermostat"  # the partial proposal
    for call in d.calls:
        assert check_call(call, tools).ok


# -- 7. non-text input ----------------------------------------------------------------------------


def test_non_string_queries_raise_query_error(weather_tools: list[dict]) -> None:
    router = Router(weather_tools, proposer=unsure())
    for bad in (None, 123, b"set a timer", ["a"]):
        with pytest.raises(QueryError, match="string"):
            router.route(bad)  # type: ignore[arg-type]
        with pytest.raises(QueryError):
            asyncio.run(router.aroute(bad))  # type: ignore[arg-type]
        with pytest.raises(QueryError):
            router.route_batch(["fine", bad])  # type: ignore[list-item]
    with pytest.raises(QueryError, match="context"):
        router.route("weather in Paris", context="text")  # type: ignore[arg-type]
    assert router.route("   ").reason_codes()[0] == "empty_query"  # empty text is still a decision


def test_invalid_utf8_and_lone_surrogates_get_a_clear_reason_and_reach_nobody(
    fake_gemini: FakeGemini, weather_tools: list[dict]
) -> None:
    fake_gemini.function_call("get_weather", {"city": "Paris"})
    router = Router(weather_tools, model="default", escalator=escalator(fake_gemini))
    for query in ("weather in Par\udcffis", b"weather in \xff\xfe".decode("utf-8", "surrogateescape"), "\ud800"):
        for d in (router.route(query), router.route(query, force_escalate=True), asyncio.run(router.aroute(query))):
            assert d.decision == "refuse" and d.reason_codes() == ["invalid_text"], d.reasons
            assert "invalid UTF-8" in d.reasons[0].message
    assert fake_gemini.requests == []


# -- 8. long requests from stdin or a file -------------------------------------------------------


def test_route_reads_the_request_from_stdin_or_a_file(tmp_path: Path, weather_tools: list[dict]) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(weather_tools))
    query = "set a timer for 10 minutes " + "please " * 40_000  # ~280 kB: longer than argv allows
    opts = ["--tools", str(tools), "--model", "lexical", "--no-escalate", "--threshold", "0.2"]
    res = cli("route", "-", *opts, stdin=query + "\n")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["reasons"][0]["code"] == "query_too_long"
    qf = tmp_path / "q.txt"
    qf.write_text("set a timer for 10 minutes\n")
    res = cli("route", "--query-file", str(qf), *opts)
    assert res.returncode == 0 and json.loads(res.stdout)["calls"][0]["arguments"] == {"minutes": 10}
    res = cli("route", "-", *opts, stdin="set a timer for 10 minutes")
    assert json.loads(res.stdout)["calls"][0]["arguments"] == {"minutes": 10}
    res = cli("route", *opts)
    assert res.returncode == 2 and "query-file" in res.stderr


# -- 9. the teacher's values are grounded by default ---------------------------------------------


def test_teacher_values_are_grounded_by_default(fake_gemini: FakeGemini) -> None:
    tools = [
        {
            "name": "transfer_money",
            "description": "Transfer money to someone.",
            "parameters": {
                "type": "object",
                "properties": {"amount": {"type": "number"}, "to": {"type": "string"}},
                "required": ["amount", "to"],
            },
        }
    ]
    fake_gemini.function_call("transfer_money", {"amount": 99, "to": "mallory"})
    router = Router(tools, proposer=unsure(), escalator=escalator(fake_gemini))
    d = router.route("Transfer some money to my friend")
    assert d.source == "gemini" and d.decision == "clarify", d.reasons
    assert d.calls == [] and set(d.missing) == {"amount", "to"} and "ungrounded" in d.reason_codes()
    # grounded values pass, and a policy can relax the rule
    fake_gemini.function_call("transfer_money", {"amount": 20, "to": "Alice"})
    assert router.route("send 20 euros to Alice").decision == "call"
    fake_gemini.function_call("transfer_money", {"amount": 99, "to": "mallory"})
    relaxed = Router(tools, proposer=unsure(), escalator=escalator(fake_gemini), policy={"teacher_grounding": False})
    assert relaxed.route("Transfer some money to my friend").decision == "call"


# -- friction ------------------------------------------------------------------------------------


def test_tools_from_python_files_and_modules(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    for spec in ("examples/tools_python.py", "examples/tools_python.py:TOOLS", "examples.tools_python:TOOLS"):
        res = cli("validate-tools", spec, cwd=root)
        assert res.returncode == 0 and "5 tools" in res.stdout, (spec, res.stderr)
    res = cli("route", "set a timer for 5 minutes", "--tools", "examples/tools_python.py", "--model", "lexical",
              "--no-escalate", "--threshold", "0.2", cwd=root)
    assert res.returncode == 0 and json.loads(res.stdout)["calls"][0]["name"] == "set_timer"
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    for spec in (str(broken), "examples/tools_python.py:NOPE", "no_such_module_x:TOOLS"):
        res = cli("validate-tools", spec, cwd=root)
        assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr.startswith("error:"), spec


def test_route_prints_one_line_on_a_terminal_and_json_otherwise(tmp_path: Path, weather_tools: list[dict]) -> None:
    import pty

    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(weather_tools))
    args = ["route", "set a timer for 25 minutes", "--tools", str(tools), "--model", "lexical", "--no-escalate",
            "--threshold", "0.2"]
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "needle_router.cli", *args], stdout=follower,
                              stderr=subprocess.PIPE, env=_env(), timeout=120)
        os.close(follower)
        follower = -1
        out = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0, proc.stderr
    line = out.decode().strip()
    assert len(line.splitlines()) == 1 and re.fullmatch(r'call set_timer \{"minutes": 25\} \d\.\d\d local \d+ ms', line)
    res = cli(*args)  # a pipe: the full JSON, as scripts expect
    assert set(json.loads(res.stdout)) >= {"decision", "calls", "reasons"}
    res = cli(*args, "--json")
    assert json.loads(res.stdout)["decision"] == "call"


def test_help_has_no_type_labels_on_flags() -> None:
    res = cli("route", "--help")
    assert res.returncode == 0 and "<bool>" not in res.stdout and "--no-escalate" in res.stdout
    res = cli("predict", "--help")
    assert "--context" in res.stdout and "<bool>" not in res.stdout


# -- the tool cap -------------------------------------------------------------------------------


def _filler_tools(n: int) -> list[dict[str, Any]]:
    nouns = ["invoice", "ticket", "playlist", "garden", "printer", "contract", "parcel", "recipe", "meeting", "badge"]
    verbs = ["archive", "rename", "audit", "export", "inspect", "merge", "tag", "schedule", "share", "verify"]
    out = []
    for i in range(n):
        noun, verb = nouns[i % 10], verbs[(i // 10) % 10]
        out.append({"name": f"{verb}_{noun}_{i}", "description": f"{verb.capitalize()} a {noun} record number {i}.",
                    "parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}})
    return out


class Recording:
    """Wraps a proposer and records how many tools each proposal was asked to read."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sizes: list[int] = []

    def propose(self, query: str, toolset: Any, context: Any = None) -> Proposal:
        self.sizes.append(len(toolset))
        return self.inner.propose(query, toolset, context)

    def rank_tools(self, query: str, toolset: Any) -> list[tuple[str, float]]:
        return self.inner.rank_tools(query, toolset)


def test_the_model_reads_at_most_max_tools_ranked_by_its_retrieval_head(weather_tools: list[dict]) -> None:
    from needle_router.router import MAX_TOOLS, make_proposer

    tools = [*_filler_tools(150), *Toolset.load("examples/tools/openai.json").to_list()]
    model = Recording(make_proposer(None))
    router = Router(tools, proposer=model, policy={"escalation": {"enabled": False}})
    d = router.route("set a timer for 25 minutes")
    assert model.sizes == [MAX_TOOLS]
    kept = router.tools_for("set a timer for 25 minutes")
    assert "set_timer" in kept and len(kept) == MAX_TOOLS
    assert d.calls == [] or d.calls[0].name == "set_timer"
    small = Router(tools, proposer=model, max_tools=8, policy={"escalation": {"enabled": False}})
    small.route("what's the weather in Paris?")
    assert model.sizes[-1] == 8 and "get_weather" in small.tools_for("what's the weather in Paris?")
    Router(tools, proposer=model, max_tools=None, policy={"escalation": {"enabled": False}}).route("hi there")
    assert model.sizes[-1] == len(tools)
    with pytest.raises(NeedleRouterError):
        Router(tools, proposer=model, max_tools=0)
