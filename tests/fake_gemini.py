"""A fake Gemini API: a real HTTP server on 127.0.0.1 that the real google-genai SDK talks to.

Tests queue scripted responses (function calls, text, JSON, HTTP errors with Retry-After or
RetryInfo, delays, MALFORMED_FUNCTION_CALL, blocked prompts, non-JSON bodies) and then assert on
the requests the SDK really sent (path, headers, JSON body). A response may also be a callable
that builds the reply from the recorded request.

Request bodies mix spellings (top-level camelCase, snake_case inside function declarations), so
`RecordedRequest.get` and the helpers accept either spelling.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

_CAMEL_RE = re.compile(r"_([a-z])")
_SNAKE_RE = re.compile(r"(?<!^)([A-Z])")


def camel(key: str) -> str:
    return _CAMEL_RE.sub(lambda m: m.group(1).upper(), key)


def snake(key: str) -> str:
    return _SNAKE_RE.sub(lambda m: "_" + m.group(1).lower(), key)


def pick(obj: Any, key: str, default: Any = None) -> Any:
    """`obj[key]` under either its camelCase or its snake_case spelling."""
    if not isinstance(obj, dict):
        return default
    for k in (key, camel(key), snake(key)):
        if k in obj:
            return obj[k]
    return default


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any

    def get(self, key: str, default: Any = None) -> Any:
        return pick(self.body, key, default)

    @property
    def model(self) -> str:
        m = re.search(r"/models/([^:/]+):", self.path)
        return m.group(1) if m else ""

    @property
    def contents(self) -> list[dict[str, Any]]:
        return self.get("contents", []) or []

    def function_declarations(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for tool in self.get("tools", []) or []:
            out.extend(pick(tool, "function_declarations", []) or [])
        return out

    def system_text(self) -> str:
        si = self.get("system_instruction") or {}
        return "".join(p.get("text", "") for p in pick(si, "parts", []) or [])

    def user_texts(self) -> list[str]:
        return [p["text"] for c in self.contents for p in pick(c, "parts", []) or [] if "text" in p]


@dataclass
class Reply:
    """One scripted HTTP reply."""

    status: int = 200
    body: Any = None  # dict -> JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    trickle_s: float = 0.0  # > 0: send the whole response one byte at a time, this far apart


Script = Reply | Callable[[RecordedRequest], Reply]


def usage(prompt: int = 10, output: int = 5) -> dict[str, int]:
    return {"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output}


def candidate(parts: list[dict[str, Any]], finish: str = "STOP") -> dict[str, Any]:
    return {"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}


def response_body(candidates: list[dict[str, Any]], prompt: int = 10, output: int = 5) -> dict[str, Any]:
    return {
        "candidates": candidates,
        "usageMetadata": usage(prompt, output),
        "modelVersion": "fake-gemini",
        "responseId": "r1",
    }


class _Server(ThreadingHTTPServer):
    request_queue_size = 512  # load tests open hundreds of connections at once (the default is 5)
    daemon_threads = True


class FakeGemini:
    """The fixture object: queue replies, read `requests`, point a client at `url`.

    `default` (a Script) answers whenever the queue is empty (load tests); otherwise an unscripted
    request gets a 400."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.default: Script | None = None
        self.record = True  # load tests turn this off to keep memory flat
        self._queue: deque[Script] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests the server was answering at once
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGemini:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # wakes handlers sleeping in a scripted delay
        self._server.shutdown()
        self._server.server_close()

    # -- scripting ------------------------------------------------------------------------------

    def queue(self, *scripts: Script) -> FakeGemini:
        with self._lock:
            self._queue.extend(scripts)
        return self

    @property
    def pending(self) -> int:
        return len(self._queue)

    def function_call(self, name: str, args: dict[str, Any] | None, *, signature: str | None = None) -> FakeGemini:
        return self.function_calls([(name, args)], signature=signature)

    def function_calls(
        self, calls: list[tuple[str, dict[str, Any] | None]], *, signature: str | None = None
    ) -> FakeGemini:
        parts = []
        for i, (name, args) in enumerate(calls):
            part: dict[str, Any] = {"functionCall": {"name": name, "args": args, "id": f"c{i}"}}
            if signature:
                part["thoughtSignature"] = signature
            parts.append(part)
        return self.queue(Reply(body=response_body([candidate(parts)], prompt=20, output=7)))

    def text(self, text: str) -> FakeGemini:
        return self.queue(Reply(body=response_body([candidate([{"text": text}])])))

    def json(self, obj: Any, *, prompt: int = 30, output: int = 40) -> FakeGemini:
        """A structured-output answer: the JSON document as the text part."""
        return self.queue(Reply(body=response_body([candidate([{"text": json.dumps(obj)}])], prompt, output)))

    def error(
        self,
        status: int,
        *,
        message: str = "scripted error",
        retry_after: str | None = None,
        retry_delay: str | None = None,
    ) -> FakeGemini:
        details = []
        if retry_delay is not None:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
        status_name = {
            429: "RESOURCE_EXHAUSTED",
            503: "UNAVAILABLE",
            500: "INTERNAL",
            400: "INVALID_ARGUMENT",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            408: "DEADLINE_EXCEEDED",
        }.get(status, "UNKNOWN")
        body = {"error": {"code": status, "message": message, "status": status_name, "details": details}}
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return self.queue(Reply(status=status, body=body, headers=headers))

    def delay(self, seconds: float, then: Reply | None = None) -> FakeGemini:
        """Answer only after `seconds` (longer than the client's timeout: a transport timeout)."""
        reply = then or Reply(body=response_body([candidate([{"text": "too late"}])]))
        reply.delay_s = seconds
        return self.queue(reply)

    def trickle(self, seconds_per_byte: float) -> FakeGemini:
        """Accept the request, then answer one byte every `seconds_per_byte` (status line included):
        each read finishes well inside any per-read timeout, so only a total deadline ends it."""
        body = response_body([candidate([{"text": "x" * 2000}])])
        return self.queue(Reply(body=body, trickle_s=seconds_per_byte))

    def malformed(self) -> FakeGemini:
        body = response_body([{"content": {}, "finishReason": "MALFORMED_FUNCTION_CALL", "index": 0}])
        return self.queue(Reply(body=body))

    def blocked(self, reason: str = "SAFETY") -> FakeGemini:
        body = {"promptFeedback": {"blockReason": reason}, "usageMetadata": usage(8, 0), "modelVersion": "fake"}
        return self.queue(Reply(body=body))

    def non_json(self, text: str = "<html>upstream proxy error</html>") -> FakeGemini:
        return self.queue(Reply(body=text, headers={"Content-Type": "text/html"}))

    # -- the HTTP side --------------------------------------------------------------------------

    def _next(self, request: RecordedRequest) -> Reply:
        with self._lock:
            if self.record:
                self.requests.append(request)
            script = self._queue.popleft() if self._queue else self.default
        if script is None:
            # Not retried by a correct client (plain 4xx): an unscripted request fails loudly.
            return Reply(
                status=400,
                body={"error": {"code": 400, "message": "fake: no scripted reply", "status": "FAILED_PRECONDITION"}},
            )
        return script(request) if callable(script) else script

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass  # keep pytest output clean

            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = None
                req = RecordedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, raw, body)
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._answer(fake._next(req))
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _answer(self, reply: Reply) -> None:
                if reply.delay_s and fake._stop.wait(reply.delay_s):
                    return
                if isinstance(reply.body, (dict, list)):
                    payload = json.dumps(reply.body).encode()
                    ctype = "application/json; charset=UTF-8"
                else:
                    payload = reply.body.encode() if isinstance(reply.body, str) else (reply.body or b"")
                    ctype = "text/plain"
                if reply.trickle_s:
                    self._trickle(reply, payload, ctype)
                    return
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": ctype, **reply.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to answer

            def _trickle(self, reply: Reply, payload: bytes, ctype: str) -> None:
                head = f"HTTP/1.1 {reply.status} OK\r\nContent-Type: {ctype}\r\n"
                head += f"Content-Length: {len(payload)}\r\n\r\n"
                self.close_connection = True
                try:
                    for byte in head.encode() + payload:
                        if fake._stop.wait(reply.trickle_s):
                            return
                        self.wfile.write(bytes([byte]))
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client gave up: what the test wants

            do_GET = do_POST

        return Handler


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    fake = FakeGemini().start()
    try:
        yield fake
    finally:
        fake.close()
