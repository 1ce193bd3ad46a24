"""Data-driven harness for rule tests: build a repository, run ONE rule, check the outcome.

A test module lists `Case`s and parametrizes over them::

    CASES = [Case("golden passes"), Case("no lock", {"uv.lock": None}, FAIL, path="uv.lock")]

    @pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
    def test_dep001(tmp_path: Path, case: Case) -> None:
        check(tmp_path, "DEP-001", case)

A case starts from the golden project (`GOLDEN_DIR`) unless it gives `files`
(a repository built from nothing). `changes` are relative to the project root (`prefix` is
prepended; None deletes a file); `repo_changes` are repository-relative (files beside a
`backend/` project, for instance). Expected evidence paths are repository-relative.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scanners.context import RepoContext
from scanners.engine import evaluate_rule
from scanners.results import Evidence, RuleResult, Severity, Status
from scanners.standard import RuleSpec, StandardError, default_standard
from tests.gitrepo import (
    FileMap,
    commit_all,
    git,
    golden_files,
    golden_repo,
    make_repo,
    write_files,
)

PASS = Status.PASS
FAIL = Status.FAIL
WARN = Status.WARN
NOT_APPLICABLE = Status.NOT_APPLICABLE


@dataclass(frozen=True)
class Case:
    """One scenario for one rule and what it must yield."""

    name: str
    changes: FileMap = field(default_factory=dict)
    status: Status = PASS
    path: str | None = None  # one evidence item must carry this repository-relative path
    line: int | None = None  # ... and this line (checked on the same evidence item)
    message: str | None = None  # substring of the result message (case-insensitive)
    paths: tuple[str, ...] = ()  # further paths that must each appear in the evidence
    absent: tuple[str, ...] = ()  # paths that must NOT appear in the evidence
    prefix: str = ""  # put the project below this folder ("backend/")
    repo_changes: FileMap = field(default_factory=dict)
    files: FileMap | None = None  # build from these files only, not from the golden project
    project_dir: str | None = None  # RepoContext(project_dir=...)
    git: bool = True  # False: a plain folder, no git repository
    forced: FileMap = field(default_factory=dict)  # repository-relative, `git add -f` (ignored)


def golden_gaps(defaults: Mapping[str, str | bytes]) -> dict[str, str | bytes | None]:
    """The `defaults` the golden project still lacks: base changes for a self-contained pass."""
    present = golden_files()
    return {rel: content for rel, content in defaults.items() if rel not in present}


def case_ids(cases: list[Case]) -> list[str]:
    """Readable pytest ids for a list of cases."""
    return [c.name.replace(" ", "-") for c in cases]


def spec_for(rule_id: str) -> RuleSpec:
    """The rule's spec from the default standard, or a minimal one while the file lacks it."""
    try:
        spec = default_standard().rules.get(rule_id)
    except StandardError:
        spec = None
    if spec is not None:
        return spec
    section = rule_id.split("-", 1)[0]
    return RuleSpec(
        id=rule_id,
        section=section,
        severity=Severity.MAJOR,
        evaluation="static",
        title=rule_id,
        rationale="-",
        remediation="-",
        heading=section,
        weight=4,
    )


def build(tmp_path: Path, case: Case, base_changes: FileMap | None = None) -> Path:
    """Write the case's repository below `tmp_path` and return its root."""
    root = tmp_path / "repo"
    if case.files is None and case.git:
        changes = {
            f"{case.prefix}{rel}": c for rel, c in {**(base_changes or {}), **case.changes}.items()
        }
        golden_repo(root, {**changes, **case.repo_changes}, prefix=case.prefix)
    else:
        files: dict[str, str | bytes | None]
        if case.files is not None:
            files = dict(case.files)
        else:
            files = {f"{case.prefix}{rel}": text for rel, text in golden_files().items()}
            for rel, content in {**(base_changes or {}), **case.changes}.items():
                files[f"{case.prefix}{rel}"] = content
        files.update(case.repo_changes)
        present = {rel: content for rel, content in files.items() if content is not None}
        if case.git:
            make_repo(root, present)
        else:
            root.mkdir(parents=True)
            write_files(root, present)
    if case.git and case.forced:
        write_files(root, case.forced)
        git(root, "add", "-f", "--", *case.forced)
        commit_all(root, "chore: track ignored files")
    return root


def run_rule(
    tmp_path: Path, rule_id: str, case: Case, base_changes: FileMap | None = None
) -> RuleResult:
    """Build the case's repository and evaluate one rule on it through the engine."""
    root = build(tmp_path, case, base_changes)
    ctx = RepoContext(root, project_dir=case.project_dir)
    return evaluate_rule(spec_for(rule_id), ctx).result


def _describe(result: RuleResult) -> str:
    items = "; ".join(f"{e.path}:{e.line} {e.message}" for e in result.evidence)
    return f"{result.status}: {result.message} [{items}]"


def check(
    tmp_path: Path, rule_id: str, case: Case, base_changes: FileMap | None = None
) -> RuleResult:
    """Run the case and assert status, message and evidence; return the result for more checks."""
    result = run_rule(tmp_path, rule_id, case, base_changes)
    shown = _describe(result)
    assert result.status == case.status, shown
    if case.message is not None:
        assert case.message.lower() in result.message.lower(), shown
    if result.status not in (PASS, NOT_APPLICABLE):
        assert result.evidence, f"a non-pass result needs evidence: {shown}"
    if case.path is not None:
        assert _matching(result.evidence, case.path, case.line), shown
    evidence_paths = {e.path for e in result.evidence}
    for path in case.paths:
        assert path in evidence_paths, shown
    for path in case.absent:
        assert path not in evidence_paths, shown
    return result


def _matching(evidence: list[Evidence], path: str, line: int | None) -> bool:
    return any(e.path == path and (line is None or e.line == line) for e in evidence)


# ----- uv.lock synthesis --------------------------------------------------------------------
def _lock_entry(raw: str, marker: str | None = None) -> str:
    req = Requirement(raw)
    parts = [f'name = "{canonicalize_name(req.name)}"']
    if req.extras:
        extras = sorted(canonicalize_name(e) for e in req.extras)
        parts.append("extras = [" + ", ".join(f'"{e}"' for e in extras) + "]")
    markers = [m for m in (str(req.marker) if req.marker else None, marker) if m]
    if markers:
        parts.append(f"marker = {json.dumps(' and '.join(markers))}")
    if req.url:
        parts.append(f'url = "{req.url}"')
    elif req.specifier:
        parts.append(f'specifier = "{req.specifier}"')
    return "    { " + ", ".join(parts) + " },"


def _flat_group(groups: dict[str, Any], name: str) -> list[str]:
    out: list[str] = []
    for item in groups.get(name, []):
        if isinstance(item, dict):
            out.extend(_flat_group(groups, item["include-group"]))
        else:
            out.append(item)
    return out


def _lowest(req: Requirement) -> str:
    """The version a fresh lock would plausibly resolve: the specifier's lower bound."""
    for spec in req.specifier:
        if spec.operator in (">=", "==", "~=", "==="):
            return spec.version.removesuffix(".*")
    return "0.1.0"


def synth_uv_lock(pyproject_text: str, versions: Mapping[str, str] | None = None) -> str:
    """A uv.lock (format 1) in step with `pyproject_text`, as `uv lock` would record it.

    Every requirement gets a `[[package]]` entry at the lowest version its specifier names
    (`>=2.7` locks 2.7; no bound locks 0.1.0), unless `versions` says otherwise; `versions`
    may also add packages nobody declares (transitive ones);
    the root package carries `[package.metadata]` requires-dist and requires-dev.
    """
    data = tomllib.loads(pyproject_text)
    project = data.get("project", {})
    uv = data.get("tool", {}).get("uv", {})
    runtime: list[tuple[str, str | None]] = [(r, None) for r in project.get("dependencies", [])]
    for extra, items in project.get("optional-dependencies", {}).items():
        runtime += [(r, f"extra == '{extra}'") for r in items]
    groups_raw = data.get("dependency-groups", {})
    groups = {g: _flat_group(groups_raw, g) for g in groups_raw}
    if uv.get("dev-dependencies"):
        groups["dev"] = [*uv["dev-dependencies"], *groups.get("dev", [])]
    resolved: dict[str, str] = {}
    for raw in [r for r, _ in runtime] + [r for items in groups.values() for r in items]:
        req = Requirement(raw)
        resolved.setdefault(canonicalize_name(req.name), _lowest(req))
    resolved.update({canonicalize_name(k): v for k, v in (versions or {}).items()})
    source = "virtual" if uv.get("package") is False else "editable"
    requires_python = project.get("requires-python", ">=3.13")
    lines = ["version = 1", "revision = 3", f'requires-python = "{requires_python}"', ""]
    for name, version in sorted(resolved.items()):
        lines += [
            "[[package]]",
            f'name = "{name}"',
            f'version = "{version}"',
            'source = { registry = "https://pypi.org/simple" }',
            "",
        ]
    root = canonicalize_name(project.get("name", "app"))
    version = project.get("version", "0.1.0")
    lines += [
        "[[package]]",
        f'name = "{root}"',
        f'version = "{version}"',
        f'source = {{ {source} = "." }}',
        "",
        "[package.metadata]",
        "requires-dist = [",
    ]
    lines += [_lock_entry(raw, marker) for raw, marker in runtime]
    lines += ["]", "", "[package.metadata.requires-dev]"]
    for group, items in groups.items():
        lines += [f"{canonicalize_name(group)} = [", *(_lock_entry(r) for r in items), "]"]
    return "\n".join(lines) + "\n"


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with its first `old` replaced; fails loudly when `old` is absent."""
    assert old in text, f"{old!r} not found"
    return text.replace(old, new, 1)


def line_number(text: str, needle: str) -> int:
    """1-based line of the first occurrence of `needle` in `text`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)
