"""Alembic revision files and whether their `downgrade()` does anything."""

from __future__ import annotations

import ast
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from scanners.results import Evidence

if TYPE_CHECKING:
    from scanners.context import PyModule, RepoContext


def migration_files(ctx: RepoContext) -> list[PyModule]:
    """Python files in a `versions/` folder that define `revision` or `upgrade()`.

    Unparsable files in such a folder count when their text mentions a revision, so that
    a broken revision is reported rather than skipped.
    """
    out = []
    for mod in ctx.python_files:
        parts = PurePosixPath(mod.path).parts
        if "versions" not in parts[:-1] or mod.stem == "__init__":
            continue
        if mod.tree is None:
            if mod.source is not None and "revision" in mod.source:
                out.append(mod)
        elif _is_revision(mod.tree):
            out.append(mod)
    return out


def _is_revision(tree: ast.Module) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "upgrade":
            return True
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        if isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        if any(isinstance(t, ast.Name) and t.id == "revision" for t in targets):
            return True
    return False


def _effective(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that do something: no docstring, `pass` or `...`."""
    return [
        stmt
        for stmt in body
        if not isinstance(stmt, ast.Pass)
        and not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
    ]


def downgrade_problem(mod: PyModule) -> Evidence | None:
    """Why a revision cannot be downgraded (evidence at the `def`), or None when it can."""
    if mod.tree is None:
        return Evidence(mod.path, mod.error_line, f"not parsed: {mod.error}")
    func = next(
        (
            s
            for s in mod.tree.body
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name == "downgrade"
        ),
        None,
    )
    if func is None:
        return Evidence(mod.path, None, "revision has no downgrade()")
    body = _effective(func.body)
    if not body:
        return Evidence(mod.path, func.lineno, "downgrade() does nothing")
    if all(isinstance(stmt, ast.Raise) for stmt in body):
        return Evidence(mod.path, func.lineno, "downgrade() only raises: revision is irreversible")
    return None
