"""Pydantic model classes as tools: the model's fields are the tool's parameters.

`model_json_schema()` is cleaned for prompts and for Gemini: `$defs` inlined (no `$ref` left
unless the model is recursive), titles dropped, `anyOf [X, null]` written as a type list.
The name is the model's JSON Schema title (the class name unless `model_config` sets a
`title`); the description is the docstring's first paragraph, and its attributes or parameters
section (in any style adapters/docstrings.py reads) describes fields that have no
`Field(description=...)`. Calling the tool validates the arguments into a model instance.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel
from pydantic.errors import PydanticUserError

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool

from ._schema import normalize_parameters
from .docstrings import parse_docstring


def is_pydantic_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def from_pydantic(model: type[BaseModel], *, name: str | None = None, description: str | None = None) -> Tool:
    """A `Tool` whose parameters are `model`'s fields."""
    if not is_pydantic_model(model):
        raise ToolSchemaError(f"expected a pydantic BaseModel subclass, got {model!r}")
    try:
        raw = model.model_json_schema()
    except (PydanticUserError, TypeError, ValueError) as exc:
        raise ToolSchemaError(f"cannot build a JSON Schema: {exc}", tool=name or model.__name__) from None
    tool_name = name or str(raw.get("title") or model.__name__)
    doc_description, field_docs = parse_docstring(inspect.getdoc(model) if model.__doc__ else None)
    raw.pop("description", None)  # pydantic copies the whole docstring here; the tool gets one paragraph
    params = normalize_parameters(raw, tool=tool_name, path="$.parameters", dialect="pydantic")
    for fname, schema in params.get("properties", {}).items():
        if isinstance(schema, dict) and field_docs.get(fname) and "description" not in schema:
            schema["description"] = field_docs[fname]
    return Tool(
        name=tool_name,
        description=description if description is not None else doc_description,
        parameters=params,
        fn=model,
    )
