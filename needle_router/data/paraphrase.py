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

# word -> synonyms that fit where the word does in the bank's action phrases
SYNONYMS: dict[str, tuple[str, ...]] = {
    "show": ("display", "pull up", "bring up", "let me see"),
    "get": ("fetch", "grab", "retrieve", "pull"),
    "set": ("configure", "put"),
    "create": ("make", "generate", "set up", "start"),
    "make": ("create", "build", "put together"),
    "add": ("insert", "include", "put in"),
    "new": ("fresh", "another"),
    "delete": ("remove", "erase", "wipe", "get rid of"),
    "remove": ("delete", "take out", "drop", "clear"),
    "find": ("search for", "look for", "locate", "look up"),
    "search": ("look", "hunt"),
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
    "remind": ("nudge", "alert"),
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
    "record": ("entry", "log"),
    "file": ("document",),
    "price": ("cost",),
    "lights": ("lamps",),
    "meeting": ("call", "sync"),
    "reminder": ("nudge", "alert"),
}

_WORD = re.compile(r"[A-Za-z]+")


def swap_synonyms(r: random.Random, text: str, p: float = 0.5) -> str:
    """Replace each word that has synonyms by one of them with probability `p`, keeping the
    word's capitalisation. Placeholders (control characters and digits) are never words here."""

    def sub(m: re.Match[str]) -> str:
        w = m.group(0)
        alts = SYNONYMS.get(w.lower())
        if not alts or r.random() >= p:
            return w
        alt = r.choice(alts)
        if w.isupper() and len(w) > 1:
            return alt.upper()
        return alt[:1].upper() + alt[1:] if w[:1].isupper() else alt

    return _WORD.sub(sub, text)
