"""`check`: run an acceptance suite (data/suite.py) through the router's local stage and grade it.

    report = check_suite("suite.jsonl", "tools.json", model="lexical", min_pass=0.9)
    report["ok"], report["pass_rate"], report["wrong_executions"]

The cases are routed over the CURRENT tools (not the copy inside the suite), with the proposer and
policy a `Router` would pick for the same `model` and `policy` (a bundle's own policy.yaml when no
policy is given), and never escalated: like `eval`, this grades what runs locally. Each case
passes or fails by `scoring.metrics.passes` (a case that wants a call passes only on the right
local call; any other passes when nothing executes), and everything else comes from the scorer
too (`router_metrics`, `wrong_execution`), so `check` and `eval` give the same figures on one
file. `ok` is pass rate >= `min_pass`: the command exits 1 otherwise, so it can gate CI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from needle_router._types import PolicyLike, ToolsLike
from needle_router.data.records import calls_of, load_records
from needle_router.data.suite import case_problem
from needle_router.errors import DataError
from needle_router.eval.report import run_records
from needle_router.scoring.metrics import passes, router_metrics, wrong_execution
from needle_router.tools import Toolset
from needle_router.types import Decision, Proposal

NO_TOOL = "(none)"  # the by-tool row of cases written for no tool (irrelevant requests)


def case_tool(record: Mapping[str, Any]) -> str:
    """The tool a case is about: its `tool` field (suites made by `suite`), else the first tool
    its labelled calls name (hand-written suites), else NO_TOOL."""
    if "tool" in record:
        return str(record["tool"]) if record["tool"] else NO_TOOL
    for field in ("answers", "violation"):
        calls = calls_of(record.get(field))
        if calls:
            return calls[0][0]
    return NO_TOOL


def _rows(
    records: Sequence[Mapping[str, Any]],
    decisions: Sequence[Decision],
    names: Sequence[set[str]],
    proposals: Sequence[Proposal],
    passed: Sequence[bool],
    key: Callable[[Mapping[str, Any]], str],
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[int]] = {}
    for i, rec in enumerate(records):
        groups.setdefault(key(rec), []).append(i)
    out = {}
    for group, idx in sorted(groups.items(), key=lambda kv: (kv[0] == NO_TOOL, kv[0])):
        m = router_metrics(
            [records[i] for i in idx], [decisions[i] for i in idx], [names[i] for i in idx], [proposals[i] for i in idx]
        )
        ok = sum(passed[i] for i in idx)
        out[group] = {
            "n": len(idx),
            "passed": ok,
            "failed": len(idx) - ok,
            "pass_rate": m["pass_rate"],
            "wrong_executions": m["wrong_executions"],
            "escalated": m["escalated"],
        }
    return out


def _wrong(record: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    return {
        "query": record["query"],
        "category": record.get("category"),
        "tool": case_tool(record),
        "expected": {
            "decision": record.get("expected"),
            "calls": record.get("answers") or [],
            **({"missing": record["missing"]} if record.get("missing") else {}),
        },
        "got": [c.model_dump(mode="json") for c in decision.calls],
        "confidence": round(float(decision.confidence), 4),
    }


def check_suite(
    suite_path: str | Path,
    tools: ToolsLike,
    *,
    model: str | Path | None = None,
    policy: PolicyLike | None = None,
    min_pass: float = 0.0,
    on_step: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Route every case of the suite at `suite_path` over `tools` (no escalation) and grade it
    (see the module doc). `on_step` is called once per case."""
    from needle_router.router import Router

    if not 0.0 <= min_pass <= 1.0:
        raise DataError(f"min_pass must be between 0 and 1, not {min_pass}")
    records = load_records(suite_path)
    if not records:
        raise DataError(f"{str(suite_path)!r} holds no cases")
    toolset = Toolset.load(tools)
    tools_list = toolset.to_list()
    cases = [{**r, "tools": tools_list} for r in records]
    router = Router(toolset, model=model, policy=policy)  # the proposer and policy routing would use
    kept, proposals, decisions, names, _, skipped = run_records(cases, router.proposer, router.policy, on_step)
    passed = [passes(r, d) for r, d in zip(kept, decisions, strict=True)]
    overall = router_metrics(kept, decisions, names, proposals)
    stale = [(r, why) for r in kept if (why := case_problem(r, toolset)) is not None]
    pass_rate = overall["pass_rate"] or 0.0
    return {
        "suite": str(suite_path),
        "n": len(kept),
        "passed": sum(passed),
        "pass_rate": pass_rate,
        "min_pass": min_pass,
        "ok": pass_rate >= min_pass,
        "by_category": _rows(kept, decisions, names, proposals, passed, lambda r: str(r.get("category"))),
        "by_tool": _rows(kept, decisions, names, proposals, passed, case_tool),
        "wrong_executions": [_wrong(r, d) for r, d in zip(kept, decisions, strict=True) if wrong_execution(r, d)],
        "router": overall,
        "stale": len(stale),
        "stale_examples": [f"{r['query'][:60]!r}: {why}" for r, why in stale[:5]],
        "meta": {
            "model": "default" if model is None else str(model),
            "proposer": getattr(router.proposer, "name", type(router.proposer).__name__),
            "policy": "default" if policy is None else str(policy) if isinstance(policy, str | Path) else "custom",
            "policy_min_confidence": router.policy.min_confidence,
            "skipped": skipped,
            "escalation": "off (check grades the local stage; nothing is sent to Gemini)",
        },
    }


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _calls_text(calls: Sequence[Mapping[str, Any]]) -> str:
    import json

    return "; ".join(f"{c['name']} {json.dumps(c.get('arguments', {}), ensure_ascii=False)}" for c in calls)


def _expected_text(expected: Mapping[str, Any]) -> str:
    if expected.get("decision") == "call":
        return "call " + _calls_text(expected.get("calls") or [])
    if expected.get("decision") == "clarify":
        return "clarify (missing " + ", ".join(expected.get("missing") or []) + ")"
    return str(expected.get("decision"))


def print_check(report: Mapping[str, Any], console: Console) -> None:
    """The pass/fail tables by category and by tool, each wrong execution, and the verdict."""
    for title, rows, label in (
        ("By category", report["by_category"], "category"),
        ("By tool", report["by_tool"], "tool"),
    ):
        t = Table(title=title)
        for col in (label, "n", "pass", "fail", "pass rate", "wrong exec.", "escalated"):
            t.add_column(col, justify="left" if col == label else "right", no_wrap=col == label)
        for name, r in rows.items():
            t.add_row(
                name,
                str(r["n"]),
                str(r["passed"]),
                str(r["failed"]),
                _pct(r["pass_rate"]),
                str(r["wrong_executions"]),
                str(r["escalated"]),
            )
        console.print(t)
    wrong = report["wrong_executions"]
    if wrong:
        t = Table(title=f"Wrong executions ({len(wrong)}): calls that ran and should not have")
        for col in ("query", "expected", "got", "conf."):
            t.add_column(col, justify="right" if col == "conf." else "left")
        for w in wrong:
            t.add_row(w["query"], _expected_text(w["expected"]), _calls_text(w["got"]), f"{w['confidence']:.2f}")
        console.print(t)
    else:
        console.print("no wrong executions", highlight=False)
    if report["stale"]:
        console.print(
            f"warning: {report['stale']} case(s) no longer fit these tools (they changed after the suite was "
            f"written; regenerate it), e.g. {report['stale_examples'][0]}",
            highlight=False,
        )
    verdict = "PASS" if report["ok"] else "FAIL"
    console.print(
        f"pass rate {_pct(report['pass_rate'])} ({report['passed']}/{report['n']}), "
        f"bar {_pct(report['min_pass'])}: {verdict}",
        highlight=False,
    )
