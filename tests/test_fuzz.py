"""Fuzzing (hypothesis): tool schemas in every accepted format, requests, contexts, proposals and
teacher answers.

Two properties, over real components (the adapters, jsonschema, the policy engine, the Router):
1. Every input ends in a typed `NeedleRouterError` or a result (a Toolset, a Decision), never
   another exception.
2. No `call` decision ever fails its tool's schema (checked again with a fresh jsonschema
   validator, independent of needle_router.validation), and only `call` decisions carry calls.

Profiles: `ci` (bounded, runs with the normal suite) and `long` (`-m slow`; the README reports
its count). Each test prints how many cases it generated.
"""

from __future__ import annotations

import asyncio
import json
import keyword
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import create_model

from needle_router import Decision, NeedleRouterError, Proposal, Router, ToolCall, Toolset
from needle_router.adapters import tool as tool_decorator
from needle_router.lexical import LexicalProposer
from needle_router.types import Alternative, EscalationAnswer

# (ci, long) examples per test: the CI profile is 180 cases, the long one (-m slow) 100,000.
PROFILES = {"route": (120, 50_000), "formats": (60, 50_000)}


def profile_params(name: str) -> list[Any]:
    ci, long = PROFILES[name]
    return [pytest.param(ci, id="ci"), pytest.param(long, id="long", marks=pytest.mark.slow)]


def run(examples: int, strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> int:
    """Run `check` over `examples` cases drawn from `strategy`; return how many ran."""
    count = 0

    def body(value: Any) -> None:
        nonlocal count
        count += 1
        check(value)

    settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,  # reproducible from the seed; no .hypothesis writes from CI
        derandomize=examples <= 200,  # the CI profile is the same cases every run
    )(given(strategy)(body))()
    print(f"{count} cases")
    return count


# -- building blocks ------------------------------------------------------------------------------

PY_TYPES: dict[str, Any] = {"int": int, "str": str, "float": float, "bool": bool, "list[int]": list[int],
                            "str | None": str | None}

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
PY_NAMES = NAMES.filter(lambda s: not keyword.iskeyword(s) and not keyword.issoftkeyword(s) and s not in PY_TYPES)
ODD_TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()),  # surrogates, controls, everything
    max_size=40,
)
WORDS = st.lists(st.sampled_from(["set", "a", "timer", "for", "10", "minutes", "weather", "in", "Paris",
                                  "send", "email", "to", "bob@example.com", "play", "jazz", "twenty", "five",
                                  "tomorrow", "at", "6pm", "not", "don't", "celsius", "3.5", "-2"]),
                 max_size=12).map(" ".join)
QUERIES = st.one_of(WORDS, ODD_TEXT, st.just(""), st.just("x" * 9000), st.text(max_size=200))
JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), ODD_TEXT,
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def param_schemas(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "array", "object", "enum", "null",
                                 "union", "format", "ref"] if depth < 2 else ["string", "integer", "boolean"]))
    schema: dict[str, Any]
    if kind == "string":
        schema = {"type": "string"}
        if draw(st.booleans()):
            schema["maxLength"] = draw(st.integers(0, 20))
        if draw(st.booleans()):
            schema["pattern"] = draw(st.sampled_from(["^[a-z]+$", "^\\d{3}$", ".*", "^[A-Z]"]))
    elif kind in ("integer", "number"):
        schema = {"type": kind}
        if draw(st.booleans()):
            schema["minimum"] = draw(st.integers(-100, 100))
        if draw(st.booleans()):
            schema["maximum"] = draw(st.integers(100, 10_000))
        if draw(st.booleans()):
            schema["default"] = draw(st.integers(100, 200))
    elif kind == "boolean":
        schema = {"type": "boolean"}
    elif kind == "null":
        schema = {"type": "null"}
    elif kind == "enum":
        schema = {"type": "string", "enum": draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))}
    elif kind == "format":
        schema = {"type": "string", "format": draw(st.sampled_from(["date", "date-time", "time", "email", "uri"]))}
    elif kind == "union":
        schema = {"anyOf": [draw(param_schemas(depth + 1)), draw(param_schemas(depth + 1))]}
    elif kind == "ref":
        schema = {"$ref": "#/$defs/shared"}
    elif kind == "array":
        schema = {"type": "array", "items": draw(param_schemas(depth + 1))}
        if draw(st.booleans()):
            schema["maxItems"] = draw(st.integers(0, 5))
    else:
        schema = draw(object_schemas(depth + 1))
    if draw(st.integers(0, 4)) == 0:
        schema["description"] = draw(st.text(max_size=30))
    return schema


@st.composite
def object_schemas(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    props = draw(st.dictionaries(NAMES, param_schemas(depth), max_size=4))
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if props:
        schema["required"] = draw(st.lists(st.sampled_from(sorted(props)), unique=True, max_size=len(props)))
    if draw(st.booleans()):
        schema["additionalProperties"] = draw(st.booleans())
    return schema


@st.composite
def root_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema = draw(object_schemas())
    schema["$defs"] = {"shared": draw(param_schemas(2))}
    return schema


def _upper_types(node: Any) -> Any:
    """Gemini's OpenAPI subset spells types in upper case."""
    if isinstance(node, dict):
        return {k: (v.upper() if k == "type" and isinstance(v, str) else _upper_types(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_upper_types(v) for v in node]
    return node


def _bfcl_types(node: Any) -> Any:
    mapping = {"object": "dict", "number": "float", "array": "tuple"}
    if isinstance(node, dict):
        return {k: (mapping.get(v, v) if k == "type" and isinstance(v, str) else _bfcl_types(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_bfcl_types(v) for v in node]
    return node


def _needle(schema: dict[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", []))
    return {k: {**v, "required": k in required} for k, v in schema.get("properties", {}).items()}


FORMATS: dict[str, Callable[[str, str, dict[str, Any]], Any]] = {
    "openai": lambda n, d, p: {"type": "function", "function": {"name": n, "description": d, "parameters": p}},
    "openai_responses": lambda n, d, p: {"type": "function", "name": n, "description": d, "parameters": p},
    "gemini_json": lambda n, d, p: {"name": n, "description": d, "parametersJsonSchema": p},
    "gemini_openapi": lambda n, d, p: {"name": n, "description": d, "parameters": _upper_types(p)},
    "anthropic": lambda n, d, p: {"name": n, "description": d, "input_schema": p},
    "mcp": lambda n, d, p: {"name": n, "description": d, "inputSchema": p},
    "needle": lambda n, d, p: {"name": n, "description": d, "parameters": _needle(p)},
    "bfcl": lambda n, d, p: {"name": n, "description": d, "parameters": _bfcl_types(p)},
    "jsonschema": lambda n, d, p: {"name": n, "description": d, "parameters": p},
}



@st.composite
def python_tools(draw: st.DrawFn) -> Any:
    """A @tool-decorated function, a plain function or a pydantic model with random parameters."""
    name = draw(PY_NAMES)
    arg_names = PY_NAMES.filter(lambda s: s not in {"self", "cls"})
    params = draw(st.dictionaries(arg_names, st.sampled_from(sorted(PY_TYPES)), max_size=4))
    kind = draw(st.sampled_from(["tool", "function", "pydantic"]))
    if kind == "pydantic":
        fields = {k: (PY_TYPES[t], ...) for k, t in params.items()}
        return create_model(name.capitalize() or "M", __doc__=draw(st.text(max_size=20)) or None, **fields)
    namespace: dict[str, Any] = {}
    args = ", ".join(f"{k}: {t}" for k, t in params.items())
    exec(f"def {name}({args}) -> None:\n    '''Do {name}.'''\n", namespace)  # noqa: S102 - generated test code
    fn = namespace[name]
    return tool_decorator(fn) if kind == "tool" else fn


@st.composite
def tool_sources(draw: st.DrawFn) -> Any:
    """A list of tools, each in some format; sometimes mutated into something invalid."""
    n = draw(st.integers(1, 4))
    items: list[Any] = []
    for _ in range(n):
        if draw(st.integers(0, 5)) == 0:
            items.append(draw(python_tools()))
            continue
        fmt = draw(st.sampled_from(sorted(FORMATS)))
        name = draw(st.one_of(NAMES, NAMES, NAMES, st.text(max_size=10)))
        items.append(FORMATS[fmt](name, draw(st.text(max_size=30)), draw(root_schemas())))
    mutation = draw(st.integers(0, 9))
    if mutation == 0 and items:  # replace a piece with arbitrary JSON
        i = draw(st.integers(0, len(items) - 1))
        items[i] = draw(JSON_VALUES)
    elif mutation == 1 and items and isinstance(items[0], dict):  # poke a random key
        items[0] = {**items[0], draw(st.text(max_size=6)): draw(JSON_VALUES)}
    elif mutation == 2:  # an unsafe $ref
        ref = draw(st.sampled_from(["http://127.0.0.1:9/x.json", "file:///etc/passwd", "#/nowhere", "other#/x"]))
        items.append({"name": "refd", "parameters": {"type": "object", "properties": {"a": {"$ref": ref}}}})
    wrap = draw(st.integers(0, 3))
    if wrap == 0:
        return {"tools": items}
    if wrap == 1 and all(isinstance(i, dict) for i in items):
        return json.dumps(items, default=str)
    return items


# -- the properties -------------------------------------------------------------------------------


def load_or_typed_error(source: Any) -> Toolset | None:
    try:
        return Toolset.load(source)
    except NeedleRouterError:
        return None


@pytest.mark.parametrize("examples", profile_params("formats"))
def test_fuzz_tool_sources_load_or_raise_a_typed_error(examples: int) -> None:
    def check(source: Any) -> None:
        toolset = load_or_typed_error(source)
        if toolset is not None:
            for tool in toolset:  # what loaded is a valid Draft 2020-12 object schema
                Draft202012Validator.check_schema(tool.parameters)
                assert tool.parameters.get("type", "object") == "object"

    assert run(examples, tool_sources(), check) == examples


class RandomProposer:
    """Proposes whatever the fuzzer drew: any tool name, any arguments, any confidence."""

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal

    def propose(self, query: str, toolset: Any, context: Any = None) -> Proposal:
        return self.proposal


class RandomTeacher:
    def __init__(self, answer: EscalationAnswer) -> None:
        self.answer = answer

    def ask(self, query: str, toolset: Any, context: Any = None) -> EscalationAnswer:
        return self.answer

    async def aask(self, query: str, toolset: Any, context: Any = None) -> EscalationAnswer:
        return self.answer


def calls(names: list[str]) -> st.SearchStrategy[list[ToolCall]]:
    name = st.one_of(st.sampled_from(names), NAMES) if names else NAMES
    args = st.dictionaries(st.one_of(NAMES, st.text(max_size=5)), JSON_VALUES, max_size=4)
    return st.lists(st.builds(ToolCall, name=name, arguments=args), max_size=3)


CONFIDENCE = st.one_of(st.floats(0, 1), st.just(math.nan), st.just(0.99), st.just(1.0))
POLICIES = st.sampled_from([None, "default", "strict", "permissive", {"min_confidence": 0.0, "grounding": {
    "enabled": False}, "teacher_grounding": False}, {"missing_required": "escalate", "ambiguity_margin": 0.0}])
CONTEXTS = st.one_of(st.none(), st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3), JSON_VALUES)


@st.composite
def routing_cases(draw: st.DrawFn) -> dict[str, Any]:
    source = draw(tool_sources())
    toolset = load_or_typed_error(source)
    if toolset is None:
        toolset = Toolset.load([{"name": "t", "parameters": draw(root_schemas())}])
    names = toolset.names
    proposal = Proposal(
        calls=draw(calls(names)),
        confidence=draw(CONFIDENCE),
        alternatives=[Alternative(name=n, score=draw(CONFIDENCE)) for n in draw(st.lists(
            st.one_of(st.none(), st.sampled_from(names)) if names else st.none(), max_size=3))],
    )
    outcome = draw(st.sampled_from(["calls", "text", "invalid", "unavailable"]))
    answer = EscalationAnswer(outcome=outcome, calls=draw(calls(names)) if outcome == "calls" else [], text="no")
    return {
        "toolset": toolset,
        "proposer": draw(st.sampled_from(["random", "lexical"])),
        "proposal": proposal,
        "teacher": draw(st.sampled_from([None, "random"])),
        "answer": answer,
        "policy": draw(POLICIES),
        "query": draw(st.one_of(QUERIES, st.none(), st.integers(), st.binary(max_size=10))),
        "context": draw(CONTEXTS),
        "entry": draw(st.sampled_from(["route", "aroute", "batch", "force"])),
    }


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def assert_sound(decision: Decision, toolset: Toolset) -> None:
    assert isinstance(decision, Decision)
    decision.to_json()  # always serialisable
    if decision.decision != "call":
        assert decision.calls == [], decision
        return
    assert decision.calls
    for call in decision.calls:
        tool = toolset.get(call.name)
        assert tool is not None, call
        errors = list(_validator(tool.parameters).iter_errors(call.arguments))
        assert errors == [], (call, [e.message for e in errors])
        assert all(math.isfinite(v) for v in _numbers(call.arguments)), call
        json.dumps(call.arguments, allow_nan=False, ensure_ascii=False).encode("utf-8")  # real JSON text


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


LEXICAL = LexicalProposer()


@pytest.mark.parametrize("examples", profile_params("route"))
def test_fuzz_routing_ends_in_a_decision_or_a_typed_error(examples: int) -> None:
    def check(case: dict[str, Any]) -> None:
        toolset = case["toolset"]
        proposer = RandomProposer(case["proposal"]) if case["proposer"] == "random" else LEXICAL
        teacher = RandomTeacher(case["answer"]) if case["teacher"] else None
        try:
            router = Router(toolset, proposer=proposer, policy=case["policy"], escalator=teacher,
                            context=case["context"])
            query, ctx = case["query"], case["context"] if isinstance(case["context"], dict) else None
            if case["entry"] == "route":
                decisions = [router.route(query, context=ctx)]
            elif case["entry"] == "force":
                decisions = [router.route(query, context=ctx, force_escalate=True)]
            elif case["entry"] == "aroute":
                decisions = [asyncio.run(router.aroute(query, context=ctx))]
            else:
                decisions = router.route_batch([query, "set a timer for 10 minutes"], context=ctx)
        except NeedleRouterError:
            return
        for decision in decisions:
            assert_sound(decision, toolset)

    assert run(examples, routing_cases(), check) == examples


def test_fuzz_profile_reaches_call_decisions() -> None:
    """The generator is not vacuous: confident, valid, grounded proposals do come out as calls."""
    toolset = Toolset.load([{"name": "set_timer", "parameters": {
        "type": "object", "properties": {"minutes": {"type": "integer"}}, "required": ["minutes"]}}])
    proposal = Proposal(calls=[ToolCall(name="set_timer", arguments={"minutes": 10})], confidence=0.99,
                        alternatives=[Alternative(name="set_timer", score=0.99)])
    d = Router(toolset, proposer=RandomProposer(proposal)).route("set a timer for 10 minutes")
    assert d.decision == "call"
    assert_sound(d, toolset)

