"""The tool bank, procedural tools and the synthetic generator: labels must be true to the schemas."""

from __future__ import annotations

import json
import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from needle_router.data import procedural
from needle_router.data.spec import DataError, parse_tools_dsl
from needle_router.data.synth import CATEGORIES, NEGATION_RE, Generator, generate_records, generate_requests, synthesize
from needle_router.data.toolbank import load_bank
from needle_router.text import find_numbers
from needle_router.tools import Tool, Toolset
from needle_router.types import ToolCall
from needle_router.validation import check_call

N = 1500


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return list(generate_records(N, seed=11))


@lru_cache(maxsize=4096)
def _toolset(tool_json: str) -> Toolset:
    return Toolset([Tool(**json.loads(tool_json))])


def _check(call: dict[str, Any], tools: list[dict[str, Any]]):
    tool = next(t for t in tools if t["name"] == call["name"])
    return check_call(ToolCall(**call), _toolset(json.dumps(tool, sort_keys=True)))


def test_bank_size_domains_and_schema_features() -> None:
    bank = load_bank()
    assert len(bank) >= 400
    assert len(bank.domains) >= 25
    assert all(len(v) >= 5 for v in bank.by_domain.values())
    ts = Toolset([Tool(**t.to_dict()) for t in bank.tools])  # meta-schema check of every tool
    assert len(set(ts.names)) == len(bank)
    kinds = [p for t in bank.tools for p in t.to_dict()["parameters"]["properties"].values()]
    assert any(p.get("format") == "date" for p in kinds)
    assert any(p.get("format") == "email" for p in kinds)
    assert any(p["type"] == "object" for p in kinds)
    assert any(p["type"] == "array" for p in kinds)
    assert any(p["type"] == "boolean" for p in kinds)
    assert any("enum" in p for p in kinds)
    assert any("minimum" in p and "maximum" in p for p in kinds)
    assert any("default" in p for p in kinds)
    assert any(t.to_dict()["parameters"].get("required") != [p.name for p in t.params] for t in bank.tools)


def test_dsl_rejects_bad_lines() -> None:
    with pytest.raises(DataError):
        parse_tools_dsl("x", "only_two | fields")
    with pytest.raises(DataError):
        parse_tools_dsl("x", "t | d | do {nope} | a:str@city")
    with pytest.raises(DataError):
        parse_tools_dsl("x", "t | d | do it | a:str@no_such_pool")


def test_procedural_family_reads_like_descriptions() -> None:
    r = random.Random(5)
    names: set[str] = set()
    opaque_params = 0
    for _ in range(200):
        fam = procedural.make_family(r, 5)
        ts = Toolset([Tool(**t.to_dict()) for t in fam])  # valid and uniquely named
        assert len(ts) == 5
        target = fam[0]
        verb_obj = target.description.lower()
        # every other tool shares the verb or the object... or neither, but never both
        assert all(t.description.lower() != verb_obj for t in fam[1:])
        names.update(t.name for t in fam)
        opaque_params += sum(1 for t in fam for p in t.params if re.fullmatch(r"[a-z]_?\d+|arg_?\d+", p.name))
    assert len(names) > 900  # names are random, not a small fixed vocabulary
    assert any(re.fullmatch(r"t_[0-9a-f]{3}|op\d{3}", n) for n in names)
    assert opaque_params > 100


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    synthesize(400, 3, a, progress=False)
    synthesize(400, 3, b, progress=False)
    synthesize(400, 4, c, progress=False)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    lines = a.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 400
    # the fast line writer and the dict form agree
    assert [json.loads(x) for x in lines] == list(generate_records(400, 3))


def test_stats_and_shares(tmp_path: Path) -> None:
    stats = synthesize(600, 1, tmp_path / "s.jsonl", shares={"single": 1, "negated": 1}, progress=False)
    assert set(stats.categories) == {"single", "negated"}
    assert stats.examples == 600 and stats.distinct_queries > 550
    assert 1 < stats.avg_tools <= 9 and stats.avg_query_words > 3
    with pytest.raises(DataError):
        synthesize(1, 1, tmp_path / "x.jsonl", shares={"bogus": 1}, progress=False)


def test_every_category_appears(records: list[dict[str, Any]]) -> None:
    cats = {r["category"] for r in records}
    assert cats == set(CATEGORIES)
    for r in records:
        assert 1 <= len(r["tools"]) <= 12
        assert len({t["name"] for t in r["tools"]}) == len(r["tools"])


def test_positive_labels_validate_and_strings_are_verbatim(records: list[dict[str, Any]]) -> None:
    checked = 0
    for r in records:
        if r["expected"] != "call":
            continue
        assert r["answers"]
        for call in r["answers"]:
            chk = _check(call, r["tools"])
            assert chk.ok, (r["query"], call, chk.issues)
            tool = next(t for t in r["tools"] if t["name"] == call["name"])
            props = tool["parameters"]["properties"]
            for k, v in call["arguments"].items():
                s = props[k]
                free_text = s["type"] == "string" and not ({"enum", "format", "pattern"} & set(s))
                if free_text:
                    assert v in r["query"], (r["query"], k, v)
                if s["type"] == "array":
                    assert all(x in r["query"] for x in v)
                if s["type"] in ("integer", "number") and "enum" not in s:
                    said = {n for n, _, _ in find_numbers(r["query"])}  # digits, 1,250 or words
                    assert float(v) in said or str(v) in r["query"], (r["query"], k, v)
            checked += 1
    assert checked > N // 2


def test_missing_labels_lack_exactly_a_required_parameter(records: list[dict[str, Any]]) -> None:
    miss = [r for r in records if r["category"] == "missing"]
    assert miss
    for r in miss:
        assert r["expected"] == "clarify" and len(r["answers"]) == 1
        call = r["answers"][0]
        chk = _check(call, r["tools"])
        assert not chk.invalid, chk.issues
        assert chk.missing == r["missing"]
        tool = next(t for t in r["tools"] if t["name"] == call["name"])
        assert set(r["missing"]) <= set(tool["parameters"]["required"])


_NUM = re.compile(r"(?:(?<=\bx)|(?<![\w.:-]))-?\d+(?:\.\d+)?(?![\d:])")


def test_out_of_range_queries_contain_an_out_of_range_value(records: list[dict[str, Any]]) -> None:
    bank = load_bank()
    oor = [r for r in records if r["category"] == "out_of_range"]
    assert oor
    for r in oor:
        assert r["answers"] == [] and r["expected"] == "refuse"
        numbers = [float(x) for x in _NUM.findall(r["query"])]
        found = False
        for t in r["tools"]:
            for p in t["parameters"]["properties"].values():
                lo, hi = p.get("minimum"), p.get("maximum")
                if lo is not None and hi is not None and any(n < lo or n > hi for n in numbers):
                    found = True
            spec = bank.by_name.get(t["name"])
            if spec is not None and any(b in r["query"] for p in spec.params for b in p.bad):
                found = True
        assert found, r["query"]


def test_negated_queries_carry_a_negation(records: list[dict[str, Any]]) -> None:
    neg = [r for r in records if r["category"] == "negated"]
    assert neg
    for r in neg:
        assert NEGATION_RE.search(r["query"]), r["query"]
        assert r["answers"] == [] and r["expected"] == "refuse"


def test_ambiguous_lists_two_valid_tools(records: list[dict[str, Any]]) -> None:
    amb = [r for r in records if r["category"] == "ambiguous"]
    assert amb
    for r in amb:
        assert r["answers"] == [] and r["expected"] == "escalate"
        acc = r["acceptable"]
        assert len(acc) == 2 and acc[0][0]["name"] != acc[1][0]["name"]
        for alt in acc:
            assert _check(alt[0], r["tools"]).ok


def test_irrelevant_toolsets_leave_out_the_queried_domain() -> None:
    g = Generator(9, shares={"irrelevant": 1})
    bank = load_bank()
    written_for = 0
    for _ in range(300):
        ex = g.gold_request()
        assert ex.answers == [] and ex.expected == "refuse"
        if ex.origin is None:  # chit-chat
            continue
        written_for += 1
        origin = bank.by_name[ex.origin]
        assert all(t.name != origin.name and t.domain != origin.domain for t in ex.tools)
        assert all(t in bank.unrelated[origin.domain] for t in ex.tools)
    assert written_for > 200


def test_phrasing_variety() -> None:
    qs = [ex.query for ex in generate_requests(3000, 2)]
    assert len(set(qs)) > 2950
    assert any(q == q.lower() and any(c.isalpha() for c in q) for q in qs)  # lower-cased
    assert any(q.endswith("?") for q in qs)
    assert any(re.search(r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)\b", q) for q in qs)
    assert any("tomorrow" in q for q in qs) and any(re.search(r"\d{4}-\d{2}-\d{2}", q) for q in qs)
    assert sum(q.count(". ") >= 1 for q in qs) > 100  # multi-sentence
