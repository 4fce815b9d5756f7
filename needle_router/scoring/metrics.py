"""Accuracy and router metrics: pure functions over gold records and what the router did.

Gold records are normalised shared-format dicts (see `data/records.py`). "Right" for a list of calls:
- records with a BFCL `ground_truth`, or of a BFCL (ir)relevance category: BFCL's AST rules;
- records with `acceptable` (ambiguous): exactly equal to one of the acceptable call lists;
- otherwise: exactly equal to `answers` (order-free, values equal after normalisation).

Normalisation for exact equality: strings are stripped and inner runs of whitespace collapsed
(case is kept: identifiers and names are case-sensitive), ints equal floats of the same value,
booleans are not numbers, dicts compare by key, lists in order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from needle_router.scoring.bfcl_ast import (
    CallLike,
    as_pairs,
    check_calls,
    is_irrelevance,
    is_relevance,
    to_ground_truth,
)
from needle_router.types import Decision, Proposal

DECISIONS = ("call", "clarify", "refuse", "escalate")


# ---------------------------------------------------------------- normalisation and equality


def normalize_value(value: Any) -> Any:
    """A hashable, comparison-ready form of a JSON value (see module doc)."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, int | float):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return ("n", repr(value))
        return ("n", float(value))
    if isinstance(value, str):
        return ("s", " ".join(value.split()))
    if isinstance(value, Mapping):
        return ("d", tuple(sorted((str(k), normalize_value(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("l", tuple(normalize_value(v) for v in value))
    return ("o", repr(value))


def normalize_call(name: str, arguments: Mapping[str, Any]) -> tuple[str, Any]:
    return name, normalize_value(dict(arguments))


def calls_equal(a: Sequence[CallLike], b: Sequence[CallLike]) -> bool:
    """Order-free equality of two call lists after normalisation."""
    return Counter(normalize_call(n, x) for n, x in as_pairs(a)) == Counter(
        normalize_call(n, x) for n, x in as_pairs(b)
    )


def names_equal(a: Sequence[CallLike], b: Sequence[CallLike]) -> bool:
    return Counter(n for n, _ in as_pairs(a)) == Counter(n for n, _ in as_pairs(b))


# ---------------------------------------------------------------- per-record correctness


def _gold_sets(record: Mapping[str, Any]) -> list[list[Any]]:
    """Every call list that counts as right for the record."""
    acceptable = record.get("acceptable")
    if acceptable:
        return [list(group) for group in acceptable]
    if record.get("expected") == "refuse":
        return [[]]
    return [list(record.get("answers") or [])]


def uses_ast(record: Mapping[str, Any]) -> bool:
    cat = str(record.get("category", ""))
    return record.get("ground_truth") is not None or is_irrelevance(cat) or is_relevance(cat)


def tool_selection_correct(record: Mapping[str, Any], calls: Sequence[CallLike]) -> bool:
    """The right tools (as a multiset of names), whatever the arguments; no call for refusals."""
    cat = str(record.get("category", ""))
    if is_relevance(cat):
        return bool(calls)
    if is_irrelevance(cat):
        return not calls
    if record.get("ground_truth") is not None:
        gold_names = [next(iter(g)) for g in record["ground_truth"]]
        return Counter(n for n, _ in as_pairs(calls)) == Counter(gold_names)
    return any(names_equal(calls, gold) for gold in _gold_sets(record))


def exact_correct(record: Mapping[str, Any], calls: Sequence[CallLike]) -> bool:
    """Exactly the gold calls (order-free, normalised). BFCL relevance: any call."""
    cat = str(record.get("category", ""))
    if is_relevance(cat):
        return bool(calls)
    return any(calls_equal(calls, gold) for gold in _gold_sets(record))


def ast_correct(record: Mapping[str, Any], calls: Sequence[CallLike]) -> bool:
    """BFCL's AST rules; records without a ground truth use their answers as one."""
    cat = str(record.get("category", ""))
    if record.get("ground_truth") is not None or is_irrelevance(cat) or is_relevance(cat):
        return check_calls(calls, record.get("ground_truth"), cat, _plain_tools(record)).valid
    return any(
        check_calls(calls, to_ground_truth(gold), cat, _plain_tools(record)).valid
        for gold in _gold_sets(record)
    )


def is_right(record: Mapping[str, Any], calls: Sequence[CallLike]) -> bool:
    """The correctness a proposal's confidence is calibrated against (see module doc)."""
    return ast_correct(record, calls) if uses_ast(record) else exact_correct(record, calls)


def _plain_tools(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tools = record.get("tools") or []
    return [t for t in tools if isinstance(t, Mapping) and "parameters" in t] if isinstance(tools, list) else []


def hallucinated(calls: Sequence[CallLike], tool_names: Iterable[str]) -> bool:
    """Does any call name a tool that is not in the toolset?"""
    names = set(tool_names)
    return any(n not in names for n, _ in as_pairs(calls))


# ---------------------------------------------------------------- accuracy tables


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def accuracy_by_category(
    records: Sequence[Mapping[str, Any]], calls: Sequence[Sequence[CallLike]]
) -> dict[str, dict[str, Any]]:
    """Tool-selection, exact-call and BFCL-AST accuracy of proposed calls, per category and
    "overall": {category: {"n", "tool_selection", "exact", "ast"}}."""
    if len(records) != len(calls):
        raise ValueError("records and calls must align")
    tallies: dict[str, Counter[str]] = {}
    for rec, c in zip(records, calls, strict=True):
        for key in (str(rec.get("category", "uncategorised")), "overall"):
            t = tallies.setdefault(key, Counter())
            t["n"] += 1
            t["tool_selection"] += tool_selection_correct(rec, c)
            t["exact"] += exact_correct(rec, c)
            t["ast"] += ast_correct(rec, c)
    return {
        cat: {"n": t["n"], **{m: _ratio(t[m], t["n"]) for m in ("tool_selection", "exact", "ast")}}
        for cat, t in sorted(tallies.items(), key=lambda kv: (kv[0] == "overall", kv[0]))
    }


# ---------------------------------------------------------------- router metrics


def decision_right(record: Mapping[str, Any], decision: Decision) -> bool:
    """Did the router answer locally and correctly? Escalations are never "right" here."""
    if decision.source != "local":
        return False
    expected = record.get("expected")
    if decision.decision == "call":
        return expected == "call" and is_right(record, decision.calls)
    if decision.decision == "refuse":
        return expected == "refuse"
    if decision.decision == "clarify":
        wanted = set(record.get("missing") or [])
        return expected == "clarify" and wanted <= set(decision.missing)
    return False


def wrong_execution(record: Mapping[str, Any], decision: Decision) -> bool:
    """A local call that is wrong, or any local call where none was wanted. An ambiguous
    request answered with one of its acceptable calls is not a wrong execution."""
    if decision.decision != "call" or decision.source != "local":
        return False
    expected = record.get("expected")
    if expected == "call":
        return not is_right(record, decision.calls)
    if expected == "escalate":
        return not (record.get("acceptable") and is_right(record, decision.calls))
    return True  # refuse / clarify: no call was wanted (or it could not be complete)


def passes(record: Mapping[str, Any], decision: Decision) -> bool:
    """The suite-level pass: a request that wants a call passes only on a right local call; any
    other request passes when nothing executes (refusing, clarifying and escalating are all safe)."""
    if record.get("expected") == "call":
        return decision_right(record, decision)
    return not wrong_execution(record, decision)


def confusion_matrix(
    records: Sequence[Mapping[str, Any]], decisions: Sequence[Decision]
) -> dict[str, dict[str, int]]:
    """{expected: {decision: count}} over call/clarify/refuse/escalate."""
    matrix = {e: dict.fromkeys(DECISIONS, 0) for e in DECISIONS}
    for rec, d in zip(records, decisions, strict=True):
        matrix[str(rec.get("expected"))][d.decision] += 1
    return matrix


def router_metrics(
    records: Sequence[Mapping[str, Any]],
    decisions: Sequence[Decision],
    tool_names: Sequence[Iterable[str]] | None = None,
    proposals: Sequence[Proposal | None] | None = None,
) -> dict[str, Any]:
    """Pass rate (see `passes`), positive coverage (right local calls among requests that want a
    call), coverage (share of all requests answered locally AND right), local precision (right
    among local answers), wrong-execution rate (over all requests), the confusion matrix and
    the tool-hallucination rate of the proposals (calls naming a tool not in the toolset)."""
    if len(records) != len(decisions):
        raise ValueError("records and decisions must align")
    n = len(records)
    local = [d.source == "local" and d.decision != "escalate" for d in decisions]
    right = [decision_right(r, d) for r, d in zip(records, decisions, strict=True)]
    wrong = [wrong_execution(r, d) for r, d in zip(records, decisions, strict=True)]
    props = list(proposals) if proposals is not None else [d.proposal for d in decisions]
    names = (
        [set(t) for t in tool_names]
        if tool_names is not None
        else [{str(t.get("name")) for t in _plain_tools(r)} for r in records]
    )
    halluc = [
        p is not None and hallucinated(p.calls, nm) for p, nm in zip(props, names, strict=True)
    ]
    n_local = sum(local)
    wants_call = [r.get("expected") == "call" for r in records]
    return {
        "n": n,
        "local": n_local,
        "escalated": sum(d.decision == "escalate" for d in decisions),
        "pass_rate": _ratio(sum(passes(r, d) for r, d in zip(records, decisions, strict=True)), n),
        "positive_coverage": _ratio(sum(r and w for r, w in zip(right, wants_call, strict=True)), sum(wants_call)),
        "coverage": _ratio(sum(right), n),
        "local_precision": _ratio(sum(right), n_local),
        "wrong_execution_rate": _ratio(sum(wrong), n),
        "wrong_executions": sum(wrong),
        "tool_hallucination_rate": _ratio(sum(halluc), n),
        "confusion": confusion_matrix(records, decisions),
    }
