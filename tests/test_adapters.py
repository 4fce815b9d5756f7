"""Ecosystem adapters: every format in, exports out and back, @tool, pydantic models, errors."""

from __future__ import annotations

import enum
import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import annotated_types as at
import pytest
from google.genai import types as genai_types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from needle_router import Tool, ToolCall, ToolSchemaError, Toolset
from needle_router.adapters import (
    detect_format,
    from_bfcl,
    from_function,
    from_gemini,
    from_needle,
    from_openai,
    from_pydantic,
    parse_docstring,
    parse_tools,
    to_anthropic,
    to_gemini,
    to_gemini_json_schema,
    to_genai_tool,
    to_mcp,
    to_mcp_listing,
    to_needle,
    to_openai,
    tool,
)
from needle_router.validation import check_call

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "tools"
FORMATS = ["jsonschema", "openai", "gemini", "anthropic", "mcp", "needle", "bfcl"]


@pytest.fixture(scope="module")
def canonical() -> Toolset:
    return Toolset.load(EXAMPLES / "jsonschema.json")


def _python_tools() -> list[Any]:
    sys.path.insert(0, str(ROOT))
    try:
        from examples.tools_python import TOOLS
    finally:
        sys.path.remove(str(ROOT))
    return TOOLS


# ---------------------------------------------------------------- the example files


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_example_file_loads_to_the_same_tools(fmt: str, canonical: Toolset) -> None:
    loaded = Toolset.load(EXAMPLES / f"{fmt}.json")
    assert loaded.names == ["get_weather", "set_timer", "send_message", "play_music", "set_thermostat"]
    assert loaded.to_list() == canonical.to_list()
    assert loaded.fingerprint == canonical.fingerprint


def test_python_examples_load_to_the_same_tools(canonical: Toolset) -> None:
    loaded = Toolset.load(_python_tools())
    assert loaded.to_list() == canonical.to_list()
    # The tools stay callable: @tool functions run, the pydantic model validates.
    assert loaded["get_weather"](city="Oslo") == {"action": "get_weather", "city": "Oslo", "unit": "celsius"}
    assert loaded["send_message"](recipient="Ann", text="hi")["channel"] == "sms"
    assert loaded["set_thermostat"](temperature=21).room == "living room"


def test_canonical_schema_is_clean_json_schema(canonical: Toolset) -> None:
    thermostat = canonical["set_thermostat"].parameters
    assert "$schema" not in thermostat
    assert thermostat["properties"]["temperature"] == {
        "type": "number",
        "description": "Target temperature in degrees Celsius.",
        "minimum": 5,
        "maximum": 35,
    }
    weather = canonical["get_weather"]
    assert weather.required == ["city"]
    assert weather.properties["unit"]["default"] == "celsius"


@pytest.mark.parametrize("fmt", FORMATS)
def test_detect_format_on_example_items(fmt: str) -> None:
    data = json.loads((EXAMPLES / f"{fmt}.json").read_text())
    items = {"mcp": lambda d: d["tools"], "gemini": lambda d: d[0]["functionDeclarations"]}.get(fmt, lambda d: d)(data)
    assert {detect_format(item) for item in items} == {fmt}


# ---------------------------------------------------------------- exports and round trips


def test_openai_round_trip_both_forms(canonical: Toolset) -> None:
    chat = to_openai(canonical)
    assert chat[0]["type"] == "function" and chat[0]["function"]["name"] == "get_weather"
    assert parse_tools(chat) == canonical.tools
    flat = to_openai(canonical, responses=True)
    assert flat[0]["name"] == "get_weather" and "function" not in flat[0]
    assert parse_tools(flat) == canonical.tools


def test_anthropic_and_mcp_round_trip(canonical: Toolset) -> None:
    anthropic = to_anthropic(canonical)
    assert set(anthropic[0]) == {"name", "description", "input_schema"}
    assert parse_tools(anthropic) == canonical.tools
    assert parse_tools(to_mcp(canonical)) == canonical.tools
    listing = to_mcp_listing(canonical)
    assert parse_tools(listing) == canonical.tools
    # A JSON-RPC tools/list response is unwrapped too.
    assert parse_tools({"jsonrpc": "2.0", "id": 1, "result": listing}) == canonical.tools


def test_gemini_export_is_accepted_by_the_sdk_and_round_trips(canonical: Toolset) -> None:
    decls = to_gemini(canonical)
    timer = decls[1]["parameters"]
    assert timer["type"] == "OBJECT"
    assert timer["properties"]["minutes"] == {
        "type": "INTEGER",
        "description": "Timer length in minutes.",
        "minimum": 1,
        "maximum": 600,
    }
    for decl in decls:  # the real google-genai types accept every declaration
        genai_types.FunctionDeclaration.model_validate(decl)
    assert parse_tools(decls) == canonical.tools
    assert parse_tools([{"functionDeclarations": decls}]) == canonical.tools
    assert parse_tools({"function_declarations": decls}) == canonical.tools
    json_decls = to_gemini_json_schema(canonical)
    assert json_decls[0]["parameters_json_schema"] == canonical["get_weather"].parameters
    assert parse_tools(json_decls) == canonical.tools


@pytest.mark.parametrize("json_schema", [True, False])
def test_genai_tool_objects_parse_back(canonical: Toolset, json_schema: bool) -> None:
    sdk_tool = to_genai_tool(canonical, json_schema=json_schema)
    assert isinstance(sdk_tool, genai_types.Tool)
    assert parse_tools(sdk_tool) == canonical.tools
    assert parse_tools(sdk_tool.function_declarations) == canonical.tools


def test_needle_round_trip(canonical: Toolset) -> None:
    exported = to_needle(canonical)
    assert exported[0]["parameters"]["city"]["required"] is True
    assert exported[0]["parameters"]["unit"]["required"] is False
    assert parse_tools(exported) == canonical.tools
    nested = Tool(
        "trip",
        "",
        {
            "type": "object",
            "properties": {
                "stops": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                },
                "who": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
            },
            "required": ["stops"],
        },
    )
    flat = to_needle([nested])[0]["parameters"]
    assert flat["stops"]["items"]["properties"]["city"]["required"] is True
    assert flat["who"]["properties"]["age"]["required"] is False
    assert parse_tools(to_needle([nested])) == [nested]


def test_gemini_export_of_json_schema_only_features() -> None:
    t = Tool(
        "f",
        "",
        {
            "type": "object",
            "properties": {
                "note": {"type": ["string", "null"], "default": None},
                "level": {"type": "integer", "enum": [1, 2, 3], "description": "Level."},
                "count": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
                "mode": {"enum": ["a", "b", None]},
                "either": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
        },
    )
    props = to_gemini([t])[0]["parameters"]["properties"]
    assert props["note"] == {"type": "STRING", "nullable": True, "default": None}
    assert props["level"] == {"type": "INTEGER", "description": "Level. Allowed values: 1, 2, 3."}
    assert props["count"] == {"type": "INTEGER", "minimum": 1, "maximum": 9}
    assert props["mode"] == {"enum": ["a", "b"], "nullable": True}
    assert props["either"] == {"type": "STRING", "nullable": True}
    genai_types.FunctionDeclaration.model_validate(to_gemini([t])[0])
    # And what the subset can say comes back exactly.
    back = parse_tools(to_gemini([t]))[0].properties
    assert back["note"] == {"type": ["string", "null"], "default": None}


def test_gemini_export_refuses_recursive_refs() -> None:
    node = {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}
    t = Tool("tree", "", {"type": "object", "properties": {"root": {"$ref": "#/$defs/Node"}}, "$defs": {"Node": node}})
    with pytest.raises(ToolSchemaError) as err:
        to_gemini([t])
    assert err.value.tool == "tree" and "to_gemini_json_schema" in err.value.reason
    assert to_gemini_json_schema([t])[0]["parameters_json_schema"]["$defs"]["Node"] == node


# ---------------------------------------------------------------- dialect details


def test_gemini_openapi_subset_is_read() -> None:
    t = from_gemini(
        {
            "name": "search",
            "parameters": {
                "type": "OBJECT",
                "properties": {
                    "q": {"type": "STRING", "nullable": True, "example": "cats"},
                    "kind": {"type": "STRING", "format": "enum", "enum": ["a", "b"], "nullable": True},
                    "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": "5"},
                    "any": {"type": "TYPE_UNSPECIFIED"},
                },
                "required": ["q"],
            },
        }
    )
    props = t.properties
    assert props["q"] == {"type": ["string", "null"], "examples": ["cats"]}
    assert props["kind"] == {"type": ["string", "null"], "enum": ["a", "b", None]}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "maxItems": 5}
    assert props["any"] == {}


def test_gemini_sdk_snake_case_dump_is_read() -> None:
    decl = genai_types.FunctionDeclaration(
        name="pick",
        parameters=genai_types.Schema(
            type=genai_types.Type.OBJECT,
            properties={"xs": genai_types.Schema(type=genai_types.Type.ARRAY, min_items=1, items={"type": "NUMBER"})},
        ),
    )
    snake = decl.model_dump(mode="json", exclude_none=True)  # snake_case field names
    assert "min_items" in snake["parameters"]["properties"]["xs"]
    assert from_gemini(snake).properties["xs"] == {"type": "array", "minItems": 1, "items": {"type": "number"}}


def test_bfcl_types_are_mapped() -> None:
    t = from_bfcl(
        {
            "name": "geometry.area",
            "description": "Area of a shape.",
            "parameters": {
                "type": "dict",
                "properties": {
                    "sides": {"type": "tuple", "items": {"type": "float"}, "description": "Side lengths."},
                    "points": {
                        "type": "array",
                        "items": {"type": "dict", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}},
                    },
                    "extra": {"type": "any", "description": "Anything."},
                    "unit": {"description": "No type: a string, as BFCL reads it.", "default": "m"},
                    "label": {"type": "String"},
                    "empty": {"type": ""},
                    "note": {"type": "string", "optional": True},
                },
                "required": ["sides"],
                "optional": ["points", "extra", "unit", "label", "empty", "note"],
            },
        }
    )
    assert "optional" not in t.parameters and t.properties["note"] == {"type": "string"}
    props = t.properties
    assert props["sides"] == {"type": "array", "items": {"type": "number"}, "description": "Side lengths."}
    assert props["points"]["items"]["type"] == "object"
    assert props["extra"] == {"description": "Anything."}
    assert props["unit"]["type"] == "string"
    assert props["label"] == {"type": "string"} and props["empty"] == {"type": "string"}
    toolset = Toolset([t])  # the core meta-validation accepts the result
    ok = check_call(ToolCall(name="geometry.area", arguments={"sides": [3, 4.5], "extra": [1]}), toolset)
    assert ok.ok


def test_needle_compact_and_flagged_forms() -> None:
    compact = from_needle({"name": "get_weather", "parameters": {"location": "string"}})
    assert compact.parameters == {"type": "object", "properties": {"location": {"type": "string"}}}
    flagged = parse_tools(
        {
            "name": "alarm",
            "parameters": {
                "type": "object",
                "properties": {"hour": {"type": "number", "required": True}, "label": {"type": "string"}},
            },
        }
    )[0]
    assert flagged.required == ["hour"]
    assert "required" not in flagged.properties["hour"]
    # A parameter literally named "type" is still a flat map.
    assert from_needle({"name": "t", "parameters": {"type": {"type": "string", "required": True}}}).required == ["type"]


def test_refs_are_inlined_and_schema_markers_stripped() -> None:
    t = from_openai(
        {
            "type": "function",
            "function": {
                "name": "book",
                "parameters": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "$id": "urn:book",
                    "type": "object",
                    "properties": {"where": {"$ref": "#/definitions/Place", "description": "Destination."}},
                    "definitions": {"Place": {"type": "object", "properties": {"city": {"type": "string"}}}},
                },
            },
        }
    )
    assert t.parameters == {
        "type": "object",
        "properties": {
            "where": {"type": "object", "properties": {"city": {"type": "string"}}, "description": "Destination."}
        },
    }


def test_required_order_follows_properties() -> None:
    a = parse_tools({"name": "f", "parameters": {"properties": {"a": {}, "b": {}}, "required": ["b", "a", "b"]}})
    assert a[0].required == ["a", "b"]


# ---------------------------------------------------------------- @tool and pydantic models


class Opaque:
    """A class pydantic has no schema for."""


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    street: str
    zip_code: Annotated[str, Field(pattern=r"^\d{5}$")]


def test_tool_decorator_reads_every_hint_kind() -> None:
    @tool
    def everything(
        name: str,
        count: int,
        ratio: float,
        flag: bool,
        nothing: None,
        tags: list[str],
        meta: dict,
        scores: dict[str, int],
        maybe: Optional[int],  # noqa: UP045 - the typing spelling is what is being tested
        other: str | None,
        size: Literal["s", "m", "l"],
        color: Color,
        percent: Annotated[int, at.Ge(0), at.Le(100)],
        positive: Annotated[float, at.Gt(0), at.Lt(1)],
        code: Annotated[str, at.MinLen(2), at.MaxLen(4)],
        slug: Annotated[str, Field(pattern=r"^[a-z-]+$", min_length=1)],
        items: Annotated[list[int], Field(max_length=3)],
        address: Address,
        shade: Color = Color.GREEN,
        level: int = Field(3, ge=1, le=5),
        note: str | None = None,
    ) -> None:
        """Exercise every supported hint.

        A second paragraph that is not part of the description.

        Args:
            name: The name,
                continued on a second line.
            count (int): How many.

        Returns:
            Nothing.
        """

    assert isinstance(everything, Tool)
    assert everything.name == "everything"
    assert everything.description == "Exercise every supported hint."
    p = everything.properties
    assert p["name"] == {"type": "string", "description": "The name, continued on a second line."}
    assert p["count"] == {"type": "integer", "description": "How many."}
    assert p["ratio"] == {"type": "number"} and p["flag"] == {"type": "boolean"}
    assert p["nothing"] == {"type": "null"}
    assert p["tags"] == {"type": "array", "items": {"type": "string"}}
    assert p["meta"] == {"type": "object"}
    assert p["scores"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert p["maybe"] == {"type": ["integer", "null"]}
    assert p["other"] == {"type": ["string", "null"]}
    assert p["size"] == {"type": "string", "enum": ["s", "m", "l"]}
    assert p["color"] == {"type": "string", "enum": ["red", "green"]}
    assert p["percent"] == {"type": "integer", "minimum": 0, "maximum": 100}
    assert p["positive"] == {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
    assert p["code"] == {"type": "string", "minLength": 2, "maxLength": 4}
    assert p["slug"] == {"type": "string", "pattern": "^[a-z-]+$", "minLength": 1}
    assert p["items"] == {"type": "array", "items": {"type": "integer"}, "maxItems": 3}
    assert p["address"]["properties"]["zip_code"] == {"type": "string", "pattern": r"^\d{5}$"}
    assert "$ref" not in json.dumps(everything.parameters) and "title" not in json.dumps(p["address"])
    assert p["shade"] == {"type": "string", "enum": ["red", "green"], "default": "green"}
    assert p["level"] == {"type": "integer", "minimum": 1, "maximum": 5, "default": 3}
    assert p["note"] == {"type": ["string", "null"], "default": None}
    # Optional hints without a default stay required: the function needs them.
    assert "maybe" in everything.required and "other" in everything.required
    assert not {"shade", "level", "note"} & set(everything.required)
    Toolset([everything])  # passes the core meta-validation


def test_tool_decorator_schema_validates_calls_and_keeps_the_function() -> None:
    @tool(name="volume", description="Set the volume.")
    def set_volume(level: Annotated[int, Field(ge=0, le=100)], mute: bool = False) -> str:
        """Ignored because a description is given."""
        return f"{level}/{mute}"

    assert set_volume.name == "volume" and set_volume.description == "Set the volume."
    assert set_volume(level=7) == "7/False"
    assert set_volume.__wrapped__(level=1, mute=True) == "1/True"
    ts = Toolset([set_volume])
    assert check_call(ToolCall(name="volume", arguments={"level": 50}), ts).ok
    bad = check_call(ToolCall(name="volume", arguments={"level": 101}), ts)
    assert [i.code for i in bad.issues] == ["bounds"]


def test_plain_functions_and_methods_load_directly() -> None:
    def greet(who: str, times: int = 1) -> str:
        """Greet someone."""
        return " ".join([f"hi {who}"] * times)

    class Bot:
        def reply(self, text: str) -> str:
            """Reply to a message."""
            return text.upper()

    class Echo:
        def __call__(self, words: list[str]) -> str:
            """Echo the words."""
            return " ".join(words)

    thrice = from_function(functools.partial(greet, times=3), name="greet_thrice")
    ts = Toolset.load([greet, Bot().reply, thrice, from_function(Echo(), name="echo")])
    assert ts.names == ["greet", "reply", "greet_thrice", "echo"]
    assert ts["greet_thrice"].properties["times"]["default"] == 3
    assert ts["greet_thrice"](who="y") == "hi y hi y hi y"
    assert ts["reply"].properties == {"text": {"type": "string"}}
    assert ts["greet"](who="x", times=2) == "hi x hi x"
    assert ts["echo"].description == "Echo the words."
    assert ts["echo"].properties == {"words": {"type": "array", "items": {"type": "string"}}}


class Booking(BaseModel):
    """Book a table at a restaurant.

    More text about bookings.

    Attributes:
        guests: Number of guests.
    """

    model_config = ConfigDict(title="book_table")

    restaurant: str = Field(description="Restaurant name.")
    guests: Annotated[int, Field(ge=1, le=20)] = 2
    address: Address | None = None


def test_pydantic_model_becomes_a_clean_tool() -> None:
    t = from_pydantic(Booking)
    assert t.name == "book_table"
    assert t.description == "Book a table at a restaurant."
    text = json.dumps(t.parameters)
    assert "$ref" not in text and "$defs" not in text and '"title"' not in text
    assert t.properties["restaurant"] == {"type": "string", "description": "Restaurant name."}
    assert t.properties["guests"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 20,
        "default": 2,
        "description": "Number of guests.",
    }
    address = t.properties["address"]
    assert address["anyOf"][1] == {"type": "null"} and address["anyOf"][0]["type"] == "object"
    assert t.required == ["restaurant"]
    booking = t(restaurant="Luigi's")
    assert isinstance(booking, Booking) and booking.guests == 2
    assert parse_tools([Booking])[0] == t


def test_docstring_parser() -> None:
    doc = """Summary line
    that wraps.

    Args:
        a: First.
        *args: Extra values.
        b (list[int], optional): Second,
            with more words.

    Raises:
        ValueError: never documented as a parameter.
    """
    assert parse_docstring(doc) == (
        "Summary line that wraps.",
        {"a": "First.", "args": "Extra values.", "b": "Second, with more words."},
    )
    assert parse_docstring(None) == ("", {})


def test_docstring_keyword_sections_and_unreadable_entries() -> None:
    doc = """Summary.
    Note:
        not part of the summary.

    Keyword Args:
        **options: Passed on.
        retries (int): How often,
            at most.
    """
    assert parse_docstring(doc) == ("Summary.", {"options": "Passed on.", "retries": "How often, at most."})
    assert parse_docstring("Do it.\n\nArgs:\n    a - no colon\n    b: B\n") == ("Do it.", {"b": "B"})
    # A type holding colons (Sphinx roles) keeps the name; a type with a stray parenthesis too.
    doc = "Pad.\n\nArgs:\n    value (:obj:`bool`, `optional`):\n        Whether to pad.\n    path (`str`)): Where.\n"
    assert parse_docstring(doc) == ("Pad.", {"value": "Whether to pad.", "path": "Where."})


@tool
def _numpy_weather(city: str, days: int = 3, units: Literal["metric", "imperial"] = "metric") -> dict[str, Any]:
    """Get the weather forecast for a city.

    Looks the city up first; this paragraph is not part of the description.

    Parameters
    ----------
    city : str
        Name of the city,
        as written on a map.
    days : int, optional
        How many days ahead to forecast.
    units : {"metric", "imperial"}
        Unit system for temperatures.

    Returns
    -------
    dict
        The forecast.
    """
    return {}


@tool
def _rest_send_email(to: str, subject: str, body: str = "") -> bool:
    """Send an email to one recipient.

    :param to: Address of the recipient.
    :type to: str
    :param str subject: Subject line,
        kept short.
    :param body: Text of the message.
    :returns: Whether the server accepted it.
    :raises ValueError: if the address is malformed.
    """
    return True


@tool
def _epydoc_create_event(title: str, start: str, minutes: int = 30) -> str:
    """Create a calendar event.

    @param title: What the event is called.
    @type title: str
    @param start: When it starts, in ISO 8601.
    @param minutes: How long it lasts.
    @return: The event's id.
    """
    return ""


@pytest.mark.parametrize("fn,description,docs", [
    (_numpy_weather, "Get the weather forecast for a city.", {
        "city": "Name of the city, as written on a map.", "days": "How many days ahead to forecast.",
        "units": "Unit system for temperatures."}),
    (_rest_send_email, "Send an email to one recipient.", {
        "to": "Address of the recipient.", "subject": "Subject line, kept short.", "body": "Text of the message."}),
    (_epydoc_create_event, "Create a calendar event.", {
        "title": "What the event is called.", "start": "When it starts, in ISO 8601.",
        "minutes": "How long it lasts."}),
])
def test_numpy_rest_and_epydoc_docstrings_reach_the_schema(fn: Tool, description: str, docs: dict[str, str]) -> None:
    assert fn.description == description
    assert {name: schema["description"] for name, schema in fn.properties.items()} == docs
    openai = to_openai([fn])[0]["function"]["parameters"]["properties"]
    assert {name: schema["description"] for name, schema in openai.items()} == docs
    Toolset([fn])


def test_numpy_attributes_describe_pydantic_fields() -> None:
    class Reservation(BaseModel):
        """Reserve a hotel room.

        Attributes
        ----------
        hotel : str
            Name of the hotel.
        nights : int
            How many nights to stay.
        """

        hotel: str
        nights: int = 1

    t = from_pydantic(Reservation)
    assert t.description == "Reserve a hotel room."
    assert t.properties["hotel"]["description"] == "Name of the hotel."
    assert t.properties["nights"]["description"] == "How many nights to stay."


# ---------------------------------------------------------------- errors


def _error(source: Any) -> ToolSchemaError:
    with pytest.raises(ToolSchemaError) as err:
        Toolset.load(source)
    return err.value


def test_missing_name_names_the_path() -> None:
    err = _error(
        [
            {"type": "function", "function": {"name": "ok", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"parameters": {"type": "object"}}},
        ]
    )
    assert err.path == "$[1].function.name" and "no name" in err.reason


def test_bad_type_names_tool_and_path() -> None:
    err = _error(
        [{"type": "function", "function": {"name": "w", "parameters": {"properties": {"u": {"type": "strng"}}}}}]
    )
    assert (err.tool, err.path) == ("w", "$[0].function.parameters.properties.u.type")
    hint = _error([{"name": "w", "input_schema": {"properties": {"u": {"type": "float"}}}}])
    assert "did you mean 'number'" in hint.reason and hint.path == "$[0].input_schema.properties.u.type"


def test_bad_nested_schema_names_the_path() -> None:
    err = _error(
        {
            "tools": [
                {
                    "name": "m",
                    "inputSchema": {
                        "type": "object",
                        "properties": {"xs": {"type": "array", "items": {"type": "integer", "minimum": "low"}}},
                    },
                }
            ]
        }
    )
    assert (err.tool, err.path) == ("m", "$.tools[0].inputSchema.properties.xs.items.minimum")
    err = _error([{"name": "g", "parameters": {"type": "OBJECT", "properties": {"a": {"type": "STRING", "items": 5}}}}])
    assert (err.tool, err.path) == ("g", "$[0].parameters.properties.a.items")
    err = _error([{"name": "n", "parameters": {"a": {"type": "string", "required": "yes"}}}])
    assert (err.tool, err.path) == ("n", "$[0].parameters.a.required")
    err = _error([{"name": "n", "parameters": {"a": {"type": "strin", "required": True}}}])
    assert (err.tool, err.path) == ("n", "$[0].parameters.a.type")


def test_duplicate_names_are_rejected_by_toolset_load() -> None:
    err = _error(
        [
            {"name": "same", "parameters": {"type": "object"}},
            {"type": "function", "function": {"name": "same"}},
        ]
    )
    assert (err.tool, err.path) == ("same", "$[1].name") and "duplicate" in err.reason


@pytest.mark.parametrize(
    ("source", "path", "words"),
    [
        ('{"foo": 1}', "$", "not a tool"),
        ("[1, 2]", "$[0]", "expected an object"),
        ('[{"description": "no name"}]', "$[0]", "not a tool"),
        ('{"name": "x", "parameters": {"type": "array"}}', "$.parameters.type", "type object"),
        ('{"name": "x", "parameters": {"properties": {}, "required": ["y"]}}', "$.parameters.required[0]", "'y'"),
        ('{"name": "x", "parameters": {"properties": []}}', "$.parameters.properties", "mapping"),
        ('{"name": "bad name!"}', "$.name", "invalid tool name"),
        ('{"name": "x", "description": 5}', "$.description", "string"),
        ('{"name": "x", "parameters": {"type": "OBJECT", "nullable": "yes"}}', "$.parameters.nullable", "true or"),
        ('{"name": "x", "input_schema": null}', "$.input_schema", "object"),
        ('{"type": "web_search_20250305", "name": "web_search", "input_schema": 3}', "$.input_schema", "object"),
        ('{"name": "ws", "type": "web_search_20250305", "max_uses": 5, "input_schema": []}', "$.input_schema", ""),
        ('{"type": "file_search", "function": {}}', "$.type", "not a function tool"),
        ('{"functionDeclarations": {"name": "x"}}', "$.functionDeclarations", "list"),
        ('{"name": "x", "parameters": {}, "parametersJsonSchema": {}}', "$.parametersJsonSchema", "not both"),
    ],
)
def test_json_that_is_not_a_tool(source: str, path: str, words: str) -> None:
    err = _error(source)
    assert err.path == path
    assert words in err.reason


def test_anthropic_server_tool_is_refused() -> None:
    err = _error([{"type": "web_search_20250305", "name": "web_search"}])
    assert err.tool == "web_search" and "server tool" in err.reason


def test_python_callables_that_cannot_be_tools() -> None:
    assert "explicit name" in _error([lambda x: x]).reason

    def positional(a: int, /) -> int:
        return a

    assert _error([positional]).path == "$.parameters.properties.a"

    def takes_opaque(thing: Opaque) -> None:
        pass

    err = _error([takes_opaque])
    assert (err.tool, err.path) == ("takes_opaque", "$.parameters.properties.thing")
    with pytest.raises(ToolSchemaError):
        tool("not_a_function")  # type: ignore[call-overload]


_JSON_KEYS = st.sampled_from(
    [
        "name",
        "type",
        "function",
        "parameters",
        "properties",
        "items",
        "required",
        "input_schema",
        "inputSchema",
        "functionDeclarations",
        "tools",
        "description",
        "enum",
        "nullable",
        "anyOf",
        "x",
    ]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["object", "string", "OBJECT", "dict", "f", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_JSON_KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON)
def test_arbitrary_json_gives_tools_or_a_typed_error(source: Any) -> None:
    try:
        tools = Toolset.load(source) if isinstance(source, dict | list) else parse_tools([source])
    except ToolSchemaError:
        return
    for t in tools:
        assert t.parameters.get("type") == "object"
