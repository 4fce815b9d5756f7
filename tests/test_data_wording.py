"""Varied wording: the vendored WordNet table, synonym swaps, and records that stay true to their labels."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from needle_router.data import wording, wordnet
from needle_router.data.paraphrase import swap_synonyms
from needle_router.data.synth import NEGATION_RE, generate_records
from needle_router.text import find_numbers

N = 3000


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return list(generate_records(N, seed=23, synonyms=0.5))


def test_vendored_table_is_small_licensed_and_useful() -> None:
    assert wordnet.TABLE.stat().st_size < 1_500_000
    assert (wordnet.TABLE.parent / "WORDNET_LICENSE").read_text(encoding="utf-8").count("Princeton") >= 2
    assert "purchase" in wordnet.synonyms("buy", "v")
    assert "calculate" in wordnet.synonyms("compute", "v")
    assert "film" in wordnet.synonyms("movie", "n")
    assert "switch on" in wordnet.synonyms("turn on", "v")  # phrasal verbs
    assert wordnet.synonyms("zzzz", "v") == ()
    table = json.loads(wordnet.TABLE.read_text(encoding="utf-8"))
    assert len(table["v"]) > 300 and len(table["n"]) > 300
    words = {w for pos in ("n", "v") for syns in table[pos].values() for s in syns for w in s.split()}
    assert not words & {"fuck", "shit", "bitch", "dismay", "enjoin"}  # blocked words and odd senses
    with pytest.raises(ValueError):
        wordnet.synonyms("buy", "x")


@pytest.mark.parametrize(("base", "form", "pos", "out"), [
    ("stop", "ing", "v", "stopping"), ("stop", "ed", "v", "stopped"), ("open", "ing", "v", "opening"),
    ("make", "ing", "v", "making"), ("look up", "ing", "v", "looking up"), ("set", "ed", "v", "set"),
    ("take", "ed", "v", None), ("city", "s", "n", "cities"), ("box", "s", "n", "boxes"),
    ("child", "s", "n", "children"), ("purchase", "ed", "v", "purchased"), ("film", "", "n", "film"),
])
def test_inflect(base: str, form: str, pos: str, out: str | None) -> None:
    assert wordnet.inflect(base, form, pos) == out


def test_lemma() -> None:
    assert wordnet.lemma("purchased", "v") == ("purchase", "ed")
    assert wordnet.lemma("begins", "v") == ("begin", "s")
    assert wordnet.lemma("movies", "n") == ("movie", "s")
    assert wordnet.lemma("qwerty", "n") is None


def test_wordnet_swaps_verbs_and_nouns_not_placeholders_or_units() -> None:
    r = random.Random(0)
    out = swap_synonyms(r, "compute the total for \x010\x02", p=1.0)
    assert out.startswith("calculate ") or out.startswith("reckon ") or out.split()[0] in wordnet.synonyms(
        "compute", "v"), out
    assert "\x010\x02" in out
    seen = {swap_synonyms(random.Random(i), "enroll the student \x010\x02", p=1.0) for i in range(20)}
    assert any("pupil" in s for s in seen), seen
    # unit words next to numbers keep their meaning; placeholders survive; capitals are kept
    for i in range(30):
        s = swap_synonyms(random.Random(i), "Start a timer for \x010\x02 minutes and \x011\x02 seconds", p=1.0)
        assert "minutes" in s and "seconds" in s and "\x010\x02" in s and "\x011\x02" in s
        assert s[0].isupper()
    # articles follow the swapped word
    seen = {swap_synonyms(random.Random(i), "find a job in \x010\x02", p=1.0) for i in range(30)}
    assert not any(re.search(r"\ba [aeiou]", s) for s in seen), seen


def test_gerund_need_and_object_first_forms() -> None:
    assert wording.gerund("turn on the \x010\x02 lights") == "turning on the \x010\x02 lights"
    assert wording.gerund("stop the music") == "stopping the music"
    assert wording.gerund("what's the weather") is None
    assert wording.need_form("book a table for \x010\x02") == ("a table for \x010\x02", True)
    assert wording.need_form("show my playlists") == ("my playlists", False)
    assert wording.need_form("delete the file") is None
    assert wording.topicalize("turn on the \x010\x02 lights") == ("the \x010\x02 lights", "turn them on")
    assert wording.topicalize("set the thermostat to \x010\x02") == ("the thermostat", "set it to \x010\x02")
    assert wording.topicalize("check the spelling of \x010\x02") == ("the spelling of \x010\x02", "check it")
    assert wording.topicalize("what's the weather") is None


def test_say_number_is_read_back_by_grounding() -> None:
    r = random.Random(4)
    for n in [0, 7, 12, 45, 99, 100, 512, 1000, 1250, 25000, 999999, 3, 1_500_000]:
        for _ in range(12):
            said = wording.say_number(r, n)
            assert [v for v, _, _ in find_numbers(said)] == [float(n)], (n, said)
    assert wording.say_number(r, 1234.5) in ("1,234.5", "1234.5")


def _schema_ok(schema: dict[str, Any], args: dict[str, Any], partial: bool = False) -> bool:
    s = dict(schema)
    if partial:
        s.pop("required", None)
    return Draft202012Validator(s, format_checker=FormatChecker()).is_valid(args)


def _copied(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and not ({"enum", "format", "pattern"} & set(schema))


def test_records_stay_consistent_with_their_labels(records: list[dict[str, Any]]) -> None:
    checked = copied = numbers = 0
    for r in records:
        tools = {t["name"]: t for t in r["tools"]}
        calls = r["answers"] + [c for alt in r.get("acceptable") or [] for c in alt]
        for call in calls:
            schema = tools[call["name"]]["parameters"]
            assert _schema_ok(schema, call["arguments"], partial=r["category"] == "missing"), (r["query"], call)
            for k, v in call["arguments"].items():
                s = schema["properties"][k]
                if _copied(s):
                    assert v in r["query"], (r["query"], k, v)
                    copied += 1
                elif s.get("type") == "array":
                    assert all(x in r["query"] for x in v), (r["query"], k, v)
                elif s.get("type") == "object":
                    for kk, vv in v.items():
                        if isinstance(vv, str) and _copied(s["properties"][kk]):
                            assert vv in r["query"], (r["query"], kk, vv)
                elif s.get("type") in ("integer", "number") and not isinstance(v, bool):
                    said = {x for x, _, _ in find_numbers(r["query"])}
                    assert float(v) in said or str(v) in r["query"], (r["query"], k, v)
                    numbers += 1
            checked += 1
        if r["category"] == "missing":
            assert set(r["missing"]) <= set(tools[r["answers"][0]["name"]]["parameters"]["required"])
            assert not set(r["missing"]) & set(r["answers"][0]["arguments"])
        assert "\x01" not in r["query"] and "{" not in r["query"].replace("{}", ""), r["query"]
    assert checked > N // 2 and copied > N // 2 and numbers > 200


def test_added_wording_carries_no_negation_or_numbers() -> None:
    """Frames and context sentences must not flip a request into a refusal or supply a value."""
    tables = (wording.INDIRECT, wording.GERUND, wording.POLITE, wording.CASUAL, wording.TERSE,
              wording.QUESTION_MORE, wording.NEED_INDEF, wording.NEED_DEF, wording.CONTEXT_MORE,
              wording.JOINERS_MORE, *wording.DOMAIN_CONTEXT.values(), *wording.FIRST_THEN)
    for table in tables:
        for text in table:
            assert not NEGATION_RE.search(text), text
            assert not find_numbers(text.replace("{c}", "").replace("{C}", "")), text
    for text in wording.NEGATED_MORE:  # and the added refusals say so
        assert NEGATION_RE.search(text) and not find_numbers(text.replace("{c}", "")), text


def test_new_shapes_appear(records: list[dict[str, Any]]) -> None:
    qs = [r["query"] for r in records]
    low = [q.lower() for q in qs]

    def share(pred: Any) -> float:
        return sum(1 for q in low if pred(q)) / len(low)

    assert share(lambda q: q.startswith(tuple(c.lower() for c in wording.CONTEXT_MORE))
                 or any(q.startswith(c.lower()) for cs in wording.DOMAIN_CONTEXT.values() for c in cs)) > 0.05
    assert share(lambda q: re.search(r"\b(any chance|is it possible|i was hoping|would it be possible|"
                                     r"is there any way|could i ask)\b", q)) > 0.02
    assert share(lambda q: re.search(r"\b(would you mind|how about|mind) \w+ing\b", q)) > 0.005
    assert share(lambda q: re.search(r"^(i need|i'd like|can i get|looking for|i could use|could i have) "
                                     r"(a|an|some|another) ", q)) > 0.002
    assert share(lambda q: re.search(r"\b\d{1,3}(,\d{3})+\b", q)) > 0.005  # thousands separators
    assert share(lambda q: re.search(r"\bthousand\b", q)) > 0.001
    assert share(lambda q: re.search(r"\b(first,? .*(then|after that)|couple of things:|oh,? and|while you're at it)",
                                     q)) > 0.02
    assert share(lambda q: re.search(r"\b(u|pls|plz|thx|lemme|wanna|gotta)\b", q)) > 0.03
    assert share(lambda q: re.search(r"\b(sorry to bother you|would you be so kind|i'd be grateful)\b", q)) > 0.005
    # enum members said as synonyms: the label keeps the member, the request says something else
    aliased = 0
    for r in records:
        for call in r["answers"]:
            tool = next(t for t in r["tools"] if t["name"] == call["name"])
            for k, v in call["arguments"].items():
                s = tool["parameters"]["properties"][k]
                if "enum" in s and isinstance(v, str) and v.lower() in wording.ENUM_ALSO:
                    if any(a.lower() in r["query"].lower() for a in wording.ENUM_ALSO[v.lower()]) \
                            and v.replace("_", " ").lower() not in r["query"].lower():
                        aliased += 1
    assert aliased > 10


def test_variety_zero_keeps_the_original_wording() -> None:
    plain = [r["query"] for r in generate_records(300, seed=3, variety=0.0)]
    varied = [r["query"] for r in generate_records(300, seed=3)]
    assert plain != varied
    for q in plain:
        assert not any(q.startswith(c) for c in wording.CONTEXT_MORE)
        assert not re.search(r"\b\d{1,3}(,\d{3})+\b", q)
