"""How correct are the date readers? A corpus of phrases with right answers, scored per reader.

Each phrase in `tests/data/date_phrases.json` carries the request's date, the kind of value the
schema asks for (date, time or datetime) and the one right answer, or null where no single value
is right (ranges, recurrences, vague or impossible dates, times ambiguous by 12 hours). A reader's
answer is *correct* when it equals the right one (a refusal where null is right counts as
correct), *wrong* when it gives a different value, and *no answer* when it gives none where a
value was right. A router executes what it resolves, so a wrong date costs more than none: the
reader to keep is the one with the fewest wrong answers, then the most correct ones.

Readers: `strict` (needle_router.dates, the router's own); `dateparser` (the library, told the
request's date, day-first order and a preference for the future), also with its strict settings;
and the strict reader with dateparser behind it only where the strict reader has no answer.
dateparser is an optional extra (`needle-router[dates]`), imported only when scored.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from needle_router.dates import parse_date, parse_datetime, parse_time

Kind = Literal["date", "time", "datetime"]
Reader = Callable[[str, Kind, dt.date], str | None]
# The time of day dateparser is told it is: a date-only phrase read as a datetime keeps it, so an
# invented time shows up as a wrong answer instead of passing for midnight.
_BASE_TIME = dt.time(10, 17)


@dataclass(frozen=True)
class Phrase:
    text: str
    kind: Kind
    want: str | None  # YYYY-MM-DD, HH:MM or YYYY-MM-DDTHH:MM; None: no value is right
    today: dt.date
    tag: str


@dataclass
class Score:
    reader: str
    correct: int = 0
    wrong: int = 0
    no_answer: int = 0
    wrong_phrases: list[tuple[Phrase, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.correct + self.wrong + self.no_answer


def load_corpus(path: str | Path) -> list[Phrase]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    default_today = dt.date.fromisoformat(data["today"])
    return [Phrase(text=p["text"], kind=p["kind"], want=p["want"], tag=p["tag"],
                   today=dt.date.fromisoformat(p["today"]) if "today" in p else default_today)
            for p in data["phrases"]]


def strict_reader(text: str, kind: Kind, today: dt.date) -> str | None:
    """needle_router.dates, through the function the schema's kind selects (as finalize_value does)."""
    if kind == "date":
        d = parse_date(text, today)
        return d.isoformat() if d is not None else None
    if kind == "time":
        return parse_time(text)
    value = parse_datetime(text, today)
    return value[:16] if value is not None else None  # drop the ":00" seconds


def _dateparser(text: str, kind: Kind, today: dt.date, *, strict: bool) -> str | None:
    import dateparser  # optional: `pip install needle-router[dates]`

    settings: dict[str, Any] = {
        "RELATIVE_BASE": dt.datetime.combine(today, _BASE_TIME),
        "DATE_ORDER": "DMY",  # British day-first numeric dates
        "PREFER_DATES_FROM": "future",  # a date said without a year is the coming one
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    if strict:  # the library's own guards against filling in missing parts
        settings["STRICT_PARSING"] = True
        if kind == "date":
            settings["REQUIRE_PARTS"] = ["day", "month"]
    value = dateparser.parse(text, settings=settings)
    if value is None:
        return None
    if kind == "date":
        return value.date().isoformat()
    if kind == "time":
        return value.strftime("%H:%M")
    return value.strftime("%Y-%m-%dT%H:%M")


def dateparser_reader(text: str, kind: Kind, today: dt.date) -> str | None:
    """dateparser with the request's date, day-first order and a preference for the future."""
    return _dateparser(text, kind, today, strict=False)


def dateparser_strict_reader(text: str, kind: Kind, today: dt.date) -> str | None:
    """The same, with STRICT_PARSING (no part filled in from today) and, for dates, day and month required."""
    return _dateparser(text, kind, today, strict=True)


def _fallback(first: Reader, second: Reader) -> Reader:
    """`first`'s answer, or `second`'s where `first` has none."""
    def reader(text: str, kind: Kind, today: dt.date) -> str | None:
        answer = first(text, kind, today)
        return answer if answer is not None else second(text, kind, today)
    return reader


READERS: dict[str, Reader] = {
    "strict": strict_reader,
    "dateparser": dateparser_reader,
    "dateparser, strict settings": dateparser_strict_reader,
    "strict, else dateparser": _fallback(strict_reader, dateparser_reader),
    "strict, else dateparser strict settings": _fallback(strict_reader, dateparser_strict_reader),
}


def score(name: str, reader: Reader, corpus: Iterable[Phrase]) -> Score:
    out = Score(reader=name)
    for phrase in corpus:
        answer = reader(phrase.text, phrase.kind, phrase.today)
        if answer == phrase.want:
            out.correct += 1
        elif answer is None:
            out.no_answer += 1
        else:
            out.wrong += 1
            out.wrong_phrases.append((phrase, answer))
    return out


def best(scores: Iterable[Score]) -> Score:
    """The reader to keep: fewest wrong answers, then most correct ones."""
    return min(scores, key=lambda s: (s.wrong, -s.correct))


def table(scores: Iterable[Score]) -> str:
    """A Markdown table of the scores."""
    rows = ["| reader | correct | wrong | no answer |", "|---|---:|---:|---:|"]
    rows += [f"| {s.reader} | {s.correct} | {s.wrong} | {s.no_answer} |" for s in scores]
    return "\n".join(rows)
