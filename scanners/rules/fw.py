"""FW: FastAPI is the framework, served by Uvicorn, with docs enabled only where settings say."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from scanners.analysis.fastapi_app import AppCall, app_calls
from scanners.analysis.nodes import of_types
from scanners.analysis.project import (
    manifest_problem,
    not_runtime_evidence,
    requirement_evidence,
    runtime,
)
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext

UVICORN_EXTRAS = frozenset({"standard", "all", "standard-no-fastapi-cloud-cli"})
OTHER_FRAMEWORKS = frozenset(
    {
        "flask",
        "django",
        "djangorestframework",
        "bottle",
        "tornado",
        "pyramid",
        "falcon",
        "sanic",
        "quart",
        "cherrypy",
        "litestar",
        "hug",
        "web2py",
        "masonite",
        "robyn",
    }
)
_SETTINGS_WORDS = re.compile(r"settings|config|conf|cfg|environ|getenv|env", re.IGNORECASE)


@register
class FastApiApp(Rule):
    """FastAPI is a runtime dependency and app code instantiates `FastAPI(...)`."""

    id = "FW-001"
    heuristic = (
        "The app is found by parsing app code for a call to FastAPI, also through "
        "`fastapi.FastAPI(...)` and aliased imports (`from fastapi import FastAPI as F`)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail when the dependency or the app is missing."""
        if (problem := manifest_problem(ctx)) is not None:
            return self.failed(problem.message, [problem])
        evidence = []
        if not runtime(ctx, "fastapi", "fastapi-slim"):
            message = "fastapi is not a runtime dependency"
            evidence.append(not_runtime_evidence(ctx, ("fastapi", "fastapi-slim"), message))
        calls = app_calls(ctx)
        if not calls:
            where = ctx.app_package_rel or ctx.path("src")
            evidence.append(Evidence(where, None, "no FastAPI(...) app in app code"))
            unparsed = [m for m in ctx.app_files if m.error][:5]
            evidence += [Evidence(m.path, m.error_line, f"not parsed: {m.error}") for m in unparsed]
        if evidence:
            return self.failed("; ".join(e.message for e in evidence[:2]), evidence)
        first = calls[0]
        return self.passed(f"FastAPI app in {first.module.path}:{first.call.lineno}")


@register
class UvicornServer(Rule):
    """Uvicorn is a runtime dependency (`uvicorn`, `uvicorn[standard]`, `fastapi[standard]`)."""

    id = "FW-002"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail pointing at the dependency list when no Uvicorn is declared."""
        if (problem := manifest_problem(ctx)) is not None:
            return self.failed(problem.message, [problem])
        if runtime(ctx, "uvicorn"):
            return self.passed("uvicorn is a runtime dependency")
        if any(req.extras & UVICORN_EXTRAS for req in runtime(ctx, "fastapi", "fastapi-slim")):
            return self.passed("fastapi[standard] brings uvicorn")
        message = "uvicorn is not a runtime dependency: add 'uvicorn[standard]'"
        return self.failed(message, [not_runtime_evidence(ctx, ("uvicorn",), message)])


def _assignments(tree: ast.Module) -> dict[str, ast.expr]:
    """Values assigned to plain names anywhere in the module (the last one wins)."""
    out: dict[str, ast.expr] = {}
    for node in of_types(tree, ast.Assign, ast.AnnAssign):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                out[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and node.value and isinstance(node.target, ast.Name):
            out[node.target.id] = node.value
    return out


def _mentions_settings(expr: ast.expr) -> bool:
    words = (
        n.id if isinstance(n, ast.Name) else n.attr
        for n in ast.walk(expr)
        if isinstance(n, ast.Name | ast.Attribute)
    )
    return any(_SETTINGS_WORDS.search(word) for word in words)


def value_kind(expr: ast.expr | None, names: dict[str, ast.expr], depth: int = 0) -> str:
    """`dynamic` (settings-dependent), `literal`, `none`, `missing` or `unknown`."""
    if expr is None:
        return "missing"
    if isinstance(expr, ast.Constant):
        return "none" if expr.value is None else "literal"
    if isinstance(expr, ast.IfExp):
        return "literal" if isinstance(expr.test, ast.Constant) else "dynamic"
    if isinstance(expr, ast.Name) and expr.id in names and depth < 5:
        return value_kind(names[expr.id], names, depth + 1)
    return "dynamic" if _mentions_settings(expr) else "unknown"


_VERDICTS = {
    "missing": "not set (FastAPI serves docs everywhere)",
    "literal": "a literal (same value in every environment)",
    "none": "None (docs disabled everywhere)",
    "unknown": "not visibly derived from settings",
}


def _judge(app: AppCall) -> list[tuple[str, Evidence]]:
    """(kind, evidence) for each of docs_url/redoc_url not derived from settings."""
    names = _assignments(app.module.tree) if app.module.tree else {}
    found = []
    spread = any(k.arg is None for k in app.call.keywords)
    for arg in ("docs_url", "redoc_url"):
        value = next((k.value for k in app.call.keywords if k.arg == arg), None)
        kind = value_kind(value, names)
        if kind == "missing" and spread:
            kind = "unknown"
        if kind != "dynamic":
            line = value.lineno if value is not None else app.call.lineno
            found.append((kind, Evidence(app.module.path, line, f"{arg} is {_VERDICTS[kind]}")))
    return found


@register
class ConditionalDocs(Rule):
    """`FastAPI(...)` sets docs_url and redoc_url from settings, not literals or defaults."""

    id = "FW-003"
    heuristic = (
        "Each FastAPI(...) call is judged. A value passes when it is a conditional expression "
        "or mentions settings/config/environment (settings.docs_url, get_settings().x, "
        "os.getenv(...)), following names assigned in the same module. Missing or literal "
        "strings fail; a None literal (docs disabled everywhere) or an unresolved value warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on missing or literal values, warn on None or unresolved ones."""
        calls = app_calls(ctx)
        if not calls:
            where = ctx.app_package_rel or ctx.path("src")
            return self.failed("no FastAPI(...) call", [Evidence(where, None, "no FastAPI app")])
        found = [f for app in calls for f in _judge(app)]
        evidence = [e for _, e in found]
        if any(kind in ("missing", "literal") for kind, _ in found):
            return self.failed("API docs are not switched by settings", evidence)
        if found:
            return self.warned("API docs are not visibly switched by settings", evidence)
        return self.passed("docs_url and redoc_url come from settings")


@register
class SingleFramework(Rule):
    """No second web framework (Flask, Django, aiohttp server, ...) among runtime dependencies."""

    id = "FW-004"
    heuristic = (
        "Flags flask, django(-restframework), bottle, tornado, pyramid, falcon, sanic, quart, "
        "cherrypy, litestar, hug, web2py, masonite and robyn; aiohttp only when app code "
        "imports its server (aiohttp.web), since aiohttp is mostly used as an HTTP client."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with the manifest line of each other framework."""
        if (problem := manifest_problem(ctx)) is not None:
            return self.failed(problem.message, [problem])
        others = [r for r in ctx.runtime_requirements if r.name in OTHER_FRAMEWORKS]
        if _aiohttp_server(ctx):
            others += runtime(ctx, "aiohttp")
        if others:
            names = ", ".join(sorted({r.name for r in others}))
            evidence = [
                requirement_evidence(ctx, r, f"{r.name}: a second web framework") for r in others
            ]
            return self.failed(f"other web frameworks: {names}", evidence)
        return self.passed("FastAPI is the only web framework")


def _aiohttp_server(ctx: RepoContext) -> bool:
    """Whether app code imports aiohttp's server (`aiohttp.web`)."""
    for module in ctx.app_files:
        if module.tree is None or not module.source or "aiohttp" not in module.source:
            continue
        for node in ast.walk(module.tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and (
                    node.module.startswith("aiohttp.web")
                    or (node.module == "aiohttp" and any(a.name == "web" for a in node.names))
                )
            ):
                return True
            if isinstance(node, ast.Import) and any(
                a.name.startswith("aiohttp.web") for a in node.names
            ):
                return True
    return False
