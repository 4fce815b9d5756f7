"""Generator specs inferred from a user's tool schema alone (no hand-written phrasing).

Action phrases come from the description's first clause ("Returns the weather for a city" ->
"return the weather") and the tool name ("get_weather" -> "get weather"); each parameter's value
pool is picked from its name, description, type and format; its phrase from its name ("in {v}" for
places, "to {v}" for recipients, "saying {v}" for message bodies, "for {v} minutes" for durations).
"""

from __future__ import annotations

import re
from typing import Any

from needle_router.data.spec import ParamSpec, ToolSpec, make_action
from needle_router.data.values import POOLS
from needle_router.tools import Tool

# keyword in a parameter's name or description -> value pool (first match wins, so order matters)
POOL_HINTS: tuple[tuple[str, str], ...] = (
    ("email", "email"), ("phone", "phone"), ("url", "url"), ("link", "url"), ("website", "url"),
    ("city", "city"), ("location", "city"), ("town", "city"), ("country", "country"),
    ("destination", "place"), ("origin", "place"), ("place", "place"), ("address", "street"),
    ("street", "street"), ("zip", "zip"), ("postal", "zip"), ("airport", "airport"),
    ("recipient", "contact"), ("contact", "contact"), ("person", "person"), ("user", "username"),
    ("author", "author"), ("artist", "artist"), ("song", "song"), ("track", "song"), ("album", "album"),
    ("playlist", "playlist"), ("podcast", "podcast"), ("movie", "movie"), ("film", "movie"),
    ("show", "show"), ("book", "book"), ("genre", "genre"), ("message", "message"), ("body", "message"),
    ("text", "sentence"), ("content", "sentence"), ("note", "note"), ("comment", "sentence"),
    ("caption", "sentence"), ("reason", "sentence"), ("description", "sentence"), ("title", "title"),
    ("subject", "subject_line"), ("query", "query"), ("search", "query"), ("keyword", "word"),
    ("topic", "topic"), ("file", "file"), ("path", "folder"), ("folder", "folder"),
    ("directory", "folder"), ("company", "company"), ("organization", "company"), ("merchant", "merchant"),
    ("payee", "company"), ("product", "product"), ("item", "product"), ("restaurant", "restaurant"),
    ("cuisine", "cuisine"), ("dish", "dish"), ("recipe", "dish"), ("food", "ingredient"),
    ("ingredient", "ingredient"), ("ticker", "ticker"), ("symbol", "ticker"), ("stock", "ticker"),
    ("currency", "currency"), ("coin", "crypto"), ("team", "team"), ("sport", "sport"), ("room", "room"),
    ("device", "device"), ("service", "service"), ("host", "host"), ("server", "host"), ("repo", "repo"),
    ("branch", "branch"), ("table", "table"), ("database", "table"), ("project", "project"),
    ("department", "department"), ("job", "job"), ("skill", "skill"), ("language", "language"),
    ("medication", "medication"), ("drug", "medication"), ("symptom", "symptom"), ("exercise", "exercise"),
    ("activity", "exercise"), ("pet", "pet"), ("plant", "plant"), ("network", "wifi"), ("hotel", "hotel"),
    ("airline", "airline"), ("car", "car"), ("vehicle", "car"), ("plate", "plate"), ("expression", "expression"),
    ("equation", "expression"), ("element", "element"), ("chemical", "chemical"), ("compound", "chemical"),
    ("order", "order"), ("tracking", "tracking"), ("ticket", "ticket"), ("code", "code"), ("id", "code"),
    ("name", "contact"), ("tag", "word"), ("label", "word"), ("category", "word"),
)
PHRASE_HINTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("city", "location", "town", "country", "region", "room"), ("in {v}", "for {v}")),
    (("destination",), ("to {v}",)),
    (("origin", "source", "from"), ("from {v}",)),
    (("recipient", "to", "assignee", "contact", "email"), ("to {v}", "for {v}")),
    (("message", "body", "text", "content", "note", "comment", "caption"), ("saying {v}", ": {v}", "that says {v}")),
    (("title", "name", "label"), ("called {v}", "named {v}", "titled {v}")),
    (("query", "search", "keyword", "topic"), ("for {v}", "about {v}")),
    (("minutes", "hours", "days", "seconds", "weeks", "months", "years"), ("for {v} {unit}",)),
    (("date", "day", "when", "deadline", "due"), ("{v}",)),
    (("time",), ("at {v}",)),
)
_WORD = re.compile(r"[A-Za-z][a-z]*|[0-9]+")


def words_of(name: str) -> list[str]:
    """snake_case / camelCase / dotted names -> lower-case words."""
    return [w.lower() for w in _WORD.findall(name.replace("_", " ").replace(".", " ").replace("-", " "))]


def _imperative(word: str) -> str:
    w = word.lower()
    if w in ("is", "was", "has", "does", "this", "status", "analysis", "access", "process"):
        return w
    if w.endswith(("ches", "shes", "sses", "xes", "zes")):
        return w[:-2]
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        return w[:-1]
    return w


# Cut where the description starts talking about its arguments ("... for a city", "... given ...").
_CUT = re.compile(
    r"\s(?:for|in|to|from|on|at|by|with|into|of)\s(?:a|an|the|given|specified|some|one|any|each|its|their)\s"
    r"|\s(?:given|based on|using|via|if|when|so that|which|that)\s|[,;(:]"
)
_LEAD = re.compile(r"^(?:use this (?:tool|function) to|this (?:tool|function)|tool to|function to|"
                   r"used to|allows? (?:you|the user) to|lets? (?:you|the user)|helps? (?:you )?)\s*", re.I)


def description_action(description: str) -> str | None:
    """The description's first clause as an imperative verb phrase, or None."""
    first = re.split(r"(?<=[.!?])\s", description.strip(), maxsplit=1)[0].rstrip(".!? ")
    first = _LEAD.sub("", first).strip()
    first = _CUT.split(first, maxsplit=1)[0].strip()
    toks = first.split()
    if not toks or len(toks) > 12 or not toks[0].isalpha():
        return None
    toks[0] = _imperative(toks[0])
    if toks[0] in ("a", "an", "the", "returns", "return"):
        if toks[0] in ("returns", "return") and len(toks) > 1:
            toks[0] = "get"
        else:
            return None
    phrase = " ".join(toks)
    return phrase[0].lower() + phrase[1:]


def _pool_for(name: str, desc: str) -> str:
    hay = f"{name} {desc}".lower()
    name_l = name.lower()
    for key, pool in POOL_HINTS:  # the name is the stronger signal
        if key in name_l:
            return pool
    for key, pool in POOL_HINTS:
        if re.search(rf"\b{key}", hay):
            return pool
    return "word"


def _phrases(name: str, kind: str, unit: str) -> tuple[str, ...]:
    ws = words_of(name)
    spoken = " ".join(ws) or name
    if kind == "bool":
        return (f"with {spoken}",)
    for keys, phrases in PHRASE_HINTS:
        if any(k in ws for k in keys):
            out = tuple(p.replace("{unit}", unit or spoken) for p in phrases)
            return out if len(spoken) <= 3 else (*out, f"with {spoken} {{v}}")
    if kind in ("int", "num"):
        return (f"with {spoken} {{v}}", f"{spoken} {{v}}", f"{{v}} {spoken}")
    return (f"with {spoken} {{v}}", f"{spoken} {{v}}", f"{spoken}: {{v}}")


def infer_param(name: str, schema: dict[str, Any], required: bool) -> ParamSpec | None:
    """A ParamSpec for one schema property, or None when no value can be made for it."""
    if not isinstance(schema, dict):
        return None
    desc = str(schema.get("description", ""))
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    enum = schema.get("enum")
    fmt = schema.get("format", "")
    unit = next((w for w in words_of(name) if w in ("minutes", "hours", "days", "seconds", "weeks")), "")
    if isinstance(enum, list) and enum:
        return ParamSpec(name, "enum", required, enum=tuple(enum), phrases=_phrases(name, "enum", ""),
                         description=desc)
    if t in ("integer", "number"):
        kind = "int" if t == "integer" else "num"
        lo = schema.get("minimum", schema.get("exclusiveMinimum"))
        hi = schema.get("maximum", schema.get("exclusiveMaximum"))
        if "exclusiveMinimum" in schema and "minimum" not in schema and lo is not None:
            lo = lo + (1 if kind == "int" else 0.01)
        if "exclusiveMaximum" in schema and "maximum" not in schema and hi is not None:
            hi = hi - (1 if kind == "int" else 0.01)
        return ParamSpec(name, kind, required, lo=float(lo) if lo is not None else None,
                         hi=float(hi) if hi is not None else None, phrases=_phrases(name, kind, unit),
                         description=desc)
    if t == "boolean":
        spoken = " ".join(words_of(name))
        return ParamSpec(name, "bool", required, phrases=(f"with {spoken}", f"and {spoken}"),
                         false_phrases=(f"without {spoken}", f"no {spoken}"), description=desc)
    if t == "string" or (t is None and "properties" not in schema and "items" not in schema):
        if fmt == "date":
            return ParamSpec(name, "date", required, phrases=_phrases(name, "date", ""), description=desc)
        if fmt == "date-time":
            return ParamSpec(name, "datetime", required, phrases=("{v}",), description=desc)
        if fmt == "email":
            return ParamSpec(name, "email", required, phrases=_phrases(name, "email", ""), description=desc)
        if fmt in ("uri", "url"):
            return ParamSpec(name, "str", required, pool="url", phrases=_phrases(name, "str", ""),
                             description=desc)
        pattern = schema.get("pattern", "")
        if pattern and re.fullmatch(pattern, "12:30") and not re.fullmatch(pattern, "hello"):
            return ParamSpec(name, "time", required, phrases=("at {v}",), description=desc)
        pool = _pool_for(name, desc)
        kind = "text" if pool in ("message", "sentence", "note") else "str"
        return ParamSpec(name, kind, required, pool=pool, phrases=_phrases(name, kind, ""), description=desc)
    if t == "array":
        items = schema.get("items", {})
        if isinstance(items, dict) and items.get("type", "string") == "string" and "enum" not in items:
            singular = name[:-1] if name.endswith("s") else name
            return ParamSpec(name, "list", required, pool=_pool_for(singular, desc),
                             phrases=_phrases(name, "list", ""), description=desc)
        return None
    if t == "object" or "properties" in schema:
        props = schema.get("properties", {})
        req = set(schema.get("required", []))
        kids = []
        for k, sub in props.items():
            c = infer_param(k, sub, k in req)
            if c is None:
                if k in req:
                    return None
                continue
            kids.append(c)
        if not kids:
            return None
        return ParamSpec(name, "object", required, children=tuple(kids), phrases=_phrases(name, "object", ""),
                         description=desc)
    return None


def infer_spec(tool: Tool) -> ToolSpec:
    """A ToolSpec for a user's tool; optional parameters it cannot fill are left out."""
    params = []
    required = set(tool.required)
    for name, schema in tool.properties.items():
        p = infer_param(name, schema, name in required)
        if p is not None:
            params.append(p)
    names = words_of(tool.name)
    actions = []
    da = description_action(tool.description)
    if da:
        actions.append(da)
    if names:
        actions.append(" ".join([_imperative(names[0]), *names[1:]]))
    if not actions:
        actions.append(f"use {tool.name}")
    spec = ToolSpec(tool.name, tool.description, "user", tuple(make_action(a) for a in dict.fromkeys(actions)),
                    tuple(params))
    spec._dict = tool.to_dict()
    return spec


def known_pool(name: str) -> bool:
    return name in POOLS
