"""Small text utilities shared by proposers and the policy: normalising, numbers in words."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator

# English number words: the one table behind the policy's grounding, the lexical baseline and the
# model's value parsing.
NUMBER_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
NUMBER_SCALES = {"dozen": 12, "hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD_RE = re.compile(r"[A-Za-z]+")
_DIGITS_RE = re.compile(r"(?<![\w.])[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.])[-+]?\d+(?:\.\d+)?")


def normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: for grounding comparisons."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def alnum_key(text: str) -> str:
    """Only the letters and digits of `text`, case-folded (unicode-aware): the policy's grounding
    key, where "New-York" is found in "new york". Stricter than `normalize`, which keeps word
    boundaries for token matching."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def find_number_words(text: str) -> Iterator[tuple[float, int, int]]:
    """Runs of English number words in `text` as (value, start, end): "twenty five" -> 25,
    "a hundred and five" -> 105, "a dozen" -> 12, "two thousand three hundred" -> 2300; "five
    five" and "twenty thirty" are two numbers each."""
    total = current = 0
    start = end = 0
    in_number = False
    pending_a: int | None = None  # where "a"/"an" began: it counts as one only before a scale
    for m in _WORD_RE.finditer(text):
        word = m.group().lower()
        if word in NUMBER_UNITS:
            unit = NUMBER_UNITS[word]
            if in_number and (current % 10 or (unit >= 10 and current % 100)):
                yield float(total + current), start, end
                total = current = 0
                in_number = False
            if not in_number:
                start = m.start()
            current += unit
            in_number, pending_a, end = True, None, m.end()
        elif word in NUMBER_SCALES and (in_number or pending_a is not None):
            if not in_number:
                start = pending_a  # type: ignore[assignment]
            scale = NUMBER_SCALES[word]
            if scale < 1_000:  # hundred, dozen multiply the group being read
                current = max(current, 1) * scale
            else:
                total += max(current, 1) * scale
                current = 0
            in_number, pending_a, end = True, None, m.end()
        elif word == "and" and in_number:
            continue  # "one hundred and five"
        else:
            if in_number:
                yield float(total + current), start, end
            total = current = 0
            in_number = False
            pending_a = m.start() if word in ("a", "an") else None
    if in_number:
        yield float(total + current), start, end


_NUM_RE = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def parse_number(text: str) -> int | float | None:
    """Digits, decimals, thousands separators, a leading currency sign, a trailing % or k, and
    number words ("twenty five", "a dozen"). None when the whole text is not one number."""
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
    if words in (["half"], ["a", "half"]):
        return 0.5
    if words == ["dozen"]:
        return 12
    runs = list(find_number_words(t))
    if len(runs) != 1 or t[: runs[0][1]].strip() or t[runs[0][2] :].strip():
        return None
    v = runs[0][0]
    return int(v) if v.is_integer() else v


def find_numbers(text: str) -> list[tuple[float, int, int]]:
    """All numbers in `text` (digits or words) as (value, start, end), in order of appearance."""
    found = [(float(m.group().replace(",", "")), m.start(), m.end()) for m in _DIGITS_RE.finditer(text)]
    found.extend(find_number_words(text))
    found.sort(key=lambda t: t[1])
    return found


def tokens(text: str) -> list[str]:
    """Word tokens for lexical matching; splits snake_case and camelCase identifiers."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return re.findall(r"[a-z0-9]+", normalize(text.replace("_", " ")))
