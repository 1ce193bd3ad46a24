"""SCH: request and response bodies are Pydantic v2 schemas, kept in `schemas/`."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from scanners.analysis.astutil import call_name, const_str, dotted_name, keyword
from scanners.analysis.layering import EVIDENCE_CAP, route_modules
from scanners.analysis.nodes import of_types
from scanners.analysis.schema_shapes import (
    body_models,
    declares_response,
    orm_class_names,
    read_stem,
    response_models,
    untyped_bodies,
)
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.analysis.pydantic_models import ModelClass, ModelField
    from scanners.analysis.routes import Route
    from scanners.context import PyModule, RepoContext

V1_DECORATORS = frozenset({"validator", "root_validator"})
V1_DUMP_OPTIONS = frozenset(
    {"include", "exclude", "by_alias", "exclude_unset", "exclude_defaults", "exclude_none"}
)
V1_METHODS = frozenset({"parse_obj", "parse_raw", "from_orm", "parse_file"})
# Text every v1 finding of `_v1_node` needs in its module (a prefilter: no match, no walk).
_V1_SPELLINGS = re.compile(
    r"class[\s\\]+Config\b|orm_mode|\.[\s\\]*dict\b|" + "|".join(sorted(V1_DECORATORS | V1_METHODS))
)


def _schema_models(ctx: RepoContext) -> list[ModelClass]:
    return ctx.pydantic_models.in_paths({m.path for m in ctx.layer_files("schemas")})


@register
class SchemasDefined(Rule):
    """`schemas/` defines the Pydantic models of the API."""

    id = "SCH-001"
    heuristic = (
        "Pydantic models are classes deriving from BaseModel, also through project bases. The "
        "schemas layer is a schemas/ (or schema/) folder or schemas.py modules (one per "
        "feature in a package-by-feature layout)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail without models in a schemas layer; warn when route modules define models."""
        schema_files = ctx.layer_files("schemas")
        models = _schema_models(ctx)
        if not schema_files and not ctx.routes:
            return self.not_applicable("no schemas layer and no endpoints")
        if not models:
            where = schema_files[0].path if schema_files else ctx.app_package_rel or ctx.path("")
            return self.failed(
                "no Pydantic models in the schemas layer",
                [Evidence(where, None, "add schemas here")],
            )
        in_routes = ctx.pydantic_models.in_paths({m.path for m in route_modules(ctx)})
        if in_routes:
            evidence = [
                Evidence(m.path, m.line, f"{m.name} belongs in the schemas layer")
                for m in in_routes
            ]
            return self.warned(f"{len(in_routes)} model(s) defined in route modules", evidence)
        return self.passed(f"{len(models)} Pydantic model(s) in the schemas layer")


def _shared_schemas(ctx: RepoContext, routes: list[Route]) -> tuple[int, list[Evidence]]:
    """(body models judged, evidence) for the routes of one router."""
    bodies = [(route, body_models(ctx, route)) for route in routes]
    responses = {key for route in routes for key in response_models(ctx, route)}
    created = {m.key for route, models in bodies if route.method == "POST" for m in models}
    evidence = []
    for route, models in bodies:
        for model in models:
            if model.key in responses:
                why = f"{model.name} is both a request body and a response"
            elif route.method in ("PUT", "PATCH") and model.key in created:
                why = f"{model.name} serves both create and update"
            else:
                continue
            evidence.append(Evidence(route.path_rel, route.line, why))
    return sum(len(m) for _, m in bodies), evidence


@register
class SeparateSchemas(Rule):
    """Per resource, separate Create / Update / Response schemas."""

    id = "SCH-002"
    heuristic = (
        "Judged on the endpoints of each router: a request body model must not also be a "
        "response model of that router, and a PUT/PATCH body must differ from the POST body."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each body model reused as a response or shared by create and update."""
        groups: dict[tuple[str, str | None], list[Route]] = {}
        for route in ctx.routes:
            groups.setdefault((route.path_rel, route.router), []).append(route)
        judged, evidence = 0, list[Evidence]()
        for routes in groups.values():
            count, found = _shared_schemas(ctx, routes)
            judged, evidence = judged + count, evidence + found
        if not judged:
            return self.not_applicable("no endpoint takes a Pydantic request body")
        if evidence:
            message = f"{len(evidence)} schema(s) shared across roles: split Create/Update/Response"
            return self.failed(message, evidence[:EVIDENCE_CAP])
        return self.passed(f"{judged} request bod(ies) use dedicated schemas")


@register
class TypedBodies(Rule):
    """Every route declares a response model and takes bodies as Pydantic models."""

    id = "SCH-003"
    heuristic = (
        "A response is declared by `response_model=` or a Pydantic return annotation (also "
        "`list[Model]`); 204 responses, `response_class=` and streaming/file/redirect/HTML "
        "returns need none. `dict`/`Any` body parameters and `request.json()` fail."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each route without a response model or with an untyped body."""
        if not ctx.routes:
            return self.not_applicable("no endpoints found")
        evidence = []
        for route in ctx.routes:
            if not declares_response(ctx, route):
                why = f"{route.method} {route.func_name} declares no response model"
                evidence.append(Evidence(route.path_rel, route.line, why))
            evidence += [Evidence(route.path_rel, line, why) for line, why in untyped_bodies(route)]
        if evidence:
            return self.failed(
                f"{len(evidence)} untyped response(s) or bodies", evidence[:EVIDENCE_CAP]
            )
        return self.passed(f"{len(ctx.routes)} route(s) typed with Pydantic models")


@register
class FromAttributes(Rule):
    """Schemas read from ORM objects set `model_config = ConfigDict(from_attributes=True)`."""

    id = "SCH-004"
    heuristic = (
        "Schemas read from ORM objects are those named after a class of the models layer with "
        "a read suffix (`UserResponse`, `UserRead`, `UserPublic`, `UserOut`...); inherited "
        "config counts. A name is weak evidence, so a missing setting warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Warn for each ORM-backed schema without from_attributes."""
        orm = orm_class_names(ctx)
        candidates = [m for m in _schema_models(ctx) if read_stem(m.name) in orm]
        if not candidates:
            return self.not_applicable("no schema is named after an ORM model")
        evidence = []
        for model in candidates:
            value = model.config_value("from_attributes")
            if not (isinstance(value, ast.Constant) and value.value is True):
                why = (
                    f"{model.name} reads {read_stem(model.name)} rows without from_attributes=True"
                )
                evidence.append(Evidence(model.path, model.line, why))
        if evidence:
            return self.warned(
                f"{len(evidence)} ORM-backed schema(s) lack from_attributes", evidence
            )
        return self.passed(f"{len(candidates)} ORM-backed schema(s) set from_attributes")


def _v1_findings(
    ctx: RepoContext, mod: PyModule, model_lines: set[int]
) -> list[tuple[Evidence, bool]]:
    """Pydantic v1 API uses in a module: (evidence, certain)."""
    if mod.tree is None:
        return []
    aliases = ctx.import_graph.aliases(mod.path)
    out: list[tuple[Evidence, bool]] = []
    for edge in ctx.import_graph.edges_from(mod.path):
        if edge.target_module == "pydantic.v1" or edge.target_module.startswith("pydantic.v1."):
            out.append((Evidence(mod.path, edge.line, "imports pydantic.v1"), True))
    if not _V1_SPELLINGS.search(mod.source or ""):
        return out  # no node below can be a v1 use: each needs one of these spellings
    for node in of_types(mod.tree, ast.ClassDef, ast.Call, ast.Assign, ast.Dict):
        found = _v1_node(node, aliases, model_lines)
        if found is not None:
            out.append((Evidence(mod.path, node.lineno, found[0]), found[1]))  # type: ignore[attr-defined]
    return out


def _v1_node(
    node: ast.AST, aliases: dict[str, str], model_lines: set[int]
) -> tuple[str, bool] | None:
    if isinstance(node, ast.ClassDef):
        config = any(isinstance(s, ast.ClassDef) and s.name == "Config" for s in node.body)
        if config and node.lineno in model_lines:
            return f"{node.name} uses `class Config:`; use model_config = ConfigDict(...)", True
    if isinstance(node, ast.Call):
        return _v1_call(node, aliases)
    orm_mode = isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "orm_mode" for t in node.targets
    )
    if orm_mode or (
        isinstance(node, ast.Dict) and any(const_str(k) == "orm_mode" for k in node.keys if k)
    ):
        return "orm_mode is Pydantic v1: use from_attributes", True
    return None


def _v1_call(node: ast.Call, aliases: dict[str, str]) -> tuple[str, bool] | None:
    head, _, attr = (call_name(node, aliases) or "").rpartition(".")
    if head.startswith("pydantic") and attr in V1_DECORATORS:
        return f"@{attr} is Pydantic v1: use @field_validator/@model_validator", True
    if keyword(node, "orm_mode") is not None:
        return "orm_mode is Pydantic v1: use from_attributes", True
    if not isinstance(node.func, ast.Attribute):
        return None
    if node.func.attr in V1_METHODS:
        return f".{node.func.attr}() is Pydantic v1: use model_validate*()", True
    if node.func.attr == "dict" and not node.args:
        certain = any(kw.arg in V1_DUMP_OPTIONS for kw in node.keywords)
        if certain or not node.keywords:
            name = dotted_name(node.func) or ".dict"
            return f"{name}() is Pydantic v1: use model_dump()", certain
    return None


@register
class NoPydanticV1(Rule):
    """No Pydantic v1 API: Config classes, @validator, orm_mode, .dict(), .parse_obj()..."""

    id = "SCH-005"
    heuristic = (
        "Decorators and imports are resolved through imports; `class Config:` counts inside "
        "Pydantic models only. `.dict(exclude_unset=...)`-style calls fail; a bare `.dict()` "
        "cannot be told from other objects' methods, so when it is the only finding it warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on certain v1 uses, warn when only `.dict()` calls are found."""
        lines: dict[str, set[int]] = {}
        for model in ctx.pydantic_models.models:
            lines.setdefault(model.path, set()).add(model.line)
        findings = [
            f for mod in ctx.app_files for f in _v1_findings(ctx, mod, lines.get(mod.path, set()))
        ]
        if not findings:
            return self.passed("no Pydantic v1 API in app code")
        evidence = [e for e, _ in findings][:EVIDENCE_CAP]
        message = f"{len(findings)} Pydantic v1 API use(s)"
        if any(certain for _, certain in findings):
            return self.failed(message, evidence)
        return self.warned(message + " (`.dict()` calls, possibly not on models)", evidence)


def _has_examples(model: ModelClass, fld: ModelField) -> bool:
    call = fld.field_call()
    if call is not None and (keyword(call, "examples") or keyword(call, "example")):
        return True
    extra = keyword(call, "json_schema_extra") if call is not None else None
    return extra is not None or model.config_value("json_schema_extra") is not None


def _judged(ctx: RepoContext, model: ModelClass, fld: ModelField) -> bool:
    """Fields holding other models (or type parameters) carry their own examples."""
    for node in ast.walk(fld.annotation):
        if isinstance(node, ast.Name) and node.id in model.type_params:
            return False
        if isinstance(node, ast.Name | ast.Attribute) and ctx.pydantic_models.resolve(
            node, model.path, ctx.import_graph
        ):
            return False
    return True


@register
class FieldExamples(Rule):
    """Schema fields carry examples (`Field(examples=[...])`)."""

    id = "SCH-006"
    heuristic = (
        "Fields holding nested models or type parameters are exempt; a model-level "
        "`json_schema_extra` covers every field of the model."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Pass when every field has examples, warn when some do, fail when none do."""
        fields = [
            (model, fld)
            for model in _schema_models(ctx)
            for fld in model.own_fields()
            if _judged(ctx, model, fld)
        ]
        if not fields:
            return self.not_applicable("no schema fields in schemas/")
        missing = [(m, f) for m, f in fields if not _has_examples(m, f)]
        if not missing:
            return self.passed(f"{len(fields)} schema field(s) carry examples")
        evidence = [
            Evidence(m.path, f.line, f"{m.name}.{f.name} has no examples") for m, f in missing
        ]
        message = f"{len(missing)} of {len(fields)} schema field(s) lack examples"
        if len(missing) == len(fields):
            return self.failed(message, evidence[:EVIDENCE_CAP])
        return self.warned(message, evidence[:EVIDENCE_CAP])
