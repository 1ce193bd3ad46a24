"""API: versioned, plural, paginated, compressed, snake_case and documented endpoints."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from scanners.analysis.api_shapes import (
    PLURAL_EXEMPT,
    is_list_endpoint,
    is_list_type,
    is_plural,
    pagination,
    plural_of,
    response_expr,
)
from scanners.analysis.astutil import call_name, const_str, keyword, qualified_name
from scanners.analysis.fastapi_app import app_calls
from scanners.analysis.layering import EVIDENCE_CAP
from scanners.analysis.nodes import of_type
from scanners.analysis.routes import is_documentation, is_operational, route_paths, segments
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.analysis.pydantic_models import ModelClass
    from scanners.analysis.routes import Route
    from scanners.context import RepoContext

_VERSIONED = re.compile(r"^/api/v\d+(/|$)")
_CREATE_NAMES = ("create", "add_", "register", "insert", "new_")
GZIP = frozenset(
    {
        "fastapi.middleware.gzip.GZipMiddleware",
        "starlette.middleware.gzip.GZipMiddleware",
    }
)
PAGE_FIELDS = ("data", "total", "page", "per_page", "total_pages")
_SNAKE = re.compile(r"^_?[a-z][a-z0-9_]*$")


def _unresolved_evidence(routes: list[Route]) -> list[Evidence]:
    """One item per expression (or router) that kept full paths unknown."""
    seen = dict.fromkeys(u for r in routes for u in r.unresolved)
    return [Evidence(u.path, u.line or None, u.message) for u in seen]


@register
class VersionedRoutes(Rule):
    """Routers are served under `/api/v1`."""

    id = "API-001"
    heuristic = (
        "Full paths compose `include_router(prefix=...)`, `APIRouter(prefix=...)` and "
        "sub-applications mounted with `app.mount(path, api)` across modules, at any depth; "
        "prefixes may be literals, f-strings, module constants or settings-field defaults. "
        "Any `/api/vN` prefix counts (a v2 is still versioned). Health, readiness, liveness "
        "and metrics probes and the API documentation (/docs, /redoc, /openapi.json) are "
        "exempt. Routes whose full path cannot be known are skipped, the expression that could "
        "not be resolved given as evidence; when no route's path can be known, the rule warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each known full path outside `/api/vN`."""
        routes = [r for r in ctx.routes if not is_operational(r)]
        if not routes:
            return self.not_applicable("no endpoints besides probes and documentation")
        known = [r for r in routes if r.full_paths]
        unknown = _unresolved_evidence(routes)
        if not known:
            return self.warned("no router's mount path could be resolved", unknown[:EVIDENCE_CAP])
        evidence = [
            Evidence(r.path_rel, r.line, f"{r.method} {path} is not under /api/v1")
            for r in known
            for path in r.full_paths
            if not _VERSIONED.match(path)
        ]
        if evidence:
            return self.failed(f"{len(evidence)} route(s) outside /api/v1", evidence[:EVIDENCE_CAP])
        message = f"{len(known)} route(s) served under /api/v1"
        if unknown:
            message += f"; paths behind {len(unknown)} unresolved expression(s) skipped"
        return self.passed(message, unknown[:EVIDENCE_CAP])


def _singular_segments(route: Route) -> list[str]:
    """Resource segments (the first one, and each one followed by a parameter) not plural."""
    out: list[str] = []
    for path in route_paths(route):
        parts = segments(path)
        if not parts or parts[0] in PLURAL_EXEMPT:
            continue
        for index, part in enumerate(parts):
            is_param = part.startswith("{")
            resource = index == 0 or (index + 1 < len(parts) and parts[index + 1].startswith("{"))
            if resource and not is_param and part not in PLURAL_EXEMPT and not is_plural(part):
                out.append(part)
    return list(dict.fromkeys(out))


@register
class PluralResources(Rule):
    """Resource paths use plural nouns (auth/health/metrics/me exempt)."""

    id = "API-002"
    heuristic = (
        "Resource segments are the first one after `/api/vN` and each one followed by a path "
        "parameter; a segment reads as plural when its last word ends in -s (not -ss) or is "
        "uncountable (data, media...). Probe and documentation routes are not resources. "
        "Grammar is guessed, so findings warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Warn for each singular resource segment."""
        routes = [r for r in ctx.routes if route_paths(r) and not is_operational(r)]
        if not routes:
            return self.not_applicable("no route paths found")
        evidence = [
            Evidence(r.path_rel, r.line, f"'{segment}' reads singular: use '{plural_of(segment)}'")
            for r in routes
            for segment in _singular_segments(r)
        ]
        if evidence:
            return self.warned(
                f"{len(evidence)} singular resource name(s)", evidence[:EVIDENCE_CAP]
            )
        return self.passed("resource paths use plural nouns")


def _is_create(route: Route) -> bool:
    if route.method != "POST":
        return False
    if route.func_name.lower().startswith(_CREATE_NAMES):
        return True
    for path in route_paths(route):
        parts = segments(path)
        if parts and parts[0] in PLURAL_EXEMPT:
            return False
        if (
            parts
            and not parts[-1].startswith("{")
            and (route.path in ("", "/") or is_plural(parts[-1]))
        ):
            return True
    return False


@register
class CreatedAndNoContent(Rule):
    """POST create endpoints return 201, DELETE endpoints 204."""

    id = "API-003"
    heuristic = (
        "A POST is a create when its handler is named create_/add_/register/insert/new_ or it "
        "posts to a collection (a router's root or a plural segment, auth paths excepted). "
        "202 Accepted also passes (asynchronous work). Status codes given as expressions the "
        "source does not determine are skipped."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each create without 201 and each delete without 204."""
        judged = [r for r in ctx.routes if _is_create(r) or r.method == "DELETE"]
        if not judged:
            return self.not_applicable("no create or delete endpoints")
        evidence = []
        for route in judged:
            want = 201 if route.method == "POST" else 204
            given = "status_code" in route.decorator_kwargs
            if given and route.status_code is None:
                continue
            if route.status_code not in (want, 202):
                got = route.status_code or (200 if not given else "?")
                why = f"{route.method} {route.func_name} returns {got}, expected {want}"
                evidence.append(Evidence(route.path_rel, route.line, why))
        if evidence:
            return self.failed(f"{len(evidence)} endpoint(s) with the wrong status", evidence)
        return self.passed(f"{len(judged)} create/delete endpoint(s) return 201/204")


def _pagination_problem(ctx: RepoContext, route: Route) -> tuple[str, bool] | None:
    """(message, certain) when a list endpoint is not paginated as the standard says."""
    found = pagination(ctx, route)
    size = found.size
    if size is None:
        what = f"takes {found.position} but no page size" if found.position else "is not paginated"
        return f"{route.func_name} {what}", True
    if size.maximum is None:
        return f"{route.func_name}: `{size.name}` has no maximum (le=100)", True
    if size.maximum > 100 or (size.default is not None and size.default != 20):
        return f"{route.func_name}: `{size.name}` default {size.default}, max {size.maximum}", True
    if size.default is None:
        return f"{route.func_name}: default of `{size.name}` not resolvable", False
    return None


@register
class PaginatedLists(Rule):
    """List endpoints are paginated: page size default 20, maximum <= 100."""

    id = "API-004"
    heuristic = (
        "List endpoints are GETs returning `list[...]`, a page model (`Page`, `Paginated...`) "
        "or named list_/search_. Page size is `per_page`, `page_size`, `size` or `limit`, read "
        "from the signature or a dependency class/function; values the source does not "
        "determine warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for unpaginated or unbounded lists, warn for unresolvable defaults."""
        lists = [r for r in ctx.routes if is_list_endpoint(r)]
        if not lists:
            return self.not_applicable("no list endpoints")
        problems = [(r, p) for r in lists if (p := _pagination_problem(ctx, r)) is not None]
        evidence = [Evidence(r.path_rel, r.line, p[0]) for r, p in problems]
        if any(p[1] for _, p in problems):
            return self.failed(f"{len(problems)} list endpoint(s) not paginated", evidence)
        if problems:
            return self.warned(f"{len(problems)} list endpoint(s) with unknown defaults", evidence)
        return self.passed(f"{len(lists)} list endpoint(s) paginated (20 by default, max 100)")


def _envelopes(ctx: RepoContext, lists: list[Route]) -> tuple[list[ModelClass], list[Evidence]]:
    """Page models returned by list endpoints or named like pages; bare-list evidence."""
    graph = ctx.import_graph
    found: dict[tuple[str, str], ModelClass] = {}
    bare = []
    for route in lists:
        expr = response_expr(route)
        model = ctx.pydantic_models.resolve(expr, route.path_rel, graph) if expr else None
        if model is not None:
            found[model.key] = model
        elif is_list_type(expr):
            bare.append(
                Evidence(route.path_rel, route.line, f"{route.func_name} returns a bare list")
            )
    for model in ctx.pydantic_models.models:
        fields = model.all_fields()
        has_list = any(is_list_type(f.annotation) for f in fields.values())
        if has_list and re.search(r"Page|Paginated|Paged", model.name):
            found.setdefault(model.key, model)
    return list(found.values()), bare


@register
class PageEnvelope(Rule):
    """Paginated responses carry data, total, page, per_page and total_pages."""

    id = "API-005"
    heuristic = (
        "Page models are the response models of list endpoints and models named like pages "
        "(Page, Paginated...) with a list field; inherited fields count."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each page model missing a field and each list returned bare."""
        lists = [r for r in ctx.routes if is_list_endpoint(r)]
        models, evidence = _envelopes(ctx, lists)
        if not models and not evidence:
            return self.not_applicable("no list endpoints or page models")
        for model in models:
            missing = [f for f in PAGE_FIELDS if f not in model.all_fields()]
            if missing:
                why = f"{model.name} lacks {', '.join(missing)}"
                evidence.append(Evidence(model.path, model.line, why))
        if evidence:
            return self.failed(
                f"{len(evidence)} list response(s) without the page envelope", evidence
            )
        return self.passed(f"{len(models)} page model(s) carry {', '.join(PAGE_FIELDS)}")


def _gzip_uses(ctx: RepoContext) -> list[Evidence]:
    out = []
    for mod in ctx.app_files:
        if mod.tree is None or "GZip" not in (mod.source or ""):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for node in of_type(mod.tree, ast.Call):
            callee = call_name(node, aliases) or ""
            first = qualified_name(node.args[0], aliases) if node.args else None
            if callee in GZIP or (
                callee.rsplit(".", 1)[-1] in ("add_middleware", "Middleware") and first in GZIP
            ):
                out.append(Evidence(mod.path, node.lineno, "GZipMiddleware installed"))
    return out


@register
class GzipMiddleware(Rule):
    """`GZipMiddleware` is installed on the app."""

    id = "API-006"
    heuristic = (
        "`app.add_middleware(GZipMiddleware, ...)`, `Middleware(GZipMiddleware)` in "
        "`FastAPI(middleware=[...])` or wrapping the app; fastapi's and starlette's classes "
        "count, through aliases. An import alone does not."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail pointing at the app when no GZip middleware is installed."""
        calls = app_calls(ctx)
        if not calls:
            return self.not_applicable("no FastAPI app found")
        uses = _gzip_uses(ctx)
        if uses:
            return self.passed(f"GZipMiddleware at {uses[0].path}:{uses[0].line}", uses)
        app = calls[0]
        why = "add app.add_middleware(GZipMiddleware, minimum_size=1000)"
        return self.failed(
            "GZipMiddleware is not installed", [Evidence(app.module.path, app.call.lineno, why)]
        )


def _json_names(model: ModelClass) -> list[tuple[int, str]]:
    """(line, name) of fields whose JSON name (alias or field name) is not snake_case."""
    out = []
    for fld in model.own_fields():
        call = fld.field_call()
        names = [fld.name]
        for kw in ("alias", "serialization_alias"):
            alias = const_str(keyword(call, kw)) if call is not None else None
            if alias is not None:
                names = [alias]
        out += [(fld.line, n) for n in names if not _SNAKE.match(n)]
    return out


@register
class SnakeCaseFields(Rule):
    """JSON field names are snake_case unless an alias generator maps them."""

    id = "API-007"
    heuristic = (
        "Every Pydantic model of the app code is read; a field's JSON name is its "
        "`alias`/`serialization_alias` or its name. Models with an `alias_generator` in "
        "their (inherited) config are exempt."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each non-snake_case JSON name."""
        models = ctx.pydantic_models.models
        if not models:
            return self.not_applicable("no Pydantic models")
        evidence = [
            Evidence(m.path, line, f"{m.name}.{name} is not snake_case")
            for m in models
            if m.config_value("alias_generator") is None
            for line, name in _json_names(m)
        ]
        if evidence:
            return self.failed(f"{len(evidence)} non-snake_case field(s)", evidence[:EVIDENCE_CAP])
        return self.passed(f"{len(models)} model(s) use snake_case fields")


def _documented(route: Route) -> bool:
    for kw in ("summary", "description"):
        value = route.decorator_kwargs.get(kw)
        if value is not None and const_str(value) != "":
            return True
    node = route.node
    return node is not None and bool((ast.get_docstring(node) or "").strip())


@register
class DocumentedEndpoints(Rule):
    """Every endpoint has a docstring or a `summary`/`description`."""

    id = "API-008"
    heuristic = (
        "Every route counts except those serving the documentation itself (/docs, /redoc, "
        "/openapi.json served by hand)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each undocumented endpoint."""
        routes = [r for r in ctx.routes if not is_documentation(r)]
        if not routes:
            return self.not_applicable("no endpoints found")
        evidence = [
            Evidence(r.path_rel, r.line, f"{r.method} {r.func_name} has no docstring or summary")
            for r in routes
            if not _documented(r)
        ]
        if evidence:
            return self.failed(f"{len(evidence)} undocumented endpoint(s)", evidence[:EVIDENCE_CAP])
        return self.passed(f"{len(routes)} endpoint(s) documented")
