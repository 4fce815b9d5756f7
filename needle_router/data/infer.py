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
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def words_of(name: str) -> list[str]:
    """snake_case / camelCase / dotted names -> lower-case words ("getHTTPStatus" -> get http status)."""
    return [w.lower() for w in _WORD.findall(name.replace("_", " ").replace(".", " ").replace("-", " "))]


# Verbs an API operation name or description may start with (or end with: "datasets.list").
VERBS = frozenset(
    "get list create delete update patch put add remove search find fetch retrieve set send upload download "
    "cancel start stop enable disable describe check validate verify generate export import run execute query "
    "count lookup subscribe unsubscribe register approve reject assign unassign invite reset restore move copy "
    "rename replace submit publish unpublish archive unarchive mark close open read write post insert modify "
    "edit save load sync refresh resend issue revoke grant attach detach associate disassociate tag untag "
    "link unlink apply convert calculate compute estimate analyze analyse detect translate transcribe "
    "resolve merge split test preview render print share follow unfollow like unlike block unblock mute "
    "unmute pause resume suspend activate deactivate confirm accept decline complete finish schedule book "
    "reserve order purchase buy pay refund charge capture authorize void claim redeem transfer deposit "
    "withdraw lock unlock install uninstall deploy rollback scale reboot restart terminate invoke trigger "
    "notify watch batch bulk clone fork pull push release login logout sign verify upsert report receive "
    "show view track look reply forward flag star pin unpin rate review vote join leave kick ban deregister "
    "unregister fail failover force migrate provision reconcile rotate enroll evaluate extract index ingest "
    "initiate map monitor optimize parse predict process promote purge recalculate recover rerun retry return "
    "scan simulate snapshot stream summarize suggest swap toggle train transform truncate upgrade downgrade "
    "wait authenticate authorise bind unbind build clear collect commit compare compile compose configure "
    "connect disconnect consume decode decrypt encode encrypt define delegate deny dismiss dispatch duplicate "
    "enqueue dequeue escalate exchange expire extend filter flush freeze unfreeze geocode hide unhide identify "
    "ignore increment decrement inspect invalidate kill launch log mount unmount override ping poll populate "
    "prepare provide quote rank rebuild recommend redirect reindex reload remind renew reorder repair replay "
    "request reschedule resize respond revert revise route score select sell serve setup shorten skip snooze "
    "solve sort spawn stage store tokenize trace unset unshare wipe acknowledge allocate release rebuild "
    "regenerate remove rollout sample seek uncancel accept".split()
)
# A capitalised first word ending in -s followed by one of these is a verb ("Removes the ...").
_AFTER_VERB = frozenset("the a an all one multiple specified given your this that these those over up out off "
                        "in on into from to an existing new any".split())
# Words that carry no meaning in an operation name: versions, HTTP plumbing, API boilerplate.
_NAME_NOISE = frozenset("api apis rest v json xml format do by id ids http https www endpoint operation op "
                        "controller handler resource resources service method request".split())


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
_LEAD = re.compile(r"^(?:use this (?:tool|function|endpoint) to|this (?:tool|function|endpoint|api|method|operation|"
                   r"call|route|resource|service)(?: (?:will|can|is used to|allows you to|lets you))?|"
                   r"tool to|function to|endpoint to|api to|used to|allows? (?:you|the user|users) to|"
                   r"lets? (?:you|the user)|helps? (?:you )?)\s*", re.I)


def description_action(description: str) -> str | None:
    """The description's first clause as an imperative verb phrase, or None."""
    first = re.split(r"(?<=[.!?])\s", description.strip(), maxsplit=1)[0].rstrip(".!? ")
    first = _LEAD.sub("", first).strip()
    first = _CUT.split(first, maxsplit=1)[0].strip()
    toks = first.split()
    if not toks or len(toks) > 12 or not toks[0].isalpha():
        return None
    if toks[0].lower() in ("returns", "return", "gets", "retrieves", "provides", "lists", "shows"):
        if len(toks) == 1:
            return None
        toks[0] = "get" if toks[0].lower() in ("returns", "return", "provides") else _imperative(toks[0])
    elif _is_verb(toks[0]) or (len(toks) > 1 and re.fullmatch(r"[A-Za-z][a-z]+s", toks[0]) is not None
                                and toks[1].lower() in _AFTER_VERB and not toks[0].lower().endswith("ss")):
        toks[0] = _imperative(toks[0])
    elif toks[0].lower() in ("a", "an", "the", "all", "this", "one", "details", "information", "info", "list",
                             "search", "new") or toks[0][:1].isupper():
        toks = ["get", *toks]  # a noun phrase: "Subscription settings" -> "get Subscription settings"
    else:
        return None
    if len(toks) > 10:
        return None
    toks = [t.lower() if re.fullmatch(r"[A-Z][a-z]+", t) else t for t in toks]  # Title Case -> plain
    phrase = " ".join(toks)
    return phrase[0].lower() + phrase[1:]


def _is_verb(word: str) -> bool:
    w = word.lower()
    return w in VERBS or _imperative(w) in VERBS or w.rstrip("s") in VERBS


def name_action(name: str) -> str | None:
    """An operation name as a verb phrase: "annotatedDatasets.list" -> "list annotated datasets",
    "salesOrderRepositoryV1GetGet" -> "get sales order repository", "PlayerStatsByTeam" ->
    "get player stats by team". None when nothing readable is left."""
    segs = [x for x in re.split(r"[./]", name) if x]
    if len(segs) > 2:  # Google-style resource paths: keep the last collection and the method
        segs = segs[-2:]
    tail = [w for w in words_of(re.split(r"[._]", name)[-1]) if not w.isdigit()]
    parts_ = [x for x in re.split(r"[._]", name) if x]
    if len(parts_) > 1 and len(tail) > 1 and tail[0] in VERBS and tail[0] not in ("post", "order", "report") and \
            not re.fullmatch(r"(?i)get|post|put|patch|delete|head", parts_[0]):
        # "StopPoint_GetByMode" -> "get stop point mode"
        body = parts_[-2:-1] if "." in name else parts_[:-1]
        head = [w for w in words_of(" ".join(body)) + tail[1:]
                if w not in _NAME_NOISE and not re.fullmatch(r"v\d*|\d+", w)]
        head = list(dict.fromkeys(head))
        if head and len(head) <= 7:
            return " ".join([_imperative(tail[0]), *head])
    if len(tail) == 1 and tail[0] in VERBS and len(words_of(name)) > 1:
        # "WebTests_Get", "annotatedDatasets.list": resource, then the method
        parts = [x for x in re.split(r"[._]", name) if x]
        body = parts[-2:-1] if "." in name else parts[:-1]
        head = [w for w in words_of(" ".join(body)) if w not in _NAME_NOISE and not re.fullmatch(r"v\d*|\d+", w)]
        head = list(dict.fromkeys(head))[-6:]
        return " ".join([_imperative(tail[0]), *head]) if head else None
    toks = [w for w in words_of(" ".join(segs)) if not w.isdigit()]
    toks = [w for w in toks if w not in _NAME_NOISE and not re.fullmatch(r"v\d*", w)]
    if toks and toks[0] in ("get", "post", "put", "patch", "delete", "head") and len(toks) > 1 and \
            re.match(r"^(get|post|put|patch|delete|head)[_-]", name, re.I):
        method = toks.pop(0)  # method + path names: "post_users_userId_keys" -> "create users user keys"
        verb = {"post": "create", "put": "update", "patch": "update", "head": "check"}.get(method, method)
        toks = [verb, *toks]
    if len(toks) > 1 and toks[0] in ("get", "post", "put", "patch", "delete", "head", "create", "update") and \
            _is_verb(toks[1]) and toks[1] not in ("post", "order", "report", "book", "show", "tag", "view"):
        toks = toks[1:]  # "GET_DeactivateMFADevice": the HTTP method, then the real verb
    toks = list(dict.fromkeys(toks))  # "get get" and "player ... player" said once
    if not toks:
        return None
    nounish = ("post", "order", "report", "book", "show", "tag", "view")
    verb_at = next((i for i, w in enumerate(toks) if _is_verb(w) and (i == 0 or w not in nounish)), None)
    if verb_at is None:
        rest = toks
        verb = "get"
    else:
        verb = _imperative(toks[verb_at])
        rest = toks[:verb_at] + toks[verb_at + 1:]
    if len(rest) > 6:
        return None
    return " ".join([verb, *rest])


_NOT_ID = frozenset("paid valid invalid android void squid liquid fluid hybrid rapid avid acid humid vivid".split())
_PERSON = frozenset("first last full display user customer contact person author owner nick given family sur "
                    "member employee patient player recipient sender manager assignee".split())
_RESOURCE = frozenset("resource group bucket queue cluster instance database db table topic stream repo repository "
                      "project service app application function role policy vault workspace namespace image "
                      "container model index branch job pipeline deployment stack environment env key secret "
                      "device site zone domain channel space folder dataset schema collection account".split())


def api_pool(name: str, desc: str, fmt: str = "") -> str | None:
    """A value pool for API-style string parameters (identifiers, tokens, codes, resource names,
    dates without a format), from the parameter's name words (the last word decides most), its
    description and format; None when the generic hints should decide."""
    ws = words_of(name)
    if not ws:
        return None
    last, prev = ws[-1], (ws[-2] if len(ws) > 1 else "")
    d = desc.lower()
    if fmt == "uuid" or last in ("uuid", "guid"):
        return "uuid"
    if fmt in ("ipv4", "ipv6") or last == "ip" or (last == "address" and prev == "ip"):
        return "ip"
    if fmt == "hostname":
        return "host"
    if fmt in ("uri", "url", "uri-reference") or last in ("url", "uri", "href", "link", "webhook", "website"):
        return "url"
    if last in ("token", "cursor", "continuation", "marker") or (last == "after" and "cursor" in d):
        return "token"
    if last in ("date", "day", "since", "until", "from", "to", "before", "after", "at", "time", "timestamp") and (
            last in ("date", "day", "timestamp") or re.search(r"\b(date|timestamp|iso ?8601|yyyy)", d)):
        if "yyyy-mm-dd" in d or ("date" in ws and not re.search(r"time|hh:?mm|iso ?8601|rfc ?3339", d)):
            return "date_str"
        return "datetime_str"
    if last == "locale" or (last in ("lang", "language") and ("code" in d or "iso" in d or "bcp" in d)):
        return "locale" if last == "locale" or "-" in d else "lang_code"
    if "country" in ws and (last in ("code", "iso") or "iso" in d or "code" in d):
        return "country_code"
    if last in ("code", "iso") and prev in ("language", "lang", "locale"):
        return "locale" if prev == "locale" else "lang_code"
    if last == "arn":
        return "arn"
    if last in ("number", "no", "to", "from", "recipient", "sender", "msisdn") and re.search(
            r"\b(phone|mobile|msisdn|e\.?164|telephone)\b", d):
        return "phone"
    if last not in ("id", "ids") and re.search(r"\be-?mail address\b", d):
        return "email"
    if "currency" in ws:
        return "currency"
    if last in ("timezone", "tz") or (last == "zone" and prev == "time"):
        return "timezone"
    if last in ("region", "zone") or (last == "location" and re.search(r"\b(region|zone|location id)\b", d)):
        return "region"
    if last == "status" or (last == "state" and not re.search(r"province|abbreviation|u\.?s\.? state", d)):
        return "status"
    if last in ("domain", "hostname"):
        return "domain"
    if last == "parent" or (last == "name" and re.search(r"\b(projects|accounts|organizations)/", d)):
        return "resource_path"
    if last in ("filter", "filters", "where"):
        return "filter"
    if last in ("sort", "orderby", "sortby", "sorting") or (last == "by" and prev in ("order", "sort")):
        return "sort"
    if last == "version":
        return "version"
    if "cron" in ws or (last in ("schedule", "expression") and "cron" in d):
        return "cron"
    if last == "year":
        return "year"
    if last in ("color", "colour"):
        return "color"
    if last in ("phone", "tel", "msisdn", "mobile") or (last == "number" and prev in ("phone", "mobile", "tel")):
        return "phone"
    if last in ("email", "mail"):
        return "email"
    if last in ("results", "limit", "count", "size", "top", "skip", "offset", "page", "amount", "quantity", "qty",
                "max", "min", "total", "per", "items", "rows", "depth", "radius", "distance", "length", "width",
                "height", "weight", "duration", "week", "round", "minutes", "hours", "seconds", "days", "port",
                "zoom", "decimals") or ws[0] in ("max", "min", "num") or last.startswith("numberof"):
        return "numstr"  # a number typed as a string ("maxResults": "25")
    if last in ("season",):
        return "year"
    if (len(last) > 3 and last.endswith("id") and len(ws) == 1 and last not in _NOT_ID) or last == "sid":
        return "ident"  # "playerid", "AssistantSid"
    if last in ("id", "ids", "key", "arn", "sku", "ref", "reference", "uid", "identifier", "number", "no", "num",
                "code", "handle", "hash", "sha", "digest", "serial"):
        if prev == "tracking":
            return "tracking"
        if prev in ("zip", "postal", "post"):
            return "zip"
        if last in ("key", "handle") or prev in _RESOURCE and last not in ("id", "ids", "number", "no", "num"):
            return "slug"
        return "ident"
    if last in ("name", "names", "title", "label"):
        if last == "title" or last == "label":
            return None
        if prev in ("first", "given"):
            return "first"
        if prev in ("last", "family", "sur"):
            return "last"
        if prev in _PERSON:
            return "person_name"
        if prev == "file":
            return "file"
        if prev in ("host", "server", "machine"):
            return "host"
        if prev in ("company", "organization", "organisation", "org", "business", "vendor", "supplier"):
            return "company"
        if prev == "product":
            return "product"
        if prev in ("city", "town"):
            return "city"
        if prev == "country":
            return "country"
        if re.search(r"\b(person|user'?s?|customer|contact|author|full name|first name|last name)\b", d):
            return "contact"
        if prev or re.search(r"\bresource\b", d):
            return "resname"  # "workflowName", "elasticPoolName": a resource's name
        return "name_any"
    if last in ("owner", "org", "organization", "login", "workspace", "team", "tenant", "namespace") and \
            not re.search(r"\b(name of the (person|user)|full name)\b", d):
        return "login"  # "owner": "acme-labs", "org": "zephyr-hq"
    if last in _RESOURCE and last not in ("folder", "device", "zone", "domain", "key", "secret"):
        return "slug"  # "resourceGroup", "workspace", "bucket"
    if last in ("username", "login", "handle", "screen"):
        return "username"
    return None


def _search(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except (re.error, RecursionError):
        return False


_FALLBACK_POOLS = ("ident", "slug", "code", "word", "token", "uuid", "id", "country_code", "lang_code", "locale",
                   "currency", "zip", "email", "url", "domain", "version", "ip", "year", "date_str", "datetime_str")


def _fitting_pool(pool: str, schema: dict[str, Any]) -> str | None:
    """`pool` when its values fit the schema's pattern and length bounds, else a pool of strings
    drawn from the pattern itself, else the first fallback pool whose values all fit, else None
    (no value can be made up for the parameter)."""
    import random

    pattern = schema.get("pattern")
    lo, hi = schema.get("minLength", 0), schema.get("maxLength", 1 << 30)

    def fits(p: str) -> bool:
        r = random.Random(7)
        for _ in range(12):
            v = POOLS[p](r)
            if not (lo <= len(v) <= hi) or (pattern and not _search(pattern, v)):
                return False
        return True

    cands = [pool, "slug", "ident"]
    if pattern:
        key = f"re:{pattern}"
        if key not in POOLS:
            POOLS[key] = _regex_pool(pattern)
        cands.append(key)
    for p in (*cands, *_FALLBACK_POOLS):
        if p in POOLS and fits(p):
            return p
    return None


def _regex_pool(pattern: str) -> Any:
    """A value pool of strings matching `pattern` (literals, classes, repeats, groups, alternation),
    with readable repeat counts; values that fail the pattern are retried, then given up."""
    import re._parser as sre  # type: ignore[import-not-found]  # the stdlib's own regex parser

    try:
        parsed = sre.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return lambda r: ""
    alnum = "abcdefghijkmnpqrstuvwxyz0123456789"

    def gen(items: Any, r: Any, depth: int = 0) -> str:
        out = []
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(av))
            elif name == "ANY":
                out.append(r.choice(alnum))
            elif name == "NOT_LITERAL":
                out.append(r.choice([c for c in alnum if c != chr(av)]))
            elif name == "IN":
                out.append(_in(av, r))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                lo, hi, sub = av
                if hi == sre.MAXREPEAT:  # "*" and "+": a readable 3-10 (1-2 when nested), "{4,}": about 4
                    n = (r.randint(3, 10) if depth == 0 else r.randint(lo, 2)) if lo <= 1 else lo + r.randint(0, 3)
                else:
                    n = r.randint(lo, min(hi, lo + 8))
                out.extend(gen(sub, r, depth + 1) for _ in range(n))
            elif name == "SUBPATTERN":
                out.append(gen(av[-1], r, depth + 1))
            elif name == "BRANCH":
                out.append(gen(r.choice(av[1]), r, depth + 1))
            elif name in ("AT", "ASSERT", "ASSERT_NOT"):
                continue
            else:
                raise ValueError(name)
        return "".join(out)

    def _in(av: Any, r: Any) -> str:
        chars: set[str] = set()
        neg = False
        for op, a in av:
            name = str(op)
            if name == "NEGATE":
                neg = True
            elif name == "LITERAL":
                chars.add(chr(a))
            elif name == "RANGE":
                chars.update(chr(c) for c in range(a[0], min(a[1], a[0] + 95) + 1))
            elif name == "CATEGORY":
                cat = str(a)
                base = "0123456789" if "DIGIT" in cat else " \t\n" if "SPACE" in cat else alnum + "ABCDEFGH_"
                if "NOT" in cat:
                    base = "".join(c for c in alnum + "-_." if c not in base)
                chars.update(base)
        if neg:
            return r.choice([c for c in alnum + "-_." if c not in chars] or ["x"])
        return r.choice(sorted(chars) or ["x"])

    def pool(r: Any) -> str:
        for _ in range(5):
            try:
                v = gen(parsed, r)
            except (ValueError, RecursionError, TypeError):
                return ""
            if _search(pattern, v):
                return v
        return ""

    return pool


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


_ENTITY_TAIL = frozenset("id ids name number no key code uuid guid slug sid arn handle".split())
_COUNT_WORDS = frozenset("limit max top size results count".split())


def _extra_phrases(ws: list[str], kind: str) -> tuple[str, ...]:
    """How people name an entity's identifier ("for user 48213" for `user_id`) and a result
    count ("up to 20 results" for `maxResults`)."""
    if len(ws) >= 2 and ws[-1] in _ENTITY_TAIL and ws[-2] not in _ENTITY_TAIL:
        ent = " ".join(ws[:-1])
        return (f"for {ent} {{v}}", f"{ent} {{v}}", f"of {ent} {{v}}")
    if kind == "int" and _COUNT_WORDS & set(ws) and not {"id", "min", "offset", "skip"} & set(ws):
        return ("up to {v} results", "{v} at most")
    return ()


def _phrases(name: str, kind: str, unit: str) -> tuple[str, ...]:
    ws = words_of(name)
    spoken = " ".join(ws) or name
    if kind == "bool":
        return (f"with {spoken}",)
    extra = _extra_phrases(ws, kind)
    for keys, phrases in PHRASE_HINTS:
        if any(k in ws for k in keys):
            out = tuple(p.replace("{unit}", unit or spoken) for p in phrases)
            return (*out, *extra) if len(spoken) <= 3 else (*out, f"with {spoken} {{v}}", *extra)
    if kind in ("int", "num"):
        return (f"with {spoken} {{v}}", f"{spoken} {{v}}", f"{{v}} {spoken}", *extra)
    return (f"with {spoken} {{v}}", f"{spoken} {{v}}", f"{spoken}: {{v}}", *extra)


def _bool_phrases(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(when true, when false) for a flag: `is_active` -> "marked active", `include_archived` ->
    "including archived", `notificationsEnabled` -> "with notifications enabled"."""
    ws = words_of(name) or [name]
    spoken = " ".join(ws)
    rest = " ".join(ws[1:])
    if ws[0] in ("is", "has", "can", "should", "allow", "allows") and rest:
        return ((f"as {rest}", f"marked {rest}", f"{rest} set to true"),
                (f"with {rest} false", f"{rest} set to false", f"without {rest}"))
    if ws[0] in ("include", "includes", "with", "show", "return", "expand", "fetch") and rest:
        return ((f"including {rest}", f"with {rest}", f"and include {rest}"),
                (f"excluding {rest}", f"without {rest}", f"leaving out {rest}"))
    if ws[-1] in ("enabled", "enable", "active", "on") and len(ws) > 1:
        head = " ".join(ws[:-1])
        return ((f"with {head} enabled", f"{head} on", f"{spoken} true"),
                (f"with {head} disabled", f"{head} off", f"{spoken} false"))
    return ((f"with {spoken}", f"and {spoken}", f"{spoken} true"), (f"without {spoken}", f"{spoken} false"))


def infer_param(name: str, schema: dict[str, Any], required: bool) -> ParamSpec | None:
    """A ParamSpec for one schema property, or None when no value can be made for it. A cryptic
    name ("q", "uin", "finorvin") is also said the way its description names it ("search query")."""
    p = _infer_param(name, schema, required)
    if p is None or p.kind in ("bool", "date", "datetime", "time") or not isinstance(schema, dict):
        return p
    ws = words_of(name)
    spoken = " ".join(ws)
    if len(spoken) <= 3 or (len(ws) == 1 and len(spoken) >= 10):
        np = description_noun(str(schema.get("description", "")))
        if np and np.lower() != spoken:
            from dataclasses import replace

            extra = (f"with {np} {{v}}", f"{np} {{v}}", f"{np}: {{v}}")
            p = replace(p, phrases=tuple(dict.fromkeys((*p.phrases, *extra))))
    return p


def description_noun(description: str) -> str | None:
    """The noun phrase a parameter's description starts with ("The search query to run." ->
    "search query"), 1-4 words, or None."""
    first = re.split(r"(?<=[.!?])\s", description.strip(), maxsplit=1)[0].rstrip(".!? ")
    first = re.sub(r"^(?:the|a|an|your|optional|required|specifies|specify|indicates|sets?)\b[\s:]*", "", first,
                   flags=re.I)
    first = re.sub(r"^(?:the|a|an)\s+", "", first, flags=re.I)
    head = _CUT.split(f" {first} ", maxsplit=1)[0].strip()
    head = re.split(r"\s(?:is|are|was|will|must|should|can|to|that|which|used|you|if|when|in)\b", head,
                    maxsplit=1)[0].strip()
    toks = head.split()
    if not 1 <= len(toks) <= 4 or not all(re.fullmatch(r"[A-Za-z][A-Za-z0-9'/-]*", t) for t in toks):
        return None
    if toks[0].lower() in _NOT_NOUN or all(t.lower() in _NOT_NOUN for t in toks):
        return None
    return " ".join(t.lower() if re.fullmatch(r"[A-Z][a-z]+", t) else t for t in toks)


_NOT_NOUN = frozenset("whether if when how what which who determines determine indicates indicate flag filter filters "
                      "set sets used use this these that value values list comma-separated true false optional "
                      "required returns return only default specifies specify enables enable allows allow boolean "
                      "string integer of json object array field fields parameter deprecated see".split())


def _infer_param(name: str, schema: dict[str, Any], required: bool) -> ParamSpec | None:
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
        ws = words_of(name)
        span = 99_999.0 if ws and ws[-1] in ("id", "ids", "number", "no", "num") and hi is None else None
        return ParamSpec(name, kind, required, lo=float(lo) if lo is not None else None,
                         hi=float(hi) if hi is not None else None, phrases=_phrases(name, kind, unit),
                         description=desc, span=span)
    if t == "boolean":
        yes, no = _bool_phrases(name)
        return ParamSpec(name, "bool", required, phrases=yes, false_phrases=no, description=desc)
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
        if pattern and _search(pattern, "12:30") and not _search(pattern, "hello"):
            return ParamSpec(name, "time", required, phrases=("at {v}",), description=desc)
        pool = api_pool(name, desc, fmt) or _pool_for(name, desc)
        if pattern or "minLength" in schema or "maxLength" in schema:
            pool = _fitting_pool(pool, schema)
            if pool is None:
                return None
        kind = "text" if pool in ("message", "sentence", "note") else "str"
        return ParamSpec(name, kind, required, pool=pool, phrases=_phrases(name, kind, ""), description=desc)
    if t == "array":
        items = schema.get("items", {})
        if isinstance(items, dict) and items.get("type", "string") == "string" and "enum" not in items:
            singular = name[:-1] if name.endswith("s") else name
            pool = api_pool(singular, desc, items.get("format", "")) or _pool_for(singular, desc)
            if "pattern" in items or "minLength" in items or "maxLength" in items:
                pool = _fitting_pool(pool, items)
                if pool is None:
                    return None
            return ParamSpec(name, "list", required, pool=pool, phrases=_phrases(name, "list", ""), description=desc)
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
    params = _disambiguate(params)
    actions = []
    da = description_action(tool.description)
    if da:
        actions.append(da)
    na = name_action(tool.name)
    if na and (not da or len(na.split()) <= 5):
        actions.append(na)
    if not actions:
        actions.append(f"use {tool.name}")
    spec = ToolSpec(tool.name, tool.description, "user", tuple(make_action(a) for a in dict.fromkeys(actions)),
                    tuple(params))
    spec._dict = tool.to_dict()
    return spec


def _disambiguate(params: list[ParamSpec]) -> list[ParamSpec]:
    """Phrases that would not tell two parameters apart ("called {v}" for both `resourceGroupName`
    and `jobAgentName`, a bare "{v}" for two dates) are kept only where no other parameter uses
    them; the others say the parameter's name ("with job agent name {v}")."""
    from dataclasses import replace

    count: dict[str, int] = {}
    for p in params:
        if p.kind != "bool":
            for ph in set(p.phrases):
                if "{v}" in ph and not re.search(r"[a-z]{3,}", ph.replace("{v}", "")) or _GENERIC.match(ph):
                    count[ph] = count.get(ph, 0) + 1
    shared = {ph for ph, c in count.items() if c > 1}
    if not shared:
        return params
    out = []
    for p in params:
        keep = tuple(ph for ph in p.phrases if ph not in shared)
        if keep != p.phrases:
            spoken = " ".join(words_of(p.name)) or p.name
            explicit = (f"with {spoken} {{v}}", f"{spoken} {{v}}", f"{spoken}: {{v}}")
            keep = tuple(dict.fromkeys((*keep, *explicit)))
            p = replace(p, phrases=keep)
        out.append(p)
    return out


_GENERIC = re.compile(r"^(?:called|named|titled|in|for|to|from|about|at|saying|that says|:) ?\{v\}$")


def known_pool(name: str) -> bool:
    return name in POOLS
