"""LOG: central dictConfig logging, rotating files, rich formats, named loggers, no leaks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners.analysis.astutil import call_name, iter_calls, keyword
from scanners.analysis.findings import (
    MAX_EVIDENCE,
    app_findings,
    finding_evidence,
    lint_unavailable,
)
from scanners.analysis.log_calls import (
    GET_LOGGER,
    ROOT_CALLS,
    except_log_calls,
    is_log_call,
    sensitive_values,
)
from scanners.analysis.logging_config import (
    TEN_MB,
    LoggingFacts,
    config_modules,
    dict_config_lines,
    gather,
    missing_fields,
    yaml_configs,
)
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext


def _expected_config(ctx: RepoContext) -> str:
    base = ctx.app_package_rel
    return f"{base}/core/logging.py" if base else ctx.path("core/logging.py")


def _no_config(ctx: RepoContext) -> Evidence:
    return Evidence(_expected_config(ctx), None, "no logging configuration found")


@register
class CentralLoggingConfig(Rule):
    """Logging is configured centrally: `core/logging.py` with dictConfig, or a logging YAML."""

    id = "LOG-001"
    heuristic = (
        "Passes on a core/logging.py (in any core/ folder of the app) calling "
        "logging.config.dictConfig, or a logging_config.yaml (any logging*.yaml) with a "
        "`version` key. dictConfig elsewhere, or a core/logging.py without dictConfig, warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Pass on the standard locations; warn on other central setups; fail otherwise."""
        core = [m for m in ctx.layer_files("core") if m.stem == "logging"]
        for mod in core:
            if lines := dict_config_lines(ctx, mod):
                return self.passed(f"dictConfig in {mod.path}:{lines[0]}")
        if yamls := yaml_configs(ctx):
            return self.passed(f"logging configured by {yamls[0][0]}")
        elsewhere = [(m, dict_config_lines(ctx, m)) for m in ctx.app_files]
        found = [
            Evidence(m.path, lines[0], "dictConfig outside core/logging.py")
            for m, lines in elsewhere
            if lines
        ]
        if found:
            return self.warned("logging configured outside core/logging.py", found)
        if core:
            evidence = [Evidence(m.path, None, "no logging.config.dictConfig call") for m in core]
            return self.warned("core/logging.py does not use dictConfig", evidence)
        return self.failed("no central logging configuration", [_no_config(ctx)])


def _handler_problems(facts: LoggingFacts) -> tuple[list[Evidence], list[Evidence]]:
    """(definite problems, unresolved values) of the rotating file handlers."""
    where = facts.sources[0]
    problems: list[Evidence] = []
    unknown: list[Evidence] = []
    if not facts.rotating:
        problems.append(Evidence(where, None, "no RotatingFileHandler"))
    checks = (("maxBytes", facts.sizes, TEN_MB, "10 MB"), ("backupCount", facts.backups, {5}, "5"))
    for name, values, wanted, label in checks:
        if not values:
            problems.append(Evidence(where, None, f"{name} is not set"))
        for value, at in values:
            if value is None:
                unknown.append(Evidence(at.path, at.line, f"{name} value cannot be resolved"))
            elif value not in wanted:
                problems.append(Evidence(at.path, at.line, f"{name} is {value}, not {label}"))
    if not facts.app_log:
        problems.append(Evidence(where, None, "no app.log file handler"))
    if not facts.error_log:
        problems.append(Evidence(where, None, "no error.log file handler"))
    elif not any(at_error for at_error, _ in facts.error_log):
        _, at = facts.error_log[0]
        problems.append(Evidence(at.path, at.line, "error.log handler is not at ERROR level"))
    return problems, unknown


@register
class RotatingFileHandlers(Rule):
    """Rotating file handlers of 10 MB x 5 backups write `app.log` and `error.log` (ERROR+)."""

    id = "LOG-002"
    heuristic = (
        "Read from the logging configuration sources (see LOG-001): a RotatingFileHandler, "
        "every maxBytes equal to 10 MB (10*1024*1024 or 10,000,000, constants folded), every "
        "backupCount 5, an app.log file and an error.log file whose dict or call (or else "
        "function) sets the ERROR level. Values that cannot be resolved warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail listing what the handlers lack; warn when values cannot be resolved."""
        facts = gather(ctx)
        if not facts.sources:
            return self.failed("no logging configuration", [_no_config(ctx)])
        problems, unknown = _handler_problems(facts)
        if problems:
            return self.failed("; ".join(p.message for p in problems[:3]), problems + unknown)
        if unknown:
            return self.warned("rotation settings cannot be resolved", unknown)
        return self.passed("rotating app.log and error.log handlers, 10 MB x 5")


@register
class LogFormatters(Rule):
    """Console, file and JSON formatters; formats carry time, logger, level, function, line."""

    id = "LOG-003"
    heuristic = (
        "Formatters are the keys of a `formatters` mapping (dict literal, module constant or "
        "YAML). A JSON formatter is one named or built like JSON (pythonjsonlogger, a "
        "Formatter subclass calling json.dumps). A text format must name asctime, name, "
        "levelname, funcName and lineno. Fewer than three formatters warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on missing fields or JSON formatter; warn on fewer than three formatters."""
        facts = gather(ctx)
        if not facts.sources:
            return self.failed("no logging configuration", [_no_config(ctx)])
        problems: list[Evidence] = []
        complete = [at for fmt, at in facts.formats if not missing_fields(fmt)]
        if not complete:
            fmt, at = max(
                facts.formats, key=lambda f: -len(missing_fields(f[0])), default=("", None)
            )
            lacking = ", ".join(missing_fields(fmt))
            where = at or Evidence(facts.sources[0], None, "")
            problems.append(Evidence(where.path, where.line, f"log format lacks {lacking}"))
        if not facts.json:
            problems.append(Evidence(facts.sources[0], None, "no JSON formatter"))
        if problems:
            return self.failed("; ".join(p.message for p in problems), problems)
        if len(facts.formatter_names) < 3:
            names = ", ".join(sorted(facts.formatter_names)) or "none named"
            message = f"fewer than three formatters (console, file, JSON): {names}"
            return self.warned(message, [Evidence(facts.sources[0], None, message)])
        return self.passed("console, file and JSON formatters with the required fields")


def _logger_name_problems(ctx: RepoContext) -> tuple[list[Evidence], list[Evidence]]:
    """(root-logger calls, getLogger calls not named `__name__`) outside logging config."""
    config = {m.path for m in config_modules(ctx)}
    root: list[Evidence] = []
    named: list[Evidence] = []
    for mod in ctx.app_files:
        if mod.tree is None or "logging" not in (mod.source or ""):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for call in iter_calls(mod.tree):
            name = call_name(call, aliases)
            if name in ROOT_CALLS:
                root.append(Evidence(mod.path, call.lineno, f"{name}(...) logs on the root logger"))
            elif name in GET_LOGGER and mod.path not in config:
                arg = call.args[0] if call.args else keyword(call, "name")
                if not (arg is not None and getattr(arg, "id", None) == "__name__"):
                    named.append(Evidence(mod.path, call.lineno, "logger not named __name__"))
    return root, named


@register
class ModuleLoggers(Rule):
    """Modules log through `logging.getLogger(__name__)`; no `print()` in app code (ruff T20)."""

    id = "LOG-004"
    heuristic = (
        "print/pprint from ruff T20 and root-logger calls (logging.info(...)) in app code "
        "fail; getLogger(...) with another name than __name__ outside the logging "
        "configuration modules warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on prints and root-logger calls; warn on other logger names."""
        prints = finding_evidence(app_findings(ctx, "T20"))
        root, named = _logger_name_problems(ctx)
        if prints or root:
            evidence = (prints + root + named)[:MAX_EVIDENCE]
            return self.failed(
                f"{len(prints)} print calls, {len(root)} root-logger calls", evidence
            )
        if named:
            return self.warned(f"{len(named)} loggers not named __name__", named[:MAX_EVIDENCE])
        if (problem := lint_unavailable(ctx)) is not None:
            return self.warned("print() not checked: ruff did not run", [problem])
        return self.passed("modules log through getLogger(__name__), no print()")


@register
class TracebacksLogged(Rule):
    """Errors logged inside `except` carry the traceback (`logger.exception`, `exc_info`)."""

    id = "LOG-005"
    heuristic = (
        "ruff TRY400 in app code, plus error()/critical() calls on a logger directly inside an "
        "except block without an exc_info argument."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with every error log call in an except block without a traceback."""
        evidence = finding_evidence(app_findings(ctx, "TRY400"))
        seen = {(e.path, e.line) for e in evidence}
        for mod in ctx.app_files:
            if mod.tree is None or "except" not in (mod.source or ""):
                continue
            aliases = ctx.import_graph.aliases(mod.path)
            for call in except_log_calls(mod.tree):
                given = {kw.arg for kw in call.keywords}
                unseen = (mod.path, call.lineno) not in seen
                if unseen and is_log_call(call, aliases) and not given & {"exc_info", None}:
                    message = "error logged in except without exc_info"
                    evidence.append(Evidence(mod.path, call.lineno, message))
        if evidence:
            return self.failed(f"{len(evidence)} errors logged without traceback", evidence)
        if (problem := lint_unavailable(ctx)) is not None:
            return self.warned("TRY400 not checked: ruff did not run", [problem])
        return self.passed("errors logged in except blocks carry the traceback")


@register
class NoSecretsInLogs(Rule):
    """No log call interpolates a variable or attribute named like a password, token or secret."""

    id = "LOG-006"
    heuristic = (
        "Log calls (logger.*, logging.*, self.log.*) whose f-string, % or .format() message, "
        "lazy % arguments, extra={...} or keyword arguments use a name or key matching "
        "password/passwd/pwd/secret/token/api_key/private_key/credential (not *_id, *_type, "
        "*_url, *_expires_at..., nor inside len()/mask()/redact())."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with each interpolated sensitive name."""
        evidence: list[Evidence] = []
        for mod in ctx.app_files:
            if mod.tree is None:
                continue
            aliases = ctx.import_graph.aliases(mod.path)
            for call in iter_calls(mod.tree):
                if is_log_call(call, aliases):
                    evidence += [
                        Evidence(mod.path, leak.line, f"logs `{leak.name}` ({leak.how})")
                        for leak in sensitive_values(call)
                    ]
        if evidence:
            return self.failed(f"{len(evidence)} sensitive values logged", evidence[:MAX_EVIDENCE])
        return self.passed("no log call interpolates a sensitive name")
