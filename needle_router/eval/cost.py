"""The cost counterfactual: what routing saved against sending every request to Gemini.

Reads decision lines (a Router's or `serve --decision-log`'s decision log: the Decision JSON plus
"ts" and "prompt_tokens_estimate"; or `predict` output: the plain Decision JSON) and compares what
was spent with what the same traffic would have cost had every locally answered request gone to
Gemini too.

- answered locally: source "local" and a final decision (call, clarify, refuse), except decisions
  the policy made only because Gemini could not be asked (reason budget_exhausted or
  escalation_disabled): those wanted Gemini and are counted as unanswered, not as savings.
- escalated: everything else; of it, "answered by Gemini" (source "gemini") and "unanswered".
- spent: the usage the decisions record. Avoided: one Gemini request per local answer, with its
  prompt tokens taken from the line's `prompt_tokens_estimate`, else the mean prompt tokens per
  Gemini request seen in the log, else `tokens_per_request`; its output tokens the mean output per
  Gemini request seen, else `output_tokens_per_request`, else 0 (said so in the report).
- cost: tokens / 1000 x the price per 1k tokens, input and output apart. The all-Gemini figure is
  what was spent plus what the local answers would have cost; unanswered requests are on neither
  side (routing did not answer them, so it saved nothing on them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from needle_router.data.records import read_jsonl
from needle_router.eval.prices import EXAMPLE_INPUT_PRICE_PER_1K, EXAMPLE_OUTPUT_PRICE_PER_1K
from needle_router.scoring.percentile import percentile
from needle_router.types import Decision

# Decisions the policy fell back to because Gemini could not be asked (policies/engine.py).
_NO_ESCALATION_CODES = frozenset(("budget_exhausted", "escalation_disabled"))
_MAX_BAD_SHOWN = 5


@dataclass(frozen=True)
class LoggedDecision:
    """One decision line: the decision and the per-request prompt estimate when the log has one."""

    decision: Decision
    prompt_tokens_estimate: int | None = None

    @property
    def answered_locally(self) -> bool:
        d = self.decision
        wanted_gemini = any(code in _NO_ESCALATION_CODES for code in d.reason_codes())
        return d.source == "local" and d.decision != "escalate" and not wanted_gemini

    @property
    def answered_by_gemini(self) -> bool:
        return self.decision.source == "gemini" and self.decision.decision != "escalate"


def read_decision_log(path: str | Path) -> tuple[list[LoggedDecision], list[str]]:
    """The decision lines of `path` and, for each line that is not one, "file:line: why" (a
    partial last line of a log being written, a `predict` error line, any other JSON)."""
    bad: list[str] = []
    out: list[LoggedDecision] = []
    for where, obj in read_jsonl(path, skip_bad=True, bad=bad):
        if not isinstance(obj, dict):
            bad.append(f"{where}: not a JSON object")
            continue
        if "decision" not in obj:
            why = f"error line: {str(obj['error'])[:80]}" if "error" in obj else "no 'decision' key"
            bad.append(f"{where}: {why}")
            continue
        estimate = obj.get("prompt_tokens_estimate")
        if estimate is not None and (isinstance(estimate, bool) or not isinstance(estimate, int) or estimate < 0):
            bad.append(f"{where}: prompt_tokens_estimate must be a non-negative integer")
            continue
        try:
            decision = Decision.model_validate(obj)  # extra keys ("ts", ...) are ignored
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "(line)"
            bad.append(f"{where}: not a decision: {loc}: {first['msg']}")
            continue
        out.append(LoggedDecision(decision, estimate))
    return out, bad


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def _latency(values: Sequence[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95)}


def _cost(prompt_tokens: float, output_tokens: float, input_price: float, output_price: float) -> float:
    return prompt_tokens / 1000 * input_price + output_tokens / 1000 * output_price


def cost_report(
    lines: Sequence[LoggedDecision],
    bad: Sequence[str] = (),
    *,
    input_price_per_1k: float = EXAMPLE_INPUT_PRICE_PER_1K,
    output_price_per_1k: float = EXAMPLE_OUTPUT_PRICE_PER_1K,
    tokens_per_request: int | None = None,
    output_tokens_per_request: int | None = None,
    gemini_latency_ms: float | None = None,
) -> dict[str, Any]:
    """The counterfactual report for decision lines (pure; see the module doc for every rule)."""
    n = len(lines)
    local = [x for x in lines if x.answered_locally]
    gemini = [x for x in lines if x.answered_by_gemini]
    unanswered = n - len(local) - len(gemini)
    spent = Counter[str]()
    for x in lines:
        u = x.decision.usage
        spent.update(
            requests=u.requests,
            prompt_tokens=u.prompt_tokens,
            output_tokens=u.output_tokens,
            total_tokens=u.total_tokens,
        )
    # Per Gemini request, not per decision: a decision may hold a retry or a repair request, and
    # a locally answered request would have needed at least one.
    mean_prompt = spent["prompt_tokens"] / spent["requests"] if spent["requests"] else None
    mean_output = spent["output_tokens"] / spent["requests"] if spent["requests"] else None

    prompt_basis = Counter[str]()
    avoided_prompt = 0.0
    for x in local:
        if x.prompt_tokens_estimate is not None:
            prompt_basis["prompt_tokens_estimate"] += 1
            avoided_prompt += x.prompt_tokens_estimate
        elif mean_prompt is not None:
            prompt_basis["mean_of_gemini_requests"] += 1
            avoided_prompt += mean_prompt
        elif tokens_per_request is not None:
            prompt_basis["--tokens-per-request"] += 1
            avoided_prompt += tokens_per_request
        else:
            prompt_basis["unknown (counted as 0)"] += 1
    if mean_output is not None:
        output_basis, per_output = "mean_of_gemini_requests", mean_output
    elif output_tokens_per_request is not None:
        output_basis, per_output = "--output-tokens-per-request", float(output_tokens_per_request)
    else:
        output_basis, per_output = "unknown (counted as 0)", 0.0
    avoided_output = per_output * len(local)

    spent_cost = _cost(spent["prompt_tokens"], spent["output_tokens"], input_price_per_1k, output_price_per_1k)
    avoided_cost = _cost(avoided_prompt, avoided_output, input_price_per_1k, output_price_per_1k)
    all_gemini = spent_cost + avoided_cost

    local_ms = [x.decision.latency_ms for x in local]
    gemini_ms = [x.decision.latency_ms for x in gemini]
    if gemini_latency_ms is not None:
        counterfactual = {"n": n, "p50": gemini_latency_ms, "p95": gemini_latency_ms, "basis": "--gemini-latency-ms"}
    else:
        counterfactual = {**_latency(gemini_ms), "n": n, "basis": "answered by Gemini in this log"}
    return {
        "requests": n,
        "bad_lines": len(bad),
        "bad_examples": list(bad[:_MAX_BAD_SHOWN]),
        "answered_locally": {"count": len(local), "share": _share(len(local), n)},
        "escalated": {"count": n - len(local), "share": _share(n - len(local), n)},
        "answered_by_gemini": {"count": len(gemini), "share": _share(len(gemini), n)},
        "unanswered": {"count": unanswered, "share": _share(unanswered, n)},
        "gemini_spent": {k: int(spent[k]) for k in ("requests", "prompt_tokens", "output_tokens", "total_tokens")},
        "gemini_avoided": {
            "requests": len(local),
            "prompt_tokens": round(avoided_prompt),
            "output_tokens": round(avoided_output),
            "total_tokens": round(avoided_prompt + avoided_output),
            "prompt_tokens_basis": dict(prompt_basis),
            "output_tokens_basis": output_basis,
        },
        "latency_ms": {"local": _latency(local_ms), "escalated": _latency(gemini_ms), "all_gemini": counterfactual},
        "cost": {
            "currency": "USD",
            "input_price_per_1k_tokens": input_price_per_1k,
            "output_price_per_1k_tokens": output_price_per_1k,
            "example_prices": (input_price_per_1k, output_price_per_1k)
            == (EXAMPLE_INPUT_PRICE_PER_1K, EXAMPLE_OUTPUT_PRICE_PER_1K),
            "spent": spent_cost,
            "all_gemini": all_gemini,
            "saved": avoided_cost,
            "saved_share": avoided_cost / all_gemini if all_gemini else None,
        },
    }


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def print_cost_report(report: Mapping[str, Any], console: Console) -> None:
    """Three short tables: traffic and tokens, latency, cost."""
    t = Table(title=f"Routing vs all-Gemini ({report['requests']} requests)")
    t.add_column("")
    for col in ("count", "share"):
        t.add_column(col, justify="right")
    for label, key in (
        ("answered locally", "answered_locally"),
        ("escalated", "escalated"),
        ("  answered by Gemini", "answered_by_gemini"),
        ("  unanswered", "unanswered"),
    ):
        t.add_row(label, str(report[key]["count"]), _pct(report[key]["share"]))
    console.print(t)
    tok = Table(title="Gemini usage")
    for col in ("", "requests", "prompt tokens", "output tokens"):
        tok.add_column(col, justify="left" if not col else "right")
    for label, key in (("spent", "gemini_spent"), ("avoided", "gemini_avoided")):
        row = report[key]
        tok.add_row(label, f"{row['requests']:,}", f"{row['prompt_tokens']:,}", f"{row['output_tokens']:,}")
    console.print(tok)
    lat = Table(title="Latency (ms)")
    for col in ("path", "n", "p50", "p95"):
        lat.add_column(col, justify="left" if col == "path" else "right")
    for label, key in (("local", "local"), ("escalated", "escalated"), ("all-Gemini (est.)", "all_gemini")):
        row = report["latency_ms"][key]
        lat.add_row(label, str(row["n"]), _ms(row["p50"]), _ms(row["p95"]))
    console.print(lat)
    c = report["cost"]
    prices = f"${c['input_price_per_1k_tokens']}/1k input, ${c['output_price_per_1k_tokens']}/1k output"
    lines = [
        f"cost ({'example prices: ' if c['example_prices'] else ''}{prices}): spent ${c['spent']:.4f}, "
        f"all-Gemini ${c['all_gemini']:.4f}, saved ${c['saved']:.4f} ({_pct(c['saved_share'])})",
    ]
    avoided = report["gemini_avoided"]
    basis = ", ".join(f"{k} x{v}" for k, v in avoided["prompt_tokens_basis"].items()) or "-"
    lines.append(f"avoided tokens from: prompt {basis}; output {avoided['output_tokens_basis']}")
    if report["unanswered"]["count"]:
        lines.append(
            f"{report['unanswered']['count']} unanswered request(s) (escalation off or its budget spent) are left "
            "out of both sides"
        )
    if report["bad_lines"]:
        lines.append(f"skipped {report['bad_lines']} line(s) that are not decisions, e.g. {report['bad_examples'][0]}")
    console.print("\n".join(lines), highlight=False)
