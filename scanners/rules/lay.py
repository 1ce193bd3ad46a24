"""LAY: separation of concerns: routes -> services -> repositories, each layer in its place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners.analysis.api_shapes import is_probe
from scanners.analysis.layer_shapes import (
    generic_bases,
    handler_problems,
    repository_classes,
    service_module_problem,
    uses_service,
)
from scanners.analysis.layering import (
    DB_DRIVERS,
    EVIDENCE_CAP,
    STATEMENT_BUILDERS,
    db_call_evidence,
    edge_evidence,
    forbidden_edges,
    is_database_module,
    orm_calls,
    route_modules,
    session_calls,
)
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext

TC_NOTE = "Imports under `if TYPE_CHECKING:` are not runtime dependencies and are ignored."
LAYERS_NOTE = (
    "A module's layer comes from its name (service.py, *_service.py, repository.py, "
    "*_repository.py, *_repo.py, crud.py, crud_*.py, models.py, schemas.py; router.py, "
    "routes.py, views.py, api.py when they import FastAPI), else from the innermost layer "
    "folder above it (services/ or service/, repositories/, repository/, repos/ or crud/, "
    "models/ or model/, schemas/ or schema/, routes/, routers/, endpoints/), so "
    "package-by-feature layouts (<domain>/service.py) are judged like layer folders. "
)


def _edge_result(rule: Rule, evidence: list[Evidence], clean: str, what: str) -> RuleResult:
    if not evidence:
        return rule.passed(clean)
    files = len({e.path for e in evidence})
    return rule.failed(f"{len(evidence)} forbidden import(s) in {files} {what} file(s)", evidence)


@register
class RoutesImportNoDataLayer(Rule):
    """No route module imports repositories, models, the database module or a DB driver."""

    id = "LAY-001"
    heuristic = (
        "Route modules are the files of the routes layer and the files without a layer that "
        "define endpoints. Imports are resolved to files through the import graph. "
        + LAYERS_NOTE
        + TC_NOTE
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on each importing line."""
        modules = route_modules(ctx)
        if not modules:
            return self.not_applicable("no route modules found")
        graph = ctx.import_graph
        evidence: list[Evidence] = []
        for mod in modules:
            edges = forbidden_edges(ctx, mod.path, {"repositories", "models"})
            edges += [
                e
                for e in graph.edges_from(mod.path, runtime_only=True)
                if e.resolved_path is not None
                and e not in edges
                and graph.layer_of(e.resolved_path) not in ("routes", "services", "schemas")
                and is_database_module(ctx, e.resolved_path)
            ]
            edges += graph.imports_external(mod.path, DB_DRIVERS)
            edges.sort(key=lambda e: e.line)
            evidence += edge_evidence(edges, "routes must go through services")
        return _edge_result(self, evidence[:EVIDENCE_CAP], "routes import no data layer", "route")


@register
class NoDatabaseInRoutes(Rule):
    """Route modules run no database operation (session calls, sqlalchemy statements)."""

    id = "LAY-002"
    heuristic = (
        "sqlalchemy/sqlmodel select/insert/update/delete calls are matched through imports; "
        "session calls on a receiver annotated with a session type fail, on one only *named* "
        "like a session (`db`, `session`) warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on typed or qualified calls, warn on calls matched by name only."""
        modules = route_modules(ctx)
        if not modules:
            return self.not_applicable("no route modules found")
        calls = []
        for mod in modules:
            found = [*orm_calls(mod, ctx, STATEMENT_BUILDERS), *session_calls(mod)]
            calls += [(mod.path, c) for c in sorted(found, key=lambda c: c.line)]
        evidence = [e for path, c in calls for e in db_call_evidence([c], path, "a route module")]
        if not evidence:
            return self.passed("no database operations in route modules")
        message = (
            f"{len(evidence)} database operation(s) in route modules: move them to a repository"
        )
        if any(c.confident for _, c in calls):
            return self.failed(message, evidence[:EVIDENCE_CAP])
        return self.warned(message + " (receivers named like sessions)", evidence[:EVIDENCE_CAP])


@register
class RoutesUseServices(Rule):
    """Every route module that defines endpoints uses at least one service."""

    id = "LAY-003"
    heuristic = (
        "A route module uses a service when it imports from the services layer (type-only "
        "imports count), depends on a callable named like a service (`Depends(get_user_service)`)"
        " or annotates a parameter with a `...Service` class. Modules whose endpoints are all "
        "health, readiness or metrics probes are exempt."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each route module with endpoints and no service."""
        by_path: dict[str, int] = {}
        for route in ctx.routes:
            if not is_probe(route):
                by_path.setdefault(route.path_rel, route.line)
        modules = [m for m in route_modules(ctx) if m.path in by_path]
        if not modules:
            return self.not_applicable("no route module defines endpoints")
        evidence = [
            Evidence(m.path, by_path[m.path], "endpoints here use no service")
            for m in modules
            if not uses_service(ctx, m)
        ]
        if evidence:
            return self.failed(f"{len(evidence)} route module(s) use no service", evidence)
        return self.passed(f"{len(modules)} route module(s) use services")


@register
class HttpAgnosticServices(Rule):
    """Services import nothing from fastapi/starlette or the api layer."""

    id = "LAY-004"
    heuristic = (
        LAYERS_NOTE + "The api layer is the routes layer plus FastAPI code in any `api/` "
        "folder. " + TC_NOTE
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on each importing line."""
        modules = ctx.layer_files("services")
        if not modules:
            return self.not_applicable("no services layer found")
        evidence: list[Evidence] = []
        for mod in modules:
            edges = forbidden_edges(ctx, mod.path, {"routes"}, api=True)
            edges += ctx.import_graph.imports_external(mod.path, ("fastapi", "starlette"))
            edges.sort(key=lambda e: e.line)
            evidence += edge_evidence(edges, "services must not depend on HTTP")
        return _edge_result(self, evidence[:EVIDENCE_CAP], "services are HTTP-agnostic", "service")


@register
class NoSqlInServices(Rule):
    """Services build no sqlalchemy queries and call no session: repositories do."""

    id = "LAY-005"
    heuristic = (
        "Any call into sqlalchemy/sqlmodel (except exception classes) counts as query "
        "construction; session calls are matched as in LAY-002 (named-only matches warn)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on qualified or typed calls, warn on calls matched by name only."""
        modules = ctx.layer_files("services")
        if not modules:
            return self.not_applicable("no services layer found")
        calls = []
        for mod in modules:
            found = [*orm_calls(mod, ctx, None), *session_calls(mod)]
            calls += [(mod.path, c) for c in sorted(found, key=lambda c: c.line)]
        evidence = [e for path, c in calls for e in db_call_evidence([c], path, "a service")]
        if not evidence:
            return self.passed("services go through repositories")
        message = f"{len(evidence)} direct database call(s) in services: use a repository"
        if any(c.confident for _, c in calls):
            return self.failed(message, evidence[:EVIDENCE_CAP])
        return self.warned(message + " (receivers named like sessions)", evidence[:EVIDENCE_CAP])


@register
class RepositoriesImportNoUpperLayers(Rule):
    """Repositories import neither services nor the api layer."""

    id = "LAY-006"
    heuristic = LAYERS_NOTE + TC_NOTE

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on each importing line."""
        modules = ctx.layer_files("repositories")
        if not modules:
            return self.not_applicable("no repositories layer found")
        evidence: list[Evidence] = []
        for mod in modules:
            edges = forbidden_edges(ctx, mod.path, {"services", "routes"}, api=True)
            evidence += edge_evidence(edges, "repositories sit below services and the api")
        return _edge_result(
            self, evidence[:EVIDENCE_CAP], "repositories import no upper layer", "repository"
        )


@register
class DataLayersImportNoUpperLayers(Rule):
    """Models and schemas import neither services, repositories nor the api layer."""

    id = "LAY-007"
    heuristic = LAYERS_NOTE + TC_NOTE

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on each importing line."""
        modules = ctx.layer_files("models") + ctx.layer_files("schemas")
        if not modules:
            return self.not_applicable("no models or schemas layer found")
        evidence: list[Evidence] = []
        for mod in modules:
            edges = forbidden_edges(ctx, mod.path, {"services", "repositories", "routes"}, api=True)
            evidence += edge_evidence(edges, "models and schemas are the bottom layer")
        return _edge_result(
            self,
            evidence[:EVIDENCE_CAP],
            "models and schemas import no upper layer",
            "model/schema",
        )


@register
class GenericBaseRepository(Rule):
    """`repositories/base.py` defines a generic base repository the others subclass."""

    id = "LAY-008"
    heuristic = (
        "Generic: PEP 695 type parameters or a `Generic[...]` base. Repositories are the "
        "classes of the repositories layer named `...Repository`, `...Repo` or `...CRUD`; "
        "subclassing may go through intermediate classes."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail without a generic base, or for each repository that does not subclass it."""
        modules = ctx.layer_files("repositories")
        if not modules:
            return self.not_applicable("no repositories layer found")
        bases = generic_bases(ctx, modules)
        if not bases:
            base_file = next((m for m in modules if m.stem == "base"), modules[0])
            return self.failed(
                "no generic base repository (Generic[...] or type parameters)",
                [Evidence(base_file.path, 1, "define class BaseRepository[ModelT] here")],
            )
        outside = [c for c in repository_classes(ctx, modules) if not c.subclasses(bases)]
        evidence = [
            Evidence(c.path, c.line, f"{c.name} does not subclass the base") for c in outside
        ]
        if evidence:
            return self.failed(f"{len(evidence)} repository class(es) bypass the base", evidence)
        return self.passed(f"generic base {bases[0][1]} in {bases[0][0]}")


@register
class ServicesAreClasses(Rule):
    """Services are classes (dependency-injectable), not modules of free functions."""

    id = "LAY-009"
    heuristic = (
        "A service module fails when it defines public top-level functions and no class with "
        "methods; factory functions beside a service class are fine."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each module of free functions in the services layer."""
        modules = [m for m in ctx.layer_files("services") if m.tree is not None]
        judged = [(m, service_module_problem(m)) for m in modules]
        judged = [(m, p) for m, p in judged if p is not False]
        if not judged:
            return self.not_applicable("no service module defines functions or classes")
        evidence = [Evidence(m.path, p, "module of free functions") for m, p in judged if p]
        if evidence:
            return self.failed(f"{len(evidence)} service module(s) of free functions", evidence)
        return self.passed(f"{len(judged)} service module(s) hold classes")


@register
class ThinHandlers(Rule):
    """Route handlers are thin: no loops, no comprehensions over query results, <= 15 statements."""

    id = "LAY-010"
    heuristic = (
        "Statements are counted through nested blocks, docstring excluded. A comprehension "
        "counts when it iterates an awaited or called value, or a name assigned from one; "
        "comprehension-only findings warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for loops and long handlers, warn for comprehensions only."""
        seen: set[int] = set()
        problems: list[tuple[Evidence, bool]] = []
        for route in ctx.routes:
            if route.node is None or id(route.node) in seen:
                continue
            seen.add(id(route.node))
            problems += handler_problems(route.path_rel, route.node)
        if not seen:
            return self.not_applicable("no route handlers found")
        evidence = [e for e, _ in problems][:EVIDENCE_CAP]
        if not evidence:
            return self.passed(f"{len(seen)} handler(s) are thin")
        message = f"{len(evidence)} fat handler finding(s): move the logic to a service"
        if any(hard for _, hard in problems):
            return self.failed(message, evidence)
        return self.warned(message, evidence)
