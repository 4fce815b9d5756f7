"""`bench`: latency and throughput of the local stage on this machine.

Measured, warm (after a few untimed requests), one request at a time: propose-only (the
proposer alone) and the full local route (proposer + policy through `Router.route`, escalation
off so the network never enters the figures); then batched throughput with `Router.route_batch`;
then memory: peak RSS of the process (ru_maxrss) and the Python-heap peak of a short traced
pass (tracemalloc, run separately so tracing does not slow the timed passes).

Requests are synthesised from the toolset itself (each tool's description and example argument
values), so any tools file can be benchmarked without a data set.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from needle_router.eval.report import percentile
from needle_router.proposer import Proposer
from needle_router.tools import Tool, Toolset

WARMUP = 5
TRACED = 20


def _example_value(schema: dict[str, Any], name: str) -> str:
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return str(schema["enum"][0])
    t = schema.get("type")
    t = t[0] if isinstance(t, list) and t else t
    if t == "integer":
        return str(int(schema.get("minimum", 3)) + 2)
    if t == "number":
        return "2.5"
    if t == "boolean":
        return "yes"
    if t == "array":
        return "apples and pears"
    return {"city": "Paris", "location": "Paris", "name": "Alex", "email": "alex@example.com"}.get(name, "Paris")


def synth_queries(toolset: Toolset, n: int) -> list[str]:
    """`n` requests cycling over the tools: description plus example values of each parameter."""
    if not len(toolset):
        return ["hello"] * n

    def one(tool: Tool, variant: int) -> str:
        desc = (tool.description or tool.name.replace("_", " ")).rstrip(".")
        params = list(tool.properties.items())[: 2 + variant % 2]
        args = ", ".join(f"{k.replace('_', ' ')} {_example_value(v, k)}" for k, v in params)
        return f"{desc}: {args}" if args else desc

    tools = list(toolset)
    return [one(tools[i % len(tools)], i // len(tools)) for i in range(n)]


def machine() -> dict[str, Any]:
    """CPU model, cores, Python and torch versions/threads."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # torch is a dependency, but the lexical baseline does not need it
        info["torch"] = None
    return info


def _timed(fn: Callable[[str], Any], queries: Sequence[str]) -> list[float]:
    out = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _summary(ms: Sequence[float]) -> dict[str, Any]:
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "mean_ms": sum(ms) / len(ms) if ms else None,
    }


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def bench(
    toolset_path: str | Path | Any,
    model: str | Path | Proposer | None = None,
    n: int = 200,
    batch: int = 32,
    *,
    threads: int | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Benchmark the local stage over the tools at `toolset_path`; print and return the figures."""
    from needle_router.policies import Policy
    from needle_router.router import Router, make_proposer

    if n < 1 or batch < 1:
        raise ValueError("n and batch must be at least 1")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    toolset = Toolset.load(toolset_path)
    proposer = make_proposer(model)
    policy = Policy.load(None)
    policy = policy.model_copy(update={"escalation": policy.escalation.model_copy(update={"enabled": False})})
    router = Router(toolset, proposer=proposer, policy=policy)
    queries = synth_queries(toolset, n)

    for q in queries[:WARMUP]:
        router.route(q)
    propose_ms = _timed(lambda q: proposer.propose(q, toolset), queries)
    route_ms = _timed(router.route, queries)

    done = 0
    t0 = time.perf_counter()
    while done < n:
        chunk = queries[done : done + batch]
        router.route_batch(chunk)
        done += len(chunk)
    elapsed = time.perf_counter() - t0

    tracemalloc.start()
    for q in queries[:TRACED]:
        router.route(q)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    result = {
        "machine": machine(),
        "proposer": getattr(proposer, "name", type(proposer).__name__),
        "tools": len(toolset),
        "propose_only": _summary(propose_ms),
        "route_local": _summary(route_ms),
        "batched": {
            "batch": batch,
            "requests": n,
            "seconds": elapsed,
            "requests_per_s": n / elapsed if elapsed > 0 else None,
            "native_batching": callable(getattr(proposer, "propose_batch", None)),
        },
        "memory": {"peak_rss_mb": _peak_rss_mb(), "python_heap_peak_mb": traced_peak / (1024 * 1024)},
    }
    print_bench(result, console or Console())
    return result


def print_bench(result: dict[str, Any], console: Console) -> None:
    m = result["machine"]
    t = Table(title=f"needle-router bench: {result['proposer']} over {result['tools']} tools")
    for col in ("path", "requests", "p50 ms", "p95 ms", "mean ms"):
        t.add_column(col, justify="left" if col == "path" else "right")
    paths = (("propose only (batch 1, warm)", "propose_only"), ("full local route (batch 1, warm)", "route_local"))
    for label, key in paths:
        s = result[key]
        t.add_row(label, str(s["n"]), f"{s['p50_ms']:.3f}", f"{s['p95_ms']:.3f}", f"{s['mean_ms']:.3f}")
    b = result["batched"]
    t.add_row(f"route_batch (batch {b['batch']})", str(b["requests"]), "-", "-",
              f"{1000 * b['seconds'] / b['requests']:.3f}")
    console.print(t)
    mem = result["memory"]
    console.print(
        f"throughput (route_batch): {b['requests_per_s']:.1f} requests/s"
        f"{'' if b['native_batching'] else ' (proposer has no propose_batch: routed one by one)'}\n"
        f"peak RSS: {mem['peak_rss_mb']:.1f} MB; Python heap peak while routing: {mem['python_heap_peak_mb']:.2f} MB\n"
        f"machine: {m['cpu']}, {m['usable_cores']}/{m['cores']} cores, Python {m['python']}, "
        f"torch {m.get('torch')} ({m.get('torch_threads')} threads)",
        highlight=False,
    )
