"""The tool bank: several hundred realistic tools across ~30 domains, built from compact DSL tables.

`load_bank()` parses the tables once (cached) and returns a `ToolBank` with indexes the generator
needs: by domain, by ambiguity group, and which domains are unrelated to each other (for
"irrelevant" examples, whose toolsets must not contain anything that could serve the query).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from needle_router.data import bank_life, bank_work
from needle_router.data.spec import Action, ToolSpec, make_action, parse_tools_dsl
from needle_router.errors import DataError

# Generic phrasings for tools that genuinely do the same job (an "ambiguous" example uses one of
# these, so either tool of the group is a correct answer). Inline names are shared parameters.
GROUP_ACTIONS: dict[str, tuple[str, ...]] = {
    "music": ("play {song}", "put on {song}", "I want to hear {song}"),
    "msg": ("message {recipient}", "send a message to {recipient}", "tell {recipient}"),
    "mail": ("email {to}", "send an email to {to}", "drop {to} a mail"),
    "event": ("schedule {title}", "add {title} to my calendar", "put {title} in my calendar"),
    "remind": ("remind me to {text}", "make a reminder to {text}"),
    "weather": ("?what's the weather in {location}", "check the weather", "?how's the weather in {location}"),
    "pay": ("send {amount} to {contact}", "pay {contact} {amount}"),
    "lodging": ("book a place to stay in {city}", "find me accommodation in {city}", "get a room in {city}"),
    "ride": ("get me a ride to {destination}", "book a car to {destination}"),
    "cloud": ("upload {file}", "back up {file} to the cloud"),
    "post": ("post {text}", "share {text} online"),
    "translate": ("translate {text} to {target}", "?how do you say {text} in {target}"),
}

# Domains close enough that a query of one might be served by a tool of the other.
RELATED: dict[str, tuple[str, ...]] = {
    "messaging": ("email", "social", "productivity"),
    "email": ("messaging", "productivity"),
    "calendar": ("reminders", "productivity", "hr"),
    "reminders": ("calendar", "productivity", "health"),
    "finance": ("investing", "shopping", "hr", "real_estate"),
    "investing": ("finance", "news"),
    "travel": ("navigation", "weather", "automotive"),
    "navigation": ("travel", "automotive", "food"),
    "food": ("shopping", "health", "navigation"),
    "health": ("fitness", "food", "pets"),
    "fitness": ("health", "sports"),
    "sports": ("fitness", "entertainment", "news"),
    "media": ("entertainment", "smart_home"),
    "entertainment": ("media", "sports"),
    "smart_home": ("iot", "security", "media"),
    "iot": ("smart_home", "security", "pets"),
    "security": ("smart_home", "iot", "devops"),
    "devops": ("databases", "security", "files"),
    "databases": ("devops",),
    "files": ("devops", "productivity", "social"),
    "crm": ("hr", "productivity", "finance"),
    "hr": ("crm", "productivity", "calendar", "finance"),
    "productivity": ("calendar", "reminders", "messaging", "files", "crm", "hr"),
    "social": ("messaging", "news", "files"),
    "news": ("social", "investing", "sports"),
    "language": ("education",),
    "education": ("language", "math_science"),
    "math_science": ("education", "food"),
    "pets": ("health", "iot"),
    "real_estate": ("finance",),
    "automotive": ("navigation", "travel"),
    "weather": ("travel",),
    "shopping": ("finance", "food"),
}


@dataclass
class ToolBank:
    tools: list[ToolSpec]
    by_name: dict[str, ToolSpec] = field(default_factory=dict)
    by_domain: dict[str, list[ToolSpec]] = field(default_factory=dict)
    groups: dict[str, list[ToolSpec]] = field(default_factory=dict)
    group_actions: dict[str, tuple[Action, ...]] = field(default_factory=dict)
    unrelated: dict[str, list[ToolSpec]] = field(default_factory=dict)

    @property
    def domains(self) -> list[str]:
        return list(self.by_domain)

    def __len__(self) -> int:
        return len(self.tools)


def _build() -> ToolBank:
    specs: list[ToolSpec] = []
    tables = {**bank_life.DOMAINS}
    for domain, text in bank_work.DOMAINS.items():
        tables[domain] = tables.get(domain, "") + "\n" + text
    for domain, text in bank_work.crud_lines().items():
        tables[domain] = tables.get(domain, "") + "\n" + text
    for domain, text in tables.items():
        specs.extend(parse_tools_dsl(domain, text))
    bank = ToolBank(specs)
    for s in specs:
        if s.name in bank.by_name:
            raise DataError(f"duplicate tool {s.name!r} in the tool bank")
        bank.by_name[s.name] = s
        bank.by_domain.setdefault(s.domain, []).append(s)
        if s.group:
            bank.groups.setdefault(s.group, []).append(s)
    for g, members in bank.groups.items():
        if len(members) < 2 or g not in GROUP_ACTIONS:
            raise DataError(f"ambiguity group {g!r} needs >= 2 tools and generic actions")
        acts = tuple(make_action(a) for a in GROUP_ACTIONS[g])
        required = {p.name for p in members[0].params if p.required}
        for m in members[1:]:
            if {p.name for p in m.params if p.required} != required:
                raise DataError(f"group {g!r}: {m.name} must share required parameters")
        for a in acts:
            if not set(a.inline) <= required:
                raise DataError(f"group {g!r}: action {a.text!r} names a non-shared parameter")
        bank.group_actions[g] = acts
    for d in bank.by_domain:
        close = {d, *RELATED.get(d, ())}
        close |= {k for k, v in RELATED.items() if d in v}
        bank.unrelated[d] = [s for s in specs if s.domain not in close]
    return bank


@functools.lru_cache(maxsize=1)
def load_bank() -> ToolBank:
    """The parsed tool bank (built once per process)."""
    return _build()
