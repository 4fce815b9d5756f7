"""The written teacher data: every gold call validates against its tool (real jsonschema),
held-out toolsets never leak into training, and variants keep requests and calls consistent."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from needle_router.cli import app
from needle_router.data.written import NO_CALL, choose_heldout, load_heldout, load_written, split_by_toolset, variants


def test_every_written_gold_call_validates_against_its_tool() -> None:
    records = load_written()
    assert len(records) > 3000 and len({r["suite"] for r in records}) > 200
    for rec in records:
        tools = {t["name"]: t for t in rec["tools"]}
        assert rec["expected"] in ("call", "clarify", "refuse")
        # Calls for "call"; for "clarify" (a required value not given) the call the user asked
        # for without that value, which the policy turns into a question; nothing for "refuse".
        assert bool(rec["answers"]) == (rec["expected"] != "refuse"), rec["id"]
        asked = set(rec.get("missing") or []) if rec["expected"] == "clarify" else set()
        assert (len(rec["answers"]) == 1 and asked) if rec["expected"] == "clarify" else True, rec["id"]
        for call in rec["answers"]:
            schema = tools[call["name"]]["parameters"]
            for err in Draft202012Validator(schema).iter_errors(call["arguments"]):
                absent = {p for p in schema.get("required", []) if p not in call["arguments"]}
                assert err.validator == "required" and absent <= asked, (rec["id"], err.message)
            assert set(call["arguments"]) <= set(schema.get("properties", {})), rec["id"]
            assert not set(call["arguments"]) & asked, rec["id"]


def test_split_by_toolset_and_variants() -> None:
    records = load_written()
    listed = load_heldout()
    train, held = split_by_toolset(records, listed)
    assert {r["suite"] for r in held} == listed  # every listed toolset exists
    assert held and not {r["suite"] for r in train} & {r["suite"] for r in held}
    assert len(train) + len(held) == len(records)
    sample = [r for r in train if r["category"] in ("positive", "irrelevant")][:300]
    out = list(variants(sample, copies=2, seed=0))
    assert len(out) == 3 * len(sample)
    for i, rec in enumerate(sample):
        orig, *vs = out[3 * i : 3 * i + 3]
        assert orig == rec
        for v in vs:
            names = {t["name"] for t in v["tools"]}
            assert {t["name"] for t in rec["tools"]} <= names
            if rec["category"] in NO_CALL:
                assert names == {t["name"] for t in rec["tools"]}  # never padded: a new tool might serve it
            for call in v["answers"]:
                for value in call["arguments"].values():
                    if isinstance(value, str) and value not in rec["query"]:
                        continue  # not copied from the request in the original either
                    if isinstance(value, str):
                        assert value in v["query"]


def test_choose_heldout_is_seeded_and_holds_out_at_least_one() -> None:
    suites = [f"part_z/t{i}" for i in range(25)]
    a = choose_heldout(suites, 0.1, seed=1)
    assert a == choose_heldout(list(reversed(suites)), 0.1, seed=1) and len(a) == 2 and set(a) <= set(suites)
    assert len(choose_heldout(suites[:3], 0.1, seed=1)) == 1 and choose_heldout(suites, 0.0, seed=1) == []


def test_data_written_refuses_a_list_naming_unknown_toolsets(tmp_path: Path) -> None:
    bad = tmp_path / "held.txt"
    bad.write_text("# comment\npart_a/no_such_toolset\n")
    res = CliRunner().invoke(app, ["data", "written", "--out", str(tmp_path / "o"), "--heldout", str(bad)])
    assert res.exit_code == 2 and "no_such_toolset" in res.output


def test_data_written_command(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["data", "written", "--out", str(tmp_path), "--copies", "1"])
    assert res.exit_code == 0, res.output
    stats = json.loads(res.output)
    assert stats["train"] == 2 * (stats["records"] - stats["heldout"])
    held = [json.loads(x) for x in (tmp_path / "heldout.jsonl").read_text().splitlines()]
    assert {r["suite"] for r in held} == set(stats["heldout_toolsets"])
