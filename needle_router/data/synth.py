"""The offline synthetic generator: labelled tool-routing examples in the shared record format.

Each example picks target tool(s) from the tool bank (or a procedural family), draws argument
values from large pools, says them in one of many phrasings (imperative, question, polite, terse,
chatty, fillers, typos, odd casing, digits or words, relative or absolute dates, multi-sentence),
and surrounds the target with 1-8 distractor tools, often from the same domain.

String values appear verbatim in the query (surface noise is applied to the template before the
values are filled in), so a copy mechanism can learn them. Everything is drawn from one
`random.Random(seed)`: same seed, same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needle_router.data import procedural, wording
from needle_router.data.paraphrase import swap_synonyms
from needle_router.data.spec import Action, ParamSpec, ToolSpec
from needle_router.data.toolbank import ToolBank, load_bank
from needle_router.data.values import CHITCHAT, WEEKDAYS, random_today
from needle_router.errors import DataError

CATEGORIES = ("single", "parallel", "irrelevant", "missing", "negated", "out_of_range", "ambiguous")
EXPECTED = {
    "single": "call",
    "parallel": "call",
    "irrelevant": "refuse",
    "missing": "clarify",
    "negated": "refuse",
    "out_of_range": "refuse",
    "ambiguous": "escalate",
}
DEFAULT_SHARES: dict[str, float] = {
    "single": 0.40,
    "parallel": 0.15,
    "irrelevant": 0.12,
    "missing": 0.10,
    "negated": 0.07,
    "out_of_range": 0.08,
    "ambiguous": 0.08,
}
PROCEDURAL_SHARE = 0.15
# Share of requests without the {"today", "weekday"} context. A model that only ever saw the context
# learned to rely on it and declined plain requests without it; these records say dates absolutely.
NO_CONTEXT_SHARE = 0.25

IMPERATIVE = (
    "{C}", "{C}.", "Please {c}.", "{C}, please.", "Can you {c}?", "Could you {c}?", "Could you please {c}?",
    "Would you {c}?", "I'd like you to {c}.", "I want to {c}.", "I need to {c}.", "Help me {c}.", "Kindly {c}.",
    "Go ahead and {c}.", "I need you to {c}.", "Let's {c}.", "Hey, {c}.", "{C} for me.", "{C} thanks",
    "Yo {c}", "Need to {c} asap", "Can you help me {c}?", "Quick one: {c}.", "Is it possible to {c}?",
    "Would you be able to {c}?", "pls {c}", "{c}", "I'd love it if you could {c}.", "Time to {c}.",
    "Mind if we {c}?", "Hey there! {C}, thanks!", "Could you {c} real quick?",
)
QUESTION = (
    "{C}?", "Hey, {c}?", "Quick question: {c}?", "{C}? Thanks.", "Can you tell me {c}?", "{c}?",
    "I was wondering {c}?", "Do you know {c}?", "{c}", "Any idea {c}?",
)
STATEMENT = ("{C}.", "{C}", "Hey, {c}.", "So {c}.", "Just so you know, {c}.", "FYI {c}", "{C}!", "Heads up: {c}.")
NEGATED = (
    "Don't {c}.", "Do not {c}.", "Please don't {c}.", "Never {c}.", "Don't {c}, I changed my mind.",
    "I don't want you to {c}.", "No need to {c}.", "Do NOT {c}!", "Actually, don't {c}.",
    "Whatever you do, don't {c}.", "You shouldn't {c}.", "Stop, do not {c}.", "Please never {c} again.",
    "Forget it, don't {c}.", "Hold on, do not {c} yet.", "dont {c}", "I said don't {c}!",
    "Never mind, no need to {c}.", "Don't bother to {c}.", "On second thought, do not {c}.",
)
NEGATION_RE = re.compile(r"\b(don'?t|do not|never|no need|shouldn't)\b", re.IGNORECASE)
JOINERS = (" and ", ", and then ", ". Also, ", ", then ", "; also ", " and also ", ", plus ", ". After that, ",
           " and ", ", and ")
CONTEXT = (
    "I'm heading out soon.", "Long day today.", "Okay, next thing.", "So here's the deal.", "Quick favor.",
    "I just got home.", "Before I forget.", "Ugh, I'm so busy.", "Morning!", "Good evening.",
    "Thanks for earlier.", "My phone is almost dead.", "We're running behind.", "Hi!", "Okay.",
    "Right, one more thing.", "I've been meaning to ask.", "Hope you're well.",
)
FILLERS = ("um, ", "uh, ", "ok so ", "hmm, ", "so ", "alright, ", "hey assistant, ", "yo, ", "well, ", "okay ")
# Within a request chosen for synonym swaps, the chance that each swappable word is swapped.
SWAP_P = 0.7
SUFFIX = (" thanks", " thx", " ty", " :)", " please", " asap", "!", " thank you!", " cheers")
_PH = re.compile("\x01(\\d+)\x02")


def _ph(i: int) -> str:
    return f"\x01{i}\x02"


@dataclass
class GoldRequest:
    """A generated request with its tools and gold answers (`to_record`: the shared record format).
    Not model/examples.Example, which is a record rendered into the model's pointer-step targets."""

    query: str
    tools: list[ToolSpec]
    answers: list[dict[str, Any]]
    category: str
    missing: list[str] | None = None
    acceptable: list[list[dict[str, Any]]] | None = None
    context: dict[str, str] = field(default_factory=dict)
    origin: str | None = None  # the bank tool an "irrelevant" query was written for (not serialised)

    @property
    def expected(self) -> str:
        return EXPECTED[self.category]

    def to_record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "query": self.query,
            "tools": [t.to_dict() for t in self.tools],
            "answers": self.answers,
            "category": self.category,
            "expected": self.expected,
        }
        if self.missing is not None:
            rec["missing"] = self.missing
        if self.acceptable is not None:
            rec["acceptable"] = self.acceptable
        rec["context"] = self.context
        return rec

    def to_line(self) -> str:
        """The record as one JSON line; tool JSON is cached per tool, so this is cheap."""
        d = json.dumps
        parts = [
            '{"query": ', d(self.query, ensure_ascii=False),
            ', "tools": [', ", ".join(t.json for t in self.tools),
            '], "answers": ', d(self.answers, ensure_ascii=False),
            ', "category": "', self.category, '", "expected": "', self.expected, '"',
        ]
        if self.missing is not None:
            parts += [', "missing": ', d(self.missing)]
        if self.acceptable is not None:
            parts += [', "acceptable": ', d(self.acceptable, ensure_ascii=False)]
        parts += [', "context": ', d(self.context), "}"]
        return "".join(parts)


@dataclass
class Clause:
    text: str  # template with placeholders
    surfaces: list[str]
    args: dict[str, Any]
    question: bool
    statement: bool = False
    domain: str | None = None
    plain: bool = False  # already shaped ("First ..., then ..."): frame it only lightly
    joined: bool = False  # two or more asks (no object-first or verbless forms)


@dataclass
class Stats:
    examples: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    distinct_queries: int = 0
    bank_tools: int = 0
    domains: int = 0
    procedural_tools: int = 0
    avg_query_chars: float = 0.0
    avg_query_words: float = 0.0
    avg_tools: float = 0.0
    seconds: float = 0.0

    @property
    def per_minute(self) -> float:
        return self.examples / self.seconds * 60 if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "categories": dict(self.categories),
            "distinct_queries": self.distinct_queries,
            "bank_tools": self.bank_tools,
            "domains": self.domains,
            "procedural_tools": self.procedural_tools,
            "avg_query_chars": round(self.avg_query_chars, 1),
            "avg_query_words": round(self.avg_query_words, 2),
            "avg_tools": round(self.avg_tools, 2),
            "seconds": round(self.seconds, 2),
            "per_minute": round(self.per_minute),
        }


def _norm_shares(shares: dict[str, float] | None) -> tuple[list[str], list[float]]:
    s = dict(DEFAULT_SHARES if shares is None else shares)
    unknown = [k for k in s if k not in CATEGORIES]
    if unknown:
        raise DataError(f"unknown categories in shares: {unknown}")
    if any(v < 0 for v in s.values()) or sum(s.values()) <= 0:
        raise DataError("shares must be non-negative and not all zero")
    cats = [c for c in CATEGORIES if s.get(c, 0) > 0]
    total = sum(s[c] for c in cats)
    cum, acc = [], 0.0
    for c in cats:
        acc += s[c] / total
        cum.append(acc)
    cum[-1] = 1.0
    return cats, cum


class Generator:
    """Draws examples one at a time from a seeded RNG (see the module docstring)."""

    def __init__(self, seed: int, shares: dict[str, float] | None = None, bank: ToolBank | None = None,
                 procedural_share: float = PROCEDURAL_SHARE, no_context_share: float = NO_CONTEXT_SHARE,
                 synonyms: float = 0.0, variety: float = 1.0) -> None:
        self.r = random.Random(seed)
        self.synonyms = synonyms  # share of requests whose template words get synonym swaps
        # how often the varied wording (data/wording.py) is used: 0 gives the original wording
        self.variety = variety
        self.no_context_share = no_context_share
        self.bank = bank or load_bank()
        self.cats, self.cum = _norm_shares(shares)
        self.procedural_share = procedural_share
        self.procedural_made = 0
        tools = self.bank.tools
        self.oor_tools = [t for t in tools if _oor_params(t)]
        self.missing_tools = [t for t in tools if _droppable(t)]
        self.neg_tools = [t for t in tools if any(not (a.question or a.statement) for a in t.actions)]
        self.call_tools = [t for t in tools if t.params]
        self.group_names = sorted(self.bank.groups)

    # -- public ---------------------------------------------------------------------------------
    def gold_request(self) -> GoldRequest:
        r = self.r
        x = r.random()
        cat = self.cats[-1]
        for c, edge in zip(self.cats, self.cum, strict=True):
            if x < edge:
                cat = c
                break
        today: dt.date | None = random_today(r)
        ctx = {"today": today.isoformat(), "weekday": WEEKDAYS[today.weekday()]}
        if r.random() < self.no_context_share:
            today, ctx = None, {}
        for _ in range(20):
            ex = getattr(self, f"_{cat}")(today)
            if ex is not None:
                ex.context = ctx
                return ex
        raise DataError(f"could not generate a {cat!r} example")  # pragma: no cover - bank invariant

    # -- categories -------------------------------------------------------------------------------
    def _single(self, today: dt.date | None) -> GoldRequest | None:
        r = self.r
        if r.random() < self.procedural_share:
            fam = self._family()
            target, distract = fam[0], fam[1:] + self.r.sample(self.bank.tools, self.r.randint(0, 2))
        else:
            target = r.choice(self.call_tools)
            distract = self._distractors([target])
        cl = self._clause(target, today)
        if cl is None:
            return None
        q = self._frame(cl)
        return GoldRequest(q, self._mix([target], distract), [_call(target, cl.args)], "single")

    def _parallel(self, today: dt.date | None) -> GoldRequest | None:
        r = self.r
        n = 2 if r.random() < 0.7 else 3
        if r.random() < 0.35:
            t = r.choice(self.call_tools)
            if not any(p.required for p in t.params):
                return None
            targets = [t] * n
        else:
            first = r.choice(self.call_tools)
            targets = [first]
            while len(targets) < n:
                pool = self.bank.by_domain[first.domain] if r.random() < 0.5 else self.call_tools
                c = r.choice(pool)
                if c.params and c not in targets and (c.group is None or all(c.group != t.group for t in targets)):
                    targets.append(c)
        clauses = []
        for t in targets:
            cl = self._clause(t, today)
            if cl is None:
                return None
            clauses.append(cl)
        calls = [_call(t, cl.args) for t, cl in zip(targets, clauses, strict=True)]
        if len({json.dumps(c, sort_keys=True) for c in calls}) < len(calls):
            return None
        merged = self._join(clauses)
        q = self._frame(merged)
        uniq = list(dict.fromkeys(targets))
        return GoldRequest(q, self._mix(uniq, self._distractors(uniq)), calls, "parallel")

    def _irrelevant(self, today: dt.date | None) -> GoldRequest | None:
        r = self.r
        if r.random() < 0.15:
            text = r.choice(CHITCHAT)
            q = self._frame(Clause(text, [], {}, text.startswith(("what", "who", "why", "how", "is "))))
            return GoldRequest(q, r.sample(self.bank.tools, r.randint(1, 8)), [], "irrelevant")
        target = r.choice(self.call_tools)
        cl = self._clause(target, today)
        if cl is None:
            return None
        pool = self.bank.unrelated[target.domain]
        tools = r.sample(pool, min(len(pool), r.randint(1, 8)))
        return GoldRequest(self._frame(cl), tools, [], "irrelevant", origin=target.name)

    def _missing(self, today: dt.date | None) -> GoldRequest | None:
        r = self.r
        if r.random() < self.procedural_share:
            fam = self._family()
            target, distract = fam[0], fam[1:] + self.r.sample(self.bank.tools, self.r.randint(0, 2))
        else:
            target = r.choice(self.missing_tools)
            distract = self._distractors([target])
        options = _droppable(target)
        if not options:
            return None
        drop = r.choice(options)
        cl = self._clause(target, today, drop=drop)
        if cl is None:
            return None
        return GoldRequest(self._frame(cl), self._mix([target], distract), [_call(target, cl.args)], "missing",
                       missing=[drop])

    def _negated(self, today: dt.date | None) -> GoldRequest | None:
        r = self.r
        if r.random() < self.procedural_share:
            fam = self._family()
            target, distract = fam[0], fam[1:] + self.r.sample(self.bank.tools, self.r.randint(0, 2))
        else:
            target = r.choice(self.neg_tools)
            distract = self._distractors([target])
        acts = tuple(a for a in target.actions if not (a.question or a.statement))
        cl = self._clause(target, today, actions=acts)
        if cl is None:
            return None
        return GoldRequest(self._negate(cl), self._mix([target], distract), [], "negated")

    def _out_of_range(self, today: dt.date | None) -> GoldRequest | None:
        r = self.r
        if r.random() < self.procedural_share:
            fam = self._family()
            target, distract = fam[0], fam[1:] + self.r.sample(self.bank.tools, self.r.randint(0, 2))
        else:
            target = r.choice(self.oor_tools)
            distract = self._distractors([target])
        params = _oor_params(target)
        if not params:
            return None
        p = r.choice(params)
        cl = self._clause(target, today, oor=p.name)
        if cl is None:
            return None
        return GoldRequest(self._frame(cl), self._mix([target], distract), [], "out_of_range")

    def _ambiguous(self, today: dt.date | None) -> GoldRequest | None:
        r = self.r
        g = r.choice(self.group_names)
        a, b = r.sample(self.bank.groups[g], 2)
        cl = self._clause(a, today, actions=self.bank.group_actions[g], opt_p=0.0)
        if cl is None:
            return None
        bprops = {p.name for p in b.params}
        ca = _call(a, cl.args)
        cb = _call(b, {k: v for k, v in cl.args.items() if k in bprops})
        acceptable = [[ca], [cb]] if r.random() < 0.5 else [[cb], [ca]]
        distract = [t for t in self._distractors([a]) if t.group != g]
        return GoldRequest(self._frame(cl), self._mix([a, b], distract), [], "ambiguous", acceptable=acceptable)

    # -- helpers --------------------------------------------------------------------------------
    def _family(self) -> list[ToolSpec]:
        fam = procedural.make_family(self.r, self.r.randint(2, 7))
        self.procedural_made += len(fam)
        return fam

    def _distractors(self, targets: Sequence[ToolSpec]) -> list[ToolSpec]:
        r = self.r
        k = r.randint(1, 8)
        names = {t.name for t in targets}
        groups = {t.group for t in targets if t.group}
        out: list[ToolSpec] = []
        for _ in range(k * 3):
            if len(out) >= k:
                break
            t = r.choice(self.bank.by_domain[r.choice(targets).domain]) if r.random() < 0.6 else r.choice(
                self.bank.tools)
            if t.name in names or (t.group and t.group in groups):
                continue
            names.add(t.name)
            out.append(t)
        return out

    def _mix(self, targets: Sequence[ToolSpec], distract: Sequence[ToolSpec]) -> list[ToolSpec]:
        tools = list(dict.fromkeys([*targets, *distract]))
        self.r.shuffle(tools)
        return tools

    def _clause(self, spec: ToolSpec, today: dt.date | None, *, drop: str | None = None, oor: str | None = None,
                actions: Sequence[Action] | None = None, opt_p: float = 0.45) -> Clause | None:
        r = self.r
        inc = [p for p in spec.params
               if p.name != drop and (p.required or p.name == oor or r.random() < opt_p)]
        names = {p.name for p in inc}
        acts = [a for a in (actions or spec.actions) if all(n in names for n in a.inline)]
        if not acts:
            return None
        action = r.choice(acts)
        text = action.text
        surfaces: list[str] = []
        args: dict[str, Any] = {}
        slots: list[str] = []
        for p in inc:
            inline = p.name in action.inline
            phrase = "{v}" if inline or p.kind == "bool" else r.choice(p.phrases)
            bare = inline or not phrase.startswith("{v}")
            v, s = p.sample_out_of_range(r) if p.name == oor else p.sample(r, today, bare)
            if self.variety and p.name != oor:
                s = self._resay(p, v, s, phrase)
            args[p.name] = v
            if inline:
                text = text.replace("{" + p.name + "}", _ph(len(surfaces)))
                surfaces.append(s)
            elif p.kind == "bool":
                slots.append(r.choice(p.phrases if v or not p.false_phrases else p.false_phrases))
            else:
                slots.append(phrase.replace("{v}", _ph(len(surfaces))))
                surfaces.append(s)
        if len(slots) > 1 and r.random() < 0.4:
            r.shuffle(slots)
        if slots:
            text = text + " " + " ".join(slots)
        return Clause(text, surfaces, args, action.question, action.statement, spec.domain)

    def _resay(self, p: ParamSpec, v: Any, said: str, phrase: str) -> str:
        """Numbers as words or with thousands separators, enum members as synonyms (varied wording)."""
        r = self.r
        if p.kind in ("int", "num") and isinstance(v, int | float) and not isinstance(v, bool):
            if re.search(r"[A-Za-z×]\{v\}|\{v\}[A-Za-z×]", phrase):  # "x3", "5mg": never "xthree", "fivemg"
                return said if said[:1].isdigit() or said[:1] == "-" else str(v)
            if r.random() < 0.5 * self.variety and not re.search(r"\{v\}[%°]|[$€£]\{v\}", phrase):
                return wording.say_number(r, v)
        elif p.kind == "enum" and (("priority" in phrase and "priority" in said) or (
                said.lower().replace(" ", "_") in {str(m).lower() for m in p.enum} - {str(v).lower()})):
            # "with high priority", never "with high priority priority"; never "urgent" for `high`
            # where `urgent` is a member too (the spec's ways to say a member can name another)
            return str(v).replace("_", " ")
        elif p.kind == "enum" and isinstance(v, str) and v.lower() in wording.ENUM_ALSO:
            if r.random() < 0.4 * self.variety and not ("priority" in phrase and v.lower() in wording.PRIORITIES):
                alias = r.choice(wording.ENUM_ALSO[v.lower()])
                members = {str(m).lower().replace("_", " ") for m in p.enum}
                if alias.lower().replace("_", " ") not in members - {v.lower().replace("_", " ")}:
                    return alias
        return said

    def _join(self, clauses: list[Clause]) -> Clause:
        r = self.r
        text, surfaces = clauses[0].text, list(clauses[0].surfaces)
        shape = r.choice(wording.FIRST_THEN) if self.variety and r.random() < 0.3 * self.variety else None
        for i, cl in enumerate(clauses[1:]):
            shifted = _PH.sub(lambda m, k=len(surfaces): _ph(int(m.group(1)) + k), cl.text)
            if shape is not None:
                joiner = shape[1] if i == len(clauses) - 2 else ", "
            elif self.variety and r.random() < 0.5 * self.variety:
                joiner = r.choice(wording.JOINERS_MORE)
            else:
                joiner = r.choice(JOINERS)
            if joiner.endswith((". ", ": ")):
                shifted = shifted[:1].upper() + shifted[1:]
            text += joiner + shifted
            surfaces += cl.surfaces
        if shape is not None:
            text = shape[0] + text
        return Clause(text, surfaces, {}, clauses[0].question, clauses[0].statement, clauses[0].domain,
                      plain=shape is not None, joined=True)

    def _frame(self, cl: Clause) -> str:
        r = self.r
        c = cl.text
        if self.synonyms and r.random() < self.synonyms:
            c = swap_synonyms(r, c, p=SWAP_P)
        register = ""
        if self.variety:
            tmpl, c, register = self._shape(cl, c)
        else:
            tmpl = r.choice(QUESTION if cl.question else STATEMENT if cl.statement else IMPERATIVE)
        text = tmpl.replace("{C}", c[:1].upper() + c[1:]).replace("{c}", c)
        k = r.random()
        if register in ("casual", "terse"):
            pass
        elif self.variety and k < 0.2 * self.variety:
            pool = wording.DOMAIN_CONTEXT.get(cl.domain or "", ())
            if pool and r.random() < 0.25:  # the reason after the request: "... I'm flying out soon."
                text = text.rstrip() + ("" if text.rstrip()[-1:] in (".", "?", "!") else ".") + " " + r.choice(pool)
            else:
                text = r.choice(pool if pool and r.random() < 0.6 else CONTEXT + wording.CONTEXT_MORE) + " " + text
        elif k < 0.12:
            text = r.choice(CONTEXT) + " " + text
        elif k < 0.2:
            text = r.choice(FILLERS) + text
        if r.random() < 0.08 and register not in ("polite", "casual"):
            text = text.rstrip(".?!") + r.choice(SUFFIX)
        if register == "casual":
            text = wording.casualise(r, text)
        elif register == "terse":
            text = wording.tersify(text)
        return _fill(self._case(text, allow_typos=True), cl.surfaces)

    def _negate(self, cl: Clause, context: bool = True) -> str:
        """The clause as a request not to do it ("Don't ..."), values filled in."""
        r = self.r
        c = cl.text
        if self.synonyms and r.random() < self.synonyms:
            c = swap_synonyms(r, c, p=SWAP_P)
        text = r.choice(NEGATED + wording.NEGATED_MORE if self.variety else NEGATED).replace("{c}", c)
        if context and r.random() < 0.2:
            text = r.choice(CONTEXT + wording.CONTEXT_MORE if self.variety else CONTEXT) + " " + text
        return _fill(self._case(text, allow_typos=False), cl.surfaces)

    def _shape(self, cl: Clause, c: str) -> tuple[str, str, str]:
        """A frame for the clause in the varied wording: (template, clause text, register)."""
        r = self.r
        v = self.variety
        if not (cl.surfaces or cl.args or cl.domain or cl.plain):  # chit-chat
            return r.choice(("{C}?", "{c}?", "Hey, {c}?", "So, {c}?") if cl.question else ("{C}", "{C}.", "{c}")), c, ""
        if cl.plain:  # already shaped: "First ..., then ..."
            return r.choice(("{C}", "{C}.", "{C}, please.", "{C}. Thanks!", "Okay. {C}.")), c, ""
        if cl.question:
            return r.choice(wording.QUESTION_MORE if r.random() < 0.4 * v else QUESTION), c, ""
        if cl.statement:
            return r.choice(STATEMENT), c, ""
        x = r.random()
        if cl.joined and x < 0.22 * v:
            x = 0.22 * v + r.random() * (1 - 0.22 * v)  # object-first and verbless forms read one ask only
        if x < 0.08 * v:
            need = wording.need_form(c)
            if need is not None:
                n, indef = need
                tmpl = r.choice(wording.NEED_INDEF if indef else wording.NEED_DEF)
                return tmpl.replace("{N}", "{C}").replace("{n}", "{c}"), n, ""
        elif x < 0.16 * v:
            g = wording.gerund(c)
            if g is not None:
                return r.choice(wording.GERUND), g, ""
        elif x < 0.22 * v:
            topic = wording.topicalize(c)
            if topic is not None:
                o, a = topic
                t = r.choice(wording.TOPIC)
                t = t.replace("{O}", o[:1].upper() + o[1:]).replace("{o}", o)
                return t.replace("{A}", a[:1].upper() + a[1:]).replace("{a}", a), c, ""
        elif x < 0.38 * v:
            return r.choice(wording.INDIRECT), c, ""
        elif x < 0.45 * v:
            return r.choice(wording.POLITE), c, "polite"
        elif x < 0.53 * v:
            return r.choice(wording.CASUAL), c, "casual"
        elif x < 0.6 * v:
            return r.choice(wording.TERSE), c, "terse"
        return r.choice(IMPERATIVE), c, ""

    def _case(self, text: str, allow_typos: bool) -> str:
        """Surface noise on the template only (placeholders survive): casing, punctuation, typos."""
        r = self.r
        k = r.random()
        if k < 0.08:
            text = text.lower()
        elif k < 0.1:
            text = text.upper()
        elif k < 0.13:
            text = " ".join(w[:1].upper() + w[1:] if "\x01" not in w else w for w in text.split(" "))
        if r.random() < 0.1:
            text = text.rstrip(".?!")
        if allow_typos and self.variety:
            if r.random() < 0.1:
                text = wording.typos(r, text)
        elif allow_typos and r.random() < 0.1:
            text = _typo(r, text)
        return text


def _typo(r: random.Random, text: str) -> str:
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    for i in r.sample(idx, min(len(idx), r.randint(1, 2))):
        w = words[i]
        j = r.randrange(len(w) - 1)
        k = r.randrange(3)
        if k == 0:
            w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        elif k == 1:
            w = w[:j] + w[j + 1:]
        else:
            w = w[:j] + w[j] + w[j:]
        words[i] = w
    return " ".join(words)


def _fill(text: str, surfaces: list[str]) -> str:
    return _PH.sub(lambda m: surfaces[int(m.group(1))], text)


def _call(spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": spec.name, "arguments": args}


def _oor_params(spec: ToolSpec) -> list[ParamSpec]:
    out = []
    for p in spec.params:
        if p.bad:
            out.append(p)
        elif p.kind in ("int", "num") and p.lo is not None and p.hi is not None and p.hi - p.lo <= 100000:
            out.append(p)
    return out


def _droppable(spec: ToolSpec) -> list[str]:
    """Required parameters the query can leave out (some action does not name them inline)."""
    out = []
    for p in spec.params:
        if p.required and any(p.name not in a.inline for a in spec.actions):
            out.append(p.name)
    return out


def generate_requests(n: int, seed: int, shares: dict[str, float] | None = None,
                      synonyms: float = 0.0, variety: float = 1.0) -> Iterator[GoldRequest]:
    """Stream `n` examples (deterministic for a seed)."""
    g = Generator(seed, shares, synonyms=synonyms, variety=variety)
    for _ in range(n):
        yield g.gold_request()


def generate_records(n: int, seed: int, shares: dict[str, float] | None = None,
                     synonyms: float = 0.0, variety: float = 1.0) -> Iterator[dict[str, Any]]:
    """Stream `n` records as dicts in the shared record format."""
    for ex in generate_requests(n, seed, shares, synonyms, variety):
        yield ex.to_record()


def synthesize(n: int, seed: int, out_path: str | Path, shares: dict[str, float] | None = None,
               progress: bool = True, synonyms: float = 0.0, variety: float = 1.0) -> Stats:
    """Write `n` examples as JSONL to `out_path`, streaming; return statistics."""
    if n < 0:
        raise DataError("n must be >= 0")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    g = Generator(seed, shares, synonyms=synonyms, variety=variety)
    stats = Stats(bank_tools=len(g.bank), domains=len(g.bank.domains))
    seen: set[int] = set()
    chars = words = tools = 0
    start = time.perf_counter()
    prog = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        prog = Progress(TextColumn("synth"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        prog.start()
        task = prog.add_task("synth", total=n)
    try:
        with out.open("w", encoding="utf-8") as f:
            buf: list[str] = []
            for i in range(n):
                ex = g.gold_request()
                buf.append(ex.to_line())
                stats.categories[ex.category] += 1
                seen.add(hash(ex.query))
                chars += len(ex.query)
                words += ex.query.count(" ") + 1
                tools += len(ex.tools)
                if len(buf) >= 2000:
                    f.write("\n".join(buf) + "\n")
                    buf.clear()
                    if prog is not None:
                        prog.update(task, completed=i + 1)
            if buf:
                f.write("\n".join(buf) + "\n")
    finally:
        if prog is not None:
            prog.update(task, completed=n)
            prog.stop()
    stats.seconds = time.perf_counter() - start
    stats.examples = n
    stats.distinct_queries = len(seen)
    stats.procedural_tools = g.procedural_made
    if n:
        stats.avg_query_chars = chars / n
        stats.avg_query_words = words / n
        stats.avg_tools = tools / n
    return stats
