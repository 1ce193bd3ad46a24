"""TST: the pytest toolchain, a unit/integration/e2e suite, test naming, asserts, a coverage gate.

Static rules only: TST-006 (coverage) and TST-008 (the suite passes) read an uploaded report.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from scanners.analysis.ci import ci_paths, find_file
from scanners.analysis.project import (
    line_of,
    manifest_problem,
    missing_dev_evidence,
    table_line,
)
from scanners.analysis.testsuite import (
    assertion_helpers,
    asserts,
    test_functions,
    test_modules,
    test_tree_modules,
)
from scanners.layers import file_role
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import PyModule, RepoContext

MAX_EVIDENCE = 50
TOOLCHAIN = ("pytest", "pytest-asyncio", "pytest-cov", "factory-boy")
#: Configuration files pytest reads besides pyproject.toml, with the section it reads there.
OTHER_PYTEST_CONFIGS = {
    "pytest.ini": "[pytest]",
    "tox.ini": "[pytest]",
    "setup.cfg": "[tool:pytest]",
}
SUITES: dict[str, frozenset[str]] = {
    "unit": frozenset({"unit"}),
    "integration": frozenset({"integration"}),
    "e2e": frozenset({"e2e", "end_to_end", "end2end"}),
}
NAMING_SHARE = 0.8
COVERAGE_FLOOR = 80.0
#: Files a coverage gate may sit in (besides pyproject.toml and CI pipelines).
GATE_FILES = (
    ".coveragerc", "setup.cfg", "tox.ini", "pytest.ini", "Makefile", "justfile", "noxfile.py",
    ".pre-commit-config.yaml",
)  # fmt: skip
_FAIL_UNDER_FLAG = re.compile(r"--cov-fail-under[= ]+[\"']?(\d+(?:\.\d+)?)")
_COVERAGE_REPORT_FLAG = re.compile(r"\bcoverage\b.*\breport\b.*--fail-under[= ]+(\d+(?:\.\d+)?)")
_FAIL_UNDER_KEY = re.compile(r"^\s*fail_under\s*[=:]\s*[\"']?(\d+(?:\.\d+)?)")


@register
class PytestToolchain(Rule):
    """pytest, pytest-asyncio, pytest-cov and factory-boy in dev dependencies; pytest configured."""

    id = "TST-001"
    heuristic = (
        "A tool declared only among runtime dependencies warns (DEP-003 scores where it sits); "
        "pytest configured in pytest.ini, tox.ini or setup.cfg instead of pyproject warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Check the four dev dependencies and a `[tool.pytest...]` table."""
        if (problem := manifest_problem(ctx)) is not None:
            return self.failed(problem.message, [problem])
        rel = ctx.path("pyproject.toml")
        dev, runtime = ctx.dev_names(), ctx.runtime_names()
        missing = [name for name in TOOLCHAIN if name not in dev]
        fails = [n for n in missing if n not in runtime]
        evidence = [
            missing_dev_evidence(ctx, f"{n} is not a dev dependency: declare it as one")
            for n in missing
        ]
        tool = (ctx.pyproject or {}).get("tool")
        if not (isinstance(tool, dict) and isinstance(tool.get("pytest"), dict)):
            elsewhere = next(iter(_other_pytest_configs(ctx)), None)
            where = f"pytest is configured in {elsewhere}, " if elsewhere else ""
            evidence.append(Evidence(rel, None, f"{where}no [tool.pytest.ini_options] table"))
            fails += [] if elsewhere else ["configuration"]
        if fails:
            return self.failed("pytest toolchain incomplete: " + _messages(evidence), evidence)
        if evidence:
            return self.warned("pytest toolchain misplaced: " + _messages(evidence), evidence)
        return self.passed("pytest, pytest-asyncio, pytest-cov and factory-boy; pytest configured")


def _messages(evidence: list[Evidence]) -> str:
    return "; ".join(e.message for e in evidence)


def _other_pytest_configs(ctx: RepoContext) -> list[str]:
    found = []
    for name, section in OTHER_PYTEST_CONFIGS.items():
        path = find_file(ctx, name)
        if path and section in (ctx.read_text(path) or ""):
            found.append(path)
    return found


def _suite_kinds(ctx: RepoContext) -> dict[str, str]:
    """Suite kind -> the first test module found below a folder of that kind."""
    found: dict[str, str] = {}
    for mod in test_modules(ctx):
        folders = set(PurePosixPath(mod.path).parts[:-1])
        for kind, names in SUITES.items():
            if kind not in found and folders & names:
                found[kind] = mod.path
    return found


@register
class TestSuites(Rule):
    """Unit, integration and e2e folders each hold test modules."""

    id = "TST-002"
    heuristic = (
        "A test module is test_*.py or *_test.py; it counts for a kind when any folder above it "
        "is named unit, integration or e2e (also end_to_end, end2end). Some kinds: warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail listing the kinds of suite with no test module."""
        found = _suite_kinds(ctx)
        missing = [kind for kind in SUITES if kind not in found]
        if not missing:
            return self.passed("unit, integration and e2e suites")
        evidence = [
            Evidence(ctx.path(f"tests/{kind}"), None, f"no test_*.py in a `{kind}` folder")
            for kind in missing
        ]
        message = f"no {', '.join(missing)} tests"
        return self.warned(message, evidence) if found else self.failed(message, evidence)


def _descriptive(name: str, in_class: bool) -> bool:
    """`test_<function>_<scenario>_<expected>`: three parts (two in a class naming the unit)."""
    parts = [p for p in name.removeprefix("test").split("_") if p]
    return len(parts) >= (2 if in_class else 3)


@register
class TestNaming(Rule):
    """At least 80% of test functions are named test_<function>_<scenario>_<expected>."""

    id = "TST-003"
    heuristic = (
        "A name counts when it has three or more parts after `test` (split on underscores); "
        "a method of a Test* class needs two, the class naming the unit under test."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Share of descriptive names among collected tests."""
        tests = test_functions(ctx)
        if not tests:
            return self.not_applicable("no test functions to judge")
        vague = [t for t in tests if not _descriptive(t.name, t.class_name is not None)]
        share = 1 - len(vague) / len(tests)
        summary = f"{share:.0%} of {len(tests)} tests have descriptive names"
        if share >= NAMING_SHARE:
            return self.passed(summary)
        evidence = [
            Evidence(t.path, t.line, f"{t.label}: name it test_<function>_<scenario>_<expected>")
            for t in vague[:MAX_EVIDENCE]
        ]
        return self.failed(f"{summary} (need {NAMING_SHARE:.0%})", evidence)


@register
class TestsAssert(Rule):
    """Every test function asserts something."""

    id = "TST-004"
    heuristic = (
        "Counts `assert`, pytest.raises/warns/fail, playwright `expect`, any call named "
        "assert*/check_*/verify_*/expect_*/ensure_* (mock.assert_called..., self.assertEqual) "
        "and calls to helpers of the test tree (conftest, tests/) that assert."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail listing tests without any assertion."""
        tests = test_functions(ctx)
        if not tests:
            return self.not_applicable("no test functions to judge")
        helpers = assertion_helpers(test_tree_modules(ctx))
        silent = [t for t in tests if not asserts(t.node, helpers)]
        if not silent:
            return self.passed(f"all {len(tests)} tests assert")
        evidence = [
            Evidence(t.path, t.line, f"{t.label} asserts nothing") for t in silent[:MAX_EVIDENCE]
        ]
        return self.failed(f"{len(silent)} of {len(tests)} tests assert nothing", evidence)


def _tested_name(mod: PyModule) -> str | None:
    """The name a test module should carry for `mod`, None when it defines nothing to test."""
    if mod.tree is None or not any(
        isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) for n in mod.tree.body
    ):
        return None
    path = PurePosixPath(mod.path)
    return (path.parent.name if path.name == "__init__.py" else path.stem).lstrip("_")


def _role_named(stem: str) -> bool:
    """A module named only for its layer (`service.py`, `crud.py`): its folder names it."""
    return file_role(stem) is not None and "_" not in stem


def _has_test(
    mod: PyModule, name: str, tests: list[tuple[str, frozenset[str]]], unique: bool
) -> bool:
    """Whether a test module is named for `mod` (see TST-005's heuristic).

    `unique`: no other layer module has this name, so a tests folder named for the layer
    (`tests/crud/`) can only test this one (`app/crud.py`).
    """
    if not _role_named(name):
        wanted = {f"test_{name}", f"{name}_test"}
        return any(stem in wanted for stem, _ in tests)
    folder = PurePosixPath(mod.path).parent
    features = {folder.name, f"{folder.parent.name}_{folder.name}"} - {"", f"_{folder.name}"}
    wanted = {f"test_{f}{suffix}" for f in features for suffix in ("", f"_{name}")}
    wanted |= {f"{f}_test" for f in features}
    return any(
        stem in wanted
        or (stem.startswith("test_") and name in stem and bool(features & folders))
        or (stem.startswith("test_") and unique and name in folders)
        for stem, folders in tests
    )


def _display(path: str, name: str) -> str:
    return f"{PurePosixPath(path).parent.name}_{name}" if _role_named(name) else name


@register
class LayerTestModules(Rule):
    """Each module in services/ and repositories/ has a matching test_<module>.py."""

    id = "TST-005"
    heuristic = (
        "Modules that define no function or class are skipped; a package's __init__.py that "
        "does is matched by the package name. A matching module anywhere in the project's "
        "tests counts (test_<module>.py or <module>_test.py). A module named only for its "
        "layer (<feature>/service.py, crud.py) is matched by its feature instead: "
        "test_<feature>.py, test_<feature>_service.py (the feature may be its last two "
        "folders: case/priority -> case_priority), or a test module in a folder named after "
        "the feature and named for the layer (tests/<feature>/test_service.py); the project's "
        "only crud.py (or service.py) also by any test in a tests/crud/ (tests/service/) "
        "folder. Some matched: warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail (warn when some are tested) listing modules without their test module."""
        layer_modules = ctx.layer_files("services") + ctx.layer_files("repositories")
        modules = {m.path: (m, name) for m in layer_modules if (name := _tested_name(m))}
        if not modules:
            return self.not_applicable("no service or repository modules")
        tests = [
            (PurePosixPath(m.path).stem, frozenset(PurePosixPath(m.path).parts[:-1]))
            for m in test_modules(ctx)
        ]
        names = Counter(name for _, name in modules.values())
        untested = [
            (path, name)
            for path, (mod, name) in sorted(modules.items())
            if not _has_test(mod, name, tests, names[name] == 1)
        ]
        if not untested:
            return self.passed(f"all {len(modules)} service and repository modules have tests")
        evidence = [
            Evidence(p, None, f"no test_{_display(p, n)}.py") for p, n in untested[:MAX_EVIDENCE]
        ]
        message = f"{len(untested)} of {len(modules)} modules have no test_<module>.py"
        if len(untested) < len(modules):
            return self.warned(message, evidence)
        return self.failed(message, evidence)


def _pyproject_gate(ctx: RepoContext) -> tuple[float, Evidence] | None:
    """`[tool.coverage.report] fail_under` of the pyproject."""
    tool = (ctx.pyproject or {}).get("tool")
    coverage = tool.get("coverage") if isinstance(tool, dict) else None
    report = coverage.get("report") if isinstance(coverage, dict) else None
    value = report.get("fail_under") if isinstance(report, dict) else None
    try:
        number = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        number = None
    if number is None:
        return None
    rel = ctx.path("pyproject.toml")
    text = ctx.read_text(rel)
    line = line_of(text, "fail_under", table_line(text, "tool.coverage.report") or 1)
    return number, Evidence(rel, line, f"coverage fail_under = {number:g}")


def _text_gates(path: str, text: str) -> list[tuple[float, Evidence]]:
    """`--cov-fail-under=N`, `coverage report --fail-under=N` and ini `fail_under = N` lines."""
    out = []
    ini = PurePosixPath(path).name in {".coveragerc", "setup.cfg", "tox.ini"}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("#", ";")):
            continue
        for pattern in (
            _FAIL_UNDER_FLAG,
            _COVERAGE_REPORT_FLAG,
            *([_FAIL_UNDER_KEY] if ini else []),
        ):
            if match := pattern.search(line):
                value = float(match.group(1))
                out.append((value, Evidence(path, number, f"coverage gate at {value:g}%")))
    return out


def coverage_gates(ctx: RepoContext) -> list[tuple[float, Evidence]]:
    """Every coverage gate found in pyproject, coverage/pytest configs, task files and CI."""
    gates = [gate] if (gate := _pyproject_gate(ctx)) else []
    paths = [ctx.path("pyproject.toml")]
    paths += [p for name in GATE_FILES if (p := find_file(ctx, name))]
    for path in dict.fromkeys([*paths, *ci_paths(ctx)]):
        gates += _text_gates(path, ctx.read_text(path) or "")
    return gates


@register
class CoverageGate(Rule):
    """A coverage gate of at least 80% is configured."""

    id = "TST-007"
    heuristic = (
        "Looks for [tool.coverage.report] fail_under, fail_under in .coveragerc/setup.cfg/"
        "tox.ini, and --cov-fail-under / `coverage report --fail-under` in pyproject, pytest "
        "configs, Makefile, justfile, noxfile, pre-commit and CI pipelines (comments ignored)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Pass on the first gate of 80% or more; fail on lower gates or none."""
        gates = coverage_gates(ctx)
        good = [e for value, e in gates if value >= COVERAGE_FLOOR]
        if good:
            return self.passed(f"coverage gate: {good[0].message}", good[:1])
        if gates:
            low = [e for _, e in gates]
            return self.failed(f"coverage gates below {COVERAGE_FLOOR:g}%", low[:MAX_EVIDENCE])
        where = Evidence(ctx.path("pyproject.toml"), None, "set [tool.coverage.report] fail_under")
        return self.failed("no coverage gate (fail_under >= 80 or --cov-fail-under=80)", [where])
