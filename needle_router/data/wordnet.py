"""WordNet synonyms for common verbs and nouns, from the vendored table `synonyms.json`.

The table is built once from WordNet 3.0 by `python -m needle_router.data.wordnet_build` (frequent
senses and frequent lemmas only; see that module) and ships with the package, so nothing here needs
WordNet installed. `synonyms("show", "v")` -> ("exhibit", "present", ...); `lemma()` and `inflect()`
handle the simple English inflections a swap needs (plural -s, -ing, -ed, third person -s), using
WordNet's irregular forms and giving up (None) when unsure.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

TABLE = Path(__file__).with_name("synonyms.json")
_VOWELS = "aeiou"
# past tense = base form (WordNet's exception lists leave these out: nothing to map back)
_SAME_PAST = frozenset("set put cut let hit shut cost quit read spread hurt bet broadcast upset reset input "
                       "output split burst cast forecast".split())


@functools.cache
def _table() -> dict:
    return json.loads(TABLE.read_text(encoding="utf-8"))


def synonyms(word: str, pos: str) -> tuple[str, ...]:
    """Synonyms of a base-form `word` ("v" verb, "n" noun); () when it has none in the table.
    Phrasal verbs are looked up with a space ("turn on")."""
    if pos not in ("n", "v"):
        raise ValueError(f"pos must be 'n' or 'v', not {pos!r}")
    return tuple(_table()[pos].get(word.lower(), ()))


def has(word: str, pos: str) -> bool:
    return word.lower() in _table()[pos]


def _irregular(pos: str) -> dict[str, list[str]]:
    return _table()["irregular"][pos]


@functools.cache
def _inverse(pos: str) -> dict[str, str]:
    return {form: base for base, forms in _irregular(pos).items() for form in forms}


def lemma(word: str, pos: str) -> tuple[str, str] | None:
    """(base form, inflection) of a word in the table: inflection is "" (base), "s" (plural or third
    person), "ing", "ed"; None when the word is not (an inflection of) a table word."""
    w = word.lower()
    t = _table()[pos]
    if w in t:
        return w, ""
    inv = _inverse(pos)
    if w in inv and inv[w] in t:
        return inv[w], ("s" if pos == "n" else "ing" if w.endswith("ing") else "ed")  # irregular forms
    cands: list[tuple[str, str]] = []
    if w.endswith("ies") and len(w) > 4:
        cands.append((w[:-3] + "y", "s"))
    if w.endswith("es"):
        cands.append((w[:-2], "s"))
    if w.endswith("s") and not w.endswith("ss"):
        cands.append((w[:-1], "s"))
    if pos == "v":
        for suf, form in (("ing", "ing"), ("ed", "ed")):
            if w.endswith(suf) and len(w) > len(suf) + 2:
                stem = w[: -len(suf)]
                cands += [(stem, form), (stem + "e", form)]
                if len(stem) > 2 and stem[-1] == stem[-2]:
                    cands.append((stem[:-1], form))
                if suf == "ed" and stem.endswith("i"):
                    cands.append((stem[:-1] + "y", form))
    for base, form in cands:
        if base in t and inflect(base, form, pos) == w:
            return base, form
    return None


def inflect(base: str, form: str, pos: str) -> str | None:
    """`base` ("look up", "lamp") in inflection `form` ("", "s", "ing", "ed"); the first word of a
    phrasal verb is inflected. None when the form is irregular and unknown (skip the swap)."""
    if not form:
        return base
    head, sep, rest = base.partition(" ")
    if pos == "n" and sep:
        head, rest = base.rsplit(" ", 1)[1], ""
        prefix = base.rsplit(" ", 1)[0] + " "
    else:
        prefix = ""
    irregular = _irregular(pos).get(head)
    out: str | None
    if form == "s":
        if pos == "n" and head.endswith("s") and not irregular:
            return None  # "words" is plural already (or a mass noun): unsure
        if irregular and pos == "n":
            out = irregular[0]
        elif head.endswith(("s", "x", "z", "ch", "sh")):
            out = head + "es"
        elif head.endswith("y") and len(head) > 1 and head[-2] not in _VOWELS:
            out = head[:-1] + "ies"
        else:
            out = head + "s"
    elif pos != "v":
        return None
    elif form == "ing":
        doubled = [f for f in irregular or () if f.endswith("ing")]
        if doubled:
            out = doubled[0]
        elif _doubles(head):
            out = head + head[-1] + "ing"
        elif head.endswith("ie"):
            out = head[:-2] + "ying"
        elif head.endswith("e") and not head.endswith(("ee", "ye", "oe")) and len(head) > 2:
            out = head[:-1] + "ing"
        else:
            out = head + "ing"
    elif form == "ed":
        past = [f for f in irregular or () if not f.endswith("ing")]
        if past and all(f.endswith("ed") for f in past):
            out = past[0]  # stopped
        elif past:
            return None  # took / taken: which one is unknown here
        elif head in _SAME_PAST:
            out = head
        elif head.endswith("e"):
            out = head + "d"
        elif head.endswith("y") and len(head) > 1 and head[-2] not in _VOWELS:
            out = head[:-1] + "ied"
        elif _doubles(head):
            out = head + head[-1] + "ed"
        else:
            out = head + "ed"
    else:
        return None
    if pos == "n":
        return prefix + out
    return out + (sep + rest if sep else "")


def _doubles(word: str) -> bool:
    """stop -> stopping, plan -> planned: one vowel group, ending consonant-vowel-consonant."""
    if len(word) < 3 or word[-1] in _VOWELS + "wxy" or word[-2] not in _VOWELS or word[-3] in _VOWELS:
        return False
    groups = sum(1 for i, c in enumerate(word) if c in _VOWELS and (i == 0 or word[i - 1] not in _VOWELS))
    return groups == 1
