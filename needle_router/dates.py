"""Dates and times said in words, turned into ISO values.

A request says "next Tuesday", "December 18, 2025 at 6:10 AM" or "noon"; a schema wants
"2025-12-18" or "06:10". Date arithmetic is the wrong job for a 5M-parameter network, so the
model points at the phrase (a span of the request, like any copied value) and this module turns
it into the value, relative to the request's `today` when the phrase is relative. Parsing is
deliberately strict: a phrase is a date, a time, or a date "at" a time, or it is nothing.
"""

from __future__ import annotations

import datetime as dt
import re

from needle_router.text import parse_number

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = {m: i + 1 for i, m in enumerate(MONTHS)} | {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_WEEKDAY = {d: i for i, d in enumerate(WEEKDAYS)} | {d[:3]: i for i, d in enumerate(WEEKDAYS)} | {
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3}
_M = "|".join(sorted(_MONTH, key=len, reverse=True))
_W = "|".join(sorted(_WEEKDAY, key=len, reverse=True))
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"

_LEAD = re.compile(r"^(?:on|by|for|due|until|till|from|starting|before|after)\s+", re.I)
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH_DAY = re.compile(rf"^({_M})\.?\s+{_ORD}(?:,?\s+(\d{{4}}))?$", re.I)
_DAY_MONTH = re.compile(rf"^(?:the\s+)?{_ORD}(?:\s+of)?\s+({_M})\.?(?:,?\s+(\d{{4}}))?$", re.I)
_WEEKDAY_RE = re.compile(rf"^(?:(next|this coming|this|coming)\s+)?({_W})\.?$", re.I)
_IN = re.compile(r"^in\s+(.+?)\s+(days?|weeks?)$", re.I)
# "18:30", and "18.30" as British English writes it (a dot needs two minute digits: "7.5" is a number).
_TIME_24 = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_TIME_12 = re.compile(r"^(1[0-2]|0?[1-9])(?:[:.]([0-5]\d))?\s*([ap])\.?\s*m\.?$", re.I)
# A time said in UTC: the reading keeps the zone ("Z") where the value carries one (date-times).
_UTC = re.compile(r"\s*(?:utc|gmt|z)$", re.I)
_AT = re.compile(r"\s+at\s+|\s*,\s*|\s+", re.I)


def _clean(text: str) -> str:
    t = " ".join(text.strip().strip(",;!?").split())
    return _LEAD.sub("", t)


def _upcoming(today: dt.date, month: int, day: int) -> dt.date | None:
    """The first `month`/`day` on or after `today` (a date said without its year)."""
    for year in (today.year, today.year + 1):
        try:
            d = dt.date(year, month, day)
        except ValueError:
            continue
        if d >= today:
            return d
    return None


def _ymd(year: str | None, month: int, day: str, today: dt.date | None) -> dt.date | None:
    if year is None:
        return _upcoming(today, month, int(day)) if today is not None else None
    try:
        return dt.date(int(year), month, int(day))
    except ValueError:
        return None


def parse_date(text: str, today: dt.date | None = None) -> dt.date | None:
    """'2025-12-18', 'Dec 18, 2025', 'the 18th of December', '18 Dec 2025', 'tomorrow',
    'next Tuesday', 'in 3 days', 'in two weeks' -> a date; relative forms need `today`."""
    t = _clean(text).lower()
    if m := _ISO.match(t):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    if m := _MONTH_DAY.match(t):
        return _ymd(m[3], _MONTH[m[1]], m[2], today)
    if m := _DAY_MONTH.match(t):
        return _ymd(m[3], _MONTH[m[2]], m[1], today)
    if today is None:
        return None
    rel = {"today": 0, "tonight": 0, "tomorrow": 1, "the day after tomorrow": 2, "day after tomorrow": 2,
           "yesterday": -1}
    if t in rel:
        return today + dt.timedelta(days=rel[t])
    if m := _WEEKDAY_RE.match(t):
        delta = (_WEEKDAY[m[2]] - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=delta)
    if m := _IN.match(t):
        n = 1 if m[1] in ("a", "an", "one") else parse_number(m[1])
        if n is None or n != int(n) or not 0 < n <= 3650:
            return None
        return today + dt.timedelta(days=int(n) * (7 if m[2].startswith("week") else 1))
    return None


def parse_time(text: str) -> str | None:
    """'18:30', '18.30', '6:10 AM', '6pm', '7 p.m.', 'noon', 'midnight', '14:00 UTC' -> 'HH:MM'."""
    t = _UTC.sub("", _clean(text).lower())
    if t in ("noon", "midday"):
        return "12:00"
    if t == "midnight":
        return "00:00"
    if m := _TIME_24.match(t):
        return f"{int(m[1]):02d}:{m[2]}"
    if m := _TIME_12.match(t):
        h = int(m[1]) % 12 + (12 if m[3] == "p" else 0)
        return f"{h:02d}:{m[2] or '00'}"
    return None


def parse_datetime(text: str, today: dt.date | None = None) -> str | None:
    """A date and a time in either order, joined by "at", a comma or a space ('tomorrow at 6pm',
    'Dec 3, 14:00', '10:00 tomorrow', 'Thursday 14:00 UTC') -> 'YYYY-MM-DDTHH:MM:00', with 'Z'
    when the time was said in UTC. Exactly one split must read as a date plus a time."""
    t = _clean(text)
    zone = "Z" if _UTC.search(t) else ""
    t = _UTC.sub("", t)
    found = set()
    for m in _AT.finditer(t):
        left, right = t[: m.start()], t[m.end() :]
        for date_text, time_text in ((left, right), (right, left)):
            d, hm = parse_date(date_text, today), parse_time(time_text)
            if d is not None and hm is not None:
                found.add(f"{d.isoformat()}T{hm}:00{zone}")
    return found.pop() if len(found) == 1 else None


def temporal_values(text: str, today: dt.date | None = None) -> list[str]:
    """Every ISO reading of `text`: a datetime, a date, a time as HH:MM and HH:MM:SS (the schema
    then says which one fits)."""
    out = []
    if (v := parse_datetime(text, today)) is not None:
        out.append(v)
    if (d := parse_date(text, today)) is not None:
        out.append(d.isoformat())
    if (hm := parse_time(text)) is not None:
        out += [hm, f"{hm}:00"]
    return out


def context_today(context: object) -> dt.date | None:
    """The request's date from its context ({"today": "YYYY-MM-DD"}), if it has one."""
    if isinstance(context, dict):
        value = context.get("today")
        if isinstance(value, dt.date):
            return value if not isinstance(value, dt.datetime) else value.date()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()[:10])
            except ValueError:
                return None
    return None
