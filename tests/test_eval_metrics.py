"""Metrics and calibration on small cases whose answers are computed by hand in the comments."""

from __future__ import annotations

import pytest

from needle_router.data.records import normalize_record
from needle_router.errors import DataError
from needle_router.scoring.calibration import (
    expected_calibration_error,
    precision_coverage,
    recommend_threshold,
    reliability,
)
from needle_router.scoring.metrics import (
    accuracy_by_category,
    ast_correct,
    calls_equal,
    confusion_matrix,
    decision_right,
    exact_correct,
    is_right,
    router_metrics,
    tool_selection_correct,
    wrong_execution,
)
from needle_router.types import Decision, Proposal, ToolCall

TOOLS = [
    {"name": "get_weather", "description": "Weather.", "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "unit": {"type": "string"}}, "required": ["city"]}},
    {"name": "set_timer", "description": "Timer.", "parameters": {"type": "object", "properties": {
        "minutes": {"type": "integer"}}, "required": ["minutes"]}},
]


def tc(name: str, **args: object) -> ToolCall:
    return ToolCall(name=name, arguments=args)


def rec(category: str, expected: str, answers: list[dict] | None = None, **extra: object) -> dict:
    return normalize_record({"query": "q", "tools": TOOLS, "answers": answers or [], "category": category,
                             "expected": expected, **extra})


WEATHER = rec("single", "call", [{"name": "get_weather", "arguments": {"city": "Paris"}}])
TWO = rec("parallel", "call", [{"name": "get_weather", "arguments": {"city": "Paris"}},
                               {"name": "set_timer", "arguments": {"minutes": 5}}])
NONE = rec("irrelevant", "refuse")
MISSING = rec("missing", "clarify", [{"name": "set_timer", "arguments": {}}], missing=["minutes"])
AMBIG = rec("ambiguous", "escalate", acceptable=[[{"name": "get_weather", "arguments": {"city": "Paris"}}],
                                                 [{"name": "set_timer", "arguments": {"minutes": 5}}]])


# ------------------------------------------------------------------ equality and per-record correctness


def test_calls_equal_is_order_free_and_normalises_values() -> None:
    a = [tc("get_weather", city="Paris"), tc("set_timer", minutes=5)]
    assert calls_equal(a, list(reversed(a)))
    assert calls_equal([tc("set_timer", minutes=5)], [tc("set_timer", minutes=5.0)])  # 5 == 5.0
    assert calls_equal([tc("get_weather", city=" Paris ")], [tc("get_weather", city="Paris")])
    assert not calls_equal([tc("get_weather", city="paris")], [tc("get_weather", city="Paris")])  # case kept
    assert not calls_equal([tc("f", x=True)], [tc("f", x=1)])  # a bool is not a number
    assert not calls_equal(a, a[:1])
    assert not calls_equal(a + a[:1], a + a[1:])  # multisets, not sets


def test_tool_selection_ignores_arguments_but_not_the_tools() -> None:
    assert tool_selection_correct(WEATHER, [tc("get_weather", city="Rome")])
    assert not tool_selection_correct(WEATHER, [tc("set_timer", minutes=1)])
    assert not tool_selection_correct(WEATHER, [])
    assert tool_selection_correct(NONE, []) and not tool_selection_correct(NONE, [tc("get_weather", city="x")])
    assert tool_selection_correct(TWO, [tc("set_timer", minutes=9), tc("get_weather", city="x")])


def test_exact_and_ast_differ_on_normalisation_rules() -> None:
    loose = [tc("get_weather", city="PARIS")]
    assert not exact_correct(WEATHER, loose)  # exact keeps case
    assert ast_correct(WEATHER, loose)  # BFCL standardises strings
    assert exact_correct(WEATHER, [tc("get_weather", city="Paris")])
    assert not ast_correct(WEATHER, [tc("get_weather", city="Paris", unit="c")])  # unexpected parameter


def test_ambiguous_records_accept_any_acceptable_answer() -> None:
    assert exact_correct(AMBIG, [tc("set_timer", minutes=5)])
    assert exact_correct(AMBIG, [tc("get_weather", city="Paris")])
    assert not exact_correct(AMBIG, [tc("set_timer", minutes=6)])


def test_bfcl_records_are_judged_by_ast() -> None:
    bfcl = rec("simple_python", "call", [{"name": "set_timer", "arguments": {"minutes": 5}}],
               ground_truth=[{"set_timer": {"minutes": [5, 10]}}])
    assert is_right(bfcl, [tc("set_timer", minutes=10)])  # another allowed value
    assert not exact_correct(bfcl, [tc("set_timer", minutes=10)])
    relevance = rec("live_relevance", "call")
    assert is_right(relevance, [tc("get_weather", city="anything")]) and not is_right(relevance, [])


def test_accuracy_by_category_by_hand() -> None:
    records = [WEATHER, WEATHER, NONE, TWO]
    calls = [
        [tc("get_weather", city="Paris")],  # all right
        [tc("get_weather", city="paris")],  # tool right, exact wrong, ast right
        [tc("set_timer", minutes=1)],  # refuse wanted: all wrong
        [tc("set_timer", minutes=5), tc("get_weather", city="Paris")],  # all right
    ]
    acc = accuracy_by_category(records, calls)
    assert acc["single"] == {"n": 2, "tool_selection": 1.0, "exact": 0.5, "ast": 1.0}
    assert acc["irrelevant"] == {"n": 1, "tool_selection": 0.0, "exact": 0.0, "ast": 0.0}
    assert acc["overall"] == {"n": 4, "tool_selection": 0.75, "exact": 0.5, "ast": 0.75}
    assert list(acc)[-1] == "overall"
    with pytest.raises(ValueError):
        accuracy_by_category(records, calls[:2])


# ------------------------------------------------------------------ router metrics


def d(kind: str, calls: list[ToolCall] | None = None, source: str = "local", **kw: object) -> Decision:
    return Decision(decision=kind, source=source, calls=calls or [], **kw)


def test_decision_right_and_wrong_execution_rules() -> None:
    assert decision_right(WEATHER, d("call", [tc("get_weather", city="Paris")]))
    assert not decision_right(WEATHER, d("call", [tc("get_weather", city="Rome")]))
    assert wrong_execution(WEATHER, d("call", [tc("get_weather", city="Rome")]))
    assert decision_right(NONE, d("refuse")) and not decision_right(WEATHER, d("refuse"))
    assert wrong_execution(NONE, d("call", [tc("get_weather", city="Paris")]))  # call where none was wanted
    assert decision_right(MISSING, d("clarify", missing=["minutes"]))
    assert not decision_right(MISSING, d("clarify", missing=["city"]))  # asked for the wrong thing
    assert not decision_right(WEATHER, d("escalate")) and not wrong_execution(WEATHER, d("escalate"))
    assert not decision_right(WEATHER, d("call", [tc("get_weather", city="Paris")], source="gemini"))
    # An ambiguous request answered with an acceptable call is not right (it should escalate)
    # but is no wrong execution either; an unacceptable one is.
    assert not decision_right(AMBIG, d("call", [tc("set_timer", minutes=5)]))
    assert not wrong_execution(AMBIG, d("call", [tc("set_timer", minutes=5)]))
    assert wrong_execution(AMBIG, d("call", [tc("set_timer", minutes=7)]))


def test_router_metrics_by_hand() -> None:
    records = [WEATHER, WEATHER, NONE, MISSING, AMBIG]
    decisions = [
        d("call", [tc("get_weather", city="Paris")]),  # local, right
        d("call", [tc("get_weather", city="Rome")]),  # local, wrong execution
        d("refuse"),  # local, right
        d("escalate"),  # not local
        d("escalate"),  # not local
    ]
    proposals = [
        Proposal(calls=[tc("get_weather", city="Paris")], confidence=0.9),
        Proposal(calls=[tc("get_wether", city="Rome")], confidence=0.6),  # hallucinated tool name
        Proposal(confidence=0.8),
        None,
        Proposal(calls=[tc("set_timer")], confidence=0.3),
    ]
    m = router_metrics(records, decisions, proposals=proposals)
    assert m["n"] == 5 and m["local"] == 3 and m["escalated"] == 2
    assert m["coverage"] == pytest.approx(2 / 5)  # right and local
    assert m["local_precision"] == pytest.approx(2 / 3)
    assert m["wrong_execution_rate"] == pytest.approx(1 / 5) and m["wrong_executions"] == 1
    assert m["tool_hallucination_rate"] == pytest.approx(1 / 5)
    # Pass: the right local call (1 of the 2 weather requests); each no-call request passes when
    # nothing executes, escalated or not (NONE refused, MISSING and AMBIG escalated).
    assert m["pass_rate"] == pytest.approx(4 / 5)
    assert m["positive_coverage"] == pytest.approx(1 / 2)  # right local calls / requests wanting one
    assert m["confusion"]["call"] == {"call": 2, "clarify": 0, "refuse": 0, "escalate": 0}
    assert m["confusion"]["refuse"]["refuse"] == 1
    assert m["confusion"]["clarify"]["escalate"] == 1 and m["confusion"]["escalate"]["escalate"] == 1


def test_confusion_matrix_covers_all_four_decisions() -> None:
    cm = confusion_matrix([WEATHER, NONE], [d("clarify"), d("call", [tc("set_timer", minutes=1)])])
    assert set(cm) == set(cm["call"]) == {"call", "clarify", "refuse", "escalate"}
    assert cm["call"]["clarify"] == 1 and cm["refuse"]["call"] == 1
    assert sum(sum(row.values()) for row in cm.values()) == 2


def test_empty_inputs_give_none_not_a_crash() -> None:
    m = router_metrics([], [])
    assert m["coverage"] is None and m["local_precision"] is None


# ------------------------------------------------------------------ calibration


def test_ece_by_hand() -> None:
    # Bin [0.2, 0.3): confidences 0.2, 0.2, accuracy 1/2 -> |0.5 - 0.2| = 0.3, weight 2/5.
    # Bin [0.9, 1.0]: confidences 0.9, 0.9, 1.0 (mean 0.9333), accuracy 2/3 -> gap 0.2667, weight 3/5.
    conf = [0.2, 0.2, 0.9, 0.9, 1.0]
    right = [True, False, True, True, False]
    expected = 2 / 5 * 0.3 + 3 / 5 * abs(2 / 3 - (0.9 + 0.9 + 1.0) / 3)
    assert expected_calibration_error(conf, right, n_bins=10) == pytest.approx(expected)
    assert expected_calibration_error([1.0, 0.0], [True, False]) == pytest.approx(0.0)  # perfectly calibrated
    assert expected_calibration_error([], []) == 0.0


def test_reliability_bins() -> None:
    bins = reliability([0.05, 0.55, 0.56, 1.0], [False, True, False, True], n_bins=4)
    assert [b["count"] for b in bins] == [1, 0, 2, 1]
    assert bins[1]["accuracy"] is None and bins[1]["confidence"] is None
    assert bins[2]["accuracy"] == 0.5 and bins[2]["confidence"] == pytest.approx(0.555)
    assert bins[3]["upper"] == 1.0 and bins[3]["accuracy"] == 1.0  # 1.0 falls in the last bin
    with pytest.raises(ValueError):
        reliability([0.5], [True, False])


def test_precision_coverage_curve_by_hand() -> None:
    conf = [0.9, 0.8, 0.7, 0.6]
    right = [True, True, False, True]
    curve = {p["threshold"]: p for p in precision_coverage(conf, right)}
    assert curve[0.0]["answered"] == 4 and curve[0.0]["precision"] == 0.75 and curve[0.0]["coverage"] == 0.75
    assert curve[0.7]["answered"] == 3 and curve[0.7]["precision"] == pytest.approx(2 / 3)
    assert curve[0.8]["precision"] == 1.0 and curve[0.8]["coverage"] == 0.5
    grid = precision_coverage(conf, right, [0.95])
    assert grid == [{"threshold": 0.95, "answered": 0, "right": 0, "precision": None, "coverage": 0.0}]


def test_threshold_recommendation() -> None:
    conf = [0.9, 0.8, 0.7, 0.6]
    right = [True, True, False, True]
    rec_ = recommend_threshold(conf, right, target_precision=0.98)
    assert rec_["achieved"] and rec_["threshold"] == 0.8 and rec_["coverage"] == 0.5
    assert recommend_threshold(conf, right, 0.7)["threshold"] == 0.0  # everything answered is good enough
    miss = recommend_threshold([0.9, 0.5], [False, True], target_precision=0.99)
    assert not miss["achieved"] and miss["precision"] == 0.5  # best reachable point is reported
    assert recommend_threshold([], [])["threshold"] is None


# ------------------------------------------------------------------ records


def test_records_decode_json_string_fields_and_reject_bad_shapes() -> None:
    import json

    r = normalize_record({"query": "q", "tools": json.dumps(TOOLS), "answers": "[]", "category": "irrelevant"})
    assert r["tools"][0]["name"] == "get_weather" and r["answers"] == [] and r["expected"] == "refuse"
    for bad in ({"tools": TOOLS}, {"query": "q", "tools": TOOLS, "answers": [{"arguments": {}}]},
                {"query": "q", "tools": TOOLS, "expected": "maybe"}, {"query": "q", "tools": "{oops"}):
        with pytest.raises(DataError):
            normalize_record(bad)
