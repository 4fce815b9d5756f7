"""GeminiTeacher against the fake Gemini server, through the real google-genai SDK."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from fake_gemini import FakeGemini, RecordedRequest, Reply, candidate, response_body

from needle_router.data.gemini_teacher import CATEGORIES, GeminiTeacher, TeachJob, response_schema
from needle_router.errors import DataError
from needle_router.escalation import GeminiUnavailable
from needle_router.tools import Toolset

KEY = "teacher-key-SECRET-42"


@pytest.fixture
def toolset(weather_tools: list[dict]) -> Toolset:
    return Toolset.load(weather_tools)


def make(fake: FakeGemini, **kw: Any) -> GeminiTeacher:
    opts: dict[str, Any] = {"api_key": KEY, "base_url": fake.url, "timeout_s": 2, "backoff_base_s": 0.01}
    opts.update(kw)
    return GeminiTeacher(**opts)


def call(name: str, **args: Any) -> dict[str, str]:
    return {"name": name, "arguments_json": json.dumps(args)}


def generation_config(req: RecordedRequest) -> dict[str, Any]:
    return req.get("generation_config") or {}


def test_missing_category_records_and_request(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.json(
        {
            "examples": [
                {
                    "query": "what's the weather like in celsius?",
                    "calls": [call("get_weather", unit="celsius")],
                    "missing": ["city"],
                },
                # No `missing` given: derived from the schema's required parameters.
                {"query": " weather please ", "calls": [call("get_weather")]},
            ]
        }
    )
    teacher = make(fake_gemini)
    assert teacher.name == "gemini"
    records, usage = teacher.generate(toolset, toolset.get("get_weather"), "missing", n=2, seed=3)

    assert records == [
        {
            "query": "what's the weather like in celsius?",
            "tools": toolset.to_list(),
            "answers": [{"name": "get_weather", "arguments": {"unit": "celsius"}}],
            "category": "missing",
            "expected": "clarify",
            "missing": ["city"],
        },
        {
            "query": "weather please",
            "tools": toolset.to_list(),
            "answers": [{"name": "get_weather", "arguments": {}}],
            "category": "missing",
            "expected": "clarify",
            "missing": ["city"],
        },
    ]
    assert usage.requests == 1 and usage.prompt_tokens == 30 and usage.output_tokens == 40
    (req,) = fake_gemini.requests
    assert req.path.startswith("/v1beta/models/") and req.headers["x-goog-api-key"] == KEY
    gen = generation_config(req)
    assert gen.get("responseMimeType") == "application/json"
    schema = gen.get("responseJsonSchema") or gen.get("response_json_schema")
    assert schema == response_schema(toolset.names)
    assert gen.get("seed") is not None
    assert req.get("tools") is None  # JSON mode: no function declarations
    text = req.user_texts()[0]
    assert "`get_weather`" in text and "'missing'" in text and "write 2 user requests" in text
    assert '"set_timer"' in text  # the whole toolset is shown, so requests stay realistic


def test_call_categories_parse_arguments_and_drop_unusable(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.json(
        {
            "examples": [
                {
                    "query": "weather in Lima and a 3 minute timer",
                    "calls": [call("get_weather", city="Lima"), call("set_timer", minutes=3)],
                },
                {"query": "broken", "calls": [{"name": "set_timer", "arguments_json": "{minutes: 3"}]},
                {"query": "", "calls": []},
                {"query": "object args too", "calls": [{"name": "set_timer", "arguments": {"minutes": 1}}]},
                {"query": "one too many", "calls": [call("set_timer", minutes=2)]},
            ]
        }
    )
    records, _ = make(fake_gemini).generate(toolset, None, "parallel", n=2, seed=1)
    assert [r["query"] for r in records] == ["weather in Lima and a 3 minute timer", "object args too"]
    assert records[0]["answers"] == [
        {"name": "get_weather", "arguments": {"city": "Lima"}},
        {"name": "set_timer", "arguments": {"minutes": 3}},
    ]
    assert all(r["expected"] == "call" and r["category"] == "parallel" for r in records)
    assert "one of the tools" in fake_gemini.requests[0].user_texts()[0]


@pytest.mark.parametrize("category", ["irrelevant", "negated", "out_of_range"])
def test_refusal_categories_have_no_answers(fake_gemini: FakeGemini, toolset: Toolset, category: str) -> None:
    # Even if Gemini labels a call, these categories mean "no call".
    fake_gemini.json(
        {"examples": [{"query": "set a timer for 9000 minutes", "calls": [call("set_timer", minutes=9000)]}]}
    )
    (record,), _ = make(fake_gemini).generate(toolset, toolset.get("set_timer"), category, n=1, seed=0)
    assert record["answers"] == [] and record["expected"] == "refuse" and record["category"] == category
    # An out-of-range request keeps the call it asks for, so it can be checked to break the schema.
    violation = [{"name": "set_timer", "arguments": {"minutes": 9000}}] if category == "out_of_range" else None
    assert record.get("violation") == violation


def test_ambiguous_records_keep_each_acceptable_answer(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.json(
        {
            "examples": [
                {
                    "query": "set it for Paris",
                    "calls": [],
                    "acceptable": [
                        {"calls": [call("get_weather", city="Paris")]},
                        {"calls": [call("get_weather", city="Paris", unit="celsius")]},
                    ],
                }
            ]
        }
    )
    (record,), _ = make(fake_gemini).generate(toolset, None, "ambiguous", n=1, seed=0)
    assert record["expected"] == "escalate" and record["answers"] == []
    assert record["acceptable"] == [
        [{"name": "get_weather", "arguments": {"city": "Paris"}}],
        [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}],
    ]


def test_non_json_answer_is_asked_again_then_fails(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    truncated = Reply(body=response_body([candidate([{"text": '{"examples": [{"query": "wea'}], "MAX_TOKENS")]))
    fake_gemini.queue(truncated).json(
        {"examples": [{"query": "weather in Quito", "calls": [call("get_weather", city="Quito")]}]}
    )
    records, usage = make(fake_gemini).generate(toolset, toolset.get("get_weather"), "single", n=1, seed=5)
    assert [r["query"] for r in records] == ["weather in Quito"] and usage.requests == 2
    seeds = [generation_config(r)["seed"] for r in fake_gemini.requests]
    assert seeds[0] != seeds[1]  # the second request is a fresh draw

    fake_gemini.queue(truncated, truncated)
    with pytest.raises(GeminiUnavailable) as info:
        make(fake_gemini).generate(toolset, toolset.get("get_weather"), "single", n=1, seed=5)
    assert info.value.code == "teacher_error"


def _batch(req: RecordedRequest) -> Reply:
    """Answer as many examples as the prompt asks for, numbered, so chunks are visible."""
    text = req.user_texts()[0]
    n = int(re.search(r"write (\d+) user requests", text).group(1))  # type: ignore[union-attr]
    seed = re.search(r"Batch seed (\d+)", text).group(1)  # type: ignore[union-attr]
    examples = [{"query": f"timer {seed}-{i}", "calls": [call("set_timer", minutes=i + 1)]} for i in range(n)]
    return Reply(body=response_body([candidate([{"text": json.dumps({"examples": examples})}])], 50, 60))


def test_large_n_is_split_into_requests(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.queue(_batch, _batch)
    records, usage = make(fake_gemini).generate(toolset, toolset.get("set_timer"), "single", n=30, seed=2)
    assert len(records) == 30 and len({r["query"] for r in records}) == 30
    assert usage.requests == 2 and usage.total_tokens == 220
    asked = [re.search(r"write (\d+)", r.user_texts()[0]).group(1) for r in fake_gemini.requests]  # type: ignore[union-attr]
    assert asked == ["25", "5"]


def test_same_retry_rules_as_escalation(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.error(503).error(429, retry_after="0").queue(_batch)
    records, usage = make(fake_gemini).generate(toolset, toolset.get("set_timer"), "single", n=3, seed=0)
    assert len(records) == 3 and usage.requests == 1 and len(fake_gemini.requests) == 3

    fake_gemini.error(400)
    with pytest.raises(GeminiUnavailable) as info:
        make(fake_gemini).generate(toolset, None, "single", n=3, seed=0)
    assert info.value.code == "teacher_error" and len(fake_gemini.requests) == 4


def test_no_key_raises_without_request(
    fake_gemini: FakeGemini, toolset: Toolset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_gemini.url)
    teacher = GeminiTeacher()
    assert not teacher.available and "SECRET" not in repr(teacher)
    with pytest.raises(GeminiUnavailable) as info:
        teacher.generate(toolset, None, "single", n=1, seed=0)
    assert info.value.code == "no_api_key" and fake_gemini.requests == []


def test_bad_arguments_are_data_errors(fake_gemini: FakeGemini, toolset: Toolset, weather_tools: list[dict]) -> None:
    teacher = make(fake_gemini)
    with pytest.raises(DataError):
        teacher.generate(toolset, None, "chitchat", n=1, seed=0)
    with pytest.raises(DataError):
        teacher.generate(toolset, None, "single", n=0, seed=0)
    other = Toolset.load([{**weather_tools[0], "name": "elsewhere"}]).get("elsewhere")
    with pytest.raises(DataError):
        teacher.generate(toolset, other, "single", n=1, seed=0)
    assert fake_gemini.requests == [] and set(CATEGORIES) >= {"single", "ambiguous", "out_of_range"}


def test_generate_many_bounded_concurrency_and_per_job_failures(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    def slow_batch(req: RecordedRequest) -> Reply:
        reply = _batch(req)
        reply.delay_s = 0.2
        return reply

    fake_gemini.queue(*[slow_batch] * 3)
    fake_gemini.error(403)  # the fourth request (whichever job sends it) fails for good
    teacher = make(fake_gemini)
    jobs = [TeachJob(toolset, toolset.get("set_timer"), "single", 2, seed) for seed in range(4)]
    results = teacher.generate_many(jobs, concurrency=2)
    assert [r.job.seed for r in results] == [0, 1, 2, 3]
    failed = [r for r in results if r.error is not None]
    assert len(failed) == 1 and failed[0].error.code == "teacher_error" and failed[0].records == []
    assert sum(len(r.records) for r in results) == 6
    assert fake_gemini.max_in_flight == 2


def test_agenerate_twin(fake_gemini: FakeGemini, toolset: Toolset) -> None:
    fake_gemini.queue(_batch)
    teacher = make(fake_gemini)

    async def go() -> tuple[list[dict], Any]:
        try:
            return await teacher.agenerate(toolset, toolset.get("set_timer"), "single", n=4, seed=9)
        finally:
            await teacher.client.aclose()

    records, usage = asyncio.run(go())
    assert len(records) == 4 and usage.requests == 1
