"""Context-free records, synonym-rich wording and function masking in the training data."""

from __future__ import annotations

import random
import re

import pytest

from needle_router.data.augment import mask_functions
from needle_router.data.paraphrase import SYNONYMS, swap_synonyms
from needle_router.data.records import calls_of
from needle_router.data.synth import NO_CONTEXT_SHARE, Generator, generate_records
from needle_router.model.examples import record_tools
from needle_router.tools import Toolset
from needle_router.types import ToolCall
from needle_router.validation import check_call

RELATIVE = re.compile(
    r"\b(tomorrow|day after tomorrow|next (mon|tues|wednes|thurs|fri|satur|sun)day|in \w+ days?)\b", re.I
)


def _walk_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _walk_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _walk_strings(v)]
    return []


def test_some_records_carry_no_context_and_then_say_dates_absolutely() -> None:
    recs = list(generate_records(3000, seed=5))
    bare = [r for r in recs if not r["context"]]
    assert abs(len(bare) / len(recs) - NO_CONTEXT_SHARE) < 0.04
    dated = 0
    for r in bare:
        for call in calls_of(r["answers"]):
            for s in _walk_strings(call[1]):
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", s):
                    dated += 1
                    # the year of an absolute date is said, so it can be resolved without "today"
                    assert s[:4] in r["query"] or s[:10] in r["query"], (r["query"], s)
    assert dated > 20


def test_without_context_the_generator_never_uses_relative_dates() -> None:
    g = Generator(9, no_context_share=1.0, shares={"single": 1.0})
    for _ in range(400):
        ex = g.gold_request()
        assert ex.context == {}
        if any(re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", s) for c in ex.answers for s in _walk_strings(c)):
            said = ex.query  # free-text values may say "tomorrow" ("let's grab lunch tomorrow")
            for s in sorted((s for c in ex.answers for s in _walk_strings(c)), key=len, reverse=True):
                said = said.replace(s, " ")
            assert not RELATIVE.search(said), ex.query


def test_synonym_swaps_change_wording_but_keep_values_verbatim() -> None:
    plain = list(generate_records(400, seed=3))
    swapped = list(generate_records(400, seed=3, synonyms=1.0))
    copied = 0
    for r in swapped:
        schemas = {t["name"]: t["parameters"].get("properties", {}) for t in r["tools"]}
        for name, args in calls_of(r["answers"]):
            for key, value in args.items():
                schema = schemas[name].get(key, {})
                if schema.get("type") == "string" and "enum" not in schema and "format" not in schema \
                        and not re.fullmatch(r"[\d\-:T]+", value):
                    assert value in r["query"], (r["query"], key, value)
                    copied += 1
    assert copied > 50
    assert sum(a["query"] != b["query"] for a, b in zip(plain[:50], swapped[:50], strict=True)) > 0
    words = {w for r in swapped for w in re.findall(r"[a-z]+", r["query"].lower())}
    assert words & {"display", "retrieve", "fetch", "erase", "reserve", "pull"}


def test_swap_synonyms_keeps_case_and_placeholders() -> None:
    r = random.Random(0)
    out = swap_synonyms(r, "Show \x010\x02 and delete \x011\x02", p=1.0)
    assert "\x010\x02" in out and "\x011\x02" in out
    first = out.split(" ")[0]
    assert first[0].isupper() and first.lower() in {s.split(" ")[0] for s in SYNONYMS["show"]}
    assert swap_synonyms(r, "show it", p=0.0) == "show it"


@pytest.mark.parametrize("seed", range(5))
def test_masking_renames_consistently_and_keeps_records_valid(seed: int) -> None:
    r = random.Random(seed)
    for rec in generate_records(60, seed=seed):
        masked = mask_functions(rec, r, params_p=1.0)
        old = {t["name"] for t in rec["tools"]}
        new = {t["name"] for t in masked["tools"]}
        assert not (old & new) and len(new) == len(old)
        assert [t["description"] for t in masked["tools"]] == [t["description"] for t in rec["tools"]]
        ts = Toolset(record_tools(masked))
        for alt in [masked["answers"], *(masked.get("acceptable") or [])]:
            for name, args in calls_of(alt):
                assert name in ts.names
                check = check_call(ToolCall(name=name, arguments=args), ts)
                assert not check.invalid, (name, args)
        assert masked["query"] == rec["query"] and rec["tools"][0]["name"] in old  # the input is not mutated


def test_masking_keeps_parameters_that_have_no_description() -> None:
    rec = {
        "query": "ping host a",
        "tools": [{"name": "ping", "description": "Ping a host.", "parameters": {
            "type": "object", "properties": {"host": {"type": "string"}, "count": {"type": "integer",
                                                                              "description": "How many"}},
            "required": ["host", "count"]}}],
        "answers": [{"name": "ping", "arguments": {"host": "a", "count": 3}}],
    }
    m = mask_functions(rec, random.Random(1), params_p=1.0)
    props = m["tools"][0]["parameters"]["properties"]
    assert "host" in props and "count" not in props
    (new_count,) = [k for k in props if k != "host"]
    assert m["tools"][0]["parameters"]["required"] == ["host", new_count]
    assert m["answers"] == [{"name": m["tools"][0]["name"], "arguments": {"host": "a", new_count: 3}}]
