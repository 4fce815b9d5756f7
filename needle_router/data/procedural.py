"""Procedural tools: verbs x objects x parameters with randomised tool and parameter names.

Names are deliberately uninformative some of the time (`t_4k9`, `q7`), and a family of tools
shares its verbs and objects, so a model has to read the descriptions to pick the tool and the
argument slot; memorising names from the bank cannot work here.
"""

from __future__ import annotations

import random

from needle_router.data.spec import Action, ParamSpec, ToolSpec

# verb: (description verb, action phrasings with {o} for the object words)
VERBS: dict[str, tuple[str, tuple[str, ...]]] = {
    "fetch": ("Fetch", ("fetch the {o}", "get the {o}", "pull the {o}", "retrieve the {o}")),
    "archive": ("Archive", ("archive the {o}", "move the {o} to the archive", "shelve the {o}")),
    "sync": ("Synchronise", ("sync the {o}", "synchronise the {o}", "resync the {o}")),
    "purge": ("Permanently purge", ("purge the {o}", "wipe the {o}", "permanently erase the {o}")),
    "tag": ("Attach a tag to", ("tag the {o}", "label the {o}", "put a tag on the {o}")),
    "export": ("Export", ("export the {o}", "download the {o}", "dump the {o}")),
    "clone": ("Duplicate", ("clone the {o}", "duplicate the {o}", "make a copy of the {o}")),
    "lock": ("Lock", ("lock the {o}", "freeze the {o}", "make the {o} read-only")),
    "unlock": ("Unlock", ("unlock the {o}", "unfreeze the {o}")),
    "approve": ("Approve", ("approve the {o}", "sign off on the {o}", "green-light the {o}")),
    "reject": ("Reject", ("reject the {o}", "decline the {o}", "turn down the {o}")),
    "restore": ("Restore", ("restore the {o}", "bring back the {o}", "recover the {o}")),
    "validate": ("Validate", ("validate the {o}", "check the {o} for errors", "verify the {o}")),
    "publish": ("Publish", ("publish the {o}", "make the {o} live", "release the {o}")),
    "pause": ("Pause", ("pause the {o}", "put the {o} on hold", "suspend the {o}")),
    "resume": ("Resume", ("resume the {o}", "unpause the {o}", "restart the {o}")),
    "rename": ("Rename", ("rename the {o}", "give the {o} a new name")),
    "count": ("Count the items of", ("count the {o}", "tell me how many items the {o} has")),
}
OBJECTS = (
    "ledger", "widget", "manifest", "batch", "cohort", "shipment", "voucher", "dataset", "pipeline",
    "snapshot", "bucket", "workspace", "cluster", "badge", "coupon", "quiz", "blueprint", "roster",
    "catalog", "invoice", "parcel", "license", "sprint", "campaign", "experiment", "playbook",
    "template", "channel", "queue", "report", "survey", "contract", "asset", "module", "segment",
    "token", "slot", "ticket", "bundle", "profile",
)
PREFIXES = ("zx", "acme", "v2", "int", "svc", "ops", "my", "x", "core", "ext", "api", "k8")
EXTRAS = (
    # (description, kind, pool, lo, hi, enum, phrase)
    ("Tag or label text", "str", "word", None, None, (), "with the label {v}/labelled {v}"),
    ("Priority level", "enum", None, None, None, ("low", "normal", "high"), "at {v} priority/with {v} priority"),
    ("How many items to process", "int", None, 1, 50, (), "for {v} items/limited to {v} items"),
    ("Target region", "enum", None, None, None, ("eu", "us", "apac"), "in the {v} region/in {v}"),
    ("Free-text comment for the audit log", "text", "sentence", None, None, (), "with the comment {v}/noting {v}"),
    ("Whether to notify the owner", "bool", None, None, None, (), "and notify the owner|without notifying anyone"),
    ("Owner's email address", "email", None, None, None, (), "owned by {v}/for {v}"),
    ("Effective date", "date", None, None, None, (), "effective {v}/{v}"),
    ("Retention in days", "int", None, 1, 365, (), "keeping it {v} days/with {v} days retention"),
    ("New name", "str", "project", None, None, (), "to {v}/as {v}"),
)


def _rand_name(r: random.Random, verb: str, obj: str) -> str:
    style = r.randrange(6)
    if style == 0:
        return f"{r.choice(PREFIXES)}_{verb}_{obj}"
    if style == 1:
        return f"{obj}{verb.capitalize()}"
    if style == 2:
        return f"{obj}.{verb}"
    if style == 3:
        return f"t_{r.randrange(36 ** 3):03x}"
    if style == 4:
        return f"{verb}{obj.capitalize()}V{r.randint(1, 9)}"
    return f"op{r.randint(100, 999)}"


def _rand_param(r: random.Random, meaning: str, taken: set[str]) -> str:
    while True:
        if r.random() < 0.5:
            name = meaning
        else:
            name = r.choice(("q", "p", "x", "arg", "f", "k")) + r.choice(("", "_")) + str(r.randint(0, 99))
        if name not in taken:
            taken.add(name)
            return name
        meaning = f"{meaning}_{r.randint(2, 9)}"


def make_tool(r: random.Random, verb: str, obj: str, taken_names: set[str]) -> ToolSpec:
    """One procedural tool for (verb, obj) with a random name and 1-3 parameters."""
    desc_verb, phrasings = VERBS[verb]
    words = obj
    taken: set[str] = set()
    id_name = _rand_param(r, f"{obj}_id", taken)
    params = [
        ParamSpec(id_name, "str", True, "code", phrases=("{v}", "with id {v}", "#{v}"),
                  description=f"Identifier of the {words}")
    ]
    for extra in r.sample(EXTRAS, r.randint(0, 2)):
        desc, kind, pool, lo, hi, enum, phrase = extra
        pname = _rand_param(r, desc.split()[0].lower().strip("'s"), taken)
        t, _, f = phrase.partition("|")
        params.append(ParamSpec(
            pname, kind, r.random() < 0.4, pool,
            float(lo) if lo is not None else None, float(hi) if hi is not None else None,
            enum, (), None, tuple(t.split("/")), tuple(f.split("/")) if f else (), desc,
        ))
    name = _rand_name(r, verb, obj)
    while name in taken_names:
        name = f"{name}_{r.randint(0, 9)}"
    taken_names.add(name)
    actions = tuple(Action(p.format(o=words), (), False) for p in phrasings)
    return ToolSpec(name, f"{desc_verb} a {words} by its identifier.", "procedural", actions,
                    tuple(params), None, True)


def make_family(r: random.Random, n: int) -> list[ToolSpec]:
    """`n` procedural tools sharing verbs and objects; the first one is the intended target."""
    verbs, objs = list(VERBS), list(OBJECTS)
    verb, obj = r.choice(verbs), r.choice(objs)
    taken: set[str] = set()
    seen = {(verb, obj)}
    out = [make_tool(r, verb, obj, taken)]
    while len(out) < n:
        k = r.random()
        v = verb if k < 0.4 else r.choice(verbs)
        o = obj if 0.4 <= k < 0.8 else r.choice(objs)
        if (v, o) in seen:
            continue
        seen.add((v, o))
        out.append(make_tool(r, v, o, taken))
    return out
