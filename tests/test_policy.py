"""The policy engine: loading and presets, each rule, the teacher paths, the budget, invariants."""

from __future__ import annotations

import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from needle_router.errors import PolicyError, QueryError
from needle_router.policies import RULES, SCHEMA_PATH, EscalationBudget, Policy, policy_json_schema
from needle_router.policies.grounding import numbers_in
from needle_router.tools import Tool, Toolset
from needle_router.types import Alternative, Decision, EscalationAnswer, Proposal, Reason, ToolCall, Usage

POLICIES = Path(SCHEMA_PATH).parent
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tools(weather_tools: list[dict]) -> Toolset:
    extra = [
        {
            "name": "send_email",
            "description": "Send an email.",
            "parameters": {
                "type": "object",
                "properties": {
                    "to": {"type": "string", "format": "email"},
                    "subject": {"type": "string"},
                    "body": {"type": "string"},
                },
                "required": ["to", "body"],
            },
        },
        {
            "name": "book_table",
            "description": "Book a restaurant table.",
            "parameters": {
                "type": "object",
                "properties": {
                    "restaurant": {"type": "string"},
                    "date": {"type": "string", "format": "date"},
                    "people": {"type": "integer", "minimum": 1, "default": 2},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["restaurant", "date"],
            },
        },
        {"name": "delete_account", "description": "Delete the account.", "parameters": {"type": "object"}},
    ]
    return Toolset(Tool(t["name"], t["description"], t["parameters"]) for t in weather_tools + extra)


def prop(*calls: tuple[str, dict[str, Any]], confidence: float = 0.95, alts: list[tuple[str | None, float]] = ()):
    return Proposal(
        calls=[ToolCall(name=n, arguments=a) for n, a in calls],
        confidence=confidence,
        alternatives=[Alternative(name=n, score=s) for n, s in alts],
        proposer="test",
    )


def codes(decision: Decision) -> list[str]:
    found = decision.reason_codes()
    assert all(c in RULES for c in found), found  # the vocabulary is closed
    return found


# ----- loading, presets, schema ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "strict", "permissive"])
def test_presets_load_and_validate_against_the_published_schema(name: str) -> None:
    import yaml

    policy = Policy.preset(name)
    assert Policy.load(name) == policy
    raw = yaml.safe_load((POLICIES / f"{name}.yaml").read_text())
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(raw)) == []
    # every field is spelled out in the preset files, so the YAML is the whole story
    assert set(raw) == set(Policy.model_fields) - {"extends"}


def test_preset_ordering_and_defaults() -> None:
    default, strict, permissive = (Policy.preset(n) for n in ("default", "strict", "permissive"))
    assert default.model_dump(exclude={"description"}) == Policy().model_dump(exclude={"description"})
    assert Policy.load(None) == default
    assert strict.min_confidence > default.min_confidence > permissive.min_confidence
    assert strict.missing_required == "escalate" and default.missing_required == "clarify"
    assert strict.grounding.exempt_formats == [] and strict.teacher_grounding


def test_schema_file_is_in_sync_with_the_model() -> None:
    assert json.loads(SCHEMA_PATH.read_text()) == policy_json_schema(), (
        "regenerate with: python -m needle_router.policies"
    )


def test_example_policy_loads() -> None:
    policy = Policy.load(REPO / "examples" / "policy.yaml")
    assert policy.extends is not None
    assert policy.deny or policy.require_confirmation or policy.never_local


def test_load_from_dict_json_string_and_yaml_file(tmp_path: Path) -> None:
    assert Policy.load({"min_confidence": 0.7}).min_confidence == 0.7
    assert Policy.load('{"deny": ["delete_account"]}').deny == ["delete_account"]
    path = tmp_path / "p.yaml"
    path.write_text("extends: strict\nescalation:\n  budget_per_day: 10\n")
    policy = Policy.load(path)
    assert policy.min_confidence == Policy.preset("strict").min_confidence  # inherited
    assert policy.escalation.budget_per_day == 10  # overridden
    assert policy.escalation.max_attempts == Policy.preset("strict").escalation.max_attempts  # nested merge


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ({"min_confidence": 1.5}, "min_confidence"),
        ({"min_confidence": "high"}, "min_confidence"),
        ({"treshold": 0.5}, "treshold"),
        ({"escalation": {"timeout_s": -1}}, "escalation.timeout_s"),
        ({"escalation": {"on_budget_exhausted": "panic"}}, "escalation.on_budget_exhausted"),
        ({"grounding": {"strict": True}}, "grounding.strict"),
        ({"tool_min_confidence": {"send_email": 2}}, "tool_min_confidence.send_email"),
        ({"missing_required": "guess"}, "missing_required"),
        ({"extends": "lenient"}, "extends"),
    ],
)
def test_invalid_fields_raise_policy_error_naming_the_field(source: dict, field: str) -> None:
    with pytest.raises(PolicyError, match=f"'{field}'"):
        Policy.load(source)


def test_bad_files_and_names_raise_policy_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("min_confidence: [0.5\nallow: x\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        Policy.load(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(PolicyError, match="mapping"):
        Policy.load(listy)
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.load(tmp_path / "absent.yaml")
    with pytest.raises(PolicyError, match="unknown policy preset"):
        Policy.preset("lenient")
    with pytest.raises(PolicyError):
        Policy.load(42)  # type: ignore[arg-type]


def test_with_threshold_copies_and_validates() -> None:
    base = Policy.preset("strict")
    lowered = base.with_threshold(0.3)
    assert lowered.min_confidence == 0.3 and base.min_confidence == 0.92
    assert lowered.missing_required == base.missing_required
    with pytest.raises(PolicyError, match="min_confidence"):
        base.with_threshold(1.2)


def test_policy_is_frozen() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Policy().min_confidence = 0.1  # type: ignore[misc]


def test_rules_are_documented() -> None:
    for code in (
        "schema_invalid unknown_tool low_confidence ambiguous missing_required ungrounded denied "
        "not_allowed never_local requires_confirmation no_tool_fits budget_exhausted teacher_text "
        "teacher_invalid teacher_unavailable passed"
    ).split():
        assert RULES[code].strip()


# ----- judge: each rule fires and is reported ---------------------------------------------------


def test_confident_grounded_valid_call_passes_with_coercion(tools: Toolset) -> None:
    proposal = prop(("set_timer", {"minutes": 25.0}))
    d = Policy().judge("set a timer for twenty five minutes", proposal, tools)
    assert d.decision == "call" and d.source == "local"
    assert d.calls == [ToolCall(name="set_timer", arguments={"minutes": 25})]
    assert type(d.calls[0].arguments["minutes"]) is int  # 25.0 -> 25, the documented coercion
    assert codes(d) == ["passed"]
    assert d.confidence == 0.95 and d.proposal == proposal


def test_schema_invalid_escalates_never_calls(tools: Toolset) -> None:
    d = Policy().judge("weather in Paris in kelvin", prop(("get_weather", {"city": "Paris", "unit": "kelvin"})), tools)
    assert d.decision == "escalate" and d.calls == []
    assert "schema_invalid" in codes(d)
    assert "unit" in next(r.message for r in d.reasons if r.code == "schema_invalid")
    d = Policy().judge("timer for 9000 minutes", prop(("set_timer", {"minutes": 9000})), tools)
    assert d.decision == "escalate" and "schema_invalid" in codes(d)
    d = Policy().judge("weather in Paris", prop(("get_weather", {"city": "Paris", "zip": "75001"})), tools)
    assert d.decision == "escalate" and "schema_invalid" in codes(d)


def test_unknown_tool_escalates(tools: Toolset) -> None:
    d = Policy().judge("order a pizza", prop(("order_pizza", {})), tools)
    assert d.decision == "escalate" and codes(d) == ["unknown_tool"]
    assert d.reasons[0].tool == "order_pizza"


def test_low_confidence_global_and_per_tool(tools: Toolset) -> None:
    call = ("get_weather", {"city": "Paris"})
    d = Policy().judge("weather in Paris", prop(call, confidence=0.5), tools)
    assert d.decision == "escalate" and codes(d) == ["low_confidence"]
    strict_weather = Policy.load({"tool_min_confidence": {"get_*": 0.99}})
    d = strict_weather.judge("weather in Paris", prop(call, confidence=0.95), tools)
    assert d.decision == "escalate" and codes(d) == ["low_confidence"]
    assert d.reasons[0].tool == "get_weather"
    d = strict_weather.judge("timer 5 minutes", prop(("set_timer", {"minutes": 5}), confidence=0.95), tools)
    assert d.decision == "call"  # the glob does not touch other tools


def test_nan_confidence_is_not_confident(tools: Toolset) -> None:
    d = Policy().judge("weather in Paris", prop(("get_weather", {"city": "Paris"}), confidence=math.nan), tools)
    assert d.decision == "escalate" and "low_confidence" in codes(d)


def test_ambiguous_alternatives_escalate(tools: Toolset) -> None:
    p = prop(("get_weather", {"city": "Paris"}), alts=[("get_weather", 0.48), ("set_timer", 0.45)])
    d = Policy.load({"min_confidence": 0.0}).judge("weather in Paris", p, tools)
    assert d.decision == "escalate" and codes(d) == ["ambiguous"]
    clear = prop(("get_weather", {"city": "Paris"}), alts=[("get_weather", 0.9), (None, 0.05)])
    assert Policy().judge("weather in Paris", clear, tools).decision == "call"


def test_missing_required_clarifies_or_escalates(tools: Toolset) -> None:
    p = prop(("send_email", {"body": "hello"}))
    d = Policy().judge("email hello", p, tools)
    assert d.decision == "clarify" and d.missing == ["to"]
    assert codes(d) == ["missing_required"]
    # No call on a clarify (it would fail its schema); the partial call stays in the proposal.
    assert d.calls == [] and d.proposal.calls == [ToolCall(name="send_email", arguments={"body": "hello"})]
    d = Policy.preset("strict").judge("email hello", p, tools)
    assert d.decision == "escalate" and d.missing == ["to"] and d.calls == []


def test_missing_required_with_low_confidence_escalates(tools: Toolset) -> None:
    d = Policy().judge("email hello", prop(("send_email", {"body": "hello"}), confidence=0.4), tools)
    assert d.decision == "escalate" and set(codes(d)) == {"missing_required", "low_confidence"}


def test_ungrounded_strings_and_numbers_escalate(tools: Toolset) -> None:
    d = Policy().judge("what's the weather here?", prop(("get_weather", {"city": "Paris"})), tools)
    assert d.decision == "escalate" and codes(d) == ["ungrounded"]
    assert "city='Paris'" in d.reasons[0].message
    d = Policy().judge("set a timer for ten minutes", prop(("set_timer", {"minutes": 15})), tools)
    assert d.decision == "escalate" and codes(d) == ["ungrounded"]
    d = Policy().judge("book Chez Léa", prop(("book_table", {"restaurant": "Chez Lea", "date": "2025-01-01"})), tools)
    assert d.decision == "escalate", "accents are letters, not punctuation"


def test_grounding_is_case_space_punctuation_insensitive(tools: Toolset) -> None:
    d = Policy().judge("Weather in new   york, please", prop(("get_weather", {"city": "New-York"})), tools)
    assert d.decision == "call", d.reasons


def test_grounding_exemptions(tools: Toolset) -> None:
    # enum member ("celsius" is not in the text), date format, schema default
    args = {"restaurant": "Nopa", "date": "2025-06-01", "people": 2, "tags": ["quiet"]}
    d = Policy().judge("book Nopa tomorrow, somewhere quiet", prop(("book_table", args)), tools)
    assert d.decision == "call", d.reasons
    weather = prop(("get_weather", {"city": "Oslo", "unit": "celsius"}))
    assert Policy().judge("Oslo weather", weather, tools).decision == "call"
    # strict grounds dates and defaults too
    sure = prop(("book_table", args), confidence=0.99)
    d = Policy.preset("strict").judge("book Nopa tomorrow, somewhere quiet", sure, tools)
    assert d.decision == "escalate" and "ungrounded" in codes(d)
    msg = next(r.message for r in d.reasons if r.code == "ungrounded")
    assert "date=" in msg and "people=" in msg
    # arrays are checked item by item
    d = Policy().judge("book Nopa tomorrow", prop(("book_table", args)), tools)
    assert "tags[0]='quiet'" in d.reasons[0].message
    # per-tool, per-parameter opt-out
    email = prop(("send_email", {"to": "ann@example.com", "body": "Running late, sorry!"}))
    assert Policy().judge("tell ann@example.com I'm late", email, tools).decision == "escalate"
    exempt = Policy.load({"grounding_exempt": {"send_email": ["body"]}})
    assert exempt.judge("tell ann@example.com I'm late", email, tools).decision == "call"
    everything = Policy.load({"grounding_exempt": {"*": ["*"]}})
    assert everything.judge("weather here", prop(("get_weather", {"city": "Paris"})), tools).decision == "call"
    assert (
        Policy.load({"grounding": {"enabled": False}})
        .judge("weather here", prop(("get_weather", {"city": "Paris"})), tools)
        .decision
        == "call"
    )


def test_number_words_and_digits() -> None:
    assert numbers_in("twenty five") == {25.0}
    assert numbers_in("a hundred and five people") == {105.0}
    assert numbers_in("two thousand three hundred") == {2300.0}
    assert numbers_in("a dozen eggs") == {12.0}
    assert numbers_in("1,500 items at 2.5 each, 40% off") == {1500.0, 2.5, 40.0, 0.4}
    assert numbers_in("five five") == {5.0}
    assert numbers_in("a cat and a dog") == set()


def test_deny_and_allow_refuse(tools: Toolset) -> None:
    call = prop(("get_weather", {"city": "Paris"}))
    d = Policy.load({"deny": ["get_weather"]}).judge("weather in Paris", call, tools)
    assert d.decision == "refuse" and codes(d) == ["denied"] and d.calls == []
    d = Policy.load({"allow": ["set_timer"]}).judge("weather in Paris", call, tools)
    assert d.decision == "refuse" and codes(d) == ["not_allowed"]
    d = Policy.load({"allow": ["get_*"], "deny": ["get_weather"]}).judge("weather in Paris", call, tools)
    assert codes(d) == ["denied"], "deny wins over allow"
    # a denied tool proposed without confidence escalates: the teacher may choose another tool
    unsure = prop(("get_weather", {"city": "Paris"}), confidence=0.2)
    d = Policy.load({"deny": ["get_weather"]}).judge("weather in Paris", unsure, tools)
    assert d.decision == "escalate" and set(codes(d)) == {"denied", "low_confidence"}


def test_never_local_escalates(tools: Toolset) -> None:
    d = Policy.load({"never_local": ["delete_*"]}).judge("delete my account", prop(("delete_account", {})), tools)
    assert d.decision == "escalate" and codes(d) == ["never_local"]


def test_require_confirmation_marks_the_call(tools: Toolset) -> None:
    policy = Policy.load({"require_confirmation": ["delete_account"]})
    both = prop(("delete_account", {}), ("set_timer", {"minutes": 1}))
    d = policy.judge("delete my account", both, tools)
    assert d.decision == "escalate"  # "1" is not in the text: ungrounded
    d = policy.judge("delete my account, timer 1 min", both, tools)
    assert d.decision == "call"
    assert [c.requires_confirmation for c in d.calls] == [True, False]
    assert codes(d) == ["requires_confirmation", "passed"]


def test_empty_proposal_refuses_when_confident_else_escalates(tools: Toolset) -> None:
    d = Policy().judge("tell me a joke", prop(confidence=0.97), tools)
    assert d.decision == "refuse" and codes(d) == ["no_tool_fits"]
    d = Policy().judge("tell me a joke", prop(confidence=0.3), tools)
    assert d.decision == "escalate" and codes(d) == ["low_confidence"]
    d = Policy().judge("tell me a joke", prop(confidence=0.97, alts=[(None, 0.5), ("get_weather", 0.45)]), tools)
    assert d.decision == "escalate" and codes(d) == ["ambiguous"]


def test_parallel_calls_all_reasons_listed(tools: Toolset) -> None:
    p = prop(("get_weather", {"city": "Paris"}), ("set_timer", {"minutes": 9000}), ("nope", {}))
    d = Policy().judge("weather in Paris and a timer", p, tools)
    assert d.decision == "escalate"
    assert set(codes(d)) == {"schema_invalid", "unknown_tool", "ungrounded"}


def test_bad_query_type_is_a_typed_error(tools: Toolset) -> None:
    with pytest.raises(QueryError):
        Policy().judge(None, prop(), tools)  # type: ignore[arg-type]


def test_judge_is_thread_safe(tools: Toolset) -> None:
    policy = Policy()
    cases = [
        ("set a timer for 5 minutes", prop(("set_timer", {"minutes": 5})), "call"),
        ("weather here", prop(("get_weather", {"city": "Paris"})), "escalate"),
        ("email hi", prop(("send_email", {"body": "hi"})), "clarify"),
    ] * 50
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda c: policy.judge(c[0], c[1], tools).decision, cases))
    assert got == [c[2] for c in cases]


# ----- judge_escalation ----------------------------------------------------------------------------


def teacher(*calls: tuple[str, dict[str, Any]], **kw: Any) -> EscalationAnswer:
    return EscalationAnswer(outcome="calls", calls=[ToolCall(name=n, arguments=a) for n, a in calls], **kw)


def test_teacher_calls_pass_without_confidence_or_grounding_when_relaxed(tools: Toolset) -> None:
    usage = Usage(requests=1, prompt_tokens=100, output_tokens=10, total_tokens=110)
    local = prop(("get_weather", {"city": "London"}), confidence=0.1)
    relaxed = Policy.load({"teacher_grounding": False})
    d = relaxed.judge_escalation("weather here", teacher(("get_weather", {"city": "Paris"}), usage=usage), tools, local)
    assert d.decision == "call" and d.source == "gemini"
    assert d.calls == [ToolCall(name="get_weather", arguments={"city": "Paris"})]
    assert d.usage == usage and d.proposal == local and d.confidence == 0.1
    assert codes(d) == ["passed"]


def test_teacher_grounding_by_default_asks_for_made_up_values(tools: Toolset) -> None:
    # Issue 9.9: the teacher's invented values are not returned as a call by default.
    answer = teacher(("get_weather", {"city": "Paris"}))
    d = Policy().judge_escalation("weather here", answer, tools)
    assert d.decision == "clarify" and d.missing == ["city"] and "ungrounded" in codes(d) and d.calls == []


def test_teacher_revalidation_missing_deny_confirmation(tools: Toolset) -> None:
    d = Policy().judge_escalation("timer for 0 minutes", teacher(("set_timer", {"minutes": 0})), tools)
    assert d.decision == "refuse" and codes(d) == ["schema_invalid"] and d.calls == []
    d = Policy().judge_escalation("timer for 3 minutes", teacher(("set_timer", {"minutes": 3.0})), tools)
    assert d.decision == "call" and d.calls[0].arguments == {"minutes": 3}
    d = Policy().judge_escalation("email x", teacher(("send_email", {"body": "x"})), tools)
    assert d.decision == "clarify" and d.missing == ["to"] and d.calls == []
    email = teacher(("send_email", {"to": "a@b.co", "body": "x"}))
    d = Policy.load({"deny": ["send_*"]}).judge_escalation("email a@b.co x", email, tools)
    assert d.decision == "refuse" and codes(d) == ["denied"]
    only_timer = Policy.load({"allow": ["set_timer"]})
    d = only_timer.judge_escalation("weather in X", teacher(("get_weather", {"city": "X"})), tools)
    assert d.decision == "refuse" and codes(d) == ["not_allowed"]
    policy = Policy.load({"require_confirmation": ["delete_account"], "never_local": ["delete_account"]})
    d = policy.judge_escalation("delete it", teacher(("delete_account", {})), tools)
    assert d.decision == "call" and d.calls[0].requires_confirmation  # never_local binds only the local model
    d = Policy().judge_escalation("x", teacher(("launch_rocket", {})), tools)
    assert d.decision == "refuse" and codes(d) == ["unknown_tool"]
    d = Policy().judge_escalation("x", teacher(), tools)
    assert d.decision == "refuse" and codes(d) == ["no_tool_fits"]


def test_teacher_text_invalid_unavailable(tools: Toolset) -> None:
    their = [Reason(code="teacher_blocked", message="safety block")]
    d = Policy().judge_escalation("hi", EscalationAnswer(outcome="text", text="Hello there!"), tools)
    assert d.decision == "refuse" and codes(d) == ["teacher_text"] and "Hello there" in d.reasons[0].message
    d = Policy().judge_escalation("hi", EscalationAnswer(outcome="invalid", reasons=their), tools)
    assert d.decision == "refuse" and d.reason_codes() == ["teacher_invalid", "teacher_blocked"]
    d = Policy().judge_escalation("hi", EscalationAnswer(outcome="unavailable", reasons=their), tools)
    assert d.decision == "escalate" and d.reason_codes() == ["teacher_unavailable", "teacher_blocked"]
    assert d.source == "gemini"


# ----- escalation budget ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_budget_per_minute_window_slides() -> None:
    clock = FakeClock()
    budget = EscalationBudget(per_minute=2, per_day=None, clock=clock)
    assert budget.try_acquire() and budget.remaining() == {"minute": 1, "day": None}
    clock.now += 30
    assert budget.try_acquire()
    assert not budget.try_acquire() and budget.exhausted()
    assert budget.retry_after() == pytest.approx(30.0)
    clock.now += 30  # the first request leaves the window
    assert budget.try_acquire()
    assert not budget.try_acquire()


def test_budget_per_day_window() -> None:
    clock = FakeClock()
    budget = EscalationBudget(per_minute=10, per_day=3, clock=clock)
    for _ in range(3):
        assert budget.try_acquire()
        clock.now += 61
    assert not budget.try_acquire() and budget.remaining() == {"minute": 10, "day": 0}
    clock.now += 86_400 - 3 * 61 + 1
    assert budget.try_acquire() and budget.remaining()["day"] == 0
    budget.reset()
    assert budget.remaining() == {"minute": 10, "day": 3}


def test_budget_zero_and_invalid() -> None:
    budget = EscalationBudget(per_minute=0)
    assert not budget.try_acquire() and budget.retry_after() == math.inf
    with pytest.raises(PolicyError, match="per_minute"):
        EscalationBudget(per_minute=-1)


def test_budget_is_thread_safe() -> None:
    budget = EscalationBudget(per_minute=100, per_day=None, clock=FakeClock())
    wins: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            ok = budget.try_acquire()
            with lock:
                wins.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(wins) == 100


def test_policy_budget_is_shared_and_configured() -> None:
    policy = Policy.load({"escalation": {"budget_per_minute": 1, "budget_per_day": None}})
    assert policy.budget() is policy.budget()
    assert policy.budget().try_acquire() and not policy.budget().try_acquire()
    fresh = policy.new_budget(clock=FakeClock())
    assert fresh is not policy.budget() and fresh.try_acquire()


def test_without_escalation_applies_on_budget_exhausted(tools: Toolset) -> None:
    escalated = Policy().judge("weather here", prop(("get_weather", {"city": "Paris"})), tools)
    kept = Policy().without_escalation(escalated)
    assert kept.decision == "escalate" and kept.reason_codes()[-1] == "budget_exhausted"
    refusing = Policy.load({"escalation": {"on_budget_exhausted": "refuse"}})
    d = refusing.without_escalation(escalated, "escalation_disabled")
    assert d.decision == "refuse" and codes(d) == ["ungrounded", "escalation_disabled"]
    called = Policy().judge("weather in Paris", prop(("get_weather", {"city": "Paris"})), tools)
    assert refusing.without_escalation(called) == called


# ----- the invariant: nothing invalid is ever returned as a call --------------------------------

_NAMES = ["alpha", "beta", "gamma"]


@st.composite
def param_schema(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "enum", "array", "date"]))
    if kind == "string":
        schema: dict[str, Any] = {"type": "string"}
        if draw(st.booleans()):
            schema["maxLength"] = draw(st.integers(1, 5))
        if draw(st.booleans()):
            schema["pattern"] = "^[a-c]+$"
        return schema
    if kind in ("integer", "number"):
        lo = draw(st.integers(-5, 5))
        return {"type": kind, "minimum": lo, "maximum": lo + draw(st.integers(0, 10))}
    if kind == "enum":
        return {"type": "string", "enum": ["a", "b", "c"]}
    if kind == "array":
        return {"type": "array", "items": {"type": "integer"}, "maxItems": 2}
    if kind == "date":
        return {"type": "string", "format": "date"}
    return {"type": "boolean"}


@st.composite
def toolsets(draw: st.DrawFn) -> Toolset:
    out = []
    for name in draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3, unique=True)):
        params = draw(st.dictionaries(st.sampled_from(["p", "q", "r"]), param_schema(), max_size=3))
        required = draw(st.lists(st.sampled_from(sorted(params)), unique=True)) if params else []
        out.append(Tool(name, "", {"type": "object", "properties": params, "required": required}))
    return Toolset(out)


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-20, 20),
    st.floats(-20, 20),
    st.sampled_from([math.nan, math.inf, 3.0]),
    st.sampled_from(["a", "abc", "b", "zzzzzz", "2024-02-30", "2024-02-03", "3"]),
    st.lists(st.one_of(st.integers(-3, 3), st.floats(-3, 3), st.text(max_size=2)), max_size=3),
)


@st.composite
def fitting_value(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A value that usually satisfies `schema` (so "call" decisions are common), sometimes not."""
    if draw(st.integers(0, 9)) == 0:
        return draw(_values)
    kind = schema.get("type")
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    if schema.get("format") == "date":
        return "2024-02-03"
    if kind == "string":
        return draw(st.sampled_from(["a", "b", "abc"]))
    if kind in ("integer", "number"):
        value = draw(st.integers(schema["minimum"], schema["maximum"]))
        return float(value) if draw(st.booleans()) else value  # 3.0 for an integer is coerced
    if kind == "array":
        return draw(st.lists(st.integers(-3, 3), max_size=3))
    return draw(st.booleans())


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Toolset, list[ToolCall]]:
    toolset = draw(toolsets())
    calls = []
    for _ in range(draw(st.integers(1, 3))):
        name = "delta" if draw(st.integers(0, 9)) == 0 else draw(st.sampled_from(toolset.names))
        props = toolset[name].properties if name in toolset else {"p": {}}
        args = {k: draw(fitting_value(v)) for k, v in props.items() if draw(st.integers(0, 9))}
        if draw(st.integers(0, 9)) == 0:
            args["s"] = draw(_values)  # an argument no schema declares
        calls.append(ToolCall(name=name, arguments=args))
    return toolset, calls


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scenario=scenarios(),
    confidence=st.floats(0, 1),
    preset=st.sampled_from(["permissive", "default", "strict", "lax"]),
)
def test_property_call_decisions_always_validate(
    scenario: tuple[Toolset, list[ToolCall]], confidence: float, preset: str
) -> None:
    toolset, calls = scenario
    lax = {"min_confidence": 0.0, "ambiguity_margin": 0.0, "grounding": {"enabled": False}}
    policy = Policy.load(lax) if preset == "lax" else Policy.preset(preset)
    query = "a abc b 2024-02-03 " + " ".join(str(i) for i in range(-5, 16))
    proposal = Proposal(calls=calls, confidence=confidence)
    for d in (
        policy.judge(query, proposal, toolset),
        policy.judge_escalation(query, EscalationAnswer(outcome="calls", calls=calls), toolset),
    ):
        assert d.decision in ("call", "clarify", "refuse", "escalate")
        event(f"{d.source}:{d.decision}")
        if d.decision == "call":
            assert d.calls and len(d.calls) == len(calls)
            for call in d.calls:
                tool = toolset.get(call.name)
                assert tool is not None
                validator = Draft202012Validator(tool.parameters, format_checker=FormatChecker())
                assert list(validator.iter_errors(call.arguments)) == []
                assert set(call.arguments) <= set(tool.properties)
                json.dumps(call.arguments, allow_nan=False)  # real JSON: no NaN/Infinity


def test_property_generator_reaches_call_decisions() -> None:
    """Guard against a vacuous property: valid calls under the lax policy do become calls."""
    toolset = Toolset([Tool("alpha", "", {"type": "object", "properties": {"p": {"type": "number", "minimum": 0}}})])
    lax = Policy.load({"min_confidence": 0.0, "ambiguity_margin": 0.0, "grounding": {"enabled": False}})
    ok = lax.judge("q", Proposal(calls=[ToolCall(name="alpha", arguments={"p": 1})], confidence=0.0), toolset)
    bad = lax.judge("q", Proposal(calls=[ToolCall(name="alpha", arguments={"p": -1})], confidence=1.0), toolset)
    nan = lax.judge("q", Proposal(calls=[ToolCall(name="alpha", arguments={"p": math.nan})], confidence=1.0), toolset)
    assert (ok.decision, bad.decision, nan.decision) == ("call", "escalate", "escalate")
    assert "NaN" in nan.reasons[0].message


def test_context_facts_ground_values(tools: Toolset) -> None:
    here = prop(("get_weather", {"city": "Paris"}))
    assert Policy().judge("weather here", here, tools).decision == "escalate"
    d = Policy().judge("weather here", here, tools, context={"user": {"city": "Paris", "tz": "CET"}})
    assert d.decision == "call", d.reasons
    # facts are separate evidence: "here" + "Paris" must not ground "reparis"
    seam = prop(("get_weather", {"city": "reparis"}))
    assert Policy().judge("weather here", seam, tools, context={"city": "Paris"}).decision == "escalate"
    teacher_grounded = Policy.load({"teacher_grounding": True})
    answer = EscalationAnswer(outcome="calls", calls=here.calls)
    d = teacher_grounded.judge_escalation("weather here", answer, tools, context={"city": "Paris"})
    assert d.decision == "call"


def test_refusing_locally_has_its_own_higher_bar(tools: Toolset) -> None:
    """A wrong local refusal leaves the user with nothing and the teacher never asked: "no tool
    fits" needs refuse_min_confidence, not min_confidence."""
    nothing = Proposal(confidence=0.9)
    default = Policy()
    assert default.min_confidence < 0.9 < default.refuse_min_confidence
    d = default.judge("tell me a joke", nothing, tools)
    assert d.decision == "escalate" and d.reasons[0].code == "low_confidence"
    assert default.judge("tell me a joke", Proposal(confidence=0.99), tools).decision == "refuse"
    relaxed = Policy.load({"refuse_min_confidence": 0.85})
    assert relaxed.judge("tell me a joke", nothing, tools).decision == "refuse"
    assert Policy.preset("strict").refuse_min_confidence >= default.refuse_min_confidence


def test_teacher_names_of_0_1_0_still_work_with_a_warning(tools: Toolset) -> None:
    """"Teacher" now names the data generators; the escalation's 0.1.0 names warn and delegate."""
    import needle_router

    with pytest.warns(DeprecationWarning, match="EscalationAnswer"):
        assert needle_router.TeacherAnswer is EscalationAnswer  # type: ignore[attr-defined]
    answer = EscalationAnswer(outcome="text", text="Hello there!")
    with pytest.warns(DeprecationWarning, match="judge_escalation"):
        old = Policy().judge_teacher("hi", answer, tools)
    assert old == Policy().judge_escalation("hi", answer, tools)
    with pytest.raises(AttributeError):
        needle_router.NoSuchName  # type: ignore[attr-defined]  # noqa: B018
