"""Gemini as a data teacher: realistic, labelled user requests for a toolset, per category.

    teacher = GeminiTeacher()                          # key from GEMINI_API_KEY / GOOGLE_API_KEY
    records, usage = teacher.generate(toolset, toolset.get("set_timer"), "missing", n=20, seed=7)

Each record is in the shared record format (query, tools, answers, category, expected, and
`missing` / `acceptable` / `violation` where the category has them). Records are NOT validated here: the data
pipeline (needle_router/data/teach.py) validates, de-duplicates, writes and resumes. Only what
cannot be a record is dropped (no query, arguments that are not a JSON object).

The request uses structured output (response_mime_type application/json + response_json_schema)
and the same client rules as escalation (v1beta, timeout, tenacity retries, deadline, usage).
Arguments travel as JSON text (`arguments_json`) because a free-form object in a response schema
is not reliably filled by Gemini, while JSON-in-a-string is. Diversity comes from the seed: it
picks the writing styles the batch must cover and is passed on as the sampling seed.

Failures raise `GeminiUnavailable` (an EscalationError) with the escalator's codes (no_api_key,
teacher_unreachable, teacher_timeout, teacher_blocked, teacher_error).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from google.genai import types as gt

from needle_router.errors import DataError
from needle_router.escalation.client import GeminiClient, GeminiSettings, GeminiUnavailable, UsageMeter
from needle_router.tools import Tool, Toolset
from needle_router.types import Usage

log = logging.getLogger("needle_router.data")

EXPECTED: dict[str, str] = {
    "single": "call",
    "parallel": "call",
    "missing": "clarify",
    "irrelevant": "refuse",
    "negated": "refuse",
    "out_of_range": "refuse",
    "ambiguous": "escalate",
}
CATEGORIES = tuple(EXPECTED)
MAX_PER_REQUEST = 25  # larger batches come back truncated or repetitive

_BRIEFS: dict[str, str] = {
    "single": "Each request asks for exactly one action that {target} performs. `calls` holds exactly one "
    "call with every argument the request states; every required argument must be stated in the request.",
    "parallel": "Each request asks for two or more independent actions in one message (the same tool with "
    "different arguments, or different tools from the list; {target} should be among them). `calls` holds "
    "one call per action, each with every argument the request states.",
    "irrelevant": "Each request is something a user of this application might plausibly type, close to the "
    "topic of {target}, but NONE of the listed tools can do it. `calls` is empty.",
    "missing": "Each request clearly wants {target} but leaves out at least one REQUIRED parameter, so the "
    "assistant would have to ask. `calls` holds the one PARTIAL call with only the arguments actually stated; "
    "`missing` lists the names of the required parameters the request leaves out.",
    "negated": "Each request mentions the action of {target} but says NOT to do it, cancels it, or only talks "
    "about it (e.g. 'don't ...', 'never mind ...', 'how does ... work'). `calls` is empty.",
    "out_of_range": "Each request asks {target} for a value its schema forbids (beyond minimum/maximum, not one "
    "of the enum values, wrong format). Use clearly invalid values. `calls` holds the one call exactly as the "
    "request asks for it, forbidden value included (it is checked to break the schema; nothing runs it).",
    "ambiguous": "Each request could reasonably mean two or more different calls (different tools, or clearly "
    "different argument values) and nothing in it decides which. `calls` is empty; `acceptable` lists every "
    "reasonable interpretation, each as its list of calls.",
}

STYLES = (
    "terse, lowercase, like a chat message",
    "polite and complete sentences",
    "with a typo or two",
    "from a non-native English speaker",
    "with a short piece of irrelevant context first",
    "as a voice-assistant command",
    "with numbers written as words",
    "indirect ('could you maybe ...', 'I was wondering if ...')",
    "impatient, with exclamation marks",
    "with units or formats written differently than in the schema",
    "a long, detailed message",
    "a question rather than a command",
)

SYSTEM_PROMPT = """\
You write training data for a tool router: realistic messages a user types to an application \
that has the tools below, each labelled with the correct tool calls. Be diverse in topic, \
wording, length and tone; never repeat a request. Use only the listed tools, exactly their \
parameter names, and values their JSON Schemas accept (unless the task says otherwise). Write \
absolute values (explicit dates like 2025-03-14, explicit places): never 'tomorrow' or 'here'. \
`arguments_json` is the call's arguments as the text of one JSON object."""


def _call_schema(names: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "name": {"type": "string", "enum": names},
            "arguments_json": {"type": "string", "description": 'the arguments as a JSON object, e.g. {"x": 1}'},
        },
        "required": ["name", "arguments_json"],
    }


def response_schema(names: list[str]) -> dict[str, Any]:
    """The JSON Schema Gemini's answer must follow."""
    call = _call_schema(names)
    example = {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "calls": {"type": "array", "items": call},
            "missing": {"type": "array", "items": {"type": "string"}},
            "acceptable": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"calls": {"type": "array", "items": call}},
                    "required": ["calls"],
                },
            },
        },
        "required": ["query", "calls"],
    }
    return {"type": "object", "properties": {"examples": {"type": "array", "items": example}}, "required": ["examples"]}


def prompt(toolset: Toolset, tool: Tool | None, category: str, n: int, seed: int) -> str:
    target = f"the tool `{tool.name}`" if tool is not None else "one of the tools"
    styles = random.Random(seed).sample(STYLES, 3)
    tools_json = json.dumps(toolset.to_list(), ensure_ascii=False)
    return (
        f"Tools (JSON Schema):\n{tools_json}\n\n"
        f"Task: write {n} user requests of category '{category}'.\n{_BRIEFS[category].format(target=target)}\n"
        f"Mix these styles across the batch: {'; '.join(styles)}.\n"
        f"Batch seed {seed}: make this batch different from other batches.\n"
        'Answer with {"examples": [...]} only.'
    )


_Request = tuple[list[gt.Content], gt.GenerateContentConfig]  # one generate_content call

# Generation asks for up to MAX_PER_REQUEST records in one answer: slower than an escalation's
# few calls, and nobody waits on it, so it gets more time and gentler retries.
TEACHING_SETTINGS = GeminiSettings(timeout_s=90, deadline_s=240, backoff_base_s=1.0, backoff_max_s=20.0)


@dataclass
class TeachJob:
    """One `generate` call, for `generate_many`."""

    toolset: Toolset
    tool: Tool | None
    category: str
    n: int
    seed: int


@dataclass
class TeachResult:
    job: TeachJob
    records: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    error: GeminiUnavailable | None = None


class GeminiTeacher:
    """Generates labelled records with Gemini. Thread-safe; share one per process."""

    name = "gemini"

    def __init__(
        self, settings: GeminiSettings | None = None, *, client: GeminiClient | None = None, **options: Any
    ) -> None:
        """`settings` (default: TEACHING_SETTINGS) with any field overridden by keyword (see
        GeminiSettings); or a ready `client`."""
        self.client = client or GeminiClient(settings or TEACHING_SETTINGS, **options)

    def __repr__(self) -> str:
        return f"GeminiTeacher({self.client!r})"

    @property
    def available(self) -> bool:
        return self.client.available

    def close(self) -> None:
        self.client.close()

    # -- public API ------------------------------------------------------------------------------

    def generate(
        self, toolset: Toolset, tool: Tool | None, category: str, n: int, seed: int
    ) -> tuple[list[dict[str, Any]], Usage]:
        """`n` (at most; fewer if Gemini returns fewer) records of `category`. Raises GeminiUnavailable."""
        meter = UsageMeter()
        steps = self._exchanges(toolset, tool, category, n, seed)
        try:
            contents, config = next(steps)
            while True:
                contents, config = steps.send(self.client.generate(contents, config, meter))
        except StopIteration as done:
            return done.value, meter.usage

    async def agenerate(
        self, toolset: Toolset, tool: Tool | None, category: str, n: int, seed: int
    ) -> tuple[list[dict[str, Any]], Usage]:
        """The async twin of `generate`."""
        meter = UsageMeter()
        steps = self._exchanges(toolset, tool, category, n, seed)
        try:
            contents, config = next(steps)
            while True:
                contents, config = steps.send(await self.client.agenerate(contents, config, meter))
        except StopIteration as done:
            return done.value, meter.usage

    def _exchanges(
        self, toolset: Toolset, tool: Tool | None, category: str, n: int, seed: int
    ) -> Generator[_Request, gt.GenerateContentResponse, list[dict[str, Any]]]:
        """The requests of one `generate`, without the transport: yields each request, is sent
        Gemini's response, returns the records. `generate` and `agenerate` differ only in how
        they send; the chunking, the one retry of an unusable answer and parsing are here."""
        records: list[dict[str, Any]] = []
        for size, chunk_seed in self._chunks(toolset, tool, category, n, seed):
            # An unusable (non-JSON, truncated) answer gets one fresh request before giving up.
            for attempt in range(2):
                response = yield self._request(toolset, tool, category, size, chunk_seed, attempt)
                parsed = self._parse(response, toolset, category)
                if parsed is not None:
                    records += parsed
                    break
            else:
                raise _unusable()
        return records[:n]

    async def agenerate_many(self, jobs: Iterable[TeachJob], concurrency: int = 4) -> list[TeachResult]:
        """Run `jobs` with at most `concurrency` requests in flight; results in job order, failures
        recorded per job (one unreachable batch does not lose the others)."""
        gate = asyncio.Semaphore(max(1, concurrency))

        async def run(job: TeachJob) -> TeachResult:
            async with gate:
                try:
                    records, usage = await self.agenerate(job.toolset, job.tool, job.category, job.n, job.seed)
                except GeminiUnavailable as exc:
                    return TeachResult(job, error=exc)
                return TeachResult(job, records, usage)

        try:
            return list(await asyncio.gather(*(run(job) for job in jobs)))
        finally:
            await self.client.aclose()

    def generate_many(self, jobs: Iterable[TeachJob], concurrency: int = 4) -> list[TeachResult]:
        """Blocking wrapper of `agenerate_many` (starts its own event loop)."""
        return asyncio.run(self.agenerate_many(list(jobs), concurrency))

    # -- request and answer ----------------------------------------------------------------------

    def _chunks(self, toolset: Toolset, tool: Tool | None, category: str, n: int, seed: int) -> list[tuple[int, int]]:
        if category not in EXPECTED:
            raise DataError(f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
        if not isinstance(toolset, Toolset) or not len(toolset):
            raise DataError("the teacher needs a non-empty Toolset")
        if tool is not None and toolset.get(tool.name) is None:
            raise DataError(f"tool {tool.name!r} is not in the toolset")
        if not isinstance(n, int) or n < 1:
            raise DataError(f"n must be a positive integer, got {n!r}")
        sizes = [MAX_PER_REQUEST] * (n // MAX_PER_REQUEST) + ([n % MAX_PER_REQUEST] if n % MAX_PER_REQUEST else [])
        return [(size, seed * 1000 + i) for i, size in enumerate(sizes)]

    def _request(
        self, toolset: Toolset, tool: Tool | None, category: str, n: int, seed: int, attempt: int
    ) -> _Request:
        # A retry after an unusable answer gets another seed: the same seed may give the same answer.
        seed = seed + 7919 * attempt
        config = gt.GenerateContentConfig(
            system_instruction=SYSTEM_PROMPT,
            response_mime_type="application/json",
            response_json_schema=response_schema(toolset.names),
            seed=seed % 2**31,
            automatic_function_calling=gt.AutomaticFunctionCallingConfig(disable=True),
            automatic_continuation=False,
        )
        text = prompt(toolset, tool, category, n, seed)
        return [gt.Content(role="user", parts=[gt.Part(text=text)])], config

    def _parse(
        self, response: gt.GenerateContentResponse, toolset: Toolset, category: str
    ) -> list[dict[str, Any]] | None:
        """Records from the answer; None when the answer is not the requested JSON."""
        if not response.candidates:
            feedback = response.prompt_feedback
            why = feedback.block_reason if feedback and feedback.block_reason else "no candidates"
            raise GeminiUnavailable("teacher_blocked", f"Gemini returned no answer ({why})")
        parts = (response.candidates[0].content.parts if response.candidates[0].content else None) or []
        text = "".join(p.text for p in parts if p.text and not p.thought)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            log.warning("teacher answer is not JSON (%d characters); asking again", len(text))
            return None
        examples = doc.get("examples") if isinstance(doc, dict) else doc
        if not isinstance(examples, list):
            return None
        return [r for ex in examples if (r := to_record(ex, toolset, category)) is not None]


def _unusable() -> GeminiUnavailable:
    return GeminiUnavailable("teacher_error", "Gemini did not answer with the requested JSON, twice")


def _call(raw: Any) -> dict[str, Any] | None:
    """{"name", "arguments"} from one returned call, or None if it cannot be one."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        return None
    args: Any = raw.get("arguments")
    if args is None:
        text = raw.get("arguments_json", "{}")
        try:
            args = json.loads(text) if isinstance(text, str) and text.strip() else {}
        except json.JSONDecodeError:
            return None
    return {"name": raw["name"], "arguments": args} if isinstance(args, dict) else None


def _calls(raw: Any) -> list[dict[str, Any]] | None:
    if raw is None:
        return []
    if not isinstance(raw, list):
        return None
    calls = [_call(c) for c in raw]
    return None if any(c is None for c in calls) else calls  # type: ignore[return-value]


def to_record(example: Any, toolset: Toolset, category: str) -> dict[str, Any] | None:
    """One Gemini example as a shared-format record (unvalidated), or None if it cannot be one."""
    if not isinstance(example, dict):
        return None
    query = example.get("query")
    calls = _calls(example.get("calls"))
    if not isinstance(query, str) or not query.strip() or calls is None:
        return None
    expected = EXPECTED[category]
    record: dict[str, Any] = {
        "query": query.strip(),
        "tools": toolset.to_list(),
        "answers": calls if expected in ("call", "clarify") else [],
        "category": category,
        "expected": expected,
    }
    if category == "missing":
        missing = example.get("missing")
        if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing) or not missing:
            # Fall back to the schema: required parameters the partial call does not give.
            missing = []
            for call in calls:
                t = toolset.get(call["name"])
                missing += [p for p in (t.required if t else []) if p not in call["arguments"]]
        record["missing"] = missing
    if category == "out_of_range" and calls:
        # Not an answer (nothing should run): the call as asked, so a consumer can check that the
        # request really breaks the schema before trusting the label (data/suite.py does).
        record["violation"] = calls
    if category == "ambiguous":
        options = [
            _calls(opt.get("calls")) if isinstance(opt, dict) else _calls(opt)
            for opt in example.get("acceptable") or []
        ]
        record["acceptable"] = [opt for opt in options if opt]
    return record
