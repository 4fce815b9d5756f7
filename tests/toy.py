"""A small routing task in the shared record format, for the model's tests (test data: not shipped).

Four tools (strings, enums, bounded integers, booleans), single and parallel calls, and queries
that need no tool. Real training data comes from `needle_router.data.synth`.
"""

from __future__ import annotations

import random
from typing import Any

TOY_TOOLS: list[dict[str, Any]] = [
    {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
    {
        "name": "set_timer",
        "description": "Start a countdown timer.",
        "parameters": {
            "type": "object",
            "properties": {"minutes": {"type": "integer", "minimum": 1, "maximum": 600}},
            "required": ["minutes"],
        },
    },
    {
        "name": "send_email",
        "description": "Send an email message to a person.",
        "parameters": {
            "type": "object",
            "properties": {
                "to": {"type": "string", "description": "Recipient"},
                "subject": {"type": "string"},
                "urgent": {"type": "boolean"},
            },
            "required": ["to", "subject"],
        },
    },
    {
        "name": "play_music",
        "description": "Play a song or an artist.",
        "parameters": {
            "type": "object",
            "properties": {"song": {"type": "string"}, "volume": {"type": "number", "minimum": 0, "maximum": 10}},
            "required": ["song"],
        },
    },
]

CITIES = ["Paris", "London", "Tokyo", "New York", "Berlin", "Lagos", "Lima", "Oslo", "Cairo", "Sydney", "Rome"]
PEOPLE = ["Alice", "Bob", "Carol", "Dmitri", "Erin", "Farah", "Gus", "Hana"]
SUBJECTS = ["the budget", "lunch plans", "the report", "our trip", "the party", "invoice 42"]
SONGS = ["Yellow", "Hey Jude", "Bohemian Rhapsody", "Clair de Lune", "Hello", "Africa"]
CHATTER = [
    "tell me a joke",
    "what is the meaning of life",
    "thanks, that is all",
    "how are you today",
    "who wrote Hamlet",
    "good morning",
]


def _call(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "arguments": args}


def toy_record(rng: random.Random) -> dict[str, Any]:
    r = rng.random()
    tools = list(TOY_TOOLS)
    rng.shuffle(tools)
    if r < 0.25:
        city = rng.choice(CITIES)
        if rng.random() < 0.5:
            unit = rng.choice(["celsius", "fahrenheit"])
            q = rng.choice(["weather in {c} in {u}", "how hot is {c}? answer in {u}", "{c} forecast, {u} please"])
            return _rec(q.format(c=city, u=unit), tools, [_call("get_weather", city=city, unit=unit)])
        q = rng.choice(["what's the weather in {c}", "is it raining in {c}?", "{c} weather now"])
        return _rec(q.format(c=city), tools, [_call("get_weather", city=city)])
    if r < 0.4:
        m = rng.randint(1, 600)
        q = rng.choice(["set a timer for {m} minutes", "timer {m} min", "remind me in {m} minutes"])
        return _rec(q.format(m=m), tools, [_call("set_timer", minutes=m)])
    if r < 0.6:
        p, s = rng.choice(PEOPLE), rng.choice(SUBJECTS)
        if rng.random() < 0.3:
            q = f"urgent: email {p} about {s}"
            return _rec(q, tools, [_call("send_email", to=p, subject=s, urgent=True)])
        q = rng.choice(["email {p} about {s}", "send {p} a mail about {s}", "write to {p} re {s}"])
        return _rec(q.format(p=p, s=s), tools, [_call("send_email", to=p, subject=s)])
    if r < 0.72:
        song = rng.choice(SONGS)
        if rng.random() < 0.4:
            v = rng.randint(0, 10)
            return _rec(f"play {song} at volume {v}", tools, [_call("play_music", song=song, volume=v)])
        return _rec(f"play {song}", tools, [_call("play_music", song=song)])
    if r < 0.85:
        a, b = rng.sample(CITIES, 2)
        return _rec(f"weather in {a} and {b}", tools, [_call("get_weather", city=a), _call("get_weather", city=b)])
    q = rng.choice(CHATTER)
    return {**_rec(q, tools, []), "category": "irrelevant", "expected": "refuse"}


def _rec(query: str, tools: list[dict[str, Any]], answers: list[dict[str, Any]]) -> dict[str, Any]:
    cat = "parallel" if len(answers) > 1 else "single"
    return {"query": query, "tools": tools, "answers": answers, "category": cat, "expected": "call"}


def toy_records(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [toy_record(rng) for _ in range(n)]
