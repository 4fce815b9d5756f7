"""Route latency of a NeedleProposer, with and without the per-toolset tool-encoding cache.

    python -m needle_router.model.bench BUNDLE [--tools examples/tools/openai.json] [--repeats 50]

The default toolset is the repository's five example tools, the size the latency target is stated for.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from needle_router.model.proposer import NeedleProposer
from needle_router.tools import Toolset

QUERIES = [
    "what's the weather in Paris in celsius",
    "set a timer for 25 minutes",
    "email Bob about the budget",
    "play Hey Jude at volume 4",
    "tell me a joke",
]

def measure(proposer: NeedleProposer, toolset: Toolset, queries: list[str], repeats: int) -> dict[str, Any]:
    """p50/p90 milliseconds per propose(), with the tool cache warm and with it cleared."""
    proposer.propose(queries[0], toolset)  # warm-up (allocations, first-call overheads)
    out: dict[str, Any] = {"tools": len(toolset), "repeats": repeats}
    for label, clear in (("cached", False), ("uncached", True)):
        times = []
        for i in range(repeats):
            q = queries[i % len(queries)]
            if clear:
                proposer._cache.clear()
            t = time.perf_counter()
            proposer.propose(q, toolset)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[f"{label}_p50_ms"] = round(statistics.median(times), 2)
        out[f"{label}_p90_ms"] = round(times[int(0.9 * (len(times) - 1))], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--tools", type=Path, default=Path("examples/tools/openai.json"), help="any supported format")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    proposer = NeedleProposer.load(args.bundle, threads=args.threads)
    toolset = Toolset.load(args.tools)
    print(json.dumps(measure(proposer, toolset, QUERIES, args.repeats), indent=2))


if __name__ == "__main__":
    main()
