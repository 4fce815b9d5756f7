"""`needle-router serve` with real clients: the official `openai` SDK and httpx against uvicorn on a
loopback port; escalations go through the real google-genai SDK to the fake Gemini server."""

from __future__ import annotations

import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest
from fake_gemini import FakeGemini, Reply, candidate, response_body
from serve_support import KEY, OPENAI_TOOLS, Scripted, escalator_for, live, metric

from needle_router.serve import DECISION_HEADER

TOOLS = json.loads(OPENAI_TOOLS.read_text())
USER_TIMER = [{"role": "user", "content": "Set a timer for 25 minutes"}]


def client(server: Any, **kw: Any) -> openai.OpenAI:
    opts: dict[str, Any] = {"base_url": server.url + "/v1", "api_key": "unused", "max_retries": 0, "timeout": 20}
    opts.update(kw)
    return openai.OpenAI(**opts)


def mode_of(req: Any) -> dict[str, Any]:
    return req.get("tool_config")["functionCallingConfig"]


# -- OpenAI SDK: local calls, Gemini answers, streaming -------------------------------------------


def test_local_tool_call_answered_at_once_without_gemini(fake_gemini: FakeGemini) -> None:
    with live(fake_gemini) as server:
        raw = client(server).chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=USER_TIMER, tools=TOOLS
        )
        completion = raw.parse()
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "set_timer" and json.loads(call.function.arguments) == {"minutes": 25}
    ext = completion.model_extra["needle_router"]
    assert (ext["decision"], ext["source"], ext["threshold"]) == ("call", "local", 0.8)
    assert ext["confidence"] == pytest.approx(0.97) and ext["reasons"][0]["code"] == "passed"
    assert ext["latency_ms"] > 0 and completion.model == "gpt-4o-mini"
    assert raw.headers[DECISION_HEADER].startswith("decision=call; source=local; confidence=0.9700")
    assert fake_gemini.requests == []  # answered locally: Gemini never asked


def test_server_toolset_used_when_request_has_no_tools(fake_gemini: FakeGemini) -> None:
    with live(fake_gemini) as server:
        completion = client(server).chat.completions.create(model="m", messages=USER_TIMER)
    assert completion.choices[0].message.tool_calls[0].function.name == "set_timer"


def test_plain_chat_goes_to_gemini_with_the_app_system_prompt(fake_gemini: FakeGemini) -> None:
    fake_gemini.text("Why did the scarecrow win an award? He was outstanding in his field.")
    messages = [
        {"role": "system", "content": "You are Jolly, a cheerful assistant."},
        {"role": "user", "content": "Tell me a joke"},
    ]
    with live(fake_gemini) as server:
        completion = client(server).chat.completions.create(model="m", messages=messages, tools=TOOLS)
    msg = completion.choices[0].message
    assert msg.content.startswith("Why did the scarecrow") and not msg.tool_calls
    assert completion.choices[0].finish_reason == "stop"
    ext = completion.model_extra["needle_router"]
    assert ext["source"] == "gemini" and ext["proposal"]["proposer"] == "scripted"
    assert ext["threshold"] == 0.95  # a no-call proposal is held to refuse_min_confidence
    codes = [r["code"] for r in ext["reasons"]]
    assert codes[0] == "chat_needs_answer" and "no_tool_fits" in codes and "teacher_text" in codes
    assert completion.usage.total_tokens == 15
    (req,) = fake_gemini.requests
    assert req.system_text().startswith("You are Jolly") and "declared functions" in req.system_text()
    assert req.user_texts() == ["Tell me a joke"] and mode_of(req)["mode"] == "AUTO"
    assert {d["name"] for d in req.function_declarations()} == {t["function"]["name"] for t in TOOLS}


def test_unsure_local_call_escalates_and_gemini_calls_come_back_as_tool_calls(fake_gemini: FakeGemini) -> None:
    fake_gemini.function_call("get_weather", {"city": "Paris", "unit": "celsius"})
    with live(fake_gemini) as server:
        completion = client(server).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "What's the weather in Paris?"}], tools=TOOLS
        )
        text = httpx.get(server.url + "/metrics").text
    (call,) = completion.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    ext = completion.model_extra["needle_router"]
    assert ext["source"] == "gemini" and ext["decision"] == "call"
    assert "low_confidence" in [r["code"] for r in ext["reasons"]]
    assert ext["proposal"]["calls"][0]["arguments"] == {"city": "Paris"}  # the local proposal rides along
    assert metric(text, "needle_router_decisions_total", endpoint="chat", decision="call", source="gemini") == 1
    assert metric(text, "needle_router_gemini_tokens_total", kind="total") == 27
    assert metric(text, "needle_router_escalated_latency_seconds_count", endpoint="chat") == 1


def test_gemini_call_refused_by_the_policy_becomes_a_text_answer(fake_gemini: FakeGemini) -> None:
    fake_gemini.function_call("send_message", {"recipient": "Bob", "text": "hi"})
    with live(fake_gemini, policy={"extends": "default", "deny": ["send_message"]}) as server:
        completion = client(server).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Send a message to Bob saying hi"}], tools=TOOLS
        )
    msg = completion.choices[0].message
    assert not msg.tool_calls and "send_message is not permitted" in msg.content
    ext = completion.model_extra["needle_router"]
    assert (ext["decision"], ext["source"]) == ("refuse", "gemini")
    assert "denied" in [r["code"] for r in ext["reasons"]]


def test_tool_results_go_to_gemini_with_the_whole_conversation(fake_gemini: FakeGemini) -> None:
    fake_gemini.text("Done: your 25-minute timer is running.")
    messages = [
        {"role": "system", "content": "Be brief."},
        *USER_TIMER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "set_timer", "arguments": '{"minutes": 25}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": '{"status": "started", "ends_at": "10:25"}'},
    ]
    with live(fake_gemini) as server:
        completion = client(server).chat.completions.create(model="m", messages=messages, tools=TOOLS)
    assert completion.choices[0].message.content == "Done: your 25-minute timer is running."
    assert completion.model_extra["needle_router"]["reasons"][0]["code"] == "chat_tool_results"
    (req,) = fake_gemini.requests
    roles = [c["role"] for c in req.contents]
    assert roles == ["user", "model", "user"]
    fc_part = req.contents[1]["parts"][0]
    assert fc_part["functionCall"] == {"id": "call_abc", "name": "set_timer", "args": {"minutes": 25}}
    assert fc_part["thoughtSignature"] == "skip_thought_signature_validator"
    fr = req.contents[2]["parts"][0]["functionResponse"]
    assert fr["id"] == "call_abc" and fr["name"] == "set_timer" and fr["response"]["ends_at"] == "10:25"
    assert req.system_text().startswith("Be brief.")


def test_follow_up_user_turn_goes_to_gemini_even_if_local_would_call(fake_gemini: FakeGemini) -> None:
    fake_gemini.function_call("set_timer", {"minutes": 25, "label": "tea"})
    messages = [
        {"role": "user", "content": "I'm making tea"},
        {"role": "assistant", "content": "Enjoy!"},
        {"role": "user", "content": "Set a timer for 25 minutes"},
    ]
    with live(fake_gemini) as server:
        completion = client(server).chat.completions.create(model="m", messages=messages, tools=TOOLS)
    assert json.loads(completion.choices[0].message.tool_calls[0].function.arguments)["label"] == "tea"
    assert completion.model_extra["needle_router"]["source"] == "gemini"
    assert fake_gemini.requests[0].user_texts() == ["I'm making tea", "Enjoy!", "Set a timer for 25 minutes"]


def test_streaming_local_call_in_openai_chunks_ending_with_done(fake_gemini: FakeGemini) -> None:
    with live(fake_gemini) as server:
        chunks = list(
            client(server).chat.completions.create(
                model="m", messages=USER_TIMER, tools=TOOLS, stream=True, stream_options={"include_usage": True}
            )
        )
        with httpx.stream(
            "POST", server.url + "/v1/chat/completions", json={"messages": USER_TIMER, "stream": True}
        ) as resp:
            body = resp.read().decode()
            ctype = resp.headers["content-type"]
    assert chunks[0].choices[0].delta.role == "assistant"
    calls: dict[int, dict[str, str]] = {}
    for ch in chunks:
        for tc in (ch.choices[0].delta.tool_calls or []) if ch.choices else []:
            slot = calls.setdefault(tc.index, {"name": "", "arguments": ""})
            slot["name"] += tc.function.name or ""
            slot["arguments"] += tc.function.arguments or ""
    assert calls == {0: {"name": "set_timer", "arguments": '{"minutes": 25}'}}
    finish = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finish[-1].choices[0].finish_reason == "tool_calls"
    assert finish[-1].model_extra["needle_router"]["decision"] == "call"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 0  # include_usage chunk
    assert ctype.startswith("text/event-stream") and body.rstrip().endswith("data: [DONE]")


def test_streaming_gemini_text(fake_gemini: FakeGemini) -> None:
    answer = "A joke, streamed in pieces so that the client has to put it back together."
    fake_gemini.text(answer)
    with live(fake_gemini) as server:
        stream = client(server).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Tell me a joke"}], stream=True
        )
        pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert len([p for p in pieces if p]) > 1 and "".join(pieces) == answer


@pytest.mark.parametrize(
    ("choice", "mode", "allowed"),
    [
        ("none", "NONE", None),
        ("required", "ANY", None),
        ({"type": "function", "function": {"name": "get_weather"}}, "ANY", ["get_weather"]),
    ],
)
def test_tool_choice_becomes_gemini_calling_mode(fake_gemini: FakeGemini, choice: Any, mode: str, allowed: Any) -> None:
    # The local model would call set_timer; none and a different named tool forbid that answer.
    fake_gemini.text("ok") if choice == "none" else fake_gemini.function_call("get_weather", {"city": "Rome"})
    query = "Set a timer for 25 minutes" if choice != "required" else "Tell me a joke"
    with live(fake_gemini) as server:
        completion = client(server).chat.completions.create(
            model="m", messages=[{"role": "user", "content": query}], tools=TOOLS, tool_choice=choice
        )
    (req,) = fake_gemini.requests
    assert mode_of(req)["mode"] == mode
    assert mode_of(req).get("allowedFunctionNames") == allowed
    assert completion.model_extra["needle_router"]["source"] == "gemini"


def test_named_tool_choice_matching_the_local_call_stays_local(fake_gemini: FakeGemini) -> None:
    with live(fake_gemini) as server:
        completion = client(server).chat.completions.create(
            model="m",
            messages=USER_TIMER,
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "set_timer"}},
        )
    assert completion.model_extra["needle_router"]["source"] == "local" and fake_gemini.requests == []


# -- errors, limits, safety ------------------------------------------------------------------------


def test_malformed_requests_get_openai_errors_with_the_right_status(fake_gemini: FakeGemini) -> None:
    with live(fake_gemini, max_body_bytes=20_000) as server:
        c = client(server)
        with pytest.raises(openai.BadRequestError) as bad:
            c.chat.completions.create(model="m", messages=[])
        assert bad.value.body["param"] == "messages" and bad.value.body["type"] == "invalid_request_error"
        with pytest.raises(openai.BadRequestError) as bad:
            c.chat.completions.create(model="m", messages=[{"role": "user", "content": [{"type": "image_url"}]}])
        assert bad.value.body["code"] == "unsupported_content"
        with pytest.raises(openai.BadRequestError) as bad:
            c.chat.completions.create(
                model="m", messages=USER_TIMER, tools=[{"type": "function", "function": {"name": "x y"}}]
            )
        assert bad.value.body["code"] == "invalid_tools"
        with pytest.raises(openai.BadRequestError) as bad:
            c.chat.completions.create(
                model="m", messages=USER_TIMER, tool_choice={"type": "function", "function": {"name": "nope"}}
            )
        assert bad.value.body["param"] == "tool_choice"
        with pytest.raises(openai.BadRequestError):
            c.chat.completions.create(model="m", messages=USER_TIMER, n=2)
        with pytest.raises(openai.BadRequestError) as bad:
            c.chat.completions.create(
                model="m", messages=[*USER_TIMER, {"role": "tool", "tool_call_id": "call_unknown", "content": "x"}]
            )
        assert bad.value.body["param"] == "messages[1].tool_call_id"
        with pytest.raises(openai.APIStatusError) as big:
            c.chat.completions.create(model="m", messages=[{"role": "user", "content": "x" * 30_000}])
        assert big.value.status_code == 413 and big.value.body["code"] == "body_too_large"

        r = httpx.post(
            server.url + "/v1/chat/completions", content=b'{"messages": [', headers={"content-type": "application/json"}
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
        r = httpx.post(server.url + "/v1/route", json={"query": "q" * 16_001})
        assert r.status_code == 400 and r.json()["error"]["code"] == "query_too_long"
        r = httpx.get(server.url + "/v1/nothing")
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
        r = httpx.get(server.url + "/v1/chat/completions")
        assert r.status_code == 405 and "error" in r.json()
        assert "Traceback" not in r.text


def test_bearer_token_required_when_configured(fake_gemini: FakeGemini) -> None:
    with live(fake_gemini, auth_token="s3cret-token") as server:
        with pytest.raises(openai.AuthenticationError) as denied:
            client(server, api_key="wrong").chat.completions.create(model="m", messages=USER_TIMER)
        assert denied.value.body["code"] == "invalid_token"
        assert httpx.get(server.url + "/metrics").status_code == 401
        assert httpx.post(server.url + "/v1/route", json={"query": "x"}).json()["error"]["code"] == "missing_token"
        ok = client(server, api_key="s3cret-token").chat.completions.create(model="m", messages=USER_TIMER)
        assert ok.choices[0].finish_reason == "tool_calls"
        assert httpx.get(server.url + "/healthz").status_code == 200  # liveness stays open
        assert httpx.get(server.url + "/").status_code == 200  # the page holds no secret; its API calls do need it
        text = httpx.get(server.url + "/metrics", headers={"authorization": "Bearer s3cret-token"}).text
    assert metric(text, "needle_router_rejected_requests_total", reason="auth") == 3


def test_gemini_down_is_a_documented_503_and_never_leaks_the_key(
    fake_gemini: FakeGemini, caplog: pytest.LogCaptureFixture
) -> None:
    fake_gemini.error(503, message=f"backend exploded for key {KEY}")
    caplog.set_level(logging.DEBUG)
    with live(fake_gemini) as server:
        with pytest.raises(openai.InternalServerError) as down:
            client(server).chat.completions.create(
                model="m", messages=[{"role": "user", "content": "What's the weather in Paris?"}]
            )
        text = httpx.get(server.url + "/metrics").text
        route = httpx.post(server.url + "/v1/route", json={"query": "What's the weather in Paris?"})
    err = down.value
    assert err.status_code == 503 and err.body["type"] == "escalation_unavailable"
    assert err.body["code"] == "teacher_unreachable"
    assert err.response.json()["needle_router"]["decision"] == "escalate"
    assert DECISION_HEADER in err.response.headers
    assert metric(text, "needle_router_escalation_failures_total", reason="teacher_unreachable") == 1
    # The second escalation met an unscripted 400 from the fake: a decision, not an HTTP error.
    assert route.status_code == 200 and route.json()["decision"] == "escalate"
    for blob in (err.response.text, text, route.text, caplog.text):
        assert KEY not in blob
    assert "***" in err.response.text  # the message was scrubbed, not dropped


def test_no_key_local_clarify_still_answers_and_refusal_is_503() -> None:
    from needle_router.escalation.keys import NoKeyEscalator

    script = {"set a timer": ([("set_timer", {})], 0.95), "Tell me a joke": ([], 0.99)}
    with live(proposer=Scripted(script), escalator=NoKeyEscalator()) as server:
        completion = client(server).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "set a timer"}]
        )
        with pytest.raises(openai.InternalServerError) as down:
            client(server).chat.completions.create(model="m", messages=[{"role": "user", "content": "Tell me a joke"}])
    assert completion.choices[0].message.content == "Could you tell me the minutes?"
    ext = completion.model_extra["needle_router"]
    assert ext["decision"] == "clarify" and ext["missing"] == ["minutes"]
    assert "no_api_key" in [r["code"] for r in ext["reasons"]]
    assert down.value.body["code"] == "no_api_key"


def test_deadline_gives_504(fake_gemini: FakeGemini) -> None:
    fake_gemini.delay(3.0)
    with live(fake_gemini, escalator=escalator_for(fake_gemini, timeout_s=5), deadline_s=0.5) as server:
        start = time.monotonic()
        r = httpx.post(
            server.url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Tell me a joke"}]}
        )
    assert r.status_code == 504 and r.json()["error"]["code"] == "deadline_exceeded"
    assert time.monotonic() - start < 2.5


def test_saturation_gives_429_then_503(fake_gemini: FakeGemini) -> None:
    fake_gemini.delay(1.0, Reply(body=response_body([candidate([{"text": "slow"}])])))
    fake_gemini.delay(1.0, Reply(body=response_body([candidate([{"text": "slow"}])])))
    body = {"messages": [{"role": "user", "content": "Tell me a joke"}]}
    with live(fake_gemini, max_concurrency=1, max_queue=1, queue_timeout_s=0.3) as server:
        url = server.url + "/v1/chat/completions"
        with ThreadPoolExecutor(3) as pool:
            first = pool.submit(httpx.post, url, json=body, timeout=10)
            time.sleep(0.3)  # the first holds the only slot
            second = pool.submit(httpx.post, url, json=body, timeout=10)  # waits in the queue, then 503
            time.sleep(0.1)
            third = httpx.post(url, json=body, timeout=10)  # the queue is full: 429 at once
        assert third.status_code == 429 and third.json()["error"]["code"] == "server_busy"
        assert third.headers["retry-after"] == "1"
        assert second.result().status_code == 503 and second.result().json()["error"]["code"] == "queue_timeout"
        assert first.result().status_code == 200
        text = httpx.get(server.url + "/metrics").text
    assert metric(text, "needle_router_rejected_requests_total", reason="busy") == 1
    assert metric(text, "needle_router_rejected_requests_total", reason="queue_timeout") == 1


def test_fifty_concurrent_clients_all_answered(fake_gemini: FakeGemini) -> None:
    """50 OpenAI SDK clients at once, a mix of local calls and escalations: no error at all."""
    n_clients, per_client = 50, 4
    replies = [
        Reply(
            body=response_body([candidate([{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}])]),
            delay_s=0.05,
        )
    ]
    fake_gemini.queue(*(replies * (n_clients * per_client)))
    unlimited = {"extends": "default", "escalation": {"budget_per_minute": None, "budget_per_day": None}}
    with live(fake_gemini, policy=unlimited) as server:

        def one_client(i: int) -> list[str]:
            c = client(server, timeout=60)
            out = []
            for j in range(per_client):
                query = "Set a timer for 25 minutes" if (i + j) % 2 else "What's the weather in Paris?"
                completion = c.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": query}], tools=TOOLS
                )
                out.append(
                    completion.model_extra["needle_router"]["source"]
                    + ":"
                    + completion.choices[0].message.tool_calls[0].function.name
                )
            return out

        with ThreadPoolExecutor(n_clients) as pool:
            results = [r for rs in pool.map(one_client, range(n_clients)) for r in rs]
        text = httpx.get(server.url + "/metrics").text
    total = n_clients * per_client
    assert len(results) == total
    assert results.count("local:set_timer") == total // 2 and results.count("gemini:get_weather") == total // 2
    assert metric(text, "needle_router_http_responses_total", endpoint="chat", status="200") == total
    assert metric(text, "needle_router_decisions_total", endpoint="chat", decision="call", source="local") == total // 2
    assert fake_gemini.max_in_flight > 1  # escalations really overlapped


# -- the native API, models, health ----------------------------------------------------------------


def test_route_batch_and_judge(fake_gemini: FakeGemini) -> None:
    with live(fake_gemini) as server:
        d = httpx.post(server.url + "/v1/route", json={"query": "Set a timer for 25 minutes"}).json()
        assert set(d) == {
            "decision",
            "source",
            "calls",
            "confidence",
            "proposal",
            "reasons",
            "missing",
            "latency_ms",
            "usage",
        }
        assert d["decision"] == "call" and d["calls"][0]["arguments"] == {"minutes": 25}
        batch = httpx.post(
            server.url + "/v1/route/batch",
            json={"queries": ["Set a timer for 25 minutes", "Tell me a joke"], "tools": TOOLS},
        ).json()["decisions"]
        assert [b["decision"] for b in batch] == ["call", "refuse"]
        judge = {"query": "Set a timer for 25 minutes", "proposal": d["proposal"]}
        high = httpx.post(server.url + "/v1/route/judge", json={**judge, "threshold": 0.99}).json()
        low = httpx.post(server.url + "/v1/route/judge", json={**judge, "threshold": 0.5}).json()
        assert high["decision"] == "escalate" and "low_confidence" in [r["code"] for r in high["reasons"]]
        assert low["decision"] == "call" and low["threshold"] == 0.5
        assert httpx.post(server.url + "/v1/route/judge", json={**judge, "threshold": 2}).status_code == 400
        too_many = httpx.post(server.url + "/v1/route/batch", json={"queries": ["x"] * 65})
        assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "batch_too_large"
        models = client(server).models.list()
        health = httpx.get(server.url + "/healthz").json()
    assert [m.id for m in models.data] == ["needle-router"]
    assert health["status"] == "ok" and health["escalation"] == "gemini" and "set_timer" in health["tools"]
    assert fake_gemini.requests == []


def test_default_model_local_calls_p50(fake_gemini: FakeGemini) -> None:
    """The bundled model behind the server: local answers are well-formed and their server-side
    latency is what the extension reports (the README's p50 comes from this measurement). The
    threshold is 0 so that every valid proposal is answered locally: a local answer costs the same
    whatever the threshold, and how often the model is confident enough is eval's business."""
    from needle_router.serve.commands import set_torch_threads

    set_torch_threads(1)
    policy = {"extends": "default", "min_confidence": 0.0}
    with live(fake_gemini, real_model=True, warm_up=True, policy=policy) as server:
        assert server.state.proposer.__class__.__name__ != "Scripted"
        c = client(server)
        latencies, kinds = [], set()
        for i in range(30):
            query = ["Set a timer for 25 minutes", "What's the weather in Paris?"][i % 2]
            fake_gemini.function_call("get_weather", {"city": "Paris"})  # in case the model is unsure
            completion = c.chat.completions.create(
                model="m", messages=[{"role": "user", "content": query}], tools=TOOLS
            )
            ext = completion.model_extra["needle_router"]
            kinds.add(ext["source"])
            if ext["source"] == "local":
                assert completion.choices[0].message.tool_calls
                latencies.append(ext["latency_ms"])
        text = httpx.get(server.url + "/metrics").text
    assert latencies, "the default model answered nothing locally"
    print(f"\nserver-side p50 of local tool calls: {statistics.median(latencies):.1f} ms over {len(latencies)}")
    assert metric(text, "needle_router_model_load_seconds") > 0


# -- the command --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command_starts_and_refuses_a_missing_token_env() -> None:
    cmd = [sys.executable, "-m", "needle_router.cli", "serve", "--tools", str(OPENAI_TOOLS), "--model", "lexical"]
    env = {k: v for k, v in os.environ.items() if k != "NR_TOKEN"}
    bad = subprocess.run([*cmd, "--auth-token-env", "NR_TOKEN"], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "NR_TOKEN" in bad.stderr
    port = _free_port()
    proc = subprocess.Popen([*cmd, "--port", str(port), "--log-level", "warning"], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.2)
        assert health.json()["proposer"] == "LexicalProposer"
        assert health.json()["escalation"] == "no_api_key"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cli_works_without_the_serve_extra() -> None:
    """The command line registers `serve` even where starlette/uvicorn are missing, and says why."""
    code = (
        "import sys\n"
        "for m in ('starlette', 'uvicorn', 'prometheus_client'): sys.modules[m] = None\n"
        "from typer.testing import CliRunner\n"
        "import needle_router.cli as c\n"
        f"r = CliRunner().invoke(c.app, ['serve', '--tools', {str(OPENAI_TOOLS)!r}])\n"
        "print(r.exit_code, r.output)\n"
        f"r = CliRunner().invoke(c.app, ['validate-tools', {str(OPENAI_TOOLS)!r}])\n"
        "print(r.exit_code, r.output)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.startswith("2 error: the server needs the serve extra") and "needle-router[serve]" in out
    assert "0 ok: 5 tools" in out


def test_a_bug_is_a_500_error_object_without_a_trace(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        available = True

        async def aask(self, query: str, toolset: Any, context: Any = None) -> Any:
            raise RuntimeError("boom inside the escalator")

    with live(escalator=Broken()) as server:
        r = httpx.post(
            server.url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Tell me a joke"}]}
        )
        ok = httpx.post(server.url + "/v1/chat/completions", json={"messages": USER_TIMER})
    assert r.status_code == 500 and r.json() == {
        "error": {
            "message": "internal error; see the server log",
            "type": "internal_error",
            "param": None,
            "code": "internal_error",
        }
    }
    assert "boom" not in r.text and "Traceback" not in r.text
    assert "boom inside the escalator" in caplog.text  # the trace is in the server log
    assert ok.status_code == 200  # the server carries on
