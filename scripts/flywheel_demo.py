"""The escalation flywheel on one toolset, end to end, with Gemini played by a local fake server.

    python scripts/flywheel_demo.py --tools examples/tools/openai.json --out flywheel-demo/

Round 0 is the starting bundle (the bundled default model). Each round k then:
  1. routes a stream of labelled requests (the synthetic teacher, a new seed per round) through a
     Router on the current bundle; what it escalates goes, through the REAL google-genai SDK
     (GEMINI_API_KEY=fake, GOOGLE_GEMINI_BASE_URL -> the fake), to a fake Gemini that answers
     each request with its gold call (or in text when no call is wanted);
  2. keeps every answer Gemini gave that the policy accepted as a training record: the routing
     policy sets `escalation_log:`, so the Router itself writes them;
  3. runs `distill --from-log` on the whole log so far, which replaces the bundle only if it is not
     worse on the acceptance suite.
It prints the suite figures per round (local coverage = requests answered locally AND right) and
writes flywheel.json and flywheel.png into --out.

The suite: --suite FILE (e.g. from `needle-router suite`), or one the synthetic teacher writes
with its own seed; it is never trained on (distill drops any request in it). Requests missing a
required value are in the stream too: Gemini's call without the value becomes a "missing" record
(the call the local model should propose so that the policy asks), never a refusal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the fake Gemini server the tests use

from fake_gemini import FakeGemini, RecordedRequest, Reply, candidate, response_body  # noqa: E402

from needle_router.data.records import load_records, query_key, write_records  # noqa: E402
from needle_router.data.teach import SyntheticTeacher  # noqa: E402
from needle_router.model.distill import (  # noqa: E402
    DEFAULT_BASE,
    distill,
    routed_model,
    suite_figures,
    teach_records,
)
from needle_router.policies import Policy  # noqa: E402
from needle_router.router import Router  # noqa: E402
from needle_router.tools import Toolset  # noqa: E402

SUITE_SEED = 9000
STREAM_SEED = 5000


# ---------------------------------------------------------------- Gemini, played by the fake


class GoldGemini:
    """Answers each request with its gold call(s), looked up by the request text."""

    def __init__(self) -> None:
        self.gold: dict[str, list[dict[str, Any]]] = {}
        self.asked = 0

    def add(self, records: list[dict[str, Any]]) -> None:
        for r in records:
            self.gold[query_key(r["query"])] = r["answers"] if r["expected"] == "call" else []

    def __call__(self, request: RecordedRequest) -> Reply:
        self.asked += 1
        text = query_key(" ".join(request.user_texts()))
        calls = self.gold.get(text)
        if calls is None:  # the query with something around it: find the known request inside
            calls = next((c for q, c in self.gold.items() if q and q in text), [])
        if calls:
            parts = [
                {"functionCall": {"name": c["name"], "args": c["arguments"], "id": f"c{i}"}}
                for i, c in enumerate(calls)
            ]
        else:
            parts = [{"text": "None of these tools does that."}]
        return Reply(body=response_body([candidate(parts)], prompt=300, output=20))


# ---------------------------------------------------------------- the demo


def stream_records(ts: Toolset, work: Path, per_tool: int, seed: int, unseen: set[str]) -> list[dict[str, Any]]:
    recs = teach_records(ts, SyntheticTeacher(), work, per_tool, seed, resume=False, progress=False).records
    return [r for r in recs if query_key(r["query"]) not in unseen]


def routing_policy(bundle: Path | None, log: Path) -> Policy:
    """The bundle's own policy (its calibrated threshold), with an escalation budget the stream
    cannot exhaust (the default 60 a minute would turn most of a fast stream into budget refusals)
    and `escalation_log: <log>`, which keeps Gemini's accepted answers as training records."""
    own = bundle / "policy.yaml" if bundle is not None else None
    base = Policy.load(own) if own is not None and own.is_file() else Policy.preset("default")
    data = base.model_dump()
    data["escalation"] = {**data["escalation"], "budget_per_minute": None, "budget_per_day": None}
    data["escalation_log"] = str(log)
    return Policy.model_validate(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tools", default=str(ROOT / "examples" / "tools" / "openai.json"))
    ap.add_argument("--suite", default=None, help="acceptance suite (default: a synthetic one, own seed)")
    ap.add_argument("--out", default="flywheel-demo")
    ap.add_argument("--base", default=None, help="starting bundle (default: the bundled default model)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--stream-per-tool", type=int, default=8, help="stream size per round (teacher per_tool)")
    ap.add_argument("--suite-per-tool", type=int, default=6)
    ap.add_argument("--budget-minutes", type=float, default=3.0, help="training cap per round")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ts = Toolset.load(args.tools)
    work = Path(tempfile.mkdtemp(prefix="flywheel-", dir=out))
    if args.suite:
        suite_path = Path(args.suite)
    else:
        suite_path = out / "suite.jsonl"
        recs = teach_records(
            ts, SyntheticTeacher(), work / "suite", args.suite_per_tool, SUITE_SEED, resume=False, progress=False
        ).records
        write_records(suite_path, [{**r, "tools": ts.to_list()} for r in recs])
    suite = load_records(suite_path)
    unseen = {query_key(r["query"]) for r in suite}

    fake = FakeGemini().start()
    fake.record = False
    gemini = GoldGemini()
    fake.default = gemini
    os.environ["GEMINI_API_KEY"] = "fake-demo-key"  # the router builds its real-SDK escalator from these
    os.environ["GOOGLE_GEMINI_BASE_URL"] = fake.url
    log = out / "escalations.jsonl"
    log.unlink(missing_ok=True)
    (out / "decisions.jsonl").unlink(missing_ok=True)

    bundle: Path | None = Path(args.base) if args.base else None
    if bundle is not None and not (bundle / "config.json").is_file():
        raise SystemExit(f"error: --base {bundle}: not a model bundle directory")
    rows: list[dict[str, Any]] = []
    try:
        proposer, policy = routed_model(bundle or DEFAULT_BASE, args.threads)
        fig = suite_figures(proposer, policy, ts, suite, "round 0", progress=True)
        rows.append(
            {
                "round": 0,
                "bundle": str(bundle or "default"),
                "stream": 0,
                "escalated": 0,
                "logged": 0,
                "log_total": 0,
                "replaced": None,
                **_pick(fig),
            }
        )
        log_total = 0
        for k in range(1, args.rounds + 1):
            start = time.perf_counter()
            stream = stream_records(ts, work / f"stream-{k}", args.stream_per_tool, STREAM_SEED + k, unseen)
            gemini.add(stream)
            router = Router(ts, model=str(bundle) if bundle else None, policy=routing_policy(bundle, log),
                            decision_log=out / "decisions.jsonl")  # for `needle-router report`
            routed = []
            for r in stream:
                ctx = r.get("context") if isinstance(r.get("context"), dict) else None
                routed.append((r["query"], ctx, router.route(r["query"], context=ctx)))
            escalated = sum(d.source == "gemini" for _, _, d in routed)
            before = log_total
            log_total = len(load_records(log)) if log.is_file() else 0
            logged = log_total - before
            print(
                f"round {k}: routed {len(stream)}, {escalated} answered by (fake) Gemini, {logged} logged"
                f" ({log_total} in the log)",
                file=sys.stderr,
            )
            new_dir = out / f"round-{k}"
            res = distill(
                ts.to_list(),
                new_dir,
                base=bundle,
                from_log=[log],
                suite=suite_path,
                budget_minutes=args.budget_minutes,
                seed=k,
                threads=args.threads,
                data_dir=work / f"distill-{k}",
                progress=True,
            )
            cmp = res.comparison or {}
            if res.replaced:
                bundle = new_dir
            fig = cmp.get("new") if res.replaced else cmp.get("old")
            rows.append(
                {
                    "round": k,
                    "bundle": str(bundle or "default"),
                    "stream": len(stream),
                    "escalated": escalated,
                    "logged": logged,
                    "log_total": log_total,
                    "replaced": res.replaced,
                    "train_steps": res.train.get("steps"),
                    "seconds": round(time.perf_counter() - start, 1),
                    **_pick(fig or {}),
                }
            )
    finally:
        fake.close()
        for var in ("GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
            os.environ.pop(var, None)

    (out / "flywheel.json").write_text(
        json.dumps({"tools": args.tools, "suite": str(suite_path), "suite_n": len(suite), "rounds": rows}, indent=2)
    )
    _print(rows, len(suite))
    _plot(rows, out / "flywheel.png", len(suite))
    print(f"wrote {out / 'flywheel.json'} and {out / 'flywheel.png'}")


def _pick(fig: dict[str, Any]) -> dict[str, Any]:
    keys = ("pass_rate", "coverage", "positive_coverage", "local_precision", "wrong_executions", "threshold")
    return {k: fig.get(k) for k in keys}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _print(rows: list[dict[str, Any]], n: int) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Flywheel: the acceptance suite ({n} requests) after each round")
    for col in (
        "round",
        "escalated / stream",
        "log",
        "bundle replaced",
        "threshold",
        "local coverage",
        "pos. coverage",
        "local prec.",
        "pass",
        "wrong exec.",
    ):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(
            str(r["round"]),
            f"{r['escalated']} / {r['stream']}" if r["round"] else "-",
            str(r["log_total"]) if r["round"] else "-",
            "-" if r["replaced"] is None else ("yes" if r["replaced"] else "no (worse)"),
            "-" if r["threshold"] is None else f"{r['threshold']:.3f}",
            _pct(r["coverage"]),
            _pct(r["positive_coverage"]),
            _pct(r["local_precision"]),
            _pct(r["pass_rate"]),
            str(r["wrong_executions"]),
        )
    Console(width=140).print(t)


def _plot(rows: list[dict[str, Any]], path: Path, n: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["round"] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    for key, label in (
        ("coverage", "local coverage"),
        ("pass_rate", "suite pass rate"),
        ("local_precision", "local precision"),
    ):
        ax.plot(xs, [100 * (r[key] or 0.0) for r in rows], marker="o", label=label)
    ax.set_xticks(xs)
    ax.set_xlabel("flywheel round (0 = before)")
    ax.set_ylabel("% of the suite" if n else "%")
    ax.set_ylim(0, 105)
    ax.set_title(f"Escalation flywheel, acceptance suite of {n}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
