"""Tool specs for data generation: a JSON Schema tool plus what a generator needs to talk about it.

A `ToolSpec` is a tool (name, description, JSON Schema) together with action phrases ("set the
thermostat", "?what's the weather like") and, per parameter, a `ParamSpec` saying how to draw a
value (value pool, bounds, enum) and how to say it in a sentence ("to {v} degrees"). Specs come from
the compact one-line-per-tool DSL (`parse_tools_dsl`) of the tool bank, from the procedural tool
maker, and from `infer_spec` (teach.py) for a user's own tools.

DSL, one tool per line:  name[~group] | description | action; action | param; param
  param := name[?]:kind[[lo..hi]][(a|b|c!bad|bad2)][@pool][=default] ["phrase/phrase"]
  kinds: str text int num bool enum date time email list address money
  phrases contain {v}; bool phrases are "when true|when false"; `?name` marks an optional param;
  an action may embed a parameter inline ("play {song}"); actions starting with "?" are questions.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from needle_router.data.values import CURRENCY, POOLS, date_phrase, spell_number, time_phrase
from needle_router.errors import DataError

TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"

# Ways to say an enum value; anything not listed is said as the value with spaces for underscores.
ENUM_SAY: dict[str, tuple[str, ...]] = {
    "fahrenheit": ("fahrenheit", "°F", "degrees fahrenheit", "Fahrenheit"),
    "celsius": ("celsius", "°C", "degrees celsius", "Celsius", "centigrade"),
    "metric": ("metric", "metric units", "kilometers"),
    "imperial": ("imperial", "imperial units", "miles"),
    "high": ("high", "high priority", "urgent"),
    "low": ("low", "low priority", "not urgent"),
    "on": ("on",),
    "off": ("off",),
    "asc": ("ascending", "asc", "oldest first"),
    "desc": ("descending", "desc", "newest first"),
    "usd": ("dollars", "USD", "US dollars"),
    "eur": ("euros", "EUR"),
    "economy": ("economy", "coach", "economy class"),
    "business": ("business", "business class"),
    "first": ("first class", "first"),
    "json": ("json", "JSON"),
    "csv": ("csv", "CSV", "a spreadsheet"),
    "pdf": ("pdf", "PDF"),
    "km": ("km", "kilometers"),
    "mi": ("miles", "mi"),
}


def say_enum(value: str, r: random.Random) -> str:
    options = ENUM_SAY.get(value.lower())
    return r.choice(options) if options else value.replace("_", " ")


@dataclass(slots=True)
class ParamSpec:
    """One parameter: schema facts plus how to draw and phrase a value."""

    name: str
    kind: str
    required: bool = True
    pool: str | None = None
    lo: float | None = None
    hi: float | None = None
    enum: tuple[str, ...] = ()
    bad: tuple[str, ...] = ()
    default: Any = None
    phrases: tuple[str, ...] = ("{v}",)
    false_phrases: tuple[str, ...] = ()
    description: str = ""
    children: tuple[ParamSpec, ...] = ()  # kind "object" (schemas inferred from a user's tool)
    span: float | None = None  # range of unbounded int/num values when not the default 100 (ids)

    def schema(self) -> dict[str, Any]:
        k = self.kind
        s: dict[str, Any]
        if k in ("str", "text"):
            s = {"type": "string"}
        elif k in ("int", "num"):
            s = {"type": "integer" if k == "int" else "number"}
            if self.lo is not None:
                s["minimum"] = int(self.lo) if k == "int" else self.lo
            if self.hi is not None:
                s["maximum"] = int(self.hi) if k == "int" else self.hi
        elif k == "bool":
            s = {"type": "boolean"}
        elif k == "enum":
            s = {"type": "string", "enum": list(self.enum)}
        elif k == "date":
            s = {"type": "string", "format": "date"}
        elif k == "time":
            s = {"type": "string", "pattern": TIME_PATTERN}
        elif k == "email":
            s = {"type": "string", "format": "email"}
        elif k == "list":
            s = {"type": "array", "items": {"type": "string"}, "minItems": 1}
        elif k == "address":
            s = {
                "type": "object",
                "properties": {
                    "street": {"type": "string", "description": "Street and number"},
                    "city": {"type": "string"},
                    "postal_code": {"type": "string"},
                },
                "required": ["street", "city"],
                "additionalProperties": False,
            }
        elif k == "money":
            s = {
                "type": "object",
                "properties": {
                    "amount": {"type": "number", "exclusiveMinimum": 0},
                    "currency": {"type": "string", "enum": list(CURRENCY), "description": "ISO 4217 code"},
                },
                "required": ["amount", "currency"],
                "additionalProperties": False,
            }
        else:
            raise DataError(f"unknown parameter kind {k!r} for {self.name!r}")
        s["description"] = self.description or describe_param(self)
        if self.default is not None:
            s["default"] = self.default
        return s

    @property
    def bounded(self) -> bool:
        return (self.kind in ("int", "num") and (self.lo is not None or self.hi is not None)) or bool(self.bad)

    # -- values ------------------------------------------------------------------------------
    def sample(self, r: random.Random, today: dt.date | None, bare: bool = False) -> tuple[Any, str]:
        """An in-range value and how it is said (the phrase's {v}); `bare`: after a preposition."""
        k = self.kind
        if k in ("str", "text"):
            v = POOLS[self.pool or "word"](r)
            if k == "text" and r.random() < 0.3:
                return v, f'"{v}"'
            return v, v
        if k == "int":
            lo = int(self.lo) if self.lo is not None else 1
            hi = int(self.hi) if self.hi is not None else max(lo + int(self.span or 100), 100)
            n = r.randint(lo, hi)
            if hi - lo > 30 and r.random() < 0.5:
                step = 5 if hi - lo < 200 else 10 if hi - lo < 2000 else 100
                n = min(hi, max(lo, round(n / step) * step))
            return n, spell_number(n) if 0 <= n <= 100 and r.random() < 0.25 else str(n)
        if k == "num":
            lo = self.lo if self.lo is not None else 0.0
            hi = self.hi if self.hi is not None else lo + 100.0
            x = round(r.uniform(lo, hi), r.choice((0, 1, 1, 2)))
            x = min(hi, max(lo, x))
            if float(x).is_integer():
                x = int(x)  # label 333, not 333.0, when the query says "333"
            return x, _fmt_num(x)
        if k == "bool":
            b = r.random() < 0.6 or not self.false_phrases
            return b, ""
        if k == "enum":
            v = r.choice(self.enum)
            return v, say_enum(v, r) if isinstance(v, str) else str(v)
        if k == "datetime":
            d, said = date_phrase(r, today, bare)
            hm, said_t = time_phrase(r)
            return f"{d.isoformat()}T{hm}:00", f"{said} at {said_t}"
        if k == "object":
            obj: dict[str, Any] = {}
            parts: list[str] = []
            pick = [c for c in self.children if c.required or r.random() < 0.3] or self.children[:1]
            for c in pick:
                v, said = c.sample(r, today, True)
                obj[c.name] = v
                spoken = " ".join(re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+", c.name)).lower()
                if c.kind == "bool":  # said as a phrase, else the value would be in the call only
                    said = r.choice(c.phrases if v or not c.false_phrases else c.false_phrases).replace("{v}", "")
                elif len(pick) > 1 and spoken:
                    said = f"{spoken} {said}"  # several values: say whose each one is
                if said:
                    parts.append(said.strip())
            return obj, ", ".join(parts)
        if k == "date":
            d, said = date_phrase(r, today, bare)
            return d.isoformat(), said
        if k == "time":
            return time_phrase(r)
        if k == "email":
            v = POOLS["email"](r)
            return v, v
        if k == "list":
            pool = POOLS[self.pool or "word"]
            items: list[str] = []
            for _ in range(r.randint(1, 3) * 3):
                x = pool(r)
                if x not in items:
                    items.append(x)
                if len(items) >= 3 or (len(items) >= 1 and r.random() < 0.4):
                    break
            return items, join_words(items, r)
        if k == "address":
            street, city = POOLS["street"](r), POOLS["city"](r)
            if r.random() < 0.4:
                z = POOLS["zip"](r)
                return {"street": street, "city": city, "postal_code": z}, f"{street}, {city} {z}"
            return {"street": street, "city": city}, f"{street}, {city}"
        if k == "money":
            amount = float(r.choice((r.randint(1, 500), r.randint(5, 200), round(r.uniform(1, 999), 2))))
            if amount.is_integer():
                amount = int(amount)
            cur = r.choice(("USD", "USD", "EUR", "GBP")) if r.random() < 0.8 else r.choice(CURRENCY)
            sym = {"USD": "$", "EUR": "€", "GBP": "£"}.get(cur)
            if sym and r.random() < 0.5:
                return {"amount": amount, "currency": cur}, f"{sym}{_fmt_num(amount)}"
            word = {"USD": "dollars", "EUR": "euros", "GBP": "pounds"}.get(cur, cur)
            return {"amount": amount, "currency": cur}, f"{_fmt_num(amount)} {r.choice((word, cur))}"
        raise DataError(f"unknown parameter kind {k!r}")

    def sample_out_of_range(self, r: random.Random) -> tuple[Any, str]:
        """A value that violates the bounds or the enum, said in digits / verbatim."""
        if self.bad and (self.kind == "enum" or not (self.lo is not None or self.hi is not None)):
            v = r.choice(self.bad)
            return v, v
        lo, hi = self.lo, self.hi
        span = (hi - lo) if lo is not None and hi is not None else 100
        above = hi is not None and (lo is None or r.random() < 0.7)
        if above:
            assert hi is not None
            x = hi + r.choice((1, r.randint(1, max(1, int(span))), int(hi) * 2 + 1, int(span) * 10 + 7))
        else:
            assert lo is not None
            x = lo - r.choice((1, r.randint(1, max(1, int(span) // 2 or 1)), int(abs(lo)) + 5))
        if self.kind == "int":
            x = int(x)
        return x, _fmt_num(x)


def _fmt_num(x: float) -> str:
    if isinstance(x, int) or float(x).is_integer():
        return str(int(x))
    return repr(float(x))  # shortest exact form: the query must say exactly the labelled value


def join_words(items: list[str], r: random.Random) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + r.choice((" and ", ", and ", " & ")) + items[-1]


POOL_DESC: dict[str, str] = {
    "person": "full name of the person", "first": "first name", "contact": "contact name", "city": "city name",
    "country": "country name", "place": "place name or city", "street": "street address", "room": "room name",
    "device": "device name", "song": "song title", "artist": "artist or band name", "album": "album title",
    "playlist": "playlist name", "podcast": "podcast name", "movie": "movie title", "show": "TV show title",
    "book": "book title", "author": "author name", "product": "product name", "company": "company name",
    "restaurant": "restaurant name", "cuisine": "cuisine type", "dish": "dish name", "ingredient": "food item",
    "airport": "IATA airport code", "ticker": "stock ticker symbol", "crypto": "cryptocurrency name",
    "message": "message text", "note": "free text", "title": "title", "subject_line": "email subject line",
    "team": "team name", "sport": "sport name", "car": "car model", "plate": "license plate",
    "medication": "medication name", "symptom": "symptom", "exercise": "activity type", "subject": "school subject",
    "language": "language name", "url": "URL", "host": "hostname", "service": "service name", "repo": "repository",
    "branch": "git branch name", "file": "file name", "folder": "folder path", "table": "table name",
    "ticket": "ticket key", "order": "order number", "username": "account handle", "project": "project name",
    "department": "department name", "employee": "employee id", "job": "job title", "topic": "topic",
    "query": "search query", "pet": "pet name", "plant": "plant or garden bed", "wifi": "Wi-Fi network name",
    "code": "code or identifier", "chemical": "chemical compound", "element": "chemical element",
    "sentence": "free text", "expression": "math expression", "account": "account name", "merchant": "merchant",
    "id": "identifier", "phone": "phone number", "hotel": "hotel name", "airline": "airline", "genre": "genre",
    "hashtag": "hashtag", "skill": "skill", "word": "short name",
}


def describe_param(p: ParamSpec) -> str:
    """A plain description from the parameter's name, value pool, unit and constraints."""
    words = p.name.replace("_", " ").strip().capitalize()
    unit = _unit(p)
    extra = ""
    if p.kind in ("str", "text") and p.pool in POOL_DESC and POOL_DESC[p.pool].lower() != words.lower():
        extra = f": {POOL_DESC[p.pool]}"
    elif p.kind == "list" and p.pool in POOL_DESC:
        extra = f" (list of {POOL_DESC[p.pool]}s)"
    elif p.kind == "enum" and p.default is not None:
        extra = f" (default {p.default})"
    if p.kind in ("int", "num"):
        if unit:
            extra = f" in {unit}"
        if p.lo is not None and p.hi is not None:
            extra += f" ({_fmt_num(p.lo)} to {_fmt_num(p.hi)})"
    elif p.kind == "date":
        extra = " (YYYY-MM-DD)"
    elif p.kind == "time":
        extra = " (HH:MM, 24-hour)"
    elif p.kind == "email":
        extra = " (email address)"
    elif p.kind == "bool":
        extra = "? (true/false)" if not words.endswith("?") else ""
    return words + extra


def _unit(p: ParamSpec) -> str:
    for ph in p.phrases:
        m = re.search(r"\{v\}\s*([A-Za-z%°][\w%°]*)", ph)
        if m:
            return m.group(1)
    return ""


@dataclass(slots=True)
class Action:
    """An action phrase with the parameters it names inline."""

    text: str
    inline: tuple[str, ...]
    question: bool
    statement: bool = False  # "I took my {medication}": said as a fact, never as a request


@dataclass(slots=True, eq=False)
class ToolSpec:
    name: str
    description: str
    domain: str
    actions: tuple[Action, ...]
    params: tuple[ParamSpec, ...]
    group: str | None = None
    procedural: bool = False
    _json: str = field(default="", repr=False)
    _dict: dict[str, Any] | None = field(default=None, repr=False)

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "object", "properties": {p.name: p.schema() for p in self.params}}
        req = [p.name for p in self.params if p.required]
        if req:
            s["required"] = req
        return s

    def to_dict(self) -> dict[str, Any]:
        if self._dict is None:
            self._dict = {"name": self.name, "description": self.description, "parameters": self.schema()}
        return self._dict

    @property
    def json(self) -> str:
        """The tool's plain JSON Schema form, serialised once (records embed it as text)."""
        if not self._json:
            self._json = json.dumps(self.to_dict(), ensure_ascii=False)
        return self._json

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


_INLINE = re.compile(r"\{(\w+)\}")


def make_action(text: str) -> Action:
    q = text.startswith("?")
    body = (text[1:] if q else text).strip()
    statement = body.startswith(_STATEMENT_START) or " weighs " in body
    return Action(body, tuple(_INLINE.findall(body)), q, statement)


_STATEMENT_START = ("I ", "I'", "we ", "my ", "it's ")


_PARAM = re.compile(
    r"(?P<name>\w+)(?P<opt>\?)?:(?P<kind>\w+)"
    r"(?:\[(?P<lo>-?[\d.]+)?\.\.(?P<hi>-?[\d.]+)?\])?"
    r"(?:\((?P<enum>[^)]*)\))?"
    r"(?:@(?P<pool>\w+))?"
    r"(?:=(?P<default>[^\s\";]+))?"
    r"\s*(?:\"(?P<phr>[^\"]*)\")?"
)


def parse_param(text: str) -> ParamSpec:
    m = _PARAM.fullmatch(text.strip())
    if not m:
        raise DataError(f"bad parameter spec {text!r}")
    g = m.groupdict()
    kind = g["kind"]
    enum: tuple[str, ...] = ()
    bad: tuple[str, ...] = ()
    if g["enum"]:
        good, _, badtxt = g["enum"].partition("!")
        enum = tuple(x for x in good.split("|") if x)
        bad = tuple(x for x in badtxt.split("|") if x)
    phrases: tuple[str, ...] = ()
    false_phrases: tuple[str, ...] = ()
    words = g["name"].replace("_", " ")
    if g["phr"]:
        if kind == "bool":
            t, _, f = g["phr"].partition("|")
            phrases = tuple(t.split("/"))
            false_phrases = tuple(f.split("/")) if f else ()
        else:
            phrases = tuple(g["phr"].split("/"))
    elif kind == "bool":
        phrases = (f"with {words}",)
        false_phrases = (f"without {words}",)
    else:
        phrases = (f"with {words} {{v}}", f"{words} {{v}}")
    pool = g["pool"]
    if kind in ("str", "text", "list") and pool is None:
        pool = g["name"] if g["name"] in POOLS else "word"
    if pool is not None and pool not in POOLS:
        raise DataError(f"unknown value pool {pool!r} in {text!r}")
    default: Any = g["default"]
    if default is not None:
        if kind == "int":
            default = int(default)
        elif kind == "num":
            default = float(default)
        elif kind == "bool":
            default = default == "true"
    return ParamSpec(
        name=g["name"],
        kind=kind,
        required=not g["opt"],
        pool=pool,
        lo=float(g["lo"]) if g["lo"] else None,
        hi=float(g["hi"]) if g["hi"] else None,
        enum=enum,
        bad=bad,
        default=default,
        phrases=phrases,
        false_phrases=false_phrases,
    )


def _split_params(text: str) -> list[str]:
    """Split on ';' outside double quotes."""
    out, buf, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return [x for x in (s.strip() for s in out) if x]


def parse_tools_dsl(domain: str, text: str) -> list[ToolSpec]:
    """Parse one domain's table of tools (see the module docstring)."""
    specs = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" | ")]
        if len(parts) not in (3, 4):
            raise DataError(f"{domain} line {lineno}: expected 3 or 4 fields, got {len(parts)}: {line!r}")
        name, _, group = parts[0].partition("~")
        params = tuple(parse_param(p) for p in _split_params(parts[3])) if len(parts) == 4 else ()
        actions = tuple(make_action(a) for a in parts[2].split(";") if a.strip())
        names = [p.name for p in params]
        for a in actions:
            for n in a.inline:
                if n not in names:
                    raise DataError(f"{domain} line {lineno}: action names unknown parameter {n!r}")
        specs.append(ToolSpec(name, parts[1], domain, actions, params, group or None))
    return specs
