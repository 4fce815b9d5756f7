"""GeminiEscalator against the fake Gemini server, through the real google-genai SDK and httpx."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_gemini import FakeGemini, Reply
from google.genai import errors as genai_errors

from needle_router.errors import QueryError
from needle_router.escalation import DEFAULT_GEMINI_MODEL, GeminiEscalator
from needle_router.escalation.declarations import clean_schema, gemini_name
from needle_router.escalation.retry import server_delay
from needle_router.tools import Toolset

KEY = "AIzaSyFAKE-key-0123456789-SECRET"


@pytest.fixture
def toolset(weather_tools: list[dict]) -> Toolset:
    tools = [dict(t) for t in weather_tools]
    tools[0] = {
        **tools[0],
        "parameters": {"$schema": "https://json-schema.org/draft/2020-12/schema", **tools[0]["parameters"]},
    }
    return Toolset.load(tools)


def make(fake: FakeGemini, **kw: Any) -> GeminiEscalator:
    opts: dict[str, Any] = {"api_key": KEY, "base_url": fake.url, "timeout_s": 2, "backoff_base_s": 0.01}
    opts.update(kw)
    return GeminiEscalator(**opts)


def test_success_sends_v1beta_json_schema_auto_mode_and_context(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.function_call("get_weather", {"city": "Paris"})
    answer = make(fake_gemini).ask("What's the weather in Paris?", toolset, {"date": "2025-05-01", "locale": "fr-FR"})

    assert answer.outcome == "calls"
    assert [(c.name, c.arguments) for c in answer.calls] == [("get_weather", {"city": "Paris"})]
    assert answer.usage.requests == 1 and answer.usage.prompt_tokens == 20 and answer.usage.total_tokens == 27
    (req,) = fake_gemini.requests
    assert req.path == f"/v1beta/models/{DEFAULT_GEMINI_MODEL}:generateContent"
    assert req.headers["x-goog-api-key"] == KEY and KEY not in req.path
    decls = {d["name"]: d for d in req.function_declarations()}
    assert set(decls) == {"get_weather", "set_timer"}
    schema = decls["get_weather"].get("parameters_json_schema") or decls["get_weather"]["parametersJsonSchema"]
    assert "$schema" not in schema and schema["properties"]["unit"]["enum"] == ["celsius", "fahrenheit"]
    mode = req.get("tool_config")["functionCallingConfig"]["mode"]
    assert mode == "AUTO"
    assert "2025-05-01" in req.system_text() and "fr-FR" in req.system_text()
    assert req.user_texts() == ["What's the weather in Paris?"]


def test_parallel_calls_integral_floats_and_long_names(fake_gemini: FakeGemini) -> None:
    long_name = "tool_" + "x" * 90  # valid for us, too long for Gemini: sent under an alias
    ts = Toolset.load(
        [
            {"name": long_name, "description": "d", "parameters": {"type": "object", "properties": {}}},
            {
                "name": "set_timer",
                "description": "t",
                "parameters": {
                    "type": "object",
                    "properties": {"minutes": {"type": "integer"}},
                    "required": ["minutes"],
                },
            },
        ]
    )
    alias = gemini_name(long_name)
    assert alias != long_name and len(alias) <= 64
    fake_gemini.function_calls([("set_timer", {"minutes": 3.0}), (alias, None)])
    answer = make(fake_gemini).ask("timer 3 min and run the long one", ts)
    assert answer.outcome == "calls"
    assert [(c.name, c.arguments) for c in answer.calls] == [("set_timer", {"minutes": 3}), (long_name, {})]
    assert isinstance(answer.calls[0].arguments["minutes"], int)
    assert {d["name"] for d in fake_gemini.requests[0].function_declarations()} == {alias, "set_timer"}


def test_429_retry_after_is_honoured(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.error(429, retry_after="0.4").function_call("set_timer", {"minutes": 5})
    start = time.monotonic()
    answer = make(fake_gemini).ask("timer for 5 minutes", toolset)
    elapsed = time.monotonic() - start
    assert answer.outcome == "calls" and answer.calls[0].arguments == {"minutes": 5}
    assert len(fake_gemini.requests) == 2
    assert elapsed >= 0.4  # the backoff alone (base 0.01 s) would have been far shorter
    assert answer.usage.requests == 1  # the 429 was not billed


def test_retryinfo_delay_in_error_details_is_honoured(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.error(429, retry_delay="0.3s").function_call("set_timer", {"minutes": 2})
    start = time.monotonic()
    assert make(fake_gemini).ask("2 minute timer", toolset).outcome == "calls"
    assert time.monotonic() - start >= 0.3


def test_server_delay_beyond_deadline_gives_up_at_once(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.error(429, retry_after="30")
    start = time.monotonic()
    answer = make(fake_gemini, deadline_s=2).ask("timer", toolset)
    assert time.monotonic() - start < 1.5
    assert answer.outcome == "unavailable" and answer.reasons[0].code == "teacher_unreachable"
    assert len(fake_gemini.requests) == 1


def test_503_then_success(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.error(503).error(500).function_call("get_weather", {"city": "Rome"})
    answer = make(fake_gemini).ask("weather in Rome", toolset)
    assert answer.outcome == "calls" and len(fake_gemini.requests) == 3


def test_5xx_until_attempts_run_out_is_unreachable(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.error(503).error(503).error(503).function_call("get_weather", {"city": "Rome"})
    answer = make(fake_gemini, max_attempts=3).ask("weather in Rome", toolset)
    assert answer.outcome == "unavailable" and answer.reasons[0].code == "teacher_unreachable"
    assert "503" in answer.reasons[0].message
    assert len(fake_gemini.requests) == 3 and fake_gemini.pending == 1


def test_timeout_is_retried_then_reported(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.delay(5).delay(5)
    start = time.monotonic()
    answer = make(fake_gemini, timeout_s=0.3, max_attempts=2).ask("weather in Oslo", toolset)
    assert time.monotonic() - start < 3
    assert answer.outcome == "unavailable" and answer.reasons[0].code == "teacher_timeout"
    assert len(fake_gemini.requests) == 2


def test_total_deadline_bounds_the_last_attempt(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.delay(5)
    start = time.monotonic()
    answer = make(fake_gemini, timeout_s=4, deadline_s=0.5).ask("weather in Oslo", toolset)
    assert time.monotonic() - start < 2.5
    assert answer.reasons[0].code == "teacher_timeout"


def test_malformed_function_call_then_success(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.malformed().function_call("set_timer", {"minutes": 10})
    answer = make(fake_gemini).ask("ten minute timer", toolset)
    assert answer.outcome == "calls" and answer.calls[0].arguments == {"minutes": 10}
    assert len(fake_gemini.requests) == 2 and answer.usage.requests == 2


def test_malformed_every_time_is_invalid(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.malformed().malformed()
    answer = make(fake_gemini, max_attempts=2).ask("ten minute timer", toolset)
    assert answer.outcome == "invalid" and answer.reasons[0].code == "teacher_malformed_call"


def test_blocked_prompt_is_unavailable_without_retry(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.blocked("PROHIBITED_CONTENT")
    answer = make(fake_gemini).ask("something bad", toolset)
    assert answer.outcome == "unavailable" and answer.reasons[0].code == "teacher_blocked"
    assert "PROHIBITED_CONTENT" in answer.reasons[0].message
    assert len(fake_gemini.requests) == 1


def test_text_answer_means_the_teacher_declined(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.text("Which city do you mean?")
    answer = make(fake_gemini).ask("what's the weather?", toolset)
    assert answer.outcome == "text" and answer.text == "Which city do you mean?" and not answer.calls


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_4xx_is_not_retried(fake_gemini: FakeGemini, toolset: Toolset, status: int) -> None:
    fake_gemini.error(status, message="API key not valid").function_call("set_timer", {"minutes": 1})
    answer = make(fake_gemini).ask("timer", toolset)
    assert answer.outcome == "unavailable" and answer.reasons[0].code == "teacher_error"
    assert len(fake_gemini.requests) == 1


def test_non_json_body_is_a_teacher_error(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.non_json()
    answer = make(fake_gemini).ask("timer", toolset)
    assert answer.outcome == "unavailable" and answer.reasons[0].code == "teacher_error"


def test_unreachable_server(toolset: Toolset) -> None:
    # A port nothing listens on: connection refused, reported, never raised.
    answer = GeminiEscalator(api_key=KEY, base_url="http://127.0.0.1:9", timeout_s=1).ask("timer", toolset)
    assert answer.outcome == "unavailable" and answer.reasons[0].code == "teacher_unreachable"


def test_invalid_arguments_then_repair_succeeds(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.function_calls(
        [("get_weather", {"city": "Oslo", "unit": "kelvin"}), ("set_timer", {"minutes": 5})], signature="c2lnLTE="
    ).function_calls([("get_weather", {"city": "Oslo", "unit": "celsius"}), ("set_timer", {"minutes": 5})])
    answer = make(fake_gemini).ask("Oslo weather in kelvin and a 5 minute timer", toolset)

    assert answer.outcome == "calls"
    assert [c.arguments for c in answer.calls] == [{"city": "Oslo", "unit": "celsius"}, {"minutes": 5}]
    assert answer.reasons[0].code == "teacher_repaired" and "kelvin" in answer.reasons[0].message
    assert answer.usage.requests == 2 and answer.usage.prompt_tokens == 40
    first, repair = fake_gemini.requests
    user, model, feedback = repair.contents
    assert user == first.contents[0]
    # The model's turn goes back unchanged, thought signatures included.
    assert model["role"] == "model"
    assert [p.get("thoughtSignature") or p.get("thought_signature") for p in model["parts"]] == ["c2lnLTE="] * 2
    assert model["parts"][0]["functionCall"]["args"] == {"city": "Oslo", "unit": "kelvin"}
    assert feedback["role"] == "user"
    responses = [p["functionResponse"] for p in feedback["parts"] if "functionResponse" in p]
    assert [r["name"] for r in responses] == ["get_weather", "set_timer"]
    assert [r["id"] for r in responses] == ["c0", "c1"]
    text = "".join(p.get("text", "") for p in feedback["parts"])
    assert "kelvin" in text and "unit" in text


def test_repair_fails_gives_invalid_with_reasons(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.function_call("set_timer", {"minutes": 0}).function_call("set_timer", {"minutes": 9999})
    answer = make(fake_gemini).ask("timer for zero minutes", toolset)
    assert answer.outcome == "invalid"
    assert answer.reasons and all(r.code == "teacher_invalid_call" for r in answer.reasons)
    assert "9999" in answer.reasons[0].message and answer.reasons[0].tool == "set_timer"
    assert len(fake_gemini.requests) == 2  # exactly one repair request


def test_unknown_tool_and_missing_required_are_invalid(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.function_call("launch_rocket", {}).function_call("get_weather", {})
    answer = make(fake_gemini).ask("weather", toolset)
    assert answer.outcome == "invalid"
    assert "missing_required" in answer.reasons[0].message and "city" in answer.reasons[0].message


def test_no_key_is_unavailable_without_any_request(
    fake_gemini: FakeGemini, toolset: Toolset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_gemini.url)
    esc = GeminiEscalator(timeout_s=1)
    assert not esc.available
    answer = esc.ask("weather in Paris", toolset)
    assert answer.outcome == "unavailable" and answer.reasons[0].code == "no_api_key"
    assert asyncio.run(esc.aask("weather in Paris", toolset)).reasons[0].code == "no_api_key"
    assert fake_gemini.requests == []


def test_key_from_environment(fake_gemini: FakeGemini, toolset: Toolset, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "env-key-123")
    monkeypatch.setenv("NEEDLE_ROUTER_GEMINI_MODEL", "gemini-test-model")
    fake_gemini.text("ok")
    esc = GeminiEscalator(base_url=fake_gemini.url, timeout_s=2)
    assert esc.ask("hi", toolset).outcome == "text"
    assert fake_gemini.requests[0].headers["x-goog-api-key"] == "env-key-123"
    assert fake_gemini.requests[0].model == "gemini-test-model"


def test_key_never_leaks(fake_gemini: FakeGemini, toolset: Toolset, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the SDK's and httpx's included
    # A server that echoes the key back in its error message (some proxies do).
    fake_gemini.error(503, message=f"backend down for key {KEY}")
    fake_gemini.error(403, message=f"API key {KEY} not valid")
    esc = make(fake_gemini)
    answer = esc.ask("weather in Paris", toolset)
    assert answer.outcome == "unavailable"
    assert len(fake_gemini.requests) == 2
    dumped = answer.model_dump_json()
    assert "403" in dumped and "***" in dumped
    for text in (dumped, repr(answer), repr(esc), repr(esc.client), str(vars(esc)), caplog.text):
        assert KEY not in text
    assert any("503" in r.getMessage() for r in caplog.records)


def test_async_twin_across_event_loops(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    esc = make(fake_gemini)

    async def two() -> list[Any]:
        fake_gemini.error(503).function_call("set_timer", {"minutes": 4}).text("Which city?")
        first = await esc.aask("4 minute timer", toolset)
        second = await esc.aask("weather?", toolset)
        await esc.aclose()
        return [first, second]

    first, second = asyncio.run(two())
    assert first.outcome == "calls" and first.calls[0].arguments == {"minutes": 4}
    assert second.outcome == "text"
    # A second event loop gets its own transport (an AsyncClient is bound to one loop).
    fake_gemini.function_call("get_weather", {"city": "Lima"})
    third = asyncio.run(esc.aask("weather in Lima", toolset))
    assert third.outcome == "calls" and len(fake_gemini.requests) == 4


def test_async_repair_and_concurrency(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    esc = make(fake_gemini)

    def reply(req: Any) -> Reply:
        # Echo the requested city: concurrent requests each get their own answer.
        city = req.user_texts()[0].split()[-1]
        from fake_gemini import candidate, response_body

        part = {"functionCall": {"name": "get_weather", "args": {"city": city}}}
        return Reply(body=response_body([candidate([part])]))

    fake_gemini.queue(*[reply] * 5)

    async def many() -> list[Any]:
        return await asyncio.gather(*(esc.aask(f"weather in City{i}", toolset) for i in range(5)))

    answers = asyncio.run(many())
    assert sorted(a.calls[0].arguments["city"] for a in answers) == [f"City{i}" for i in range(5)]


def test_google_gemini_base_url_env_is_honoured(
    fake_gemini: FakeGemini, toolset: Toolset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_gemini.url)
    fake_gemini.function_call("get_weather", {"city": "Kyiv"})
    esc = GeminiEscalator(api_key=KEY, timeout_s=2)
    assert esc.client.base_url is None  # not pinned: the SDK reads the variable
    assert esc.ask("weather in Kyiv", toolset).outcome == "calls"
    assert len(fake_gemini.requests) == 1


def test_bad_input_gets_typed_errors(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    esc = make(fake_gemini)
    with pytest.raises(QueryError):
        esc.ask("   ", toolset)
    assert fake_gemini.requests == []


def test_clean_schema_keeps_property_names_and_data() -> None:
    schema = {
        "$schema": "x",
        "$id": "y",
        "type": "object",
        "properties": {"$id": {"type": "string"}, "v": {"oneOf": [{"type": "integer"}, {"const": "$id"}]}},
        "required": ["$id"],
    }
    out = clean_schema(schema)
    assert out == {
        "type": "object",
        "properties": {"$id": {"type": "string"}, "v": {"anyOf": [{"type": "integer"}, {"const": "$id"}]}},
        "required": ["$id"],
    }
    assert "$schema" in schema  # the original is untouched


def test_server_delay_parsing() -> None:
    def err(body: dict, headers: dict | None = None) -> genai_errors.APIError:
        response = httpx.Response(429, headers=headers or {}, json=body)
        return genai_errors.ClientError(429, body, response)

    assert server_delay(err({}, {"Retry-After": "7"})) == 7
    info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}
    assert server_delay(err({"error": {"code": 429, "details": [info]}})) == 1.5
    assert server_delay(err({"error": {"code": 429, "details": []}})) is None
    assert server_delay(ValueError("x")) is None


def test_router_without_key_answers_like_the_escalator_and_skips_the_sdk(toolset: Toolset) -> None:
    from needle_router.escalation.keys import NoKeyEscalator

    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    with_sdk = GeminiEscalator(timeout_s=1, api_key=None)
    if with_sdk.available:  # pragma: no cover - a key in the test environment
        pytest.skip("a Gemini key is set")
    assert NoKeyEscalator().ask("weather", toolset) == with_sdk.ask("weather", toolset)
    script = (
        "import sys\n"
        "from needle_router import Router\n"
        "r = Router('examples/tools/openai.json', model='lexical')\n"
        "d = r.route('do the thing with the stuff', force_escalate=True)\n"
        "print(d.decision, 'no_api_key' in d.reason_codes(), 'google.genai' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.split() == ["escalate", "True", "False"], out.stderr


def test_one_settings_dataclass_for_every_gemini_client() -> None:
    """GeminiClient, GeminiEscalator and GeminiTeacher take one GeminiSettings (or its fields by
    keyword); they differ only in defaults, and the key is never printed."""
    from needle_router.data.gemini_teacher import TEACHING_SETTINGS, GeminiTeacher
    from needle_router.escalation import GeminiSettings

    settings = GeminiSettings(api_key=KEY, timeout_s=3, max_attempts=2, deadline_s=9)
    assert KEY not in repr(settings)
    esc = GeminiEscalator(settings, model="gemini-x")
    assert esc.available and esc.model == "gemini-x" and esc.client.timeout_s == 3
    assert (esc.client.policy.max_attempts, esc.client.policy.deadline_s) == (2, 9)
    assert KEY not in repr(esc)
    default = GeminiEscalator(api_key=KEY)
    assert (default.client.timeout_s, default.client.policy.deadline_s) == (20, 60)
    teacher = GeminiTeacher(api_key=KEY)
    assert teacher.client.timeout_s == TEACHING_SETTINGS.timeout_s == 90
    assert teacher.client.policy.deadline_s == TEACHING_SETTINGS.deadline_s
    with pytest.raises(TypeError):
        GeminiEscalator(timeout=3)  # a misspelt field is refused, as an unknown keyword was
