"""Latency of local tool calls through the server, as an unmodified OpenAI-SDK app sees them.

    python -m needle_router.serve.bench --tools examples/tools/openai.json --n 200

Starts `needle-router serve` (real uvicorn, loopback, escalation off so only the local path is
timed), sends chat completions one at a time with the `openai` package (httpx when it is not
installed) and prints p50/p95 of the server-side time (the `latency_ms` of the `needle_router`
extension field: request parsed to response built) and of the client's round trip.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from needle_router.scoring.percentile import percentile

QUERIES = [
    "Set a timer for 25 minutes",
    "What's the weather in Paris?",
    "Play some jazz",
    "Set the thermostat to 21 degrees",
    "Send a message to Anna saying I'm running late",
    "Start a 10 minute timer for the pasta",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited before it was ready")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the server did not become ready in time")


def _sender(base: str) -> Any:
    try:
        import openai
    except ModuleNotFoundError:
        http = httpx.Client(base_url=base, timeout=30)

        def send_httpx(tools: Any, query: str) -> dict[str, Any]:
            body = {"model": "needle-router", "messages": [{"role": "user", "content": query}], "tools": tools}
            return http.post("/v1/chat/completions", json=body).json()

        return send_httpx
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)

    def send_openai(tools: Any, query: str) -> dict[str, Any]:
        try:
            completion = client.chat.completions.create(
                model="needle-router", messages=[{"role": "user", "content": query}], tools=tools
            )
        except openai.APIStatusError as exc:  # with escalation off, what needs Gemini is a 503
            return exc.response.json()
        return completion.model_dump()

    return send_openai


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tools", type=Path, default=Path("examples/tools/openai.json"))
    ap.add_argument("--model", default=None)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--torch-threads", type=int, default=1)
    ap.add_argument("--policy", default=None, help="policy file or preset for the server (default: the default "
                    "preset); a low min_confidence times local answers of a model that is rarely sure")
    args = ap.parse_args(argv)

    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "needle_router.cli",
        "serve",
        "--tools",
        str(args.tools),
        "--port",
        str(port),
        "--no-escalate",
        "--log-level",
        "warning",
        "--torch-threads",
        str(args.torch_threads),
    ]
    if args.model:
        cmd += ["--model", args.model]
    if args.policy:
        cmd += ["--policy", args.policy]
    proc = subprocess.Popen(cmd, env={**os.environ, "GEMINI_API_KEY": "", "GOOGLE_API_KEY": ""})
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, proc)
        tools = json.loads(args.tools.read_text())
        send = _sender(base)
        for q in QUERIES:  # warm-up: first-use costs are not what an app sees in steady state
            send(tools, q)
        server_ms, router_ms, client_ms, other = [], [], [], 0
        for i in range(args.n):
            start = time.perf_counter()
            body = send(tools, QUERIES[i % len(QUERIES)])
            elapsed = (time.perf_counter() - start) * 1000
            ext = body.get("needle_router") or {}
            if ext.get("decision") == "call" and ext.get("source") == "local":
                server_ms.append(ext["latency_ms"])
                router_ms.append(ext["router_latency_ms"])
                client_ms.append(elapsed)
            else:
                other += 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if not server_ms:
        raise SystemExit("no request was answered with a local call")
    print(f"local tool calls: {len(server_ms)} of {args.n} ({other} not local calls, excluded)")
    print(f"server-side ms: p50 {statistics.median(server_ms):.1f}  p95 {percentile(server_ms, 95) or 0:.1f}")
    print(f"  of which router (model + policy) p50 {statistics.median(router_ms):.1f}")
    print(f"round trip ms:  p50 {statistics.median(client_ms):.1f}  p95 {percentile(client_ms, 95) or 0:.1f}")


if __name__ == "__main__":
    main()
