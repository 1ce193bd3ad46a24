"""One walk per tree: the nodes of a parsed module (or subtree) indexed once, shared by rules.

Many rules and analyses ask the same trees similar questions ("every call", "every
assignment", "every function"). Walking a tree with `ast.walk` each time cost more than half
of a full scan. Here a tree is walked once, in exactly `ast.walk`'s order, and the node list,
the nodes of each requested type, the scope of each node and the parent map are kept:

- inside an `indexing()` block (a scan: `engine.scan` opens one), in a dictionary that the
  block drops when it ends; it holds the trees it indexes, so an id is never reused while
  the block lasts, and it leaves no reference cycle behind (freed by reference counting);
- outside one (analyses called directly, tests), on the tree's root itself (an attribute,
  `_yardstick_index`): freed with the tree, by the cyclic garbage collector.

Every function returns a shared, cached list: callers iterate it and must not mutate it.
Trees are never modified by the engine, so the cache needs no invalidation.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scanners.analysis.codescan import Scope

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_FUNCTION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
# Node classes that never hold a call below them (names, literals, contexts, operators).
_LEAVES = frozenset(
    {
        ast.Name, ast.Constant, ast.alias, ast.Pass, ast.Break, ast.Continue, ast.Global,
        ast.Nonlocal, ast.Load, ast.Store, ast.Del, *ast.operator.__subclasses__(),
        *ast.unaryop.__subclasses__(), *ast.cmpop.__subclasses__(), *ast.boolop.__subclasses__(),
    }
)  # fmt: skip
_AST = ast.AST


class _TreeIndex:
    """The cached facts of one tree."""

    __slots__ = ("by_class", "by_type", "derived", "nodes", "parents", "scoped")

    def __init__(self, nodes: list[ast.AST]) -> None:
        self.nodes = nodes
        self.by_class: dict[type, list[ast.AST]] | None = None
        self.by_type: dict[tuple[type[ast.AST], ...], list[ast.AST]] = {}
        self.scoped: list[tuple[ast.AST, Scope]] | None = None
        self.parents: dict[ast.AST, ast.AST] | None = None
        self.derived: dict[str, Any] = {}


# Not a WeakKeyDictionary: an index refers to its tree, so it would keep its key alive.
_ATTRIBUTE = "_yardstick_index"
_ACTIVE: ContextVar[dict[int, tuple[ast.AST, _TreeIndex]] | None] = ContextVar(
    "yardstick_node_indexes", default=None
)


@contextmanager
def indexing() -> Iterator[None]:
    """Keep the indexes made inside the block in a table that the block drops at its end."""
    token = _ACTIVE.set({})
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def _index(tree: ast.AST) -> _TreeIndex:
    active = _ACTIVE.get()
    if active is not None:
        entry = active.get(id(tree))
        if entry is None:
            entry = active[id(tree)] = (tree, getattr(tree, _ATTRIBUTE, None) or _new(tree))
        return entry[1]
    index: _TreeIndex | None = getattr(tree, _ATTRIBUTE, None)
    if index is None:
        index = _new(tree)
        setattr(tree, _ATTRIBUTE, index)
    return index


def _new(tree: ast.AST) -> _TreeIndex:
    return _TreeIndex(_bfs(tree))


def _select(index: _TreeIndex, kinds: tuple[type[ast.AST], ...]) -> list[ast.AST]:
    """The nodes that are instances of `kinds`, in walk order, computed once per `kinds`."""
    found = index.by_type.get(kinds)
    if found is not None:
        return found
    if index.by_class is None:
        index.by_class = defaultdict(list)
        for node in index.nodes:
            index.by_class[node.__class__].append(node)
    # Plain classes (not the deprecated `ast.Str` kind with its own isinstance hook): when
    # a single class present in the tree matches, its group is the answer, already in order.
    plain = all(type(kind) is type for kind in kinds)
    matching = [c for c in index.by_class if issubclass(c, kinds)] if plain else []
    if plain and len(matching) <= 1:
        found = index.by_class[matching[0]] if matching else []
    elif plain:  # several classes: one pass, a set lookup per node instead of isinstance
        classes = frozenset(matching)
        found = [n for n in index.nodes if n.__class__ in classes]
    else:
        found = [n for n in index.nodes if isinstance(n, kinds)]
    index.by_type[kinds] = found
    return found


def _bfs(tree: ast.AST) -> list[ast.AST]:
    """Every node below `tree` (itself included) in `ast.walk` order (breadth first)."""
    out: list[ast.AST] = [tree]
    append, extend = out.append, out.extend
    specs = _SPECS
    for node in out:  # the list grows while it is iterated: a queue without pops
        spec = specs.get(node.__class__)
        if spec is None:
            spec = _spec(node.__class__)
        for name, kind in spec:
            value = getattr(node, name, None)
            if value is None:
                continue
            if kind is _LIST:
                extend(filter(None, value))  # a node is always true; None is not
            elif kind is _NODE:
                append(value)
            elif isinstance(value, list):
                extend([item for item in value if isinstance(item, _AST)])
            elif isinstance(value, _AST):
                append(value)
    return out


def iter_walk(tree: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk(tree)` for callers that stop early: lazily, without its per-node generators.

    A tree already indexed is read from its index; otherwise nodes are produced as `_bfs`
    finds them, so a search that stops at the first match (an `assert` near the top of a
    function) reads no further. Nothing is cached. Its queue repeats `_bfs`'s on purpose:
    `_bfs` is the scan's hottest loop (every tree), and a generator or a helper call per node
    there would cost it about a tenth.
    """
    active = _ACTIVE.get()
    entry = active.get(id(tree)) if active is not None else None
    index: _TreeIndex | None = entry[1] if entry else getattr(tree, _ATTRIBUTE, None)
    if index is not None:
        yield from index.nodes
        return
    out: list[ast.AST] = [tree]
    append, extend = out.append, out.extend
    specs = _SPECS
    for node in out:  # the queue of `_bfs`, grown after each node is handed out
        yield node
        spec = specs.get(node.__class__)
        if spec is None:
            spec = _spec(node.__class__)
        for name, kind in spec:
            value = getattr(node, name, None)
            if value is None:
                continue
            if kind is _LIST:
                extend(filter(None, value))
            elif kind is _NODE:
                append(value)
            elif isinstance(value, list):
                extend([item for item in value if isinstance(item, _AST)])
            elif isinstance(value, _AST):
                append(value)


def _children(node: ast.AST) -> list[ast.AST]:
    """`list(ast.iter_child_nodes(node))`, without its generators."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            out.extend([item for item in value if isinstance(item, _AST)])
        elif isinstance(value, _AST):
            out.append(value)
    return out


# How to read each node class's fields, in `_fields` order, from its `_field_types`: a list
# of nodes (`_LIST`; it may hold None, as a dict's `**x` key, which is skipped as
# `ast.iter_child_nodes` skips it), one node or None (`_NODE`), or anything (`_ANY`, checked
# value by value: a class without field types). Fields of strings and numbers (`id`, `name`,
# `level`, a constant's `value`) are left out: they never hold a node.
_LIST, _NODE, _ANY = "list", "node", "any"
_SPECS: dict[type, tuple[tuple[str, str], ...]] = {}
_PLAIN = frozenset({str, int, object, str | None, int | None, list[str]})


def _spec(cls: type) -> tuple[tuple[str, str], ...]:
    fields: tuple[str, ...] = getattr(cls, "_fields", ())
    types: dict[str, Any] = getattr(cls, "_field_types", {})
    if any(name not in types for name in fields):
        spec = tuple((name, _ANY) for name in fields)
    else:
        spec = tuple(
            (name, _LIST if getattr(types[name], "__origin__", None) is list else _NODE)
            for name in fields
            if types[name] not in _PLAIN
        )
    _SPECS[cls] = spec
    return spec


def _scoped(tree: ast.AST) -> list[tuple[ast.AST, Scope]]:
    """`list(codescan.iter_scoped_nodes(tree))` (the reference), computed without generators."""
    out: list[tuple[ast.AST, Scope]] = []
    append = out.append
    stack: list[tuple[ast.AST, Scope]] = [(tree, None)]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        append(item)
        node, scope = item
        if isinstance(node, _FUNCTION_TYPES):
            for statement in reversed(node.body):
                push((statement, node))
            if node.returns is not None:
                push((node.returns, scope))
            push((node.args, scope))
            for decorator in reversed(node.decorator_list):
                push((decorator, scope))
        elif isinstance(node, ast.Lambda):
            push((node.body, node))
            push((node.args, scope))
        else:
            for child in reversed(_children(node)):
                push((child, scope))
    return out


def walk(tree: ast.AST) -> Sequence[ast.AST]:
    """`list(ast.walk(tree))`, computed once per tree."""
    return _index(tree).nodes


def of_type[N: ast.AST](tree: ast.AST, kind: type[N]) -> Sequence[N]:
    """The nodes below `tree` that are instances of `kind`, in `ast.walk` order."""
    return _select(_index(tree), (kind,))  # type: ignore[return-value]  # instances of kind


def of_types(tree: ast.AST, *kinds: type[ast.AST]) -> Sequence[ast.AST]:
    """The nodes below `tree` that are instances of any of `kinds`, in `ast.walk` order."""
    return _select(_index(tree), kinds)


def functions(tree: ast.AST) -> Sequence[FunctionNode]:
    """Every `def` and `async def` below `tree`, in `ast.walk` order."""
    return of_types(tree, ast.FunctionDef, ast.AsyncFunctionDef)  # type: ignore[return-value]


def memo[T](tree: ast.AST, key: str, compute: Callable[[ast.AST], T]) -> T:
    """`compute(tree)`, computed once per tree and `key` (a shared value: do not mutate)."""
    derived = _index(tree).derived
    if key not in derived:
        derived[key] = compute(tree)
    return derived[key]  # type: ignore[no-any-return]


def scoped_calls(tree: ast.AST) -> Sequence[tuple[ast.Call, Scope]]:
    """The calls of `scoped(tree)` with their scopes, in the same order, computed once."""
    return memo(tree, "scoped_calls", _scoped_calls)


def _scoped_calls(tree: ast.AST) -> list[tuple[ast.Call, Scope]]:
    """`_scoped` restricted to calls: subtrees that cannot hold a call are not entered."""
    out: list[tuple[ast.Call, Scope]] = []
    append = out.append
    stack: list[tuple[ast.AST, Scope]] = [(tree, None)]
    pop, push = stack.pop, stack.append
    leaves = _LEAVES
    while stack:
        node, scope = pop()
        if isinstance(node, ast.Call):
            append((node, scope))
        if isinstance(node, _FUNCTION_TYPES):
            for statement in reversed(node.body):
                push((statement, node))
            if node.returns is not None:
                push((node.returns, scope))
            push((node.args, scope))
            for decorator in reversed(node.decorator_list):
                push((decorator, scope))
        elif isinstance(node, ast.Lambda):
            push((node.body, node))
            push((node.args, scope))
        else:
            for child in reversed(_children(node)):
                if child.__class__ not in leaves:
                    push((child, scope))
    return out


def scoped(tree: ast.AST) -> Sequence[tuple[ast.AST, Scope]]:
    """`list(codescan.iter_scoped_nodes(tree))`, computed once per tree (shared: do not mutate)."""
    index = _index(tree)
    if index.scoped is None:
        index.scoped = _scoped(tree)
    return index.scoped


def parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    """Child -> parent map of a tree, computed once per tree (do not mutate)."""
    index = _index(tree)
    if index.parents is None:
        index.parents = {child: node for node in index.nodes for child in _children(node)}
    return index.parents
