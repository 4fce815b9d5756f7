"""Small text utilities shared by proposers and the policy: normalising, numbers in words."""

from __future__ import annotations

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


def parse_number(text: str) -> float | None:
    """Parse '42', '-3.5', '1,200', 'forty two' into a number; None if it is not one."""
    s = text.strip().lower().replace(",", "")
    try:
        return float(s)
    except ValueError:
        return words_to_number(s)


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
