"""Time and memory of one route over large toolsets, with and without the tool cap.

    python examples/tool_cap_bench.py 100 1000 10000        # capped (Router default max_tools)
    python examples/tool_cap_bench.py --no-cap 100 1000

Each size runs in a fresh process (peak RSS is per process). The toolset is the five example tools
plus N-5 generated ones; the first route pays for ranking (every tool's retrieval embedding, once
per toolset), the warm routes show the steady state. Escalation is off.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time


def filler(n: int) -> list[dict]:
    nouns = ["invoice", "ticket", "playlist", "garden", "printer", "contract", "parcel", "recipe", "meeting", "badge"]
    verbs = ["archive", "rename", "audit", "export", "inspect", "merge", "tag", "schedule", "share", "verify"]
    return [
        {
            "name": f"{verbs[(i // 10) % 10]}_{nouns[i % 10]}_{i}",
            "description": f"{verbs[(i // 10) % 10].capitalize()} a {nouns[i % 10]} record number {i}.",
            "parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        }
        for i in range(n)
    ]


def one(n: int, cap: bool) -> dict:
    from needle_router import Router, Toolset

    tools = [*Toolset.load("examples/tools/openai.json").to_list(), *filler(n - 5)]
    t0 = time.perf_counter()
    router = Router(tools, policy={"escalation": {"enabled": False}}, **({} if cap else {"max_tools": None}))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = router.route("set a timer for 25 minutes")
    first_s = time.perf_counter() - t0
    warm = []
    for q in ["what's the weather in Paris?", "set a timer for 10 minutes", "play some jazz", "hello there",
              "send a message to Bob saying hi"]:
        t0 = time.perf_counter()
        router.route(q)
        warm.append(time.perf_counter() - t0)
    return {
        "tools": n, "cap": router.max_tools if cap else None, "load_s": round(load_s, 2),
        "first_route_s": round(first_s, 2), "warm_route_ms_p50": round(statistics.median(warm) * 1000, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "first_call": [c.name for c in first.calls],
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--one":
        print(json.dumps(one(int(args[1]), args[2] == "cap")))
        sys.exit(0)
    cap = "--no-cap" not in args
    for n in [int(a) for a in args if a.isdigit()]:
        res = subprocess.run([sys.executable, __file__, "--one", str(n), "cap" if cap else "nocap"],
                             capture_output=True, text=True)
        print(res.stdout.strip() or res.stderr.strip().splitlines()[-1])
