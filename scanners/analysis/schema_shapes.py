"""What the schema rules read from handlers: body parameters, response models, ORM classes."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from scanners.analysis.astutil import dotted_name, qualified_name
from scanners.analysis.nodes import of_type

if TYPE_CHECKING:
    from scanners.analysis.pydantic_models import ModelClass
    from scanners.analysis.routes import Route
    from scanners.context import RepoContext

#: Dependency and parameter markers: a parameter carrying one is not a request body.
NON_BODY_MARKERS = frozenset(
    {"Depends", "Security", "Query", "Path", "Header", "Cookie", "Form", "File", "UploadFile"}
)
#: Return types that are responses in their own right (streams, files, redirects, HTML).
RAW_RESPONSES = frozenset(
    {
        "Response",
        "StreamingResponse",
        "FileResponse",
        "HTMLResponse",
        "PlainTextResponse",
        "RedirectResponse",
        "EventSourceResponse",
    }
)
_DICT_TYPES = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "Any", "object"})
_READ_SUFFIX = re.compile(r"(Response|Read|Public|Out|Detail|InDB|InDb|Schema)$")
_NO_CONTENT = frozenset({204, 304})


def last(node: ast.AST | None) -> str | None:
    """Last part of a dotted name, or None."""
    name = dotted_name(node) if node is not None else None
    return name.rsplit(".", 1)[-1] if name else None


def handler_params(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
) -> Iterator[tuple[ast.arg, ast.expr | None]]:
    """(parameter, default) pairs of a handler."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    yield from zip(positional, [*defaults, *args.defaults], strict=True)
    yield from zip(args.kwonlyargs, args.kw_defaults, strict=True)


def _markers(annotation: ast.expr | None, default: ast.expr | None) -> set[str]:
    found = set()
    for node in (annotation, default):
        if node is None:
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and (name := last(sub.func)):
                found.add(name)
    return found


def _strip_annotated(annotation: ast.expr | None) -> ast.expr | None:
    if (
        isinstance(annotation, ast.Subscript)
        and last(annotation.value) == "Annotated"
        and isinstance(annotation.slice, ast.Tuple)
    ):
        return annotation.slice.elts[0]
    return annotation


def body_models(ctx: RepoContext, route: Route) -> list[ModelClass]:
    """Pydantic models a handler takes as its request body."""
    if route.node is None:
        return []
    out = []
    for arg, default in handler_params(route.node):
        if _markers(arg.annotation, default) & NON_BODY_MARKERS:
            continue
        model = ctx.pydantic_models.resolve(
            _strip_annotated(arg.annotation), route.path_rel, ctx.import_graph
        )
        if model is not None:
            out.append(model)
    return out


def untyped_bodies(route: Route) -> Iterator[tuple[int, str]]:
    """(line, what) for `dict`/`Any` body parameters and `request.json()` calls."""
    if route.node is None:
        return
    requests: set[str] = set()
    for arg, default in handler_params(route.node):
        inner = _strip_annotated(arg.annotation)
        head = inner.value if isinstance(inner, ast.Subscript) else inner
        if last(head) == "Request":
            requests.add(arg.arg)
        elif last(head) in _DICT_TYPES and not _markers(arg.annotation, default) & NON_BODY_MARKERS:
            yield arg.lineno, f"parameter `{arg.arg}` takes the body as {last(head)}"
    for node in of_type(route.node, ast.Call):
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "json"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in requests
        ):
            yield node.lineno, f"`{node.func.value.id}.json()` reads an unvalidated body"


def declares_response(ctx: RepoContext, route: Route) -> bool:
    """`response_model=`, a Pydantic return annotation, or a response with no JSON body."""
    kwargs = route.decorator_kwargs
    model = route.response_model
    if model is not None and not (isinstance(model, ast.Constant) and model.value is None):
        return True
    if route.status_code in _NO_CONTENT or "response_class" in kwargs:
        return True
    returns = route.node.returns if route.node is not None else None
    if returns is None:
        return False
    if isinstance(returns, ast.Constant) and returns.value is None:
        return True
    return _names_model_or_raw(ctx, returns, route.path_rel)


def _names_model_or_raw(ctx: RepoContext, returns: ast.expr, path: str) -> bool:
    head = returns.value if isinstance(returns, ast.Subscript) else returns
    if last(head) in RAW_RESPONSES:
        return True
    if ctx.pydantic_models.resolve(returns, path, ctx.import_graph) is not None:
        return True
    if isinstance(returns, ast.Subscript) and last(head) in {"list", "List", "Sequence"}:
        inner = returns.slice
        return ctx.pydantic_models.resolve(inner, path, ctx.import_graph) is not None
    return False


def response_models(ctx: RepoContext, route: Route) -> set[tuple[str, str]]:
    """Keys of every model named in the route's response model or return annotation."""
    out: set[tuple[str, str]] = set()
    for expr in (route.response_model, route.node.returns if route.node else None):
        if expr is None:
            continue
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Name | ast.Attribute):
                model = ctx.pydantic_models.resolve(sub, route.path_rel, ctx.import_graph)
                if model is not None:
                    out.add(model.key)
    return out


def orm_class_names(ctx: RepoContext) -> set[str]:
    """Names of the classes of the models layer, base and mixin classes excepted."""
    out = set()
    for mod in ctx.layer_files("models"):
        if mod.tree is None:
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for stmt in mod.tree.body:
            if isinstance(stmt, ast.ClassDef) and stmt.bases:
                bases = {qualified_name(b, aliases) or "" for b in stmt.bases}
                if any(b.startswith("pydantic") for b in bases):
                    continue
                if not stmt.name.endswith(("Mixin", "Base")) and stmt.name != "Base":
                    out.add(stmt.name)
    return out


def read_stem(name: str) -> str | None:
    """`User` of `UserResponse`/`UserRead`/`UserPublic`, else None."""
    stem = _READ_SUFFIX.sub("", name)
    return stem if stem and stem != name else None
