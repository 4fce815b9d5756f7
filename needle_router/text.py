"""Small text utilities shared by proposers and the policy: normalising, numbers in words."""

from __future__ import annotations

import math
import re
import unicodedata

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "a": 1, "an": 1, "a couple of": 2, "couple": 2, "dozen": 12, "half": 0.5,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_WORD = "|".join(sorted([k for k in _UNITS if " " not in k] + list(_TENS) + list(_SCALES), key=len, reverse=True))
_NUMBER_WORDS_RE = re.compile(rf"\b(?:(?:{_WORD})(?:[\s-]+(?:and[\s-]+)?(?=(?:{_WORD})\b))?)+\b", re.I)
_DIGITS_RE = re.compile(r"(?<![\w.])[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.])[-+]?\d+(?:\.\d+)?")


def normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: for grounding comparisons."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def words_to_number(phrase: str) -> float | None:
    """'twenty five' -> 25, 'three hundred' -> 300, 'a dozen' -> 12; None if not a number phrase."""
    tokens = [t for t in re.split(r"[\s-]+", phrase.lower().strip()) if t and t != "and"]
    if not tokens:
        return None
    total, current, seen = 0.0, 0.0, False
    for tok in tokens:
        if tok in _UNITS:
            current += _UNITS[tok]
        elif tok in _TENS:
            current += _TENS[tok]
        elif tok in _SCALES:
            current = (current or 1) * _SCALES[tok]
            if _SCALES[tok] >= 1000:
                total, current = total + current, 0.0
        else:
            return None
        seen = True
    return total + current if seen else None


# Number parsing for model outputs and date phrases (a span is a number or it is not).
_P_UNITS = {w: v for w, v in _UNITS.items() if w.isalpha() and w not in ("a", "an", "couple", "dozen", "half")}
_P_SCALES = {**_SCALES, "billion": 1_000_000_000}
_NUM_RE = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def parse_number(text: str) -> int | float | None:
    """Digits, decimals, thousands separators, a leading currency sign, a trailing % or k, and
    simple number words ("twenty five", "a dozen"). None when it is not a number."""
    t = text.strip().lower().replace(",", "").replace("_", "")
    t = t.lstrip("$€£¥").rstrip("%").strip()
    mult = 1
    if t.endswith("k") and _NUM_RE.match(t[:-1]):
        t, mult = t[:-1], 1000
    if _NUM_RE.match(t):
        v = float(t) * mult
        if not math.isfinite(v):
            return None
        return int(v) if v.is_integer() and "." not in t and "e" not in t else v
    words = t.replace("-", " ").split()
    if not words:
        return None
    if words in (["a", "dozen"], ["dozen"]):
        return 12
    if words in (["half"], ["a", "half"]):
        return 0.5
    total, current, seen = 0, 0, False
    for w in words:
        if w in ("and", "a") and seen:
            continue
        if w == "a":
            current, seen = 1, True
        elif w in _P_UNITS:
            current += _P_UNITS[w]
            seen = True
        elif w in _TENS:
            current += _TENS[w]
            seen = True
        elif w in _P_SCALES and seen:
            if _P_SCALES[w] == 100:
                current *= 100
            else:
                total += current * _P_SCALES[w]
                current = 0
        else:
            return None
    return total + current if seen else None


def find_numbers(text: str) -> list[tuple[float, int, int]]:
    """All numbers in `text` (digits or words) as (value, start, end), in order of appearance."""
    found: list[tuple[float, int, int]] = []
    for m in _DIGITS_RE.finditer(text):
        found.append((float(m.group().replace(",", "")), m.start(), m.end()))
    for m in _NUMBER_WORDS_RE.finditer(text):
        if m.group().lower() in {"a", "an", "half"}:
            continue  # too common as articles to count as numbers on their own
        value = words_to_number(m.group())
        if value is not None:
            found.append((value, m.start(), m.end()))
    found.sort(key=lambda t: t[1])
    return found


def tokens(text: str) -> list[str]:
    """Word tokens for lexical matching; splits snake_case and camelCase identifiers."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return re.findall(r"[a-z0-9]+", normalize(text.replace("_", " ")))
