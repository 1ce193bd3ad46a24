"""Shapes the API design rules look for: list endpoints, pagination, plurals.

Probe and documentation routes are defined once in `scanners.analysis.routes`
(`is_operational`); `is_probe` is that definition under the name the LAY rules import.

Pagination parameters are read from the handler's signature (`per_page: int = Query(20,
le=100)`, `Annotated[int, Query(le=100)] = 20`, module-level `Annotated` aliases) and from a
dependency it takes (`Annotated[PageParams, Depends()]`, `params: PageParams = Depends()`,
`Depends(pagination)`), whose Pydantic fields or parameters are read the same way. Integer
bounds may be module constants, imported ones included.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanners.analysis.astutil import argument, dotted_name, keyword, module_constants
from scanners.analysis.pydantic_models import ModelClass, class_key
from scanners.analysis.routes import PROBE_SEGMENTS, is_operational

if TYPE_CHECKING:
    from scanners.analysis.routes import Route
    from scanners.context import RepoContext

PLURAL_EXEMPT = frozenset({"auth", "health", "metrics", "me"}) | PROBE_SEGMENTS
SIZE_NAMES = frozenset({"per_page", "page_size", "size", "limit", "perpage", "pagesize"})
POSITION_NAMES = frozenset({"page", "offset", "skip", "cursor", "page_number"})
UNCOUNTABLE = frozenset(
    {
        "data",
        "media",
        "info",
        "feedback",
        "news",
        "series",
        "species",
        "equipment",
        "software",
        "staff",
        "inventory",
        "analytics",
        "metadata",
        "search",
        "people",
        "children",
        "men",
        "women",
        "mice",
        "feet",
        "teeth",
        "criteria",
        "indices",
        "matrices",
        "vertices",
    }
)
_LIST_TYPES = frozenset({"list", "List", "Sequence", "Iterable", "tuple", "Tuple", "set", "Set"})
_ENVELOPE_NAME = re.compile(r"Page|Paginated|Paged")
_DEPTH = 4
is_probe = is_operational


def is_plural(segment: str) -> bool:
    """Whether a path segment's last word reads as a plural noun (generous: warn-level)."""
    word = re.split(r"[-_.]", segment)[-1]
    word = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", word).split()[-1].lower() if word else word
    if not word.isalpha() or word in UNCOUNTABLE:
        return True
    return word.endswith("s") and not word.endswith("ss")


def plural_of(word: str) -> str:
    """A naive English plural, for messages."""
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def response_expr(route: Route) -> ast.expr | None:
    """`response_model=` of the route, else the handler's return annotation."""
    if route.response_model is not None:
        return route.response_model
    return route.node.returns if route.node is not None else None


def is_list_type(node: ast.expr | None) -> bool:
    """`list[X]`, `Sequence[X]`, ... (also `Optional`-free bare `list`)."""
    if isinstance(node, ast.Subscript):
        node = node.value
    name = dotted_name(node) if node is not None else None
    return bool(name) and name.rsplit(".", 1)[-1] in _LIST_TYPES  # type: ignore[union-attr]


def is_list_endpoint(route: Route) -> bool:
    """A GET returning a list or a page of items, or a handler named `list_...`."""
    if route.method != "GET":
        return False
    expr = response_expr(route)
    head = expr.value if isinstance(expr, ast.Subscript) else expr
    name = (dotted_name(head) or "") if head is not None else ""
    return (
        is_list_type(expr)
        or bool(_ENVELOPE_NAME.search(name.rsplit(".", 1)[-1]))
        or route.func_name.startswith(("list_", "search_"))
        or route.func_name == "list"
    )


@dataclass(frozen=True, slots=True)
class PageSize:
    """The page-size parameter of a list endpoint."""

    name: str
    line: int
    default: int | None
    maximum: int | None


@dataclass(slots=True)
class Pagination:
    """What a list endpoint takes to paginate: a page size and/or a position."""

    size: PageSize | None = None
    position: str | None = None


class _Ints:
    """Integer values of expressions in one module, following (imported) constants."""

    def __init__(self, ctx: RepoContext) -> None:
        self.ctx = ctx

    def value(self, node: ast.AST | None, path: str, depth: int = 0) -> int | None:
        if node is None or depth > _DEPTH:
            return None
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name | ast.Attribute):
            found = self.constant(node, path)
            return self.value(found[0], found[1], depth + 1) if found else None
        return None

    def constant(self, node: ast.expr, path: str) -> tuple[ast.expr, str] | None:
        """The value assigned to a module-level name (local or imported) and its module."""
        if isinstance(node, ast.Name):
            mod = self.ctx.module(path)
            local = module_constants(mod.tree).get(node.id) if mod and mod.tree else None
            if local is not None:
                return local, path
        key = class_key(node, path, self.ctx.import_graph)
        if key is None or key[0] == path:
            return None
        mod = self.ctx.module(key[0])
        value = module_constants(mod.tree).get(key[1]) if mod and mod.tree else None
        return (value, key[0]) if value is not None else None


def pagination(ctx: RepoContext, route: Route) -> Pagination:
    """The pagination parameters of a route's handler (see the module docstring)."""
    out = Pagination()
    if route.node is None:
        return out
    _read_signature(ctx, route.node, route.path_rel, out, 0)
    return out


def _read_signature(
    ctx: RepoContext,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    path: str,
    out: Pagination,
    depth: int,
) -> None:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    pairs = list(zip(positional, [*defaults, *args.defaults], strict=True))
    pairs += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    for arg, default in pairs:
        _read_param(ctx, arg.arg, arg.annotation, default, path, arg.lineno, out, depth)


def _read_param(
    ctx: RepoContext,
    name: str,
    annotation: ast.expr | None,
    default: ast.expr | None,
    path: str,
    line: int,
    out: Pagination,
    depth: int,
) -> None:
    ints = _Ints(ctx)
    annotation = _follow_alias(ints, annotation, path)
    metadata = _annotated_metadata(annotation)
    calls = [c for c in [default, *metadata] if isinstance(c, ast.Call)]
    if name in SIZE_NAMES and out.size is None:
        out.size = _page_size(ints, name, line, default, calls, path)
    elif name in POSITION_NAMES:
        out.position = out.position or name
    elif depth < 2 and any(_last(c.func) in ("Depends", "Query") for c in calls):
        _read_dependency(ctx, annotation, calls, path, out, depth + 1)


def _page_size(
    ints: _Ints, name: str, line: int, default: ast.expr | None, calls: list[ast.Call], path: str
) -> PageSize:
    value = None if isinstance(default, ast.Call) else ints.value(default, path)
    maximum = None
    for call in calls:
        if _last(call.func) not in ("Query", "Field", "Param", "conint"):
            continue
        if value is None and call is default:
            value = ints.value(argument(call, 0, "default"), path)
        if (le := ints.value(keyword(call, "le"), path)) is not None:
            maximum = le
        elif (lt := ints.value(keyword(call, "lt"), path)) is not None:
            maximum = lt - 1
    return PageSize(name, line, value, maximum)


def _read_dependency(
    ctx: RepoContext,
    annotation: ast.expr | None,
    calls: list[ast.Call],
    path: str,
    out: Pagination,
    depth: int,
) -> None:
    """Pagination fields of a dependency class or function (`Depends()`, `Depends(f)`)."""
    metadata = _annotated_metadata(annotation)
    target: ast.expr | None = annotation
    if (
        metadata
        and isinstance(annotation, ast.Subscript)
        and isinstance(annotation.slice, ast.Tuple)
    ):
        target = annotation.slice.elts[0]
    for call in calls:
        if _last(call.func) == "Depends" and (given := argument(call, 0, "dependency")):
            target = given
    if target is None:
        return
    model = ctx.pydantic_models.resolve(target, path, ctx.import_graph)
    if model is not None:
        _read_model(ctx, model, out)
        return
    key = class_key(target, path, ctx.import_graph)
    mod = ctx.module(key[0]) if key else None
    if key is None or mod is None or mod.tree is None:
        return
    for stmt in mod.tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == key[1]:
            _read_signature(ctx, stmt, key[0], out, depth)


def _read_model(ctx: RepoContext, model: ModelClass, out: Pagination) -> None:
    for cls in model.lineage():
        for fld in cls.own_fields():
            _read_param(ctx, fld.name, fld.annotation, fld.value, cls.path, fld.line, out, 2)


def _follow_alias(ints: _Ints, annotation: ast.expr | None, path: str) -> ast.expr | None:
    if isinstance(annotation, ast.Name):
        found = ints.constant(annotation, path)
        if found is not None and isinstance(found[0], ast.Subscript):
            return found[0]
    return annotation


def _annotated_metadata(annotation: ast.expr | None) -> list[ast.expr]:
    if (
        isinstance(annotation, ast.Subscript)
        and _last(annotation.value) == "Annotated"
        and isinstance(annotation.slice, ast.Tuple)
    ):
        return list(annotation.slice.elts[1:])
    return []


def _last(node: ast.AST | None) -> str | None:
    name = dotted_name(node) if node is not None else None
    return name.rsplit(".", 1)[-1] if name else None
