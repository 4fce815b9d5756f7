"""Synonym swaps for request templates: synonym-rich data.

The tool bank phrases a tool's actions with words close to its name and description ("show my
playlists" for `list_playlists`), so a model can route by word overlap alone. Swapping template
words for synonyms ("display my playlists", "pull up my playlists") makes the request share fewer
words with the tool, which is what independently written requests look like. Swaps touch only
the template: argument values are filled in afterwards, so they still appear verbatim.
"""

from __future__ import annotations

import random
import re

from needle_router.data import wordnet

# word -> synonyms that fit where the word does in the bank's action phrases
SYNONYMS: dict[str, tuple[str, ...]] = {
    "look up": ("search for", "find", "check", "pull up"),
    "turn on": ("switch on", "power on", "put on"),
    "turn off": ("switch off", "shut off", "power off", "kill"),
    "switch on": ("turn on", "power on"),
    "switch off": ("turn off", "shut off"),
    "set up": ("configure", "create", "arrange", "get going"),
    "pull up": ("bring up", "show", "open"),
    "find out": ("figure out", "check", "learn"),
    "sign up": ("register", "enroll"),
    "log in": ("sign in",),
    "sign in": ("log in",),
    "look for": ("search for", "hunt for", "try to find"),
    "show": ("display", "pull up", "bring up", "let me see"),
    "get": ("fetch", "grab", "retrieve", "pull"),
    "set": ("configure", "put"),
    "create": ("make", "generate", "set up", "start"),
    "make": ("create", "build", "put together"),
    "add": ("insert", "include", "put in"),
    "new": ("fresh", "brand-new"),
    "delete": ("remove", "erase", "wipe", "get rid of"),
    "remove": ("delete", "take out", "drop", "clear"),
    "find": ("search for", "look for", "locate", "look up"),
    "search for": ("look for", "hunt for", "find"),
    "search": ("look through", "scan", "comb through"),
    "look": ("search", "check"),
    "check": ("verify", "inspect", "look at", "see"),
    "update": ("change", "modify", "revise", "adjust"),
    "change": ("modify", "update", "alter", "switch"),
    "edit": ("modify", "change", "tweak", "revise"),
    "modify": ("change", "edit", "adjust"),
    "send": ("deliver", "shoot", "dispatch", "fire off"),
    "book": ("reserve", "grab"),
    "reserve": ("book", "hold"),
    "cancel": ("call off", "scrap", "abort"),
    "start": ("begin", "kick off", "launch"),
    "stop": ("halt", "end", "pause"),
    "open": ("launch", "bring up"),
    "play": ("put on", "start playing", "queue up"),
    "turn": ("switch", "flip"),
    "buy": ("purchase", "order", "pick up"),
    "list": ("show", "enumerate", "display"),
    "schedule": ("plan", "arrange", "line up"),
    "remind": ("nudge",),
    "save": ("store", "keep", "bookmark"),
    "give": ("provide", "hand"),
    "tell": ("inform", "let know"),
    "latest": ("newest", "most recent", "recent"),
    "message": ("text", "note", "msg"),
    "movie": ("film",),
    "song": ("track", "tune"),
    "car": ("vehicle", "ride"),
    "trip": ("journey", "travel"),
    "photo": ("picture", "pic"),
    "email": ("mail", "e-mail"),
    "file": ("document",),
    "price": ("cost",),
    "lights": ("lamps",),
    "meeting": ("call", "sync"),
    "reminder": ("nudge", "alert"),
    # verbs the tool bank opens its actions with (fit for those contexts)
    "drop": ("delete", "remove", "get rid of", "scrap"),
    "log": ("record", "track", "note down", "enter"),
    "run": ("execute", "launch", "kick off"),
    "read": ("go through", "read out", "check"),
    "post": ("publish", "put up", "share"),
    "share": ("send", "pass along"),
    "lock": ("secure",),
    "block": ("ban", "blacklist"),
    "convert": ("change", "turn"),
    "order": ("get", "request"),
    "call": ("ring", "phone", "dial"),
    "mute": ("silence", "quiet"),
    "move": ("shift", "relocate"),
    "track": ("log", "record", "monitor"),
    "submit": ("send in", "file", "hand in"),
    "enable": ("turn on", "activate", "switch on"),
    "disable": ("turn off", "deactivate", "switch off"),
    "subscribe": ("sign up",),
    "restore": ("bring back", "recover"),
    "adjust": ("tweak", "change"),
    "pause": ("freeze", "hold"),
    "bookmark": ("save",),
    "flag": ("mark",),
    "request": ("ask for",),
    "export": ("download", "dump", "save out"),
    "restart": ("reboot", "bounce"),
    "reboot": ("restart",),
    "generate": ("create", "make", "produce"),
    "archive": ("file away", "stash"),
    "reschedule": ("move", "push back", "shift"),
    "renew": ("extend",),
    "rent": ("hire",),
    "deploy": ("ship", "roll out", "push"),
    "sync": ("synchronize", "refresh"),
    "purge": ("wipe", "clear out"),
    "tag": ("label", "mark"),
    "clone": ("duplicate", "copy"),
    "approve": ("okay", "sign off on", "greenlight"),
    "reject": ("decline", "turn down"),
    "validate": ("verify", "check"),
    "publish": ("put out", "release"),
    "resume": ("continue", "pick up"),
    "count": ("tally",),
    "fetch": ("get", "grab", "retrieve"),
    "calculate": ("work out", "figure out", "compute"),
    "review": ("go over", "look over"),
    "download": ("grab", "pull down", "save"),
    "install": ("set up", "put on"),
    "close": ("shut",),
    "text": ("message", "sms"),
    "recommend": ("suggest",),
    "suggest": ("recommend",),
    "display": ("show", "bring up"),
    "retrieve": ("get", "fetch"),
    "rename": ("retitle",),
    "upload": ("put", "push"),
    "launch": ("open", "start"),
    # nouns of the bank's objects (two-word keys are matched as a unit)
    "medical record": ("health record", "medical file", "patient record"),
    "api key": ("API token", "access key", "API credential"),
    "cron job": ("scheduled job", "scheduled task", "cron"),
    "support ticket": ("support case", "help desk ticket", "support request"),
    "discount code": ("promo code", "coupon", "voucher code"),
    "product listing": ("product page", "listing"),
    "job requisition": ("job opening", "req", "open position"),
    "automation rule": ("automation", "auto rule"),
    "recurring payment": ("standing order", "repeat payment", "scheduled payment"),
    "budget category": ("spending category", "budget bucket"),
    "employee record": ("staff record", "HR file", "personnel file"),
    "smart device": ("smart gadget", "connected device"),
    "course section": ("class section",),
    "firewall rule": ("firewall entry", "firewall policy"),
    "saved search": ("search alert", "stored search"),
    "team roster": ("lineup", "team list"),
    "listing alert": ("listing notification", "property alert"),
    "opportunity": ("deal", "sales opportunity"),
    "dashboard": ("board", "overview page"),
    "webhook": ("web hook", "callback URL"),
    "habit": ("routine",),
    "requisition": ("req", "opening"),
    "appointment": ("booking", "slot"),
    "reservation": ("booking",),
    "invoice": ("bill",),
    "task": ("to-do", "todo"),
    "note": ("memo",),
    "document": ("doc", "file"),
    "weather": ("forecast",),
    "temperature": ("temp",),
    "volume": ("sound", "loudness"),
    "subscription": ("membership", "plan"),
    "restaurant": ("place", "spot"),
    "directions": ("route", "the way"),
    "news": ("headlines",),
    "expense": ("cost", "spending"),
    "workout": ("exercise", "training session"),
    "medication": ("meds", "medicine"),
    "calendar": ("schedule", "agenda"),
    "folder": ("directory",),
    "repository": ("repo",),
    "repo": ("repository",),
    "database": ("db",),
    "server": ("machine", "box"),
    "inbox": ("mailbox",),
    "doctor": ("physician", "doc"),
    "package": ("parcel", "delivery"),
    "shipment": ("delivery",),
    "cart": ("basket",),
    "summary": ("overview", "rundown"),
    "picture": ("photo", "pic"),
    "video": ("clip",),
    "ride": ("lift", "cab"),
    "taxi": ("cab",),
    "password": ("passcode",),
    "messages": ("texts", "msgs"),
    "texts": ("messages",),
    "emails": ("mails", "messages"),
    "songs": ("tracks", "tunes"),
    "movies": ("films",),
    "photos": ("pictures", "pics"),
    "files": ("documents", "docs"),
    "notes": ("memos",),
    "tasks": ("to-dos", "todos"),
}

# WordNet swaps (data/wordnet.py) reach the words the hand table above lacks. Which words are
# verbs and nouns is guessed from position in the clause (the request before its frame and values):
# a verb opens it or follows "and", "then", "please", ...; a noun ends a noun phrase that a
# determiner opened ("the {room} lights", "a new invoice") or is the bare object right after the
# verb ("get stats for ..."). Unit words next to numbers are never touched.
VERB_CUES = frozenset("""please pls kindly and then also plus just let's lets first now""".split())
DETERMINERS = frozenset("the a an my our your his her their this that these those some any every each".split())
NP_END = frozenset("""to for in on at by with from into of about as and or but then also plus so than via
    per after before until while if when that which who please now today tonight tomorrow later""".split())
PARTICLES = frozenset("up down on off out in over back away ahead forward around through along".split())
# Words a swap must not touch: units (they give numbers their meaning), function-like nouns/verbs.
PROTECTED = frozenset("""minute minutes min mins hour hours day days week weeks month months year years second
    seconds percent degree degrees mile miles meter meters kilometer kilometers km foot feet inch inches pound
    pounds ounce ounces gram grams kilogram kilograms liter liters cup cups dollar dollars euro euros
    time times thing things way lot one ones bit kind sort be is are was were been have has had do does did get
    got go let make need want like know think see say""".split())
MAX_WORDNET_SWAPS = 2
# Words that make the word before them part of a fixed phrase ("get rid of", "look forward to").
FIXED_AFTER = frozenset("rid forward".split())

_TOKEN = re.compile(r"\x01\d+\x02|[A-Za-z]+(?:'[A-Za-z]+)?|\S")


def _case_like(src: str, alt: str) -> str:
    if src.isupper() and len(src) > 1:
        return alt.upper()
    return alt[:1].upper() + alt[1:] if src[:1].isupper() else alt


def _vowel_sound(word: str) -> bool:
    """Whether "an" goes before `word`: "an update", "an umbrella", but "a user", "a unit", "a one-off"."""
    w = word.lower()
    if w.startswith("one") or (w.startswith("u") and len(w) > 2 and w[2] in "aeiou"):
        return False
    if w.startswith(("hour", "honest", "honor", "honour", "heir")):
        return True
    return w[:1] in ("a", "e", "i", "o", "u") or (word[:2].isupper() and w[:1] in "fhlmnrsx")


def _is_word(tok: str) -> bool:
    return tok[:1].isalpha()


def _wordnet_swap(r: random.Random, toks: list[str], i: int) -> tuple[str, int] | None:
    """A WordNet replacement for the word at toks[i] (and how many tokens it replaces), or None."""
    w = toks[i].lower()
    if w in PROTECTED or "'" in w:
        return None
    prev = next((toks[j].lower() for j in range(i - 1, -1, -1) if toks[j] != " "), None)
    nxt = toks[i + 1].lower() if i + 1 < len(toks) else None
    if prev is None or prev in VERB_CUES or prev in {",", ".", ";", ":", "!", "?"}:
        # a verb opening a clause; phrasal verbs ("turn on", "look up") as one unit
        if nxt in PARTICLES or nxt in FIXED_AFTER:  # "back up" is not "support": the pair or nothing
            alts = [a for a in wordnet.synonyms(f"{w} {nxt}", "v") if a.split()[0] != w]
            return (r.choice(alts), 2) if alts else None
        found = wordnet.lemma(w, "v")
        if found is None or (found[1] and prev is None):
            return None
        base, form = found
        alts = [a for a in wordnet.synonyms(base, "v") if a.split()[0] != base]
        r.shuffle(alts)
        for a in alts:
            out = wordnet.inflect(a, form, "v")
            if out:
                return out, 1
        return None
    # a noun: the last word of a phrase a determiner opened (or the bare object right after the
    # clause's verb: "get stats for ..."), before a boundary
    if not (nxt is None or nxt in NP_END or not _is_word(nxt) or nxt.startswith("\x01")):
        return None
    back = [t.lower() for t in toks[max(0, i - 3):i]]
    before_verb = toks[i - 2].lower() if i >= 2 else None
    bare_object = i >= 1 and (before_verb is None or before_verb in VERB_CUES or before_verb in ",.;:!?") \
        and wordnet.lemma(toks[i - 1], "v") is not None
    if not (any(b in DETERMINERS for b in back) or bare_object):
        return None
    found = wordnet.lemma(w, "n")
    if found is None:
        return None
    base, form = found
    alts = [a for a in wordnet.synonyms(base, "n") if a != base]
    if not alts:
        return None
    out = wordnet.inflect(r.choice(alts), form, "n")
    return (out, 1) if out else None


def swap_synonyms(r: random.Random, text: str, p: float = 0.5) -> str:
    """Replace each word that has synonyms by one of them with probability `p`, keeping the
    word's capitalisation: the hand table's context-fit synonyms first (phrasal verbs as one unit:
    "look up", "turn on"), then WordNet's for verbs and nouns (at most two WordNet swaps per text,
    inflected: plural -s, -ing, -ed; skipped when the inflection is unsure); "a"/"an" before a
    swapped word is fixed. Placeholders (control characters and digits) are never words here, so
    values filled in afterwards are untouched."""
    found = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    toks = [t for t, _, _ in found]
    out: list[str] = []
    last = 0
    wn_swaps = 0
    i = 0
    while i < len(found):
        tok, a, b = found[i]
        if not _is_word(tok):
            i += 1
            continue
        low = tok.lower()
        nxt = toks[i + 1].lower() if i + 1 < len(toks) else ""
        rep: tuple[str, int] | None = None
        if f"{low} {nxt}" in SYNONYMS:
            if r.random() < p:
                rep = (r.choice(SYNONYMS[f"{low} {nxt}"]), 2)
        elif low in SYNONYMS and nxt not in PARTICLES and nxt not in FIXED_AFTER:
            if r.random() < p:
                rep = (r.choice(SYNONYMS[low]), 1)
        elif low not in SYNONYMS and wn_swaps < MAX_WORDNET_SWAPS and r.random() < p:
            rep = _wordnet_swap(r, toks, i)
            wn_swaps += rep is not None
        if rep is None:
            i += 1
            continue
        alt, n = rep
        before = text[last:a]
        m = re.search(r"\b([Aa])(n?) $", before)
        if m:  # "a occupation" -> "an occupation"
            before = before[: m.start()] + m.group(1) + ("n" if _vowel_sound(alt) else "") + " "
        out.append(before + _case_like(tok, alt))
        last = found[i + n - 1][2]
        i += n
    out.append(text[last:])
    return "".join(out)
