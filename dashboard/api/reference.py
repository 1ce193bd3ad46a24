"""The API reference (`/api/`): the API's own OpenAPI document read into small dataclasses.

The page is rendered on the server from these, so it needs no script and no CDN, and it can
never drift from the API: every operation of the schema is on it, as the schema describes it.
`build` is pure (a schema in, a `Reference` out); `reference()` is the API's, built once per
process from `dashboard.api.app.openapi_schema`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from dashboard.api.app import openapi_schema

__all__ = [
    "Body",
    "Operation",
    "Parameter",
    "Reference",
    "Response",
    "SecurityScheme",
    "Tag",
    "build",
    "reference",
    "type_of",
]

METHODS = ("get", "post", "put", "patch", "delete")  # in the order an operation list reads
UNTAGGED = "other"


@dataclass(frozen=True)
class Parameter:
    """One parameter of an operation: where it goes, whether it is needed, what it takes."""

    name: str
    location: str  # path, query, header or cookie
    required: bool
    type: str
    default: str
    limits: str
    description: str


@dataclass(frozen=True)
class Body:
    """An operation's request body: its media type and the schema (or type) it holds."""

    content_type: str
    schema: str
    required: bool
    description: str


@dataclass(frozen=True)
class Response:
    """One documented answer of an operation."""

    status: str
    description: str
    schema: str


@dataclass(frozen=True)
class Operation:
    """One method of one path."""

    method: str  # upper case
    path: str
    anchor: str  # the operation id, an HTML id for links to it
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    body: Body | None
    responses: tuple[Response, ...]


@dataclass(frozen=True)
class Tag:
    """Operations grouped under one tag, in the schema's order."""

    name: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class SecurityScheme:
    """A way to authenticate the schema declares."""

    name: str
    kind: str  # "HTTP bearer", "cookie sessionid"…


@dataclass(frozen=True)
class Reference:
    """The whole API as the page shows it."""

    title: str
    version: str
    description: str
    tags: tuple[Tag, ...]
    security: tuple[SecurityScheme, ...]

    @property
    def operations(self) -> tuple[Operation, ...]:
        """Every operation, tag by tag."""
        return tuple(operation for tag in self.tags for operation in tag.operations)


@cache
def reference() -> Reference:
    """The Yardstick API's reference, built once per process (the schema depends on the code
    alone)."""
    return build(openapi_schema())


def build(schema: Mapping[str, Any]) -> Reference:
    """A `Reference` from an OpenAPI 3 document; operations are grouped by their first tag
    (`other` for untagged ones), tags in the order they first appear."""
    components = schema.get("components", {}).get("schemas", {})
    grouped: dict[str, list[Operation]] = {}
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                tags = operation.get("tags") or [UNTAGGED]
                grouped.setdefault(tags[0], []).append(
                    _operation(method, path, operation, components)
                )
    info = schema.get("info", {})
    schemes = schema.get("components", {}).get("securitySchemes", {})
    return Reference(
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        description=str(info.get("description", "")),
        tags=tuple(Tag(name, tuple(operations)) for name, operations in grouped.items()),
        security=tuple(SecurityScheme(name, _scheme(s)) for name, s in schemes.items()),
    )


def _operation(
    method: str, path: str, operation: Mapping[str, Any], components: Mapping[str, Any]
) -> Operation:
    return Operation(
        method=method.upper(),
        path=path,
        anchor=str(operation.get("operationId") or f"{method}-{path}"),
        summary=str(operation.get("summary", "")),
        description=str(operation.get("description", "")),
        parameters=tuple(_parameter(p, components) for p in operation.get("parameters", ())),
        body=_body(operation.get("requestBody"), components),
        responses=tuple(
            Response(
                str(status),
                str(answer.get("description", "")),
                _content_schema(answer, components),
            )
            for status, answer in sorted(operation.get("responses", {}).items(), key=_status)
        ),
    )


def _status(item: tuple[Any, Any]) -> str:
    return str(item[0])


def _parameter(parameter: Mapping[str, Any], components: Mapping[str, Any]) -> Parameter:
    schema = parameter.get("schema", {})
    return Parameter(
        name=str(parameter.get("name", "")),
        location=str(parameter.get("in", "")),
        required=bool(parameter.get("required", False)),
        type=type_of(schema, components),
        default=_default(schema.get("default")),
        limits=_limits(schema),
        description=str(parameter.get("description") or schema.get("description") or ""),
    )


def _default(value: object) -> str:
    """As a caller writes it in a query: `true`, `20`; "" for none (or an empty string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _body(body: Mapping[str, Any] | None, components: Mapping[str, Any]) -> Body | None:
    if not body:
        return None
    content = body.get("content", {})
    content_type = next(iter(content), "")
    return Body(
        content_type=content_type,
        schema=type_of(content.get(content_type, {}).get("schema", {}), components),
        required=bool(body.get("required", False)),
        description=str(body.get("description", "")),
    )


def _content_schema(answer: Mapping[str, Any], components: Mapping[str, Any]) -> str:
    content = answer.get("content", {})
    if not content:
        return ""
    return type_of(next(iter(content.values())).get("schema", {}), components)


def type_of(schema: Mapping[str, Any], components: Mapping[str, Any] | None = None) -> str:
    """A schema as one short phrase: `TeamOut`, `integer`, `string (date-time)`, `array of
    RuleOut`, `boolean or null`, `one of: a, b`. A reference to an enum among `components`
    (the document's `components.schemas`) shows its values: `Status (one of: queued, …)`."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        target = (components or {}).get(name, {})
        return f"{name} ({_enum(target)})" if "enum" in target else name
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(type_of(option, components) for option in schema[key])
    if "enum" in schema:
        return _enum(schema)
    kind = schema.get("type", "any")
    if isinstance(kind, Sequence) and not isinstance(kind, str):
        return " or ".join(str(k) for k in kind)
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}), components)}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _enum(schema: Mapping[str, Any]) -> str:
    return "one of: " + ", ".join(str(value) for value in schema["enum"])


def _limits(schema: Mapping[str, Any]) -> str:
    """`1 to 100`, `at least 1`, `at most 120 characters`; "" without limits."""
    return ", ".join(
        text
        for text in (
            _range(schema.get("minimum"), schema.get("maximum"), ""),
            _range(schema.get("minLength"), schema.get("maxLength"), " characters"),
        )
        if text
    )


def _range(low: object, high: object, unit: str) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}{unit}"
    if low is not None:
        return f"at least {low}{unit}"
    if high is not None:
        return f"at most {high}{unit}"
    return ""


def _scheme(scheme: Mapping[str, Any]) -> str:
    if scheme.get("type") == "http":
        return f"HTTP {scheme.get('scheme', '')}".strip()
    if scheme.get("type") == "apiKey":
        return f"{scheme.get('in', '')} {scheme.get('name', '')}".strip()
    return str(scheme.get("type", ""))
