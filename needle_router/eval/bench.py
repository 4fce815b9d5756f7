"""`bench`: latency and throughput of the local stage on this machine.

Measured, warm (after a few untimed requests), one request at a time: propose-only (the
proposer alone) and the full local route (proposer + policy through `Router.route`, escalation
off so the network never enters the figures); then batched throughput with `Router.route_batch`
(the median of BATCH_PASSES passes); then memory: the process's RSS once warm (after the batch-1
runs: the router as it serves one request at a time), its peak RSS (ru_maxrss: loading and
batches included) and the Python-heap peak of a short traced pass (tracemalloc, run separately
so tracing does not slow the timed passes).

Requests are synthesised from the toolset itself (each tool's description and example argument
values), so any tools file can be benchmarked without a data set.

`compare` runs `bench` once per inference path (ONNX Runtime, torch, the lexical baseline), each in
a fresh process (`python -m needle_router.eval.bench`), so that each path's RSS is its own: a
torch import alone adds some 200 MB, which would otherwise be charged to every path after it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needle_router.proposer import Proposer
from needle_router.scoring.percentile import percentile
from needle_router.tools import Tool, Toolset

# rich is imported where a table is printed: a measured path's process (`main`) prints JSON, and
# its memory figures are the router's, not the report's (rich: 3 MB).
if TYPE_CHECKING:
    from rich.console import Console

WARMUP = 5
TRACED = 20
BATCH_PASSES = 3  # batched throughput: the median pass


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
        "load_avg": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    # Versions from the installed metadata: importing torch here would charge its memory to paths
    # that never use it.
    for dist in ("torch", "onnxruntime"):
        try:
            info[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            info[dist] = None
    if "torch" in sys.modules:
        info["torch_threads"] = sys.modules["torch"].get_num_threads()
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


def _rss_now_mb() -> float | None:
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def bench(
    toolset_path: str | Path | Any,
    model: str | Path | Proposer | None = None,
    n: int = 200,
    batch: int = 32,
    *,
    threads: int | None = None,
    backend: str | None = None,
    console: Console | None = None,
    show: bool = True,
) -> dict[str, Any]:
    """Benchmark the local stage over the tools at `toolset_path`; print (unless `show` is False)
    and return the figures. `backend`: onnx or torch for a model bundle (see router.make_proposer)."""
    from needle_router.policies import Policy
    from needle_router.router import Router, make_proposer

    if n < 1 or batch < 1:
        raise ValueError("n and batch must be at least 1")
    toolset = Toolset.load(toolset_path)
    proposer = make_proposer(model, backend, threads=threads)
    policy = Policy.load(None)
    policy = policy.model_copy(update={"escalation": policy.escalation.model_copy(update={"enabled": False})})
    router = Router(toolset, proposer=proposer, policy=policy)
    queries = synth_queries(toolset, n)

    for q in queries[:WARMUP]:
        router.route(q)
    # Interleaved, request by request: on a machine whose load changes (other processes, frequency
    # scaling), two separate passes would charge the change to whichever path ran second.
    propose_ms, route_ms = [], []
    for q in queries:
        propose_ms += _timed(lambda q: proposer.propose(q, toolset), [q])
        route_ms += _timed(router.route, [q])
    warm_rss = _rss_now_mb()  # the router constructed and warm, as it serves one request at a time

    # The median of a few passes: one pass of 200 requests lasts well under a second, and on a
    # shared machine a single pass moved by a quarter between runs.
    passes = []
    for _ in range(BATCH_PASSES):
        done = 0
        t0 = time.perf_counter()
        while done < n:
            chunk = queries[done : done + batch]
            router.route_batch(chunk)
            done += len(chunk)
        passes.append(time.perf_counter() - t0)
    elapsed = sorted(passes)[len(passes) // 2]

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
            "passes": len(passes),
            "seconds": elapsed,  # the median pass
            "requests_per_s": n / elapsed if elapsed > 0 else None,
            "requests_per_s_passes": [n / t if t > 0 else None for t in passes],
            "native_batching": callable(getattr(proposer, "propose_batch", None)),
        },
        "memory": {"peak_rss_mb": _peak_rss_mb(), "warm_rss_mb": warm_rss, "rss_mb": _rss_now_mb(),
                   "python_heap_peak_mb": traced_peak / (1024 * 1024)},
        "backend": "lexical" if model == "lexical" else type(proposer).__name__,
        "torch_loaded": "torch" in sys.modules,
    }
    result["machine"] = machine()  # after the runs: torch's thread count, when it was loaded
    inner = getattr(proposer, "model", None)
    result["machine"]["threads"] = (getattr(inner, "threads", None) or result["machine"].get("torch_threads")
                                    if model != "lexical" else 1)
    if show:
        print_bench(result, console or _console())
    return result


def _console() -> Console:
    from rich.console import Console

    return Console()


def print_bench(result: dict[str, Any], console: Console) -> None:
    from rich.table import Table

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
        f"RSS warm (after the batch-1 runs): {_mb(mem.get('warm_rss_mb'))}; peak RSS (loading and batches "
        f"included): {mem['peak_rss_mb']:.1f} MB; Python heap peak while routing: {mem['python_heap_peak_mb']:.2f} MB\n"
        f"machine: {_machine_line(m)}",
        highlight=False,
    )


def _mb(value: float | None, unit: bool = True) -> str:
    """A memory figure, or "-" where this platform has no /proc (the warm RSS)."""
    return "-" if value is None else f"{value:.1f} MB" if unit else f"{value:.0f}"


def _machine_line(m: dict[str, Any]) -> str:
    load = f", load average {' '.join(str(x) for x in m['load_avg'])}" if m.get("load_avg") else ""
    return (f"{m['cpu']}, {m['usable_cores']}/{m['cores']} cores{load}, {m['platform']}, Python {m['python']}, "
            f"onnxruntime {m.get('onnxruntime')}, torch {m.get('torch')}")


PATHS = {  # label -> (model override, backend)
    "onnx": (None, "onnx"),
    "torch": (None, "torch"),
    "lexical": ("lexical", None),
}


def compare(
    toolset_path: str | Path,
    model: str | None = None,
    n: int = 200,
    batch: int = 32,
    *,
    backends: Sequence[str] = ("onnx", "torch", "lexical"),
    threads: int | None = None,
    console: Console | None = None,
    timeout_s: float = 1800,
    show: bool = True,
) -> dict[str, Any]:
    """`bench` for each path in its own process; prints one table (unless `show` is False) and
    returns every result."""
    results: dict[str, Any] = {}
    for name in backends:
        if name not in PATHS:
            raise ValueError(f"unknown path {name!r} ({', '.join(PATHS)})")
        override, backend = PATHS[name]
        cmd = [sys.executable, "-m", "needle_router.eval.bench", "--tools", str(toolset_path), "--n", str(n),
               "--batch", str(batch)]
        if override or model:
            cmd += ["--model", str(override or model)]
        if backend:
            cmd += ["--backend", backend]
        if threads:
            cmd += ["--threads", str(threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        if proc.returncode != 0:
            results[name] = {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
            continue
        results[name] = json.loads(proc.stdout)
    out = {"machine": machine(), "model": model or "default", "paths": results}
    if show:
        print_compare(out, console or _console())
    return out


def print_compare(out: dict[str, Any], console: Console) -> None:
    from rich.table import Table

    any_result = next((r for r in out["paths"].values() if "error" not in r), None)
    tools = f" over {any_result['tools']} tools" if any_result else ""
    t = Table(title=f"needle-router bench: model {out['model']}{tools}, warm")
    for col in ("path", "route p50 / p95 ms", "propose p50 / p95 ms", "route_batch routes/s",
                "RSS warm / peak MB", "torch loaded"):
        t.add_column(col, justify="left" if col == "path" else "right")
    for name, r in out["paths"].items():
        if "error" in r:
            t.add_row(name, "-", "-", "-", "-", f"failed: {r['error']}"[:60])
            continue
        rl, po, b = r["route_local"], r["propose_only"], r["batched"]
        t.add_row(name, f"{rl['p50_ms']:.2f} / {rl['p95_ms']:.2f}", f"{po['p50_ms']:.2f} / {po['p95_ms']:.2f}",
                  f"{b['requests_per_s']:.0f} (batch {b['batch']})",
                  f"{_mb(r['memory'].get('warm_rss_mb'), unit=False)} / {r['memory']['peak_rss_mb']:.0f}",
                  "yes" if r["torch_loaded"] else "no")
    console.print(t)
    threads = {n: r["machine"].get("threads") for n, r in out["paths"].items() if "error" not in r}
    console.print(f"machine: {_machine_line(out['machine'])}; threads per path: {threads}", highlight=False)


def main(argv: Sequence[str] | None = None) -> None:
    """One path's figures as JSON on stdout (the child process of `compare`)."""
    ap = argparse.ArgumentParser(prog="python -m needle_router.eval.bench")
    ap.add_argument("--tools", required=True)
    ap.add_argument("--model")
    ap.add_argument("--backend", choices=("onnx", "torch"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int)
    args = ap.parse_args(argv)
    result = bench(args.tools, model=args.model, n=args.n, batch=args.batch, threads=args.threads,
                   backend=args.backend, show=False)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
