"""Helpers for the server tests: the app under uvicorn on a loopback port, and a scripted proposer.

The proposer is scripted so that each test decides what the local model "thinks" (a confident call,
an unsure one, a confident no-call) and the assertions are about the server, not about whichever
model is bundled today. One test (test_serve.py) also runs the real default model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from needle_router.serve import ServeConfig, create_app
from needle_router.serve.chat import make_chat_escalator
from needle_router.types import Alternative, Proposal, ToolCall

ROOT = Path(__file__).resolve().parents[1]
OPENAI_TOOLS = ROOT / "examples" / "tools" / "openai.json"
KEY = "AIzaSyFAKE-serve-key-0123456789-SECRET"


class Scripted:
    """Proposals by exact query: {query: (calls, confidence)}; any other query -> no call, unsure."""

    def __init__(self, table: Mapping[str, tuple[list[tuple[str, dict[str, Any]]], float]]) -> None:
        self.table = dict(table)
        self.seen: list[str] = []

    def propose(self, query: str, toolset: Any, context: Any = None) -> Proposal:
        self.seen.append(query)
        calls, confidence = self.table.get(query, ([], 0.3))
        top = calls[0][0] if calls else None
        return Proposal(
            calls=[ToolCall(name=n, arguments=a) for n, a in calls],
            confidence=confidence,
            alternatives=[Alternative(name=top, score=confidence), Alternative(name="other", score=0.0)],
            call_confidences=[confidence] * len(calls),
            argument_confidences=[{k: confidence for k in a} for _, a in calls],
            proposer="scripted",
        )


SCRIPT = {
    "Set a timer for 25 minutes": ([("set_timer", {"minutes": 25})], 0.97),
    "What's the weather in Paris?": ([("get_weather", {"city": "Paris"})], 0.55),  # unsure: escalates
    "Tell me a joke": ([], 0.99),  # confident nothing fits: a local refusal
    "Send a message to Bob saying hi": ([("send_message", {"recipient": "Bob", "text": "hi"})], 0.4),
}


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a thread (a real socket: real clients connect)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = 0

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]  # kept: still read after exit
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state(self) -> Any:
        return self.app.state.server


def escalator_for(fake: Any, **kw: Any) -> Any:
    opts: dict[str, Any] = {"api_key": KEY, "base_url": fake.url, "timeout_s": 2, "max_attempts": 1}
    opts.update(kw)
    return make_chat_escalator(**opts)


@contextmanager
def live(
    fake: Any = None,
    *,
    proposer: Any = None,
    escalator: Any = None,
    real_model: bool = False,
    **config: Any,
) -> Iterator[LiveServer]:
    opts: dict[str, Any] = {"tools": OPENAI_TOOLS, "warm_up": False}
    opts.update(config)
    if escalator is None and fake is not None:
        escalator = escalator_for(fake)
    chosen = None if real_model else proposer or Scripted(SCRIPT)
    app = create_app(ServeConfig(**opts), proposer=chosen, escalator=escalator)
    with LiveServer(app) as server:
        yield server


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0.0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
