"""How far two model bundles' proposals agree, on ONNX Runtime, over the same requests.

    python scripts/compare_bundles.py A B --data heldout.jsonl --every 3 --data ../shared/dev-suites

For two exports of the same weights (int8 against fp32 graphs, a new graph format against the
old) it says what a change of inference costs: the share of requests given the same calls, the
median and 90th-percentile gap between their confidences, and each side's exact-call rate. Each
--data is a JSONL file of gold records or a folder of them; --every N keeps every Nth record of
each file (`needle-router data written --out W --copies 0` writes the held-out records).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from needle_router.onnx_proposer import OnnxProposer
from needle_router.scoring.metrics import exact_correct


def load(paths: list[Path], every: int) -> list[dict]:
    records = []
    for path in paths:
        for f in sorted(path.glob("*.jsonl")) if path.is_dir() else [path]:
            lines = f.read_text().splitlines()
            records += [json.loads(line) for line in lines[::every] if line.strip()]
    return records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--data", type=Path, action="append", required=True)
    ap.add_argument("--every", type=int, default=1)
    args = ap.parse_args()
    a, b = OnnxProposer.load(args.a), OnnxProposer.load(args.b)
    groups: dict[str, list[dict]] = {}
    for rec in load(args.data, max(1, args.every)):  # one batch per toolset and context
        groups.setdefault(json.dumps([rec["tools"], rec.get("context")], sort_keys=True), []).append(rec)
    same, gaps, exact_a, exact_b = 0, [], 0, 0
    for recs in groups.values():
        queries, tools, ctx = [r["query"] for r in recs], recs[0]["tools"], recs[0].get("context")
        for rec, x, y in zip(recs, a.propose_batch(queries, tools, ctx), b.propose_batch(queries, tools, ctx),
                             strict=True):
            same += x.calls == y.calls
            gaps.append(abs(x.confidence - y.confidence))
            exact_a += exact_correct(rec, x.calls)
            exact_b += exact_correct(rec, y.calls)
    n = len(gaps)
    print(f"{n} requests: same calls {same / n:.1%}; confidence gap median {np.median(gaps):.4f}, "
          f"p90 {np.percentile(gaps, 90):.4f}; exact A {exact_a / n:.1%}, B {exact_b / n:.1%}")


if __name__ == "__main__":
    main()
