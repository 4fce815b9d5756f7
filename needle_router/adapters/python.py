"""Python callables as tools, and the `@tool` decorator.

The schema of each parameter comes from its type hint through pydantic's `TypeAdapter`, so
`list[X]`, `dict[str, X]`, `X | None`, `Literal`, `Enum` and `Annotated` constraints
(annotated_types `Ge`/`Le`/`Gt`/`Lt`/`MinLen`/`MaxLen`, pydantic `Field(ge=..., pattern=...)`)
mean exactly what pydantic says they mean. The result is then cleaned: `$defs` inlined,
titles dropped, `anyOf [X, null]` written as a type list.

A parameter with a default is optional and its default is recorded; one without is
required, even if its hint admits None (the function cannot be called without it).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, overload

from pydantic import TypeAdapter
from pydantic.errors import PydanticUserError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError, PydanticUndefined

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool

from ._schema import inline_refs, normalize_parameters
from .docstrings import parse_docstring
from .pydantic_models import from_pydantic, is_pydantic_model


def from_function(fn: Callable[..., Any], *, name: str | None = None, description: str | None = None) -> Tool:
    """A `Tool` for `fn`: name from `__name__`, description and parameter descriptions from
    its docstring (Google, NumPy, reST or Epydoc style), parameter schemas from its type hints.
    `fn` is kept in `.fn`."""
    if isinstance(fn, Tool):
        return fn
    if is_pydantic_model(fn):
        return from_pydantic(fn, name=name, description=description)
    if isinstance(fn, type) or not callable(fn):
        raise ToolSchemaError(f"expected a function, got {fn!r}")
    target = fn.func if isinstance(fn, functools.partial) else fn
    # Hints and docstring of a callable object live on its __call__ method.
    hinted = target if inspect.isroutine(target) or isinstance(target, type) else type(target).__call__
    tool_name = name or getattr(target, "__name__", None)
    if not tool_name or tool_name == "<lambda>":
        raise ToolSchemaError("a lambda or nameless callable needs an explicit name (tool(fn, name=...))")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ToolSchemaError(f"cannot read the signature: {exc}", tool=tool_name) from None
    try:
        hints = typing.get_type_hints(hinted, include_extras=True)
    except Exception as exc:  # unresolved forward references surface as NameError and others
        raise ToolSchemaError(f"cannot resolve type hints: {exc}", tool=tool_name) from None
    doc_description, arg_docs = parse_docstring(inspect.getdoc(hinted))
    properties: dict[str, Any] = {}
    required: list[str] = []
    for pname, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue  # *args/**kwargs have no names a model could fill
        path = f"$.parameters.properties.{pname}"
        if param.kind is param.POSITIONAL_ONLY:
            raise ToolSchemaError("positional-only parameters cannot be passed by name", tool=tool_name, path=path)
        annotation = hints.get(pname, Any)
        default = param.default
        if isinstance(default, FieldInfo):
            # `x: int = Field(5, ge=1)`: the constraints ride along as Annotated metadata.
            annotation = Annotated[annotation, default]
            default = default.default if default.default is not PydanticUndefined else param.empty
        schema = _hint_schema(annotation, tool_name, path)
        if arg_docs.get(pname) and "description" not in schema:
            schema["description"] = arg_docs[pname]
        if default is param.empty:
            required.append(pname)
        else:
            recorded = _json_default(annotation, default)
            if recorded is not _UNSET:
                schema["default"] = recorded
        properties[pname] = schema
    params: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        params["required"] = required
    params = normalize_parameters(params, tool=tool_name, path="$.parameters", dialect="pydantic")
    return Tool(
        name=tool_name,
        description=description if description is not None else doc_description,
        parameters=params,
        fn=fn,
    )


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def tool(*, name: str | None = None, description: str | None = None) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None, /, *, name: str | None = None, description: str | None = None
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Decorator: `@tool` or `@tool(name=..., description=...)` turns a function into a `Tool`
    that is still callable with keyword arguments (`get_weather(city="Paris")`)."""

    def wrap(target: Callable[..., Any]) -> Tool:
        built = from_function(target, name=name, description=description)
        functools.update_wrapper(built, target, updated=())  # keeps __doc__, __wrapped__, ...
        return built

    if fn is None:
        return wrap
    if isinstance(fn, str):
        raise ToolSchemaError("use @tool(name=...) to name a tool; @tool takes no positional name")
    return wrap(fn)


_UNSET = object()


def _hint_schema(annotation: Any, tool: str, path: str) -> dict[str, Any]:
    try:
        raw = TypeAdapter(annotation).json_schema()
    except (PydanticUserError, TypeError, ValueError) as exc:
        raise ToolSchemaError(f"unsupported type hint {annotation!r}: {exc}", tool=tool, path=path) from None
    inlined = inline_refs(raw)
    if "$defs" in inlined:
        raise ToolSchemaError(f"recursive type hint {annotation!r} is not supported", tool=tool, path=path)
    return inlined


def _json_default(annotation: Any, default: Any) -> Any:
    """The default as JSON (Enum members become their values); _UNSET if it has no JSON form."""
    try:
        return TypeAdapter(annotation).dump_python(default, mode="json")
    except (PydanticSerializationError, PydanticUserError, TypeError, ValueError):
        return _UNSET
