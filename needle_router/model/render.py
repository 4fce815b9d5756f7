"""Rendering queries and tools into token sequences, and turning copied text into values.

A query and each tool are encoded SEPARATELY, so a toolset's encodings can be computed once and
reused for every query. A tool renders as

    <tool> name <desc> description  <param> name type [<req>] <desc> text [<opt> v]... [<min> a] [<max> b]

and the encoder states at `<tool>`, `<param>` and `<opt>` are the pointer targets the decoder
chooses among: the output can only name tools, keys and options that exist.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from needle_router.dates import context_today, temporal_values
from needle_router.model import tokenizer as T
from needle_router.model.tokenizer import NeedleTokenizer
from needle_router.text import parse_number
from needle_router.tools import Tool
from needle_router.validation import validator

ParamKind = Literal["enum", "string", "number", "json"]

DESC_TOKENS = 40  # a tool description beyond this rarely helps routing; keeps tools short
PARAM_DESC_TOKENS = 20
OPTION_TOKENS = 8
MAX_OPTIONS = 48


@dataclass
class ParamSlot:
    """One parameter as the decoder sees it: where its marker is and how its value is produced."""

    name: str
    kind: ParamKind
    schema: dict[str, Any]
    marker: int  # position of <param> in the tool's token sequence
    options: list[int] = field(default_factory=list)  # positions of <opt> markers
    values: list[Any] = field(default_factory=list)  # the option values, aligned with options


@dataclass
class RenderedTool:
    """A tool's tokens and what the decoder sees of them. `segment` maps each token to a memory
    position: one per token (the SAN: the decoder reads every token), or one per pointer target
    (pooled: the tool summary, each parameter, each option, the mean of their tokens' states;
    a pretrained encoder's states already carry their context, and the decoder then reads tens of
    positions per tool instead of hundreds). ParamSlot.marker/options are memory positions."""

    name: str
    ids: list[int]
    params: list[ParamSlot]
    segment: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.segment:
            self.segment = list(range(len(self.ids)))

    @property
    def n_mem(self) -> int:
        """Memory positions this tool takes in the decoder's memory."""
        return self.segment[-1] + 1 if self.segment else 0

    def param(self, name: str) -> ParamSlot | None:
        return next((p for p in self.params if p.name == name), None)


def pool_segments(tool: RenderedTool) -> RenderedTool:
    """The pooled view of a rendered tool: a segment starts at the tool marker, at each parameter
    marker and at each option marker, and runs to the next start."""
    starts = sorted({0, *(p.marker for p in tool.params), *(o for p in tool.params for o in p.options)})
    index = {pos: k for k, pos in enumerate(starts)}
    segment, k = [], -1
    for pos in range(len(tool.ids)):
        k = index.get(pos, k)
        segment.append(k)
    params = [ParamSlot(p.name, p.kind, p.schema, index[p.marker], [index[o] for o in p.options], list(p.values))
              for p in tool.params]
    return RenderedTool(tool.name, tool.ids, params, segment)


@dataclass
class RenderedQuery:
    text: str  # the string spans are copied from (query plus rendered context)
    ids: list[int]  # starts with <query>
    offsets: list[tuple[int, int]]  # aligned with ids; (0, 0) for markers
    today: dt.date | None = None  # the context's date: relative date phrases are read against it
    request_end: int | None = None  # where the user's own words end in `text` (the context follows)

    @property
    def request(self) -> str:
        """The user's own words, without the context facts appended to them."""
        return self.text if self.request_end is None else self.text[: self.request_end]

    def word_end(self, start: int) -> int:
        """The last token of the word token `start` begins: the tokens that follow it with no
        space between them (word pieces, "2.5", "alex@example.com"), less the punctuation that
        closes it ("Paris," ends at "Paris"). A span's likely end (program.Guess)."""
        end, n = start, len(self.ids)
        while end + 1 < n:
            a, b = self.offsets[end + 1]
            # Joined: no gap, and not a token that carries its own leading space (byte-level BPE).
            if not (a == self.offsets[end][1] and b > a and not self.text[a].isspace()):
                break
            end += 1
        while end > start and not any(c.isalnum() for c in self.text[self.offsets[end][0] : self.offsets[end][1]]):
            end -= 1
        return end

    def span_text(self, start: int, end: int, signed: bool = False) -> str:
        """The request's text of tokens start..end. `signed` (number parameters): a minus sign
        written right before the span belongs to the value ("volume -5" is -5, not 5, which
        the schema may accept and run), so it is included when the span leaves it out."""
        a = self.offsets[start][0]
        if signed and a > 0 and self.text[a - 1] in "-\u2212" and (a == 1 or not self.text[a - 2].isalnum()):
            a -= 1
        return self.text[a : self.offsets[end][1]].strip()


def _first_type(schema: dict[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t if isinstance(t, str) else None


def param_kind(schema: dict[str, Any]) -> tuple[ParamKind, list[Any]]:
    """How a parameter's value is produced, and its options when it is a choice."""
    if not isinstance(schema, dict):
        return "json", []
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return "enum", list(schema["enum"])[:MAX_OPTIONS]
    if "const" in schema:
        return "enum", [schema["const"]]
    t = _first_type(schema)
    if t == "boolean":
        return "enum", [True, False]
    if t in ("integer", "number"):
        return "number", []
    if t == "string":
        return "string", []
    return "json", []


def value_text(value: Any) -> str:
    # default=str: context facts may hold dates and other non-JSON values.
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def render_query(query: str, context: dict[str, Any] | None, tok: NeedleTokenizer, max_len: int) -> RenderedQuery:
    text = query
    if context:
        # System facts are appended as text so their values can be copied like the query's.
        facts = "; ".join(f"{k}: {value_text(v)}" for k, v in context.items())
        text = f"{query} | {facts}"
    ids, offsets = tok.encode(text)
    ids, offsets = ids[: max_len - 1], offsets[: max_len - 1]
    return RenderedQuery(text, [T.QUERY, *ids], [(0, 0), *offsets], context_today(context), len(query))


def render_tool(tool: Tool, tok: NeedleTokenizer, max_len: int) -> RenderedTool:
    props = tool.properties
    required = set(tool.required)
    pieces = [tool.name.replace("_", " ").replace(".", " "), tool.description]
    per_param: list[tuple[str, dict[str, Any], ParamKind, list[Any]]] = []
    for name, schema in props.items():
        kind, values = param_kind(schema if isinstance(schema, dict) else {})
        per_param.append((name, schema if isinstance(schema, dict) else {}, kind, values))
        s = schema if isinstance(schema, dict) else {}
        pieces += [
            name.replace("_", " "),
            _first_type(s) or kind,
            str(s.get("description", "")),
            *(value_text(v) for v in values),
            value_text(s.get("minimum", s.get("exclusiveMinimum", ""))),
            value_text(s.get("maximum", s.get("exclusiveMaximum", ""))),
            value_text(s.get("default", "")),
        ]
    enc = iter(tok.encode_many(pieces))
    ids = [T.TOOL, *next(enc)[:16], T.DESC, *next(enc)[:DESC_TOKENS]][: max(2, max_len // 2)]
    params: list[ParamSlot] = []
    for name, schema, kind, values in per_param:
        name_ids, type_ids, desc_ids = next(enc), next(enc), next(enc)
        opt_ids = [next(enc) for _ in values]
        lo, hi, default = next(enc), next(enc), next(enc)
        part = [T.PARAM, *name_ids[:12], *type_ids[:3]]
        if name in required:
            part.append(T.REQ)
        part += [T.DESC, *desc_ids[:PARAM_DESC_TOKENS]]
        slot = ParamSlot(name, kind, schema, marker=len(ids))
        for v, oi in zip(values, opt_ids, strict=True):
            slot.options.append(len(ids) + len(part))
            slot.values.append(v)
            part += [T.OPT, *oi[:OPTION_TOKENS]]
        for marker, extra in ((T.MIN, lo), (T.MAX, hi), (T.DEFAULT, default)):
            if extra:
                part += [marker, *extra[:OPTION_TOKENS]]
        if len(ids) + len(part) > max_len:
            continue  # no room: this parameter cannot be produced (the policy sees it missing)
        ids += part
        params.append(slot)
    return RenderedTool(tool.name, ids, params)


def tool_corpus_text(tool: Tool) -> str:
    """Plain text of a tool for tokenizer training."""
    parts = [tool.name.replace("_", " "), tool.description]
    for name, schema in tool.properties.items():
        s = schema if isinstance(schema, dict) else {}
        parts += [name.replace("_", " "), str(s.get("type", "")), str(s.get("description", ""))]
        parts += [value_text(v) for v in s.get("enum", []) or []]
    return " ".join(parts)


def fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether `value` is valid under the parameter's own schema (type, enum, bounds, pattern,
    format: the same checks as the policy's)."""
    try:
        return bool(validator(schema).is_valid(value))
    except Exception:  # a subschema with unresolvable refs etc.: never emit what cannot be checked
        return False


# Punctuation a copied span can carry at its edges that is never part of the value: "(7 to 13",
# "31 August?", '"Lumen 3.0"'. Tried only when the span as copied does not fit.
_EDGE = " \t\n.,;:!?()[]{}\"'`“”‘’«»"


def string_readings(raw: str, schema: dict[str, Any], today: dt.date | None = None) -> list[str]:
    """Readings of a copied string that does not fit its schema, most literal first: without
    the punctuation at its edges; in upper or lower case where a pattern constrains it ("code
    k7p2qx" for ^[A-Z0-9]{6}$); as a date or time in words (dates relative to `today`)."""
    out: list[str] = []
    for text in dict.fromkeys([raw, raw.strip(_EDGE)]):
        if text and text != raw:
            out.append(text)
        if isinstance(schema.get("pattern"), str) and text:
            out += [text.upper(), text.lower()]
        out += temporal_values(text, today) if text else []
    return list(dict.fromkeys(out))


def finalize_value(raw: Any, slot: ParamSlot, today: dt.date | None = None) -> tuple[bool, Any]:
    """Turn a produced value into one that fits the schema: (True, value), or (False, None) when
    no reading of it fits (the argument is then omitted: decoding never emits what the schema
    forbids). A string that does not fit as it is may be a number in words or a date or time in
    words ("next Tuesday at 6pm"): its readings (dates relative to `today`) are tried. The schema's
    default is never put in place of a value the user stated: "volume 101" over a maximum of 100
    must not run at volume 50 (see `stated`: the decoder then makes the proposal's confidence 0)."""
    candidates: list[Any] = []
    if slot.kind == "number" and isinstance(raw, str):
        num = parse_number(raw)
        if num is not None:
            if _first_type(slot.schema) == "integer" and isinstance(num, float) and num.is_integer():
                num = int(num)
            candidates.append(num)
    elif slot.kind == "json" and isinstance(raw, str):
        try:
            candidates.append(json.loads(raw))
        except (json.JSONDecodeError, RecursionError):
            pass
        if _first_type(slot.schema) in (None, "string"):
            candidates.append(raw)
    else:
        candidates.append(raw)
    if slot.kind == "string" and isinstance(raw, str) and not fits(raw, slot.schema):
        candidates += string_readings(raw, slot.schema, today)
    for c in candidates:
        if fits(c, slot.schema):
            return True, c
    return False, None


def stated(raw: Any) -> bool:
    """Whether the decoder produced a value at all (a span of the request, generated text, an
    option). A stated value that `finalize_value` cannot fit means the request asks for something
    the schema forbids: the call without it is not what the user asked for, so the proposal's
    confidence becomes 0 and the policy escalates rather than run it."""
    return raw is not None and not (isinstance(raw, str) and not raw.strip())


def same_value(a: Any, b: Any) -> bool:
    """Equality that tells True from 1 and treats 3 and 3.0 as the same number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
