"""Code style: ruff lint and format, tool config, short functions and files, docs, types."""

from __future__ import annotations

import ast
import configparser
from typing import Any

from scanners.analysis import project as pj
from scanners.analysis.astutil import iter_functions, qualified_name
from scanners.analysis.codescan import capped, dedupe, finding_evidence, lint_error, parsed
from scanners.analysis.lint import STYLE_SELECT
from scanners.analysis.nodes import of_types
from scanners.context import RepoContext
from scanners.results import Evidence, RuleResult
from scanners.rules import register
from scanners.rules.base import Rule

#: STY-001 warns (half credit) up to this many findings per 1,000 lines, fails above.
WARN_DENSITY = 5.0
#: Codes STY-001 ignores in test modules: pytest asserts, fake credentials, literal expectations.
TEST_EXEMPT = frozenset({"S101", "S105", "S106", "S107", "PLR2004"})
LINE_LENGTH = 100
MAX_FUNCTION_LINES = 50
MAX_FILE_LINES = 500
#: Missing docstrings of public classes, methods, functions, nested classes; Google sections.
DOCSTRING_CODES = ("D101", "D102", "D103", "D106", "D4")
ANY_NAMES = frozenset({"typing.Any", "typing_extensions.Any", "Any"})
MYPY_FILES = ("mypy.ini", ".mypy.ini", "setup.cfg")
RUFF_FILES = ("ruff.toml", ".ruff.toml")


def _lint_broken(ctx: RepoContext) -> RuleResult | None:
    error = lint_error(ctx)
    return Rule.warned("ruff did not run, so lint cannot be judged.", [error]) if error else None


@register
class CleanLint(Rule):
    """Ruff with the standard's rule set finds nothing; the score falls with density."""

    id = "STY-001"
    heuristic = (
        "One `ruff check --isolated` with E, F, W, I, N, UP, B, S, ASYNC, ANN, D (google), "
        "T20, DTZ, PL and RUF over the project, tests included, except S101/S105/S106/S107/"
        f"PLR2004 in test modules. No finding passes; up to {WARN_DENSITY:g} findings per "
        "1,000 lines warns; more fails."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Count the findings and judge their density."""
        if (broken := _lint_broken(ctx)) is not None:
            return broken
        if ctx.lint.files_checked == 0:
            return self.not_applicable("No Python files to lint.")
        findings = [
            f
            for f in ctx.lint.select(STYLE_SELECT, include_tests=True)
            if not (f.is_test and f.code in TEST_EXEMPT)
        ]
        if not findings:
            return self.passed(f"ruff is clean over {ctx.lint.files_checked} file(s).")
        density = ctx.lint.per_1000_lines(findings)
        message = f"{len(findings)} ruff finding(s), {density:.1f} per 1,000 lines"
        evidence = capped(finding_evidence(findings))
        if density <= WARN_DENSITY:
            return self.warned(f"{message} (at most {WARN_DENSITY:g} warns).", evidence)
        return self.failed(f"{message} (over {WARN_DENSITY:g}).", evidence)


@register
class CleanFormat(Rule):
    """`ruff format --check` at line length 100 finds nothing to reformat."""

    id = "STY-002"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Report the files the formatter would change."""
        check = ctx.format_check
        if check.error is not None:
            where = Evidence(ctx.path("pyproject.toml"), None, f"ruff format: {check.error}")
            return self.warned("ruff format did not run, so formatting is unknown.", [where])
        if check.files_checked == 0:
            return self.not_applicable("No Python files to format.")
        evidence = [Evidence(p, None, "would be reformatted") for p in check.files]
        evidence += [
            Evidence(p, None, "cannot be parsed by the formatter") for p in check.unparsable
        ]
        if evidence:
            return self.failed(
                f"{len(evidence)} of {check.files_checked} file(s) are not formatted.",
                capped(evidence),
            )
        return self.passed(f"{check.files_checked} file(s) formatted.")


def _table(data: dict[str, Any] | None, *keys: str) -> dict[str, Any]:
    node: Any = data or {}
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _line_length_problems(ctx: RepoContext) -> tuple[bool, list[Evidence]]:
    """(any line length declared, evidence of those that are not 100)."""
    rel = ctx.path("pyproject.toml")
    text = ctx.read_text(rel)
    sources: list[tuple[str, str, Any, int | None]] = []
    for tool in ("black", "ruff"):
        table = _table(ctx.pyproject, "tool", tool)
        if "line-length" in table:
            start = pj.table_line(text, f"tool.{tool}") or 1
            sources.append(
                (rel, tool, table["line-length"], pj.line_of(text, "line-length", start))
            )
    for name in RUFF_FILES:
        data = ctx.load_toml(ctx.path(name))
        if data is not None and "line-length" in data:
            line = pj.line_of(ctx.read_text(ctx.path(name)), "line-length")
            sources.append((ctx.path(name), "ruff", data["line-length"], line))
    problems = [
        Evidence(path, line, f"{tool} line-length is {value!r}, not {LINE_LENGTH}")
        for path, tool, value, line in sources
        if value != LINE_LENGTH or isinstance(value, bool)
    ]
    return bool(sources), problems


def _mypy_strict(ctx: RepoContext) -> bool:
    if _table(ctx.pyproject, "tool", "mypy").get("strict") is True:
        return True
    for name in MYPY_FILES:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(ctx.read_text(ctx.path(name)) or "")
            if parser.has_section("mypy") and parser.getboolean("mypy", "strict", fallback=False):
                return True
        except (configparser.Error, ValueError):
            continue
    return False


@register
class ToolConfig(Rule):
    """pyproject sets black/ruff line-length 100 and `[tool.mypy] strict = true`."""

    id = "STY-003"
    heuristic = (
        "line-length from [tool.black] and [tool.ruff] (also ruff.toml): at least one, and "
        "every one given, must be 100. mypy strict = true in [tool.mypy] (also mypy.ini, "
        ".mypy.ini or setup.cfg [mypy])."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Check line length and mypy strictness."""
        problem = pj.pyproject_problem(ctx)
        if problem is not None:
            return self.failed("No readable pyproject.toml holds the tool config.", [problem])
        rel = ctx.path("pyproject.toml")
        text = ctx.read_text(rel)
        declared, problems = _line_length_problems(ctx)
        if not declared:
            line = pj.table_line(text, "tool.ruff") or pj.table_line(text, "tool.black")
            problems.append(Evidence(rel, line, f"set line-length = {LINE_LENGTH} for ruff/black"))
        if not _mypy_strict(ctx):
            problems.append(
                Evidence(rel, pj.table_line(text, "tool.mypy"), "set [tool.mypy] strict = true")
            )
        if problems:
            return self.failed("Tool configuration does not follow the standard.", problems)
        return self.passed(f"line-length {LINE_LENGTH} and mypy strict are configured.")


@register
class ShortFunctions(Rule):
    """No function of the app code is longer than 50 lines."""

    id = "STY-004"
    heuristic = "Counts from the `def` line to the last line of the body (decorators excluded)."

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Measure every function and method."""
        total = 0
        long: list[Evidence] = []
        for mod, tree in parsed(ctx.app_files):
            for func in iter_functions(tree):
                total += 1
                if func.length > MAX_FUNCTION_LINES:
                    message = f"{func.qualname}() is {func.length} lines"
                    long.append(Evidence(mod.path, func.line, message))
        if total == 0:
            return self.not_applicable("No functions in the app code.")
        if long:
            return self.failed(
                f"{len(long)} function(s) longer than {MAX_FUNCTION_LINES} lines.", capped(long)
            )
        return self.passed(f"All {total} function(s) are at most {MAX_FUNCTION_LINES} lines.")


@register
class ShortFiles(Rule):
    """No app module is longer than 500 lines."""

    id = "STY-005"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Measure every app module."""
        modules = [m for m in ctx.app_files if m.source is not None]
        if not modules:
            return self.not_applicable("No app code.")
        long = [
            Evidence(m.path, None, f"{count} lines")
            for m in modules
            if (count := len((m.source or "").splitlines())) > MAX_FILE_LINES
        ]
        if long:
            return self.failed(
                f"{len(long)} file(s) longer than {MAX_FILE_LINES} lines.", capped(long)
            )
        return self.passed(f"All {len(modules)} module(s) are at most {MAX_FILE_LINES} lines.")


@register
class GoogleDocstrings(Rule):
    """Public functions and classes have Google-style docstrings (ruff D, google)."""

    id = "STY-006"
    heuristic = (
        "ruff pydocstyle with the google convention, outside tests: D101, D102, D103, D106 "
        "(missing docstrings of public classes, methods and functions) and every D4xx "
        "(Google sections, e.g. D417 undocumented arguments)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Map the docstring findings."""
        if (broken := _lint_broken(ctx)) is not None:
            return broken
        findings = ctx.lint.select(DOCSTRING_CODES)
        if findings:
            return self.failed(
                f"{len(findings)} docstring finding(s).", capped(finding_evidence(findings))
            )
        return self.passed("Public functions and classes have Google-style docstrings.")


@register
class FullAnnotations(Rule):
    """Every function signature is fully annotated (ruff ANN, except ANN401)."""

    id = "STY-007"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Map the missing-annotation findings."""
        if (broken := _lint_broken(ctx)) is not None:
            return broken
        findings = [f for f in ctx.lint.select("ANN") if f.code != "ANN401"]
        if findings:
            return self.failed(
                f"{len(findings)} missing annotation(s).", capped(finding_evidence(findings))
            )
        return self.passed("Every function signature is annotated.")


def _annotations(tree: ast.Module) -> list[ast.expr]:
    out: list[ast.expr] = []
    for node in of_types(tree, ast.arg, ast.AnnAssign, ast.FunctionDef, ast.AsyncFunctionDef):
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            out.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            out.append(node.returns)
    return out


def _is_any(node: ast.AST, aliases: dict[str, str]) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip() in ("Any", "typing.Any")
    return isinstance(node, ast.Name | ast.Attribute) and qualified_name(node, aliases) in ANY_NAMES


def _any_uses(ctx: RepoContext) -> tuple[list[Evidence], list[Evidence]]:
    """(bare `Any` annotations, annotations with `Any` nested inside) of the app code."""
    bare: list[Evidence] = []
    nested: list[Evidence] = []
    for mod, tree in parsed(ctx.app_files, "Any"):
        aliases = ctx.import_graph.aliases(mod.path)
        for annotation in _annotations(tree):
            if _is_any(annotation, aliases):
                bare.append(Evidence(mod.path, annotation.lineno, "annotated Any"))
            elif any(_is_any(n, aliases) for n in ast.walk(annotation)):
                text = ast.unparse(annotation)[:80]
                nested.append(Evidence(mod.path, annotation.lineno, f"Any inside {text}"))
    return bare, nested


@register
class NoAny(Rule):
    """No `Any` in annotations (ruff ANN401 and an AST check)."""

    id = "STY-008"
    heuristic = (
        "ruff ANN401 outside tests plus every annotation of the app code (parameters, "
        "returns, variables) that is typing.Any (aliases followed): these fail. Any nested "
        "inside another type (dict[str, Any]) warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Collect explicit `Any` annotations."""
        bare, nested = _any_uses(ctx)
        failing = dedupe([*bare, *finding_evidence(ctx.lint.select("ANN401"))])
        if failing:
            return self.failed(f"{len(failing)} annotation(s) are Any.", capped(failing))
        if nested:
            return self.warned(f"{len(nested)} annotation(s) contain Any.", capped(nested))
        if (broken := _lint_broken(ctx)) is not None:
            return broken
        return self.passed("No Any in annotations.")
