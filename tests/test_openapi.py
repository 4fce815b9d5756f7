"""Real API operations as training tools: OpenAPI conversion, licence and BFCL filters, the split by
provider and the validity of the records (a small hand-written fixture; CI has no npm package)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from needle_router.data.infer import api_pool, description_action, infer_spec, name_action, words_of
from needle_router.data.openapi import (
    NO_LICENCE,
    ApiTools,
    ConvertStats,
    SchemaConverter,
    build_toolsets,
    clean_text,
    licence_of,
    load_apis,
    load_bfcl_names,
    run_openapi,
    sanitize_name,
    split_providers,
)
from needle_router.tools import Tool
from needle_router.validation import FORMATS

FIX = Path(__file__).parent / "fixtures" / "openapi"
SPECS = FIX / "api"
BFCL = FIX / "bfcl-names.jsonl"


@pytest.fixture(scope="module")
def converted() -> tuple[list[ApiTools], ConvertStats]:
    stats = ConvertStats()
    return load_apis(SPECS, load_bfcl_names(BFCL), stats), stats


def _tools(apis: list[ApiTools]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for a in apis for t in a.tools}


def test_parameters_body_refs_and_enums(converted: tuple[list[ApiTools], ConvertStats]) -> None:
    tools = _tools(converted[0])
    user = tools["getUser"]
    props = user["parameters"]["properties"]
    # path parameter from a path-level $ref, query enum without null; credentials dropped
    assert props["userId"] == {"type": "integer", "minimum": 1, "description": "The user's id."}
    assert props["expand"]["enum"] == ["orders", "addresses"]
    assert set(props) == {"userId", "expand"}
    assert user["parameters"]["required"] == ["userId"]
    assert user["description"] == "Get a user. Returns one user by id."

    create = tools["users_create_new"]  # operationId "users/create new!" sanitised
    body = create["parameters"]["properties"]
    assert create["parameters"]["required"] == ["name", "email"]
    assert "id" not in body  # readOnly
    assert "meta" not in body  # free-form object does not convert cleanly
    assert body["role"] == {"type": "string", "enum": ["admin", "member", "guest"], "default": "member",
                            "description": "Account role."}
    assert body["address"]["properties"] == {"street": {"type": "string"}, "city": {"type": "string"}}  # allOf
    assert body["address"]["required"] == ["city"]
    assert body["tags"] == {"type": "array", "items": {"type": "string"}}
    assert body["email"]["format"] == "email"
    assert body["age"] == {"type": "integer", "minimum": 0, "maximum": 150}

    listing = tools["get_users"]  # no operationId: method + path
    assert listing["parameters"]["properties"]["limit"] == {"type": "integer", "minimum": 1, "maximum": 100,
                                                            "default": 20}  # int32 format dropped
    assert tools["createTree"]["parameters"]["properties"] == {
        "value": {"type": "string", "description": "The node's label."}}  # recursive child dropped
    assert tools["notes.create"]["parameters"]["required"] == ["title"]  # form body
    assert tools["notes.list"]["parameters"]["properties"]["tag"] == {"type": "string"}  # 3.1 ["string", "null"]
    for t in tools.values():
        Draft202012Validator.check_schema(t["parameters"])


def test_drops_are_counted(converted: tuple[list[ApiTools], ConvertStats]) -> None:
    tools = _tools(converted[0])
    stats = converted[1]
    for gone in ("deleteUser", "noDescription", "choose", "upload", "tooWide", "get_weather"):
        assert gone not in tools
    assert stats.dropped["deprecated"] == 1
    assert stats.dropped["no description"] == 1
    assert stats.dropped["more than 20 parameters"] == 1
    assert stats.dropped["name in BFCL"] == 1
    assert stats.operations == 19 and stats.kept == len(tools) == 13


def test_licence_filter(converted: tuple[list[ApiTools], ConvertStats]) -> None:
    apis, stats = converted
    assert {a.provider for a in apis} == {"example.com", "notes.example.org", "weather.example.net"}
    assert stats.specs_licence_skipped == {"Proprietary - all rights reserved": 1}
    assert stats.params_dropped["header technical/credential"] == 3  # X-Api-Key, shop-api-key, shop-api-version
    assert {a.api_id: a.licence for a in apis}["notes.example.org/v1"] == NO_LICENCE
    ok = ["MIT", "Apache 2.0 License", "Creative Commons Attribution 3.0", "CC0 1.0", "BSD-3-Clause",
          "U.S. Public Domain License", "The MIT License (MIT)", "CC-BY 4.0"]
    bad = ["eBay API License Agreement", "Commercial", "CC BY-NC 4.0", "Creative Commons CC BY-NC-ND 2.0",
           "AGPLv3", "GNU General Public License v2.0", "Terms and Conditions", "Proprietry", "No Permission"]
    assert all(licence_of({"license": {"name": n}})[1] for n in ok)
    assert not any(licence_of({"license": {"name": n}})[1] for n in bad)
    assert licence_of({}) == (NO_LICENCE, True)


def test_bfcl_names_case_and_punctuation_insensitive(tmp_path: Path) -> None:
    names = load_bfcl_names(BFCL)
    assert "get_weather" in names and "getweather" in names
    stats = ConvertStats()
    apis = load_apis(SPECS, frozenset({"getforecast", "notesget"}), stats)  # getForecast, notes.get
    tools = _tools(apis)
    assert "getForecast" not in tools and "notes.get" not in tools and "get_weather" in tools
    assert stats.dropped["name in BFCL"] == 2


def test_ref_loops_and_dangling_refs_do_not_crash() -> None:
    loop = {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}
    doc = {"components": {"schemas": loop}}
    conv = SchemaConverter(doc)
    with pytest.raises(Exception, match="loop"):
        conv.convert({"$ref": "#/components/schemas/A"})
    with pytest.raises(Exception, match="dangling"):
        conv.convert({"$ref": "#/components/schemas/Missing"})
    with pytest.raises(Exception, match="external"):
        conv.convert({"$ref": "other.json#/x"})


def test_text_and_names() -> None:
    assert clean_text("Returns **bold** `code` <i>x</i>. Second one here. Third.") == \
        "Returns bold code x. Second one here."
    assert len(clean_text("word " * 200)) <= 303
    assert sanitize_name("users/{id}/get all!") == "users_id_get_all"
    assert sanitize_name("1st-thing") == "op_1st-thing"
    assert len(sanitize_name("x" * 100) or "") == 64
    assert words_of("getHTTPStatus_v2") == ["get", "http", "status", "v", "2"]
    assert name_action("annotatedDatasets.list") == "list annotated datasets"
    assert name_action("PlayerSeasonStatsByTeam").startswith("get player season stats")
    assert name_action("post_users_userId_keys") == "create users user keys"
    assert description_action("Subscription settings.") == "get subscription settings"
    assert description_action("Returns the weather for a city.") == "get the weather"
    assert api_pool("pageToken", "") == "token"
    assert api_pool("customer_id", "") == "ident"
    assert api_pool("resourceGroupName", "") == "resname"
    assert api_pool("resourceGroup", "") == "slug"
    assert api_pool("maxResults", "") == "numstr"
    assert api_pool("created_date", "") == "date_str"
    assert api_pool("first_name", "") == "first"
    assert api_pool("language-code", "") == "lang_code"
    assert api_pool("resourceArn", "") == "arn"
    assert api_pool("number", "The phone number to verify.") == "phone"
    assert api_pool("owner", "The account owner of the repository.") == "login"


def test_infer_spec_respects_patterns() -> None:
    import random
    import re

    tool = Tool("t", "Do it.", {"type": "object", "properties": {
        "country_code": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "role_arn": {"type": "string", "pattern": "^arn:aws:iam::\\d{12}:role/[^/]+$"},
        "never": {"type": "string", "pattern": "^(?<=q)z$"}}})
    spec = infer_spec(tool)
    assert [p.name for p in spec.params] == ["country_code", "role_arn"]  # no value fits "never"
    assert spec.params[0].pool == "country_code"
    r = random.Random(0)
    for p in spec.params:
        for _ in range(20):
            value, _said = p.sample(r, None)
            assert re.search(tool.properties[p.name]["pattern"], value)


def _providers(n: int) -> list[ApiTools]:
    out = []
    for i in range(n):
        tools = [{"name": f"op{i}_{j}", "description": f"Operation {j} of api {i}.",
                  "parameters": {"type": "object", "properties": {}}} for j in range(2 + i % 9)]
        out.append(ApiTools(f"p{i}.com/svc", f"p{i}.com", "1", f"API {i}", "MIT", [f"cat{i % 4}"], tools))
    return out


def test_split_by_provider_and_toolset_shape() -> None:
    apis = _providers(60)
    held = split_providers(apis, 0.1, seed=3)
    assert len(held) == 6
    assert held == split_providers(apis, 0.1, seed=3)
    big = split_providers(apis, 0.5, seed=3, max_tools=5)  # providers with more tools always train
    assert all(sum(len(a.tools) for a in apis if a.provider == p) <= 5 for p in big)
    sets = build_toolsets(apis, held, seed=1)
    by_name = {t["name"]: a.provider for a in apis for t in a.tools}
    assert {s.split for s in sets} == {"train", "heldout"}
    for s in sets:
        provs = {by_name[t["name"]] for t in s.tools}
        assert all((p in held) == (s.split == "heldout") for p in provs)  # never across the split
        main = [t for t in s.tools if by_name[t["name"]] == s.api.split("/")[0]]
        assert 1 <= len(s.tools) <= 13 and len(main) >= min(3, len(main))
        assert len(main) <= 10 and len(s.tools) - len(main) <= 3
        assert (s.extra_api is None) == (len(provs) == 1)
        assert len({t["name"] for t in s.tools}) == len(s.tools)
    assert any(s.extra_api for s in sets)


def _check_record(rec: dict[str, Any]) -> None:
    tools = {t["name"]: t for t in rec["tools"]}
    assert rec["query"].strip()
    assert {"single": "call", "parallel": "call", "missing": "clarify", "irrelevant": "refuse", "negated": "refuse",
            "out_of_range": "refuse"}[rec["category"]] == rec["expected"]
    for t in rec["tools"]:
        Draft202012Validator.check_schema(t["parameters"])
    if rec["expected"] == "refuse":
        assert rec["answers"] == []
        return
    if rec["category"] == "parallel":
        assert len(rec["answers"]) >= 2
    for call in rec["answers"]:
        v = Draft202012Validator(tools[call["name"]]["parameters"], format_checker=FORMATS)
        errors = list(v.iter_errors(call["arguments"]))
        if rec["expected"] == "call":
            assert errors == [], (rec["query"], call, errors)
        else:
            assert [e.validator for e in errors] == ["required"] * len(rec["missing"])
            assert {e.message.split("'")[1] for e in errors} == set(rec["missing"])


def test_records_are_valid_and_split(tmp_path: Path) -> None:
    stats = run_openapi(SPECS, tmp_path, n=300, seed=5, heldout_frac=0.34, heldout_n=60, synonyms=0.3, bfcl=BFCL,
                        progress=False)
    train = [json.loads(x) for x in (tmp_path / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    held = [json.loads(x) for x in (tmp_path / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    meta = json.loads((tmp_path / "toolsets.json").read_text(encoding="utf-8"))
    assert len(train) >= 250 and len(held) >= 40
    assert len(meta["heldout_providers"]) == 1
    split_of = {s["id"]: s["split"] for s in meta["toolsets"]}
    assert all(split_of[r["toolset"]] == "train" for r in train)
    assert all(split_of[r["toolset"]] == "heldout" for r in held)
    held_tools = {t["name"] for r in held for t in r["tools"]}
    train_tools = {t["name"] for r in train for t in r["tools"]}
    assert not held_tools & train_tools
    cats = {r["category"] for r in train}
    assert {"single", "parallel", "missing", "irrelevant", "negated", "out_of_range"} <= cats
    for rec in train + held:
        _check_record(rec)
    for s in meta["toolsets"]:
        assert s["sources"][0]["licence"] and s["sources"][0]["version"]
    assert stats.records["train"].total() == len(train)
    again = tmp_path / "again"
    run_openapi(SPECS, again, n=300, seed=5, heldout_frac=0.34, heldout_n=60, bfcl=BFCL, progress=False)
    assert (again / "train.jsonl").read_bytes() == (tmp_path / "train.jsonl").read_bytes()  # deterministic


def test_cli(tmp_path: Path) -> None:
    from needle_router.cli import app

    res = CliRunner().invoke(app, ["data", "openapi", "--spec-dir", str(SPECS), "--out", str(tmp_path), "--n", "40",
                                   "--heldout-n", "10", "--seed", "1", "--bfcl", str(BFCL), "--quiet"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):])
    assert out["operations_kept"] == 13 and out["specs_licence_skipped"] == 1
    assert (tmp_path / "train.jsonl").exists() and (tmp_path / "toolsets.json").exists()
    bad = CliRunner().invoke(app, ["data", "openapi", "--spec-dir", str(tmp_path / "none"), "--out",
                                   str(tmp_path / "o"), "--bfcl", str(BFCL), "--quiet"])
    assert bad.exit_code == 2


def test_object_values_are_keyed_and_flags_said() -> None:
    import random

    from needle_router.data.infer import infer_param

    p = infer_param("profile", {"type": "object", "required": ["firstName", "isCorporate"], "properties": {
        "firstName": {"type": "string"}, "isCorporate": {"type": "boolean"}}}, True)
    assert p is not None
    r = random.Random(1)
    for _ in range(10):
        value, said = p.sample(r, None)
        assert f"first name {value['firstName']}" in said
        assert "corporate" in said  # a flag inside an object is said, not only labelled
    flag = infer_param("include_archived", {"type": "boolean"}, False)
    assert flag is not None and "including archived" in flag.phrases and "excluding archived" in flag.false_phrases


def test_cryptic_names_are_also_said_by_their_description() -> None:
    from needle_router.data.infer import description_noun, infer_param

    assert description_noun("The search query to run.") == "search query"
    assert description_noun("Optional: number of games to return") == "number of games"
    assert description_noun("") is None
    p = infer_param("q", {"type": "string", "description": "The search query to run."}, True)
    assert p is not None and "search query {v}" in p.phrases and "q {v}" in p.phrases
