"""ERR: an exception hierarchy with codes and messages, registered handlers, nothing swallowed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners.analysis.app_errors import (
    CODE_NAMES,
    MESSAGE_NAMES,
    attribute_names,
    hierarchy,
    is_app_error,
    is_global,
    is_validation,
    missing_categories,
    registrations,
)
from scanners.analysis.fastapi_app import app_calls
from scanners.analysis.findings import app_findings, finding_evidence, lint_unavailable
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext


def _expected(ctx: RepoContext) -> str:
    base = ctx.app_package_rel
    return f"{base}/exceptions.py" if base else ctx.path("exceptions.py")


@register
class ExceptionHierarchy(Rule):
    """`exceptions.py` defines an app base exception and typed subclasses with code and message."""

    id = "ERR-001"
    heuristic = (
        "Classes of app modules named exceptions.py (or in an exceptions/ package). The base "
        "is the Exception subclass with the most subclasses there; subclasses are recognised "
        "by name (NotFound, Unauthorized/Authentication, Forbidden/Permission, BadRequest, "
        "Validation). Code and message: class attributes, self.x assignments or __init__ "
        "parameters named code/error_code and message/detail/msg on the base or its "
        "subclasses. Missing pieces warn; no hierarchy fails."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail without a base exception; warn on missing categories or code/message."""
        found = hierarchy(ctx)
        if not found.modules:
            evidence = [Evidence(_expected(ctx), None, "no exceptions.py in app code")]
            return self.failed("no exceptions.py", evidence)
        base = found.base()
        if base is None:
            where = found.modules[0].path
            return self.failed("no app base exception", [Evidence(where, None, "no base class")])
        mod, node = found.classes[base]
        names = attribute_names(node)
        for child in found.descendants(base):
            names |= attribute_names(found.classes[child][1])
        problems = [f"no {cat} error" for cat in missing_categories(found, base)]
        if not names & CODE_NAMES:
            problems.append(f"{base} carries no code")
        if not names & MESSAGE_NAMES:
            problems.append(f"{base} carries no message")
        if problems:
            evidence = [Evidence(mod.path, node.lineno, p) for p in problems]
            return self.warned("; ".join(problems), evidence)
        return self.passed(f"{base} and its subclasses carry a code and a message")


@register
class ExceptionHandlers(Rule):
    """Handlers are registered for the app base exception, validation errors and `Exception`."""

    id = "ERR-002"
    heuristic = (
        "Registrations are app.add_exception_handler(X, ...), @app.exception_handler(X) and "
        "FastAPI(exception_handlers={X: ...}). The app exception is ERR-001's base class (or, "
        "without one, any app-defined *Error/*Exception); RequestValidationError by name; the "
        "global handler is Exception, BaseException or status 500."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail naming the handlers that are missing."""
        base = hierarchy(ctx).base()
        found = registrations(ctx)
        wanted = {
            f"the app base exception ({base or 'any app error'})": (
                lambda t: is_app_error(t, base)
            ),
            "RequestValidationError": is_validation,
            "Exception (global)": is_global,
        }
        missing = [
            label for label, test in wanted.items() if not any(test(r.target) for r in found)
        ]
        if not missing:
            return self.passed("handlers for the app exception, validation errors and Exception")
        apps = app_calls(ctx)
        if found:
            path, line = found[0].path, found[0].line
        elif apps:
            path, line = apps[0].module.path, apps[0].call.lineno
        else:
            path, line = ctx.app_package_rel or ctx.path("src"), None
        evidence = [Evidence(path, line, f"no exception handler for {label}") for label in missing]
        return self.failed(f"missing exception handlers: {', '.join(missing)}", evidence)


@register
class NoSwallowedExceptions(Rule):
    """No swallowed exceptions: no bare `except:`, `except Exception: pass` (E722, S110, BLE001)."""

    id = "ERR-003"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with each finding in app code; warn when ruff could not run."""
        findings = app_findings(ctx, ("E722", "S110", "BLE001"))
        if findings:
            codes = ", ".join(sorted({f.code for f in findings}))
            message = f"{len(findings)} swallowed or blind excepts ({codes})"
            return self.failed(message, finding_evidence(findings))
        if (problem := lint_unavailable(ctx)) is not None:
            return self.warned("not checked: ruff did not run", [problem])
        return self.passed("no bare, blind or silent except in app code")
