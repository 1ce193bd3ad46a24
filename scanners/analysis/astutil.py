"""Small AST helpers shared by the code rules: statements, names, calls, functions, literals.

Names are resolved through a module's import aliases (see `ImportGraph.aliases`): with
`import sqlalchemy as sa`, `sa.select(...)` is `sqlalchemy.select`; with
`from sqlalchemy import select as s`, `s(...)` is `sqlalchemy.select` too. A name that no
import binds stays as written (`session.execute`), so rules can still match local objects.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from scanners.analysis.nodes import memo, of_type, of_types

# Statement fields that hold nested statement lists.
_BODY_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")


def iter_statements(tree: ast.AST) -> Iterator[ast.stmt]:
    """Every statement below `tree` in source order, without descending into expressions."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            yield node
        # Except handlers and match cases are not statements but hold statements.
        stack.extend(reversed(list(_child_statements(node))))


def dotted_name(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of attributes on a name; None for anything else (calls, subscripts)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def qualified_name(node: ast.AST, aliases: Mapping[str, str]) -> str | None:
    """`dotted_name` with its first part replaced by what the module's imports bind it to."""
    dotted = dotted_name(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    target = aliases.get(head)
    if target is None:
        return dotted
    return f"{target}.{rest}" if rest else target


def call_name(call: ast.Call, aliases: Mapping[str, str]) -> str | None:
    """Qualified name of what a call calls (`sqlalchemy.select`), None for computed callees."""
    return qualified_name(call.func, aliases)


def iter_calls(tree: ast.AST) -> Sequence[ast.Call]:
    """Every call expression below `tree`, in `ast.walk` order (cached: do not mutate)."""
    return of_type(tree, ast.Call)


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument `name` of a call, if given."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    """An argument given by position or keyword (`path` of `router.get("/x")`)."""
    if len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    return keyword(call, name)


def const_str(node: ast.AST | None) -> str | None:
    """The value of a string literal (implicit concatenation included), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def status_code_value(node: ast.AST | None) -> int | None:
    """An HTTP status from `201`, `status.HTTP_201_CREATED` or `HTTPStatus.CREATED`."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    name = node.attr if isinstance(node, ast.Attribute) else None
    if isinstance(node, ast.Name):
        name = node.id
    if name is None:
        return None
    if name.startswith("HTTP_") and name[5:8].isdigit():
        return int(name[5:8])
    member = HTTPStatus.__members__.get(name)
    return int(member) if member is not None else None


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A function definition with where it sits."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    qualname: str  # `Class.method`, `outer.<locals>.inner`
    class_name: str | None  # the enclosing class of a method
    nested: bool  # defined inside another function

    @property
    def name(self) -> str:
        """The function's own name."""
        return self.node.name

    @property
    def is_async(self) -> bool:
        """Whether it is `async def`."""
        return isinstance(self.node, ast.AsyncFunctionDef)

    @property
    def decorators(self) -> list[ast.expr]:
        """Decorator expressions, outermost first."""
        return list(self.node.decorator_list)

    @property
    def line(self) -> int:
        """Line of the `def` (decorators excluded)."""
        return self.node.lineno

    @property
    def length(self) -> int:
        """Lines from the `def` to the last line of its body."""
        return (self.node.end_lineno or self.node.lineno) - self.node.lineno + 1


def iter_functions(tree: ast.AST) -> Sequence[FunctionInfo]:
    """Every function and method below `tree`, with qualified names, outer ones first.

    Computed once per tree: a shared list, do not mutate.
    """
    return memo(tree, "functions", _functions)


def _functions(tree: ast.AST) -> list[FunctionInfo]:
    return list(_iter_functions(tree))


def _iter_functions(tree: ast.AST) -> Iterator[FunctionInfo]:
    stack: list[tuple[ast.AST, str, str | None, bool]] = [(tree, "", None, False)]
    while stack:
        node, prefix, class_name, nested = stack.pop()
        pending: list[tuple[ast.AST, str, str | None, bool]] = []
        for child in _child_statements(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                qualname = f"{prefix}{child.name}"
                yield FunctionInfo(child, qualname, class_name, nested)
                pending.append((child, f"{qualname}.<locals>.", None, True))
            elif isinstance(child, ast.ClassDef):
                pending.append((child, f"{prefix}{child.name}.", child.name, nested))
            else:
                pending.append((child, prefix, class_name, nested))
        stack.extend(reversed(pending))


def _child_statements(node: ast.AST) -> Iterator[ast.AST]:
    for name in _BODY_FIELDS:
        value = getattr(node, name, None)
        if isinstance(value, list):
            yield from value


def module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level `NAME = value` / `NAME: T = value` assignments (the last one wins)."""
    out: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and stmt.value is not None:
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.value is not None
        ):
            out[stmt.target.id] = stmt.value
    return out


# ----- import statements ----------------------------------------------------------------
@dataclass(slots=True)
class ImportStatement:
    """One `import`/`from ... import` statement and the blocks around it."""

    line: int
    module: str | None  # the `from X` part
    level: int
    names: list[tuple[str, str | None]]  # (name, asname)
    is_from: bool
    tc_only: bool
    conditional: bool
    in_function: bool


def import_statements(tree: ast.Module) -> list[ImportStatement]:
    """Every import statement, with `if TYPE_CHECKING:`/conditional/function context."""
    everywhere = of_types(tree, ast.Import, ast.ImportFrom)
    top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    if len(top) == len(everywhere):  # none nested (most modules): no walk through the blocks
        return [
            _statement(node, tc_only=False, conditional=False, in_function=False) for node in top
        ]
    out: list[ImportStatement] = []
    _walk_imports(tree.body, out, tc_only=False, conditional=False, in_function=False)
    return out


def _statement(
    node: ast.Import | ast.ImportFrom, *, tc_only: bool, conditional: bool, in_function: bool
) -> ImportStatement:
    names = [(a.name, a.asname) for a in node.names]
    if isinstance(node, ast.Import):
        return ImportStatement(
            node.lineno, None, 0, names, False, tc_only, conditional, in_function
        )
    return ImportStatement(
        node.lineno, node.module, node.level or 0, names, True, tc_only, conditional, in_function
    )


def _walk_imports(
    body: Iterable[ast.AST],
    out: list[ImportStatement],
    *,
    tc_only: bool,
    conditional: bool,
    in_function: bool,
) -> None:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(
                _statement(node, tc_only=tc_only, conditional=conditional, in_function=in_function)
            )
        elif isinstance(node, ast.If):
            guard = _type_checking_guard(node.test)
            _walk_imports(
                node.body,
                out,
                tc_only=tc_only or guard is True,
                conditional=True,
                in_function=in_function,
            )
            _walk_imports(
                node.orelse,
                out,
                tc_only=tc_only or guard is False,
                conditional=True,
                in_function=in_function,
            )
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _walk_imports(node.body, out, tc_only=tc_only, conditional=True, in_function=True)
        elif isinstance(node, ast.ClassDef):
            _walk_imports(
                node.body, out, tc_only=tc_only, conditional=conditional, in_function=in_function
            )
        else:
            for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                value = getattr(node, name, None)
                if isinstance(value, list):
                    _walk_imports(
                        value, out, tc_only=tc_only, conditional=True, in_function=in_function
                    )


def _type_checking_guard(test: ast.expr) -> bool | None:
    """True when the `if` body runs only for type checkers, False when its `else` does."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _type_checking_guard(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return True if any(_type_checking_guard(v) is True for v in test.values) else None
    if isinstance(test, ast.Constant) and test.value is False:
        return True
    name = dotted_name(test)
    if name is not None and name.rsplit(".", 1)[-1] == "TYPE_CHECKING":
        return True
    return None
